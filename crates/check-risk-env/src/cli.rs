//! Command line of `check-risk-env`.

use canary_core::phase::RunPhase;
use clap::Parser;
use std::path::PathBuf;

/// Check the RISK_* environment against the canary runbook §1.3 bounds,
/// parsed exactly as the bot's RiskConfig.from_env() parses it: Python
/// int()/float(), booleans true only for "1", set-but-empty is not the
/// default, the first bad value aborts. Also reports values that would stop
/// `gpt-trader run` from starting.
///
/// Writes NDJSON records to stdout. Exit 0: nothing blocking; 1: a crit
/// finding; 2: could not evaluate (unreadable env file or lines, bad usage).
#[derive(Debug, Parser)]
#[command(
    name = "check-risk-env",
    version,
    after_help = "Examples:
  # The current shell's environment, Phase A bounds
  check-risk-env --phase a | jq -r 'select(.level != \"ok\") | .msg'

  # A systemd EnvironmentFile / docker --env-file, as the service sees it
  check-risk-env --env-file /etc/gpt-trader/canary.env --phase a

  # Preflight reads the env, the bot reads the profile: warn where they differ
  check-risk-env --env-file canary.env --phase a --profile config/profiles/canary.yaml \\
    | jq -c 'select(.name | startswith(\"risk.profile_mismatch\"))'

  # The table agent-risk --with-docs used to print
  check-risk-env --env-file canary.env --phase a --with-docs

  # Feed the gate
  { check-profile canary --phase a; check-risk-env --phase a; } | judge --phase a"
)]
pub struct Cli {
    /// Read RISK_*/CFM_* from this dotenv file only (comments, quotes,
    /// `export` allowed), instead of the process environment.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,

    /// Canary phase whose §1.3 bounds apply.
    #[arg(long, value_enum, ignore_case = true)]
    pub phase: RunPhase,

    /// Print a human table of every variable (name, default, parse rule,
    /// effective value, source, meaning) instead of records.
    #[arg(long)]
    pub with_docs: bool,

    /// Also compare with this profile (path or name), which the running bot
    /// reads instead of the env: warn on each disagreement.
    #[arg(long, value_name = "PROFILE_PATH_OR_NAME")]
    pub profile: Option<String>,

    /// Where --profile names are looked up.
    #[arg(long, value_name = "DIR", default_value = "config/profiles")]
    pub profiles_dir: PathBuf,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

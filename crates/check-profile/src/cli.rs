//! Command line of `check-profile`.

use canary_core::phase::RunPhase;
use clap::Parser;
use std::path::PathBuf;

/// Check a GPT-Trader profile YAML against the canary runbook §1.2 targets,
/// as the bot really loads it: its defaults, its int()/Decimal() coercions,
/// its silent fallback to hard-coded defaults, and the keys it ignores.
///
/// Writes one NDJSON record per finding to stdout. Exit 0: nothing blocking;
/// 1: a crit finding; 2: could not evaluate (unreadable, refused, bad usage).
#[derive(Debug, Parser)]
#[command(
    name = "check-profile",
    version,
    after_help = "Examples:
  # Phase A gate on the bot's own canary profile (resolved as config/profiles/canary.yaml)
  check-profile canary --profiles-dir /srv/gpt-trader/config/profiles --phase a

  # Only what blocks, one line each
  check-profile examples/profiles/canary.yaml --phase a | jq -r 'select(.level != \"ok\") | \"\\(.level) \\(.name): \\(.msg)\"'

  # The effective values the bot runs with, and where each comes from
  check-profile canary.yaml --phase a | jq 'select(.name == \"profile.effective\") | .value'

  # Derive the Phase B profile (mode normal, everything else kept) and check it
  check-profile canary.yaml --write-phase-b canary_open.yaml | jq -c '{name, level, value}'

  # Feed the gate
  { check-profile canary --phase a; check-risk-env --phase a; } | judge --phase a"
)]
pub struct Cli {
    /// A profile file, or a profile name resolved as the bot does
    /// (`<profiles-dir>/<name>.yaml`).
    #[arg(value_name = "PROFILE_PATH_OR_NAME")]
    pub profile: String,

    /// Where profile names are looked up (the bot's `config/profiles`).
    #[arg(long, value_name = "DIR", default_value = "config/profiles")]
    pub profiles_dir: PathBuf,

    /// Canary phase whose §1.2 targets apply.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        required_unless_present = "write_phase_b"
    )]
    pub phase: Option<RunPhase>,

    /// Derive the Phase B profile: copy PROFILE with `trading.mode: normal`
    /// (only that value changes), write it to OUT, then check OUT for Phase B.
    #[arg(long, value_name = "OUT")]
    pub write_phase_b: Option<PathBuf>,

    /// Let --write-phase-b overwrite an existing OUT.
    #[arg(long, requires = "write_phase_b")]
    pub force: bool,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

//! Command line of `rollback`.

use canary_core::duration::parse_duration;
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

/// Roll the GPT-Trader canary back (runbook §4.3) or promote it (§4.4), on
/// judge's verdict, as NDJSON step records.
///
/// Reads judge's verdict records from FILEs or stdin and acts on the last
/// overall one (any other record is refused with a record):
/// `rollback` runs the full procedure (stop the canary, close positions, check
/// out the previous release tag, sync dependencies, restart with the prod
/// profile); `stop` stops the canary only (unless --full); any other decision
/// is nothing to do. With --promote, only a `promote` verdict acts.
///
/// Dry run by default: the plan is printed as step records with status
/// `planned`. --execute runs it, stops at the first failed step and says what
/// to do next. Commands are argv arrays (a JSON array, or words split on
/// spaces), never shell strings; nothing from the input reaches a command line
/// except a validated release tag. A preflight (clean tree, commands, status,
/// audit log) runs before the first destructive step. Every step is written
/// ahead to a journal in the state directory: a run interrupted inside a step
/// is never repeated blind (--resume checks it; see docs/rollback.md). A lock
/// refuses concurrent runs; every run is appended to an NDJSON audit log. A
/// verdict older than --max-verdict-age (default 5m) is refused: stale
/// evidence never rolls back or promotes.
///
/// Exit: 0 nothing to do, plan printed, or executed (or already done); 1 a
/// step failed; 2 could not evaluate (usage, unreadable input, no usable
/// verdict, stale verdict, configuration or tag error, unsafe state
/// directory, preflight finding, lock held, interrupted run not settled).
#[derive(Debug, Parser)]
#[command(name = "rollback", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Verdict streams to read (NDJSON); stdin when none.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Run the plan (default: print it with status `planned`).
    #[arg(long)]
    pub execute: bool,

    /// Roll back without a verdict (input is not read); recorded as forced.
    #[arg(long, conflicts_with = "promote")]
    pub force: bool,

    /// On a `stop` verdict, run the full rollback instead of the stop step alone.
    #[arg(long)]
    pub full: bool,

    /// Promotion mode (runbook §4.4): act only on a `promote` verdict.
    #[arg(long)]
    pub promote: bool,

    /// The bot's git checkout to revert (required here or in --config).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    /// Release tag to roll back to (default: the release before HEAD's, by version order).
    #[arg(long, value_name = "TAG")]
    pub to: Option<String>,

    /// JSON configuration file (commands, timeouts, paths); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Process-manager preset for the stop and status commands [default: systemd].
    #[arg(long, value_enum)]
    pub manager: Option<Manager>,

    /// Command that stops the canary instance.
    #[arg(long, value_name = "CMD")]
    pub stop_cmd: Option<String>,

    /// Command whose exit status says whether the canary runs (0 running, 1 stopped,
    /// anything else: cannot tell).
    #[arg(long, value_name = "CMD")]
    pub status_cmd: Option<String>,

    /// Command that closes the canary's open positions (the bot has no CLI for it).
    #[arg(long, value_name = "CMD")]
    pub close_positions_cmd: Option<String>,

    /// Skip closing positions (recorded as a warning): close them by hand.
    #[arg(long)]
    pub skip_close_positions: bool,

    /// Dependency sync after the checkout [default: uv sync].
    #[arg(long, value_name = "CMD")]
    pub sync_cmd: Option<String>,

    /// Restart with the production profile [default: uv run gpt-trader run --profile prod].
    #[arg(long, value_name = "CMD")]
    pub restart_cmd: Option<String>,

    /// Promotion: the production deploy command [default: uv run gpt-trader run --profile prod].
    #[arg(long, value_name = "CMD")]
    pub deploy_cmd: Option<String>,

    /// Promotion: the post-promotion watch [default: probe-health --phase b --every 30s --count 120].
    #[arg(long, value_name = "CMD")]
    pub watch_cmd: Option<String>,

    /// Promotion: the gate the watch is piped into [default: judge --phase b].
    #[arg(long, value_name = "CMD")]
    pub watch_gate_cmd: Option<String>,

    /// Promotion: the canary profile [default: REPO/config/profiles/canary.yaml].
    #[arg(long, value_name = "PATH")]
    pub canary_profile: Option<PathBuf>,

    /// Promotion: the production profile [default: REPO/config/profiles/prod.yaml].
    #[arg(long, value_name = "PATH")]
    pub prod_profile: Option<PathBuf>,

    /// Refuse a verdict older than this (or dated more than 1m ahead): a stale
    /// verdict never triggers anything [default: 5m].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub max_verdict_age: Option<Duration>,

    /// Timeout of each step's command [default: 5m].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub step_timeout: Option<Duration>,

    /// How long a restart, deploy or watch must survive (or take to return) [default: 15s].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub start_grace: Option<Duration>,

    /// How long the canary may take to be gone after the stop command (status polled) [default: 30s].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub stop_grace: Option<Duration>,

    /// The canary's health URL (http://HOST:PORT/health): a canary that still
    /// answers it is never reported stopped.
    #[arg(long, value_name = "URL")]
    pub canary_health: Option<String>,

    /// Continue after an interrupted run, only where a check proves the
    /// interrupted step's effect present or absent (see docs/rollback.md).
    #[arg(long)]
    pub resume: bool,

    /// With --resume: the operator's finding for an interrupted step no check
    /// can settle: `done` (its effect is in place) or `absent` (run it again).
    #[arg(long, value_enum, requires = "resume", value_name = "FINDING")]
    pub resolve: Option<Resolve>,

    /// Where the lock, journal, logs and reports live [default: REPO/.git/canary-kit].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// The NDJSON audit log every run is appended to [default: STATE_DIR/audit.ndjson].
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,

    /// Accepted for old scripts; no longer needed: the lock is an OS file
    /// lock, released when its owner dies (an interrupted run is found in the
    /// journal instead).
    #[arg(long, hide = true)]
    pub break_stale_lock: bool,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

/// The operator's finding for an interrupted step (`--resolve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Resolve {
    /// The step's effect is in place: do not run it again.
    Done,
    /// The step's effect is not there: run it again.
    Absent,
}

/// Stop/status command presets (no systemd unit named gpt-trader-canary
/// ships with the bot: define it, or use canary-process; see docs/rollback.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    /// systemctl stop / is-active gpt-trader-canary
    Systemd,
    /// docker stop / top gpt-trader-canary
    Docker,
    /// the bot's scripts/ops/canary_process.py stop / status
    CanaryProcess,
}

const EXAMPLES: &str = "Examples:
  judge --phase b < window.ndjson | rollback --repo /srv/gpt-trader --skip-close-positions
  judge --phase b < window.ndjson | rollback --repo /srv/gpt-trader --execute \\
      --close-positions-cmd '[\"/srv/ops/flatten\", \"--profile\", \"canary\"]'
  rollback --config /etc/canary-kit/rollback.json --execute verdicts.ndjson
  rollback --repo /srv/gpt-trader --manager canary-process --force --execute --skip-close-positions
  rollback --repo /srv/gpt-trader --to v1.3.0 --execute < verdict.ndjson
  rollback --repo /srv/gpt-trader --force --execute --resume --skip-close-positions   # after an interruption
  judge --phase b < window.ndjson | rollback --promote --repo /srv/gpt-trader --execute
  rollback --repo /srv/gpt-trader < verdict.ndjson | jq -c 'select(.kind == \"step\") | {name, value, argv}'";

//! Command line of `check-preflight`.

use clap::Parser;
use std::path::PathBuf;

/// The tool's name: the command, and the `tool` of every record it writes.
pub const TOOL: &str = "check-preflight";

/// Largest report accepted by default (a real one is a few KiB).
pub const MAX_REPORT_BYTES: u64 = 8 << 20;

/// Turn the bot's preflight report (`scripts/production_preflight.py`) and
/// its exit code into check records, so that `judge --phase start` weighs
/// preflight with the profile, the RISK_* env and /health (runbook §1.1).
///
/// Reads the JSON report file, or preflight's stdout with `--report-target
/// stdout` (from the first line that is exactly `{`). Records are dated at
/// the report's `timestamp`: judge's start gate wants one from the last hour.
/// The report lists failures, not passes, so a passing check gets no record.
///
/// Exit 0: READY (or REVIEW) and preflight exited 0; 1: preflight failed
/// (NOT READY, errors, a failing check, a --warn-only run, exit 1 or 2);
/// 2: could not evaluate (unreadable, not a preflight report, an unknown
/// status or exit code).
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = EXAMPLES)]
pub struct Cli {
    /// The preflight report (`--report-path`), or its captured stdout; `-`
    /// reads stdin. A regular file or stdin: a named pipe (`<(...)`) is
    /// refused, as one nobody writes to would hang a cron run; pipe into
    /// `-` instead.
    #[arg(value_name = "REPORT")]
    pub report: PathBuf,

    /// The exit code preflight returned (0 ready, 1 errors, 2 usage error).
    /// Without it there is no `preflight.exit` record.
    #[arg(long, value_name = "N")]
    pub preflight_exit: Option<i32>,

    /// Largest report accepted, in bytes (a real one is a few KiB).
    #[arg(long, default_value_t = MAX_REPORT_BYTES, value_name = "BYTES")]
    pub max_bytes: u64,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

const EXAMPLES: &str = "Examples:
  uv run python scripts/production_preflight.py --profile canary --report-path /tmp/pf.json; code=$?
  check-preflight /tmp/pf.json --preflight-exit $code > preflight.ndjson
  { cat preflight.ndjson; check-profile canary --phase a; check-risk-env --phase a; \\
    probe-health; } | judge --phase start --explain
  check-preflight /tmp/pf.json | jq -r 'select(.level != \"ok\") | .msg'
  uv run python scripts/production_preflight.py --profile canary --report-target stdout \\
    | check-preflight -";

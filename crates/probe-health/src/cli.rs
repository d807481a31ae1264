//! Command line of `probe-health`.

use canary_core::duration::parse_duration;
use canary_core::phase::RunPhase;
use clap::Parser;
use std::time::Duration;

/// The tool's name, in its diagnostics and records.
pub const TOOL: &str = "probe-health";

/// Probe the GPT-Trader bot's /health and emit one NDJSON check record per
/// go/no-go row of runbook §2.1, the websocket staleness of runbook §5, every
/// other check the bot reports, and each of the bot's own signals.
///
/// A 503 is evidence, not an outage: its body is read check by check. A row
/// the bot does not report is `unknown`, never ok.
///
/// Exit: 0 every row ok or warn; 1 a crit row (NO-GO); 2 a row could not be
/// observed (unknown) or the bot could not be read.
#[derive(Debug, Parser)]
#[command(name = "probe-health", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Base URL of the bot's health server.
    #[arg(long, default_value = "http://localhost:8080", value_name = "BASE")]
    pub url: String,

    /// Judge reduce_only_mode for this phase: Phase A expects true, Phase B
    /// false; without --phase the row is reported, not judged.
    #[arg(long, value_enum, ignore_case = true)]
    pub phase: Option<RunPhase>,

    /// Give up on a request after this long (connection to last byte).
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// Largest response body accepted, in bytes.
    #[arg(long, default_value_t = canary_core::http::DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: u64,

    /// Also probe /live.
    #[arg(long)]
    pub live: bool,

    /// Also probe /ready.
    #[arg(long)]
    pub ready: bool,

    /// Probe again every DUR, at least 1s (records are flushed after each round).
    #[arg(long, value_parser = canary_core::rounds::parse_every, value_name = "DUR")]
    pub every: Option<Duration>,

    /// With --every: stop after N rounds (default: run until killed).
    #[arg(long, requires = "every", value_name = "N")]
    pub count: Option<u64>,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

const EXAMPLES: &str = "Examples:
  probe-health --phase a
  probe-health --url http://127.0.0.1:8080 --phase b | jq -c 'select(.level != \"ok\") | {name, level, msg}'
  probe-health --phase a | judge --phase a
  probe-health --phase b --every 30s | judge --phase b
  probe-health --every 30s --count 10 >> canary-$(date +%F).ndjson";

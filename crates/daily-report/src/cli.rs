//! Command line of `daily-report`.

use canary_core::duration::parse_duration;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The tool's name: the command, and the `tool` of every record it writes.
pub const TOOL: &str = "daily-report";

/// Turn the bot's daily report into money-at-risk records: the day's
/// equity change, its drawdown against the daily loss limit, the circuit
/// breaker, liveness (GREEN/RED/UNKNOWN), unfilled orders and API errors.
///
/// Reads `daily_report_<date>.json` (what `gpt-trader report daily
/// --report-format json` writes) or the output of `gpt-trader report daily
/// --format json` (its CLI envelope), from FILE or stdin (`-`). Records are
/// dated when read, with the report's `generated_at` beside them; a report
/// older than --max-age, or dated in the future, is unknown.
///
/// Exit 0: nothing blocking; 1: a crit finding (loss limit reached, breaker
/// triggered, liveness RED); 2: could not evaluate (unreadable, not a
/// report, stale, missing values).
#[derive(Debug, Parser)]
#[command(
    name = TOOL,
    version,
    after_help = "Examples:
  gpt-trader report daily --profile canary --format json --no-save | daily-report --daily-loss-limit-pct 0.01
  daily-report runtime_data/canary/reports/daily_report_2026-12-02.json | judge --phase b
  RISK_DAILY_LOSS_LIMIT_PCT=0.01 daily-report --max-age 2h report.json"
)]
pub struct Cli {
    /// The report file; `-` reads stdin.
    #[arg(default_value = "-", value_name = "FILE")]
    pub file: PathBuf,

    /// The bot's daily loss limit, a fraction of start-of-day equity (0.01 =
    /// 1 %). Default: RISK_DAILY_LOSS_LIMIT_PCT, parsed as the bot parses it.
    #[arg(long, value_name = "FRACTION", value_parser = scrape_metrics::money::parse_limit)]
    pub daily_loss_limit_pct: Option<f64>,

    /// A report generated longer ago than this is unknown.
    #[arg(long, default_value = "26h", value_parser = parse_duration, value_name = "DUR")]
    pub max_age: Duration,

    /// Largest report accepted, in bytes.
    #[arg(long, default_value_t = MAX_BYTES, value_name = "BYTES")]
    pub max_bytes: u64,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

/// A real report is a few KiB; 8 MiB leaves room for a long symbol list.
pub const MAX_BYTES: u64 = 8 << 20;

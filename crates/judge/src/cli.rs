//! Command line of `judge`.

use crate::error::ArgError;
use canary_core::Phase;
use canary_core::duration::parse_duration;
use clap::Parser;
use jiff::Timestamp;
use std::path::PathBuf;
use std::time::Duration;

/// Apply the runbook §4 decision tree to a merged stream of canary-kit
/// records (probe-health, scrape-metrics, check-profile, check-risk-env,
/// check-preflight) and write one `judge.verdict` record: per bot when the stream
/// holds several, plus the overall one.
///
/// Decisions: --phase start: go / no-go. --phase a: continue / stop /
/// extend / advance. --phase b: continue / rollback / pause / extend /
/// promote. Missing, stale or unreadable evidence never advances or promotes.
///
/// Evidence must cover the whole window: a gap in /health or /metrics
/// evidence longer than --max-age holds advance and promote.
///
/// Exit: 0 go, continue, advance, promote; 1 no-go, stop, rollback, pause;
/// 2 could not evaluate (usage, unreadable input, the decision rests on
/// unknown, stale or future-dated evidence, or a CRIT signal is firing but
/// not yet sustained for its `for`: pending); 3 extend (hold for a human).
#[derive(Debug, Parser)]
#[command(name = "judge", version, after_help = EXAMPLES)]
pub struct Cli {
    /// NDJSON files to read, in order (`-` is stdin); stdin when none.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The gate to judge.
    #[arg(long, value_enum, ignore_case = true,
          required_unless_present_any = ["emit_alert_rules", "from_preflight"])]
    pub phase: Option<Phase>,

    /// Rules YAML that overrides (by name) or extends the built-in rules.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Print every criterion as a table on stderr.
    #[arg(long)]
    pub explain: bool,

    /// Window start (RFC 3339); default: the earliest evidence within the
    /// phase's lookback (start 1h, a its --max-duration, b 2 x --min-duration).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub since: Option<Timestamp>,

    /// Judge the stream as it stood at TIME (RFC 3339): later records are
    /// ignored and freshness is measured from TIME. Default: now.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub at: Option<Timestamp>,

    /// Replay: list every time the overall decision changed, as
    /// `judge.transition` records, before the final verdict (input in time order).
    #[arg(long)]
    pub transitions: bool,

    /// Live: write a verdict after each complete round of input (when the
    /// input would block, or a record dated a round later arrives), flushed,
    /// judged at the wall clock unless --at is given; the final verdict
    /// still follows at end of input.
    #[arg(long, conflicts_with = "transitions")]
    pub follow: bool,

    /// With --follow: write a round's verdicts only when the overall
    /// decision changes (the first one always).
    #[arg(long, requires = "follow")]
    pub on_change: bool,

    /// The bot restarted at TIME (RFC 3339; repeatable), as the process
    /// manager recorded it: a fall of the order counter across it is a
    /// restart, whatever the other counters say.
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub restarted_at: Vec<Timestamp>,

    /// Evidence older than this is stale, hence unknown [default: 3 x --probe-interval].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub max_age: Option<Duration>,

    /// Evidence dated more than this after the moment judged is from the
    /// future (a wrong clock): unknown, never evidence.
    #[arg(long, value_parser = parse_duration, default_value = "5m", value_name = "DUR")]
    pub max_skew: Duration,

    /// Evidence has been unknown since TIME (RFC 3339): the first of the
    /// consecutive runs whose verdict was unknown (canary-gate keeps it).
    /// An unknown verdict more than --max-unknown after it escalates to stop
    /// (Phase A) or pause (Phase B), exit 1 (docs/judge.md#escalation).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    pub unknown_since: Option<Timestamp>,

    /// How long evidence may stay unknown before the hold escalates.
    #[arg(long, value_parser = parse_duration, default_value = "15m", value_name = "DUR",
          requires = "unknown_since")]
    pub max_unknown: Duration,

    /// How often the producers run (probe-health --every).
    #[arg(long, value_parser = parse_duration, default_value = "30s", value_name = "DUR")]
    pub probe_interval: Duration,

    /// Window completes after this long [default: a 2h, b 24h].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub min_duration: Option<Duration>,

    /// ... or after this many orders [default: a 10, b 50].
    #[arg(long, value_name = "N")]
    pub min_orders: Option<u64>,

    /// Longest the phase may run [default: a 6h, b none].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub max_duration: Option<Duration>,

    /// However many orders, a window is never complete before this much
    /// evidence (Phase B default 1h, the longest signal window; Phase A 0).
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub min_evidence: Option<Duration>,

    /// Confidence of the exact bound the window's error rate must be proven
    /// below (Phase A CRIT, Phase B WARN); 0 reads the counts literally, as
    /// the runbook does.
    #[arg(long, default_value = "0.95", value_parser = canary_core::stats::parse_confidence, value_name = "C")]
    pub confidence: canary_core::stats::Confidence,

    /// Deprecated alias of `canary-rules DIR`: write the Prometheus rules
    /// and their promtool tests into DIR, and exit.
    #[arg(long, value_name = "DIR", hide = true, conflicts_with_all = ["phase", "from_preflight"])]
    pub emit_alert_rules: Option<PathBuf>,

    /// Deprecated alias of `check-preflight REPORT`: write a preflight
    /// report's check records, and exit.
    #[arg(long, value_name = "REPORT", hide = true, conflicts_with = "phase")]
    pub from_preflight: Option<PathBuf>,

    /// Deprecated, with --from-preflight: `check-preflight --preflight-exit`.
    #[arg(long, value_name = "N", hide = true, requires = "from_preflight")]
    pub preflight_exit: Option<i32>,

    /// The canary against production: --baseline and its options.
    #[command(flatten)]
    pub against: crate::baseline::Args,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

/// An RFC 3339 time, e.g. 2026-11-26T03:30:00Z.
pub fn parse_time(s: &str) -> Result<Timestamp, ArgError> {
    s.trim().parse().map_err(|why| ArgError::Time {
        text: s.to_owned(),
        why,
    })
}

const EXAMPLES: &str = "Examples:
  probe-health --phase a | judge --phase a
  { check-profile canary --phase a; check-risk-env --phase a; probe-health; \\
    scrape-metrics --url http://localhost:8080/metrics; } | judge --phase a | rollback
  check-preflight preflight_report.json --preflight-exit 0 > preflight.ndjson
  { cat preflight.ndjson; probe-health; } | judge --phase start --explain
  judge canary.ndjson --phase b --at 2026-11-26T03:30:00Z --explain
  cat canary.ndjson production.ndjson | judge --phase b --baseline prod:8080   # against production
  judge canary.ndjson --phase b --transitions | jq -c '{ts, decision, from: .previous}'
  probe-health --phase b --every 30s | judge --phase b --follow --on-change";

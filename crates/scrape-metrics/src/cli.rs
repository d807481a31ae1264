//! Command line of `scrape-metrics`.

use crate::histogram::BucketMode;
use canary_core::duration::parse_duration;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The metrics gate of runbook §3: the four §3.1 signals (order error rate,
/// order retry rate, broker submit latency p95, guard trips) and the order
/// and guard-trip counts, as NDJSON records.
///
/// Direct mode (default) scrapes the bot's /metrics: one shot gives lifetime
/// signals; `--every`/`--window` or `--state` give windowed ones from exact
/// counter deltas. Prometheus mode computes the same exact deltas from the
/// raw samples Prometheus stored, and reports the runbook's verbatim
/// queries beside them.
///
/// The bot double-cumulates its histogram buckets today: scrape-metrics
/// detects and corrects it (see --buckets) and says so in every record it
/// touches.
#[derive(Debug, Parser)]
#[command(name = "scrape-metrics", version, after_help = EXAMPLES)]
pub struct Cli {
    /// The bot's metrics endpoint (given the bot's base URL, /metrics is appended).
    #[arg(
        long,
        default_value = "http://localhost:8080/metrics",
        value_name = "METRICS_URL"
    )]
    pub url: String,

    /// Read an exposition body from a file (`-` for stdin) instead of --url.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["prometheus", "every"])]
    pub file: Option<PathBuf>,

    /// Query a Prometheus server instead of scraping the bot.
    #[arg(long, value_name = "PROM_URL")]
    pub prometheus: Option<String>,

    /// Prometheus mode: only this instance (the `instance` label).
    #[arg(long, requires = "prometheus", conflicts_with = "fleet")]
    pub instance: Option<String>,

    /// Prometheus mode: one set of signals per instance.
    #[arg(long, requires = "prometheus")]
    pub fleet: bool,

    /// Scrape again every DUR (at least 1s); windowed signals once two scrapes are in the window.
    #[arg(long, value_parser = canary_core::rounds::parse_every, value_name = "DUR")]
    pub every: Option<Duration>,

    /// With --every: stop after N rounds (default: until killed).
    #[arg(long, requires = "every", value_name = "N")]
    pub count: Option<u64>,

    /// Window of the rate signals (the runbook's `[5m]`).
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DUR")]
    pub window: Duration,

    /// Window of the guard-trip signal (the runbook's `increase(...[1h])`).
    #[arg(long, default_value = "1h", value_parser = parse_duration, value_name = "DUR")]
    pub guard_window: Duration,

    /// Keep the window of scrapes in FILE between runs (for cron).
    #[arg(long, value_name = "FILE", conflicts_with = "prometheus")]
    pub state: Option<PathBuf>,

    /// Confidence of the exact (Clopper-Pearson) bounds every rate states,
    /// one-sided each; 0 reads the counts literally, as the runbook does.
    #[arg(long, default_value = "0.95", value_parser = canary_core::stats::parse_confidence, value_name = "C")]
    pub confidence: canary_core::stats::Confidence,

    /// How to read the bot's histogram buckets.
    #[arg(long, value_enum, default_value_t = BucketMode::Auto)]
    pub buckets: BucketMode,

    /// Give up on a request after this long; in Prometheus mode, on the whole round.
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DUR")]
    pub timeout: Duration,

    /// Largest exposition body or Prometheus answer accepted, in bytes.
    /// Larger than the shared default: a busy process can export 100k series.
    #[arg(long, default_value_t = MAX_BODY, value_name = "BYTES")]
    pub max_body: u64,

    /// Whose evidence this is: `baseline` marks every record with the
    /// top-level field `"role": "baseline"` (production, compared with the
    /// canary by judge); `canary` (the default) leaves records unmarked.
    #[arg(long, value_enum, default_value_t = canary_core::role::Role::Canary)]
    pub role: canary_core::role::Role,

    #[command(flatten)]
    pub money: crate::money::MoneyArgs,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

/// Default body cap: 32 MiB, three times a 100k-series exposition.
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

const EXAMPLES: &str = "Examples:
  scrape-metrics --url http://localhost:8080/metrics
  scrape-metrics --every 15s --window 5m | jq -c 'select(.kind == \"signal\") | {name, level, value}'
  scrape-metrics --state /var/lib/canary/metrics.state     # from cron, once a minute
  scrape-metrics --prometheus http://127.0.0.1:9090 --instance bot:8080
  scrape-metrics --prometheus http://127.0.0.1:9090 --fleet | judge --phase b
  scrape-metrics --prometheus http://127.0.0.1:9090 --instance prod:8080 --role baseline
  curl -s localhost:8080/metrics | scrape-metrics --file -
  scrape-metrics --state /var/lib/canary/metrics.state --daily-loss-limit-pct 0.01 --max-orders-per-minute 10";

//! Command line of `canary-rules`.

use canary_core::duration::parse_duration;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The bot's scrape job in examples/prometheus/prometheus.yml.
pub const DEFAULT_JOB: &str = "gpt-trader";

/// Write Prometheus rules for the canary, and their promtool unit tests,
/// into DIR.
///
/// canary_alerts.yml holds: recording rules that repair the bot's
/// double-cumulated latency buckets (each finite bucket minus the one below
/// it; +Inf is right as exported); the runbook §3.2 alerts per bot, with
/// thresholds from the same table judge uses, the p95 over the repaired
/// buckets in milliseconds, and guard trips that count a counter born
/// inside the hour; alerts when the bot cannot be scraped or its metrics are
/// stale; and alerts on canary-gate's own textfile metrics (not running,
/// overran, evidence unknown longer than its --max-unknown).
///
/// canary_alerts_test.yml and canary_latency_test.yml are promtool unit
/// tests of those rules (`promtool test rules`); the latency tests are
/// generated for the bucket bounds in use.
///
/// Bucket bounds: the bot exporter's default (0.001 to 10.0 s), or those of
/// one scrape with --from-metrics. A scrape without a broker-call histogram,
/// or whose series disagree, is refused (exit 2): rules for the wrong
/// bounds would never fire.
///
/// Exit: 0 written; 2 usage error, unreadable --from-metrics, unwritable DIR.
#[derive(Debug, Parser)]
#[command(name = "canary-rules", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Directory to write the rule and test files into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Read the latency bucket bounds from one scrape of the bot: its
    /// /metrics URL, a file holding one, or `-` for stdin.
    #[arg(long, value_name = "URL|FILE")]
    pub from_metrics: Option<String>,

    /// The Prometheus scrape job of the bot, for the scrape alerts.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_JOB)]
    pub job: String,

    /// Give every alert this `for:` instead of its own (for tests and
    /// drills). The promtool tests assume the real ones, so none are written.
    #[arg(long = "for", value_parser = parse_duration, value_name = "DUR")]
    pub for_override: Option<Duration>,

    /// How the bot's exporter writes its latency buckets: double-cumulated
    /// (the bot today; the rules repair them) or cumulative (a fixed
    /// exporter; used as they are). Either way an alert fires when the
    /// buckets prove the other.
    #[arg(long, value_enum, default_value_t = crate::repair::Buckets::Double)]
    pub buckets: crate::repair::Buckets,

    /// Also write canary_runbook_verbatim.yml: the runbook's latency and
    /// guard-trip alerts word for word (severity info), to compare with.
    #[arg(long)]
    pub runbook_verbatim: bool,
}

const EXAMPLES: &str = "Examples:
  canary-rules /etc/prometheus/rules/canary && promtool test rules /etc/prometheus/rules/canary/*_test.yml
  canary-rules --from-metrics http://localhost:8080/metrics rules/ && promtool check rules rules/canary_alerts.yml
  curl -s localhost:8080/metrics | canary-rules --from-metrics - rules/
  canary-rules --job gpt-trader-canary --runbook-verbatim rules/";

//! The runbook §3.1 signals as alerts (runbook §3.2's rules, made truthful):
//! thresholds from `canary_core::thresholds` (the table judge's rules read),
//! so alerting and judging cannot drift apart.
//!
//! Against the runbook's verbatim rules, each signal is computed per bot
//! (`by (job, instance)`), the p95 reads the repaired buckets
//! ([`crate::repair`]), the latency annotation says milliseconds, and the
//! guard-trip count sees a counter born inside the hour.

use crate::repair;
use crate::yaml::{Alert, Rule, Severity};
use canary_core::thresholds::{self, Threshold};

/// One runbook §3.1 signal: its PromQL (without the comparison), the
/// threshold, and the `for:` of its WARN and CRIT alerts.
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub comment: &'static str,
    pub alert: &'static str,
    pub expr: &'static str,
    /// The runbook §3.2 expression, word for word (for comparison only).
    pub runbook_expr: &'static str,
    pub threshold: Threshold,
    pub warn_for: &'static str,
    pub crit_for: &'static str,
    pub what: &'static str,
    pub description: &'static str,
}

// Submissions and broker calls in the last 5 m, per bot. A series exists
// only from its first increment (docs/bot.md#metric-families): a burst of
// failures between two scrapes arrives as a new series, which `rate()`
// never counts. A series that did not exist 5 m ago counts whole, as the
// guard trips below do; the ratio of two 5 m counts is the ratio of rates.
const ERROR_RATE: &str = "sum by (job, instance) (
  (increase(gpt_trader_order_submission_total{result=~\"failed|rejected\"}[5m])
    and gpt_trader_order_submission_total{result=~\"failed|rejected\"} offset 5m)
  or max_over_time(gpt_trader_order_submission_total{result=~\"failed|rejected\"}[5m])
)
/ sum by (job, instance) (
  (increase(gpt_trader_order_submission_total[5m]) and gpt_trader_order_submission_total offset 5m)
  or max_over_time(gpt_trader_order_submission_total[5m])
)";
const RETRY_RATE: &str = "(
  sum by (job, instance) (
    (increase(gpt_trader_broker_call_latency_seconds_count{operation=\"submit\"}[5m])
      and gpt_trader_broker_call_latency_seconds_count{operation=\"submit\"} offset 5m)
    or max_over_time(gpt_trader_broker_call_latency_seconds_count{operation=\"submit\"}[5m])
  )
  -
  sum by (job, instance) (
    (increase(gpt_trader_order_submission_total[5m]) and gpt_trader_order_submission_total offset 5m)
    or max_over_time(gpt_trader_order_submission_total[5m])
  )
) / sum by (job, instance) (
  (increase(gpt_trader_order_submission_total[5m]) and gpt_trader_order_submission_total offset 5m)
  or max_over_time(gpt_trader_order_submission_total[5m])
)";

/// Guard trips in the last hour, per bot. A counter exists only from its
/// first trip (docs/bot.md#metric-families), so `increase()` alone never
/// counts the trips that created it: twelve trips between two scrapes
/// arrive as a new series at 12 and read 0. A series that did not exist an
/// hour ago counts whole (its highest value in the hour; a restart inside
/// the hour makes that a lower bound).
pub const GUARD_TRIPS: &str = "sum by (job, instance) (
  (increase(gpt_trader_guard_trips_total[1h]) and gpt_trader_guard_trips_total offset 1h)
  or
  max_over_time(gpt_trader_guard_trips_total[1h])
)";

/// The recorded guard-trip count: 0 for a bot that is scraped but never
/// tripped (its counter does not exist yet), scoped per bot so that one
/// bot's series never stands in for another's; no value for a bot that
/// serves no metrics at all (that is the stale-metrics alert's business).
pub const GUARD_TRIPS_RECORD: &str = "canary:gpt_trader_guard_trips:1h";

/// Bots that serve any gpt_trader_ series, per (job, instance), as 0.
pub const BOT_PRESENT_AS_ZERO: &str =
    "0 * count by (job, instance) ({__name__=~\"gpt_trader_.+\"})";

const RUNBOOK_ERROR_RATE: &str =
    "sum(rate(gpt_trader_order_submission_total{result=~\"failed|rejected\"}[5m]))
/ sum(rate(gpt_trader_order_submission_total[5m]))";
const RUNBOOK_RETRY_RATE: &str = "(
  sum(rate(gpt_trader_broker_call_latency_seconds_count{operation=\"submit\"}[5m]))
  - sum(rate(gpt_trader_order_submission_total[5m]))
) / sum(rate(gpt_trader_order_submission_total[5m]))";
/// The runbook's p95, over the bot's double-cumulated buckets as exported.
pub const RUNBOOK_LATENCY: &str = "histogram_quantile(0.95,
  sum(rate(gpt_trader_broker_call_latency_seconds_bucket{operation=\"submit\",outcome=\"success\"}[5m])) by (le)
) * 1000";
const RUNBOOK_GUARD_TRIPS: &str = "sum(increase(gpt_trader_guard_trips_total[1h]))";

/// The four §3.1 signals, in the runbook's order, with the §3.2 `for:`s.
pub const SIGNALS: [Signal; 4] = [
    Signal {
        comment: "Order Error Rate",
        alert: "CanaryOrderErrorRate",
        expr: ERROR_RATE,
        runbook_expr: RUNBOOK_ERROR_RATE,
        threshold: thresholds::ORDER_ERROR_RATE,
        warn_for: "2m",
        crit_for: "1m",
        what: "order error rate",
        description: "Order error rate is {{ $value | humanizePercentage }}",
    },
    Signal {
        comment: "Order Retry Rate",
        alert: "CanaryOrderRetryRate",
        expr: RETRY_RATE,
        runbook_expr: RUNBOOK_RETRY_RATE,
        threshold: thresholds::ORDER_RETRY_RATE,
        warn_for: "5m",
        crit_for: "2m",
        what: "order retry rate",
        description: "Order retry rate is {{ $value | humanizePercentage }}",
    },
    Signal {
        comment: "Broker Latency (over the repaired buckets)",
        alert: "CanaryBrokerLatency",
        expr: repair::P95,
        runbook_expr: RUNBOOK_LATENCY,
        threshold: thresholds::BROKER_LATENCY_P95_MS,
        warn_for: "5m",
        crit_for: "2m",
        what: "broker latency",
        // The value is milliseconds: humanizeDuration would read it as seconds.
        description: "p95 latency is {{ $value | printf \"%.0f\" }} ms",
    },
    Signal {
        comment: "Guard Trips (a counter born inside the hour counts whole)",
        alert: "CanaryGuardTrips",
        expr: GUARD_TRIPS,
        runbook_expr: RUNBOOK_GUARD_TRIPS,
        threshold: thresholds::GUARD_TRIPS_1H,
        warn_for: "0m",
        crit_for: "0m",
        what: "guard trips",
        description: "{{ $value }} guard trips in last hour",
    },
];

/// The broker-latency signal.
pub const LATENCY: Signal = SIGNALS[2];

/// A threshold as the runbook writes it: ratios with two decimals (0.05,
/// 0.10), whole numbers without a fraction.
pub fn number(v: f64, unit: &str) -> String {
    if unit == "ratio" {
        format!("{v:.2}")
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A signal's WARN and CRIT alerts over `expr`, named `{prefix}Warn` and
/// `{prefix}Crit`.
pub fn alerts_over(s: &Signal, prefix: &str, expr: &str, summary_of: &str) -> [Alert; 2] {
    let one = |sev: &str, severity, value: f64, for_: &str, word: &str| Alert {
        name: format!("{prefix}{sev}"),
        expr: format!("{expr} >= {}", number(value, s.threshold.unit)),
        for_: for_.into(),
        severity,
        summary: format!("{summary_of} {} {word}", s.what),
        description: s.description.into(),
    };
    [
        one(
            "Warn",
            Severity::Warning,
            s.threshold.warn,
            s.warn_for,
            "elevated",
        ),
        one(
            "Crit",
            Severity::Critical,
            s.threshold.crit,
            s.crit_for,
            "critical",
        ),
    ]
}

/// The guard-trip record (for dashboards).
pub fn records() -> Vec<Rule> {
    vec![
        Rule::Comment("Guard trips in the last hour per bot; 0 when the bot never tripped".into()),
        Rule::Record {
            record: GUARD_TRIPS_RECORD.into(),
            expr: format!("{GUARD_TRIPS}\nor on (job, instance)\n{BOT_PRESENT_AS_ZERO}"),
        },
    ]
}

/// The eight §3.2 alerts.
pub fn alerts() -> Vec<Rule> {
    let mut rules = Vec::new();
    for s in &SIGNALS {
        rules.push(Rule::Comment(s.comment.into()));
        for a in alerts_over(s, s.alert, s.expr, "Canary") {
            rules.push(Rule::Alert(a));
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_come_from_the_one_table() {
        let text: Vec<String> = alerts()
            .into_iter()
            .filter_map(|r| match r {
                Rule::Alert(a) => Some(a.expr),
                _ => None,
            })
            .collect();
        assert_eq!(text.len(), 8);
        assert!(text[0].ends_with("[5m])\n) >= 0.05"));
        assert!(text[3].ends_with("[5m])\n) >= 0.25"));
        assert!(text[4].ends_with(") * 1000 >= 1000"));
        assert!(text[5].ends_with(") * 1000 >= 3000"));
        assert!(text[7].ends_with("\n) >= 10"));
    }

    #[test]
    fn no_annotation_humanizes_milliseconds_as_seconds() {
        assert!(!LATENCY.description.contains("humanizeDuration"));
        assert!(LATENCY.description.ends_with(" ms"));
    }
}

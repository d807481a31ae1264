//! The runbook §3.1 signals as alerts (runbook §3.2's rules, made truthful):
//! thresholds, wording, alert names and `for:`s from `canary_core::signals`
//! (the table judge's rules read), so alerting and judging cannot drift apart.
//!
//! Against the runbook's verbatim rules, each signal is computed per bot
//! (`by (job, instance)`), the p95 reads the repaired buckets
//! (the `repair` module), the latency annotation says milliseconds, and the
//! guard-trip count sees a counter born inside the hour.

use crate::repair;
use crate::yaml::{Alert, Rule, Severity};
use canary_core::signals::{Alerting, SignalId, for_text};
use canary_core::thresholds::{Threshold, Unit};
use std::time::Duration;

/// One runbook §3.1 signal as alerts: its row of the one signal table
/// (`canary_core::signals`: threshold, wording, alert name, `for:`s) and
/// the PromQL that computes it (without the comparison).
#[derive(Debug, Clone, Copy)]
pub struct Signal {
    pub id: SignalId,
    /// What the rules file's comment adds to the signal's title.
    pub note: &'static str,
    pub expr: &'static str,
    /// The runbook §3.2 expression, word for word (for comparison only).
    pub runbook_expr: &'static str,
    pub description: &'static str,
}

impl Signal {
    /// The signal's row of the one table.
    pub fn spec(&self) -> &'static canary_core::signals::Signal {
        self.id.signal()
    }

    pub fn threshold(&self) -> Threshold {
        self.spec().threshold
    }

    /// Its alerts' name and `for:`s. Every signal here has them (a test checks it).
    pub fn alerting(&self) -> Alerting {
        self.spec().alerting.unwrap_or(Alerting {
            name: "CanaryUnnamed",
            warn_for: std::time::Duration::ZERO,
            crit_for: std::time::Duration::ZERO,
        })
    }
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

/// The four §3.1 signals, in the runbook's order. Their thresholds and
/// `for:`s are the table's: the default judge rules read the same.
pub const SIGNALS: [Signal; 4] = [
    Signal {
        id: SignalId::OrderErrorRate,
        note: "",
        expr: ERROR_RATE,
        runbook_expr: RUNBOOK_ERROR_RATE,
        description: "Order error rate is {{ $value | humanizePercentage }}",
    },
    Signal {
        id: SignalId::OrderRetryRate,
        note: "",
        expr: RETRY_RATE,
        runbook_expr: RUNBOOK_RETRY_RATE,
        description: "Order retry rate is {{ $value | humanizePercentage }}",
    },
    Signal {
        id: SignalId::BrokerLatencyP95,
        note: ": over the repaired buckets",
        expr: repair::P95,
        runbook_expr: RUNBOOK_LATENCY,
        // The value is milliseconds: humanizeDuration would read it as seconds.
        description: "p95 latency is {{ $value | printf \"%.0f\" }} ms",
    },
    Signal {
        id: SignalId::GuardTrips,
        note: ": a counter born inside the hour counts whole",
        expr: GUARD_TRIPS,
        runbook_expr: RUNBOOK_GUARD_TRIPS,
        description: "{{ $value }} guard trips in last hour",
    },
];

/// The broker-latency signal.
pub const LATENCY: Signal = SIGNALS[2];

/// A threshold as the runbook writes it: ratios with two decimals (0.05,
/// 0.10), whole numbers without a fraction.
pub fn number(v: f64, unit: Unit) -> String {
    if unit == Unit::Ratio {
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
    let th = s.threshold();
    let al = s.alerting();
    let one = |sev: &str, severity, value: f64, for_: Duration, word: &str| Alert {
        name: format!("{prefix}{sev}"),
        expr: format!("{expr} >= {}", number(value, th.unit)),
        for_: for_text(for_),
        severity,
        summary: summary(summary_of, s, word),
        description: s.description.into(),
    };
    [
        one("Warn", Severity::Warning, th.warn, al.warn_for, "elevated"),
        one("Crit", Severity::Critical, th.crit, al.crit_for, "critical"),
    ]
}

/// An alert's summary: `{of} {what} {word}` ("Canary order error rate critical").
pub fn summary(of: &str, s: &Signal, word: &str) -> String {
    format!("{of} {} {word}", s.spec().what)
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
        rules.push(Rule::Comment(format!("{}{}", s.spec().title, s.note)));
        for a in alerts_over(s, s.alerting().name, s.expr, "Canary") {
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
    fn every_signal_alerts_under_its_table_row() {
        for s in &SIGNALS {
            let al = s.spec().alerting.expect("a §3.1 signal has alerts");
            let [warn, crit] = alerts_over(s, al.name, s.expr, "Canary");
            assert_eq!(warn.name, format!("{}Warn", al.name));
            assert_eq!(warn.for_, for_text(al.warn_for));
            assert_eq!(crit.for_, for_text(al.crit_for));
        }
    }

    #[test]
    fn no_annotation_humanizes_milliseconds_as_seconds() {
        assert!(!LATENCY.description.contains("humanizeDuration"));
        assert!(LATENCY.description.ends_with(" ms"));
    }
}

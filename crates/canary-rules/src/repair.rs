//! Recording rules that repair the bot's double-cumulated histogram buckets
//! inside Prometheus (docs/bot.md#histogram-double-cumulation).
//!
//! The exporter adds up its already-cumulative bucket counts again: each
//! exported finite bucket `e[i]` is the sum of the true cumulative counts
//! `c[0..=i]`. So `c[i] = e[i] - e[i-1]` (with `e[-1] = 0`), and `+Inf`,
//! `_count` and `_sum` are right as exported. The difference of two
//! counters of one scrape is itself a counter (it only grows, and falls
//! only when the bot restarts), so `rate()` over the repaired series is the
//! rate of the true buckets.

use crate::bounds::Bounds;
use crate::yaml::{Alert, Rule, Severity};

/// How the exporter writes its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Buckets {
    /// Double-cumulated, as the bot's exporter does today: repaired.
    #[default]
    Double,
    /// Plain cumulative, as a fixed exporter would: used as they are.
    Cumulative,
}

/// The latency families the rules repair: the broker calls the alerts read,
/// and the order submissions a dashboard shows.
pub const FAMILIES: [&str; 2] = [
    "gpt_trader_broker_call_latency_seconds",
    "gpt_trader_order_submission_latency_seconds",
];

/// The family the p95 alerts read.
pub const BROKER_FAMILY: &str = FAMILIES[0];

/// The recorded name of a family's repaired buckets.
pub fn repaired(family: &str) -> String {
    format!("canary:{family}_bucket:repaired")
}

/// The recorded p95 of successful submits, per bot, in milliseconds.
pub const P95_RECORD: &str = "canary:broker_submit_latency_p95:ms";

/// One family's repair: `e[0]`, each `e[i] - e[i-1]` (keeping `le` from the
/// left side, hence `group_left`), and `+Inf` as exported.
pub fn repair_expr(family: &str, bounds: &Bounds, buckets: Buckets) -> String {
    let bucket = format!("{family}_bucket");
    if buckets == Buckets::Cumulative {
        return bucket;
    }
    let mut terms = Vec::new();
    let mut below: Option<&str> = None;
    for b in &bounds.bounds {
        terms.push(match below {
            None => format!("{bucket}{{le=\"{}\"}}", b.text),
            Some(prev) => format!(
                "(\n  {bucket}{{le=\"{}\"}}\n  - ignoring (le) group_left\n  {bucket}{{le=\"{prev}\"}}\n)",
                b.text
            ),
        });
        below = Some(&b.text);
    }
    terms.push(format!("{bucket}{{le=\"+Inf\"}}"));
    terms.join("\nor\n")
}

/// The p95 of successful submits over the repaired buckets, per bot, in ms:
/// the runbook's query on true buckets, grouped by bot so that one bot's
/// traffic never dilutes another's.
pub const P95: &str = "histogram_quantile(0.95,
  sum by (job, instance, le) (rate(canary:gpt_trader_broker_call_latency_seconds_bucket:repaired{operation=\"submit\",outcome=\"success\"}[5m]))
) * 1000";

/// The recording rules: every family's repaired buckets, then the p95.
pub fn records(bounds: &Bounds, buckets: Buckets) -> Vec<Rule> {
    let mut rules = vec![Rule::Comment(match buckets {
        Buckets::Double => format!(
            "True cumulative buckets: e[i] - e[i-1] for each finite le ({})",
            bounds.source
        ),
        Buckets::Cumulative => {
            "The exporter's buckets as they are (--buckets cumulative: no repair)".into()
        }
    })];
    for family in FAMILIES {
        rules.push(Rule::Record {
            record: repaired(family),
            expr: repair_expr(family, bounds, buckets),
        });
    }
    rules.push(Rule::Comment(
        "p95 of successful submits in ms, per bot, over the repaired buckets".into(),
    ));
    rules.push(Rule::Record {
        record: P95_RECORD.into(),
        expr: P95.into(),
    });
    rules
}

/// A bucket the rules do not know (the bot's bounds changed, or the rules
/// were generated for another exporter) has no repaired series, and the
/// p95 would be computed without it: say so instead of alerting on a
/// partial histogram, or never alerting at all.
pub fn mismatch_alert() -> Alert {
    let bucket = format!("{BROKER_FAMILY}_bucket");
    let fixed = repaired(BROKER_FAMILY);
    Alert {
        name: "CanaryLatencyBucketsUnrepaired".into(),
        expr: format!(
            "count by (job, instance) ({bucket})\n  unless count by (job, instance) ({fixed})\nor\ncount by (job, instance) ({bucket})\n  != count by (job, instance) ({fixed})"
        ),
        for_: "5m".into(),
        severity: Severity::Critical,
        summary: "Canary latency alerts are blind".into(),
        description: "{{ $labels.instance }}: the bot's latency buckets do not match the bounds these rules repair, so the p95 alerts cannot be trusted; regenerate with canary-rules --from-metrics".into(),
    }
}

/// On the bot's double-cumulated buckets the repaired series are true
/// cumulative counts, so they never fall from one bound to the next (nor
/// from the top bound to `+Inf`). A fall proves the exporter no longer
/// double-cumulates (an upstream fix): the repair then turns true buckets
/// into per-bucket counts and the p95 alerts read nonsense. Say so.
pub fn not_double_alert(bounds: &Bounds) -> Alert {
    let fixed = repaired(BROKER_FAMILY);
    let mut les: Vec<&str> = bounds.bounds.iter().map(|b| b.text.as_str()).collect();
    les.push("+Inf");
    let falls: Vec<String> = les
        .windows(2)
        .map(|w| {
            format!(
                "  ({fixed}{{le=\"{}\"}}\n    < ignoring (le) group_left\n  {fixed}{{le=\"{}\"}})",
                w[1], w[0]
            )
        })
        .collect();
    Alert {
        name: "CanaryLatencyBucketsNotDoubleCumulated".into(),
        expr: format!("count by (job, instance) (\n{}\n)", falls.join("\n  or\n")),
        for_: "5m".into(),
        severity: Severity::Critical,
        summary: "Canary latency buckets are not double-cumulated".into(),
        description: "{{ $labels.instance }}: a repaired latency bucket falls below the one under it, so the exporter no longer double-cumulates and the repair rules misread it; the p95 alerts cannot be trusted".into(),
    }
}

/// With `--buckets cumulative`, the opposite check: a finite bucket above
/// `+Inf` proves the exporter double-cumulates after all, and the p95 alerts
/// read the runbook's nonsense.
pub fn double_alert() -> Alert {
    let bucket = format!("{BROKER_FAMILY}_bucket");
    Alert {
        name: "CanaryLatencyBucketsDoubleCumulated".into(),
        expr: format!(
            "count by (job, instance) (\n  {bucket}{{le!=\"+Inf\"}}\n    > ignoring (le) group_left\n  {bucket}{{le=\"+Inf\"}}\n)"
        ),
        for_: "5m".into(),
        severity: Severity::Critical,
        summary: "Canary latency buckets are double-cumulated".into(),
        description: "{{ $labels.instance }}: a finite latency bucket exceeds +Inf, so the exporter double-cumulates and rules generated with --buckets cumulative misread it; the p95 alerts cannot be trusted".into(),
    }
}

/// The alerts that check the buckets are what the rules assume.
pub fn alerts(bounds: &Bounds, buckets: Buckets) -> Vec<Rule> {
    match buckets {
        Buckets::Double => vec![
            Rule::Comment("Latency buckets the rules cannot repair".into()),
            Rule::Alert(mismatch_alert()),
            Rule::Alert(not_double_alert(bounds)),
        ],
        Buckets::Cumulative => vec![
            Rule::Comment("Latency buckets that are not what the rules assume".into()),
            Rule::Alert(double_alert()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finite_bucket_subtracts_the_one_below_and_inf_is_kept() {
        let e = repair_expr(BROKER_FAMILY, &Bounds::default_exporter(), Buckets::Double);
        let b = "gpt_trader_broker_call_latency_seconds_bucket";
        assert!(e.starts_with(&format!("{b}{{le=\"0.001\"}}\nor\n")), "{e}");
        assert!(e.contains(&format!(
            "  {b}{{le=\"1.0\"}}\n  - ignoring (le) group_left\n  {b}{{le=\"0.5\"}}\n"
        )));
        assert!(e.ends_with(&format!("or\n{b}{{le=\"+Inf\"}}")), "{e}");
        assert_eq!(e.matches("group_left").count(), 11);
    }

    #[test]
    fn the_p95_reads_the_repaired_broker_buckets() {
        assert!(P95.contains(&format!("rate({}{{", repaired(BROKER_FAMILY))));
    }
}

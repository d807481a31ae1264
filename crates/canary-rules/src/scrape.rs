//! Alerts on the evidence itself: a bot Prometheus cannot scrape, or whose
//! metrics have vanished, gives no data, and no data fires no signal alert.
//! Absence of evidence must page on its own.

use crate::yaml::{Alert, Rule, Severity};

/// The scrape job's `up`, for the given job name.
fn up(job: &str) -> String {
    format!("up{{job=\"{job}\"}}")
}

/// Two alerts: the bot's scrape fails (`up == 0`), and its metrics are
/// stale (the target is gone from Prometheus, or answers without a single
/// gpt_trader_ series, as an empty collector does).
pub fn alerts(job: &str) -> Vec<Rule> {
    let up = up(job);
    vec![
        Rule::Comment(format!("The evidence itself (scrape job {job})")),
        Rule::Alert(Alert {
            name: "CanaryBotDown".into(),
            expr: format!("{up} == 0"),
            for_: "1m".into(),
            severity: Severity::Critical,
            summary: "Canary bot cannot be scraped".into(),
            description: "Prometheus cannot scrape {{ $labels.instance }}: its signals are unknown, not healthy".into(),
        }),
        Rule::Alert(Alert {
            name: "CanaryBotMetricsStale".into(),
            expr: format!(
                "absent({up})\nor\n(\n  {up} == 1\n  unless on (job, instance)\n  count by (job, instance) ({{__name__=~\"gpt_trader_.+\"}})\n)"
            ),
            for_: "5m".into(),
            severity: Severity::Critical,
            summary: "Canary bot metrics are stale".into(),
            description: "No current gpt_trader_ series from {{ with $labels.instance }}{{ . }}{{ else }}any target of the scrape job{{ end }}: its signals are unknown, not healthy".into(),
        }),
    ]
}

//! promtool unit tests for the latency rules, generated for the bucket
//! bounds the rules were generated for: on the bot's double-cumulated
//! buckets the repaired p95 is the true p95, the alerts fire at their
//! thresholds with the value in milliseconds, the runbook's verbatim p95
//! is what it is (far above, for the exporter's default bounds), and a
//! bucket the rules do not know is an alert of its own.

use crate::bounds::Bounds;
use crate::repair::{self, Buckets, P95_RECORD};
use crate::signals::{LATENCY, RUNBOOK_LATENCY, number};
use std::fmt::Write;

const LABELS: &str = "instance=\"canary:8080\",job=\"gpt-trader\"";
const SERIES: &str = "operation=\"submit\",outcome=\"success\",reason=\"none\"";
const EVAL: &str = "10m";

/// The true per-minute cumulative counts that put the p95 exactly on bound
/// `k`: nothing below it, 95 of 100 at or under it, all 100 in the next one.
fn true_cumulative(n: usize, k: usize) -> Vec<u64> {
    (0..n)
        .map(|i| match i.cmp(&k) {
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => 95,
            std::cmp::Ordering::Greater => 100,
        })
        .collect()
}

/// What the bot exports for them: each finite bucket the sum of the true
/// cumulative counts up to it.
pub fn double_cumulate(c: &[u64]) -> Vec<u64> {
    c.iter()
        .scan(0, |sum, v| {
            *sum += v;
            Some(*sum)
        })
        .collect()
}

/// Prometheus' `histogram_quantile` over `(bound, count)` buckets plus the
/// `+Inf` count: counts are first raised to be monotonic (which lifts
/// `+Inf` to the largest finite bucket), then the rank is interpolated.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)], inf: f64) -> f64 {
    let mut all: Vec<(f64, f64)> = buckets.to_vec();
    all.push((f64::INFINITY, inf));
    let mut max = f64::NEG_INFINITY;
    for b in &mut all {
        max = max.max(b.1);
        b.1 = max;
    }
    let total = all[all.len() - 1].1;
    let rank = q * total;
    let b = all
        .iter()
        .position(|x| x.1 >= rank)
        .unwrap_or(all.len() - 1);
    if b == all.len() - 1 {
        return all[all.len() - 2].0;
    }
    if b == 0 && all[0].0 <= 0.0 {
        return all[0].0;
    }
    let (start, below) = if b == 0 {
        (0.0, 0.0)
    } else {
        (all[b - 1].0, all[b - 1].1)
    };
    start + (all[b].0 - start) * ((rank - below) / (all[b].1 - below))
}

/// What an exporter writing `buckets` exports for the true counts `c`.
fn exported(c: Vec<u64>, buckets: Buckets) -> Vec<u64> {
    match buckets {
        Buckets::Double => double_cumulate(&c),
        Buckets::Cumulative => c,
    }
}

/// The other way of exporting: the one the check alerts must catch.
fn other(buckets: Buckets) -> Buckets {
    match buckets {
        Buckets::Double => Buckets::Cumulative,
        Buckets::Cumulative => Buckets::Double,
    }
}

/// The verbatim p95 (ms) of the runbook over the exported buckets for `k`.
pub fn verbatim_p95_ms(bounds: &Bounds, k: usize, buckets: Buckets) -> f64 {
    let e = exported(true_cumulative(bounds.bounds.len(), k), buckets);
    let buckets: Vec<(f64, f64)> = bounds
        .bounds
        .iter()
        .zip(&e)
        .map(|(b, v)| (b.seconds, *v as f64))
        .collect();
    histogram_quantile(0.95, &buckets, 100.0) * 1000.0
}

fn input(out: &mut String, bounds: &Bounds, k: usize, extra: Option<&str>, export: Buckets) {
    let family = format!("{}_bucket", repair::BROKER_FAMILY);
    let e = exported(true_cumulative(bounds.bounds.len(), k), export);
    out.push_str("    input_series:\n");
    for (b, v) in bounds.bounds.iter().zip(&e) {
        let _ = writeln!(
            out,
            "      - series: '{family}{{{LABELS},le=\"{}\",{SERIES}}}'\n        values: '0+{v}x30'",
            b.text
        );
    }
    if let Some(le) = extra {
        let top = e.last().copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "      - series: '{family}{{{LABELS},le=\"{le}\",{SERIES}}}'\n        values: '0+{top}x30'"
        );
    }
    let _ = writeln!(
        out,
        "      - series: '{family}{{{LABELS},le=\"+Inf\",{SERIES}}}'\n        values: '0+100x30'"
    );
}

fn alert_test(
    out: &mut String,
    name: &str,
    fires: bool,
    value_ms: f64,
    severity: &str,
    word: &str,
) {
    let _ = writeln!(out, "      - eval_time: {EVAL}\n        alertname: {name}");
    if fires {
        let _ = writeln!(
            out,
            "        exp_alerts:\n          - exp_labels: {{severity: {severity}, component: canary, instance: \"canary:8080\", job: gpt-trader}}\n            exp_annotations:\n              summary: \"{}\"\n              description: \"p95 latency is {value_ms:.0} ms\"",
            crate::signals::summary("Canary", &LATENCY, word)
        );
    } else {
        out.push_str("        exp_alerts: []\n");
    }
}

/// The check alerts of `buckets`' rules.
fn check_alerts(buckets: Buckets) -> &'static [&'static str] {
    match buckets {
        Buckets::Double => &[
            "CanaryLatencyBucketsUnrepaired",
            "CanaryLatencyBucketsNotDoubleCumulated",
        ],
        Buckets::Cumulative => &["CanaryLatencyBucketsDoubleCumulated"],
    }
}

/// One case: the true p95 sits on bound `k`.
fn case(out: &mut String, bounds: &Bounds, k: usize, buckets: Buckets) {
    let b = &bounds.bounds[k];
    let start = if k == 0 {
        0.0
    } else {
        bounds.bounds[k - 1].seconds
    };
    // histogram_quantile's own arithmetic, landing on the bound.
    let p95_ms = (start + (b.seconds - start) * 1.0) * 1000.0;
    let th = LATENCY.threshold();
    let verbatim = verbatim_p95_ms(bounds, k, buckets);
    let verbatim_fires = verbatim >= th.crit;
    let _ = writeln!(
        out,
        "\n  # True p95 {p95_ms} ms (95 of 100 submits at or under le=\"{}\"), exported\n  # {}. The rules' p95 is {p95_ms} ms; the runbook's verbatim\n  # p95 reads {verbatim:.0} ms, which {} its CRIT.\n  - interval: 1m",
        b.text,
        match buckets {
            Buckets::Double => "double-cumulated",
            Buckets::Cumulative => "plain cumulative",
        },
        if verbatim_fires {
            "fires"
        } else {
            "stays under"
        }
    );
    input(out, bounds, k, None, buckets);
    let _ = writeln!(
        out,
        "    promql_expr_test:\n      - expr: round({P95_RECORD}, 0.001)\n        eval_time: {EVAL}\n        exp_samples:\n          - labels: '{{{LABELS}}}'\n            value: {p95_ms}\n      - expr: |\n          ({}) >= bool {}\n        eval_time: {EVAL}\n        exp_samples:\n          - labels: '{{}}'\n            value: {}",
        RUNBOOK_LATENCY.replace('\n', "\n          "),
        number(th.crit, th.unit),
        u8::from(verbatim_fires),
    );
    out.push_str("    alert_rule_test:\n");
    let level = th.level(p95_ms);
    use canary_core::Level;
    alert_test(
        out,
        "CanaryBrokerLatencyWarn",
        matches!(level, Level::Warn | Level::Crit),
        p95_ms,
        "warning",
        "elevated",
    );
    alert_test(
        out,
        "CanaryBrokerLatencyCrit",
        level == Level::Crit,
        p95_ms,
        "critical",
        "critical",
    );
    for quiet in check_alerts(buckets) {
        let _ = writeln!(
            out,
            "      - eval_time: {EVAL}\n        alertname: {quiet}\n        exp_alerts: []"
        );
    }
}

/// The test file for `bounds`.
pub fn latency_tests(bounds: &Bounds, buckets: Buckets, rules_file: &str) -> String {
    let mut out = format!(
        "# promtool unit tests for the latency rules of {rules_file}, generated by\n# canary-rules for the bucket bounds it used ({}).\n# Do not edit: regenerate.\nrule_files:\n  - {rules_file}\n\nevaluation_interval: 1m\n\ntests:",
        bounds.source
    );
    let th = LATENCY.threshold();
    let ms = |i: usize| bounds.bounds[i].seconds * 1000.0;
    let n = bounds.bounds.len();
    let ok = (0..n).rev().find(|&i| ms(i) < th.warn);
    let warn = (0..n).find(|&i| ms(i) >= th.warn && ms(i) < th.crit);
    let crit = (0..n).find(|&i| ms(i) >= th.crit);
    for k in [ok, warn, crit].into_iter().flatten() {
        case(&mut out, bounds, k, buckets);
    }
    if buckets == Buckets::Double {
        // A bucket the rules were not generated for.
        let last = &bounds.bounds[n - 1];
        let unknown = format!("{}", last.seconds * 2.0 + 1.0);
        let _ = writeln!(
            out,
            "\n  # A bucket le=\"{unknown}\" these rules do not know: the latency alerts are blind.\n  - interval: 1m"
        );
        input(&mut out, bounds, 0, Some(&unknown), Buckets::Double);
        let _ = writeln!(
            out,
            "    alert_rule_test:\n      - eval_time: {EVAL}\n        alertname: CanaryLatencyBucketsUnrepaired\n        exp_alerts:\n          - exp_labels: {{severity: critical, component: canary, instance: \"canary:8080\", job: gpt-trader}}\n            exp_annotations:\n              summary: \"Canary latency alerts are blind\"\n              description: \"canary:8080: the bot's latency buckets do not match the bounds these rules repair, so the p95 alerts cannot be trusted; regenerate with canary-rules --from-metrics\""
        );
    }
    // Buckets exported the other way: the rules would misread them, and
    // say so. Needs a bucket above the one holding 95 %.
    if n >= 2 {
        let (alert, summary, description) = match buckets {
            Buckets::Double => {
                let a = repair::not_double_alert(bounds);
                (a.name, a.summary, a.description)
            }
            Buckets::Cumulative => {
                let a = repair::double_alert();
                (a.name, a.summary, a.description)
            }
        };
        let description = description.replace("{{ $labels.instance }}", "canary:8080");
        let _ = writeln!(
            out,
            "\n  # Buckets exported {}: the rules would misread them, and say so.\n  - interval: 1m",
            match other(buckets) {
                Buckets::Double => "double-cumulated, as the bot does",
                Buckets::Cumulative => "plain cumulative, as a fixed exporter would",
            }
        );
        input(&mut out, bounds, 0, None, other(buckets));
        let _ = writeln!(
            out,
            "    alert_rule_test:\n      - eval_time: {EVAL}\n        alertname: {alert}\n        exp_alerts:\n          - exp_labels: {{severity: critical, component: canary, instance: \"canary:8080\", job: gpt-trader}}\n            exp_annotations:\n              summary: {}\n              description: {}",
            crate::yaml::quoted(&summary),
            crate::yaml::quoted(&description),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_cumulation_matches_the_bots_example() {
        // docs/bot.md: one observation of 0.2 s exports 0,0,0,0,0,0,1,2,...
        let mut c = vec![0; 12];
        for v in c.iter_mut().skip(6) {
            *v = 1;
        }
        assert_eq!(double_cumulate(&c), [0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn the_runbook_p95_fires_on_a_healthy_bot_with_the_default_bounds() {
        let b = Bounds::default_exporter();
        // true p95 250 ms (le 0.25) and 500 ms (le 0.5)
        for k in [6, 7] {
            let v = verbatim_p95_ms(&b, k, Buckets::Double);
            assert!(v >= 3000.0, "k={k}: verbatim {v}");
        }
    }

    #[test]
    fn the_default_bounds_give_an_ok_a_warn_and_a_crit_case() {
        let t = latency_tests(
            &Bounds::default_exporter(),
            Buckets::Double,
            "canary_alerts.yml",
        );
        assert_eq!(t.matches("\n  - interval: 1m").count(), 5, "{t}");
        assert!(t.contains("value: 500\n"));
        assert!(t.contains("description: \"p95 latency is 1000 ms\""));
        assert!(t.contains("description: \"p95 latency is 5000 ms\""));
    }
}

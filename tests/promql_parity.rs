//! Parity with the real PromQL engine: our rate()/increase() and
//! histogram_quantile() against Prometheus 2.42's own, through
//! `promtool test rules` (installed by scripts/test). Every case's expected
//! value is what scrape-metrics computes; promtool fails the file if the
//! engine disagrees.

use crate::util::TempDir;
use scrape_metrics::promql::{self, Bucket, Point};
use std::fmt::Write as _;
use std::process::Command;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One promtool test group: a series sampled every `step_s` and the
/// expectation of `expr` at `at_s`.
fn group(
    out: &mut String,
    step_s: i64,
    series: &[(String, Vec<f64>)],
    expr: &str,
    at_s: i64,
    expect: Option<f64>,
) {
    let _ = writeln!(out, "  - interval: {step_s}s\n    input_series:");
    for (name, values) in series {
        let vals: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
        let _ = writeln!(
            out,
            "      - series: '{name}'\n        values: '{}'",
            vals.join(" ")
        );
    }
    let _ = writeln!(
        out,
        "    promql_expr_test:\n      - expr: '{expr}'\n        eval_time: {at_s}s"
    );
    match expect {
        Some(v) => {
            let _ = writeln!(
                out,
                "        exp_samples:\n          - labels: '{{}}'\n            value: {v:e}"
            );
        }
        None => {
            let _ = writeln!(out, "        exp_samples: []");
        }
    }
}

fn points(step_s: i64, values: &[f64]) -> Vec<Point> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * step_s * 1000, *v))
        .collect()
}

#[test]
fn rate_increase_and_quantiles_match_prometheus() {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    // promtool loads input samples only up to the last evaluation step, so
    // evaluate every 15 s: every step and every eval_time below is a multiple.
    let mut file = String::from("rule_files: []\nevaluation_interval: 15s\ntests:\n");
    let mut cases = 0;
    for _ in 0..90 {
        let step_s = [15, 60, 240][rng.below(3) as usize];
        let n = 8 + rng.below(20) as usize;
        // A third of the cases start young and low, with a range reaching
        // before the first sample: the zero-point clamp of extrapolation.
        let young = rng.below(3) == 0;
        let mut v = if young {
            rng.below(60) as f64
        } else {
            rng.below(500) as f64
        };
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            values.push(v);
            v = if rng.below(10) == 0 {
                rng.below(20) as f64
            } else {
                v + rng.below(50) as f64
            };
        }
        let at_s = if young {
            step_s * (1 + rng.below(4) as i64)
        } else {
            step_s * (1 + rng.below(n as u64 - 1) as i64)
        };
        let range_s = if young {
            3600
        } else {
            [step_s * 3 / 2, step_s * 3, step_s * 5 + 7, 1200, 3600][rng.below(5) as usize]
        };
        let pts = points(step_s, &values);
        let series = [("c".to_owned(), values)];
        let inc = promql::increase(&pts, at_s * 1000, range_s * 1000);
        group(
            &mut file,
            step_s,
            &series,
            &format!("sum(increase(c[{range_s}s]))"),
            at_s,
            inc,
        );
        let rate = promql::rate(&pts, at_s * 1000, range_s * 1000);
        group(
            &mut file,
            step_s,
            &series,
            &format!("sum(rate(c[{range_s}s]))"),
            at_s,
            rate,
        );
        cases += 2;
    }
    // histogram_quantile(0.95, sum(rate(h_bucket[5m])) by (le)) over two
    // series, some with the bot's double-cumulated (non-monotonic) buckets.
    let bounds = ["0.1", "0.25", "0.5", "1", "2.5", "+Inf"];
    for case in 0..30 {
        let step_s = 15;
        let n = 25;
        let mut series = Vec::new();
        let mut per_le: Vec<(f64, Vec<Vec<Point>>)> = bounds
            .iter()
            .map(|b| (b.parse::<f64>().unwrap_or(f64::INFINITY), vec![]))
            .collect();
        for s in 0..2 {
            let mut cum = vec![0.0; bounds.len()];
            let mut rows: Vec<Vec<f64>> = vec![Vec::new(); bounds.len()];
            for _ in 0..n {
                let obs = rng.below(10);
                for _ in 0..obs {
                    let bucket = rng.below(bounds.len() as u64) as usize;
                    for c in cum.iter_mut().skip(bucket) {
                        *c += 1.0;
                    }
                }
                let mut exported = cum.clone();
                if case % 2 == 1 {
                    // The bot's exporter: finite buckets summed again.
                    let mut running = 0.0;
                    for e in exported.iter_mut().take(bounds.len() - 1) {
                        running += *e;
                        *e = running;
                    }
                }
                for (row, e) in rows.iter_mut().zip(exported) {
                    row.push(e);
                }
            }
            for (i, b) in bounds.iter().enumerate() {
                per_le[i].1.push(points(step_s, &rows[i]));
                series.push((format!("h_bucket{{le=\"{b}\",s=\"{s}\"}}"), rows[i].clone()));
            }
        }
        let at_s = step_s * (n as i64 - 1);
        let buckets: Vec<Bucket> = per_le
            .iter()
            .map(|(upper, lists)| Bucket {
                upper: *upper,
                count: lists
                    .iter()
                    .filter_map(|p| promql::rate(p, at_s * 1000, 300_000))
                    .sum(),
            })
            .collect();
        let q = promql::histogram_quantile(0.95, &buckets);
        let expect = if q.is_nan() { None } else { Some(q) };
        group(
            &mut file,
            step_s,
            &series,
            "histogram_quantile(0.95, sum(rate(h_bucket[5m])) by (le))",
            at_s,
            expect,
        );
        cases += 1;
    }
    let dir = TempDir::new("promql-parity");
    std::fs::write(dir.path("parity_test.yml"), &file).expect("write");
    let out = Command::new("promtool")
        .args(["test", "rules", "parity_test.yml"])
        .current_dir(&dir.0)
        .output()
        .expect("promtool (installed by scripts/test)");
    assert!(
        out.status.success(),
        "Prometheus disagrees with scrape-metrics on some of {cases} cases:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

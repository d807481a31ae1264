//! Cases ported from Prometheus' own test data
//! (`promql/promqltest/testdata/functions.test` and `histograms.test` in
//! prometheus/prometheus). Prometheus 3 made ranges left-open; these tools
//! follow the 2.42 server they are tested against, whose ranges are closed,
//! so cases whose answer depends on that boundary use the 2.x expectation
//! (noted where it differs).

use super::*;

const M: i64 = 60_000;

/// `load <step>` with the `a+bxN` expansion: N+1 points from t=0.
fn series(step_ms: i64, start: f64, inc: f64, n: usize) -> Vec<Point> {
    (0..=n)
        .map(|i| (i as i64 * step_ms, start + inc * i as f64))
        .collect()
}

/// Concatenate expansions, continuing the time axis (`0+18x5 0+18x5`).
fn chain(step_ms: i64, parts: &[(f64, f64, usize)]) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for &(start, inc, n) in parts {
        for i in 0..=n {
            out.push((out.len() as i64 * step_ms, start + inc * i as f64));
        }
    }
    out
}

fn close(got: Option<f64>, want: f64) {
    let got = got.expect("a value");
    assert!(
        (got - want).abs() < 1e-9 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

#[test]
fn increase_over_the_whole_range() {
    // load 5m: /foo 0+10x10, /bar 0+18x5 0+18x5, /dings 10+10x10, /bumms 1+10x10
    let foo = series(5 * M, 0.0, 10.0, 10);
    let bar = chain(5 * M, &[(0.0, 18.0, 5), (0.0, 18.0, 5)]);
    let dings = series(5 * M, 10.0, 10.0, 10);
    let bumms = series(5 * M, 1.0, 10.0, 10);
    // eval instant at 50m increase(http_requests_total[50m])
    close(increase(&foo, 50 * M, 50 * M), 100.0);
    // 3.x: 160, its left-open range drops the t=0 sample and extrapolates;
    // 2.x's closed range keeps it: 72 - 0 + 90 (the reset) = 162, no extrapolation.
    close(increase(&bar, 50 * M, 50 * M), 162.0);
    close(increase(&dings, 50 * M, 50 * M), 100.0);
    close(increase(&bumms, 50 * M, 50 * M), 100.0);
    // eval instant at 50m increase(http_requests_total[100m]): the zero-point cutoff.
    close(increase(&foo, 50 * M, 100 * M), 100.0);
    close(increase(&bar, 50 * M, 100 * M), 162.0);
    // 3.x: 105. Prometheus 2.42's promtool: 110 — the zero point (5m before
    // t=0) is within 1.1 intervals of the range start, so it extrapolates all
    // the way to it.
    close(increase(&dings, 50 * M, 100 * M), 110.0);
    close(increase(&bumms, 50 * M, 100 * M), 101.0);
}

#[test]
fn increase_with_a_counter_reset() {
    // load 5m: 0 1 2 3 2 3 4 — "3 2" reads as "3 0 1 2".
    let pts: Vec<Point> = [0.0, 1.0, 2.0, 3.0, 2.0, 3.0, 4.0]
        .iter()
        .enumerate()
        .map(|(i, v)| (i as i64 * 5 * M, *v))
        .collect();
    close(increase(&pts, 30 * M, 30 * M), 7.0);
}

#[test]
fn rate_with_resets_in_the_middle_and_at_the_end() {
    // testcounter_reset_middle_total 0+27x4 0+27x5
    let middle = chain(5 * M, &[(0.0, 27.0, 4), (0.0, 27.0, 5)]);
    // 3.x: 0.08 over (0, 50m]; 2.x's closed [0, 50m] keeps t=0: (135 + 108) / 3000 s.
    close(rate(&middle, 50 * M, 50 * M), 0.081);
    // testcounter_reset_end_total 0+10x9 0 10
    let mut end = series(5 * M, 0.0, 10.0, 9);
    end.push((50 * M, 0.0));
    end.push((55 * M, 10.0));
    // [6m] at 50m holds 90 and 0: a reset at the end of the range reads as 0.
    close(rate(&end, 50 * M, 6 * M), 0.0);
    // 2.x: [5m] is closed and holds the same two points (3.x: empty).
    close(rate(&end, 50 * M, 5 * M), 0.0);
}

#[test]
fn rates_are_per_second() {
    let window = series(5 * M, 0.0, 80.0, 10);
    close(rate(&window, 50 * M, 50 * M), 0.26666666666666666);
    // rate(calculate_rate_offset_total[10m] offset 5m) = rate at 45m over [35m, 45m]
    let a = series(5 * M, 0.0, 10.0, 10);
    let b = series(5 * M, 0.0, 20.0, 10);
    close(rate(&a, 45 * M, 10 * M), 0.03333333333333333);
    close(rate(&b, 45 * M, 10 * M), 0.06666666666666667);
}

#[test]
fn zero_cutoff_for_left_side_extrapolation() {
    // load 4m: testcounter_zero_cutoff_total{start="Nm"} (N*60)+240x10.
    // At 10m, 3.x answers 0.5 0.55 0.6 0.6 0.6 0.6; Prometheus 2.42 (checked
    // with its promtool) clamps to the zero point before the half-interval
    // rule, so the 3m and 4m series extrapolate further: 0.65 and 0.7.
    for (offset, at_10m, at_50m) in [
        (0.0, 0.5, 0.6),
        (60.0, 0.55, 0.6),
        (120.0, 0.6, 0.6),
        (180.0, 0.65, 0.6),
        (240.0, 0.7, 0.6),
        (300.0, 0.6, 0.6),
    ] {
        let pts = series(4 * M, offset, 240.0, 10);
        close(rate(&pts, 10 * M, 20 * M), at_10m);
        close(rate(&pts, 50 * M, 20 * M), at_50m);
    }
}

#[test]
fn fewer_than_two_points_is_no_result() {
    let pts = series(5 * M, 0.0, 10.0, 10);
    assert_eq!(rate(&pts, 50 * M, 4 * M), None);
    assert_eq!(increase(&[], 0, M), None);
}

fn b(pairs: &[(f64, f64)]) -> Vec<Bucket> {
    pairs
        .iter()
        .map(|&(upper, count)| Bucket { upper, count })
        .collect()
}

#[test]
fn quantiles_of_testhistogram() {
    // testhistogram_bucket at 50m (step 10): positive 0.1→50, .2→70, 1e0→110, +Inf→120;
    // negative -.2→10, -0.1→20, 0.3→20, +Inf→30.
    let pos = b(&[
        (0.1, 50.0),
        (0.2, 70.0),
        (1.0, 110.0),
        (f64::INFINITY, 120.0),
    ]);
    let neg = b(&[
        (-0.2, 10.0),
        (-0.1, 20.0),
        (0.3, 20.0),
        (f64::INFINITY, 30.0),
    ]);
    for (q, want_pos, want_neg) in [
        (0.0, 0.0, -0.2),
        (1.0, 1.0, 0.3),
        (0.2, 0.048, -0.2),
        (0.5, 0.15, -0.15),
        (0.8, 0.72, 0.3),
    ] {
        close(Some(histogram_quantile(q, &pos)), want_pos);
        close(Some(histogram_quantile(q, &neg)), want_neg);
    }
    assert_eq!(histogram_quantile(-0.1, &pos), f64::NEG_INFINITY);
    assert_eq!(histogram_quantile(1.01, &pos), f64::INFINITY);
    assert!(histogram_quantile(f64::NAN, &pos).is_nan());
}

#[test]
fn quantiles_in_the_middle_of_a_bucket() {
    // testhistogram2 at 7m (one step): 0→0, 2→1, 4→2, 6→3, +Inf→3.
    let h = b(&[
        (0.0, 0.0),
        (2.0, 1.0),
        (4.0, 2.0),
        (6.0, 3.0),
        (f64::INFINITY, 3.0),
    ]);
    close(Some(histogram_quantile(1.0 / 6.0, &h)), 1.0);
    close(Some(histogram_quantile(0.5, &h)), 3.0);
    close(Some(histogram_quantile(5.0 / 6.0, &h)), 5.0);
}

/// `sum(rate(x_bucket[10m])) by (le)` then the quantile: the aggregation
/// cases of histograms.test, built through `rate` as the query does.
#[test]
fn aggregated_rates_by_le() {
    // request_duration_seconds_bucket, step 5m, 10 steps; (instance, job) → (0.1, 0.2, +Inf) increments.
    let series_incs: [(&str, &str, [f64; 3]); 4] = [
        ("ins1", "job1", [1.0, 3.0, 4.0]),
        ("ins2", "job1", [2.0, 5.0, 6.0]),
        ("ins1", "job2", [3.0, 4.0, 6.0]),
        ("ins2", "job2", [4.0, 7.0, 9.0]),
    ];
    let bounds = [0.1, 0.2, f64::INFINITY];
    let sum_by = |filter: &dyn Fn(&str, &str) -> bool| -> Vec<Bucket> {
        bounds
            .iter()
            .enumerate()
            .map(|(i, &upper)| {
                let count = series_incs
                    .iter()
                    .filter(|(ins, job, _)| filter(ins, job))
                    .map(|(_, _, incs)| {
                        rate(&series(5 * M, 0.0, incs[i], 10), 50 * M, 10 * M).expect("rate")
                    })
                    .sum();
                Bucket { upper, count }
            })
            .collect()
    };
    let all = sum_by(&|_, _| true);
    close(Some(histogram_quantile(0.3, &all)), 0.075);
    close(Some(histogram_quantile(0.5, &all)), 0.1277777777777778);
    let ins1 = sum_by(&|ins, _| ins == "ins1");
    let ins2 = sum_by(&|ins, _| ins == "ins2");
    close(Some(histogram_quantile(0.5, &ins1)), 0.13333333333333333);
    close(Some(histogram_quantile(0.5, &ins2)), 0.125);
    let job1 = sum_by(&|_, job| job == "job1");
    let job2 = sum_by(&|_, job| job == "job2");
    close(Some(histogram_quantile(0.3, &job1)), 0.1);
    close(Some(histogram_quantile(0.3, &job2)), 0.0642857142857143);
    close(Some(histogram_quantile(0.5, &job1)), 0.14);
    close(Some(histogram_quantile(0.5, &job2)), 0.1125);
}

#[test]
fn mixed_le_representations_coalesce() {
    // mixed_bucket: 0.1, 0.2, 2e-1, 2.0e-1 each +1/step, +Inf +4/step; at 50m ×10.
    let h = b(&[
        (0.1, 10.0),
        (0.2, 10.0),
        (0.2, 10.0),
        (0.2, 10.0),
        (f64::INFINITY, 40.0),
    ]);
    // Coalesced: 0.1→10, 0.2→30, +Inf→40; q=0.5 → rank 20 in (0.1, 0.2].
    close(Some(histogram_quantile(0.5, &h)), 0.15);
}

#[test]
fn no_inf_bucket_or_no_observations_is_nan() {
    assert!(histogram_quantile(0.5, &b(&[(1.0, 3.0)])).is_nan());
    assert!(histogram_quantile(0.5, &b(&[(1.0, 0.0), (f64::INFINITY, 0.0)])).is_nan());
}

#[test]
fn non_monotonic_buckets_are_raised_like_prometheus_does() {
    // The bot's double-cumulated buckets: finite buckets above +Inf. Prometheus
    // raises +Inf to the maximum, which drags the quantile up.
    let broken = b(&[
        (0.25, 10.0),
        (0.5, 28.0),
        (1.0, 47.0),
        (2.5, 66.0),
        (f64::INFINITY, 19.0),
    ]);
    let q = histogram_quantile(0.95, &broken);
    assert!(q > 1.0, "raised +Inf puts p95 in a high bucket: {q}");
}

//! The two PromQL functions the runbook's §3.1 queries need, computed as
//! Prometheus 2.42 computes them: `rate()`/`increase()` (counter resets,
//! extrapolation to the range boundaries) and `histogram_quantile()` (linear
//! interpolation inside the bucket). Ported cases of Prometheus' own test
//! data are in `promql/tests.rs`.

use canary_core::signal_fields::CumulativeBucket;

/// One sample of a series: milliseconds since the epoch, value.
pub type Point = (i64, f64);

/// `increase(v[range])` evaluated at `at_ms` over `points` (sorted by time):
/// Prometheus' `extrapolatedRate` with `isCounter`, `isRate = false`. The
/// range is closed, `[at - range, at]`, as in Prometheus 2.x. `None` when
/// fewer than two points fall in the range (Prometheus drops the series).
pub fn increase(points: &[Point], at_ms: i64, range_ms: i64) -> Option<f64> {
    extrapolated(points, at_ms, range_ms, false)
}

/// `rate(v[range])`: `increase` divided by the range in seconds.
pub fn rate(points: &[Point], at_ms: i64, range_ms: i64) -> Option<f64> {
    extrapolated(points, at_ms, range_ms, true)
}

fn extrapolated(points: &[Point], at_ms: i64, range_ms: i64, is_rate: bool) -> Option<f64> {
    let start = at_ms - range_ms;
    let window: Vec<Point> = points
        .iter()
        .copied()
        .filter(|(t, _)| *t >= start && *t <= at_ms)
        .collect();
    if window.len() < 2 || range_ms <= 0 {
        return None;
    }
    let (first_t, first_v) = window[0];
    let (last_t, last_v) = window[window.len() - 1];
    let mut result = last_v - first_v;
    // A decrease is a counter reset: the counter restarted from zero, so
    // everything it had counted before the reset is added back.
    let mut previous = 0.0;
    for &(_, v) in &window {
        if v < previous {
            result += previous;
        }
        previous = v;
    }
    let mut to_start = (first_t - start) as f64 / 1000.0;
    let mut to_end = (at_ms - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    if sampled <= 0.0 {
        return None;
    }
    let average = sampled / (window.len() - 1) as f64;
    // A counter cannot go below zero: do not extrapolate past its zero
    // point. Prometheus 2.x clamps to the zero point *before* comparing with
    // the threshold below (3.x compares first); the tests pin 2.42's answers.
    if result > 0.0 && first_v >= 0.0 {
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    // Samples close to a boundary (within 110 % of the average interval)
    // extrapolate to it; farther ones by half an average interval.
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= range_ms as f64 / 1000.0;
    }
    Some(result * factor)
}

/// The plain increase of a counter over its points, resets added back,
/// without extrapolation: how much it certainly grew between them.
pub fn raw_increase(points: &[Point]) -> f64 {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return 0.0;
    };
    let mut result = last.1 - first.1;
    let mut previous = 0.0;
    for &(_, v) in points {
        if v < previous {
            result += previous;
        }
        previous = v;
    }
    result
}

/// One classic-histogram bucket: upper bound and (cumulative) count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub upper: f64,
    pub count: f64,
}

/// Cumulative buckets as a record field (counts rounded as values are).
pub fn cumulative(buckets: &[Bucket]) -> Vec<CumulativeBucket> {
    buckets
        .iter()
        .map(|b| CumulativeBucket {
            le: b.upper,
            count: crate::round::round9(b.count),
        })
        .collect()
}

/// `histogram_quantile(q, ...)` over classic buckets, as Prometheus 2.42's
/// `bucketQuantile`: sort by bound, require a `+Inf` bucket, merge equal
/// bounds, force monotonicity by raising later buckets, then interpolate
/// linearly inside the bucket holding the rank. NaN when there is nothing
/// to interpolate.
pub fn histogram_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut b: Vec<Bucket> = buckets
        .iter()
        .copied()
        .filter(|b| !b.upper.is_nan())
        .collect();
    b.sort_by(|x, y| x.upper.total_cmp(&y.upper));
    if b.last().is_none_or(|last| last.upper != f64::INFINITY) {
        return f64::NAN;
    }
    // Coalesce buckets with the same bound (e.g. le="1" and le="1.0").
    let mut merged: Vec<Bucket> = Vec::with_capacity(b.len());
    for bucket in b {
        match merged.last_mut() {
            Some(last) if last.upper == bucket.upper => last.count += bucket.count,
            _ => merged.push(bucket),
        }
    }
    let mut max = f64::NEG_INFINITY;
    for bucket in &mut merged {
        if bucket.count > max {
            max = bucket.count;
        } else if bucket.count < max {
            bucket.count = max;
        }
    }
    if merged.len() < 2 {
        return f64::NAN;
    }
    let observations = merged[merged.len() - 1].count;
    if observations == 0.0 || observations.is_nan() {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let idx = merged[..merged.len() - 1]
        .iter()
        .position(|b| b.count >= rank)
        .unwrap_or(merged.len() - 1);
    if idx == merged.len() - 1 {
        return merged[merged.len() - 2].upper;
    }
    if idx == 0 && merged[0].upper <= 0.0 {
        return merged[0].upper;
    }
    let mut start = 0.0;
    let end = merged[idx].upper;
    let mut count = merged[idx].count;
    if idx > 0 {
        start = merged[idx - 1].upper;
        count -= merged[idx - 1].count;
        rank -= merged[idx - 1].count;
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests;

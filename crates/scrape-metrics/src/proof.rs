//! What a signal's evidence can prove (docs/judge.md, "Confidence"): the
//! exact bounds of a rate from its integer counts, the bucket a p95 lies
//! in, and the level the evidence proves at `--confidence`
//! (`proven_level`), which judge's default rules alarm on.

use crate::promql::Bucket;
use canary_core::Level;
use canary_core::signal_fields::{BucketMs, IntervalFields, SignalFields};
use canary_core::stats::{self, Confidence, Interval, binomial};
use canary_core::thresholds::Threshold;

/// Where a record's counts come from: canary-core's, as judge reads it.
pub use canary_core::signal_fields::CountsSource as Counts;

/// The level `interval` proves against `th`: CRIT or WARN only when the
/// evidence proves the rate at or past it ([`Interval::alarms`]).
/// `orders` is the rate's denominator: the minimum is counted in orders.
fn proven(interval: &Interval, orders: u64, th: Threshold, point: impl Fn(f64) -> f64) -> Level {
    let lower = point(interval.lower);
    let enough = orders >= stats::MIN_ALARM_TRIALS || interval.confidence.is_literal();
    let alarms = |t: f64| lower >= t || (point(interval.point()) >= t && enough);
    if alarms(th.crit) {
        Level::Crit
    } else if alarms(th.warn) {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// A rate's proof: `events` in `trials`, shown as `rate(q)` of the
/// per-trial proportion `q` (the identity for the error rate; retries per
/// order from retries per call for the retry rate).
#[derive(Debug)]
pub struct RateProof {
    pub interval: Interval,
    pub rate: fn(f64) -> f64,
    /// The rate's denominator: orders.
    pub orders: u64,
}

impl RateProof {
    /// The error rate: `errors` of `orders`.
    pub fn errors(errors: f64, orders: f64, c: Confidence) -> Option<RateProof> {
        let i = binomial::interval(stats::whole(errors)?, stats::whole(orders)?, c)?;
        Some(RateProof {
            interval: i,
            rate: |q| q,
            orders: i.trials,
        })
    }

    /// The retry rate: `retries` beyond one call per order. Each broker call
    /// is a first attempt or a retry, so retries of calls is a binomial
    /// proportion q, and retries per order is q / (1 - q), monotone in q.
    pub fn retries(retries: f64, orders: f64, c: Confidence) -> Option<RateProof> {
        let (r, o) = (stats::whole(retries)?, stats::whole(orders)?);
        if o == 0 {
            return None;
        }
        let i = binomial::interval(r, r.checked_add(o)?, c)?;
        Some(RateProof {
            interval: i,
            rate: |q| if q >= 1.0 { f64::MAX } else { q / (1.0 - q) },
            orders: o,
        })
    }

    /// The level proven against `th`.
    pub fn level(&self, th: Threshold) -> Level {
        proven(&self.interval, self.orders, th, self.rate)
    }

    /// The bounds in the signal's own unit.
    pub fn bounds(&self) -> (f64, f64) {
        (
            (self.rate)(self.interval.lower),
            (self.rate)(self.interval.upper),
        )
    }

    /// Fields: `interval` (in the rate's unit) and `proven_level`.
    pub fn fields(&self, th: Threshold, f: &mut SignalFields) {
        let (lo, hi) = self.bounds();
        f.interval = Some(Some(IntervalFields {
            method: self.interval.method().to_owned(),
            confidence: self.interval.confidence.get(),
            lower: round9(lo),
            upper: round9(hi),
        }));
        f.proven_level = Some(self.level(th));
    }

    /// "0 errors in 50 orders; 95 % bounds 0.00-5.82 %"
    pub fn describe(&self, events: &str) -> String {
        let (lo, hi) = self.bounds();
        let c = self.interval.confidence;
        let bounds = if c.is_literal() {
            "read literally (--confidence 0)".to_owned()
        } else {
            format!(
                "{} bounds {:.2}-{:.2} %",
                c.percent(),
                lo * 100.0,
                hi * 100.0
            )
        };
        format!(
            "{} {events} in {} orders; {bounds}",
            self.interval.events, self.orders
        )
    }
}

fn round9(v: f64) -> f64 {
    if v >= f64::MAX {
        return v;
    }
    (v * 1e9).round() / 1e9
}

/// The bucket holding the `q` quantile, as `histogram_quantile` picks it:
/// `(lower, upper]` in the buckets' unit, `upper` infinite for the `+Inf`
/// bucket. `None` without observations.
pub fn containing_bucket(q: f64, buckets: &[Bucket]) -> Option<(f64, f64)> {
    let mut b: Vec<Bucket> = buckets
        .iter()
        .copied()
        .filter(|b| !b.upper.is_nan())
        .collect();
    b.sort_by(|x, y| x.upper.total_cmp(&y.upper));
    let mut merged: Vec<Bucket> = Vec::with_capacity(b.len());
    let mut max = f64::NEG_INFINITY;
    for mut bucket in b {
        bucket.count = bucket.count.max(max);
        max = bucket.count;
        match merged.last_mut() {
            Some(last) if last.upper == bucket.upper => last.count = last.count.max(bucket.count),
            _ => merged.push(bucket),
        }
    }
    let total = merged.last().filter(|b| b.upper == f64::INFINITY)?.count;
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let idx = merged.iter().position(|b| b.count >= rank)?;
    let lower = if idx == 0 { 0.0 } else { merged[idx - 1].upper };
    Some((lower.max(0.0), merged[idx].upper))
}

/// The p95's proof: its containing bucket in ms and how many observations.
#[derive(Debug)]
pub struct BucketProof {
    pub lower_ms: f64,
    pub upper_ms: f64,
    pub observations: f64,
}

impl BucketProof {
    pub fn of(buckets: &[Bucket]) -> Option<BucketProof> {
        let (lo, hi) = containing_bucket(0.95, buckets)?;
        let observations = buckets
            .iter()
            .filter(|b| b.upper == f64::INFINITY)
            .map(|b| b.count)
            .fold(0.0, f64::max);
        Some(BucketProof {
            lower_ms: lo * 1000.0,
            upper_ms: hi * 1000.0,
            observations,
        })
    }

    /// The level proven: the bucket's lower bound at or past a threshold,
    /// or the interpolated value over at least the minimum observations.
    pub fn level(&self, value_ms: f64, th: Threshold, c: Confidence) -> Level {
        let enough = self.observations >= stats::MIN_ALARM_TRIALS as f64 || c.is_literal();
        let alarms = |t: f64| self.lower_ms >= t || (value_ms >= t && enough);
        if alarms(th.crit) {
            Level::Crit
        } else if alarms(th.warn) {
            Level::Warn
        } else {
            Level::Ok
        }
    }

    /// Fields: `bucket_ms` `{lower, upper}` (upper null for +Inf),
    /// `observations` and `proven_level`.
    pub fn fields(&self, value_ms: f64, th: Threshold, c: Confidence, f: &mut SignalFields) {
        f.bucket_ms = Some(BucketMs {
            lower: self.lower_ms,
            upper: Some(self.upper_ms).filter(|u| u.is_finite()),
        });
        f.observations = Some(round9(self.observations));
        f.proven_level = Some(self.level(value_ms, th, c));
    }

    /// "p95 in (250 ms, 500 ms] over 600 observations"
    pub fn describe(&self) -> String {
        let hi = if self.upper_ms.is_finite() {
            format!("{} ms]", self.upper_ms)
        } else {
            "+Inf)".to_owned()
        };
        format!(
            "p95 in ({} ms, {hi} over {} observations",
            self.lower_ms, self.observations
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::thresholds::{BROKER_LATENCY_P95_MS, ORDER_ERROR_RATE, ORDER_RETRY_RATE};

    fn c95() -> Confidence {
        Confidence::default()
    }

    #[test]
    fn small_windows_prove_no_alarm() {
        // 2 errors in 10 orders read 20 % (CRIT literally): proven ok-ish.
        let p = RateProof::errors(2.0, 10.0, c95()).expect("counts");
        assert_eq!(p.level(ORDER_ERROR_RATE), Level::Ok);
        let lit = RateProof::errors(2.0, 10.0, Confidence::new(0.0).expect("0")).expect("counts");
        assert_eq!(lit.level(ORDER_ERROR_RATE), Level::Crit);
        // 30 in 100: the lower bound (22 %) is past CRIT.
        let p = RateProof::errors(30.0, 100.0, c95()).expect("counts");
        assert_eq!(p.level(ORDER_ERROR_RATE), Level::Crit);
        assert!(RateProof::errors(2.5, 10.0, c95()).is_none());
        assert!(RateProof::errors(0.0, 0.0, c95()).is_none());
    }

    #[test]
    fn retry_bounds_are_per_order() {
        // 3 retries over 13 orders (16 calls): 23 % point, bounds on q mapped.
        let p = RateProof::retries(3.0, 13.0, c95()).expect("counts");
        let (lo, hi) = p.bounds();
        assert!(lo < 3.0 / 13.0 && 3.0 / 13.0 < hi, "{lo} {hi}");
        assert_eq!(p.level(ORDER_RETRY_RATE), Level::Ok);
        assert!(p.describe("retries").starts_with("3 retries in 13 orders"));
        // The minimum behind a rate is counted in orders, not broker calls.
        let p = RateProof::retries(30.0, 100.0, c95()).expect("counts");
        assert_eq!(p.level(ORDER_RETRY_RATE), Level::Crit);
        let p = RateProof::retries(29.0, 99.0, c95()).expect("counts");
        assert_eq!(p.level(ORDER_RETRY_RATE), Level::Warn);
    }

    #[test]
    fn the_p95_bucket() {
        let b = |u: f64, c: f64| Bucket { upper: u, count: c };
        let buckets = [
            b(0.25, 50.0),
            b(0.5, 90.0),
            b(1.0, 100.0),
            b(f64::INFINITY, 100.0),
        ];
        assert_eq!(containing_bucket(0.95, &buckets), Some((0.5, 1.0)));
        let p = BucketProof::of(&buckets).expect("observations");
        assert_eq!(
            (p.lower_ms, p.upper_ms, p.observations),
            (500.0, 1000.0, 100.0)
        );
        assert_eq!(p.level(750.0, BROKER_LATENCY_P95_MS, c95()), Level::Ok);
        let slow = [b(1.0, 1.0), b(2.5, 10.0), b(f64::INFINITY, 10.0)];
        let p = BucketProof::of(&slow).expect("observations");
        // Only 10 observations, but the whole bucket is past WARN.
        assert_eq!(p.level(2000.0, BROKER_LATENCY_P95_MS, c95()), Level::Warn);
        assert!(containing_bucket(0.95, &[b(f64::INFINITY, 0.0)]).is_none());
    }
}

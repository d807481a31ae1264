//! Exact (Clopper-Pearson) one-sided bounds on a binomial proportion.
//!
//! Each bound is one-sided at the stated confidence, because each decision
//! looks at one side only: promotion asks whether the *upper* bound is below
//! a threshold, an alarm whether the *lower* bound is at or above it. So
//! "95 %" means the true rate is below the upper bound with probability at
//! least 95 % (and above the lower bound likewise); the pair is a two-sided
//! interval of at least 90 %. With 0 errors in 10 orders the 95 % upper
//! bound is 1 - 0.05^(1/10) = 25.9 %.

use super::beta::{beta_quantile, incomplete_beta};
use super::{Confidence, Interval};

/// The exact upper bound: the rate `p` at which seeing `k` or fewer events
/// in `n` trials has probability `1 - c`. 1 when `k >= n`.
pub fn upper(k: u64, n: u64, c: Confidence) -> f64 {
    if n == 0 {
        return 1.0;
    }
    if c.is_literal() {
        return k.min(n) as f64 / n as f64;
    }
    if k >= n {
        return 1.0;
    }
    // P(X <= k; n, p) = 1 - I_p(k+1, n-k): solve I_p(k+1, n-k) = c.
    beta_quantile(k as f64 + 1.0, (n - k) as f64, c.get())
}

/// The exact lower bound: the rate `p` at which seeing `k` or more events
/// in `n` trials has probability `1 - c`. 0 when `k == 0`.
pub fn lower(k: u64, n: u64, c: Confidence) -> f64 {
    if n == 0 {
        return 0.0;
    }
    if c.is_literal() {
        return k.min(n) as f64 / n as f64;
    }
    if k == 0 {
        return 0.0;
    }
    let k = k.min(n);
    // P(X >= k; n, p) = I_p(k, n-k+1): solve I_p(k, n-k+1) = 1 - c.
    beta_quantile(k as f64, (n - k) as f64 + 1.0, 1.0 - c.get())
}

/// Both bounds of `k` events in `n` trials; `None` over zero trials (no
/// evidence) or when `k > n` (not a proportion).
pub fn interval(k: u64, n: u64, c: Confidence) -> Option<Interval> {
    if n == 0 || k > n {
        return None;
    }
    Some(Interval {
        events: k,
        trials: n,
        confidence: c,
        lower: lower(k, n, c),
        upper: upper(k, n, c),
    })
}

/// Is the upper bound of `k` events in `n` trials below `threshold`?
/// `upper(k, n, c) < threshold`, decided with one evaluation of the
/// incomplete beta function instead of solving for the bound: the bound
/// is the `x` with `I_x(k+1, n-k) = c`, and `I_x` climbs with `x`, so the
/// bound is below `threshold` exactly when `I_threshold(k+1, n-k) > c`.
pub(crate) fn upper_below(k: u64, n: u64, threshold: f64, c: Confidence) -> bool {
    if n == 0 || c.is_literal() || k >= n || !(threshold > 0.0 && threshold < 1.0) {
        return upper(k, n, c) < threshold;
    }
    incomplete_beta(k as f64 + 1.0, (n - k) as f64, threshold) > c.get()
}

/// How many more event-free trials would bring the upper bound of `k` in
/// `n` below `threshold`: 0 if it already is, `None` if no number can
/// (a threshold of 0 or less, or more than a billion trials).
pub fn more_clean_trials(k: u64, n: u64, threshold: f64, c: Confidence) -> Option<u64> {
    const CAP: u64 = 1_000_000_000;
    if threshold.is_nan() || threshold <= 0.0 {
        return None;
    }
    let below = |m: u64| upper_below(k, n.saturating_add(m), threshold, c);
    if below(0) {
        return Some(0);
    }
    // The bound only falls as clean trials are added: double, then halve.
    let mut hi = 1_u64;
    while !below(hi) {
        if hi >= CAP {
            return None;
        }
        hi = hi.saturating_mul(2).min(CAP);
    }
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if below(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c95() -> Confidence {
        Confidence::new(0.95).expect("test value")
    }

    /// P(X <= k; n, p), summed term by term in log space: an independent
    /// route from the incomplete beta function.
    fn cdf(k: u64, n: u64, p: f64) -> f64 {
        let ln_choose =
            |n: u64, j: u64| -> f64 { (1..=j).map(|i| ((n - j + i) as f64 / i as f64).ln()).sum() };
        (0..=k)
            .map(|j| (ln_choose(n, j) + j as f64 * p.ln() + (n - j) as f64 * (-p).ln_1p()).exp())
            .sum()
    }

    #[test]
    fn the_issue_table() {
        let pct = |k, n| (upper(k, n, c95()) * 1000.0).round() / 10.0;
        assert_eq!(pct(0, 10), 25.9);
        assert_eq!(pct(0, 50), 5.8);
        assert_eq!(pct(0, 100), 3.0);
    }

    #[test]
    fn zero_events_closed_form() {
        for n in [1_u64, 3, 10, 50, 100, 1000, 100_000] {
            for c in [0.8_f64, 0.9, 0.95, 0.99, 0.999] {
                let want = 1.0 - (1.0 - c).powf(1.0 / n as f64);
                let got = upper(0, n, Confidence::new(c).expect("test value"));
                assert!((got - want).abs() < 1e-12, "n={n} c={c}: {got} vs {want}");
                // k = n mirrors it.
                let got = lower(n, n, Confidence::new(c).expect("test value"));
                assert!((got - (1.0 - want)).abs() < 1e-12, "n={n} c={c}");
            }
        }
    }

    #[test]
    fn bounds_solve_the_binomial_tail() {
        for (k, n) in [(1, 10), (3, 13), (5, 50), (12, 80), (40, 200), (7, 7)] {
            let u = upper(k, n, c95());
            if k < n {
                assert!((cdf(k, n, u) - 0.05).abs() < 1e-9, "upper {k}/{n}");
            }
            let l = lower(k, n, c95());
            // P(X >= k; l) = 1 - P(X <= k-1; l) = 0.05.
            assert!(
                (1.0 - cdf(k - 1, n, l) - 0.05).abs() < 1e-9,
                "lower {k}/{n}"
            );
            let p = k as f64 / n as f64;
            assert!(l <= p && p <= u);
        }
    }

    #[test]
    fn literal_confidence_is_the_point_estimate() {
        let zero = Confidence::new(0.0).expect("test value");
        assert_eq!(upper(3, 13, zero), 3.0 / 13.0);
        assert_eq!(lower(3, 13, zero), 3.0 / 13.0);
        assert_eq!(more_clean_trials(0, 10, 0.05, zero), Some(0));
        assert_eq!(more_clean_trials(1, 10, 0.05, zero), Some(11));
    }

    #[test]
    fn no_trials_is_no_evidence() {
        assert!(interval(0, 0, c95()).is_none());
        assert!(interval(5, 3, c95()).is_none());
        assert_eq!(upper(0, 0, c95()), 1.0);
        assert_eq!(lower(0, 0, c95()), 0.0);
    }

    #[test]
    fn below_without_solving_agrees_with_the_bound() {
        for (k, n) in [
            (0, 1),
            (0, 10),
            (0, 59),
            (1, 10),
            (2, 50),
            (3, 13),
            (40, 200),
            (7, 7),
        ] {
            for t in [0.0, 0.01, 0.05, 0.0495, 0.15, 0.5, 0.99, 1.0, 1.5] {
                for c in [0.0, 0.8, 0.95, 0.999] {
                    let c = Confidence::new(c).expect("test value");
                    let u = upper(k, n, c);
                    // Away from the boundary itself, where the two
                    // routes round differently.
                    if (u - t).abs() > 1e-12 {
                        assert_eq!(upper_below(k, n, t, c), u < t, "{k}/{n} t={t}");
                    }
                }
            }
        }
    }

    #[test]
    fn more_clean_orders() {
        // 0 in 50: bound 5.8 % >= 5 %; 59 orders bring it to 4.95 %.
        assert_eq!(more_clean_trials(0, 50, 0.05, c95()), Some(9));
        assert!(upper(0, 59, c95()) < 0.05 && upper(0, 58, c95()) >= 0.05);
        assert_eq!(more_clean_trials(0, 100, 0.05, c95()), Some(0));
        let m = more_clean_trials(2, 50, 0.05, c95()).expect("test value");
        assert!(upper(2, 50 + m, c95()) < 0.05 && upper(2, 50 + m - 1, c95()) >= 0.05);
        assert_eq!(more_clean_trials(0, 10, 0.0, c95()), None);
    }
}

//! Two-sample tests for the canary against production (the baseline).
//!
//! - **Error rate** (errors among orders, a proportion): Fisher's exact
//!   test, one-sided each way. Exact at any size, so it stays honest at the
//!   50 orders of a canary window, where a normal approximation is not.
//!   Fisher rather than Barnard: Fisher conditions on the total number of
//!   errors, has a closed form (the hypergeometric tail) and needs no
//!   search over a nuisance parameter; it is slightly conservative, so it
//!   never overstates a regression.
//! - **Retry rate** (retries per order: a count that may exceed the orders,
//!   so not a proportion): the exact conditional test for two Poisson
//!   rates. Given the retries of both bots together, the canary's share is
//!   binomial with p = its orders over both bots' orders when the rates are
//!   equal.
//! - **Latency** (histogram buckets): Mann-Whitney U on the bucketed
//!   observations; observations in one bucket are ties. Normal
//!   approximation with the tie correction and a continuity correction.
//!   Effect size: Cliff's delta, P(canary slower) - P(canary faster).
//!
//! Every test returns both one-sided p-values (canary worse, canary
//! better) and an effect size; classification is the caller's.

/// Largest count accepted (orders, errors, observations): beyond it a
/// figure is not a plausible count of one bot's window.
pub const MAX_COUNT: u64 = 1 << 32;

/// Why a comparison cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// One side has no trials (no orders, no observations).
    #[error("the {0} has nothing to compare (0 trials)")]
    Empty(&'static str),
    /// More events than trials in a proportion.
    #[error("the {0} counts more events than trials")]
    Inconsistent(&'static str),
    /// The two histograms do not have the same bucket bounds.
    #[error("the two histograms have different bucket bounds: observations cannot be aligned")]
    Bounds,
    /// A count beyond `MAX_COUNT`.
    #[error("a count beyond {MAX_COUNT} is not plausible")]
    Huge,
}

/// Events among trials: errors among orders, retries over orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// How many went wrong (errors, retries).
    pub events: u64,
    /// How many there were (orders, calls). Retries may outnumber the
    /// orders; errors may not (a proportion refuses it).
    pub trials: u64,
}

impl Counts {
    /// `events / trials`; not finite when `trials` is 0: check before calling.
    pub fn rate(self) -> f64 {
        self.events as f64 / self.trials as f64
    }
}

/// A rate comparison: both rates, the effect and the one-sided p-values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateTest {
    /// The canary's rate, events per trial.
    pub canary: f64,
    /// The baseline's (production's) rate, events per trial.
    pub baseline: f64,
    /// canary - baseline (absolute, a fraction: 0.10 is 10 points).
    pub difference: f64,
    /// canary / baseline; `None` when the baseline rate is 0.
    pub ratio: Option<f64>,
    /// P(a canary at least this bad | both rates equal).
    pub p_worse: f64,
    /// P(a canary at least this good | both rates equal).
    pub p_better: f64,
}

fn check(c: Counts, b: Counts, proportion: bool) -> Result<(), CompareError> {
    if [c.events, c.trials, b.events, b.trials]
        .iter()
        .any(|&x| x > MAX_COUNT)
    {
        return Err(CompareError::Huge);
    }
    if c.trials == 0 {
        return Err(CompareError::Empty("canary"));
    }
    if b.trials == 0 {
        return Err(CompareError::Empty("baseline"));
    }
    if proportion && c.events > c.trials {
        return Err(CompareError::Inconsistent("canary"));
    }
    if proportion && b.events > b.trials {
        return Err(CompareError::Inconsistent("baseline"));
    }
    Ok(())
}

fn rates(c: Counts, b: Counts, p_worse: f64, p_better: f64) -> RateTest {
    let (rc, rb) = (c.rate(), b.rate());
    RateTest {
        canary: rc,
        baseline: rb,
        difference: rc - rb,
        ratio: (rb > 0.0).then(|| rc / rb),
        p_worse: p_worse.clamp(0.0, 1.0),
        p_better: p_better.clamp(0.0, 1.0),
    }
}

/// Fisher's exact test on two proportions (errors among orders), one-sided
/// each way: with the errors of both bots fixed, the canary's share is
/// hypergeometric when the rates are equal.
pub fn fisher(canary: Counts, baseline: Counts) -> Result<RateTest, CompareError> {
    check(canary, baseline, true)?;
    let n = canary.trials; // draws
    let k = canary.events + baseline.events; // successes in the population
    let total = canary.trials + baseline.trials;
    let lo = n.saturating_sub(total - k);
    let hi = n.min(k);
    let a = canary.events;
    // pmf(x+1)/pmf(x) for the hypergeometric.
    let ratio = |x: u64| {
        let (x, n, k, total) = (x as f64, n as f64, k as f64, total as f64);
        (k - x) * (n - x) / ((x + 1.0) * (total - k - n + x + 1.0))
    };
    let ln_pmf = |x: u64| ln_choose(k, x) + ln_choose(total - k, n - x) - ln_choose(total, n);
    let mode = ((n as f64 + 1.0) * (k as f64 + 1.0) / (total as f64 + 2.0)).floor() as u64;
    let (up, down) = tails(a, (lo, hi), mode.clamp(lo, hi), ln_pmf, ratio);
    Ok(rates(canary, baseline, up, down))
}

/// The exact conditional test for two Poisson rates (retries per order):
/// with the retries of both bots fixed, the canary's share is binomial with
/// p = canary orders / all orders when the rates are equal.
pub fn poisson_rates(canary: Counts, baseline: Counts) -> Result<RateTest, CompareError> {
    check(canary, baseline, false)?;
    let k = canary.events + baseline.events;
    let q = canary.trials as f64 / (canary.trials + baseline.trials) as f64;
    let a = canary.events;
    if k == 0 {
        return Ok(rates(canary, baseline, 1.0, 1.0));
    }
    let ratio = |x: u64| (k - x) as f64 / (x + 1) as f64 * (q / (1.0 - q));
    let ln_pmf = |x: u64| ln_choose(k, x) + x as f64 * q.ln() + (k - x) as f64 * (1.0 - q).ln();
    let mode = ((k as f64 + 1.0) * q).floor() as u64;
    let (up, down) = tails(a, (0, k), mode.min(k), ln_pmf, ratio);
    Ok(rates(canary, baseline, up, down))
}

/// P(X >= a) and P(X <= a) for a discrete X on `lo..=hi` with the given
/// mode. The tail away from the mode is summed from its first term; the
/// other is one less the opposite tail, so a first term that underflows
/// (an observation far below the mode) never turns a p-value near 1 into 0.
fn tails(
    a: u64,
    (lo, hi): (u64, u64),
    mode: u64,
    ln_pmf: impl Fn(u64) -> f64,
    ratio: impl Fn(u64) -> f64,
) -> (f64, f64) {
    let at = ln_pmf(a).exp();
    if a >= mode {
        let up = tail_up(a, hi, at, &ratio);
        let over = if a < hi {
            tail_up(a + 1, hi, ln_pmf(a + 1).exp(), &ratio)
        } else {
            0.0
        };
        (up, 1.0 - over)
    } else {
        let down = tail_down(a, lo, at, &ratio);
        let under = if a > lo {
            tail_down(a - 1, lo, ln_pmf(a - 1).exp(), &ratio)
        } else {
            0.0
        };
        (1.0 - under, down)
    }
}

/// Sum pmf(a..=hi) from pmf(a) and the ratio pmf(x+1)/pmf(x).
fn tail_up(a: u64, hi: u64, at: f64, ratio: &impl Fn(u64) -> f64) -> f64 {
    let (mut sum, mut term, mut x) = (at, at, a);
    while x < hi {
        let r = ratio(x);
        term *= r;
        x += 1;
        sum += term;
        // Past the mode terms only shrink: stop once they cannot matter.
        if r < 1.0 && term <= sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Sum pmf(lo..=a) from pmf(a) and the ratio pmf(x+1)/pmf(x).
fn tail_down(a: u64, lo: u64, at: f64, ratio: &impl Fn(u64) -> f64) -> f64 {
    let (mut sum, mut term, mut x) = (at, at, a);
    while x > lo {
        let r = ratio(x - 1);
        if r <= 0.0 {
            break;
        }
        term /= r;
        x -= 1;
        sum += term;
        if r > 1.0 && term <= sum * 1e-17 {
            break;
        }
    }
    sum
}

/// A latency comparison from histogram buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyTest {
    /// Observations in the canary's histogram.
    pub n_canary: u64,
    /// Observations in the baseline's histogram.
    pub n_baseline: u64,
    /// Mann-Whitney U of the canary: pairs where the canary is slower,
    /// plus half the ties.
    pub u: f64,
    /// Cliff's delta: P(canary slower) - P(canary faster), in [-1, 1].
    pub cliffs_delta: f64,
    /// The standardised U (tie- and continuity-corrected), canary slower > 0.
    pub z: f64,
    /// One-sided p-value that the canary is slower (small: it is).
    pub p_worse: f64,
    /// One-sided p-value that the canary is faster (small: it is).
    pub p_better: f64,
}

/// Mann-Whitney U from per-bucket (not cumulative) counts over the same
/// bucket bounds, in ascending order of bound.
pub fn mann_whitney(canary: &[u64], baseline: &[u64]) -> Result<LatencyTest, CompareError> {
    if canary.len() != baseline.len() {
        return Err(CompareError::Bounds);
    }
    let nc: u64 = canary
        .iter()
        .try_fold(0u64, |s, &x| s.checked_add(x))
        .ok_or(CompareError::Huge)?;
    let nb: u64 = baseline
        .iter()
        .try_fold(0u64, |s, &x| s.checked_add(x))
        .ok_or(CompareError::Huge)?;
    if nc > MAX_COUNT || nb > MAX_COUNT {
        return Err(CompareError::Huge);
    }
    if nc == 0 {
        return Err(CompareError::Empty("canary"));
    }
    if nb == 0 {
        return Err(CompareError::Empty("baseline"));
    }
    let (mut u, mut below, mut ties) = (0.0f64, 0.0f64, 0.0f64);
    for (&c, &b) in canary.iter().zip(baseline) {
        let (c, b) = (c as f64, b as f64);
        u += c * (below + b / 2.0);
        below += b;
        let t = c + b;
        ties += t * t * t - t;
    }
    let (ncf, nbf) = (nc as f64, nb as f64);
    let n = ncf + nbf;
    let pairs = ncf * nbf;
    let mean = pairs / 2.0;
    let var = pairs / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let delta = 2.0 * u / pairs - 1.0;
    let (z, p_worse, p_better) = if var > 0.0 && var.is_finite() {
        let sd = var.sqrt();
        let zw = (u - mean - 0.5) / sd;
        let zb = (mean - u - 0.5) / sd;
        ((u - mean) / sd, upper_normal(zw), upper_normal(zb))
    } else {
        // Every observation in one bucket: the buckets cannot order them.
        (0.0, 1.0, 1.0)
    };
    Ok(LatencyTest {
        n_canary: nc,
        n_baseline: nb,
        u,
        cliffs_delta: delta,
        z,
        p_worse: p_worse.clamp(0.0, 1.0),
        p_better: p_better.clamp(0.0, 1.0),
    })
}

/// Per-bucket counts from cumulative ones (`le` order); `None` when a
/// cumulative count falls (not a histogram).
pub fn decumulate(cumulative: &[u64]) -> Option<Vec<u64>> {
    let mut prev = 0u64;
    cumulative
        .iter()
        .map(|&c| {
            let d = c.checked_sub(prev)?;
            prev = c;
            Some(d)
        })
        .collect()
}

/// P(Z > z) for a standard normal Z.
pub(crate) fn upper_normal(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function (Chebyshev fit, fractional error
/// below 1.2e-7 everywhere: ample for a p-value).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// ln C(n, k).
fn ln_choose(n: u64, k: u64) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    use crate::stats::beta::ln_gamma;
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

#[cfg(test)]
mod tests;

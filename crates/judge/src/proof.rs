//! What the window's orders can prove (docs/judge.md, "Confidence"): the
//! whole window's error rate, from the failed and all orders counted
//! between its first and last `metrics.orders` samples, with its exact
//! upper bound at `--confidence`. Phase A advances only when that bound
//! is below CRIT, Phase B promotes only when it is below WARN; otherwise
//! the phase is held (`extend` once complete) and the reason says how many
//! more clean orders would settle it.

use crate::counters::OrderCount;
use canary_core::stats::{Confidence, binomial};
use canary_core::thresholds::{self, Threshold};
use canary_core::{Level, Phase};

/// The rule names of the criteria in reasons and `--explain`.
pub const RULE: &str = "window-error-rate";
pub const P95_RULE: &str = "window-p95";

/// Where the window's error rate stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    /// `errors` in `orders`: the bound and whether it is below the line.
    Rate {
        errors: u64,
        orders: u64,
        upper: f64,
        line: f64,
        which: &'static str,
        confidence: Confidence,
        /// Clean orders that would bring the bound below the line.
        more: Option<u64>,
    },
    /// The failed orders cannot be counted: why.
    Unknown(String),
    /// Phase B: the whole window's p95 lies in `(lower_ms, upper_ms]`.
    P95 {
        lower_ms: f64,
        upper_ms: f64,
        observations: f64,
        line_ms: f64,
    },
    /// The window's latency buckets cannot be read: why.
    P95Unknown(String),
}

/// Phase B: the whole window's p95, from the latency bucket deltas
/// between its first and last samples. `None` without two samples or
/// without a successful submit in between (each 5 m evaluation then
/// stands alone, as the p95 rules judge it).
pub fn window_p95(phase: Phase, orders: &OrderCount) -> Option<Proof> {
    if phase != Phase::B {
        return None;
    }
    let buckets = match orders.latency.as_ref()? {
        Ok(b) => b,
        Err(why) => return Some(Proof::P95Unknown(why.to_string())),
    };
    let total = buckets.last().map_or(0.0, |b| b.1);
    if total <= 0.0 {
        return None;
    }
    let i = buckets.iter().position(|b| b.1 >= 0.95 * total)?;
    let lower = if i == 0 { 0.0 } else { buckets[i - 1].0 };
    Some(Proof::P95 {
        lower_ms: lower * 1000.0,
        upper_ms: buckets[i].0 * 1000.0,
        observations: total,
        line_ms: thresholds::BROKER_LATENCY_P95_MS.warn,
    })
}

/// The line a phase's error rate must be proven below: Phase A CRIT
/// (advance), Phase B WARN (promote); none at the start gate.
fn line(phase: Phase) -> Option<(f64, &'static str)> {
    let th: Threshold = thresholds::ORDER_ERROR_RATE;
    match phase {
        Phase::Start => None,
        Phase::A => Some((th.crit, "CRIT")),
        Phase::B => Some((th.warn, "WARN")),
    }
}

/// The proof for `phase` from the window's order count.
pub fn window_errors(phase: Phase, orders: &OrderCount, c: Confidence) -> Option<Proof> {
    let (line, which) = line(phase)?;
    let errors = match &orders.errors {
        Ok(e) => *e,
        Err(why) => return Some(Proof::Unknown(why.to_string())),
    };
    let (Some(k), Some(n)) = (
        canary_core::stats::whole(errors),
        canary_core::stats::whole(orders.count),
    ) else {
        return Some(Proof::Unknown(format!(
            "{errors} failed of {} orders are not whole counts",
            orders.count
        )));
    };
    if k > n {
        return Some(Proof::Unknown(format!(
            "{k} failed orders but only {n} orders counted"
        )));
    }
    let (upper, more) = bound(k, n, line, c);
    Some(Proof::Rate {
        errors: k,
        orders: n,
        upper,
        line,
        which,
        confidence: c,
        more,
    })
}

/// The upper bound of `k` in `n` and the clean orders that would bring it
/// below `line`, remembered: judge asks again for the same counts every
/// round until a bot's orders move (and for every verdict of a `--follow`),
/// and each answer costs dozens of incomplete beta evaluations.
fn bound(k: u64, n: u64, line: f64, c: Confidence) -> (f64, Option<u64>) {
    type Key = (u64, u64, u64, u64);
    type Slot = Option<(Key, (f64, Option<u64>))>;
    const SLOTS: usize = 64;
    thread_local! {
        static SEEN: std::cell::RefCell<[Slot; SLOTS]> =
            const { std::cell::RefCell::new([None; SLOTS]) };
    }
    let key = (k, n, line.to_bits(), c.get().to_bits());
    let slot = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        (h.finish() as usize) % SLOTS
    };
    if let Some((seen, found)) = SEEN.with_borrow(|s| s[slot])
        && seen == key
    {
        return found;
    }
    let found = (
        binomial::upper(k, n, c),
        binomial::more_clean_trials(k, n, line, c),
    );
    SEEN.with_borrow_mut(|s| s[slot] = Some((key, found)));
    found
}

fn pct(v: f64) -> String {
    let p = v * 100.0;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.1} %")
    } else {
        format!("{p:.2} %")
    }
}

impl Proof {
    /// Settled: the bound is below the line (for the p95, its bucket
    /// wholly at or below it).
    pub fn settled(&self) -> bool {
        match self {
            Proof::Rate { upper, line, .. } => upper < line,
            Proof::P95 {
                upper_ms, line_ms, ..
            } => upper_ms <= line_ms,
            Proof::Unknown(_) | Proof::P95Unknown(_) => false,
        }
    }

    /// Its rule name.
    pub fn rule(&self) -> &'static str {
        match self {
            Proof::Rate { .. } | Proof::Unknown(_) => RULE,
            Proof::P95 { .. } | Proof::P95Unknown(_) => P95_RULE,
        }
    }

    /// Does it hold the phase? `Some(true)` for want of evidence.
    pub fn holds(&self) -> Option<bool> {
        match self {
            Proof::Unknown(_) | Proof::P95Unknown(_) => Some(true),
            _ if self.settled() => None,
            _ => Some(false),
        }
    }

    pub fn level(&self) -> Level {
        match self {
            Proof::Unknown(_) | Proof::P95Unknown(_) => Level::Unknown,
            _ if self.settled() => Level::Ok,
            _ => Level::Warn,
        }
    }

    /// The reason's value: the bound (null when unknown).
    pub fn value(&self) -> serde_json::Value {
        match self {
            Proof::Rate { upper, .. } => serde_json::json!((upper * 1e9).round() / 1e9),
            Proof::P95 { upper_ms, .. } if upper_ms.is_finite() => serde_json::json!(upper_ms),
            _ => serde_json::Value::Null,
        }
    }

    /// The line (reason threshold).
    pub fn threshold(&self) -> Option<f64> {
        match self {
            Proof::Rate { line, .. } => Some(*line),
            Proof::P95 { line_ms, .. } => Some(*line_ms),
            Proof::Unknown(_) | Proof::P95Unknown(_) => None,
        }
    }

    /// What it proves: "the window's error rate below WARN (5 %) at 95 %".
    pub fn criterion(&self) -> String {
        match self {
            Proof::Rate {
                line,
                which,
                confidence,
                ..
            } if !confidence.is_literal() => format!(
                "the window's order error rate proven below {which} ({}) at {} confidence",
                pct(*line),
                confidence.percent()
            ),
            Proof::Rate { line, which, .. } => format!(
                "the window's order error rate below {which} ({}), read literally",
                pct(*line)
            ),
            Proof::Unknown(_) => "the window's order error rate counted".into(),
            Proof::P95 { line_ms, .. } => format!(
                "the window's broker latency p95 in a bucket wholly at or below {line_ms} ms"
            ),
            Proof::P95Unknown(_) => "the window's broker latency buckets read".into(),
        }
    }

    /// One sentence: "0 errors in 50 orders: 95 % bound 5.8 % ≥ 5 %; 9
    /// more clean orders would settle it".
    pub fn message(&self) -> String {
        match self {
            Proof::Unknown(why) => format!(
                "criterion not proven: {}: the window's failed orders cannot be counted: {why}",
                self.criterion()
            ),
            Proof::P95Unknown(why) => format!("criterion not proven: {}: {why}", self.criterion()),
            Proof::P95 {
                lower_ms,
                upper_ms,
                observations,
                ..
            } => {
                let hi = if upper_ms.is_finite() {
                    format!("{upper_ms} ms]")
                } else {
                    "+Inf)".into()
                };
                let head = format!(
                    "the window's p95 lies in ({lower_ms} ms, {hi} over {observations} \
                     successful submits"
                );
                if self.settled() {
                    format!("ok: {head}: settled")
                } else {
                    format!("criterion not proven: {}: {head}", self.criterion())
                }
            }
            Proof::Rate {
                errors,
                orders,
                upper,
                line,
                confidence,
                more,
                ..
            } => {
                let bound = if confidence.is_literal() {
                    format!("rate {}", pct(*upper))
                } else {
                    format!("{} bound {}", confidence.percent(), pct(*upper))
                };
                let head = format!("{errors} errors in {orders} orders: {bound}");
                if self.settled() {
                    return format!("ok: {head} < {}: settled", pct(*line));
                }
                let more = match more {
                    Some(m) => format!("; {m} more clean orders would settle it"),
                    None => String::new(),
                };
                format!(
                    "criterion not proven: {}: {head} ≥ {}{more}",
                    self.criterion(),
                    pct(*line)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::Doubt;

    #[test]
    fn the_whole_windows_p95_bucket() {
        let mut n = count(100.0, 0.0);
        n.latency = Some(Ok(vec![
            (0.5, 80.0),
            (1.0, 97.0),
            (2.5, 100.0),
            (f64::INFINITY, 100.0),
        ]));
        let p = window_p95(Phase::B, &n).expect("b");
        assert!(p.settled(), "{}", p.message());
        assert!(
            p.message().contains("(500 ms, 1000 ms] over 100"),
            "{}",
            p.message()
        );
        n.latency = Some(Ok(vec![
            (0.5, 80.0),
            (1.0, 90.0),
            (2.5, 100.0),
            (f64::INFINITY, 100.0),
        ]));
        let p = window_p95(Phase::B, &n).expect("b");
        assert_eq!(p.holds(), Some(false));
        assert_eq!(p.rule(), P95_RULE);
        let ts = "2026-11-26T01:00:00Z".parse().expect("ts");
        n.latency = Some(Err(Doubt::BoundsChanged { ts }));
        assert!(
            window_p95(Phase::B, &n)
                .expect("b")
                .message()
                .ends_with(": metrics.submit_latency_buckets: the bucket bounds changed at 2026-11-26T01:00:00Z"),
            "{}",
            window_p95(Phase::B, &n).expect("b").message()
        );
        assert_eq!(window_p95(Phase::B, &n).expect("b").holds(), Some(true));
        assert!(window_p95(Phase::A, &n).is_none());
        n.latency = None;
        assert!(window_p95(Phase::B, &n).is_none());
    }

    fn count(orders: f64, errors: f64) -> OrderCount {
        OrderCount {
            count: orders,
            seen: true,
            restarts: 0,
            inconsistent: None,
            unproven: false,
            errors: Ok(errors),
            latency: None,
        }
    }

    #[test]
    fn the_issue_example() {
        let c = Confidence::default();
        let p = window_errors(Phase::B, &count(50.0, 0.0), c).expect("phase b");
        assert!(!p.settled());
        assert_eq!(p.holds(), Some(false));
        let m = p.message();
        assert!(
            m.contains("0 errors in 50 orders: 95 % bound 5.82 % ≥ 5.00 %; 9 more clean orders"),
            "{m}"
        );
        let p = window_errors(Phase::B, &count(59.0, 0.0), c).expect("phase b");
        assert!(p.settled(), "{}", p.message());
        // Phase A: 10 clean orders bound 25.9 %, above CRIT; 19 settle it.
        let p = window_errors(Phase::A, &count(10.0, 0.0), c).expect("phase a");
        assert!(!p.settled());
        assert!(
            window_errors(Phase::A, &count(19.0, 0.0), c)
                .expect("a")
                .settled()
        );
        assert!(window_errors(Phase::Start, &count(19.0, 0.0), c).is_none());
    }

    #[test]
    fn literal_reads_the_point_estimate() {
        let c = Confidence::new(0.0).expect("0");
        assert!(
            window_errors(Phase::B, &count(10.0, 0.0), c)
                .expect("b")
                .settled()
        );
        assert!(
            !window_errors(Phase::B, &count(20.0, 1.0), c)
                .expect("b")
                .settled()
        );
        // No order: nothing is proven, even literally.
        assert!(
            !window_errors(Phase::B, &count(0.0, 0.0), c)
                .expect("b")
                .settled()
        );
    }

    #[test]
    fn uncountable_errors_hold_for_want_of_evidence() {
        let c = Confidence::default();
        let mut n = count(100.0, 0.0);
        let ts = "2026-11-26T01:00:00Z".parse().expect("ts");
        n.errors = Err(Doubt::NoBreakdown { ts });
        let p = window_errors(Phase::B, &n, c).expect("b");
        assert_eq!(p.holds(), Some(true));
        assert_eq!(p.level(), Level::Unknown);
        let p = window_errors(Phase::B, &count(10.0, 11.0), c).expect("b");
        assert_eq!(p.holds(), Some(true));
    }
}

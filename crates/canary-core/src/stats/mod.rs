//! Statistics for verdicts that state how sure they are (docs/judge.md,
//! "Confidence"): exact binomial bounds on a rate, from the counts behind it.
//!
//! Clopper-Pearson rather than Wilson: its coverage is never below the
//! stated confidence, for any true rate and any count. Wilson's dips below
//! it exactly where a canary lives (few orders, rates near 0): for 0 errors
//! in 10 orders Wilson's one-sided 95 % upper bound is 21 %, the exact one
//! 25.9 %. A gate that must not fail open takes the conservative bound.

pub(crate) mod beta;
pub mod binomial;

use serde::{Serialize, Serializer};

/// The method every interval names.
pub(crate) const METHOD: &str = "clopper-pearson";

/// The default `--confidence`.
pub(crate) const DEFAULT_CONFIDENCE: f64 = 0.95;

/// A point estimate at or past a threshold raises its alarm only over at
/// least this many trials (orders, broker calls), unless the lower bound
/// crosses too: no alarm fires from 3 orders.
pub const MIN_ALARM_TRIALS: u64 = 100;

/// How sure a bound is: 0 (the runbook read literally: both bounds are the
/// point estimate) or a probability in [0.5, 1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Confidence(f64);

impl Confidence {
    /// `None` outside {0} ∪ [0.5, 1).
    pub fn new(c: f64) -> Option<Confidence> {
        (c == 0.0 || (0.5..1.0).contains(&c)).then_some(Confidence(c))
    }

    /// The probability, 0 or in [0.5, 1).
    pub fn get(self) -> f64 {
        self.0
    }

    /// `--confidence 0`: the runbook's counts, taken at face value.
    pub fn is_literal(self) -> bool {
        self.0 == 0.0
    }

    /// As the docs write it: "95 %".
    pub fn percent(self) -> String {
        let p = self.0 * 100.0;
        if (p - p.round()).abs() < 1e-9 {
            format!("{} %", p.round())
        } else {
            format!("{p} %")
        }
    }
}

impl Default for Confidence {
    fn default() -> Self {
        Confidence(DEFAULT_CONFIDENCE)
    }
}

impl Serialize for Confidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// Why `--confidence` was refused; each variant carries the text as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfidenceError {
    /// Neither a number nor a percentage.
    #[error("'{0}' is not a number")]
    NotANumber(String),
    /// A number outside {0} ∪ [0.5, 1).
    #[error("'{0}': the confidence is 0 (the runbook's counts read literally) or in [0.5, 1)")]
    OutOfRange(String),
}

/// Parse `--confidence`: 0, or a probability in [0.5, 1) (`0.95` or `95%`).
pub fn parse_confidence(s: &str) -> Result<Confidence, ConfidenceError> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| ConfidenceError::NotANumber(s.to_owned()))?;
    Confidence::new(v).ok_or_else(|| ConfidenceError::OutOfRange(s.to_owned()))
}

/// Exact bounds on `events` in `trials` at `confidence`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// The events counted (not serialised).
    #[serde(skip)]
    pub events: u64,
    /// The trials counted (not serialised).
    #[serde(skip)]
    pub trials: u64,
    /// How sure the bounds are; at 0 both bounds are the point estimate.
    pub confidence: Confidence,
    /// The lower bound of the rate, a fraction in [0, 1].
    pub lower: f64,
    /// The upper bound of the rate, a fraction in [0, 1].
    pub upper: f64,
}

impl Interval {
    /// The point estimate, events over trials.
    pub fn point(&self) -> f64 {
        self.events as f64 / self.trials as f64
    }

    /// How the bounds were taken: "clopper-pearson", or "literal" at
    /// confidence 0 (the point estimate read as it is).
    pub fn method(&self) -> &'static str {
        if self.confidence.is_literal() {
            "literal"
        } else {
            METHOD
        }
    }

    /// Does the evidence prove `rate >= threshold`? The lower bound
    /// crosses it, or the point estimate does over at least
    /// [`MIN_ALARM_TRIALS`] trials (always at confidence 0).
    pub fn alarms(&self, threshold: f64) -> bool {
        self.lower >= threshold
            || (self.point() >= threshold
                && (self.trials >= MIN_ALARM_TRIALS || self.confidence.is_literal()))
    }

    /// Does the evidence prove `rate < threshold`? The upper bound is below it.
    pub fn clears(&self, threshold: f64) -> bool {
        self.upper < threshold
    }
}

/// A count read from a counter as an exact number of events: a finite,
/// non-negative whole number, else `None`.
pub fn whole(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 9.0e15).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_parses_and_refuses() {
        assert_eq!(parse_confidence("0.95").expect("test value").get(), 0.95);
        assert_eq!(parse_confidence("99%").expect("test value").get(), 0.99);
        assert!(parse_confidence("0").expect("test value").is_literal());
        for bad in ["1", "0.3", "-0.1", "nan", "1.5"] {
            assert_eq!(
                parse_confidence(bad),
                Err(ConfidenceError::OutOfRange(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            parse_confidence("x%").map_err(|e| e.to_string()),
            Err("'x%' is not a number".into())
        );
        assert_eq!(Confidence::default().percent(), "95 %");
    }

    #[test]
    fn alarms_need_the_lower_bound_or_enough_trials() {
        let c = Confidence::default();
        // 3 errors in 13 orders read 23 %: not proven above 15 % nor 5 %...
        let i = binomial::interval(3, 13, c).expect("test value");
        assert!(!i.alarms(0.15));
        assert!(i.alarms(0.05), "lower bound {} >= 5 %", i.lower);
        // 20 in 100 (20 %) over the minimum: CRIT by point estimate.
        let i = binomial::interval(20, 100, c).expect("test value");
        assert!(i.alarms(0.15));
        // 2 in 10 (20 %) below the minimum, lower bound 3.7 %: no CRIT.
        let i = binomial::interval(2, 10, c).expect("test value");
        assert!(!i.alarms(0.15));
        let lit = binomial::interval(2, 10, Confidence::new(0.0).expect("test value"))
            .expect("test value");
        assert!(lit.alarms(0.15));
    }

    #[test]
    fn whole_counts_only() {
        assert_eq!(whole(3.0), Some(3));
        assert_eq!(whole(2.5), None);
        assert_eq!(whole(-1.0), None);
        assert_eq!(whole(f64::NAN), None);
    }
}

#[cfg(test)]
mod fixtures;

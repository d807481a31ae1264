//! The lenient reading of a verdict, for display only (the report, the
//! human table): every field optional, a mistyped field read as absent, so
//! a damaged verdict is still shown for what it is. Nothing that acts reads
//! it: rollback and notify read [`crate::verdict::Verdict::read`], which
//! refuses what this one tolerates.

use crate::decision::Decision;
use crate::level::Level;
use crate::payload::lenient;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A `judge.verdict` payload as far as it reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LenientVerdict {
    /// The decision's text as written, known or not (`""` when absent or
    /// not a string): a report shows a forged word rather than hide it.
    #[serde(default, deserialize_with = "lenient")]
    pub decision: String,
    /// The phase's text as written (`start`, `a`, `b` or anything else); `None` when absent.
    #[serde(default, deserialize_with = "lenient")]
    pub phase: Option<String>,
    /// The scope's text as written (`overall`, `target` or anything else); `None` when absent.
    #[serde(default, deserialize_with = "lenient")]
    pub scope: Option<String>,
    /// The reasons that are objects; anything else in the list is skipped.
    #[serde(default, deserialize_with = "objects")]
    pub reasons: Vec<LenientReason>,
    /// `None` when absent or not an object.
    #[serde(default, deserialize_with = "lenient")]
    pub window: Option<LenientWindow>,
}

impl LenientVerdict {
    /// The decision, when it is one of judge's.
    pub fn known_decision(&self) -> Option<Decision> {
        Decision::parse(&self.decision)
    }
}

/// One reason as far as it reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LenientReason {
    /// The rule's name as written; `""` when absent.
    #[serde(default, deserialize_with = "lenient")]
    pub rule: String,
    /// `unknown` when absent or not a level: never read as healthier.
    #[serde(default = "unknown", deserialize_with = "level_or_unknown")]
    pub level: Level,
    /// The observed value as written, any JSON (`null` when absent).
    #[serde(default)]
    pub value: Value,
    /// The threshold as written, any JSON (`null` when absent).
    #[serde(default)]
    pub threshold: Value,
    /// The text as written, parsed or not.
    #[serde(default, deserialize_with = "lenient")]
    pub ts: Option<String>,
    /// The sentence as written; `""` when absent.
    #[serde(default, deserialize_with = "lenient")]
    pub msg: String,
    /// The bot it concerns, in a fleet's overall verdict.
    #[serde(default, deserialize_with = "lenient")]
    pub target: Option<String>,
}

/// The window as far as it reads; numbers as `f64` so that a report can
/// show an out-of-range one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LenientWindow {
    /// When the window opened; `None` when absent or not a timestamp.
    #[serde(default, deserialize_with = "lenient")]
    pub start: Option<Timestamp>,
    /// Seconds since the window opened.
    #[serde(default, deserialize_with = "lenient")]
    pub elapsed_s: Option<f64>,
    /// Orders seen in the window.
    #[serde(default, deserialize_with = "lenient")]
    pub orders: Option<f64>,
    /// Whether the window met its duration and orders; `None` when absent
    /// or not a boolean.
    #[serde(default, deserialize_with = "lenient")]
    pub complete: Option<bool>,
    /// The duration the window needs, in seconds.
    #[serde(default, deserialize_with = "lenient")]
    pub min_duration_s: Option<f64>,
    /// The orders the window needs.
    #[serde(default, deserialize_with = "lenient")]
    pub min_orders: Option<f64>,
}

fn unknown() -> Level {
    Level::Unknown
}

fn level_or_unknown<'de, D: Deserializer<'de>>(d: D) -> Result<Level, D::Error> {
    Ok(lenient::<D, Option<Level>>(d)?.unwrap_or(Level::Unknown))
}

/// A list's object items, each read leniently; a non-list reads as empty.
fn objects<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<LenientReason>, D::Error> {
    let items: Vec<Value> = lenient(d)?;
    Ok(items
        .into_iter()
        .filter(Value::is_object)
        .filter_map(|v| LenientReason::deserialize(v).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn payload(line: &str) -> LenientVerdict {
        let rec: Record = serde_json::from_str(line).expect("record");
        rec.payload().expect("a lenient reading never fails")
    }

    #[test]
    fn a_damaged_verdict_reads_as_far_as_it_goes() {
        let v = payload(
            r#"{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"judge","target":"t","kind":"verdict","name":"judge.verdict","level":"ok","decision":[1],"phase":7,"reasons":[3,{"rule":"r","level":"bogus","threshold":0.1,"msg":5},{"rule":"s","level":"crit"}],"window":{"start":5,"orders":"x","elapsed_s":60}}"#,
        );
        assert_eq!(v.decision, "");
        assert_eq!(v.known_decision(), None);
        assert_eq!(v.phase, None);
        assert_eq!(v.reasons.len(), 2);
        assert_eq!(v.reasons[0].level, Level::Unknown);
        assert_eq!(v.reasons[0].msg, "");
        assert_eq!(v.reasons[0].threshold, serde_json::json!(0.1));
        assert_eq!(v.reasons[1].level, Level::Crit);
        let w = v.window.expect("window");
        assert_eq!((w.start, w.orders, w.elapsed_s), (None, None, Some(60.0)));
    }

    #[test]
    fn a_forged_decision_is_shown_but_is_not_a_decision() {
        let v = payload(
            r#"{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"judge","target":"t","kind":"verdict","name":"judge.verdict","level":"ok","decision":"Promote","reasons":"nope","window":"w"}"#,
        );
        assert_eq!(v.decision, "Promote");
        assert_eq!(v.known_decision(), None);
        assert!(v.reasons.is_empty() && v.window.is_none());
    }
}

//! The verdict vocabulary as types: what `judge` writes in a `judge.verdict`
//! (and `judge.transition`) record beyond the envelope, and what consumers
//! read back. One definition, with serde, instead of hand-built JSON.

use crate::decision::Decision;
use crate::level::Level;
use crate::phase::Phase;
use crate::record::Record;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

impl Serialize for Decision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Decision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Decision, D::Error> {
        let s = String::deserialize(d)?;
        Decision::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown decision '{s}'")))
    }
}

/// Which verdict of a run: the one that decides (`overall`, exactly one per
/// run), or one bot's among a fleet (`target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Overall,
    Target,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Overall => "overall",
            Scope::Target => "target",
        }
    }

    /// The scope a record names, exactly as judge writes it.
    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "overall" => Some(Scope::Overall),
            "target" => Some(Scope::Target),
            _ => None,
        }
    }
}

/// Why a verdict is what it is: one criterion, one input problem, or the
/// window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule, or `input.*`, `window`, `orders`.
    pub rule: String,
    /// The criterion it proves, for a required criterion (named apart from
    /// the text it fires with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<String>,
    pub level: Level,
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub ts: Option<Timestamp>,
    #[serde(default)]
    pub msg: String,
    /// The bot, in a fleet's overall verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Where the phase window stands (`window` of a verdict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    pub start: Option<Timestamp>,
    pub elapsed_s: u64,
    pub orders: u64,
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_orders: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_s: Option<u64>,
}

/// A verdict's payload: the fields of a `judge.verdict` record beside the
/// envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    pub phase: Phase,
    pub reasons: Vec<Reason>,
    pub window: WindowSummary,
    pub scope: Scope,
    /// The exit code this verdict calls for.
    pub exit: u8,
}

impl Verdict {
    /// Add this payload to a record's `extra`.
    pub fn into_record(&self, mut rec: Record) -> Record {
        if let Ok(Value::Object(map)) = serde_json::to_value(self) {
            rec.extra.extend(map);
        }
        rec
    }

    /// Read the payload back from a record; `None` when it is not a verdict's.
    pub fn from_record(rec: &Record) -> Option<Verdict> {
        let map: serde_json::Map<String, Value> = rec
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        serde_json::from_value(Value::Object(map)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;

    #[test]
    fn a_verdict_round_trips_through_a_record() {
        let v = Verdict {
            decision: Decision::Extend,
            phase: Phase::B,
            reasons: vec![Reason {
                rule: "guard-trips-pause".into(),
                criterion: Some("guard trips known".into()),
                level: Level::Unknown,
                value: Value::Null,
                threshold: None,
                ts: Some("2026-11-26T00:00:00Z".parse().expect("ts")),
                msg: "no evidence".into(),
                target: None,
            }],
            window: WindowSummary {
                start: None,
                elapsed_s: 0,
                orders: 0,
                complete: true,
                min_duration_s: Some(86_400),
                min_orders: Some(50),
                cap_s: None,
            },
            scope: Scope::Overall,
            exit: 3,
        };
        let rec = v.into_record(Record::new(
            "judge",
            "canary",
            Kind::Verdict,
            "judge.verdict",
            Level::Warn,
        ));
        assert_eq!(rec.extra["decision"], "extend");
        assert_eq!(rec.extra["scope"], "overall");
        assert_eq!(rec.extra["reasons"][0]["ts"], "2026-11-26T00:00:00Z");
        assert!(rec.extra["reasons"][0].get("target").is_none());
        let text = serde_json::to_string(&rec).expect("json");
        let back: Record = serde_json::from_str(&text).expect("record");
        assert_eq!(Verdict::from_record(&back), Some(v));
    }

    #[test]
    fn unknown_decisions_are_refused() {
        let r: Result<Decision, _> = serde_json::from_str("\"promote-now\"");
        assert!(r.is_err());
    }
}

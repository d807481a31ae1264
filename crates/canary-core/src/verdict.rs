//! The verdict vocabulary as types: what `judge` writes in a `judge.verdict`
//! (and `judge.transition`) record beyond the envelope, and what consumers
//! read back. One definition, with serde, instead of hand-built JSON.

use crate::decision::Decision;
use crate::level::Level;
use crate::phase::Phase;
use crate::record::{Kind, Record, SCHEMA_VERSION};
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

/// A verdict record as written, borrowing its parts: the same JSON, byte
/// for byte, as the record `Verdict::into_record` makes of the same
/// envelope, without copying every reason and building a JSON tree first
/// (`judge --follow` writes a verdict per bot per round).
#[derive(Debug)]
pub struct VerdictLine<'a> {
    pub ts: Timestamp,
    pub tool: &'a str,
    pub target: &'a str,
    pub kind: Kind,
    pub name: &'a str,
    pub level: Level,
    pub msg: &'a str,
    pub decision: Decision,
    pub phase: Phase,
    pub reasons: &'a [Reason],
    pub window: WindowSummary,
    pub scope: Scope,
    pub exit: u8,
}

impl Serialize for VerdictLine<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // The record's envelope in its field order, `value` the decision,
        // then the payload in `Verdict`'s field order (the order
        // `into_record` appends it in).
        let mut m = s.serialize_map(Some(15))?;
        m.serialize_entry("v", &SCHEMA_VERSION)?;
        m.serialize_entry("ts", &self.ts)?;
        m.serialize_entry("tool", self.tool)?;
        m.serialize_entry("target", self.target)?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("name", self.name)?;
        m.serialize_entry("level", &self.level)?;
        m.serialize_entry("value", &self.decision)?;
        m.serialize_entry("msg", self.msg)?;
        m.serialize_entry("decision", &self.decision)?;
        m.serialize_entry("phase", &self.phase)?;
        m.serialize_entry("reasons", self.reasons)?;
        m.serialize_entry("window", &self.window)?;
        m.serialize_entry("scope", &self.scope)?;
        m.serialize_entry("exit", &self.exit)?;
        m.end()
    }
}

impl VerdictLine<'_> {
    /// The record this line writes.
    pub fn to_record(&self) -> Record {
        Verdict {
            decision: self.decision,
            phase: self.phase,
            reasons: self.reasons.to_vec(),
            window: self.window.clone(),
            scope: self.scope,
            exit: self.exit,
        }
        .into_record(
            Record::new(self.tool, self.target, self.kind, self.name, self.level)
                .at(self.ts)
                .value(self.decision.as_str())
                .msg(self.msg),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_verdict_line_writes_what_its_record_would() {
        let reasons = vec![
            Reason {
                rule: "order-error-rate-warn".into(),
                criterion: Some("order error rate known in the window".into()),
                level: Level::Warn,
                value: serde_json::json!({"n": [1, 2.5, null], "s": "é\u{1}\""}),
                threshold: Some(0.05),
                ts: Some("2026-11-26T00:00:00.123Z".parse().expect("ts")),
                msg: "a \"quoted\" reason\n".into(),
                target: Some("bot-1".into()),
            },
            Reason {
                rule: "window".into(),
                criterion: None,
                level: Level::Ok,
                value: Value::Null,
                threshold: None,
                ts: None,
                msg: String::new(),
                target: None,
            },
        ];
        for (decision, scope) in [
            (Decision::Extend, Scope::Overall),
            (Decision::Promote, Scope::Target),
        ] {
            let line = VerdictLine {
                ts: "2026-11-26T00:05:00.5Z".parse().expect("ts"),
                tool: "judge",
                target: "canary",
                kind: Kind::Verdict,
                name: "judge.verdict",
                level: Level::Warn,
                msg: "hold: a reason",
                decision,
                phase: Phase::B,
                reasons: &reasons,
                window: WindowSummary {
                    start: Some("2026-11-26T00:00:00Z".parse().expect("ts")),
                    elapsed_s: 300,
                    orders: 7,
                    complete: false,
                    min_duration_s: Some(3600),
                    min_orders: Some(50),
                    cap_s: None,
                },
                scope,
                exit: 3,
            };
            assert_eq!(
                serde_json::to_string(&line).expect("line"),
                serde_json::to_string(&line.to_record()).expect("record")
            );
        }
    }

    #[test]
    fn unknown_decisions_are_refused() {
        let r: Result<Decision, _> = serde_json::from_str("\"promote-now\"");
        assert!(r.is_err());
    }
}

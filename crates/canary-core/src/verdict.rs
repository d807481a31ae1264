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
    /// The one verdict that decides, per run.
    Overall,
    /// One bot's verdict among a fleet; informs, never acts.
    Target,
}

impl Scope {
    /// The wire name (`overall`, `target`).
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
    /// How bad it is; `unknown` when the evidence was missing.
    pub level: Level,
    /// The value the rule saw, any JSON (`null` when none).
    #[serde(default)]
    pub value: Value,
    /// The threshold it was compared with, when there is one.
    #[serde(default)]
    pub threshold: Option<f64>,
    /// When the evidence was observed; `None` when there was none.
    #[serde(default)]
    pub ts: Option<Timestamp>,
    /// One sentence for a person; never parsed.
    #[serde(default)]
    pub msg: String,
    /// The bot, in a fleet's overall verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Where the phase window stands (`window` of a verdict). The default, what
/// a verdict without a window reads as, is an incomplete empty window: it
/// never promotes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowSummary {
    /// When the window opened; `None` when it has not.
    pub start: Option<Timestamp>,
    /// Whole seconds since the window opened.
    pub elapsed_s: u64,
    /// Orders seen in the window.
    pub orders: u64,
    /// Whether the window met its duration and its orders: only a complete
    /// one advances or promotes.
    pub complete: bool,
    /// The duration the window needs, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_s: Option<u64>,
    /// The orders the window needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_orders: Option<u64>,
    /// The longest the window may run, in seconds, before a `window.cap` warn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_s: Option<u64>,
}

/// A verdict's payload: the fields of a `judge.verdict` record beside the
/// envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What judge decided.
    pub decision: Decision,
    /// The phase it was judged in.
    pub phase: Phase,
    /// Read as none when absent; a present one must be a list of reasons.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// Read as an incomplete empty window when absent (it never promotes).
    #[serde(default)]
    pub window: WindowSummary,
    /// Overall or one target's; only an overall verdict acts.
    pub scope: Scope,
    /// The exit code this verdict calls for; read as 2 (could not
    /// evaluate) when absent, never as a clean 0.
    #[serde(default = "unevaluable")]
    pub exit: u8,
}

fn unevaluable() -> u8 {
    crate::exit::Exit::Unevaluable.code()
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
        rec.payload().ok()
    }

    /// The strict reading every consumer that acts on a verdict uses: the
    /// payload, or the first field that does not read and why. A decision,
    /// phase or scope that is missing, mistyped or not one of the known
    /// names refuses the whole verdict, so a forged or garbled line can
    /// never read as `promote` (or as anything else).
    pub fn read(rec: &Record) -> Result<Verdict, Refusal> {
        if let Some(refusal) = blame(rec) {
            return Err(refusal);
        }
        rec.payload().map_err(|_| Refusal {
            field: "verdict",
            value: Value::Null,
            why: "does not read as a verdict".into(),
        })
    }
}

/// Why a verdict payload was refused: the first field, in the order below,
/// that does not read as its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The first field that failed to read, by its wire name.
    pub field: &'static str,
    /// The field's value as found (`null` when absent).
    pub value: Value,
    /// A fixed sentence: never the value itself, which may be hostile.
    pub why: String,
}

/// One field of the payload: its name, whether it must be present, and
/// whether a value reads as its type.
type FieldCheck = (&'static str, bool, fn(&Value) -> bool);

fn reads<T: serde::de::DeserializeOwned>(v: &Value) -> bool {
    T::deserialize(v).is_ok()
}

/// An object that reads as `T` (serde would also take a positional array
/// for a struct: a window or a reason written as one is refused).
fn object<T: serde::de::DeserializeOwned>(v: &Value) -> bool {
    v.is_object() && reads::<T>(v)
}

/// A list of objects that each read as `T`.
fn objects<T: serde::de::DeserializeOwned>(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|items| items.iter().all(Value::is_object))
        && reads::<Vec<T>>(v)
}

/// The payload's fields in the order a refusal names them.
const FIELDS: [FieldCheck; 6] = [
    ("decision", true, reads::<Decision>),
    ("scope", true, reads::<Scope>),
    ("phase", true, reads::<Phase>),
    ("reasons", false, objects::<Reason>),
    ("window", false, object::<WindowSummary>),
    ("exit", false, reads::<u8>),
];

fn why_not(field: &str, value: &Value) -> String {
    match (field, value) {
        ("decision", Value::String(_)) => format!(
            "is not a known decision ({})",
            Decision::names().collect::<Vec<_>>().join(", ")
        ),
        ("decision", _) => "is not a string".into(),
        ("scope", _) => "is not a scope (overall, target)".into(),
        ("phase", _) => "is not a phase (start, a, b)".into(),
        ("reasons", _) => {
            "is not a list of reasons (each an object with a rule and a level)".into()
        }
        ("window", _) => "is not a window summary (start, elapsed_s, orders, complete)".into(),
        _ => "is not an exit code (0 to 255)".into(),
    }
}

/// The first field that does not read as its type, if any.
fn blame(rec: &Record) -> Option<Refusal> {
    for (field, required, check) in FIELDS {
        match rec.extra.get(field) {
            None | Some(Value::Null) if required => {
                return Some(Refusal {
                    field,
                    value: Value::Null,
                    why: "is missing".into(),
                });
            }
            None => {}
            Some(v) if !check(v) => {
                return Some(Refusal {
                    field,
                    value: v.clone(),
                    why: why_not(field, v),
                });
            }
            Some(_) => {}
        }
    }
    None
}

/// A verdict record as written, borrowing its parts: the same JSON, byte
/// for byte, as the record `Verdict::into_record` makes of the same
/// envelope, without copying every reason and building a JSON tree first
/// (`judge --follow` writes a verdict per bot per round).
#[derive(Debug)]
pub struct VerdictLine<'a> {
    /// The record's `ts`: when judge decided.
    pub ts: Timestamp,
    /// The record's `tool` (`judge`).
    pub tool: &'a str,
    /// The record's `target`.
    pub target: &'a str,
    /// The record's `kind` (`verdict`).
    pub kind: Kind,
    /// The record's `name` (`judge.verdict`).
    pub name: &'a str,
    /// The record's `level`.
    pub level: Level,
    /// The record's `msg`.
    pub msg: &'a str,
    /// The payload's `decision`, also the record's `value`.
    pub decision: Decision,
    /// The payload's `phase`.
    pub phase: Phase,
    /// The payload's `reasons`, borrowed.
    pub reasons: &'a [Reason],
    /// The payload's `window`.
    pub window: WindowSummary,
    /// The payload's `scope`.
    pub scope: Scope,
    /// The payload's `exit`: the exit code the verdict calls for.
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

    fn verdict_line(payload: &str) -> Record {
        serde_json::from_str(&format!(
            r#"{{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"judge","target":"t","kind":"verdict","name":"judge.verdict","level":"ok","value":"promote","msg":"m"{payload}}}"#
        ))
        .expect("record")
    }

    #[test]
    fn forged_and_garbled_verdicts_never_read_as_promote() {
        let ok = r#","phase":"b","scope":"overall""#;
        let cases: &[(&str, &str)] = &[
            (
                r#","decision":"Promote","phase":"b","scope":"overall""#,
                "decision",
            ),
            (
                r#","decision":"promote ","phase":"b","scope":"overall""#,
                "decision",
            ),
            (
                r#","decision":"promote; rm -rf /","phase":"b","scope":"overall""#,
                "decision",
            ),
            (
                r#","decision":["promote"],"phase":"b","scope":"overall""#,
                "decision",
            ),
            (
                r#","decision":null,"phase":"b","scope":"overall""#,
                "decision",
            ),
            (ok, "decision"),
            (r#","decision":"promote","phase":"b""#, "scope"),
            (
                r#","decision":"promote","phase":"b","scope":"Overall""#,
                "scope",
            ),
            (r#","decision":"promote","scope":"overall""#, "phase"),
            (
                r#","decision":"promote","phase":"B ","scope":"overall""#,
                "phase",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","reasons":[{"rule":"r","level":"fine"}]"#,
                "reasons",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","reasons":{"rule":"r"}"#,
                "reasons",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","window":{"complete":"yes"}"#,
                "window",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","window":[null,1,1,true]"#,
                "window",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","reasons":[["r","ok"]]"#,
                "reasons",
            ),
            (
                r#","decision":"promote","phase":"b","scope":"overall","exit":-1"#,
                "exit",
            ),
        ];
        for (payload, field) in cases {
            let r = Verdict::read(&verdict_line(payload));
            let refusal = r.expect_err(payload);
            assert_eq!(refusal.field, *field, "{payload}: {refusal:?}");
            assert!(!refusal.why.contains("rm -rf"), "{refusal:?}");
        }
        let r = Verdict::read(&verdict_line(
            r#","decision":7,"phase":"b","scope":"overall""#,
        ));
        assert_eq!(r.expect_err("7").why, "is not a string");
        let r = Verdict::read(&verdict_line(
            r#","decision":"Promote","phase":"b","scope":"overall""#,
        ));
        assert!(
            r.expect_err("Promote")
                .why
                .starts_with("is not a known decision (go, no-go,")
        );
    }

    #[test]
    fn absent_optional_fields_read_as_what_never_promotes() {
        let v = Verdict::read(&verdict_line(
            r#","decision":"promote","phase":"b","scope":"overall""#,
        ))
        .expect("reads");
        assert_eq!(v.decision, Decision::Promote);
        assert!(!v.window.complete);
        assert_eq!(v.exit, 2);
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn unknown_decisions_are_refused() {
        let r: Result<Decision, _> = serde_json::from_str("\"promote-now\"");
        assert!(r.is_err());
    }
}

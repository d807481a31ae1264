//! The record: one JSON object per line, the only thing tools write to stdout.

use crate::level::Level;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The schema version this crate writes and reads.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A point-in-time go/no-go observation (a health row, a config target).
    Check,
    /// A rate or quantile judged against WARN/CRIT thresholds.
    Signal,
    /// A raw count or value that other tools aggregate (order counts).
    Sample,
    /// `judge`'s decision.
    Verdict,
    /// One step of a rollback or promotion.
    Step,
    /// Something could not be observed or read; says what and why.
    Error,
}

/// WARN and CRIT boundaries of a signal. Both are inclusive (`>=`), as in the
/// runbook's §3.1 table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The WARN boundary: `value >= warn` is at least warn.
    pub warn: f64,
    /// The CRIT boundary: `value >= crit` is crit.
    pub crit: f64,
}

/// One observation. Field meanings are in the crate's `# Format` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The schema version: a reader takes a line of any other version for a
    /// bad line, never for a record.
    pub v: u32,
    /// When the value was observed, not when the line was written.
    pub ts: Timestamp,
    /// The tool that wrote it (`probe-health`, `judge`, ...).
    pub tool: String,
    /// What was observed: a URL, a file path, `env`, a Prometheus instance.
    pub target: String,
    /// What the record is.
    pub kind: Kind,
    /// The catalogue name (`health.broker`, `judge.verdict`, ...).
    pub name: String,
    /// How bad it is; `unknown` when it could not be observed.
    pub level: Level,
    /// The observed value, any JSON; `null` when none (read as `null` when absent).
    #[serde(default)]
    pub value: Value,
    /// The value expected, for a check; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Value>,
    /// The WARN/CRIT boundaries the value was judged against, for a signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Thresholds>,
    /// One sentence for a person; `""` when absent. Never parsed.
    #[serde(default)]
    pub msg: String,
    /// Fields specific to a kind or a name; consumers ignore what they do not know.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    /// A record observed now, with a null value and an empty message.
    pub fn new(tool: &str, target: &str, kind: Kind, name: &str, level: Level) -> Record {
        Record {
            v: SCHEMA_VERSION,
            ts: Timestamp::now(),
            tool: tool.to_owned(),
            target: target.to_owned(),
            kind,
            name: name.to_owned(),
            level,
            value: Value::Null,
            expect: None,
            thresholds: None,
            msg: String::new(),
            extra: Map::new(),
        }
    }

    /// The same record observed at `ts` instead of now.
    pub fn at(mut self, ts: Timestamp) -> Record {
        self.ts = ts;
        self
    }

    /// The same record at another level.
    pub fn level(mut self, level: Level) -> Record {
        self.level = level;
        self
    }

    /// The same record with this value.
    pub fn value(mut self, value: impl Into<Value>) -> Record {
        self.value = value.into();
        self
    }

    /// The same record with this expected value.
    pub fn expect(mut self, expect: impl Into<Value>) -> Record {
        self.expect = Some(expect.into());
        self
    }

    /// The same record judged against these boundaries.
    pub fn thresholds(mut self, thresholds: Thresholds) -> Record {
        self.thresholds = Some(thresholds);
        self
    }

    /// The same record with this sentence.
    pub fn msg(mut self, msg: impl Into<String>) -> Record {
        self.msg = msg.into();
        self
    }

    /// Add a kind-specific field. Reserved names are refused so an extra can
    /// never shadow the schema on the wire.
    pub fn extra(mut self, key: &str, value: impl Into<Value>) -> Record {
        debug_assert!(
            !RESERVED.contains(&key),
            "extra field '{key}' shadows the schema"
        );
        if !RESERVED.contains(&key) {
            self.extra.insert(key.to_owned(), value.into());
        }
        self
    }
}

pub(crate) const RESERVED: &[&str] = &[
    "v",
    "ts",
    "tool",
    "target",
    "kind",
    "name",
    "level",
    "value",
    "expect",
    "thresholds",
    "msg",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_extras_and_omits_empty_options() {
        let rec = Record::new(
            "probe-health",
            "http://127.0.0.1:8080",
            Kind::Check,
            "health.status",
            Level::Ok,
        )
        .value("healthy")
        .expect(serde_json::json!(["healthy", "degraded"]))
        .msg("bot reports healthy")
        .extra("http_status", 200);
        let line = serde_json::to_string(&rec).expect("serialises");
        assert!(!line.contains("thresholds"));
        assert!(line.contains("\"http_status\":200"));
        let back: Record = serde_json::from_str(&line).expect("parses back");
        assert_eq!(back, rec);
    }

    #[test]
    fn accepts_offsets_and_unknown_fields() {
        let line = r#"{"v":1,"ts":"2026-11-26T03:30:00+00:00","tool":"x","target":"t","kind":"signal","name":"n","level":"warn","value":0.07,"thresholds":{"warn":0.05,"crit":0.15},"msg":"m","future":true}"#;
        let rec: Record = serde_json::from_str(line).expect("parses");
        assert_eq!(rec.level, Level::Warn);
        assert_eq!(rec.extra.get("future"), Some(&Value::Bool(true)));
    }
}

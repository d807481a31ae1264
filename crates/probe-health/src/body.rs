//! The `/health` body as evidence: typed lookups that say exactly why a
//! field could not be read, so every `unknown` record explains itself.

use crate::json::{self, Num};
use canary_core::{Kind, Level, Record};
use serde_json::{Map, Value};

/// What a path in the body holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<'a> {
    Str(&'a str),
    Bool(bool),
    Num(f64),
    Null,
    /// `NaN`, `Infinity` or `-Infinity` where a number belongs.
    NonFinite(String),
    /// A key the body gives twice with different values: its dotted path.
    Conflict(String),
    /// Something of another type (array, object...): its description.
    Other(String),
    /// The path is absent; the message says why, as far as the body tells.
    Missing(String),
}

impl Lookup<'_> {
    /// A sentence for an `unknown` record about `path`.
    pub fn why(&self, path: &str) -> String {
        match self {
            Lookup::Missing(msg) => msg.clone(),
            Lookup::Null => format!("{path} is null: nothing to judge"),
            Lookup::Str(s) => format!("{path} is the string '{s}', not the type the bot documents"),
            Lookup::Bool(v) => format!("{path} is the boolean {v}, not the type the bot documents"),
            Lookup::Num(n) => format!("{path} is the number {n}, not the type the bot documents"),
            Lookup::Other(t) => format!("{path} is {t}, not the type the bot documents"),
            Lookup::NonFinite(t) => format!("{path} is {t}, not a finite number: no evidence"),
            Lookup::Conflict(at) => conflict_msg(at),
        }
    }
}

/// The sentence for a key given twice with different values.
pub fn conflict_msg(path: &str) -> String {
    format!(
        "{path} is given more than once in the body with different values: which one the bot meant cannot be told (the bot never writes a key twice)"
    )
}

fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
        other => format!("{other}"),
    }
}

/// A parsed `/health` object plus what is needed to make records from it.
#[derive(Debug)]
pub struct Body<'a> {
    pub root: &'a Map<String, Value>,
    pub http_status: u16,
    pub tool: &'a str,
    pub target: &'a str,
}

impl<'a> Body<'a> {
    /// A check record for this body, `unknown` until a row decides.
    pub fn record(&self, name: &str) -> Record {
        Record::new(self.tool, self.target, Kind::Check, name, Level::Unknown)
            .extra("endpoint", "/health")
            .extra("http_status", self.http_status)
    }

    /// Follow `path` from the root.
    pub fn field(&self, path: &[&str]) -> Lookup<'a> {
        let mut cur: &'a Map<String, Value> = self.root;
        for (i, key) in path.iter().enumerate() {
            let here = path[..i].join(".");
            let Some(v) = cur.get(*key) else {
                return Lookup::Missing(self.missing_msg(path, i));
            };
            if json::is_conflict(v) {
                return Lookup::Conflict(path[..=i].join("."));
            }
            if i + 1 == path.len() {
                if let Num::NonFinite(t) = json::number(v) {
                    return Lookup::NonFinite(t.to_owned());
                }
                return match v {
                    Value::String(s) => Lookup::Str(s),
                    Value::Bool(b) => Lookup::Bool(*b),
                    Value::Number(n) => {
                        n.as_f64().map_or(Lookup::Other(n.to_string()), Lookup::Num)
                    }
                    Value::Null => Lookup::Null,
                    other => Lookup::Other(describe(other)),
                };
            }
            match v {
                Value::Object(m) => cur = m,
                other => {
                    let at = if here.is_empty() {
                        (*key).to_owned()
                    } else {
                        format!("{here}.{key}")
                    };
                    return Lookup::Missing(format!(
                        "{at} is {}, not an object: this is not the bot's /health shape",
                        describe(other)
                    ));
                }
            }
        }
        Lookup::Other("the whole body".into())
    }

    fn missing_msg(&self, path: &[&str], missing_at: usize) -> String {
        let full = path.join(".");
        let starting = matches!(self.root.get("ready"), Some(Value::Bool(false)));
        if path.first() == Some(&"checks") && missing_at == 1 {
            let mut msg = format!(
                "{full} unknown: the bot does not report a '{}' check yet (checks refresh every GPT_TRADER_HEALTH_CHECK_INTERVAL, 30 s by default)",
                path[1]
            );
            if starting {
                msg.push_str("; the bot is not ready yet");
            }
            return msg;
        }
        format!("{full} is absent from the bot's /health")
    }

    /// `checks.<name>.details`, if it is an object.
    pub fn details(&self, check: &str) -> Option<&'a Map<String, Value>> {
        self.root
            .get("checks")?
            .get(check)?
            .get("details")?
            .as_object()
    }

    /// The failing checks, e.g. `ticker_freshness (critical), websocket (warning)`,
    /// wrapped in `open`/`close`; empty when none fail.
    pub fn failing_summary(&self, open: &str, close: &str) -> String {
        let Some(checks) = self.root.get("checks").and_then(Value::as_object) else {
            return String::new();
        };
        let mut failing: Vec<String> = checks
            .iter()
            .filter(|(_, c)| c.get("status").and_then(Value::as_str) == Some("fail"))
            .map(|(name, c)| {
                let sev = c
                    .pointer("/details/severity")
                    .and_then(Value::as_str)
                    .unwrap_or("warning");
                format!("{name} ({sev})")
            })
            .collect();
        if let Some(sig) = self
            .root
            .get("signals")
            .and_then(|s| s.get("status"))
            .and_then(Value::as_str)
            && (sig == "CRIT" || sig == "WARN")
        {
            failing.push(format!("signals {sig}"));
        }
        if let Some(perf) = checks
            .get("performance")
            .and_then(|p| p.get("status"))
            .and_then(Value::as_str)
            && perf != "healthy"
        {
            failing.push(format!("performance {perf}"));
        }
        if failing.is_empty() {
            String::new()
        } else {
            format!("{open}{}{close}", failing.join(", "))
        }
    }
}

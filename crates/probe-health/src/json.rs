//! The bot's JSON read strictly enough to trust it.
//!
//! serde_json settles a key given twice by keeping the last value; a body
//! saying `"global_paused": true, "global_paused": false` would then read as
//! "not paused". The bot (Python's `json.dumps` of a dict) never writes a
//! key twice, so a duplicate is reported, and when the values differ the
//! key is replaced by a marker every reader treats as unreadable.
//!
//! Python also writes bare `NaN`, `Infinity` and `-Infinity` for
//! non-finite floats. They are not JSON; rather than lose the whole body,
//! they are read as marker strings that every number lookup reports as
//! non-finite, never as a value.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

/// Prefix of the marker that stands for a key given twice with different values.
pub const CONFLICT: &str = "\u{0}conflict";
/// Prefix of the markers standing for Python's non-finite literals.
pub const NON_FINITE: &str = "\u{0}non-finite:";

/// A key the body gave more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Dotted path of the key, e.g. `checks.degradation.details.global_paused`.
    pub path: String,
    /// Whether the values differ (the key is then unreadable).
    pub conflicting: bool,
}

/// A parsed body and the duplicate keys found in it.
#[derive(Debug)]
pub struct Parsed {
    pub value: Value,
    pub duplicates: Vec<Duplicate>,
}

/// Parse `bytes` as one JSON document, keeping track of duplicate keys.
pub fn parse(bytes: &[u8]) -> Result<Parsed, serde_json::Error> {
    let text = quote_non_finite(bytes);
    let dups = RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(&text);
    let value = Seed {
        path: String::new(),
        dups: &dups,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(Parsed {
        value,
        duplicates: dups.into_inner(),
    })
}

/// What a JSON value says as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num<'a> {
    Finite(f64),
    /// `NaN`, `Infinity` or `-Infinity`, as the body wrote it.
    NonFinite(&'a str),
    NotANumber,
}

/// Read `v` as a number, markers included.
pub fn number(v: &Value) -> Num<'_> {
    match v {
        Value::Number(n) => n.as_f64().map_or(Num::NotANumber, Num::Finite),
        Value::String(s) => s
            .strip_prefix(NON_FINITE)
            .map_or(Num::NotANumber, Num::NonFinite),
        _ => Num::NotANumber,
    }
}

/// Whether `v` is the marker of a key given twice with different values.
pub fn is_conflict(v: &Value) -> bool {
    v.as_str() == Some(CONFLICT)
}

/// Why a number that must be a count, an age, a latency or a rate cannot be
/// one: negative, or not finite. `None` when it is plausible (or not a number).
pub fn implausible(path: &str, v: &Value) -> Option<String> {
    match number(v) {
        Num::NonFinite(t) => Some(format!("{path} is {t}, not a finite number: no evidence")),
        Num::Finite(x) if x < 0.0 => Some(format!(
            "{path} is {x}, negative where only a count, an age or a rate belongs: no evidence"
        )),
        _ => None,
    }
}

/// Whether a details key names a count, an age or a latency.
pub fn is_measure(key: &str) -> bool {
    key.ends_with("_seconds") || key.ends_with("_count") || key.ends_with("_ms")
}

/// The first implausible measure among an object's own keys.
pub fn first_implausible(prefix: &str, obj: &Map<String, Value>) -> Option<String> {
    obj.iter()
        .filter(|(k, _)| is_measure(k))
        .find_map(|(k, v)| implausible(&format!("{prefix}.{k}"), v))
}

/// Rewrite bare `NaN`, `Infinity` and `-Infinity` outside strings into
/// marker strings. Everything else is left byte for byte.
fn quote_non_finite(bytes: &[u8]) -> Cow<'_, [u8]> {
    const WORDS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out: Option<Vec<u8>> = None;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(word) = WORDS.iter().find(|w| bytes[i..].starts_with(w)) {
            let buf = out.get_or_insert_with(|| bytes[..i].to_vec());
            let shown = String::from_utf8_lossy(word);
            buf.extend_from_slice(format!("\"\\u0000non-finite:{shown}\"").as_bytes());
            i += word.len();
            continue;
        }
        if let Some(buf) = out.as_mut() {
            buf.push(b);
        }
        i += 1;
    }
    match out {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(bytes),
    }
}

struct Seed<'a> {
    path: String,
    dups: &'a RefCell<Vec<Duplicate>>,
}

impl Seed<'_> {
    fn child(&self, key: &str) -> Seed<'_> {
        let path = if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        };
        Seed {
            path,
            dups: self.dups,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        let mut i = 0usize;
        while let Some(v) = seq.next_element_seed(self.child(&i.to_string()))? {
            out.push(v);
            i += 1;
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child(&key))?;
            match out.get_mut(&key) {
                Some(prev) => {
                    let conflicting = *prev != value;
                    if conflicting {
                        *prev = Value::String(CONFLICT.to_owned());
                    }
                    let path = self.child(&key).path;
                    self.dups.borrow_mut().push(Duplicate { path, conflicting });
                }
                None => {
                    out.insert(key, value);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflicting_duplicate_is_marked_never_last_wins() {
        let p = parse(br#"{"d": {"global_paused": true, "global_paused": false}}"#).expect("json");
        assert!(is_conflict(&p.value["d"]["global_paused"]));
        assert_eq!(
            p.duplicates,
            vec![Duplicate {
                path: "d.global_paused".into(),
                conflicting: true
            }]
        );
    }

    #[test]
    fn an_identical_duplicate_keeps_its_value_and_is_reported() {
        let p = parse(br#"{"a": 1, "a": 1}"#).expect("json");
        assert_eq!(p.value["a"], 1);
        assert!(!p.duplicates[0].conflicting);
    }

    #[test]
    fn python_non_finite_literals_are_read_as_markers() {
        let p = parse(br#"{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN in a string"}"#)
            .expect("json");
        assert_eq!(number(&p.value["a"]), Num::NonFinite("NaN"));
        assert_eq!(number(&p.value["b"][0]), Num::NonFinite("Infinity"));
        assert_eq!(number(&p.value["b"][1]), Num::NonFinite("-Infinity"));
        assert_eq!(p.value["c"], "NaN in a string");
    }

    #[test]
    fn implausible_measures() {
        assert!(implausible("x", &Value::from(-1.5)).is_some());
        assert!(implausible("x", &Value::from(0.0)).is_none());
        let nan = parse(b"NaN").expect("json").value;
        assert!(implausible("x", &nan).is_some_and(|m| m.contains("NaN")));
        assert!(is_measure("last_message_age_seconds") && is_measure("gap_count"));
        assert!(!is_measure("severity"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(parse(deep.as_bytes()).is_err());
    }
}

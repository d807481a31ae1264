//! Typed payloads: the fields a record kind carries beside the envelope,
//! written from one struct and read back into it, instead of key by key.
//!
//! A payload's fields are flattened into the record's `extra`, so the wire
//! format is the same as a record built field by field: readers that take
//! the JSON keep working, and a reader that takes the type gets every field
//! checked at once.

use crate::record::{RESERVED, Record};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

impl Record {
    /// The record's `extra` read as a payload of type `T`. Strict as `T`
    /// is: a missing required field, a mistyped one or a value its type
    /// refuses (an unknown decision) is an error, never a default.
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.extra)
    }

    /// Add a payload's fields to `extra`, in the payload's field order
    /// (after any extras already there; a field already present keeps its
    /// place and takes the new value). A payload must serialise to an
    /// object whose keys are not the envelope's: anything else is a bug in
    /// the payload type, refused in debug builds and dropped otherwise
    /// (the envelope is never shadowed).
    pub fn with_payload<T: Serialize + ?Sized>(mut self, payload: &T) -> Record {
        match serde_json::to_value(payload) {
            Ok(Value::Object(map)) => {
                for (k, v) in map {
                    debug_assert!(
                        !RESERVED.contains(&k.as_str()),
                        "payload field '{k}' shadows the schema"
                    );
                    if !RESERVED.contains(&k.as_str()) {
                        self.extra.insert(k, v);
                    }
                }
            }
            other => debug_assert!(false, "a payload is not an object: {other:?}"),
        }
        self
    }
}

/// `deserialize_with` for a lenient reading: a field that is present but
/// does not read as `T` (mistyped, out of range) reads as `T::default()`,
/// as if it were absent. For display only (the report): never on a path
/// that decides anything, where a mistyped field must refuse the record.
pub fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let v = Value::deserialize(d)?;
    Ok(T::deserialize(v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::Level;
    use crate::record::Kind;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct P {
        a: u32,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        b: Option<String>,
    }

    #[derive(Debug, Default, PartialEq, Deserialize)]
    struct L {
        #[serde(default, deserialize_with = "lenient")]
        a: Option<u32>,
        #[serde(default, deserialize_with = "lenient")]
        list: Vec<u32>,
    }

    fn rec() -> Record {
        Record::new("t", "x", Kind::Step, "n", Level::Ok)
    }

    #[test]
    fn a_payload_is_flattened_in_order_and_read_back() {
        let r = rec().extra("first", 1).with_payload(&P {
            a: 7,
            b: Some("y".into()),
        });
        let text = serde_json::to_string(&r).expect("json");
        assert!(
            text.ends_with(r#""msg":"","first":1,"a":7,"b":"y"}"#),
            "{text}"
        );
        let back: Record = serde_json::from_str(&text).expect("record");
        assert_eq!(
            back.payload::<P>().expect("payload"),
            P {
                a: 7,
                b: Some("y".into())
            }
        );
        let r = rec().with_payload(&P { a: 1, b: None });
        assert!(!r.extra.contains_key("b"));
    }

    #[test]
    fn the_strict_reading_refuses_missing_and_mistyped_fields() {
        assert!(rec().payload::<P>().is_err());
        assert!(rec().extra("a", "7").payload::<P>().is_err());
        assert!(rec().extra("a", -1).payload::<P>().is_err());
    }

    #[test]
    fn the_lenient_reading_takes_mistyped_fields_as_absent() {
        let l: L = rec()
            .extra("a", "seven")
            .extra("list", "nope")
            .payload()
            .expect("lenient");
        assert_eq!(l, L::default());
        let l: L = rec()
            .extra("a", 3)
            .extra("list", serde_json::json!([1, 2]))
            .payload()
            .expect("lenient");
        assert_eq!(
            l,
            L {
                a: Some(3),
                list: vec![1, 2]
            }
        );
    }
}

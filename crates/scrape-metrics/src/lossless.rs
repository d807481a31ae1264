//! Floats in the state file without loss: JSON has no `+Inf` or `NaN`, and
//! every histogram has a `+Inf` bucket, so non-finite values are written as
//! the strings Prometheus uses (`"+Inf"`, `"-Inf"`, `"NaN"`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

fn to_value(v: f64) -> Value {
    if v.is_finite() {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    } else if v.is_nan() {
        Value::from("NaN")
    } else if v > 0.0 {
        Value::from("+Inf")
    } else {
        Value::from("-Inf")
    }
}

fn from_value<E: serde::de::Error>(v: &Value) -> Result<f64, E> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| E::custom("number out of range")),
        Value::String(s) => {
            crate::exposition::parse_value(s).ok_or_else(|| E::custom(format!("not a number: {s}")))
        }
        other => Err(E::custom(format!("expected a number, got {other}"))),
    }
}

pub mod float {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        to_value(*v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        from_value(&Value::deserialize(d)?)
    }
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(to_value).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(v) => from_value(&v).map(Some),
        }
    }
}

pub mod pairs {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|(a, b)| [to_value(*a), to_value(*b)])
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
        let raw = Vec::<[Value; 2]>::deserialize(d)?;
        raw.iter()
            .map(|[a, b]| Ok((from_value(a)?, from_value(b)?)))
            .collect::<Result<_, D::Error>>()
    }
}

pub mod map {
    use super::*;
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(v: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        // Straight from the map, in its order: no copy of every key.
        s.collect_map(v.iter().map(|(k, x)| (k, to_value(*x))))
    }

    /// Read in the file's order, then built in one pass: the state file
    /// writes the map sorted, and a sorted run becomes a map in linear
    /// time, where inserting each key (a search from the root) took
    /// n log n string comparisons, the most of a `--state` run at 400k
    /// series. A key given twice keeps its last value, as inserting did.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Vec<(String, f64)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of series to numbers")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 16));
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, from_value(&v)?));
                }
                Ok(out)
            }
        }
        Ok(d.deserialize_map(Entries)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct M(#[serde(with = "super::map")] BTreeMap<String, f64>);

    #[test]
    fn maps_round_trip_in_any_order_and_the_last_duplicate_wins() {
        let m: M = serde_json::from_str(r#"{"b":1,"a":"+Inf","c":2.5,"a":3}"#).expect("map");
        let want: BTreeMap<String, f64> =
            [("a".into(), 3.0), ("b".into(), 1.0), ("c".into(), 2.5)].into();
        assert_eq!(m.0, want);
        let text = serde_json::to_string(&m).expect("json");
        assert_eq!(text, r#"{"a":3.0,"b":1.0,"c":2.5}"#);
        let inf: M = serde_json::from_str(r#"{"x":"+Inf","y":"NaN"}"#).expect("map");
        assert_eq!(inf.0["x"], f64::INFINITY);
        assert!(inf.0["y"].is_nan());
        assert!(serde_json::from_str::<M>(r#"{"x":true}"#).is_err());
        assert!(serde_json::from_str::<M>("[1]").is_err());
    }
}

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

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        BTreeMap::<String, Value>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| Ok((k, from_value(&v)?)))
            .collect()
    }
}

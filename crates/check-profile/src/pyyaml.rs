//! PyYAML's implicit resolution of plain scalars (YAML 1.1, `yaml.safe_load`,
//! the bot's parser), and the YAML 1.2 core reading Rust parsers use, so that
//! every scalar the two dialects read differently can be reported.

use serde_json::Value;
use std::fmt;

/// A scalar as Python sees it after `yaml.safe_load`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PyValue {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A YAML 1.1 timestamp (`datetime.date`/`datetime`), kept as written.
    Timestamp(String),
    /// `!!binary`: Python `bytes`, never equal to any `str`; kept as the
    /// base64 text written.
    Bytes(String),
}

impl PyValue {
    /// Python's type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            PyValue::Null => "None",
            PyValue::Bool(_) => "bool",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Str(_) => "str",
            PyValue::Timestamp(_) => "datetime",
            PyValue::Bytes(_) => "bytes",
        }
    }

    /// The value as JSON (non-finite floats become their Python spelling).
    pub fn to_json(&self) -> Value {
        match self {
            PyValue::Null => Value::Null,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(i) => int_json(*i),
            PyValue::Float(f) => float_json(*f),
            PyValue::Str(s) | PyValue::Timestamp(s) => Value::String(s.clone()),
            PyValue::Bytes(b) => Value::String(format!("!!binary {b}")),
        }
    }
}

impl fmt::Display for PyValue {
    /// Python's `repr()`, near enough for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PyValue::Null => f.write_str("None"),
            PyValue::Bool(true) => f.write_str("True"),
            PyValue::Bool(false) => f.write_str("False"),
            PyValue::Int(i) => write!(f, "{i}"),
            PyValue::Float(x) => f.write_str(&py_float_repr(*x)),
            PyValue::Str(s) => f.write_str(&crate::pynum::py_repr(s)),
            PyValue::Timestamp(s) => write!(f, "datetime({s})"),
            PyValue::Bytes(b) => write!(f, "bytes(!!binary {b})"),
        }
    }
}

/// An integer as JSON: exact when it fits in 64 bits.
pub fn int_json(i: i128) -> Value {
    match i64::try_from(i) {
        Ok(v) => Value::from(v),
        Err(_) => Value::from(i as f64),
    }
}

/// A float as JSON; `inf`/`nan` as Python spells them, since JSON cannot.
pub fn float_json(f: f64) -> Value {
    if f.is_finite() {
        Value::from(f)
    } else {
        Value::String(py_float_repr(f))
    }
}

/// Python's `repr()` of a float for the common cases.
pub(crate) fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else if f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

fn is_bool_word(s: &str) -> Option<bool> {
    match s {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

/// `[0-9][0-9_]*(?::[0-5]?[0-9])+` after the sign: a sexagesimal integer head.
fn sexagesimal_parts(s: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 {
        return None;
    }
    let first_ok = !parts[0].is_empty()
        && parts[0].as_bytes()[0].is_ascii_digit()
        && all(parts[0], |b| b.is_ascii_digit() || b == b'_');
    let rest_ok = parts[1..].iter().all(|p| match p.as_bytes() {
        [d] => d.is_ascii_digit(),
        [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
        _ => false,
    });
    (first_ok && rest_ok).then_some(parts)
}

/// The value of `digits` (already checked, `_` included) in `radix`. Python
/// ints have no bound; one past `i128` saturates at `i128::MAX`, so it stays
/// beyond every threshold with its sign, never wraps or reads as 0.
fn saturating_digits(digits: &str, radix: u32) -> i128 {
    digits
        .chars()
        .filter_map(|c| c.to_digit(radix))
        .fold(0i128, |v, d| {
            v.saturating_mul(radix.into()).saturating_add(d.into())
        })
}

fn resolve_int(s: &str) -> Option<i128> {
    let (neg, body) = split_sign(s);
    let b = body.as_bytes();
    let apply = |v: i128| Some(if neg { -v } else { v });
    if let Some(bin) = body.strip_prefix("0b") {
        if !bin.is_empty() && all(bin, |c| c == b'0' || c == b'1' || c == b'_') {
            return apply(saturating_digits(bin, 2));
        }
        return None;
    }
    if let Some(hex) = body.strip_prefix("0x") {
        if !hex.is_empty() && all(hex, |c| c.is_ascii_hexdigit() || c == b'_') {
            return apply(saturating_digits(hex, 16));
        }
        return None;
    }
    if b.len() > 1 && b[0] == b'0' && all(&body[1..], |c| (b'0'..=b'7').contains(&c) || c == b'_') {
        return apply(saturating_digits(body, 8));
    }
    if body == "0"
        || (!b.is_empty()
            && (b'1'..=b'9').contains(&b[0])
            && all(body, |c| c.is_ascii_digit() || c == b'_'))
    {
        return apply(saturating_digits(body, 10));
    }
    if !b.is_empty()
        && (b'1'..=b'9').contains(&b[0])
        && let Some(parts) = sexagesimal_parts(body)
    {
        let mut v: i128 = 0;
        for p in parts {
            v = v
                .saturating_mul(60)
                .saturating_add(saturating_digits(p, 10));
        }
        return apply(v);
    }
    None
}

fn resolve_float(s: &str) -> Option<f64> {
    match s {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let (neg, body) = split_sign(s);
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        _ => {}
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    // [0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*  (sexagesimal float)
    if let Some((head, frac)) = body.rsplit_once('.')
        && head.contains(':')
        && all(frac, |c| c.is_ascii_digit() || c == b'_')
    {
        let parts = sexagesimal_parts(head)?;
        let mut v = 0.0;
        for p in parts {
            let d: String = p.chars().filter(|&c| c != '_').collect();
            v = v * 60.0 + d.parse::<f64>().unwrap_or(0.0);
        }
        let f: String = frac.chars().filter(|&c| c != '_').collect();
        let fraction = format!("0.{f}").parse::<f64>().unwrap_or(0.0);
        return Some(sign * (v + fraction));
    }
    // (?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?  or (unsigned) \.[0-9][0-9_]*(...)?
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let exp_ok = exponent.is_none_or(|e| {
        e.len() > 1
            && (e.starts_with('+') || e.starts_with('-'))
            && all(&e[1..], |c| c.is_ascii_digit())
    });
    let (int_part, frac) = mantissa.split_once('.')?;
    let digitish = |p: &str| all(p, |c| c.is_ascii_digit() || c == b'_');
    let mantissa_ok = if int_part.is_empty() {
        !neg && !s.starts_with('+')
            && frac.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && digitish(frac)
    } else {
        int_part.as_bytes()[0].is_ascii_digit() && digitish(int_part) && digitish(frac)
    };
    if !(mantissa_ok && exp_ok) {
        return None;
    }
    clean.parse::<f64>().ok().map(|v| sign * v)
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if b.len() == 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
    {
        return true;
    }
    // A date followed by a time: PyYAML's long form. Approximate by its head.
    b.len() > 10
        && digits(0..4)
        && b[4] == b'-'
        && s[5..].contains(['T', 't', ' '])
        && s.contains(':')
}

/// What `yaml.safe_load` makes of a plain scalar.
pub(crate) fn resolve_plain(s: &str) -> PyValue {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") {
        return PyValue::Null;
    }
    if let Some(b) = is_bool_word(s) {
        return PyValue::Bool(b);
    }
    if let Some(f) = resolve_float(s) {
        return PyValue::Float(f);
    }
    if let Some(i) = resolve_int(s) {
        return PyValue::Int(i);
    }
    if is_timestamp(s) {
        return PyValue::Timestamp(s.to_owned());
    }
    PyValue::Str(s.to_owned())
}

/// Why `yaml.safe_load` raises on a scalar resolved as plain, though
/// `resolve_plain` gives it a value: `0x_`/`0b_` resolve to an int whose
/// digits are all `_`, so `int('', 16)` raises. (`=` and `<<` depend on
/// where they stand; `yaml.rs` judges them.)
pub(crate) fn plain_refused(s: &str) -> Option<&'static str> {
    let (_, body) = split_sign(s);
    let no_digits = |p| {
        body.strip_prefix(p)
            .is_some_and(|d| !d.is_empty() && all(d, |c| c == b'_'))
    };
    (no_digits("0x") || no_digits("0b"))
        .then_some("an int with no digits after 0x or 0b: int() raises ValueError")
}

/// What a YAML 1.2 core-schema parser makes of the same plain scalar.
pub(crate) fn resolve_plain_yaml12(s: &str) -> PyValue {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return PyValue::Null,
        "true" | "True" | "TRUE" => return PyValue::Bool(true),
        "false" | "False" | "FALSE" => return PyValue::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return PyValue::Float(f64::NAN),
        _ => {}
    }
    let (neg, body) = split_sign(s);
    let sign = if neg { -1 } else { 1 };
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return PyValue::Float(sign as f64 * f64::INFINITY);
    }
    if !body.is_empty() && all(body, |c| c.is_ascii_digit()) {
        return PyValue::Int(sign * body.parse::<i128>().unwrap_or(i128::MAX));
    }
    if s == body {
        if let Some(o) = s
            .strip_prefix("0o")
            .filter(|o| !o.is_empty() && all(o, |c| (b'0'..=b'7').contains(&c)))
        {
            return PyValue::Int(i128::from_str_radix(o, 8).unwrap_or(i128::MAX));
        }
        if let Some(h) = s
            .strip_prefix("0x")
            .filter(|h| !h.is_empty() && all(h, |c| c.is_ascii_hexdigit()))
        {
            return PyValue::Int(i128::from_str_radix(h, 16).unwrap_or(i128::MAX));
        }
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let exp_ok = exponent.is_none_or(|e| {
        let d = e.strip_prefix(['+', '-']).unwrap_or(e);
        !d.is_empty() && all(d, |c| c.is_ascii_digit())
    });
    let mant_ok = match mantissa.split_once('.') {
        Some(("", f)) => !f.is_empty() && all(f, |c| c.is_ascii_digit()),
        Some((i, f)) => {
            !i.is_empty() && all(i, |c| c.is_ascii_digit()) && all(f, |c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && all(mantissa, |c| c.is_ascii_digit()),
    };
    if mant_ok
        && exp_ok
        && let Ok(v) = s.parse::<f64>()
    {
        return PyValue::Float(v);
    }
    PyValue::Str(s.to_owned())
}

/// True when the two dialects agree on a plain scalar.
pub(crate) fn dialects_agree(s: &str) -> bool {
    let (a, b) = (resolve_plain(s), resolve_plain_yaml12(s));
    match (&a, &b) {
        (PyValue::Float(x), PyValue::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (PyValue::Timestamp(_), _) => false,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expectations checked against PyYAML 6.0 `yaml.safe_load`.
    #[test]
    fn resolves_like_pyyaml() {
        let cases = [
            ("yes", PyValue::Bool(true)),
            ("Off", PyValue::Bool(false)),
            ("y", PyValue::Str("y".into())),
            ("010", PyValue::Int(8)),
            ("09", PyValue::Str("09".into())),
            ("14:00", PyValue::Int(840)),
            ("1_000", PyValue::Int(1000)),
            ("0x10", PyValue::Int(16)),
            ("0o17", PyValue::Str("0o17".into())),
            ("1e3", PyValue::Str("1e3".into())),
            ("1.0e+3", PyValue::Float(1000.0)),
            ("1.0", PyValue::Float(1.0)),
            ("1.", PyValue::Float(1.0)),
            (".5", PyValue::Float(0.5)),
            ("-.inf", PyValue::Float(f64::NEG_INFINITY)),
            ("0.001", PyValue::Float(0.001)),
            ("+1", PyValue::Int(1)),
            ("~", PyValue::Null),
            ("reduce_only", PyValue::Str("reduce_only".into())),
            ("2024-01-02", PyValue::Timestamp("2024-01-02".into())),
            ("1:30.5", PyValue::Float(90.5)),
            ("+.5", PyValue::Str("+.5".into())),
            ("0b101", PyValue::Int(5)),
            ("0_7", PyValue::Int(7)),
            ("1.0e3", PyValue::Str("1.0e3".into())),
        ];
        for (s, want) in cases {
            assert_eq!(resolve_plain(s), want, "{s:?}");
        }
        // Past i128 (Python's ints have no bound): saturated with the sign,
        // never wrapped or read as 0.
        for (s, want) in [
            (format!("0b{}", "1".repeat(140)), i128::MAX),
            (format!("-0b{}", "1".repeat(140)), -i128::MAX),
            (format!("{}:00", "9".repeat(45)), i128::MAX),
            (format!("1{}:00", "0".repeat(40)), i128::MAX),
            (format!("0x{}", "f".repeat(40)), i128::MAX),
            (format!("0{}", "7".repeat(60)), i128::MAX),
            ("9".repeat(45), i128::MAX),
        ] {
            assert_eq!(resolve_plain(&s), PyValue::Int(want), "{s:?}");
        }
    }

    #[test]
    fn reports_dialect_differences() {
        for s in [
            "yes",
            "on",
            "010",
            "14:00",
            "1e3",
            "0o17",
            "1_000",
            "2024-01-02",
        ] {
            assert!(!dialects_agree(s), "{s:?} reads differently");
        }
        for s in [
            "1.0",
            "1",
            "true",
            "0.001",
            "reduce_only",
            "-.inf",
            ".nan",
            "",
        ] {
            assert!(dialects_agree(s), "{s:?} reads the same");
        }
    }
}

//! Explicit YAML tags, judged the way the bot's `yaml.safe_load` (PyYAML's
//! `SafeLoader`) judges them.
//!
//! `SafeLoader` constructs only the YAML 1.1 types: `!!null`, `!!bool`,
//! `!!int`, `!!float`, `!!str`, `!!binary`, `!!timestamp`, `!!set`,
//! `!!omap`, `!!pairs`, `!!seq` and `!!map`. Any other tag (`!Ref`,
//! `!secret`, `!!python/name:…`, a `%TAG` handle) raises a
//! `ConstructorError`, and so does a standard tag on a value it cannot
//! construct (`!!int 1.0`, `!!map` on a scalar). Either way the whole load
//! fails and the bot silently runs its hard-coded profile. The parser reports
//! each tag on its node event; `yaml.rs` hands them here.

use crate::pynum::{py_float, py_int};
use crate::pyyaml::{self, PyValue};
use granit_parser::{ScalarStyle, Span, Tag};
use std::fmt;

const CORE: &str = "tag:yaml.org,2002:";

/// The kind of node a tag is written on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Scalar,
    Seq,
    Map,
}

impl Shape {
    fn noun(self) -> &'static str {
        match self {
            Shape::Scalar => "a scalar",
            Shape::Seq => "a sequence",
            Shape::Map => "a mapping",
        }
    }
}

/// What `SafeLoader` does with one tagged node.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A scalar constructed to this value.
    Value(PyValue),
    /// A `!!set` mapping: Python gets a `set` of its keys, not a dict.
    SetOfKeys,
    /// A collection built as it would be untagged.
    Unchanged,
    /// `SafeLoader` raises: the bot falls back to its hard-coded profile.
    Refused(String),
}

/// One explicit tag in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TagUse {
    /// The tag as written (`!Ref`, `!!python/name:os.system`).
    pub written: String,
    pub line: u64,
    pub col: u64,
    pub shape: Shape,
    pub outcome: Outcome,
    /// The suffix of a tag in the YAML namespace (`int` for `!!int`).
    core: Option<String>,
}

impl TagUse {
    /// The suffix of a tag in the YAML namespace (`omap` for `!!omap`).
    pub(crate) fn core(&self) -> Option<&str> {
        self.core.as_deref()
    }

    /// Why `SafeLoader` refuses it (empty when it does not).
    pub fn why(&self) -> String {
        match &self.outcome {
            Outcome::Refused(why) => format!("tag {}: {why}", self.written),
            _ => String::new(),
        }
    }
}

impl fmt::Display for TagUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Refused(why) => write!(
                f,
                "tag {} at line {}:{}: {why}",
                self.written, self.line, self.col
            ),
            _ => write!(f, "tag {} at line {}:{}", self.written, self.line, self.col),
        }
    }
}

/// Read one explicit tag the parser reported on a node: where it is
/// written and what `SafeLoader` does with it.
pub(crate) fn read(
    tag: &Tag,
    span: &Span,
    shape: Shape,
    scalar: Option<(&str, ScalarStyle)>,
) -> TagUse {
    let at = span.tag_start.unwrap_or(span.start);
    let written =
        if tag.original_handle().is_empty() && tag.handle().is_empty() && tag.suffix() == "!" {
            "!".to_owned()
        } else if tag.original_handle().is_empty() {
            format!("!<{}{}>", tag.handle(), tag.suffix())
        } else {
            format!("{}{}", tag.original_handle(), tag.suffix())
        };
    TagUse {
        written,
        line: at.line() as u64,
        col: at.col() as u64 + 1,
        shape,
        outcome: judge(tag.handle(), tag.suffix(), shape, scalar),
        core: tag.handle().eq(CORE).then(|| tag.suffix().to_owned()),
    }
}

/// Why PyYAML's scanner fails on the tag written at byte `at` of `src`, or
/// reads it longer than a YAML 1.2 parser does. Its tag runs over URI
/// characters, `,`, `[` and `]` included, up to a space or line end; any
/// other character there (`}` in `{a: !}`, `"`) is a `ScannerError`, and
/// `[!!str, x]` tags its item `tag:yaml.org,2002:str,`, which no
/// constructor takes. Either way the bot's load fails.
pub(crate) fn scan_error(src: &str, at: usize) -> Option<String> {
    let rest = src.get(at..)?;
    let breaks = |c: char| {
        matches!(
            c,
            ' ' | '\r' | '\n' | '\0' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    };
    let run = &rest[..rest.find(breaks).unwrap_or(rest.len())];
    let bad = if let Some(verbatim) = run.strip_prefix("!<") {
        // `!<...>` ends at its `>`, which a space or line end must follow.
        verbatim
            .find('>')
            .and_then(|end| verbatim[end + 1..].chars().next())
    } else {
        let uri = |c: char| c.is_ascii_alphanumeric() || "-;/?:@&=+$_.!~*'()%".contains(c);
        run.chars().find(|&c| !uri(c))
    };
    bad.map(|c| {
        format!(
            "PyYAML's scanner reads the tag as {run:?} and fails or finds no constructor at {c:?} (it wants a space after a tag)"
        )
    })
}

/// `SafeLoader`'s constructor for one tag on one node.
fn judge(handle: &str, suffix: &str, shape: Shape, scalar: Option<(&str, ScalarStyle)>) -> Outcome {
    // The non-specific tag `!`: PyYAML resolves the value as if it were
    // plain, even when it is quoted.
    if format!("{handle}{suffix}") == "!" {
        return match scalar {
            Some((v, _)) => Outcome::Value(pyyaml::resolve_plain(v)),
            None => Outcome::Unchanged,
        };
    }
    let full = format!("{handle}{suffix}");
    let Some(core) = full.strip_prefix(CORE) else {
        return Outcome::Refused(format!(
            "yaml.safe_load has no constructor for the tag '{full}' (a tag of another loader or application)"
        ));
    };
    let wrong = |want: Shape| {
        Outcome::Refused(format!(
            "!!{core} expects {} but is written on {}",
            want.noun(),
            shape.noun()
        ))
    };
    match (core, shape, scalar) {
        ("map", Shape::Map, _) | ("seq", Shape::Seq, _) => Outcome::Unchanged,
        ("omap" | "pairs", Shape::Seq, _) => Outcome::Unchanged,
        ("set", Shape::Map, _) => Outcome::SetOfKeys,
        ("map" | "set", _, _) => wrong(Shape::Map),
        ("seq" | "omap" | "pairs", _, _) => wrong(Shape::Seq),
        ("null" | "bool" | "int" | "float" | "str" | "binary" | "timestamp", _, Some((v, _))) => {
            construct(core, v)
        }
        ("null" | "bool" | "int" | "float" | "str" | "binary" | "timestamp", _, None) => {
            wrong(Shape::Scalar)
        }
        _ => Outcome::Refused(format!(
            "yaml.safe_load has no constructor for the tag 'tag:yaml.org,2002:{core}'"
        )),
    }
}

/// `construct_yaml_<core>` on a scalar's value.
fn construct(core: &str, v: &str) -> Outcome {
    let fail =
        |why: String| Outcome::Refused(format!("!!{core} {}: {why}", crate::pynum::py_repr(v)));
    match core {
        "null" => Outcome::Value(PyValue::Null),
        "str" => Outcome::Value(PyValue::Str(v.to_owned())),
        "bool" => match v.to_lowercase().as_str() {
            "yes" | "true" | "on" => Outcome::Value(PyValue::Bool(true)),
            "no" | "false" | "off" => Outcome::Value(PyValue::Bool(false)),
            _ => fail("not one of yes/no/true/false/on/off (KeyError)".into()),
        },
        "int" => match construct_int(v) {
            Some(i) => Outcome::Value(PyValue::Int(i)),
            None => fail("int() raises ValueError".into()),
        },
        "float" => match construct_float(v) {
            Some(f) => Outcome::Value(PyValue::Float(f)),
            None => fail("float() raises ValueError".into()),
        },
        "timestamp" => {
            if pyyaml::resolve_plain(v) == PyValue::Timestamp(v.to_owned()) {
                Outcome::Value(PyValue::Timestamp(v.to_owned()))
            } else {
                fail("not a YAML timestamp".into())
            }
        }
        _ => {
            // "binary": `base64.decodebytes`, which skips characters outside
            // the alphabet but wants the data padded. Python bytes, never a
            // str.
            let data = v
                .bytes()
                .filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
                .count();
            let pads = v.bytes().filter(|b| *b == b'=').count();
            let padded = match data % 4 {
                0 => true,
                2 => pads >= 2,
                3 => pads >= 1,
                _ => false,
            };
            if padded {
                Outcome::Value(PyValue::Bytes(v.split_whitespace().collect()))
            } else {
                fail("not valid base64 (binascii.Error)".into())
            }
        }
    }
}

/// PyYAML's `construct_yaml_int`.
fn construct_int(v: &str) -> Option<i128> {
    let value: String = v.chars().filter(|&c| c != '_').collect();
    let (sign, body) = match value.as_bytes().first()? {
        b'-' => (-1, &value[1..]),
        b'+' => (1, &value[1..]),
        _ => (1, value.as_str()),
    };
    let magnitude = if body == "0" {
        0
    } else if let Some(b) = body.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()?
    } else if let Some(h) = body.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if body.starts_with('0') {
        // `int(value, 8)`, which also takes a `0o` prefix.
        let o = body
            .strip_prefix("0o")
            .or_else(|| body.strip_prefix("0O"))
            .unwrap_or(body);
        i128::from_str_radix(o, 8).ok()?
    } else if body.contains(':') {
        let mut total: i128 = 0;
        for part in body.split(':') {
            total = total.checked_mul(60)?.checked_add(py_int(part).ok()?)?;
        }
        total
    } else {
        py_int(body).ok()?
    };
    Some(sign * magnitude)
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(v: &str) -> Option<f64> {
    let value: String = v
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .to_lowercase();
    let (sign, body) = match value.as_bytes().first()? {
        b'-' => (-1.0, &value[1..]),
        b'+' => (1.0, &value[1..]),
        _ => (1.0, value.as_str()),
    };
    let magnitude = match body {
        ".inf" => f64::INFINITY,
        ".nan" => f64::NAN,
        _ if body.contains(':') => {
            let mut total = 0.0;
            for part in body.split(':') {
                total = total * 60.0 + py_float(part).ok()?;
            }
            total
        }
        _ => py_float(body).ok()?,
    };
    Some(sign * magnitude)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(src: &str) -> Vec<TagUse> {
        crate::yaml::parse(src).expect("parses").tags
    }

    fn outcomes(src: &str) -> Vec<(String, Outcome)> {
        scan(src)
            .into_iter()
            .map(|u| (u.written, u.outcome))
            .collect()
    }

    fn refused(src: &str) -> bool {
        scan(src)
            .iter()
            .any(|u| matches!(u.outcome, Outcome::Refused(_)))
    }

    #[test]
    fn foreign_tags_are_refused() {
        for src in [
            "a: !Ref other\n",
            "a: !secret api_key\n",
            "a: !!python/name:os.system\n",
            "a: !!python/object/apply:os.system [ls]\n",
            "a: !Ref {b: 1}\n",
            "%TAG !e! tag:example.com,2000:\n---\na: !e!thing 1\n",
            "a: !<tag:example.com,2000:x> 1\n",
            "a: !!merge {b: 1}\n",
            "a: !!value 1\n",
        ] {
            assert!(refused(src), "{src:?} must be refused");
        }
    }

    #[test]
    fn standard_tags_construct_like_safe_load() {
        let got = outcomes(
            "a: !!str 5\nb: !!int \"5\"\nc: !!float 1\nd: !!bool yes\ne: !!null x\nf: !!int 0x10\ng: !!int 010\nh: !!float 1e3\ni: ! 5\nj: !!map {x: 1}\nk: !!seq [1]\nl: !!set {x, y}\nm: !!omap [{x: 1}]\nn: !<tag:yaml.org,2002:int> 7\no: !!timestamp 2024-01-02\np: !!binary aGk=\n",
        );
        let want = [
            Outcome::Value(PyValue::Str("5".into())),
            Outcome::Value(PyValue::Int(5)),
            Outcome::Value(PyValue::Float(1.0)),
            Outcome::Value(PyValue::Bool(true)),
            Outcome::Value(PyValue::Null),
            Outcome::Value(PyValue::Int(16)),
            Outcome::Value(PyValue::Int(8)),
            Outcome::Value(PyValue::Float(1000.0)),
            Outcome::Value(PyValue::Int(5)),
            Outcome::Unchanged,
            Outcome::Unchanged,
            Outcome::SetOfKeys,
            Outcome::Unchanged,
            Outcome::Value(PyValue::Int(7)),
            Outcome::Value(PyValue::Timestamp("2024-01-02".into())),
            Outcome::Value(PyValue::Bytes("aGk=".into())),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((tag, g), w) in got.iter().zip(want) {
            assert_eq!(g, &w, "{tag}");
        }
    }

    #[test]
    fn standard_tags_on_values_they_cannot_construct_are_refused() {
        for src in [
            "a: !!int 1.0\n",
            "a: !!int abc\n",
            "a: !!float abc\n",
            "a: !!bool maybe\n",
            "a: !!map 1\n",
            "a: !!seq {b: 1}\n",
            "a: !!str [1]\n",
            "a: !!timestamp soon\n",
            "a: !!binary 'aGk'\n",
            "a: !!omap [{x: 1, y: 2}]\n",
            "a: !!pairs [1]\n",
            "a: !!omap [{}]\n",
        ] {
            assert!(refused(src), "{src:?} must be refused");
        }
        assert!(!refused(
            "a: !!int 1_000\nb: !!float -.inf\nc: !!int 0o17\nd: !!binary '***'\ne: !!pairs [{x: 1}, {x: 2}]\n"
        ));
    }

    #[test]
    fn positions_point_at_the_tag() {
        let t = scan("x: 1\ntrading:\n  mode: !Ref m\n");
        let u = &t[0];
        assert_eq!((u.line, u.col, u.written.as_str()), (3, 9, "!Ref"));
    }
}

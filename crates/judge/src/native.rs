//! The built-in rule filters, evaluated natively.
//!
//! The rules stay data: a filter is jq text, in the default rules or a
//! `--rules` file. When a filter's text (its whitespace outside string
//! literals aside) is one of the shapes below, judge evaluates it in Rust
//! instead of running jaq over a jq copy of the record: the same answer
//! (a test runs both over generated records), a fraction of the cost. Any
//! other text, and any record a shape cannot decide the way jq would (jq
//! would fail on it), goes to jaq (docs/judge.md, "Rules as jq").

use crate::eval::{EvalError, Outcome, threshold_table};
use canary_core::{Kind, Level, Phase, Record};
use serde_json::Value;

/// A filter shape judge evaluates natively.
#[derive(Debug, Clone, PartialEq)]
pub enum Native {
    /// `is_crit`
    IsCrit,
    /// `evidence`
    Evidence,
    /// `at_least(T)`, T being `$thresholds.NAME.warn|crit` or a number
    AtLeast(f64),
    /// `select(.kind != "error") | evidence`
    EvidenceUnlessError,
    /// `select(.kind != "error") | false`
    ClearUnlessError,
    /// `true`
    Always,
    /// `if known and .attributed == "guard_trips" then false else is_crit end`
    CritUnlessAttributed,
    /// `select(known) | .attributed == "guard_trips"`
    Attributed,
    /// reduce-only-mode's filter: `.value != ($phase == "a")` when boolean.
    ReduceOnly { phase_a: bool },
    /// nonrecoverable-guard-trips' filter on `.nonrecoverable`.
    Nonrecoverable,
    /// `if [.kind != "signal" or] .name == "A" or .name == "B" … then empty
    /// else is_crit end`: `is_crit` but for the named records (and, with
    /// `signal_only`, but for every record that is not a signal).
    CritExceptNamed {
        signal_only: bool,
        names: Box<[String]>,
    },
    /// `if .name == "N" then X else Y end`, X and Y each `is_crit` or
    /// `at_least(T)`.
    IfName {
        name: String,
        then: Box<Native>,
        els: Box<Native>,
    },
    /// What the evidence proves when the record says (`proven_level`),
    /// else `at_least(T)`: `if known and (.proven_level | type) == "string"
    /// then .proven_level == "crit" [or .proven_level == "warn"] else
    /// at_least(T) end`.
    Proven { warn_too: bool, t: f64 },
    /// broker-latency-warn's filter: as `Proven` with `warn_too`, and a
    /// p95 bucket not wholly at or below `upper` fires too.
    ProvenBucket { upper: f64, t: f64 },
    /// `.level == "L"`
    LevelIs(String),
    /// `select(known) | .level == "L"`
    KnownLevelIs(String),
    /// unknown-evidence's filter.
    UnknownEvidence,
}

/// The shapes recognised by their whole text (normalised).
const SHAPES: &[(&str, Native)] = &[
    ("is_crit", Native::IsCrit),
    ("evidence", Native::Evidence),
    (
        r#"select(.kind != "error") | evidence"#,
        Native::EvidenceUnlessError,
    ),
    (
        r#"select(.kind != "error") | false"#,
        Native::ClearUnlessError,
    ),
    ("true", Native::Always),
    (
        r#"if known and .attributed == "guard_trips" then false else is_crit end"#,
        Native::CritUnlessAttributed,
    ),
    (
        r#"select(known) | .attributed == "guard_trips""#,
        Native::Attributed,
    ),
    (
        r#"if known and (.nonrecoverable | type) == "number" and .nonrecoverable >= 0 then .nonrecoverable > 0 else null end"#,
        Native::Nonrecoverable,
    ),
    (
        r#"if (.details.total_submissions == 0) or (.details.submission_count == 0) or (.name == "health.signal.broker_latency_p95" and .value == 0) then false else unknown_evidence end"#,
        Native::UnknownEvidence,
    ),
];

/// reduce-only-mode's filter; it reads `$phase`, bound at compile time.
const REDUCE_ONLY: &str =
    r#"if known and (.value | type) == "boolean" then .value != ($phase == "a") else null end"#;

/// The opening every `proven_level` reading shares.
const PROVEN_IF: &str = r#"if known and (.proven_level | type) == "string" then "#;
const PROVEN_CRIT: &str = r#".proven_level == "crit""#;
const PROVEN_WARN: &str = r#".proven_level == "warn" or .proven_level == "crit""#;
const BUCKET_OPEN: &str = r#"(.proven_level == "warn" or .proven_level == "crit" or (.bucket_ms | type) != "object" or .bucket_ms.upper == null or .bucket_ms.upper > "#;

/// `code` with every run of whitespace outside string literals made one
/// space, and none at either end.
pub fn normalise(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let (mut in_str, mut escaped, mut space) = (false, false, false);
    for c in code.trim().chars() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// A threshold as the rules write it: `$thresholds.NAME.warn|crit`, or a
/// plain decimal literal as jq reads it.
fn threshold(arg: &str) -> Option<f64> {
    if let Some(path) = arg.strip_prefix("$thresholds.") {
        let (name, level) = path.split_once('.')?;
        let (_, t) = threshold_table().find(|(n, _)| *n == name)?;
        return match level {
            "warn" => Some(t.warn),
            "crit" => Some(t.crit),
            _ => None,
        };
    }
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    arg.parse().ok().filter(|t: &f64| plain && t.is_finite())
}

/// The threshold at the start of `text` and what follows it.
fn threshold_prefix(text: &str) -> Option<(f64, &str)> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '$' | '_' | '.' | '-')))
        .unwrap_or(text.len());
    Some((threshold(&text[..end])?, &text[end..]))
}

/// The plain string literal (no escapes) at the start of `text`, and what
/// follows it.
fn string_prefix(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.find('"')?;
    let lit = &body[..end];
    (!lit.contains('\\')).then(|| (lit, &body[end + 1..]))
}

/// `is_crit` or `at_least(T)`: the branches `IfName` takes.
fn atom(text: &str) -> Option<Native> {
    if text == "is_crit" {
        return Some(Native::IsCrit);
    }
    let arg = text.strip_prefix("at_least(")?.strip_suffix(')')?.trim();
    Some(Native::AtLeast(threshold(arg)?))
}

/// `if .name == "N" then X else Y end`
fn if_name(text: &str) -> Option<Native> {
    let (name, rest) = string_prefix(text.strip_prefix("if .name == ")?)?;
    let (then, rest) = rest.strip_prefix(" then ")?.split_once(' ')?;
    let els = rest.strip_prefix("else ")?.strip_suffix(" end")?;
    Some(Native::IfName {
        name: name.to_owned(),
        then: Box::new(atom(then)?),
        els: Box::new(atom(els)?),
    })
}

/// `if [.kind != "signal" or] .name == "A" or … then empty else is_crit end`
fn crit_except_named(text: &str) -> Option<Native> {
    let mut rest = text.strip_prefix("if ")?;
    let signal_only = match rest.strip_prefix(r#".kind != "signal" or "#) {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    let mut names = Vec::new();
    loop {
        let (name, r) = string_prefix(rest.strip_prefix(".name == ")?)?;
        names.push(name.to_owned());
        if let Some(r) = r.strip_prefix(" or ") {
            rest = r;
            continue;
        }
        r.eq(" then empty else is_crit end").then_some(())?;
        break;
    }
    Some(Native::CritExceptNamed {
        signal_only,
        names: names.into(),
    })
}

/// The `proven_level` readings.
fn proven(text: &str) -> Option<Native> {
    let rest = text.strip_prefix(PROVEN_IF)?;
    let at_least = |r: &str| {
        let arg = r.strip_prefix(" else at_least(")?.strip_suffix(") end")?;
        threshold(arg)
    };
    if let Some(r) = rest.strip_prefix(PROVEN_WARN) {
        return Some(Native::Proven {
            warn_too: true,
            t: at_least(r)?,
        });
    }
    if let Some(r) = rest.strip_prefix(PROVEN_CRIT) {
        return Some(Native::Proven {
            warn_too: false,
            t: at_least(r)?,
        });
    }
    let (upper, r) = threshold_prefix(rest.strip_prefix(BUCKET_OPEN)?)?;
    Some(Native::ProvenBucket {
        upper,
        t: at_least(r.strip_prefix(')')?)?,
    })
}

/// `.level == "L"` and `select(known) | .level == "L"`
fn level_is(text: &str) -> Option<Native> {
    let (known, rest) = match text.strip_prefix("select(known) | ") {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (l, r) = string_prefix(rest.strip_prefix(".level == ")?)?;
    r.is_empty().then_some(())?;
    Some(if known {
        Native::KnownLevelIs(l.to_owned())
    } else {
        Native::LevelIs(l.to_owned())
    })
}

impl Native {
    /// The native shape of filter `code` compiled for `phase`, if it has one.
    pub fn recognise(code: &str, phase: Phase) -> Option<Native> {
        let text = normalise(code);
        if let Some((_, n)) = SHAPES.iter().find(|(s, _)| *s == text) {
            return Some(n.clone());
        }
        if text == REDUCE_ONLY {
            return Some(Native::ReduceOnly {
                phase_a: phase == Phase::A,
            });
        }
        atom(&text)
            .filter(|n| matches!(n, Native::AtLeast(_)))
            .or_else(|| if_name(&text))
            .or_else(|| crit_except_named(&text))
            .or_else(|| proven(&text))
            .or_else(|| level_is(&text))
    }

    /// What the filter says of `rec`, as jaq would: `Some(outcome)`, with
    /// `Ok(None)` for no output (not evidence); `None` when the record is one
    /// the shape leaves to jaq (where jq would fail, so its error is jaq's).
    pub fn eval(&self, rec: &Record) -> Option<Result<Option<Outcome>, EvalError>> {
        let known = rec.kind != Kind::Error && rec.level != Level::Unknown;
        let is_crit = || {
            if known {
                bool_of(rec.level == Level::Crit)
            } else {
                Outcome::Unknown
            }
        };
        let at_least = |t: f64| match (&rec.value, known) {
            (Value::Number(n), true) => bool_of(n.as_f64().is_some_and(|v| v >= t)),
            _ => Outcome::Unknown,
        };
        let evidence = if known {
            Outcome::Clear
        } else {
            Outcome::Unknown
        };
        let attributed =
            || rec.extra.get("attributed").and_then(Value::as_str) == Some("guard_trips");
        // `known and (.proven_level | type) == "string"`: the level the
        // evidence proves, when the record states one.
        let proven_level = || match rec.extra.get("proven_level") {
            Some(Value::String(s)) if known => Some(s.as_str()),
            _ => None,
        };
        let out = match self {
            Native::IsCrit => Some(is_crit()),
            Native::Evidence => Some(evidence),
            Native::AtLeast(t) => Some(at_least(*t)),
            Native::EvidenceUnlessError => (rec.kind != Kind::Error).then_some(evidence),
            Native::ClearUnlessError => (rec.kind != Kind::Error).then_some(Outcome::Clear),
            Native::Always => Some(Outcome::Fire),
            Native::CritUnlessAttributed => Some(if known && attributed() {
                Outcome::Clear
            } else {
                is_crit()
            }),
            Native::Attributed => known.then(|| bool_of(attributed())),
            Native::ReduceOnly { phase_a } => Some(match (&rec.value, known) {
                (Value::Bool(b), true) => bool_of(b != phase_a),
                _ => Outcome::Unknown,
            }),
            Native::Nonrecoverable => Some(match (rec.extra.get("nonrecoverable"), known) {
                (Some(Value::Number(n)), true) => match n.as_f64() {
                    Some(v) if v >= 0.0 => bool_of(v > 0.0),
                    _ => Outcome::Unknown,
                },
                _ => Outcome::Unknown,
            }),
            Native::CritExceptNamed { signal_only, names } => {
                let skip = (*signal_only && rec.kind != Kind::Signal) || names.contains(&rec.name);
                (!skip).then(is_crit)
            }
            Native::IfName { name, then, els } => {
                let branch = if rec.name == *name { then } else { els };
                return branch.eval(rec);
            }
            Native::Proven { warn_too, t } => Some(match proven_level() {
                Some(l) => bool_of(l == "crit" || (*warn_too && l == "warn")),
                None => at_least(*t),
            }),
            Native::ProvenBucket { upper, t } => Some(match proven_level() {
                Some(l) => bool_of(l == "warn" || l == "crit" || bucket_reaches_past(rec, *upper)),
                None => at_least(*t),
            }),
            Native::LevelIs(l) => Some(bool_of(rec.level.as_str() == l)),
            Native::KnownLevelIs(l) => known.then(|| bool_of(rec.level.as_str() == l)),
            Native::UnknownEvidence => {
                let zero = |v: Option<&Value>| v.and_then(Value::as_f64) == Some(0.0);
                let none = match rec.extra.get("details") {
                    None | Some(Value::Null) => false,
                    Some(Value::Object(d)) => {
                        zero(d.get("total_submissions")) || zero(d.get("submission_count"))
                    }
                    // `.details.x` of a string, array, number or boolean is a
                    // jq error: jaq's to report.
                    Some(_) => return None,
                };
                let none = none
                    || (rec.name == "health.signal.broker_latency_p95" && zero(Some(&rec.value)));
                Some(if none {
                    Outcome::Clear
                } else {
                    bool_of(!known)
                })
            }
        };
        Some(Ok(out))
    }
}

/// `(.bucket_ms | type) != "object" or .bucket_ms.upper == null or
/// .bucket_ms.upper > upper`, with jq's order across types: null and
/// booleans sort below every number, strings, arrays and objects above.
fn bucket_reaches_past(rec: &Record, upper: f64) -> bool {
    let Some(Value::Object(b)) = rec.extra.get("bucket_ms") else {
        return true;
    };
    match b.get("upper") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(_)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|v| v > upper),
        Some(_) => true,
    }
}

fn bool_of(b: bool) -> Outcome {
    if b { Outcome::Fire } else { Outcome::Clear }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jq::record_to_val;
    use crate::rules::{compile, merged_specs};
    use serde_json::json;

    #[test]
    fn normalising_keeps_string_literals() {
        assert_eq!(normalise("  a  |\n b "), "a | b");
        assert_eq!(normalise(r#".x == "a  b""#), r#".x == "a  b""#);
        assert_eq!(
            normalise(r#".x == "a\"  b"  |  c"#),
            r#".x == "a\"  b" | c"#
        );
    }

    #[test]
    fn every_default_rule_has_a_native_shape() {
        let specs = merged_specs(None).expect("default rules");
        for phase in [Phase::Start, Phase::A, Phase::B] {
            for rule in compile(&specs, phase).expect("compile") {
                assert!(
                    rule.program.native().is_some(),
                    "rule {} in {phase:?} has no native shape",
                    rule.name
                );
            }
        }
    }

    #[test]
    fn other_texts_are_left_to_jaq() {
        for code in [
            "is_crit | not",
            "def is_crit: true; is_crit",
            "at_least($thresholds.nosuch.crit)",
            "at_least(1e3)",
            "at_least(.x)",
            r#"select(.kind != "errors") | false"#,
            r#"if .name == "a\"b" then is_crit else is_crit end"#,
            r#"if .name == "a" then is_crit | not else is_crit end"#,
            r#"if .name == "a" then empty else at_least(1) end"#,
            r#"if .kind != "signal" or .name == "a" then empty else is_crit | not end"#,
            r#"if .kind != "signal" then empty else is_crit end"#,
            r#"if known and (.proven_level | type) == "string" then .proven_level == "ok" else at_least(1) end"#,
            r#"if known and (.proven_level | type) == "string" then .proven_level == "crit" else at_least(.x) end"#,
            r#".level == "warn" | not"#,
            r#"select(known) | .level != "warn""#,
        ] {
            assert_eq!(Native::recognise(code, Phase::B), None, "{code}");
        }
        assert_eq!(
            Native::recognise("at_least( 0.5 )", Phase::B),
            Some(Native::AtLeast(0.5))
        );
    }

    /// Records of every kind, level and name the default rules read, with
    /// values, details, attributions and non-recoverable counts of every
    /// JSON type, zero and its edges included.
    fn generated() -> Vec<Record> {
        let names = [
            "health.status",
            "health.broker",
            "health.websocket.staleness",
            "health.degradation.reduce_only_mode",
            "health.signal.guard_trip_count",
            "health.signal.broker_latency_p95",
            "health.signal.order_error_rate",
            "health.check.db",
            "health.fetch",
            "metrics.order_error_rate",
            "metrics.order_retry_rate",
            "metrics.broker_latency_p95",
            "metrics.circuit_breaker",
            "daily.circuit_breaker",
            "metrics.api_error_rate",
            "metrics.rate_limit_usage",
            "metrics.drawdown",
            "metrics.order_rate",
            "daily.liveness",
            "daily.report",
            "daily.unfilled_orders",
            "metrics.guard_trips",
            "metrics.guard_trips_total",
            "metrics.other",
            "metrics.fetch",
            "profile.x",
            "risk.y",
            "preflight.z",
        ];
        let kinds = [
            Kind::Check,
            Kind::Signal,
            Kind::Sample,
            Kind::Verdict,
            Kind::Step,
            Kind::Error,
        ];
        let levels = [Level::Ok, Level::Warn, Level::Crit, Level::Unknown];
        let values = [
            json!(null),
            json!(0),
            json!(0.0),
            json!(-0.0),
            json!(1),
            json!(-1),
            json!(0.05),
            json!(0.15),
            json!(0.1499999),
            json!(60),
            json!(59.9),
            json!(1000.0),
            json!(3000),
            json!(10),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(true),
            json!(false),
            json!("0"),
            json!("healthy"),
            json!([0]),
            json!({"a": 0}),
        ];
        let extras: [Vec<(&str, Value)>; 31] = [
            vec![("proven_level", json!("crit"))],
            vec![("proven_level", json!("warn"))],
            vec![("proven_level", json!("ok"))],
            vec![("proven_level", json!(null))],
            vec![("proven_level", json!(2))],
            vec![("proven_level", json!("Crit"))],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"lower": 500, "upper": 1000})),
            ],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"lower": 1000, "upper": 1000.5})),
            ],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"lower": 1000, "upper": null})),
            ],
            vec![("proven_level", json!("ok")), ("bucket_ms", json!({}))],
            vec![("proven_level", json!("ok")), ("bucket_ms", json!([1000]))],
            vec![("proven_level", json!("ok")), ("bucket_ms", json!("1000"))],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"upper": "1000"})),
            ],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"upper": true})),
            ],
            vec![
                ("proven_level", json!("ok")),
                ("bucket_ms", json!({"upper": [1]})),
            ],
            vec![
                ("proven_level", json!("warn")),
                ("bucket_ms", json!({"upper": 250})),
            ],
            vec![("bucket_ms", json!({"upper": 250}))],
            vec![],
            vec![("attributed", json!("guard_trips"))],
            vec![("attributed", json!("other"))],
            vec![("attributed", json!(true))],
            vec![("nonrecoverable", json!(0))],
            vec![("nonrecoverable", json!(2))],
            vec![("nonrecoverable", json!(-1))],
            vec![("nonrecoverable", json!("1"))],
            vec![("nonrecoverable", json!(0.5))],
            vec![("details", json!({"total_submissions": 0}))],
            vec![(
                "details",
                json!({"submission_count": 0.0, "total_submissions": 3}),
            )],
            vec![("details", json!({"total_submissions": "0"}))],
            vec![("details", json!(null))],
            vec![("details", json!({}))],
        ];
        let mut out = Vec::new();
        let mut i = 0usize;
        for name in names {
            for kind in kinds {
                for level in levels {
                    // Every value and every extra, not every combination.
                    for _ in 0..4 {
                        let mut r = Record::new("t", "x", kind, name, level)
                            .value(values[i % values.len()].clone());
                        for (k, v) in &extras[(i / 3) % extras.len()] {
                            r = r.extra(k, v.clone());
                        }
                        out.push(r);
                        i += 1;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn native_and_jaq_agree_on_generated_records() {
        let specs = merged_specs(None).expect("default rules");
        let records = generated();
        let mut compared = 0;
        for phase in [Phase::Start, Phase::A, Phase::B] {
            for rule in compile(&specs, phase).expect("compile") {
                // Rules without a native shape run through jaq alone.
                let Some(native) = rule.program.native() else {
                    continue;
                };
                for rec in &records {
                    let jaq = rule.program.eval(record_to_val(rec));
                    match native.eval(rec) {
                        Some(n) => {
                            assert_eq!(n, jaq, "rule {} ({phase:?}) on {rec:?}", rule.name);
                            compared += 1;
                        }
                        None => assert!(jaq.is_err(), "left to jaq, which fails: {jaq:?}"),
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }

    #[test]
    fn details_of_the_wrong_type_are_left_to_jaq() {
        let rec = Record::new("t", "x", Kind::Signal, "health.signal.x", Level::Ok)
            .extra("details", "none");
        assert_eq!(Native::UnknownEvidence.eval(&rec), None);
    }
}

//! The built-in rule filters, evaluated natively.
//!
//! The rules stay data: a filter is jq text, in the default rules or a
//! `--rules` file. When a filter's text (its whitespace outside string
//! literals aside) is one of the shapes below, judge evaluates it in Rust
//! instead of running jaq over a jq copy of the record: the same answer
//! (a test runs both over generated records), a fraction of the cost. Any
//! other text, and any record a shape cannot decide the way jq would (jq
//! would fail on it), goes to jaq (docs/judge.md, "Rules as jq").

use crate::jq::{Outcome, threshold_table};
use canary_core::{Kind, Level, Phase, Record};
use serde_json::Value;

/// A filter shape judge evaluates natively.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Native {
    /// `is_crit`
    IsCrit,
    /// `evidence`
    Evidence,
    /// `at_least($thresholds.NAME.warn|crit)` or `at_least(NUMBER)`
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
    /// other-metrics-crit's filter: `is_crit` but for the named signals.
    OtherMetricsCrit,
    /// bot-signal-crit's filter: `is_crit` but for guard_trip_count.
    BotSignalCrit,
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
        r#"if .kind != "signal" or .name == "metrics.order_error_rate" or .name == "metrics.order_retry_rate" or .name == "metrics.broker_latency_p95" or .name == "metrics.guard_trips" then empty else is_crit end"#,
        Native::OtherMetricsCrit,
    ),
    (
        r#"if .name == "health.signal.guard_trip_count" then empty else is_crit end"#,
        Native::BotSignalCrit,
    ),
    (
        r#"if (.details.total_submissions == 0) or (.details.submission_count == 0) or (.name == "health.signal.broker_latency_p95" and .value == 0) then false else unknown_evidence end"#,
        Native::UnknownEvidence,
    ),
];

/// reduce-only-mode's filter; it reads `$phase`, bound at compile time.
const REDUCE_ONLY: &str =
    r#"if known and (.value | type) == "boolean" then .value != ($phase == "a") else null end"#;

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

impl Native {
    /// The native shape of filter `code` compiled for `phase`, if it has one.
    pub fn recognise(code: &str, phase: Phase) -> Option<Native> {
        let text = normalise(code);
        if let Some((_, n)) = SHAPES.iter().find(|(s, _)| *s == text) {
            return Some(*n);
        }
        if text == REDUCE_ONLY {
            return Some(Native::ReduceOnly {
                phase_a: phase == Phase::A,
            });
        }
        let arg = text.strip_prefix("at_least(")?.strip_suffix(")")?.trim();
        if let Some(path) = arg.strip_prefix("$thresholds.") {
            let (name, level) = path.split_once('.')?;
            let (_, t) = threshold_table().find(|(n, _)| *n == name)?;
            return match level {
                "warn" => Some(Native::AtLeast(t.warn)),
                "crit" => Some(Native::AtLeast(t.crit)),
                _ => None,
            };
        }
        // A plain decimal literal, as jq reads it.
        let plain = !arg.is_empty()
            && arg
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
        let t: f64 = arg.parse().ok().filter(|t: &f64| plain && t.is_finite())?;
        Some(Native::AtLeast(t))
    }

    /// What the filter says of `rec`, as jaq would: `Some(outcome)`, with
    /// `Ok(None)` for no output (not evidence); `None` when the record is one
    /// the shape leaves to jaq (where jq would fail, so its error is jaq's).
    pub fn eval(self, rec: &Record) -> Option<Result<Option<Outcome>, String>> {
        let known = rec.kind != Kind::Error && rec.level != Level::Unknown;
        let is_crit = || {
            if known {
                bool_of(rec.level == Level::Crit)
            } else {
                Outcome::Unknown
            }
        };
        let evidence = if known {
            Outcome::Clear
        } else {
            Outcome::Unknown
        };
        let attributed =
            || rec.extra.get("attributed").and_then(Value::as_str) == Some("guard_trips");
        let out = match self {
            Native::IsCrit => Some(is_crit()),
            Native::Evidence => Some(evidence),
            Native::AtLeast(t) => Some(match (&rec.value, known) {
                (Value::Number(n), true) => bool_of(n.as_f64().is_some_and(|v| v >= t)),
                _ => Outcome::Unknown,
            }),
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
                (Value::Bool(b), true) => bool_of(*b != phase_a),
                _ => Outcome::Unknown,
            }),
            Native::Nonrecoverable => Some(match (rec.extra.get("nonrecoverable"), known) {
                (Some(Value::Number(n)), true) => match n.as_f64() {
                    Some(v) if v >= 0.0 => bool_of(v > 0.0),
                    _ => Outcome::Unknown,
                },
                _ => Outcome::Unknown,
            }),
            Native::OtherMetricsCrit => {
                let skip = rec.kind != Kind::Signal
                    || matches!(
                        rec.name.as_str(),
                        "metrics.order_error_rate"
                            | "metrics.order_retry_rate"
                            | "metrics.broker_latency_p95"
                            | "metrics.guard_trips"
                    );
                (!skip).then(is_crit)
            }
            Native::BotSignalCrit => (rec.name != "health.signal.guard_trip_count").then(is_crit),
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

    /// Default rules whose filters have no native shape yet and run
    /// through jaq: the confidence policy's `proven_level` readings and the
    /// money-at-risk rules. Listed so that one more is a visible choice.
    const JAQ_ONLY: &[&str] = &[
        "api-health",
        "api-health-warn",
        "broker-latency-crit",
        "broker-latency-warn",
        "circuit-breaker-open",
        "daily-report-notes",
        "liveness-unknown",
        "order-error-rate-crit",
        "order-error-rate-warn",
        "order-retry-rate-crit",
        "order-retry-rate-warn",
        "other-metrics-crit",
    ];

    #[test]
    fn every_default_rule_has_a_native_shape_but_the_listed_ones() {
        let specs = merged_specs(None).expect("default rules");
        let mut missing = std::collections::BTreeSet::new();
        for phase in [Phase::Start, Phase::A, Phase::B] {
            for rule in compile(&specs, phase).expect("compile") {
                if rule.program.native().is_none() {
                    missing.insert(rule.name.clone());
                }
            }
        }
        let listed: std::collections::BTreeSet<String> =
            JAQ_ONLY.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(missing, listed, "default rules without a native shape");
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
            "metrics.broker_latency_p95",
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
        let extras: [Vec<(&str, Value)>; 14] = [
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

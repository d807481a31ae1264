//! `ProfileSchema.from_yaml` as the bot runs it: which
//! keys it reads, how it coerces them, the defaults it applies, and the
//! errors that make it silently fall back to the hard-coded profile.

use crate::error::CoerceError;
use crate::pynum::{py_decimal, py_float, py_int};
use crate::pyyaml::{PyValue, dialects_agree, float_json, int_json, resolve_plain_yaml12};
use crate::yaml::{Node, NodeKind, Scalar, Style};
use serde_json::{Value, json};

/// How `from_yaml` turns a YAML value into a schema field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coerce {
    /// Taken as is: whatever `safe_load` produced.
    AsIs,
    /// `int(v)`: floats truncate, strings go through Python's `int()`.
    Int,
    /// `float(v)`.
    Float,
    /// `Decimal(str(v))`.
    Decimal,
    /// `HH:MM` or `HH:MM:SS` string, else `ProfileValidationError`.
    Time,
}

/// One key `from_yaml` reads: its path, coercion and dataclass default.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub key: &'static str,
    pub coerce: Coerce,
    /// The dataclass default, as JSON text.
    pub default: &'static str,
}

const fn spec(key: &'static str, coerce: Coerce, default: &'static str) -> Spec {
    Spec {
        key,
        coerce,
        default,
    }
}

/// Contracts §5.3, in order. `profile_name` defaults to the requested name.
pub(crate) const SPECS: &[Spec] = &[
    spec("profile_name", Coerce::AsIs, "null"),
    spec("environment", Coerce::AsIs, "\"development\""),
    spec("description", Coerce::AsIs, "\"\""),
    spec("trading.symbols", Coerce::AsIs, "[\"BTC-USD\"]"),
    spec("trading.mode", Coerce::AsIs, "\"normal\""),
    spec("trading.interval", Coerce::Int, "60"),
    spec("strategy.type", Coerce::AsIs, "\"baseline\""),
    spec("strategy.short_ma_period", Coerce::Int, "5"),
    spec("strategy.long_ma_period", Coerce::Int, "20"),
    spec("strategy.rsi_period", Coerce::Int, "14"),
    spec("strategy.rsi_overbought", Coerce::Int, "70"),
    spec("strategy.rsi_oversold", Coerce::Int, "30"),
    spec("risk_management.max_leverage", Coerce::Int, "1"),
    spec(
        "risk_management.max_position_size",
        Coerce::Decimal,
        "10000",
    ),
    spec("risk_management.position_fraction", Coerce::Decimal, "0.1"),
    spec("risk_management.enable_shorts", Coerce::AsIs, "false"),
    spec(
        "risk_management.daily_loss_limit_pct",
        Coerce::Float,
        "0.05",
    ),
    spec("risk_management.stop_loss_pct", Coerce::Decimal, "0.02"),
    spec("risk_management.take_profit_pct", Coerce::Decimal, "0.04"),
    spec("execution.time_in_force", Coerce::AsIs, "\"GTC\""),
    spec("execution.dry_run", Coerce::AsIs, "false"),
    spec("execution.mock_broker", Coerce::AsIs, "false"),
    spec("execution.mock_fills", Coerce::AsIs, "false"),
    spec("execution.use_limit_orders", Coerce::AsIs, "false"),
    spec("execution.market_order_fallback", Coerce::AsIs, "true"),
    spec("execution.strategy_signal_proposals", Coerce::AsIs, "false"),
    spec("session.start_time", Coerce::Time, "null"),
    spec("session.end_time", Coerce::Time, "null"),
    spec(
        "session.trading_days",
        Coerce::AsIs,
        "[\"monday\",\"tuesday\",\"wednesday\",\"thursday\",\"friday\"]",
    ),
    spec("monitoring.log_level", Coerce::AsIs, "\"INFO\""),
    spec("monitoring.metrics.interval_seconds", Coerce::Int, "60"),
    spec("monitoring.status_enabled", Coerce::AsIs, "true"),
];

/// Where an effective value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Written in the file: the key path as written (`trading.execution.x`
    /// when the fallback section was used), its line and its text.
    File { key: String, line: u64, raw: String },
    /// The schema's dataclass default for a missing key.
    Default,
    /// The bot's hard-coded per-profile default, used after a fallback.
    HardCoded,
}

impl Source {
    pub fn label(&self) -> &'static str {
        match self {
            Source::File { .. } => "file",
            Source::Default => "default",
            Source::HardCoded => "hard-coded default",
        }
    }
}

/// One effective schema field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: &'static str,
    pub value: Value,
    /// The numeric reading, for numeric fields.
    pub number: Option<f64>,
    pub source: Source,
}

/// Something in the file that makes `from_yaml` raise.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub key: String,
    pub line: u64,
    pub why: String,
}

/// A plain scalar that YAML 1.1 (the bot) and YAML 1.2 read differently.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DialectNote {
    pub key: String,
    pub line: u64,
    pub raw: String,
    pub yaml11: PyValue,
    pub yaml12: PyValue,
}

/// The file as `from_yaml` sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Mapped {
    /// Every spec's value, in `SPECS` order, as the file gives it.
    pub fields: Vec<Field>,
    /// Errors that make the loader fall back to the hard-coded profile.
    pub fallbacks: Vec<Failure>,
    /// Session-time errors: `ProfileValidationError`, re-raised.
    pub validation: Vec<Failure>,
    pub dialect: Vec<DialectNote>,
    /// True when execution came from `trading.execution`.
    pub execution_from_trading: bool,
}

impl Mapped {
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

fn default_value(spec: &Spec, profile: &str) -> Value {
    if spec.key == "profile_name" {
        return Value::String(profile.to_owned());
    }
    serde_json::from_str(spec.default).unwrap_or(Value::Null)
}

fn default_number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Is a section value "empty" in Python's truthiness?
fn falsy(n: &Node) -> bool {
    match &n.kind {
        NodeKind::Map(e) => e.is_empty(),
        NodeKind::Seq(i) => i.is_empty(),
        NodeKind::Scalar(s) => match &s.py {
            PyValue::Null => true,
            PyValue::Bool(b) => !b,
            PyValue::Int(i) => *i == 0,
            PyValue::Float(f) => *f == 0.0,
            PyValue::Str(s) => s.is_empty(),
            PyValue::Timestamp(_) => false,
            PyValue::Bytes(b) => b.is_empty(),
        },
    }
}

/// Map a parsed, non-empty file.
pub(crate) fn map(root: &Node, profile: &str) -> Mapped {
    let mut out = Mapped::default();
    if !matches!(root.kind, NodeKind::Map(_)) {
        out.fallbacks.push(Failure {
            key: "(document)".into(),
            line: root.line,
            why: "the document is not a mapping, so `data.get(...)` raises".into(),
        });
    }
    let top_exec = root.get("execution");
    let use_trading_exec = top_exec.is_none_or(falsy);
    out.execution_from_trading = use_trading_exec
        && root
            .get("trading")
            .and_then(|t| t.get("execution"))
            .is_some();
    for spec in SPECS {
        let (section_path, leaf) = spec.key.rsplit_once('.').unwrap_or(("", spec.key));
        let written_section = if section_path == "execution" && use_trading_exec {
            "trading.execution"
        } else {
            section_path
        };
        let node = match section(root, written_section, &mut out) {
            Some(sec) => sec.get(leaf),
            None => None,
        };
        let default = default_value(spec, profile);
        let field = match node {
            None => Field {
                key: spec.key,
                number: default_number(&default),
                value: default,
                source: Source::Default,
            },
            Some(n) => {
                let written = if written_section.is_empty() {
                    leaf.to_owned()
                } else {
                    format!("{written_section}.{leaf}")
                };
                note_dialect(n, &written, &mut out.dialect);
                let source = Source::File {
                    key: written.clone(),
                    line: n.line,
                    raw: raw_text(n),
                };
                match coerce(n, spec.coerce) {
                    Ok((value, number)) => Field {
                        key: spec.key,
                        value,
                        number,
                        source,
                    },
                    Err(why) => {
                        let failure = Failure {
                            key: written,
                            line: n.line,
                            why: why.to_string(),
                        };
                        if spec.coerce == Coerce::Time {
                            out.validation.push(failure);
                        } else {
                            out.fallbacks.push(failure);
                        }
                        Field {
                            key: spec.key,
                            value: Value::Null,
                            number: None,
                            source,
                        }
                    }
                }
            }
        };
        out.fields.push(field);
    }
    out
}

/// Walk to a section; a section that exists but is not a mapping makes
/// `from_yaml` raise (except an empty `execution`, handled by the caller).
fn section<'a>(root: &'a Node, path: &str, out: &mut Mapped) -> Option<&'a Node> {
    let mut node = root;
    if path.is_empty() {
        return matches!(node.kind, NodeKind::Map(_)).then_some(node);
    }
    let mut walked = String::new();
    for part in path.split('.') {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(part);
        // A section written as `null` is not a missing one: the loader
        // calls `.get()` on None and raises. That holds for
        // `trading.execution: null` too (read when the top-level
        // `execution` is missing or empty), so the bot falls back.
        node = node.get(part)?;
        if !matches!(node.kind, NodeKind::Map(_)) {
            let why = format!(
                "section `{walked}` is {} instead of a mapping, so reading its keys raises",
                describe(node)
            );
            if !out.fallbacks.iter().any(|f| f.key == walked) {
                out.fallbacks.push(Failure {
                    key: walked.clone(),
                    line: node.line,
                    why,
                });
            }
            return None;
        }
    }
    Some(node)
}

fn describe(n: &Node) -> String {
    match &n.kind {
        NodeKind::Map(_) => "a mapping".into(),
        NodeKind::Seq(_) => "a list".into(),
        NodeKind::Scalar(s) => match &s.py {
            PyValue::Null => "null".into(),
            other => format!("a {} ({other})", other.type_name()),
        },
    }
}

/// The text of a node as written, for provenance.
pub(crate) fn raw_text(n: &Node) -> String {
    match &n.kind {
        NodeKind::Scalar(Scalar {
            style: Style::Quoted,
            raw,
            ..
        }) => format!("\"{raw}\""),
        NodeKind::Scalar(s) => s.raw.clone(),
        NodeKind::Seq(_) => "[...]".into(),
        NodeKind::Map(_) => "{...}".into(),
    }
}

fn note_dialect(n: &Node, key: &str, notes: &mut Vec<DialectNote>) {
    match &n.kind {
        NodeKind::Scalar(s) if s.style == Style::Plain && !dialects_agree(&s.raw) => {
            notes.push(DialectNote {
                key: key.to_owned(),
                line: n.line,
                raw: s.raw.clone(),
                yaml11: s.py.clone(),
                yaml12: resolve_plain_yaml12(&s.raw),
            });
        }
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                note_dialect(item, &format!("{key}[{i}]"), notes);
            }
        }
        _ => {}
    }
}

/// A node as plain JSON (for "as is" fields).
pub(crate) fn node_json(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Scalar(s) => s.py.to_json(),
        NodeKind::Seq(items) => Value::Array(items.iter().map(node_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.display_key(), node_json(v)))
                .collect(),
        ),
    }
}

type Coerced = Result<(Value, Option<f64>), CoerceError>;

fn coerce(n: &Node, how: Coerce) -> Coerced {
    let scalar = match &n.kind {
        NodeKind::Scalar(s) => Some(&s.py),
        _ => None,
    };
    match how {
        Coerce::AsIs => Ok((node_json(n), None)),
        Coerce::Int => coerce_int(scalar, n),
        Coerce::Float => coerce_float(scalar, n),
        Coerce::Decimal => coerce_decimal(scalar, n),
        Coerce::Time => coerce_time(scalar, n),
    }
}

fn type_error(call: &'static str, n: &Node) -> CoerceError {
    CoerceError::Type {
        call,
        described: describe(n),
    }
}

fn coerce_int(v: Option<&PyValue>, n: &Node) -> Coerced {
    let i = match v {
        Some(PyValue::Int(i)) => *i,
        Some(PyValue::Bool(b)) => i128::from(*b),
        Some(PyValue::Float(f)) if f.is_nan() => {
            return Err(CoerceError::IntOfNan);
        }
        Some(PyValue::Float(f)) if f.is_infinite() => {
            return Err(CoerceError::IntOfInfinity);
        }
        Some(PyValue::Float(f)) => f.trunc() as i128,
        Some(PyValue::Str(s)) => py_int(s).map_err(CoerceError::Int)?,
        _ => return Err(type_error("int()", n)),
    };
    Ok((int_json(i), Some(i as f64)))
}

fn coerce_float(v: Option<&PyValue>, n: &Node) -> Coerced {
    let f = match v {
        Some(PyValue::Int(i)) => *i as f64,
        Some(PyValue::Bool(b)) => f64::from(u8::from(*b)),
        Some(PyValue::Float(f)) => *f,
        Some(PyValue::Str(s)) => py_float(s).map_err(CoerceError::Float)?,
        _ => return Err(type_error("float()", n)),
    };
    Ok((float_json(f), Some(f)))
}

fn coerce_decimal(v: Option<&PyValue>, n: &Node) -> Coerced {
    let text = match v {
        Some(PyValue::Int(i)) => i.to_string(),
        Some(PyValue::Float(f)) => crate::pyyaml::py_float_repr(*f),
        Some(PyValue::Str(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "[...]".into(),
    };
    let d = py_decimal(&text).map_err(|error| CoerceError::Decimal {
        described: describe(n),
        error,
    })?;
    Ok((float_json(d.value), Some(d.value)))
}

fn coerce_time(v: Option<&PyValue>, n: &Node) -> Coerced {
    match v {
        Some(PyValue::Null) => Ok((Value::Null, None)),
        Some(PyValue::Str(s)) if valid_time(s) => Ok((Value::String(s.clone()), None)),
        _ => Err(CoerceError::Time {
            described: describe(n),
            base60: matches!(v, Some(PyValue::Int(_))),
        }),
    }
}

fn valid_time(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| p.len() == 2 && p.parse::<u32>().is_ok_and(|v| v < max);
    match parts.as_slice() {
        [h, m] => num(h, 24) && num(m, 60),
        [h, m, sec] => num(h, 24) && num(m, 60) && num(sec, 60),
        _ => false,
    }
}

/// The hard-coded profile the loader falls back to, as far
/// as the runbook targets go. `None` where the bot's behaviour is not known.
pub(crate) fn hard_coded(profile: &str, key: &str) -> Option<Value> {
    match (profile, key) {
        ("canary", "trading.mode") => Some(json!("reduce_only")),
        ("canary", "risk_management.max_leverage") => Some(json!(1)),
        ("canary", "risk_management.position_fraction") => Some(json!(0.1)),
        ("canary", "risk_management.daily_loss_limit_pct") => Some(json!(0.01)),
        ("canary", "risk_management.max_position_size") => Some(json!(500)),
        ("canary", "risk_management.enable_shorts") => Some(json!(true)),
        ("canary", "environment") => Some(json!("production")),
        ("canary", "trading.symbols") => Some(json!(["BTC-USD"])),
        ("canary", "trading.interval") => Some(json!(60)),
        ("canary", "execution.time_in_force") => Some(json!("IOC")),
        ("canary", "execution.use_limit_orders") => Some(json!(true)),
        ("canary", "execution.market_order_fallback") => Some(json!(false)),
        ("canary", "execution.dry_run") => Some(json!(false)),
        ("canary", "session.start_time") => Some(json!("14:00")),
        ("canary", "session.end_time") => Some(json!("15:00")),
        ("canary", "monitoring.log_level") => Some(json!("DEBUG")),
        ("canary", "monitoring.metrics.interval_seconds") => Some(json!(5)),
        ("canary", "profile_name") => Some(json!("canary")),
        ("prod", "trading.mode") => Some(json!("normal")),
        ("prod", "risk_management.max_leverage") => Some(json!(3)),
        ("prod", "risk_management.max_position_size") => Some(json!(50000)),
        ("prod", "risk_management.enable_shorts") => Some(json!(true)),
        ("prod", "trading.symbols") => Some(json!(["BTC-USD", "ETH-USD"])),
        _ => None,
    }
}

/// The fields after a fallback: hard-coded where known, null elsewhere.
pub(crate) fn fallback_fields(profile: &str) -> Vec<Field> {
    SPECS
        .iter()
        .map(|spec| {
            let value = hard_coded(profile, spec.key).unwrap_or(Value::Null);
            Field {
                key: spec.key,
                number: value.as_f64(),
                value,
                source: Source::HardCoded,
            }
        })
        .collect()
}

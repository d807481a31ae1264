//! The runbook §1.2 targets, checked against what the bot really runs with,
//! and the warnings about what it silently ignores. Each becomes a record.

use crate::load::{Loaded, PROFILE_NAMES, source_line};
use crate::schema::{Field, Source};
use canary_core::{Kind, Level, Phase, Record};
use serde_json::{Map, Value, json};

pub(crate) const TOOL: &str = "check-profile";

/// Bounds of runbook §1.2 (and §1.3 for the daily loss, see below), from
/// the one table in `canary_core::thresholds`.
pub use canary_core::thresholds::{
    MAX_DAILY_LOSS_LIMIT_PCT, MAX_LEVERAGE, MAX_POSITION_FRACTION, RUNBOOK_DAILY_LOSS_LIMIT,
};

fn rec(target: &str, name: &str, level: Level) -> Record {
    Record::new(TOOL, target, Kind::Check, name, level)
}

/// Attach where a value came from.
fn provenance(mut r: Record, field: &Field) -> Record {
    r = r.extra("source", field.source.label());
    if let Source::File { key, line, raw } = &field.source {
        r = r
            .extra("key", key.as_str())
            .extra("line", *line)
            .extra("raw", raw.as_str());
    }
    r
}

fn from_where(field: &Field) -> String {
    match &field.source {
        Source::File { key, line, .. } => format!("{key} at line {line}"),
        Source::Default => format!("{} is missing, so the schema default applies", field.key),
        Source::HardCoded => "the hard-coded profile the bot falls back to".into(),
    }
}

fn find<'a>(fields: &'a [Field], key: &str) -> Option<&'a Field> {
    fields.iter().find(|f| f.key == key)
}

/// Every record for a loaded profile, in a stable order.
pub(crate) fn records(target: &str, loaded: &Loaded, text: &str, phase: Phase) -> Vec<Record> {
    let mut out = vec![load_record(target, loaded, text)];
    if !PROFILE_NAMES.contains(&loaded.name.as_str()) {
        out.push(name_record(target, &loaded.name));
    }
    let effective = loaded.effective();
    let unknown_fallback = loaded.falls_back();
    for key in [
        "trading.mode",
        "risk_management.max_leverage",
        "risk_management.position_fraction",
        "risk_management.daily_loss_limit_pct",
    ] {
        let Some(field) = find(&effective, key) else {
            continue;
        };
        if unknown_fallback && field.value.is_null() {
            out.push(
                rec(target, &format!("profile.{key}"), Level::Unknown)
                    .msg(format!(
                        "the bot falls back to its hard-coded '{}' profile, whose {key} is not documented: fix the file",
                        loaded.name
                    ))
                    .extra("source", field.source.label()),
            );
            continue;
        }
        out.push(match key {
            "trading.mode" => mode(target, field, phase),
            "risk_management.max_leverage" => leverage(target, field),
            "risk_management.position_fraction" => fraction(target, field),
            _ => daily_loss(target, field),
        });
    }
    out.push(execution_record(target, loaded, &effective));
    for note in &loaded.mapped.dialect {
        out.push(
            rec(target, "profile.yaml11_scalar", Level::Warn)
                .value(note.raw.as_str())
                .msg(format!(
                    "`{}: {}` at line {}: the bot's YAML 1.1 parser reads {}, a YAML 1.2 parser reads {}; quote it or write it unambiguously",
                    note.key, note.raw, note.line, note.yaml11, note.yaml12
                ))
                .extra("key", note.key.as_str())
                .extra("line", note.line)
                .extra("yaml11", note.yaml11.to_json())
                .extra("yaml12", note.yaml12.to_json()),
        );
    }
    for ig in &loaded.ignored {
        out.push(
            rec(target, "profile.ignored_key", Level::Warn)
                .value(ig.key.as_str())
                .msg(format!("{} at line {}: {}", ig.key, ig.line, ig.hint))
                .extra("key", ig.key.as_str())
                .extra("line", ig.line),
        );
    }
    if let Some(r) = session_record(target, loaded) {
        out.push(r);
    }
    out.push(effective_record(target, &effective));
    out
}

fn load_record(target: &str, loaded: &Loaded, text: &str) -> Record {
    let mut reasons: Vec<String> = Vec::new();
    let mut value = "loaded";
    let mut r = rec(target, "profile.load", Level::Ok);
    if let Some(e) = &loaded.syntax {
        let (line, col) = e.position();
        value = "fallback";
        reasons.push(format!(
            "{target}:{line}:{col}: {}: PyYAML fails too, so the bot silently falls back to its hard-coded '{}' profile{}",
            e.message(),
            loaded.name,
            hard_coded_summary(&loaded.name)
        ));
        r = r.extra("line", line).extra("col", col);
        if let Some(snippet) = source_line(text, line) {
            r = r.extra("snippet", snippet);
        }
    }
    if let Some(first) = loaded.refused_tags.first() {
        value = "fallback";
        reasons.push(format!(
            "{target}:{}:{}: {}: yaml.safe_load raises, so the bot silently falls back to its hard-coded '{}' profile and ignores the whole file{}",
            first.line,
            first.col,
            first.why(),
            loaded.name,
            hard_coded_summary(&loaded.name)
        ));
        r = r.extra("line", first.line).extra("col", first.col).extra(
            "tags",
            loaded
                .refused_tags
                .iter()
                .map(|t| json!({"tag": t.written, "line": t.line, "col": t.col, "why": t.why()}))
                .collect::<Vec<_>>(),
        );
        if let Some(snippet) = source_line(text, first.line) {
            r = r.extra("snippet", snippet);
        }
    }
    if !loaded.mapped.fallbacks.is_empty() {
        value = "fallback";
        let first = &loaded.mapped.fallbacks[0];
        reasons.push(format!(
            "{} at line {}: {}: the bot silently falls back to its hard-coded '{}' profile and ignores the whole file{}",
            first.key,
            first.line,
            first.why,
            loaded.name,
            hard_coded_summary(&loaded.name)
        ));
        r = r.extra("line", first.line).extra(
            "failures",
            loaded
                .mapped
                .fallbacks
                .iter()
                .map(|f| json!({"key": f.key, "line": f.line, "why": f.why}))
                .collect::<Vec<_>>(),
        );
    }
    for v in &loaded.mapped.validation {
        value = "refused";
        reasons.push(format!(
            "{} at line {}: {}: ProfileValidationError, the bot refuses to start",
            v.key, v.line, v.why
        ));
    }
    if let Some(e) = &loaded.duplicate {
        let (line, col) = e.position();
        if value == "loaded" {
            value = "duplicate_key";
        }
        reasons.push(format!(
            "{target}:{line}:{col}: {}: PyYAML keeps the last one silently; the values below assume it does",
            e.message()
        ));
    }
    if loaded.empty {
        value = "empty";
        reasons.push(
            "the file is empty: the bot reads it as {} and runs mode normal, environment development, every default".into(),
        );
    }
    if reasons.is_empty() {
        let env = loaded
            .mapped
            .field("environment")
            .map(|f| f.value.to_string())
            .unwrap_or_default();
        return r.value(value).msg(format!(
            "the bot loads {target} as written (profile '{}', environment {env})",
            loaded.name
        ));
    }
    Record {
        level: Level::Crit,
        ..r
    }
    .value(value)
    .msg(reasons.join("; "))
}

/// What the hard-coded profile the bot falls back to does, where known.
fn hard_coded_summary(profile: &str) -> &'static str {
    match profile {
        "canary" => {
            " (environment production, max position 500, daily loss 0.01, shorts ENABLED, IOC limit orders; not what the file says)"
        }
        "prod" => " (mode normal, max leverage 3, max position 50000, shorts ENABLED)",
        _ => "",
    }
}

fn name_record(target: &str, name: &str) -> Record {
    rec(target, "profile.name", Level::Warn).value(name).msg(format!(
        "the bot has no profile '{name}': `--profile {name}` is rejected (exit 2) and GPT_TRADER_PROFILE={name} falls back to dev; start it with `gpt-trader run --config {target}` (legacy mapping, fewer fields) or install it as config/profiles/canary.yaml"
    ))
}

fn mode(target: &str, f: &Field, phase: Phase) -> Record {
    let want = if phase == Phase::B {
        "normal"
    } else {
        "reduce_only"
    };
    let got = f.value.as_str();
    let (level, msg) = match (phase, got) {
        (Phase::B, Some("normal")) => (Level::Ok, "mode normal: Phase B may open micro positions".to_owned()),
        (Phase::B, Some("reduce_only")) => (
            Level::Crit,
            "mode reduce_only: Phase B needs trading.mode: normal (derive it with --write-phase-b)".to_owned(),
        ),
        (Phase::B, _) => (
            Level::Warn,
            format!("mode {} is not validated by the bot and runs as normal; write normal", f.value),
        ),
        (_, Some("reduce_only")) => (
            Level::Ok,
            "mode reduce_only; note the bot's /health reduce_only_mode stays false until a runtime trigger (see docs/config-gates.md)".to_owned(),
        ),
        (_, Some(other)) => (
            Level::Crit,
            format!("mode '{other}' is not reduce_only: the bot runs it as normal and opens positions; only the exact string reduce_only counts"),
        ),
        (_, None) => (
            Level::Crit,
            format!("mode {} is not the string reduce_only: the bot runs as normal", f.value),
        ),
    };
    provenance(
        rec(target, "profile.trading.mode", level)
            .value(f.value.clone())
            .expect(want)
            .msg(format!("{msg} (from {})", from_where(f))),
        f,
    )
}

fn leverage(target: &str, f: &Field) -> Record {
    let v = f.number;
    let raw = match &f.source {
        Source::File { raw, .. } => raw.clone(),
        _ => String::new(),
    };
    let truncated =
        raw.contains('.') && v.is_some_and(|n| raw.parse::<f64>().is_ok_and(|r| r != n));
    let (level, msg) = match v {
        Some(n) if n == MAX_LEVERAGE as f64 && truncated => (
            Level::Warn,
            format!(
                "max_leverage {raw} is truncated by int() to {MAX_LEVERAGE}; write {MAX_LEVERAGE}"
            ),
        ),
        Some(n) if n == MAX_LEVERAGE as f64 => (
            Level::Ok,
            format!("max_leverage {MAX_LEVERAGE}: no leverage"),
        ),
        _ => (
            Level::Crit,
            format!(
                "max_leverage {} but the canary requires {MAX_LEVERAGE}",
                f.value
            ),
        ),
    };
    provenance(
        rec(target, "profile.risk_management.max_leverage", level)
            .value(f.value.clone())
            .expect(MAX_LEVERAGE)
            .msg(format!("{msg} (from {})", from_where(f))),
        f,
    )
}

fn fraction(target: &str, f: &Field) -> Record {
    let ok = f
        .number
        .is_some_and(|n| (0.0..=MAX_POSITION_FRACTION).contains(&n));
    let msg = if ok {
        format!("position_fraction {} is micro sizing", f.value)
    } else if matches!(f.source, Source::Default) {
        format!(
            "position_fraction is not set, so the bot sizes at the default {} ({}x the runbook's {MAX_POSITION_FRACTION}); keys under trading.position_sizing are ignored: set risk_management.position_fraction",
            f.value,
            f.number
                .map(|n| (n / MAX_POSITION_FRACTION).round())
                .unwrap_or(0.0)
        )
    } else {
        format!(
            "position_fraction {} is over the runbook's {MAX_POSITION_FRACTION}",
            f.value
        )
    };
    provenance(
        rec(
            target,
            "profile.risk_management.position_fraction",
            if ok { Level::Ok } else { Level::Crit },
        )
        .value(f.value.clone())
        .expect(format!("<= {MAX_POSITION_FRACTION}"))
        .msg(format!("{msg} (from {})", from_where(f))),
        f,
    )
}

fn daily_loss(target: &str, f: &Field) -> Record {
    let ok = f
        .number
        .is_some_and(|n| (0.0..=MAX_DAILY_LOSS_LIMIT_PCT).contains(&n));
    let verdict = if ok { "within" } else { "over" };
    provenance(
        rec(target, "profile.risk_management.daily_loss_limit_pct", if ok { Level::Ok } else { Level::Crit })
            .value(f.value.clone())
            .expect(format!("<= {MAX_DAILY_LOSS_LIMIT_PCT}"))
            .msg(format!(
                "runbook §1.2 asks for daily_loss_limit <= {RUNBOOK_DAILY_LOSS_LIMIT}, a field the bot does not have; what it enforces is daily_loss_limit_pct {}, {verdict} the runbook's {MAX_DAILY_LOSS_LIMIT_PCT} (from {})",
                f.value,
                from_where(f)
            ))
            .extra(
                "runbook",
                format!("risk_management.daily_loss_limit <= {RUNBOOK_DAILY_LOSS_LIMIT} (no such field in the bot)"),
            ),
        f,
    )
}

/// Python truthiness of an "as is" value (`if config.dry_run:`).
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `profile.execution`: a dry run or a mock broker places no real order.
/// The bot's read-only broker rejects every order, so nothing runbook §4
/// asks for (orders, fills, error and retry rates) can be validated.
fn execution_record(target: &str, loaded: &Loaded, effective: &[Field]) -> Record {
    let mut on = Vec::new();
    let mut unknown = Vec::new();
    for key in ["execution.dry_run", "execution.mock_broker"] {
        let Some(f) = find(effective, key) else {
            continue;
        };
        if f.value.is_null() && f.source == Source::HardCoded {
            unknown.push(key);
        } else if truthy(&f.value) {
            on.push(f);
        }
    }
    let mut r = rec(target, "profile.execution", Level::Ok);
    if let Some(first) = on.first() {
        let which: Vec<String> = on
            .iter()
            .map(|f| format!("{} {} (from {})", f.key, f.value, from_where(f)))
            .collect();
        r = provenance(r, first)
            .value(Value::from(on.iter().map(|f| f.key).collect::<Vec<_>>()))
            .msg(format!(
                "{}: the bot places no real order (its read-only broker rejects every one, so the order error rate reads 100 %); the canary would validate nothing runbook §4 asks for: set execution.dry_run: false and execution.mock_broker: false",
                which.join(", ")
            ));
        return Record {
            level: Level::Crit,
            ..r
        };
    }
    if !unknown.is_empty() && loaded.falls_back() {
        return Record {
            level: Level::Unknown,
            ..r
        }
        .value(Value::from(unknown.clone()))
        .msg(format!(
            "the bot falls back to its hard-coded '{}' profile, whose {} is not documented: fix the file",
            loaded.name,
            unknown.join(" and ")
        ));
    }
    r.value(false)
        .msg("execution places real orders: not a dry run, not a mock broker")
}

fn session_record(target: &str, loaded: &Loaded) -> Option<Record> {
    if !loaded.mapped.validation.is_empty() {
        return None;
    }
    let written: Vec<&Field> = [
        "session.start_time",
        "session.end_time",
        "session.trading_days",
    ]
    .iter()
    .filter_map(|k| loaded.mapped.field(k))
    .filter(|f| matches!(f.source, Source::File { .. }))
    .collect();
    let first = written.first()?;
    let start = loaded
        .mapped
        .field("session.start_time")
        .map(|f| f.value.clone())
        .unwrap_or(Value::Null);
    let end = loaded
        .mapped
        .field("session.end_time")
        .map(|f| f.value.clone())
        .unwrap_or(Value::Null);
    Some(
        provenance(
            rec(target, "profile.session", Level::Warn)
                .value(json!({"start_time": start, "end_time": end}))
                .msg(format!(
                    "session {start}–{end} is not enforced: BotConfig drops the session, so the bot trades around the clock"
                )),
            first,
        ),
    )
}

fn effective_record(target: &str, fields: &[Field]) -> Record {
    let mut values = Map::new();
    let mut sources = Map::new();
    for f in fields {
        values.insert(f.key.to_owned(), f.value.clone());
        sources.insert(f.key.to_owned(), Value::from(f.source.label()));
    }
    Record::new(TOOL, target, Kind::Sample, "profile.effective", Level::Ok)
        .value(Value::Object(values))
        .msg("the values the bot runs with, by schema field")
        .extra("sources", Value::Object(sources))
}

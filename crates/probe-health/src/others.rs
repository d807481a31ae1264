//! Everything `/health` reports beyond the runbook's rows: the other checks
//! (`ticker_freshness`, `market_data_feed`, `performance`, ...) and the bot's
//! own lifetime signals.

use crate::body::Body;
use crate::json::{self, Num};
use canary_core::catalogue::segment;
use canary_core::{Kind, Level, Record, Thresholds};
use serde_json::{Map, Value};

/// The checks that `rows` already reports through the runbook's rows.
const COVERED: [&str; 3] = ["broker", "websocket", "degradation"];

/// `health.check.<name>` for every check not covered by a runbook row.
pub fn checks(b: &Body) -> Vec<Record> {
    let Some(checks) = b.root.get("checks").and_then(Value::as_object) else {
        return vec![];
    };
    checks
        .iter()
        .filter(|(name, _)| !COVERED.contains(&name.as_str()))
        .map(|(name, check)| {
            let rec = b
                .record(&format!("health.check.{}", segment(name)))
                .extra("check", name.as_str());
            if name == "performance" {
                performance(rec, check)
            } else {
                standard(rec, name, check)
            }
        })
        .collect()
}

/// `{"status": "pass"|"fail", "details": {...}}`, judged as the bot escalates
/// it: a failing critical check is crit, a failing warning (or unlabelled)
/// check warn. A skipped check observed nothing: unknown.
fn standard(rec: Record, name: &str, check: &Value) -> Record {
    let details = check.get("details").and_then(Value::as_object);
    let get = |k: &str| details.and_then(|d| d.get(k));
    let status = check.get("status").and_then(Value::as_str);
    let rec = rec.value(check.get("status").cloned().unwrap_or(Value::Null));
    let rec = match get("severity") {
        Some(sev) => rec.extra("severity", sev.clone()),
        None => rec,
    };
    let skipped = get("skipped").and_then(Value::as_bool).unwrap_or(false);
    let nested_unknown = get("status").and_then(Value::as_str) == Some("UNKNOWN");
    let odd = details.and_then(|d| json::first_implausible(&format!("checks.{name}.details"), d));
    match status {
        Some("pass") if odd.is_some() => rec
            .level(Level::Unknown)
            .msg(format!("{name} passes, but {}", odd.unwrap_or_default())),
        Some("pass") if skipped || nested_unknown => {
            let why = get("reason")
                .and_then(Value::as_str)
                .unwrap_or("no data yet");
            rec.level(Level::Unknown).msg(format!(
                "{name} observed nothing ({why}): its freshness cannot be judged"
            ))
        }
        Some("pass") => rec.level(Level::Ok).msg(format!("{name} passes")),
        Some("fail") => {
            let sev = get("severity").and_then(Value::as_str).unwrap_or("warning");
            let cause = describe_failure(details);
            match sev {
                "critical" => rec.level(Level::Crit).msg(format!(
                    "{name} fails (critical{cause}): the bot is unhealthy"
                )),
                "warning" => rec.level(Level::Warn).msg(format!(
                    "{name} fails (warning{cause}): the bot is degraded"
                )),
                other => rec.level(Level::Ok).msg(format!(
                    "{name} fails with severity '{other}', which the bot ignores"
                )),
            }
        }
        _ => rec
            .level(Level::Unknown)
            .msg(format!("{name} has no pass/fail status: cannot judge it")),
    }
}

fn describe_failure(details: Option<&Map<String, Value>>) -> String {
    let Some(d) = details else {
        return String::new();
    };
    if let Some(err) = d.get("error").and_then(Value::as_str) {
        return format!(", {err}");
    }
    if let Some(stale) = d.get("stale_symbols").and_then(Value::as_array) {
        let names: Vec<&str> = stale.iter().filter_map(Value::as_str).collect();
        return format!(", stale symbols {}", names.join(" "));
    }
    if let Some(age) = d.get("age_seconds") {
        let shown = age
            .as_f64()
            .and_then(canary_core::duration::human_secs)
            .unwrap_or_else(|| format!("{age} s"));
        return format!(", age {shown}");
    }
    String::new()
}

/// `performance` has its own shape: healthy, degraded or unhealthy, with issues.
fn performance(rec: Record, check: &Value) -> Record {
    let issues: Vec<&str> = check
        .get("issues")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let detail = if issues.is_empty() {
        String::new()
    } else {
        format!(": {}", issues.join("; "))
    };
    let rec = rec.value(check.get("status").cloned().unwrap_or(Value::Null));
    match check.get("status").and_then(Value::as_str) {
        Some("healthy") => rec.level(Level::Ok).msg("performance healthy"),
        Some("degraded") => rec.level(Level::Warn).msg(format!(
            "performance degraded{detail} (host-wide CPU or memory counts here, not only the bot)"
        )),
        Some("unhealthy") => rec
            .level(Level::Crit)
            .msg(format!("performance unhealthy{detail}")),
        _ => rec
            .level(Level::Unknown)
            .msg("performance status missing or unrecognised"),
    }
}

fn level_of(status: Option<&str>) -> Option<Level> {
    match status? {
        "OK" => Some(Level::Ok),
        "WARN" => Some(Level::Warn),
        "CRIT" => Some(Level::Crit),
        "UNKNOWN" => Some(Level::Unknown),
        _ => None,
    }
}

/// `health.signals` (the bot's summary) and one `health.signal.<name>` per signal.
pub fn signals(b: &Body) -> Vec<Record> {
    let summary = b.record("health.signals");
    let Some(sig) = b.root.get("signals").and_then(Value::as_object) else {
        return vec![
            summary.msg("/health has no signals object: the bot's own signals cannot be read"),
        ];
    };
    let status = sig.get("status").and_then(Value::as_str);
    let message = sig.get("message").and_then(Value::as_str).unwrap_or("");
    let list: Vec<&Value> = sig
        .get("signals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let mut out = vec![
        match (level_of(status), summary_contradiction(status, &list)) {
            (Some(_), Some(why)) => summary.value(status.unwrap_or_default()).msg(why),
            (Some(level), None) => summary
                .level(level)
                .value(status.unwrap_or_default())
                .msg(format!("bot's signals: {message}")),
            (None, _) => summary.msg("signals.status missing or unrecognised"),
        },
    ];
    for s in &list {
        out.push(signal(b, s));
    }
    // The bot reports all five signals, or (when computing them raised) an
    // empty list under UNKNOWN. A body missing one hides it: say so.
    if !list.is_empty() {
        for name in SIGNALS {
            let present = list
                .iter()
                .any(|s| s.get("name").and_then(Value::as_str) == Some(name));
            if !present {
                out.push(
                    Record::new(
                        b.tool,
                        b.target,
                        Kind::Signal,
                        &format!("health.signal.{name}"),
                        Level::Unknown,
                    )
                    .extra("endpoint", "/health")
                    .extra("scope", "lifetime")
                    .msg(format!(
                        "bot's {name} is absent from /health's signals: the bot always reports all five, so this body cannot be trusted"
                    )),
                );
            }
        }
    }
    out
}

/// The five signals the bot always reports together.
const SIGNALS: [&str; 5] = [
    "order_error_rate",
    "order_retry_rate",
    "broker_latency_p95",
    "guard_trip_count",
    "missing_decision_id_count",
];

/// Rank of a signal status in the bot's summary (worst wins).
fn rank(status: &str) -> Option<u8> {
    match status {
        "UNKNOWN" => Some(0),
        "OK" => Some(1),
        "WARN" => Some(2),
        "CRIT" => Some(3),
        _ => None,
    }
}

/// Why the summary status cannot be the bot's: it is the worst of the
/// signals' statuses, and UNKNOWN over an empty list. `None` when it fits.
fn summary_contradiction(status: Option<&str>, list: &[&Value]) -> Option<String> {
    let status = status?;
    let worst = list
        .iter()
        .filter_map(|s| s.get("status").and_then(Value::as_str))
        .filter_map(|st| rank(st).map(|r| (r, st)))
        .max_by_key(|(r, _)| *r);
    match worst {
        None if list.is_empty() && status != "UNKNOWN" => Some(format!(
            "signals.status is {status} over an empty signals list: the bot says UNKNOWN when it has none, so this body cannot be trusted"
        )),
        Some((r, st)) if rank(status) != Some(r) => Some(format!(
            "signals.status is {status} but the worst signal is {st}: the bot's summary is always the worst signal, so this body cannot be trusted"
        )),
        _ => None,
    }
}

/// The level a signal's value earns against its own thresholds (the bot
/// compares inclusively: `value >= crit` is CRIT).
fn implied(value: f64, warn: f64, crit: f64) -> Level {
    if value >= crit {
        Level::Crit
    } else if value >= warn {
        Level::Warn
    } else {
        Level::Ok
    }
}

fn signal(b: &Body, s: &Value) -> Record {
    let name = s.get("name").and_then(Value::as_str).unwrap_or("unnamed");
    let mut rec = Record::new(
        b.tool,
        b.target,
        Kind::Signal,
        &format!("health.signal.{}", segment(name)),
        Level::Unknown,
    )
    .extra("endpoint", "/health")
    .extra("scope", "lifetime");
    let number = s.get("value").map_or(Num::NotANumber, json::number);
    if let Num::Finite(v) = number {
        rec = rec.value(v);
    }
    let warn = s.get("threshold_warn").and_then(Value::as_f64);
    let crit = s.get("threshold_crit").and_then(Value::as_f64);
    if let (Some(warn), Some(crit)) = (warn, crit) {
        rec = rec.thresholds(Thresholds { warn, crit });
    }
    for key in ["unit", "details"] {
        if let Some(v) = s.get(key) {
            rec = rec.extra(key, v.clone());
        }
    }
    let value = s
        .get("value")
        .map_or("null".to_owned(), ToString::to_string);
    // The bot reports 0.0 "OK" for a ratio over no orders, and a p95 of 0
    // when no broker call succeeded yet (every real p95 is a bucket bound of
    // at least 1 ms): that is no evidence, so unknown, never ok.
    let denominator = ["total_submissions", "submission_count"]
        .iter()
        .find_map(|k| {
            s.get("details")
                .and_then(|d| d.get(*k))
                .and_then(Value::as_i64)
        });
    let empty = match name {
        "order_error_rate" | "order_retry_rate" => denominator == Some(0),
        "broker_latency_p95" => s.get("value").and_then(Value::as_f64) == Some(0.0),
        _ => false,
    };
    let status = s.get("status").and_then(Value::as_str).unwrap_or_default();
    // A count, a rate or an age is never negative or infinite; from such a
    // value (or its counts) the bot's status proves nothing.
    let odd = s
        .get("value")
        .and_then(|v| json::implausible(&format!("{name} value"), v))
        .or_else(|| {
            s.get("details").and_then(Value::as_object).and_then(|d| {
                d.iter()
                    .find_map(|(k, v)| json::implausible(&format!("{name} details.{k}"), v))
            })
        });
    if let Some(why) = odd {
        return rec.msg(format!("bot's {name} ({status}) cannot be trusted: {why}"));
    }
    if !matches!(number, Num::Finite(_)) {
        return rec.msg(format!("bot's {name} ({status}) has no numeric value"));
    }
    // The level the value earns against the signal's own thresholds.
    let earned = match (number, warn, crit) {
        (Num::Finite(v), Some(w), Some(c)) => Some((implied(v, w, c), w, c)),
        _ => None,
    };
    match level_of(s.get("status").and_then(Value::as_str)) {
        Some(_) if empty => rec.level(Level::Unknown).msg(format!(
            "bot's {name} = {value} ({status}) rests on no samples since process start: no evidence yet"
        )),
        Some(level @ (Level::Ok | Level::Warn | Level::Crit))
            if earned.is_some_and(|(l, _, _)| l != level) =>
        {
            let (l, w, c) = earned.unwrap_or((level, 0.0, 0.0));
            rec.level(Level::Unknown).msg(format!(
                "bot's {name} = {value} says {status}, but its own thresholds (warn {w}, crit {c}, inclusive) make it {}: the bot computes the status from them, so this body cannot be trusted",
                l.as_str().to_uppercase()
            ))
        }
        Some(level) => rec.level(level).msg(format!(
            "bot's {name} = {value} since process start ({status})"
        )),
        None => rec.msg(format!("bot's {name} has no recognised status")),
    }
}

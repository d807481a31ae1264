//! Getting the evidence: one GET per endpoint, and one `health.fetch` error
//! record (plus a stderr line) whenever an endpoint yields none.

use crate::body::{self, Body};
use crate::cli::TOOL;
use crate::evaluate::evaluate;
use crate::json::{self, Duplicate};
use canary_core::http::{self, HttpOptions, HttpResponse};
use canary_core::{Kind, Level, Phase, Record, diag};
use serde_json::Value;

/// The records of one `/health` probe.
pub fn health(base: &str, opts: &HttpOptions, phase: Option<Phase>) -> Vec<Record> {
    let resp = match get(base, "/health", opts) {
        Ok(r) => r,
        Err(rec) => return vec![*rec],
    };
    if resp.status != 200 && resp.status != 503 {
        return vec![unexpected_status(base, "/health", &resp)];
    }
    let parsed = match json::parse(&resp.body) {
        Ok(p) => p,
        Err(e) => {
            let what = if resp.body.is_empty() {
                "an empty body".to_owned()
            } else {
                format!("not JSON ({e})")
            };
            return vec![fetch_error(
                base,
                "/health",
                Some(resp.status),
                &format!("HTTP {} with {what}", resp.status),
            )];
        }
    };
    let root = match parsed.value {
        Value::Object(m) => m,
        other => {
            let kind = if other.is_array() {
                "an array"
            } else {
                "not an object"
            };
            return vec![fetch_error(
                base,
                "/health",
                Some(resp.status),
                &format!("the body is JSON but {kind}: not the bot's /health"),
            )];
        }
    };
    let body = Body {
        root: &root,
        http_status: resp.status,
        tool: TOOL,
        target: base,
    };
    let mut records = evaluate(&body, phase);
    records.extend(duplicates(base, "/health", resp.status, &parsed.duplicates));
    records
}

/// One `health.duplicate_key` record per key the body gives twice: unknown
/// when the values differ (the key is unreadable), warn when they agree.
fn duplicates(base: &str, path: &str, status: u16, dups: &[Duplicate]) -> Vec<Record> {
    dups.iter()
        .map(|d| {
            let (level, msg) = if d.conflicting {
                (Level::Unknown, body::conflict_msg(&d.path))
            } else {
                (
                    Level::Warn,
                    format!(
                        "{} is given more than once in the body, with the same value; the bot never writes a key twice",
                        d.path
                    ),
                )
            };
            diag(TOOL, "warning", &format!("GET {base}{path}: {msg}"));
            Record::new(TOOL, base, Kind::Error, "health.duplicate_key", level)
                .extra("endpoint", path)
                .extra("http_status", status)
                .extra("key", d.path.as_str())
                .value(d.path.as_str())
                .msg(msg)
        })
        .collect()
}

/// `/live` or `/ready`: `{"status": "pass"|"fail", "live"|"ready": bool, ...}`.
pub fn live_or_ready(base: &str, path: &str, opts: &HttpOptions) -> Record {
    let resp = match get(base, path, opts) {
        Ok(r) => r,
        Err(rec) => return *rec,
    };
    if resp.status != 200 && resp.status != 503 {
        return unexpected_status(base, path, &resp);
    }
    let key = path.trim_start_matches('/');
    let name = format!("health.{key}");
    let rec = Record::new(TOOL, base, Kind::Check, &name, Level::Unknown)
        .extra("endpoint", path)
        .extra("http_status", resp.status)
        .expect(true);
    let parsed = json::parse(&resp.body).ok();
    let root = parsed.as_ref().and_then(|p| p.value.as_object());
    let field = |k: &str| root.and_then(|r| r.get(k));
    let reason = field("reason").and_then(Value::as_str).map(str::to_owned);
    let rec = match &reason {
        Some(r) => rec.extra("reason", r.as_str()),
        None => rec,
    };
    let why = reason.map(|r| format!(" (reason {r})")).unwrap_or_default();
    let flag = field(key).and_then(Value::as_bool);
    let status = field("status").and_then(Value::as_str);
    // The bot answers 200 `pass` true, or 503 `fail` false: the three agree
    // or the answer is not the bot's, and proves nothing either way.
    let rec = match (flag, status, resp.status) {
        (Some(true), Some("pass"), 200) => {
            return rec
                .level(Level::Ok)
                .value(true)
                .msg(format!("bot is {key}{why}"));
        }
        (Some(false), Some("fail"), 503) => {
            return rec
                .level(Level::Crit)
                .value(false)
                .msg(format!("bot is not {key}{why}: HTTP {}", resp.status));
        }
        (Some(v), _, _) => rec.value(v),
        (None, _, _) => rec,
    };
    let shown = |v: Option<&Value>| {
        v.map_or("absent".to_owned(), |v| {
            if json::is_conflict(v) {
                "given twice with different values".to_owned()
            } else {
                v.to_string()
            }
        })
    };
    let msg = format!(
        "{path} answered HTTP {} with status {} and {key} {}: the bot answers 200 pass true or 503 fail false, so this proves nothing",
        resp.status,
        shown(field("status")),
        shown(field(key)),
    );
    diag(TOOL, "error", &format!("GET {base}{path}: {msg}"));
    rec.msg(msg)
}

fn get(base: &str, path: &str, opts: &HttpOptions) -> Result<HttpResponse, Box<Record>> {
    http::get(&format!("{base}{path}"), opts)
        .map_err(|e| Box::new(fetch_error(base, path, None, &e.to_string())))
}

fn unexpected_status(base: &str, path: &str, resp: &HttpResponse) -> Record {
    let snippet = resp.snippet(160);
    let hint = match resp.status {
        404 => {
            ": the bot serves only exact paths; is --url the bot's base URL (no path, no trailing query)?"
        }
        405 => ": the bot accepts only GET",
        _ => "",
    };
    fetch_error(
        base,
        path,
        Some(resp.status),
        &format!("HTTP {} ({snippet}){hint}", resp.status),
    )
}

/// The one record (and stderr line) for an endpoint that gave no evidence.
fn fetch_error(base: &str, path: &str, status: Option<u16>, why: &str) -> Record {
    let msg = format!("GET {base}{path}: {why}");
    diag(TOOL, "error", &msg);
    let rec = Record::new(TOOL, base, Kind::Error, "health.fetch", Level::Unknown)
        .extra("endpoint", path)
        .msg(msg);
    match status {
        Some(s) => rec.extra("http_status", s),
        None => rec,
    }
}

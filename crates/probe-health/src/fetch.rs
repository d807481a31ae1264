//! Getting the evidence: one GET per endpoint, and one `health.fetch` error
//! record (plus a stderr line) whenever an endpoint yields none.

use crate::body::Body;
use crate::{TOOL, evaluate};
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
    let root = match serde_json::from_slice::<Value>(&resp.body) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
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
    let body = Body {
        root: &root,
        http_status: resp.status,
        tool: TOOL,
        target: base,
    };
    evaluate(&body, phase)
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
    let parsed: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let flag = parsed
        .as_ref()
        .and_then(|v| v.get(key))
        .and_then(Value::as_bool);
    let reason = parsed
        .as_ref()
        .and_then(|v| v.get("reason"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let rec = match &reason {
        Some(r) => rec.extra("reason", r.as_str()),
        None => rec,
    };
    let why = reason.map(|r| format!(" (reason {r})")).unwrap_or_default();
    match flag {
        Some(true) => rec
            .level(Level::Ok)
            .value(true)
            .msg(format!("bot is {key}{why}")),
        Some(false) => rec
            .level(Level::Crit)
            .value(false)
            .msg(format!("bot is not {key}{why}: HTTP {}", resp.status)),
        None => {
            let msg = format!(
                "{path} answered HTTP {} without a boolean '{key}'",
                resp.status
            );
            diag(TOOL, "error", &format!("GET {base}{path}: {msg}"));
            rec.msg(msg)
        }
    }
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

//! The go/no-go rows of runbook §2.1, and the §5 websocket staleness, read
//! from the bot's `/health` as it really is (see docs/probe-health.md).

use crate::body::{Body, Lookup};
use crate::json;
use canary_core::duration::human_secs;
use canary_core::thresholds::WS_STALENESS_S;
use canary_core::{Level, Phase, Record};
use serde_json::{Value, json};

/// `status`: healthy and degraded are GO (degraded as a warning), unhealthy
/// and starting are NO-GO.
pub fn status(b: &Body) -> Record {
    let rec = b
        .record("health.status")
        .expect(json!(["healthy", "degraded"]));
    let rec = ["live", "ready", "reason"]
        .iter()
        .fold(rec, |r, k| match b.root.get(*k) {
            Some(v) => r.extra(k, v.clone()),
            None => r,
        });
    match b.field(&["status"]) {
        Lookup::Str(s) => {
            let (level, msg) = match s {
                // The bot answers 503 only for unhealthy or starting; a 5xx
                // saying healthy is not the bot's answer, and never healthy.
                "healthy" | "degraded" if b.http_status >= 500 => (
                    Level::Unknown,
                    format!(
                        "bot's body says {s} but the answer is HTTP {}: a 5xx is never healthy, and the bot answers 503 only when unhealthy or starting, so this body cannot be trusted",
                        b.http_status
                    ),
                ),
                // The bot says unhealthy when not live and starting when
                // not ready: healthy or degraded from a bot that says it is
                // neither is a body it did not write.
                "healthy" | "degraded" if not_up(b).is_some() => (
                    Level::Unknown,
                    format!(
                        "bot's body says {s} but {}: the bot reports unhealthy when not live and starting when not ready, so this body cannot be trusted",
                        not_up(b).unwrap_or_default()
                    ),
                ),
                "healthy" => (Level::Ok, "bot reports healthy".to_owned()),
                "degraded" => (
                    Level::Warn,
                    format!("bot reports degraded{}", b.failing_summary(" (", ")")),
                ),
                "shutdown" => (
                    Level::Crit,
                    format!(
                        "bot reports shutdown (HTTP {}): NO-GO, the bot is stopping",
                        b.http_status
                    ),
                ),
                "unhealthy" | "starting" => (
                    Level::Crit,
                    format!(
                        "bot reports {s} (HTTP {}{}){}: NO-GO, investigate before proceeding",
                        b.http_status,
                        lifecycle(b),
                        b.failing_summary(": ", "")
                    ),
                ),
                other => (
                    Level::Unknown,
                    format!("unrecognised status '{other}': cannot judge the bot's health"),
                ),
            };
            rec.level(level).value(s).msg(msg)
        }
        other => rec.level(Level::Unknown).msg(other.why("status")),
    }
}

/// `live is false` / `ready is null`: why a body's top-level flags deny
/// the bot is up; `None` when both are absent or `true`.
fn not_up(b: &Body) -> Option<String> {
    let odd: Vec<String> = ["live", "ready"]
        .iter()
        .filter_map(|k| match b.root.get(*k) {
            None | Some(Value::Bool(true)) => None,
            Some(v) => Some(format!("{k} is {v}")),
        })
        .collect();
    (!odd.is_empty()).then(|| odd.join(" and "))
}

/// `, not live, reason shutdown` / `, reason cli_run`: why a bot that is
/// not running its loop says so; empty for a running bot.
fn lifecycle(b: &Body) -> String {
    let mut out = String::new();
    if b.root.get("live") == Some(&Value::Bool(false)) {
        out.push_str(", not live");
    }
    match b.root.get("reason").and_then(Value::as_str) {
        Some(r) if r != "trading_bot_running" => out.push_str(&format!(", reason {r}")),
        _ => {}
    }
    out
}

/// `checks.broker.status`: pass is GO, fail NO-GO.
pub fn broker(b: &Body) -> Record {
    let rec = b.record("health.broker").expect("pass");
    let details = b.details("broker");
    let rec = match details.and_then(|d| d.get("latency_ms")) {
        Some(ms) => rec.extra("latency_ms", ms.clone()),
        None => rec,
    };
    let odd = details.and_then(|d| json::first_implausible("checks.broker.details", d));
    match b.field(&["checks", "broker", "status"]) {
        Lookup::Str("pass") if odd.is_some() => rec.level(Level::Unknown).value("pass").msg(
            format!("broker ping passes, but {}", odd.unwrap_or_default()),
        ),
        Lookup::Str("pass") => rec.level(Level::Ok).value("pass").msg("broker ping passes"),
        Lookup::Str("fail") => {
            let err = details
                .and_then(|d| d.get("error"))
                .and_then(Value::as_str)
                .unwrap_or("no error given");
            rec.level(Level::Crit)
                .value("fail")
                .msg(format!("broker ping fails: {err}"))
        }
        Lookup::Str(other) => rec.level(Level::Unknown).value(other).msg(format!(
            "broker check status '{other}' is neither pass nor fail"
        )),
        other => rec
            .level(Level::Unknown)
            .msg(other.why("checks.broker.status")),
    }
}

/// Why the websocket details hold no `connected`/`stale`: the bot leaves them
/// out unless a market-data stream runs.
fn ws_absent_reason(b: &Body, key: &str) -> String {
    let d = b.details("websocket");
    let flag = |k: &str| {
        d.and_then(|d| d.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    if flag("ws_not_initialized") {
        format!(
            "websocket {key} unknown: streaming is not initialised (ws_not_initialized), so the bot reports no connection state; run the canary with PERPS_ENABLE_STREAMING=1"
        )
    } else if flag("ws_not_supported") {
        format!(
            "websocket {key} unknown: the broker does not support websocket health checks (ws_not_supported)"
        )
    } else if let Some(err) = d.and_then(|d| d.get("error")).and_then(Value::as_str) {
        format!("websocket {key} unknown: the websocket health check failed: {err}")
    } else {
        b.field(&["checks", "websocket", "details", key])
            .why(&format!("checks.websocket.details.{key}"))
    }
}

/// The first websocket age or count that is negative or not finite.
fn ws_implausible(b: &Body) -> Option<String> {
    b.details("websocket")
        .and_then(|d| json::first_implausible("checks.websocket.details", d))
}

/// How the bot's own websocket check ended when it failed: `fails critical`
/// (unhealthy) or `fails with severity warning` (degraded); empty when it passed.
fn ws_check_verdict(b: &Body) -> String {
    match b.field(&["checks", "websocket", "status"]) {
        Lookup::Str("fail") => {
            let sev = b
                .details("websocket")
                .and_then(|d| d.get("severity"))
                .and_then(Value::as_str)
                .unwrap_or("warning");
            if sev == "critical" {
                "; the bot's websocket check fails critical (the bot is unhealthy)".to_owned()
            } else {
                format!("; the bot's websocket check fails with severity {sev}")
            }
        }
        _ => String::new(),
    }
}

/// `checks.websocket.details.connected`: true is GO. A websocket that gave
/// up reconnecting (`max_attempts_triggered`) is the bot's one critical
/// websocket state, and says so whatever `connected` holds.
pub fn ws_connected(b: &Body) -> Record {
    let rec = b.record("health.websocket.connected").expect(true);
    let reconnects = b
        .details("websocket")
        .and_then(|d| d.get("reconnect_count"))
        .cloned()
        .unwrap_or(Value::Null);
    let connected = b.field(&["checks", "websocket", "details", "connected"]);
    match b.field(&["checks", "websocket", "details", "max_attempts_triggered"]) {
        Lookup::Bool(true) => {
            let rec = rec
                .level(Level::Crit)
                .extra("max_attempts_triggered", true)
                .extra("reconnect_count", reconnects.clone());
            let rec = match connected {
                Lookup::Bool(v) => rec.value(v),
                _ => rec,
            };
            return rec.msg(format!(
                "websocket gave up reconnecting: maximum reconnect attempts reached (max_attempts_triggered, reconnect_count {reconnects}){}: NO-GO",
                ws_check_verdict(b)
            ));
        }
        Lookup::Bool(false) | Lookup::Missing(_) => {}
        // The bot writes the flag as a bool. Given twice with different
        // values, or as anything else, "not at max attempts" cannot be
        // told, so connected true proves nothing.
        other if matches!(connected, Lookup::Bool(true)) => {
            return rec.level(Level::Unknown).value(true).msg(format!(
                "websocket connected, but {}",
                other.why("checks.websocket.details.max_attempts_triggered")
            ));
        }
        _ => {}
    }
    match connected {
        Lookup::Bool(true) => rec.level(Level::Ok).value(true).msg("websocket connected"),
        Lookup::Bool(false) => rec.level(Level::Crit).value(false).msg(format!(
            "websocket disconnected (reconnect_count {reconnects}){}: NO-GO",
            ws_check_verdict(b)
        )),
        Lookup::Missing(_) => rec
            .level(Level::Unknown)
            .msg(ws_absent_reason(b, "connected")),
        other => rec
            .level(Level::Unknown)
            .msg(other.why("checks.websocket.details.connected")),
    }
}

/// `checks.websocket.details.stale`: false is GO. The bot evaluates staleness
/// only while connected, so `false` from a disconnected socket proves nothing.
pub fn ws_stale(b: &Body) -> Record {
    let rec = b.record("health.websocket.stale").expect(false);
    let connected = b.field(&["checks", "websocket", "details", "connected"]);
    let odd = ws_implausible(b);
    match b.field(&["checks", "websocket", "details", "stale"]) {
        // The bot's staleness compares these ages: from garbage, false proves nothing.
        Lookup::Bool(false) if odd.is_some() => {
            rec.level(Level::Unknown).value(false).msg(format!(
                "websocket staleness cannot be trusted: {}",
                odd.unwrap_or_default()
            ))
        }
        Lookup::Bool(false) if matches!(connected, Lookup::Bool(true)) => rec
            .level(Level::Ok)
            .value(false)
            .msg("websocket is not stale"),
        Lookup::Bool(false) => rec
            .level(Level::Unknown)
            .value(false)
            .msg("websocket staleness not evaluated: the bot only checks it while connected"),
        Lookup::Bool(true) => {
            let why = b
                .details("websocket")
                .and_then(|d| d.get("stale_reason"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            rec.level(Level::Crit)
                .value(true)
                .msg(format!("websocket is stale (stale_reason {why}): NO-GO"))
        }
        Lookup::Missing(_) => rec.level(Level::Unknown).msg(ws_absent_reason(b, "stale")),
        other => rec
            .level(Level::Unknown)
            .msg(other.why("checks.websocket.details.stale")),
    }
}

/// Runbook §5 "WS Staleness (health)": below WARN ok, from WARN warn, from
/// CRIT crit (`ws_staleness` in the one signal table), applied to
/// `last_message_age_seconds` (the bot itself uses 60/120 s, strict).
pub fn ws_staleness(b: &Body) -> Record {
    let rec = b
        .record("health.websocket.staleness")
        .thresholds(WS_STALENESS_S.record())
        .extra("unit", "s");
    let heartbeat = b
        .details("websocket")
        .and_then(|d| d.get("last_heartbeat_age_seconds"));
    // The bot subscribes to no heartbeats, so its heartbeat age is null:
    // carried as it is, and said to be no evidence, never read as fresh.
    let hb_note = match heartbeat {
        Some(Value::Null) => {
            "; heartbeat age unknown (null: the bot receives no heartbeats), not evidence"
        }
        _ => "",
    };
    let rec = match heartbeat {
        Some(hb) => rec.extra("heartbeat_age_seconds", hb.clone()),
        None => rec,
    };
    match b.field(&["checks", "websocket", "details", "last_message_age_seconds"]) {
        Lookup::Num(age) if age < 0.0 => rec.level(Level::Unknown).msg(format!(
            "checks.websocket.details.last_message_age_seconds is {age}: a negative age is no evidence (a clock stepping back, or not the bot)"
        )),
        Lookup::Num(age) => {
            let level = WS_STALENESS_S.level(age);
            let ago = human_secs(age).unwrap_or_else(|| format!("{age} s"));
            let msg = match level {
                Level::Ok => format!("last websocket message {ago} ago{hb_note}"),
                Level::Warn => format!(
                    "last websocket message {ago} ago (WARN at {}){hb_note}",
                    WS_STALENESS_S.warn_text()
                ),
                _ => format!(
                    "last websocket message {ago} ago: CRIT at {}{hb_note}",
                    WS_STALENESS_S.crit_text()
                ),
            };
            rec.level(level).value(age).msg(msg)
        }
        Lookup::Null => rec.level(Level::Unknown).msg(
            "the bot has no websocket message timestamp yet (last_message_age_seconds is null)",
        ),
        Lookup::Missing(_) => rec
            .level(Level::Unknown)
            .msg(ws_absent_reason(b, "message age")),
        other => rec
            .level(Level::Unknown)
            .msg(other.why("checks.websocket.details.last_message_age_seconds")),
    }
}

/// `checks.degradation.details.global_paused`: false is GO. Judged on the
/// boolean alone; `global_pause_reason` can outlive the pause.
pub fn global_paused(b: &Body) -> Record {
    let rec = b.record("health.degradation.global_paused").expect(false);
    let odd = b
        .details("degradation")
        .and_then(|d| json::first_implausible("checks.degradation.details", d));
    match b.field(&["checks", "degradation", "details", "global_paused"]) {
        Lookup::Bool(false) if odd.is_some() => rec.level(Level::Unknown).value(false).msg(
            format!("global_paused is false, but {}", odd.unwrap_or_default()),
        ),
        Lookup::Bool(false) => rec
            .level(Level::Ok)
            .value(false)
            .msg("trading is not globally paused"),
        Lookup::Bool(true) => {
            let d = b.details("degradation");
            let reason = d
                .and_then(|d| d.get("global_pause_reason"))
                .and_then(Value::as_str)
                .unwrap_or("no reason given");
            let left = d
                .and_then(|d| d.get("global_remaining_seconds"))
                .and_then(Value::as_f64)
                .and_then(human_secs)
                .unwrap_or_else(|| "an unknown time".to_owned());
            rec.level(Level::Crit)
                .value(true)
                .extra("reason", reason)
                .msg(format!(
                    "trading globally paused ({reason}, {left} left): NO-GO"
                ))
        }
        other => rec
            .level(Level::Unknown)
            .msg(degradation_why(b, other, "global_paused")),
    }
}

/// `reduce_only_mode` against the phase: Phase A expects true, Phase B false.
pub fn reduce_only(b: &Body, phase: Option<Phase>) -> Record {
    let mut rec = b.record("health.degradation.reduce_only_mode");
    let reason = b
        .details("degradation")
        .and_then(|d| d.get("reduce_only_reason"))
        .and_then(Value::as_str);
    if let Some(r) = reason {
        rec = rec.extra("reason", r);
    }
    let observed = match b.field(&["checks", "degradation", "details", "reduce_only_mode"]) {
        Lookup::Bool(v) => v,
        other => {
            return rec
                .level(Level::Unknown)
                .msg(degradation_why(b, other, "reduce_only_mode"));
        }
    };
    rec = rec.value(observed);
    let Some(want) = phase.and_then(Phase::expects_reduce_only) else {
        return rec.level(Level::Ok).msg(format!(
            "reduce_only_mode is {observed}; pass --phase a|b to judge it"
        ));
    };
    rec = rec
        .expect(want)
        .extra("phase", phase.map(Phase::as_str).unwrap_or_default());
    match (want, observed) {
        (true, true) | (false, false) => rec.level(Level::Ok).msg(format!("reduce_only_mode is {observed}, as Phase {} expects", if want { "A" } else { "B" })),
        (true, false) => rec.level(Level::Crit).msg(
            "reduce_only_mode is false but Phase A expects true: the bot never sets it from the profile's trading.mode or RISK_REDUCE_ONLY_MODE, only from runtime triggers, so the engine is not forcing reduce-only",
        ),
        (false, true) => rec.level(Level::Crit).msg(format!(
            "reduce_only_mode is true in Phase B (reason {}): a guard trip or websocket staleness set it, and risk_state.json keeps it for the rest of the UTC day",
            reason.unwrap_or("not given")
        )),
    }
}

fn degradation_why(b: &Body, got: Lookup, key: &str) -> String {
    match b
        .details("degradation")
        .and_then(|d| d.get("error"))
        .and_then(Value::as_str)
    {
        Some(err) => format!("{key} unknown: the degradation check failed: {err}"),
        None => got.why(&format!("checks.degradation.details.{key}")),
    }
}

/// Every record of this module, in runbook order.
pub fn all(b: &Body, phase: Option<Phase>) -> Vec<Record> {
    vec![
        status(b),
        broker(b),
        ws_connected(b),
        ws_stale(b),
        ws_staleness(b),
        global_paused(b),
        reduce_only(b, phase),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staleness(age: f64) -> Record {
        let root = json!({"status": "healthy", "checks": {"websocket": {"details": {
            "connected": true, "stale": false, "last_message_age_seconds": age
        }}}});
        let Value::Object(root) = root else {
            unreachable!("an object literal")
        };
        ws_staleness(&Body {
            root: &root,
            http_status: 200,
            tool: "probe-health",
            target: "t",
        })
    }

    fn with(root: Value, http_status: u16, row: impl Fn(&Body) -> Record) -> Record {
        let Value::Object(root) = root else {
            unreachable!("an object literal")
        };
        row(&Body {
            root: &root,
            http_status,
            tool: "probe-health",
            target: "t",
        })
    }

    /// The status row against the bot's own statuses and codes: a 5xx, or
    /// `live`/`ready` saying the bot is not up, is never healthy; what is
    /// not the bot's vocabulary is unknown.
    #[test]
    fn the_status_row_by_status_code_and_flags() {
        let cases = [
            (json!({"status": "healthy"}), 200, Level::Ok),
            (json!({"status": "degraded"}), 200, Level::Warn),
            (json!({"status": "unhealthy"}), 503, Level::Crit),
            (json!({"status": "starting"}), 503, Level::Crit),
            (json!({"status": "shutdown"}), 503, Level::Crit),
            (json!({"status": "healthy"}), 503, Level::Unknown),
            (json!({"status": "degraded"}), 500, Level::Unknown),
            (
                json!({"status": "healthy", "live": false}),
                200,
                Level::Unknown,
            ),
            (
                json!({"status": "healthy", "ready": null}),
                200,
                Level::Unknown,
            ),
            (
                json!({"status": "healthy", "live": true, "ready": true}),
                200,
                Level::Ok,
            ),
            (json!({"status": "Healthy"}), 200, Level::Unknown),
            (json!({"status": 1}), 200, Level::Unknown),
            (json!({}), 200, Level::Unknown),
        ];
        for (root, code, want) in cases {
            let rec = with(root.clone(), code, status);
            assert_eq!(rec.level, want, "{root} HTTP {code}: {}", rec.msg);
        }
    }

    /// reduce_only_mode against the phase: Phase A expects true, Phase B
    /// false, no phase judges nothing; anything but a boolean is unknown.
    #[test]
    fn the_reduce_only_row_by_phase() {
        let body = |v: Value| json!({"status": "healthy", "checks": {"degradation": {"details": {"reduce_only_mode": v}}}});
        let cases = [
            (json!(true), Some(Phase::A), Level::Ok),
            (json!(false), Some(Phase::A), Level::Crit),
            (json!(false), Some(Phase::B), Level::Ok),
            (json!(true), Some(Phase::B), Level::Crit),
            (json!(true), None, Level::Ok),
            (json!("true"), Some(Phase::A), Level::Unknown),
            (json!(null), Some(Phase::B), Level::Unknown),
        ];
        for (v, phase, want) in cases {
            let rec = with(body(v.clone()), 200, |b| reduce_only(b, phase));
            assert_eq!(rec.level, want, "{v} in {phase:?}: {}", rec.msg);
        }
        let absent = with(json!({"status": "healthy"}), 200, |b| {
            reduce_only(b, Some(Phase::A))
        });
        assert_eq!(absent.level, Level::Unknown, "{}", absent.msg);
    }

    /// The message states the table's lines, whatever they are.
    #[test]
    fn staleness_says_the_table_thresholds() {
        let warn = staleness(WS_STALENESS_S.warn);
        assert_eq!(warn.level, Level::Warn);
        assert!(
            warn.msg
                .contains(&format!("(WARN at {})", WS_STALENESS_S.warn_text())),
            "{}",
            warn.msg
        );
        let crit = staleness(WS_STALENESS_S.crit + 15.0);
        assert_eq!(crit.level, Level::Crit);
        assert!(
            crit.msg
                .contains(&format!("CRIT at {}", WS_STALENESS_S.crit_text())),
            "{}",
            crit.msg
        );
        assert_eq!(staleness(0.0).level, Level::Ok);
    }
}

//! After shutdown the bot keeps serving `/health` for a moment, but its
//! check rows are a cache that nothing refreshes any more: they keep their
//! last values (broker pass, websocket connected) while the process winds
//! down. They are stale evidence, so every row read from them is `unknown`.
//! `performance` and the signals are computed on each request, and the
//! status, `/live` and `/ready` describe the shutdown itself: they stay.

use crate::body::Body;
use canary_core::{Level, Record};
use serde_json::Value;

/// The bot's reasons while it shuts down.
const SHUTDOWN_REASONS: [&str; 2] = ["shutdown", "trading_bot_shutdown"];

/// Why the body's checks are frozen, if they are: `live` false, status
/// `shutdown`, or a shutdown reason.
pub fn after_shutdown(b: &Body) -> Option<String> {
    let live = b.root.get("live");
    let status = b.root.get("status").and_then(Value::as_str);
    let reason = b.root.get("reason").and_then(Value::as_str);
    if live == Some(&Value::Bool(false)) {
        Some(format!(
            "the bot is not live (reason {}): it is shutting down",
            reason.unwrap_or("not given")
        ))
    } else if status == Some("shutdown") {
        Some("the bot reports status shutdown".to_owned())
    } else {
        reason
            .filter(|r| SHUTDOWN_REASONS.contains(r))
            .map(|r| format!("the bot reports reason {r}: it is shutting down"))
    }
}

/// Whether a record is read from the bot's cached check rows.
fn from_cached_checks(name: &str) -> bool {
    matches!(
        name,
        "health.broker"
            | "health.websocket.connected"
            | "health.websocket.stale"
            | "health.websocket.staleness"
            | "health.degradation.global_paused"
            | "health.degradation.reduce_only_mode"
    ) || (name.starts_with("health.check.") && name != "health.check.performance")
}

/// A cached row's record, made `unknown` and marked frozen.
pub fn stale(rec: Record, why: &str) -> Record {
    if !from_cached_checks(&rec.name) {
        return rec;
    }
    let was = rec.msg.clone();
    rec.level(Level::Unknown).extra("frozen", true).msg(format!(
        "frozen after shutdown, stale: {why}, and its cached checks keep their last values (last read: {was})"
    ))
}

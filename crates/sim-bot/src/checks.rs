//! Builders for the five checks the bot registers, each in the shapes the
//! real code produces (docs/bot.md#health-checks).

use crate::health::Check;
use serde_json::{Value, json};

pub fn broker_ok(latency_ms: f64) -> Check {
    Check {
        name: "broker",
        pass: true,
        details: json!({"severity": "critical", "latency_ms": latency_ms, "method": "get_time"}),
    }
}

pub fn broker_down() -> Check {
    Check {
        name: "broker",
        pass: false,
        details: json!({"severity": "critical", "latency_ms": 5003.21,
            "error": "HTTPSConnectionPool(host='api.coinbase.com', port=443): Read timed out. (read timeout=5)",
            "error_type": "ReadTimeout"}),
    }
}

/// The real canary's mock broker: `list_balances`, no websocket support.
pub fn broker_mock() -> Check {
    Check {
        name: "broker",
        pass: true,
        details: json!({"severity": "critical", "latency_ms": 0.02, "method": "list_balances"}),
    }
}

/// `check_degradation_state`. A global pause fails the check as critical.
/// `reduce_only` is `Some("")` for reduce-only without a reason.
pub fn degradation(pause: Option<(&str, i64)>, reduce_only: Option<&str>) -> Check {
    let mut d = json!({
        "severity": if pause.is_some() { "critical" } else { "warning" },
        "global_paused": pause.is_some(),
        "global_pause_reason": pause.map(|p| p.0),
        "global_remaining_seconds": pause.map_or(0, |p| p.1),
        "paused_symbol_count": 0,
        "reduce_only_mode": reduce_only.is_some(),
    });
    if let Some(reason) = reduce_only.filter(|r| !r.is_empty()) {
        d["reduce_only_reason"] = json!(reason);
    }
    Check {
        name: "degradation",
        pass: pause.is_none(),
        details: d,
    }
}

pub fn ticker_fresh() -> Check {
    Check {
        name: "ticker_freshness",
        pass: true,
        details: json!({"severity": "warning", "symbol_count": 1, "symbols_checked": ["BTC-USD"],
            "fresh_symbols": ["BTC-USD"], "stale_symbols": [], "stale_count": 0, "stale": false}),
    }
}

/// The real canary today: nothing fills the ticker cache, every symbol is
/// stale, severity critical.
pub fn ticker_all_stale() -> Check {
    Check {
        name: "ticker_freshness",
        pass: false,
        details: json!({"severity": "critical", "symbol_count": 1, "symbols_checked": ["BTC-USD"],
            "fresh_symbols": [], "stale_symbols": ["BTC-USD"], "stale_count": 1, "stale": true}),
    }
}

/// A fresh feed: the real bot reports no timeout delay (`0.0`) and puts
/// `severity` last.
pub fn market_data_ok(age_seconds: f64, now_epoch: f64) -> Check {
    Check {
        name: "market_data_feed",
        pass: true,
        details: json!({"age_seconds": age_seconds, "threshold_warn_seconds": 10.0,
            "threshold_crit_seconds": 30.0, "status": "OK", "last_update_ts": now_epoch - age_seconds,
            "timeout_attempt": 1, "timeout_delay_seconds": 0.0, "timeout_capped": false,
            "severity": "ok"}),
    }
}

/// No timestamp yet: a pass with a nested signal status `UNKNOWN` and no severity key.
pub fn market_data_unknown() -> Check {
    Check {
        name: "market_data_feed",
        pass: true,
        details: json!({"age_seconds": 0.0, "threshold_warn_seconds": 10.0, "threshold_crit_seconds": 30.0,
            "status": "UNKNOWN", "timestamp_unavailable": true, "skipped": true,
            "reason": "market_data_timestamp_unavailable"}),
    }
}

/// A streaming broker's websocket. Staleness is only evaluated while
/// connected: message age > 60 s or heartbeat age > 120 s, strictly. The
/// bot never subscribes to heartbeats, so their age is always null here.
/// Running out of reconnect attempts fails the check as critical.
pub fn ws_streaming(
    connected: bool,
    message_age: Option<f64>,
    reconnects: i64,
    max_attempts_triggered: bool,
) -> Check {
    let heartbeat_age: Option<f64> = None;
    let stale_reason = if !connected {
        None
    } else if message_age.is_some_and(|a| a > 60.0) {
        Some("message")
    } else if heartbeat_age.is_some_and(|a| a > 120.0) {
        Some("heartbeat")
    } else {
        None
    };
    let mut d = json!({
        "severity": if max_attempts_triggered { "critical" } else { "warning" },
        "connected": connected,
        "last_message_age_seconds": message_age,
        "last_heartbeat_age_seconds": heartbeat_age,
        "gap_count": 0,
        "reconnect_count": reconnects,
        "max_attempts_triggered": max_attempts_triggered,
        "stale": stale_reason.is_some(),
    });
    if let Some(r) = stale_reason {
        d["stale_reason"] = Value::from(r);
    }
    Check {
        name: "websocket",
        pass: connected && stale_reason.is_none() && !max_attempts_triggered,
        details: d,
    }
}

/// The normal live case without streaming: `get_ws_health()` returned `{}`.
pub fn ws_not_initialized() -> Check {
    Check {
        name: "websocket",
        pass: true,
        details: json!({"severity": "warning", "ws_not_initialized": true}),
    }
}

/// A broker without `get_ws_health` (the deterministic mock).
pub fn ws_not_supported() -> Check {
    Check {
        name: "websocket",
        pass: true,
        details: json!({"severity": "warning", "error": "Broker does not support WebSocket health checks",
            "ws_not_supported": true}),
    }
}

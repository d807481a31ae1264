//! The `/health` object (`app/health_server.py`, `_build_health_response`) and
//! the bot's five execution-health signals (`compute_execution_health_signals`),
//! computed from the simulated collector so `/health` and `/metrics` agree.

use crate::collector::Collector;
use serde_json::{Map, Value, json};

/// One registered check's result: `{"status": "pass"|"fail", "details": {...}}`.
#[derive(Debug, Clone)]
pub struct Check {
    pub name: &'static str,
    pub pass: bool,
    pub details: Value,
}

/// The `performance` entry, which has its own shape.
#[derive(Debug, Clone)]
pub struct Performance {
    pub status: &'static str,
    pub issues: Vec<String>,
    pub memory_usage_mb: f64,
    pub cpu_usage_percent: f64,
}

impl Performance {
    pub fn healthy() -> Performance {
        Performance {
            status: "healthy",
            issues: vec![],
            memory_usage_mb: 436.16,
            cpu_usage_percent: 12.5,
        }
    }

    /// A busy host: the check reads system-wide CPU, not the bot's.
    pub fn busy_host() -> Performance {
        Performance {
            status: "degraded",
            issues: vec!["High CPU usage: 100.0%".into()],
            memory_usage_mb: 436.16,
            cpu_usage_percent: 100.0,
        }
    }
}

/// What `/health` reports besides the metrics.
#[derive(Debug, Clone)]
pub struct HealthState {
    pub live: bool,
    pub ready: bool,
    pub reason: String,
    pub checks: Vec<Check>,
    pub performance: Performance,
}

/// The `/health` body and whether it is served as 200 (healthy, degraded) or 503.
pub fn health_response(state: &HealthState, collector: &Collector) -> (u16, Value) {
    let signals = compute_signals(collector);
    let status = overall_status(state, &signals);
    let mut checks = Map::new();
    for c in &state.checks {
        checks.insert(
            c.name.to_owned(),
            json!({"status": if c.pass { "pass" } else { "fail" }, "details": c.details}),
        );
    }
    let p = &state.performance;
    checks.insert(
        "performance".into(),
        json!({"status": p.status, "issues": p.issues, "metrics": {
            "total_metrics": collector.total_series(),
            "memory_usage_mb": p.memory_usage_mb,
            "cpu_usage_percent": p.cpu_usage_percent,
        }}),
    );
    let body = json!({
        "status": status,
        "live": state.live,
        "ready": state.ready,
        "reason": state.reason,
        "checks": checks,
        "signals": signals,
    });
    let code = if matches!(status, "healthy" | "degraded") {
        200
    } else {
        503
    };
    (code, body)
}

/// docs/bot.md#health-body, in the bot's order: liveness and readiness, then performance, then
/// failing checks by severity, then signals.
fn overall_status(state: &HealthState, signals: &Value) -> &'static str {
    let mut status = if !state.live {
        "unhealthy"
    } else if !state.ready {
        "starting"
    } else {
        match state.performance.status {
            "degraded" => "degraded",
            "unhealthy" => "unhealthy",
            _ => "healthy",
        }
    };
    if matches!(status, "healthy" | "degraded") {
        for c in state.checks.iter().filter(|c| !c.pass) {
            match c
                .details
                .get("severity")
                .and_then(Value::as_str)
                .unwrap_or("warning")
            {
                "critical" => {
                    status = "unhealthy";
                    break;
                }
                "warning" if status == "healthy" => status = "degraded",
                _ => {}
            }
        }
    }
    if matches!(status, "healthy" | "degraded") {
        match signals.get("status").and_then(Value::as_str) {
            Some("CRIT") => status = "unhealthy",
            Some("WARN") if status == "healthy" => status = "degraded",
            _ => {}
        }
    }
    status
}

struct SignalDef {
    name: &'static str,
    warn: f64,
    crit: f64,
    unit: &'static str,
}

const SIGNALS: [SignalDef; 5] = [
    SignalDef {
        name: "order_error_rate",
        warn: 0.05,
        crit: 0.15,
        unit: "ratio",
    },
    SignalDef {
        name: "order_retry_rate",
        warn: 0.10,
        crit: 0.25,
        unit: "ratio",
    },
    SignalDef {
        name: "broker_latency_p95",
        warn: 1000.0,
        crit: 3000.0,
        unit: "ms",
    },
    SignalDef {
        name: "guard_trip_count",
        warn: 3.0,
        crit: 10.0,
        unit: "count",
    },
    SignalDef {
        name: "missing_decision_id_count",
        warn: 1.0,
        crit: 3.0,
        unit: "count",
    },
];

/// The `signals` object: lifetime-cumulative, inclusive thresholds
/// (docs/bot.md#signals).
pub fn compute_signals(c: &Collector) -> Value {
    let (total, failed) = c
        .counters()
        .filter(|(k, _)| k.starts_with("gpt_trader_order_submission_total"))
        .fold((0i64, 0i64), |(t, f), (k, v)| {
            let bad = k.contains("result=failed") || k.contains("result=rejected");
            (t + v, if bad { f + v } else { f })
        });
    let error_rate = if total > 0 {
        failed as f64 / total as f64
    } else {
        0.0
    };

    let broker: Vec<_> = c
        .histograms()
        .filter(|(k, _)| k.starts_with("gpt_trader_broker_call_latency_seconds"))
        .collect();
    let calls: u64 = broker.iter().map(|(_, h)| h.count).sum();
    let call_failures: u64 = broker
        .iter()
        .filter(|(k, _)| k.contains("outcome=failure"))
        .map(|(_, h)| h.count)
        .sum();
    let retry_rate = if total > 0 && calls as i64 > total {
        (calls as i64 - total) as f64 / total as f64
    } else {
        0.0
    };

    let p95 = broker
        .iter()
        .find(|(k, _)| k.contains("outcome=success"))
        .map_or(0.0, |(_, h)| {
            if h.count == 0 {
                return 0.0;
            }
            let target = 0.95 * h.count as f64;
            h.bounds
                .iter()
                .zip(&h.cumulative)
                .find(|(_, c)| **c as f64 >= target)
                .map_or(h.sum / h.count as f64 * 1000.0 * 1.5, |(b, _)| b * 1000.0)
        });

    let guard_trips: i64 = c
        .counters()
        .filter(|(k, _)| {
            let k = k.to_lowercase();
            k.contains("guard") && (k.contains("failure") || k.contains("trip"))
        })
        .map(|(_, v)| v)
        .sum();
    let missing: i64 = c
        .counters()
        .filter(|(k, _)| *k == "gpt_trader_order_missing_decision_id_total")
        .map(|(_, v)| v)
        .sum();

    let values = [
        error_rate,
        retry_rate,
        p95,
        guard_trips as f64,
        missing as f64,
    ];
    let details = [
        json!({"total_submissions": total, "failed_submissions": failed}),
        json!({"broker_call_count": calls, "broker_call_failures": call_failures, "submission_count": total}),
        json!({}),
        json!({}),
        json!({}),
    ];
    let mut list = Vec::new();
    let (mut crit, mut warn) = (0, 0);
    for ((def, value), details) in SIGNALS.iter().zip(values).zip(details) {
        let status = if value >= def.crit {
            crit += 1;
            "CRIT"
        } else if value >= def.warn {
            warn += 1;
            "WARN"
        } else {
            "OK"
        };
        list.push(json!({
            "name": def.name, "status": status, "value": value,
            "threshold_warn": def.warn, "threshold_crit": def.crit,
            "unit": def.unit, "details": details,
        }));
    }
    let (status, message) = if crit > 0 {
        let extra = if warn > 0 {
            format!(", {warn} warning(s)")
        } else {
            String::new()
        };
        ("CRIT", format!("{crit} critical signal(s){extra}"))
    } else if warn > 0 {
        ("WARN", format!("{warn} warning signal(s)"))
    } else {
        ("OK", "All signals OK".to_owned())
    };
    json!({"status": status, "message": message, "signals": list})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::LATENCY_BOUNDS;

    fn submit(c: &mut Collector, secs: f64) {
        c.inc(
            "gpt_trader_order_submission_total",
            &[("reason", "none"), ("result", "success"), ("side", "sell")],
            1,
        );
        let labels = [
            ("operation", "submit"),
            ("outcome", "success"),
            ("reason", "none"),
        ];
        c.observe(
            "gpt_trader_broker_call_latency_seconds",
            &labels,
            &LATENCY_BOUNDS,
            secs,
        );
    }

    #[test]
    fn p95_is_a_bucket_bound_and_the_verified_case_is_warn() {
        // The bot's own result (docs/bot.md#signals): 10 × 0.12 s, 8 × 0.3 s, 1 × 0.7 s → 1000.0, WARN.
        let mut c = Collector::default();
        for s in std::iter::repeat_n(0.12, 10)
            .chain(std::iter::repeat_n(0.3, 8))
            .chain([0.7])
        {
            submit(&mut c, s);
        }
        let signals = compute_signals(&c);
        let p95 = &signals["signals"][2];
        assert_eq!(p95["name"], "broker_latency_p95");
        assert_eq!(p95["value"], 1000.0);
        assert_eq!(p95["status"], "WARN");
        assert_eq!(signals["message"], "1 warning signal(s)");
    }

    #[test]
    fn the_tenth_lifetime_guard_trip_makes_the_bot_503() {
        let state = HealthState {
            live: true,
            ready: true,
            reason: "trading_bot_running".into(),
            checks: vec![],
            performance: Performance::healthy(),
        };
        let mut c = Collector::default();
        for _ in 0..9 {
            crate::traffic::record_guard_trip(&mut c, "mark_staleness");
        }
        let (code, body) = health_response(&state, &c);
        assert_eq!((code, body["status"].as_str()), (200, Some("degraded")));
        crate::traffic::record_guard_trip(&mut c, "mark_staleness");
        let (code, body) = health_response(&state, &c);
        assert_eq!((code, body["status"].as_str()), (503, Some("unhealthy")));
        assert_eq!(body["signals"]["signals"][3]["value"], 10.0);
        assert_eq!(body["signals"]["signals"][3]["status"], "CRIT");
    }

    #[test]
    fn failing_critical_check_makes_503_unhealthy() {
        let state = HealthState {
            live: true,
            ready: true,
            reason: "trading_bot_running".into(),
            checks: vec![Check {
                name: "broker",
                pass: false,
                details: json!({"severity": "critical"}),
            }],
            performance: Performance::healthy(),
        };
        let (code, body) = health_response(&state, &Collector::default());
        assert_eq!((code, body["status"].as_str()), (503, Some("unhealthy")));
    }

    #[test]
    fn failing_check_without_severity_escalates_as_warning() {
        let state = HealthState {
            live: true,
            ready: true,
            reason: "x".into(),
            checks: vec![Check {
                name: "websocket",
                pass: false,
                details: json!({"error": "boom"}),
            }],
            performance: Performance::healthy(),
        };
        let (code, body) = health_response(&state, &Collector::default());
        assert_eq!((code, body["status"].as_str()), (200, Some("degraded")));
    }
}

//! Named states of the bot. Each builds the checks the bot would report and
//! the traffic behind its metrics; `/health`'s status, HTTP code and signals
//! are then derived by the bot's own rules, never written in by hand.

use crate::checks::*;
use crate::collector::{Collector, Num};
use crate::health::{Check, HealthState, Performance};
use crate::traffic::{
    Order, Outcome, record_cancel, record_guard_checks, record_guard_trip, record_order,
};

/// A simulated bot: what `/health` and `/metrics` are computed from.
#[derive(Debug, Clone)]
pub struct Bot {
    pub health: HealthState,
    pub collector: Collector,
    pub metrics_enabled: bool,
}

/// Every scenario: name and what it shows.
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "healthy-a",
        "Phase A as the runbook expects it (hypothetical: the real bot reports reduce_only_mode false, see real-canary): streaming, connected, reduce-only on, 12 clean closes",
    ),
    (
        "healthy-b",
        "Phase B: streaming, connected, reduce-only off, 60 orders, 1 failure (1.7%)",
    ),
    (
        "ws-stale",
        "websocket connected but last message 75 s old: stale, degraded; the watchdog set reduce-only",
    ),
    (
        "ws-not-initialized",
        "no market-data stream: websocket details lack connected/stale (contracts §1.5.2)",
    ),
    (
        "ws-disconnected",
        "websocket disconnected after 3 reconnects: degraded",
    ),
    (
        "global-pause",
        "guard failure daily_loss: global pause 299 s, reduce-only, 503 unhealthy",
    ),
    ("unhealthy", "broker ping fails (critical): 503 unhealthy"),
    (
        "starting",
        "process up, not ready: 503 starting, only the performance check, empty /metrics",
    ),
    (
        "real-canary",
        "the real canary today: ticker_freshness critical (503), reduce_only_mode false, mock broker",
    ),
    (
        "metrics-disabled",
        "healthy Phase B, but /metrics answers 404 with the bot's hint",
    ),
    (
        "order-errors-crit",
        "40 orders, 8 failed or rejected (20%): order_error_rate CRIT, 503",
    ),
    (
        "order-errors-warn",
        "the contracts §2.5 body: 20 orders, 2 bad (10%), p95 1000 ms WARN, one guard trip",
    ),
    (
        "latency-warn",
        "19 submits, 10 x 0.12 s, 8 x 0.3 s, 1 x 0.7 s: broker_latency_p95 1000 ms WARN, degraded",
    ),
    (
        "guard-trips-crit",
        "12 recoverable mark_staleness guard trips: guard_trip_count CRIT, 503",
    ),
    (
        "live",
        "healthy Phase B whose counters grow with time (see --order-rate, --failure-ratio)",
    ),
];

pub fn names() -> impl Iterator<Item = &'static str> {
    SCENARIOS.iter().map(|(n, _)| *n)
}

/// Build a scenario as it stands at `now_epoch` (seconds).
pub fn build(name: &str, now_epoch: f64) -> Option<Bot> {
    let streaming = |reduce_only: Option<&str>| -> Vec<Check> {
        vec![
            broker_ok(142.37),
            degradation(None, reduce_only, None),
            ticker_fresh(),
            market_data_ok(1.4, now_epoch),
            ws_streaming(true, Some(2.1), Some(1.0), 0),
        ]
    };
    let mut c = Collector::default();
    let mut metrics_enabled = true;
    let checks = match name {
        "healthy-a" => {
            for i in 0..12 {
                record_order(&mut c, Order::ok("sell", 0.08 + 0.01 * f64::from(i % 5)));
            }
            record_guard_checks(&mut c, 12);
            ws_gauges(&mut c, true, 2.1);
            streaming(Some(""))
        }
        "healthy-b" | "metrics-disabled" | "live" => {
            phase_b_traffic(&mut c);
            metrics_enabled = name != "metrics-disabled";
            ws_gauges(&mut c, true, 2.1);
            streaming(None)
        }
        "ws-stale" => {
            phase_b_traffic(&mut c);
            ws_gauges(&mut c, true, 75.0);
            vec![
                broker_ok(150.2),
                degradation(None, Some("ws_message_stale"), Some("ws_message_stale")),
                ticker_fresh(),
                market_data_ok(2.0, now_epoch),
                ws_streaming(true, Some(75.0), Some(12.0), 0),
            ]
        }
        "ws-not-initialized" => {
            phase_b_traffic(&mut c);
            let mut checks = streaming(None);
            checks[4] = ws_not_initialized();
            checks
        }
        "ws-disconnected" => {
            phase_b_traffic(&mut c);
            ws_gauges(&mut c, false, 41.0);
            let mut checks = streaming(None);
            checks[4] = ws_streaming(false, Some(41.0), Some(38.5), 3);
            checks
        }
        "global-pause" => {
            phase_b_traffic(&mut c);
            record_guard_trip(&mut c, "daily_loss");
            ws_gauges(&mut c, true, 3.2);
            vec![
                broker_ok(133.0),
                degradation(
                    Some(("guard_failure:daily_loss", 299)),
                    Some("guard_failure:daily_loss"),
                    None,
                ),
                ticker_fresh(),
                market_data_ok(1.1, now_epoch),
                ws_streaming(true, Some(3.2), Some(1.0), 1),
            ]
        }
        "unhealthy" => {
            phase_b_traffic(&mut c);
            let mut checks = streaming(None);
            checks[0] = broker_down();
            checks
        }
        "starting" => {
            return Some(Bot {
                health: HealthState {
                    live: true,
                    ready: false,
                    reason: "initializing".into(),
                    checks: vec![],
                    performance: Performance::healthy(),
                },
                collector: c,
                metrics_enabled,
            });
        }
        "real-canary" => {
            c.inc(
                "gpt_trader_ticker_freshness_checks_total",
                &[("result", "error")],
                4,
            );
            c.inc("gpt_trader_ticker_stale_symbols_total", &[], 4);
            for d in [0.0011, 0.0009, 0.0012, 0.001] {
                c.observe(
                    "gpt_trader_profile_duration_seconds",
                    &[("phase", "ticker_freshness")],
                    &crate::collector::LATENCY_BOUNDS,
                    d,
                );
            }
            vec![
                broker_mock(),
                degradation(None, None, None),
                ticker_all_stale(),
                market_data_unknown(),
                ws_not_supported(),
            ]
        }
        "order-errors-crit" => {
            for i in 0..40 {
                let outcome = match i % 5 {
                    0 if i < 20 => Outcome::Failed,
                    0 => Outcome::Rejected,
                    _ => Outcome::Success,
                };
                record_order(
                    &mut c,
                    Order {
                        side: if i % 2 == 0 { "buy" } else { "sell" },
                        outcome,
                        latency_s: 0.15,
                        retried: false,
                    },
                );
            }
            ws_gauges(&mut c, true, 2.0);
            streaming(None)
        }
        "order-errors-warn" => {
            contracts_2_5(&mut c);
            ws_gauges(&mut c, true, 3.2000000000000455);
            streaming(None)
        }
        "latency-warn" => {
            for s in std::iter::repeat_n(0.12, 10)
                .chain(std::iter::repeat_n(0.3, 8))
                .chain([0.7])
            {
                record_order(&mut c, Order::ok("sell", s));
            }
            ws_gauges(&mut c, true, 2.0);
            streaming(None)
        }
        "guard-trips-crit" => {
            phase_b_traffic(&mut c);
            for _ in 0..12 {
                record_guard_trip(&mut c, "mark_staleness");
            }
            ws_gauges(&mut c, true, 2.0);
            streaming(None)
        }
        _ => return None,
    };
    c.set("gpt_trader_equity_dollars", &[], Num::Float(1234.5));
    Some(Bot {
        health: HealthState {
            live: true,
            ready: true,
            reason: "trading_bot_running".into(),
            checks,
            performance: Performance::healthy(),
        },
        collector: c,
        metrics_enabled,
    })
}

/// 60 orders, one timed out: a clean Phase B window.
fn phase_b_traffic(c: &mut Collector) {
    for i in 0..60 {
        let outcome = if i == 41 {
            Outcome::Failed
        } else {
            Outcome::Success
        };
        let side = if i % 3 == 0 { "sell" } else { "buy" };
        record_order(
            c,
            Order {
                side,
                outcome,
                latency_s: 0.06 + 0.02 * f64::from(i % 7),
                retried: false,
            },
        );
    }
    record_cancel(c, 0.04);
    record_guard_checks(c, 60);
}

/// The traffic behind contracts §2.5's verified body.
fn contracts_2_5(c: &mut Collector) {
    record_cancel(c, 0.05);
    for s in std::iter::repeat_n(0.2, 10).chain(std::iter::repeat_n(0.4, 8)) {
        record_order(c, Order::ok("sell", s));
    }
    record_order(
        c,
        Order {
            side: "sell",
            outcome: Outcome::Rejected,
            latency_s: 0.9,
            retried: false,
        },
    );
    record_order(
        c,
        Order {
            side: "buy",
            outcome: Outcome::Failed,
            latency_s: 2.0,
            retried: false,
        },
    );
    record_guard_trip(c, "mark_staleness");
}

fn ws_gauges(c: &mut Collector, connected: bool, message_age: f64) {
    c.set(
        "gpt_trader_ws_connected",
        &[],
        Num::Int(i64::from(connected)),
    );
    c.set(
        "gpt_trader_ws_message_stale",
        &[],
        Num::Int(i64::from(message_age > 15.0)),
    );
    c.set("gpt_trader_ws_heartbeat_stale", &[], Num::Int(0));
    c.set(
        "gpt_trader_ws_last_message_age_seconds",
        &[],
        Num::Float(message_age),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::health_response;

    fn status(name: &str) -> (u16, String) {
        let bot = build(name, 1_790_000_000.0).expect("scenario exists");
        let (code, body) = health_response(&bot.health, &bot.collector);
        (code, body["status"].as_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn statuses_follow_from_the_bots_rules() {
        assert_eq!(status("healthy-a"), (200, "healthy".into()));
        assert_eq!(status("healthy-b"), (200, "healthy".into()));
        assert_eq!(status("ws-stale"), (200, "degraded".into()));
        assert_eq!(status("ws-disconnected"), (200, "degraded".into()));
        assert_eq!(status("global-pause"), (503, "unhealthy".into()));
        assert_eq!(status("unhealthy"), (503, "unhealthy".into()));
        assert_eq!(status("starting"), (503, "starting".into()));
        assert_eq!(status("real-canary"), (503, "unhealthy".into()));
        assert_eq!(status("order-errors-crit"), (503, "unhealthy".into()));
        assert_eq!(status("order-errors-warn"), (200, "degraded".into()));
        assert_eq!(status("latency-warn"), (200, "degraded".into()));
        assert_eq!(status("guard-trips-crit"), (503, "unhealthy".into()));
    }

    #[test]
    fn every_listed_scenario_builds() {
        for name in names() {
            assert!(build(name, 0.0).is_some(), "{name}");
        }
        assert!(build("nope", 0.0).is_none());
    }
}

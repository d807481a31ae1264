//! Named states of the bot. Each scenario is a [`Spec`]: the bot's lifecycle,
//! broker, websocket, guard pause, ticker cache and traffic. The checks,
//! the watchdog's pause, the websocket gauges and the metrics all follow from
//! it by the bot's own rules (docs/bot.md), never written in by hand.

use crate::checks::*;
use crate::collector::Collector;
use crate::engine::{self, Ticker};
use crate::health::{Check, HealthState, Performance};
use crate::traffic::{
    Failure, Order, Rejection, record_cancel, record_guard_checks, record_guard_trip, record_order,
};
use clap::ValueEnum;
use std::time::Duration;

/// The bot state to serve. `--help` and `--list` print these descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Phase A as the runbook pictures it (the real bot reports reduce_only_mode false, see real-canary): streaming, connected, reduce-only on, 12 clean sells.
    HealthyA,
    /// Phase B: streaming, connected, reduce-only off, 60 orders, 1 timed out after two attempts (1.7 %).
    HealthyB,
    /// Websocket connected but silent for 75 s: stale, and the watchdog's 30 s global pause (renewed every 5 s) makes /health 503.
    WsStale,
    /// No market-data stream: websocket details lack connected/stale, no websocket gauges.
    WsNotInitialized,
    /// Websocket disconnected after 3 reconnects: paused and 503 on every request, while gpt_trader_ws_connected stays 1.0.
    WsDisconnected,
    /// The websocket gave up reconnecting (max_attempts_triggered): critical, 503, paused.
    MaxReconnect,
    /// Guard failure daily_loss: global pause 299 s, reduce-only, 503 unhealthy.
    GlobalPause,
    /// Broker ping fails (critical): 503 unhealthy.
    Unhealthy,
    /// Process up, not ready (reason cli_run): 503 starting, only the performance check, empty /metrics.
    Starting,
    /// After shutdown: live false, 503, the checks frozen at their last (healthy) values.
    Shutdown,
    /// The real canary today: ticker_freshness critical (503), reduce_only_mode false, mock broker, no orders.
    RealCanary,
    /// The managed canary runs dry: every order is rejected (broker_status), error rate 100 %, 503.
    DryRun,
    /// Healthy Phase B, but /metrics answers 404 with the bot's hint.
    MetricsDisabled,
    /// 40 orders, 8 failed or rejected (20 %): order_error_rate CRIT, 503.
    OrderErrorsCrit,
    /// 20 orders, 2 bad (10 %), p95 1000 ms, retry rate 10 % (the timeout's second attempt): degraded; one guard trip.
    OrderErrorsWarn,
    /// Transient failures retried by the bot: 50 orders, 5 succeed on a second attempt, 1 fails after two: retry rate 12 % WARN.
    Retries,
    /// 19 submits, 10 x 0.12 s, 8 x 0.3 s, 1 x 0.7 s: broker_latency_p95 1000 ms WARN, degraded.
    LatencyWarn,
    /// 12 recoverable mark_staleness guard trips: guard_trip_count CRIT, 503.
    GuardTripsCrit,
    /// Healthy Phase B whose counters grow with time (see --order-rate, --failure-ratio).
    Live,
    /// Healthy Phase B with the money gauges: equity flat at --start-equity, breakers closed, API healthy.
    EquityFlat,
    /// Equity loses --equity-bleed-pct-per-min of its start every minute.
    EquitySlowBleed,
    /// Equity falls by --equity-drop-pct at --money-after.
    EquitySuddenDrop,
    /// At --money-after the bot restarts (every series gone for --restart-gap), then equity is back --equity-drop-pct lower.
    EquityRestart,
    /// The orders circuit breaker opens (state 2) at --money-after.
    BreakerOpen,
    /// From --money-after the bot submits --runaway-rate orders a second.
    OrderRunaway,
    /// From --money-after the API error rate is 8 % and the rate-limit usage 96 %.
    ApiDegraded,
    /// Live, paired with production (--role picks the side): the canary 4 % errors and 250 ms mean latency, production 0.5 % and 120 ms.
    VersusWorse,
    /// Live, paired with production (--role picks the side): both 2 % errors and 120 ms mean latency.
    VersusSame,
    /// Live, paired with production (--role picks the side): the canary 0.5 % errors, production 4 %; both 120 ms.
    VersusBetter,
}

/// One side of a versus-* pairing: the live traffic's error ratio and mean
/// broker latency. The rest (order rate, retries, seed) is the command line's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Side {
    pub failure_ratio: f64,
    pub latency_ms: f64,
}

/// A side of a pairing, briefly.
const fn side(failure_ratio: f64, latency_ms: f64) -> Side {
    Side {
        failure_ratio,
        latency_ms,
    }
}

/// Everything a scenario is made of, in one row: the bot's state, what its
/// money does over time (money scenarios), and each side's traffic
/// (versus-* pairings: the canary, then production).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub spec: Spec,
    pub money: Option<crate::money::Path>,
    pub versus: Option<(Side, Side)>,
}

impl Row {
    const fn state(spec: Spec) -> Row {
        Row {
            spec,
            money: None,
            versus: None,
        }
    }

    /// Healthy Phase B whose money follows `path`.
    const fn money(path: crate::money::Path) -> Row {
        Row {
            money: Some(path),
            ..Row::state(HEALTHY_B)
        }
    }

    /// Healthy Phase B, live, paired with production.
    const fn versus(canary: Side, production: Side) -> Row {
        Row {
            versus: Some((canary, production)),
            ..Row::state(HEALTHY_B)
        }
    }
}

impl Scenario {
    /// The name on the command line.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// The one-line description.
    pub fn about(self) -> String {
        self.to_possible_value()
            .and_then(|v| v.get_help().map(ToString::to_string))
            .unwrap_or_default()
    }

    /// The scenario's row: one arm each, so that a new scenario cannot
    /// compile until it says what it is made of.
    pub fn row(self) -> Row {
        use crate::money::Path as P;
        use Scenario as S;
        let b = HEALTHY_B;
        match self {
            S::HealthyA => Row::state(Spec {
                phase_a_reduce_only: true,
                traffic: Traffic::PhaseA,
                ..b
            }),
            S::HealthyB | S::Live => Row::state(b),
            S::MetricsDisabled => Row::state(Spec {
                metrics_enabled: false,
                ..b
            }),
            S::WsStale => Row::state(Spec {
                broker_latency_ms: 150.2,
                ws: Ws::Silent { message_age: 75.0 },
                ..b
            }),
            S::WsNotInitialized => Row::state(Spec {
                ws: Ws::NotInitialized,
                ..b
            }),
            S::WsDisconnected => Row::state(Spec {
                ws: Ws::Disconnected {
                    message_age: 41.0,
                    reconnects: 3,
                    max_attempts: false,
                },
                ..b
            }),
            S::MaxReconnect => Row::state(Spec {
                ws: Ws::Disconnected {
                    message_age: 312.4,
                    reconnects: 10,
                    max_attempts: true,
                },
                ..b
            }),
            S::GlobalPause => Row::state(Spec {
                broker_latency_ms: 133.0,
                ws: Ws::Streaming {
                    message_age: 3.2,
                    reconnects: 1,
                },
                guard_pause: Some("daily_loss"),
                ..b
            }),
            S::Unhealthy => Row::state(Spec {
                broker: Broker::Down,
                ..b
            }),
            S::Starting => Row::state(Spec {
                lifecycle: Lifecycle::Starting,
                traffic: Traffic::None,
                ..b
            }),
            S::Shutdown => Row::state(Spec {
                lifecycle: Lifecycle::Shutdown,
                ..b
            }),
            S::RealCanary => Row::state(Spec {
                broker: Broker::Mock,
                ws: Ws::NotSupported,
                ticker: Ticker::AllStale,
                traffic: Traffic::None,
                ..b
            }),
            S::DryRun => Row::state(Spec {
                traffic: Traffic::DryRun,
                ..b
            }),
            S::OrderErrorsCrit => Row::state(Spec {
                traffic: Traffic::ErrorsCrit,
                ..b
            }),
            S::OrderErrorsWarn => Row::state(Spec {
                ws: Ws::Streaming {
                    message_age: 3.2000000000000455,
                    reconnects: 0,
                },
                traffic: Traffic::ErrorsWarn,
                ..b
            }),
            S::Retries => Row::state(Spec {
                traffic: Traffic::Retries,
                ..b
            }),
            S::LatencyWarn => Row::state(Spec {
                traffic: Traffic::LatencyWarn,
                ..b
            }),
            S::GuardTripsCrit => Row::state(Spec {
                traffic: Traffic::GuardTripsCrit,
                ..b
            }),
            S::EquityFlat => Row::money(P::Flat),
            S::EquitySlowBleed => Row::money(P::SlowBleed),
            S::EquitySuddenDrop => Row::money(P::SuddenDrop),
            S::EquityRestart => Row::money(P::Restart),
            S::BreakerOpen => Row::money(P::BreakerOpens),
            S::OrderRunaway => Row::money(P::OrderRunaway),
            S::ApiDegraded => Row::money(P::ApiDegraded),
            S::VersusWorse => Row::versus(side(0.04, 250.0), side(0.005, 120.0)),
            S::VersusSame => Row::versus(side(0.02, 120.0), side(0.02, 120.0)),
            S::VersusBetter => Row::versus(side(0.005, 120.0), side(0.04, 120.0)),
        }
    }

    /// What the scenario is made of.
    pub fn spec(self) -> Spec {
        self.row().spec
    }

    /// What happens to the money in this scenario, for the money scenarios.
    pub fn money(self) -> Option<crate::money::Path> {
        self.row().money
    }

    /// A versus-* scenario's traffic for one side; `None` for the others.
    pub fn versus(self, role: canary_core::role::Role) -> Option<Side> {
        self.row().versus.map(|(canary, production)| match role {
            canary_core::role::Role::Canary => canary,
            canary_core::role::Role::Baseline => production,
        })
    }
}

/// Where the process is in its life (docs/bot.md#lifecycle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// Server up, `mark_live(reason="cli_run")`, the loop not started.
    Starting,
    Running,
    /// `mark_live(False, "shutdown")`: the cached checks keep their last values.
    Shutdown,
}

/// The broker the `broker` check pings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broker {
    /// `get_time` answers.
    Up,
    /// `get_time` times out: critical.
    Down,
    /// The deterministic mock: `list_balances`, no websocket support.
    Mock,
}

/// The market-data websocket as the broker's `get_ws_health` reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ws {
    /// Connected, messages flowing.
    Streaming { message_age: f64, reconnects: i64 },
    /// Connected but silent: the watchdog pauses and sets reduce-only.
    Silent { message_age: f64 },
    /// Disconnected and reconnecting (or, with `max_attempts`, given up).
    Disconnected {
        message_age: f64,
        reconnects: i64,
        max_attempts: bool,
    },
    /// No stream: `get_ws_health()` returned `{}`.
    NotInitialized,
    /// A broker without `get_ws_health`.
    NotSupported,
}

impl Ws {
    /// Whether the engine's watchdog (15 s message threshold) sees a silent
    /// feed and keeps renewing a 30 s global pause.
    fn watchdog_trips(self) -> bool {
        match self {
            Ws::Silent { message_age } | Ws::Disconnected { message_age, .. } => {
                message_age > WATCHDOG_MESSAGE_STALE_S
            }
            _ => false,
        }
    }
}

/// The orders and guard trips behind the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    None,
    PhaseA,
    PhaseB,
    DryRun,
    ErrorsCrit,
    ErrorsWarn,
    Retries,
    LatencyWarn,
    GuardTripsCrit,
}

/// One scenario's ingredients.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub lifecycle: Lifecycle,
    pub broker: Broker,
    pub broker_latency_ms: f64,
    pub ws: Ws,
    /// A runtime guard failure: 300 s global pause and reduce-only.
    pub guard_pause: Option<&'static str>,
    /// Reduce-only with no runtime trigger (the runbook's Phase A picture).
    pub phase_a_reduce_only: bool,
    pub ticker: Ticker,
    pub traffic: Traffic,
    pub metrics_enabled: bool,
}

/// Healthy Phase B: what every scenario starts from.
const HEALTHY_B: Spec = Spec {
    lifecycle: Lifecycle::Running,
    broker: Broker::Up,
    broker_latency_ms: 142.37,
    ws: Ws::Streaming {
        message_age: 2.1,
        reconnects: 0,
    },
    guard_pause: None,
    phase_a_reduce_only: false,
    ticker: Ticker::Fresh,
    traffic: Traffic::PhaseB,
    metrics_enabled: true,
};

/// The engine watchdog's thresholds: message age, poll period, pause length.
const WATCHDOG_MESSAGE_STALE_S: f64 = 15.0;
const WATCHDOG_POLL: Duration = Duration::from_secs(5);
const WATCHDOG_PAUSE_S: u64 = 30;
/// The cached degradation check after a guard failure's 300 s pause began.
const GUARD_PAUSE_REMAINING_S: i64 = 299;

/// A simulated bot: what `/health` and `/metrics` are computed from.
#[derive(Debug, Clone)]
pub struct Bot {
    pub spec: Spec,
    pub collector: Collector,
    now_epoch: f64,
}

impl Bot {
    /// Build a scenario as it stands at `now_epoch` (seconds).
    pub fn new(scenario: Scenario, now_epoch: f64) -> Bot {
        let spec = scenario.spec();
        let mut c = Collector::default();
        if spec.lifecycle != Lifecycle::Starting {
            record_traffic(&mut c, spec.traffic);
            engine::record(&mut c, spec.ticker);
            if let Some(guard) = spec.guard_pause {
                record_guard_trip(&mut c, guard);
            }
            ws_gauges(&mut c, spec.ws);
            c.set("gpt_trader_equity_dollars", &[], 1234.5);
            if spec.broker != Broker::Mock {
                // The Coinbase client's gauges; the mock broker has no client.
                crate::money::client_gauges(&mut c);
            }
        }
        Bot {
            spec,
            collector: c,
            now_epoch,
        }
    }

    pub fn live(&self) -> bool {
        self.spec.lifecycle != Lifecycle::Shutdown
    }

    pub fn ready(&self) -> bool {
        self.spec.lifecycle == Lifecycle::Running
    }

    pub fn reason(&self) -> &'static str {
        match self.spec.lifecycle {
            Lifecycle::Starting => "cli_run",
            Lifecycle::Running => "trading_bot_running",
            Lifecycle::Shutdown => "shutdown",
        }
    }

    /// What `/health` reports `uptime` after the bot started serving.
    pub fn health(&self, uptime: Duration, performance: Performance) -> HealthState {
        let checks = if self.spec.lifecycle == Lifecycle::Starting {
            vec![] // the check runner has not run yet
        } else {
            self.checks(uptime)
        };
        HealthState {
            live: self.live(),
            ready: self.ready(),
            reason: self.reason().into(),
            checks,
            performance,
        }
    }

    /// The five checks, in the bot's execution order.
    fn checks(&self, uptime: Duration) -> Vec<Check> {
        let s = &self.spec;
        let broker = match s.broker {
            Broker::Up => broker_ok(s.broker_latency_ms),
            Broker::Down => broker_down(),
            Broker::Mock => broker_mock(),
        };
        // Pauses only extend: a guard's 300 s outlasts the watchdog's 30 s.
        let watchdog = s.ws.watchdog_trips();
        let pause = if let Some(guard) = s.guard_pause {
            Some((format!("guard_failure:{guard}"), GUARD_PAUSE_REMAINING_S))
        } else if watchdog {
            // Renewed to 30 s on every 5 s poll, so 25..=30 s remain.
            let since_poll = uptime.as_secs_f64() % WATCHDOG_POLL.as_secs_f64();
            let remaining = (WATCHDOG_PAUSE_S as f64 - since_poll).floor() as i64;
            Some(("ws_message_stale".to_owned(), remaining))
        } else {
            None
        };
        let reduce_only = match (&pause, s.phase_a_reduce_only) {
            (Some((reason, _)), _) => Some(reason.as_str()),
            (None, true) => Some(""),
            (None, false) => None,
        };
        let degradation = degradation(pause.as_ref().map(|(r, s)| (r.as_str(), *s)), reduce_only);
        let (ticker, market_data) = match s.ticker {
            Ticker::Fresh => (ticker_fresh(), market_data_ok(1.4, self.now_epoch)),
            Ticker::AllStale => (ticker_all_stale(), market_data_unknown()),
        };
        let websocket = match s.ws {
            Ws::Streaming {
                message_age,
                reconnects,
            } => ws_streaming(true, Some(message_age), reconnects, false),
            Ws::Silent { message_age } => ws_streaming(true, Some(message_age), 0, false),
            Ws::Disconnected {
                message_age,
                reconnects,
                max_attempts,
            } => ws_streaming(false, Some(message_age), reconnects, max_attempts),
            Ws::NotInitialized => ws_not_initialized(),
            Ws::NotSupported => ws_not_supported(),
        };
        vec![broker, degradation, ticker, market_data, websocket]
    }
}

fn record_traffic(c: &mut Collector, traffic: Traffic) {
    match traffic {
        Traffic::None => {}
        Traffic::PhaseA => phase_a(c),
        Traffic::PhaseB => phase_b(c),
        Traffic::DryRun => dry_run(c),
        Traffic::ErrorsCrit => errors_crit(c),
        Traffic::ErrorsWarn => errors_warn(c),
        Traffic::Retries => retries(c),
        Traffic::LatencyWarn => latency_warn(c),
        Traffic::GuardTripsCrit => guard_trips_crit(c),
    }
}

/// 12 clean reduce-only sells.
fn phase_a(c: &mut Collector) {
    for i in 0..12 {
        record_order(c, Order::ok("sell", 0.08 + 0.01 * f64::from(i % 5)));
    }
    record_guard_checks(c, 12);
}

/// The read-only broker answers every order with a REJECTED one.
fn dry_run(c: &mut Collector) {
    for _ in 0..12 {
        record_order(c, Order::rejected("sell", Rejection::BrokerStatus, 0.002));
    }
    record_guard_checks(c, 12);
}

/// 40 orders, 8 bad: timeouts, a network failure and broker rejections (20 %).
fn errors_crit(c: &mut Collector) {
    for i in 0..40 {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let order = match i % 5 {
            0 if i == 10 => Order::failed(side, Failure::Network, 0.15),
            0 if i < 20 => Order::failed(side, Failure::Timeout, 0.15),
            0 => Order::rejected(side, Rejection::BrokerRejected, 0.15),
            _ => Order::ok(side, 0.15),
        };
        record_order(c, order);
    }
    record_guard_checks(c, 40);
}

/// 20 orders, a rejection and a timeout (10 %), slow enough for a p95 WARN,
/// and one guard trip.
fn errors_warn(c: &mut Collector) {
    record_cancel(c, 0.05);
    for s in std::iter::repeat_n(0.2, 10).chain(std::iter::repeat_n(0.4, 8)) {
        record_order(c, Order::ok("sell", s));
    }
    record_order(c, Order::rejected("sell", Rejection::BrokerRejected, 0.9));
    record_order(c, Order::failed("buy", Failure::Timeout, 2.0));
    record_guard_trip(c, "mark_staleness");
}

/// 50 orders: 5 succeed on a second attempt, one rate-limited order fails.
fn retries(c: &mut Collector) {
    for i in 0..50 {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let latency_s = 0.1 + 0.02 * f64::from(i % 4);
        let order = match i {
            7 => Order::failed(side, Failure::RateLimit, 0.4),
            _ => Order {
                retried: i % 10 == 3,
                ..Order::ok(side, latency_s)
            },
        };
        record_order(c, order);
    }
    record_guard_checks(c, 50);
}

/// 19 clean orders whose slowest put the p95 at the WARN line.
fn latency_warn(c: &mut Collector) {
    for s in std::iter::repeat_n(0.12, 10)
        .chain(std::iter::repeat_n(0.3, 8))
        .chain([0.7])
    {
        record_order(c, Order::ok("sell", s));
    }
    record_guard_checks(c, 19);
}

/// A clean Phase B window, then 12 recoverable guard trips.
fn guard_trips_crit(c: &mut Collector) {
    phase_b(c);
    for _ in 0..12 {
        record_guard_trip(c, "mark_staleness");
    }
}

/// 60 orders, one timed out (twice): a clean Phase B window.
fn phase_b(c: &mut Collector) {
    for i in 0..60 {
        let side = if i % 3 == 0 { "sell" } else { "buy" };
        let latency_s = 0.06 + 0.02 * f64::from(i % 7);
        let order = if i == 41 {
            Order::failed(side, Failure::Timeout, latency_s)
        } else {
            Order::ok(side, latency_s)
        };
        record_order(c, order);
    }
    record_cancel(c, 0.04);
    record_guard_checks(c, 60);
}

/// The status reporter's websocket gauges, all floats. They are set only
/// while streaming, and the watchdog skips the update on reconnect, so a
/// disconnected websocket keeps its last connected values.
fn ws_gauges(c: &mut Collector, ws: Ws) {
    let (connected, message_age, reconnects) = match ws {
        Ws::Streaming {
            message_age,
            reconnects,
        } => (true, message_age, reconnects),
        Ws::Silent { message_age } => (true, message_age, 0),
        Ws::Disconnected { .. } => (true, 2.1, 0),
        Ws::NotInitialized | Ws::NotSupported => return,
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    c.set("gpt_trader_ws_connected", &[], flag(connected));
    c.set("gpt_trader_ws_message_stale", &[], flag(message_age > 15.0));
    c.set("gpt_trader_ws_heartbeat_stale", &[], flag(false));
    c.set("gpt_trader_ws_last_message_age_seconds", &[], message_age);
    // No heartbeat, close or error timestamp yet: the reporter says 0.0.
    for name in [
        "gpt_trader_ws_last_heartbeat_age_seconds",
        "gpt_trader_ws_last_close_age_seconds",
        "gpt_trader_ws_last_error_age_seconds",
        "gpt_trader_ws_gap_count",
    ] {
        c.set(name, &[], 0.0);
    }
    c.set("gpt_trader_ws_reconnect_count", &[], reconnects as f64);
}

#[cfg(test)]
mod tests {

    #[test]
    fn versus_pairings_order_the_canary_against_production() {
        use canary_core::role::Role;
        let side = |s: Scenario, r| s.versus(r).expect("a versus scenario");
        let (c, p) = (
            side(Scenario::VersusWorse, Role::Canary),
            side(Scenario::VersusWorse, Role::Baseline),
        );
        assert!(c.failure_ratio > p.failure_ratio && c.latency_ms > p.latency_ms);
        assert_eq!(
            side(Scenario::VersusSame, Role::Canary),
            side(Scenario::VersusSame, Role::Baseline)
        );
        let (c, p) = (
            side(Scenario::VersusBetter, Role::Canary),
            side(Scenario::VersusBetter, Role::Baseline),
        );
        assert!(c.failure_ratio < p.failure_ratio);
        // Below the runbook's WARN on both sides: only the comparison tells them apart.
        for s in [
            Scenario::VersusWorse,
            Scenario::VersusSame,
            Scenario::VersusBetter,
        ] {
            for r in [Role::Canary, Role::Baseline] {
                assert!(side(s, r).failure_ratio < 0.05);
            }
        }
        assert_eq!(Scenario::Live.versus(Role::Canary), None);
    }

    use super::*;
    use crate::health::health_response;

    fn status(s: Scenario) -> (u16, String) {
        let bot = Bot::new(s, 1_790_000_000.0);
        let state = bot.health(Duration::from_secs(7), Performance::healthy());
        let (code, body) = health_response(&state, &bot.collector);
        (code, body["status"].as_str().unwrap_or_default().to_owned())
    }

    #[test]
    fn statuses_follow_from_the_bots_rules() {
        use Scenario as S;
        let ok = (200, "healthy".to_owned());
        let degraded = (200, "degraded".to_owned());
        let down = (503, "unhealthy".to_owned());
        for (s, want) in [
            (S::HealthyA, &ok),
            (S::HealthyB, &ok),
            (S::Live, &ok),
            (S::MetricsDisabled, &ok),
            (S::WsNotInitialized, &ok),
            (S::WsStale, &down),
            (S::WsDisconnected, &down),
            (S::MaxReconnect, &down),
            (S::GlobalPause, &down),
            (S::Unhealthy, &down),
            (S::Shutdown, &down),
            (S::RealCanary, &down),
            (S::DryRun, &down),
            (S::OrderErrorsCrit, &down),
            (S::OrderErrorsWarn, &degraded),
            (S::Retries, &degraded),
            (S::LatencyWarn, &degraded),
            (S::GuardTripsCrit, &down),
            (S::EquityFlat, &ok),
            (S::EquitySlowBleed, &ok),
            (S::EquitySuddenDrop, &ok),
            (S::EquityRestart, &ok),
            (S::BreakerOpen, &ok),
            (S::OrderRunaway, &ok),
            (S::ApiDegraded, &ok),
        ] {
            assert_eq!(&status(s), want, "{s:?}");
        }
        assert_eq!(status(S::Starting), (503, "starting".into()));
    }

    #[test]
    fn every_scenario_has_a_name_and_a_description() {
        for s in Scenario::value_variants() {
            assert!(!s.name().is_empty() && !s.about().is_empty(), "{s:?}");
        }
        assert_eq!(Scenario::WsNotInitialized.name(), "ws-not-initialized");
    }

    #[test]
    fn the_watchdog_pause_is_renewed_every_five_seconds() {
        let bot = Bot::new(Scenario::WsStale, 0.0);
        for (secs, want) in [(0.0, 30), (4.9, 25), (5.0, 30), (7.5, 27)] {
            let state = bot.health(Duration::from_secs_f64(secs), Performance::healthy());
            let d = &state.checks[1].details;
            assert_eq!(d["global_remaining_seconds"], want, "at {secs} s");
            assert_eq!(d["global_pause_reason"], "ws_message_stale");
        }
    }
}

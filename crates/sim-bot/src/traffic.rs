//! What the bot records when it trades: one place that turns an order or a
//! guard trip into the series the real code paths write (docs/bot.md#metrics-exporter).

use crate::collector::{Collector, LATENCY_BOUNDS};

/// How one order submission went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Success,
    /// `result="rejected"`: the broker answered without an accepted order.
    /// `broker_rejected` when it returned none, `broker_status` when it
    /// returned a REJECTED order (every order of a dry run).
    Rejected(Rejection),
    /// `result="failed"`: an exception on both attempts.
    Failed(Failure),
}

/// Why the broker rejected an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The broker returned no order.
    BrokerRejected,
    /// The broker returned an order in status REJECTED (the read-only broker
    /// of a dry run does this for every order).
    BrokerStatus,
}

/// Why a submission raised. All three are the transient reasons the bot
/// retries once by default, so a failed order is two broker attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    Network,
    RateLimit,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Network => "network",
            Failure::RateLimit => "rate_limit",
        }
    }
}

/// One order: its side, outcome, the broker latency of each attempt, and
/// whether a successful order's first attempt failed transiently.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub side: &'static str,
    pub outcome: Outcome,
    pub latency_s: f64,
    pub retried: bool,
}

impl Order {
    pub fn ok(side: &'static str, latency_s: f64) -> Order {
        Order {
            side,
            outcome: Outcome::Success,
            latency_s,
            retried: false,
        }
    }

    pub fn failed(side: &'static str, why: Failure, latency_s: f64) -> Order {
        Order {
            side,
            outcome: Outcome::Failed(why),
            latency_s,
            retried: false,
        }
    }

    pub fn rejected(side: &'static str, why: Rejection, latency_s: f64) -> Order {
        Order {
            side,
            outcome: Outcome::Rejected(why),
            latency_s,
            retried: false,
        }
    }
}

/// The bot's submission retry budget with `ORDER_SUBMISSION_RETRIES_ENABLED`
/// at its default (on): two attempts for a transient failure.
pub const ATTEMPTS_ON_TRANSIENT_FAILURE: usize = 2;

/// One submission counter increment per order, whatever its attempts, plus
/// one broker-call observation per attempt.
pub fn record_order(c: &mut Collector, order: Order) {
    let (result, reason) = match order.outcome {
        Outcome::Success => ("success", "none"),
        Outcome::Rejected(Rejection::BrokerRejected) => ("rejected", "broker_rejected"),
        Outcome::Rejected(Rejection::BrokerStatus) => ("rejected", "broker_status"),
        Outcome::Failed(why) => ("failed", why.reason()),
    };
    let labels = [("reason", reason), ("result", result), ("side", order.side)];
    c.inc("gpt_trader_order_submission_total", &labels, 1);
    c.observe(
        "gpt_trader_order_submission_latency_seconds",
        &[("result", result), ("side", order.side)],
        &LATENCY_BOUNDS,
        order.latency_s,
    );
    match order.outcome {
        Outcome::Failed(why) => {
            for _ in 0..ATTEMPTS_ON_TRANSIENT_FAILURE {
                broker_call(c, "failure", why.reason(), order.latency_s);
            }
        }
        // A broker rejection is a completed call: the broker answered.
        Outcome::Success | Outcome::Rejected(_) => {
            if order.retried {
                broker_call(c, "failure", "timeout", order.latency_s);
            }
            broker_call(c, "success", "none", order.latency_s);
        }
    }
    if order.outcome == Outcome::Success {
        c.inc("gpt_trader_trades_executed_total", &[], 1);
    }
}

fn broker_call(c: &mut Collector, outcome: &str, reason: &str, latency_s: f64) {
    let labels = [
        ("operation", "submit"),
        ("outcome", outcome),
        ("reason", reason),
    ];
    c.observe(
        "gpt_trader_broker_call_latency_seconds",
        &labels,
        &LATENCY_BOUNDS,
        latency_s,
    );
}

/// An idempotent cancel: counted as a successful broker call.
pub fn record_cancel(c: &mut Collector, latency_s: f64) {
    let labels = [
        ("operation", "cancel"),
        ("outcome", "success"),
        ("reason", "idempotent"),
    ];
    c.observe(
        "gpt_trader_broker_call_latency_seconds",
        &labels,
        &LATENCY_BOUNDS,
        latency_s,
    );
}

/// `record_guard_failure`: non-recoverable guards are limit/action/computation
/// failures; `mark_staleness` (DataUnavailable) is recoverable.
pub fn record_guard_trip(c: &mut Collector, guard: &str) {
    let (category, recoverable) = match guard {
        "mark_staleness" => ("data", "true"),
        "pnl_telemetry" => ("telemetry", "true"),
        "daily_loss" | "liquidation_buffer" => ("limit", "false"),
        "api_health" => ("action", "false"),
        _ => ("computation", "false"),
    };
    c.inc(
        "gpt_trader_guard_trips_total",
        &[
            ("category", category),
            ("guard", guard),
            ("recoverable", recoverable),
        ],
        1,
    );
}

/// The seven runtime guards, as their counters name them.
pub const GUARDS: [&str; 7] = [
    "api_health",
    "daily_loss",
    "liquidation_buffer",
    "mark_staleness",
    "pnl_telemetry",
    "risk_metrics",
    "volatility_circuit_breaker",
];

/// The guard-check counter the guard manager bumps for every guard on every
/// successful check.
pub fn record_guard_checks(c: &mut Collector, n: i64) {
    for guard in GUARDS {
        c.inc(
            "gpt_trader_guard_checks_total",
            &[("guard", guard), ("result", "success")],
            n,
        );
    }
}

//! What the bot records when it trades: one place that turns an order or a
//! guard trip into the series the real code paths write (contracts §2.4).

use crate::collector::{Collector, LATENCY_BOUNDS};

/// How one order submission went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Success,
    /// `result="rejected"`: the broker returned no order (`broker_rejected`).
    Rejected,
    /// `result="failed"`: an exception, e.g. a timeout.
    Failed,
}

/// One order: its side, outcome, the broker latency of its final attempt,
/// and whether a first attempt failed transiently and was retried.
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
}

/// `_record_order_submission_metric` plus one broker-call observation per
/// attempt (`_record_broker_call_latency`): retries show as extra attempts.
pub fn record_order(c: &mut Collector, order: Order) {
    let (result, reason) = match order.outcome {
        Outcome::Success => ("success", "none"),
        Outcome::Rejected => ("rejected", "broker_rejected"),
        Outcome::Failed => ("failed", "timeout"),
    };
    let labels = [("reason", reason), ("result", result), ("side", order.side)];
    c.inc("gpt_trader_order_submission_total", &labels, 1);
    c.observe(
        "gpt_trader_order_submission_latency_seconds",
        &[("result", result), ("side", order.side)],
        &LATENCY_BOUNDS,
        order.latency_s,
    );
    if order.retried {
        broker_call(c, "failure", "timeout", order.latency_s);
    }
    match order.outcome {
        Outcome::Failed => broker_call(c, "failure", "timeout", order.latency_s),
        // A broker rejection is a completed call: the broker answered.
        Outcome::Success | Outcome::Rejected => broker_call(c, "success", "none", order.latency_s),
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

/// An idempotent cancel: counted as a successful broker call (contracts §2.4).
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

/// The guard-check counter the guard manager bumps on every successful check.
pub fn record_guard_checks(c: &mut Collector, n: i64) {
    for guard in ["daily_loss", "mark_staleness"] {
        c.inc(
            "gpt_trader_guard_checks_total",
            &[("guard", guard), ("result", "success")],
            n,
        );
    }
}

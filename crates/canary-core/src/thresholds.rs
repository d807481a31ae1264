//! The one threshold table: runbook §3.1 and §5 WARN/CRIT values. Every
//! record's `thresholds`, and every alert rule generated from them, come from here.

use crate::level::Level;
use crate::record::Thresholds;

/// A signal's WARN and CRIT boundaries, both inclusive (`value >= warn`), as the
/// runbook's §3.1 table and its Alertmanager rules write them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub warn: f64,
    pub crit: f64,
    pub unit: &'static str,
}

impl Threshold {
    /// The level of `value`. A non-finite value cannot be judged: `unknown`.
    pub fn level(&self, value: f64) -> Level {
        if !value.is_finite() {
            Level::Unknown
        } else if value >= self.crit {
            Level::Crit
        } else if value >= self.warn {
            Level::Warn
        } else {
            Level::Ok
        }
    }

    /// The `thresholds` field of a record.
    pub fn record(&self) -> Thresholds {
        Thresholds {
            warn: self.warn,
            crit: self.crit,
        }
    }
}

/// Order error rate, as a ratio of submissions (runbook §3.1).
pub const ORDER_ERROR_RATE: Threshold = Threshold {
    warn: 0.05,
    crit: 0.15,
    unit: "ratio",
};
/// Order retry rate, as a ratio of submissions (runbook §3.1).
pub const ORDER_RETRY_RATE: Threshold = Threshold {
    warn: 0.10,
    crit: 0.25,
    unit: "ratio",
};
/// Broker submit latency p95 in milliseconds (runbook §3.1).
pub const BROKER_LATENCY_P95_MS: Threshold = Threshold {
    warn: 1000.0,
    crit: 3000.0,
    unit: "ms",
};
/// Guard trips in the last hour (runbook §3.1).
pub const GUARD_TRIPS_1H: Threshold = Threshold {
    warn: 3.0,
    crit: 10.0,
    unit: "count",
};
/// Websocket message age in seconds (runbook §5, "WS Staleness (health)").
pub const WS_STALENESS_S: Threshold = Threshold {
    warn: 30.0,
    crit: 60.0,
    unit: "s",
};

/// Peak-to-trough equity drawdown over the window, as a fraction of the
/// bot's daily loss limit (`daily_loss_limit_pct`): half the limit WARN, the
/// whole limit CRIT (docs/money.md#drawdown).
pub const DRAWDOWN_OF_LOSS_LIMIT: Threshold = Threshold {
    warn: 0.5,
    crit: 1.0,
    unit: "ratio",
};
/// `gpt_trader_circuit_breaker_state`: 0 closed, 1 half-open (WARN), 2 open
/// (CRIT), the worst of every category in the window.
pub const CIRCUIT_BREAKER_STATE: Threshold = Threshold {
    warn: 1.0,
    crit: 2.0,
    unit: "state",
};
/// Orders submitted per minute over the window, as a fraction of the
/// configured ceiling (docs/money.md#order-rate).
pub const ORDER_RATE_OF_CEILING: Threshold = Threshold {
    warn: 0.8,
    crit: 1.0,
    unit: "ratio",
};
/// `gpt_trader_api_error_rate`, the broker client's own ratio, highest in the window.
pub const API_ERROR_RATE: Threshold = Threshold {
    warn: 0.05,
    crit: 0.15,
    unit: "ratio",
};
/// `gpt_trader_rate_limit_usage_ratio`, highest in the window.
pub const RATE_LIMIT_USAGE: Threshold = Threshold {
    warn: 0.8,
    crit: 0.95,
    unit: "ratio",
};

/// The money-at-risk thresholds by the name judge's rules read them under
/// (`$thresholds.<name>`).
pub const MONEY: [(&str, Threshold); 5] = [
    ("drawdown", DRAWDOWN_OF_LOSS_LIMIT),
    ("circuit_breaker", CIRCUIT_BREAKER_STATE),
    ("order_rate", ORDER_RATE_OF_CEILING),
    ("api_error_rate", API_ERROR_RATE),
    ("rate_limit_usage", RATE_LIMIT_USAGE),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_inclusive() {
        assert_eq!(ORDER_ERROR_RATE.level(0.05), Level::Warn);
        assert_eq!(ORDER_ERROR_RATE.level(0.0499), Level::Ok);
        assert_eq!(ORDER_ERROR_RATE.level(0.15), Level::Crit);
        assert_eq!(BROKER_LATENCY_P95_MS.level(1000.0), Level::Warn);
        assert_eq!(BROKER_LATENCY_P95_MS.level(3000.0), Level::Crit);
        assert_eq!(GUARD_TRIPS_1H.level(3.0), Level::Warn);
        assert_eq!(GUARD_TRIPS_1H.level(10.0), Level::Crit);
        assert_eq!(WS_STALENESS_S.level(29.9), Level::Ok);
        assert_eq!(WS_STALENESS_S.level(30.0), Level::Warn);
        assert_eq!(WS_STALENESS_S.level(60.0), Level::Crit);
        assert_eq!(WS_STALENESS_S.level(f64::NAN), Level::Unknown);
    }

    #[test]
    fn money_boundaries_are_inclusive() {
        assert_eq!(DRAWDOWN_OF_LOSS_LIMIT.level(0.4999), Level::Ok);
        assert_eq!(DRAWDOWN_OF_LOSS_LIMIT.level(0.5), Level::Warn);
        assert_eq!(DRAWDOWN_OF_LOSS_LIMIT.level(1.0), Level::Crit);
        assert_eq!(CIRCUIT_BREAKER_STATE.level(0.0), Level::Ok);
        assert_eq!(CIRCUIT_BREAKER_STATE.level(1.0), Level::Warn);
        assert_eq!(CIRCUIT_BREAKER_STATE.level(2.0), Level::Crit);
        assert_eq!(ORDER_RATE_OF_CEILING.level(0.8), Level::Warn);
        assert_eq!(ORDER_RATE_OF_CEILING.level(1.0), Level::Crit);
        assert_eq!(API_ERROR_RATE.level(0.05), Level::Warn);
        assert_eq!(API_ERROR_RATE.level(0.15), Level::Crit);
        assert_eq!(RATE_LIMIT_USAGE.level(0.8), Level::Warn);
        assert_eq!(RATE_LIMIT_USAGE.level(0.95), Level::Crit);
    }
}

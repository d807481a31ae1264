//! The one threshold table: runbook §3.1 and §5 WARN/CRIT values. Every
//! record's `thresholds`, and every alert rule generated from them, come from
//! here; [`crate::signals::SIGNALS`] names each row and says where it is used.

use crate::level::Level;
use crate::record::Thresholds;

/// What a threshold's numbers measure, and so how a sentence states them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A fraction of one, stated as a percentage (0.15 is "15 %").
    Ratio,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
    /// A plain count.
    Count,
    /// A state number (the circuit breaker's 0, 1, 2).
    State,
}

impl Unit {
    /// The unit as records carry it in their `unit` field.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Ms => "ms",
            Unit::S => "s",
            Unit::Count => "count",
            Unit::State => "state",
        }
    }

    /// `v` as a sentence states it: `15 %`, `3000 ms`, `60 s`, `10`.
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Ratio => format!("{} %", plain(v * 100.0)),
            Unit::Ms => format!("{} ms", plain(v)),
            Unit::S => format!("{} s", plain(v)),
            Unit::Count | Unit::State => plain(v),
        }
    }
}

/// A number without float noise: whole numbers bare, else at most six
/// significant decimals with trailing zeros dropped (`12.5`, not `12.500000000000002`).
fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let text = format!("{v:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Unit> for serde_json::Value {
    fn from(u: Unit) -> Self {
        serde_json::Value::from(u.as_str())
    }
}

/// A signal's WARN and CRIT boundaries, both inclusive (`value >= warn`), as the
/// runbook's §3.1 table and its Alertmanager rules write them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// The WARN boundary, in `unit`: `value >= warn` is at least warn.
    pub warn: f64,
    /// The CRIT boundary, in `unit`: `value >= crit` is crit.
    pub crit: f64,
    /// The unit both boundaries and the judged value are in.
    pub unit: Unit,
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

    /// WARN as a sentence states it (`5 %`).
    pub fn warn_text(&self) -> String {
        self.unit.show(self.warn)
    }

    /// CRIT as a sentence states it (`15 %`).
    pub fn crit_text(&self) -> String {
        self.unit.show(self.crit)
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
    unit: Unit::Ratio,
};
/// Order retry rate, as a ratio of submissions (runbook §3.1).
pub const ORDER_RETRY_RATE: Threshold = Threshold {
    warn: 0.10,
    crit: 0.25,
    unit: Unit::Ratio,
};
/// Broker submit latency p95 in milliseconds (runbook §3.1).
pub const BROKER_LATENCY_P95_MS: Threshold = Threshold {
    warn: 1000.0,
    crit: 3000.0,
    unit: Unit::Ms,
};
/// Guard trips in the last hour (runbook §3.1).
pub(crate) const GUARD_TRIPS_1H: Threshold = Threshold {
    warn: 3.0,
    crit: 10.0,
    unit: Unit::Count,
};
/// Websocket message age in seconds (runbook §5, "WS Staleness (health)").
pub const WS_STALENESS_S: Threshold = Threshold {
    warn: 30.0,
    crit: 60.0,
    unit: Unit::S,
};

/// Peak-to-trough equity drawdown over the window, as a fraction of the
/// bot's daily loss limit (`daily_loss_limit_pct`): half the limit WARN, the
/// whole limit CRIT (docs/money.md#drawdown).
pub const DRAWDOWN_OF_LOSS_LIMIT: Threshold = Threshold {
    warn: 0.5,
    crit: 1.0,
    unit: Unit::Ratio,
};
/// `gpt_trader_circuit_breaker_state`: 0 closed, 1 half-open (WARN), 2 open
/// (CRIT), the worst of every category in the window.
pub(crate) const CIRCUIT_BREAKER_STATE: Threshold = Threshold {
    warn: 1.0,
    crit: 2.0,
    unit: Unit::State,
};
/// Orders submitted per minute over the window, as a fraction of the
/// configured ceiling (docs/money.md#order-rate).
pub(crate) const ORDER_RATE_OF_CEILING: Threshold = Threshold {
    warn: 0.8,
    crit: 1.0,
    unit: Unit::Ratio,
};
/// `gpt_trader_api_error_rate`, the broker client's own ratio, highest in the window.
pub const API_ERROR_RATE: Threshold = Threshold {
    warn: 0.05,
    crit: 0.15,
    unit: Unit::Ratio,
};
/// `gpt_trader_rate_limit_usage_ratio`, highest in the window.
pub const RATE_LIMIT_USAGE: Threshold = Threshold {
    warn: 0.8,
    crit: 0.95,
    unit: Unit::Ratio,
};

// ---- runbook §1.2 and §1.3: the canary's configuration targets ----------
// The profile (check-profile) and the RISK_* environment (check-risk-env)
// are held to the same numbers, spelled here once.

/// `max_leverage` / `RISK_MAX_LEVERAGE`: no leverage (runbook §1.2, §1.3).
pub const MAX_LEVERAGE: i64 = 1;
/// `position_fraction` / `RISK_MAX_POSITION_PCT_PER_SYMBOL`, at most: micro
/// sizing (runbook §1.2, §1.3).
pub const MAX_POSITION_FRACTION: f64 = 0.001;
/// `daily_loss_limit_pct` / `RISK_DAILY_LOSS_LIMIT_PCT`, at most (runbook
/// §1.2, §1.3).
pub const MAX_DAILY_LOSS_LIMIT_PCT: f64 = 0.01;
/// The runbook's alternative bound `daily_loss_limit <= 10`, on a field the
/// bot does not have: only ever quoted, never checked (docs/check-profile.md).
pub const RUNBOOK_DAILY_LOSS_LIMIT: f64 = 10.0;

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

    #[test]
    fn sentences_state_thresholds_in_their_unit() {
        assert_eq!(ORDER_ERROR_RATE.crit_text(), "15 %");
        assert_eq!(ORDER_RETRY_RATE.warn_text(), "10 %");
        assert_eq!(RATE_LIMIT_USAGE.crit_text(), "95 %");
        assert_eq!(BROKER_LATENCY_P95_MS.crit_text(), "3000 ms");
        assert_eq!(WS_STALENESS_S.crit_text(), "60 s");
        assert_eq!(GUARD_TRIPS_1H.warn_text(), "3");
        assert_eq!(Unit::Ratio.show(0.125), "12.5 %");
        assert_eq!(Unit::Ms.show(1234.5678912), "1234.567891 ms");
    }
}

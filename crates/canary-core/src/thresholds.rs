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
}

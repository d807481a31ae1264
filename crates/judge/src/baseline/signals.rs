//! The compared signals, in one table: record, test, effect measure and
//! tolerances.

/// The compared signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    ErrorRate,
    RetryRate,
    Latency,
}

/// How a signal is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Test {
    /// Errors among orders: Fisher's exact test.
    Fisher,
    /// Retries per order: the exact conditional Poisson test.
    Poisson,
    /// Histogram buckets: Mann-Whitney U.
    MannWhitney,
}

/// One signal's facts, in one table: its record, its test, and the
/// effect beyond which a significant regression holds (`hold`) or, in
/// Phase B, rolls back (`large`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Spec {
    pub(super) signal: Signal,
    pub(super) name: &'static str,
    pub(super) record: &'static str,
    pub(super) test: Test,
    /// The effect measure: a rate difference, or Cliff's delta.
    pub(super) effect: &'static str,
    pub(super) hold: f64,
    pub(super) large: f64,
}

pub(super) const SPECS: [Spec; 3] = [
    // 1 point of errors over production; 10 points (WARN to CRIT) is large.
    Spec {
        signal: Signal::ErrorRate,
        name: "order_error_rate",
        record: "metrics.order_error_rate",
        test: Test::Fisher,
        effect: "difference",
        hold: 0.01,
        large: 0.10,
    },
    // 5 retries per 100 orders over production; 15 (WARN to CRIT) is large.
    Spec {
        signal: Signal::RetryRate,
        name: "order_retry_rate",
        record: "metrics.order_retry_rate",
        test: Test::Poisson,
        effect: "difference",
        hold: 0.05,
        large: 0.15,
    },
    // Cliff's delta: beyond negligible (0.147) holds; large from 0.474
    // (Romano et al.'s bounds).
    Spec {
        signal: Signal::Latency,
        name: "broker_latency",
        record: "metrics.broker_latency_p95",
        test: Test::MannWhitney,
        effect: "cliffs_delta",
        hold: 0.147,
        large: 0.474,
    },
];

impl Signal {
    /// Every compared signal's name, comma-separated, for messages.
    pub(crate) fn names() -> String {
        SPECS.map(|s| s.name).join(", ")
    }
}

pub(super) fn spec_of(record: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.record == record)
}

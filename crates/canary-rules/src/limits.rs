//! What a scrape of the latency family may hold: the bounds' reader and
//! its errors both state these, so they live below both.

/// The family whose bounds a scrape must show: the one the latency alerts read.
pub(crate) const PROBE_FAMILY: &str = "gpt_trader_broker_call_latency_seconds";

/// Largest scrape read, as every other tool bounds a body.
pub(crate) const MAX_BODY: u64 = canary_core::http::DEFAULT_MAX_BODY;

/// More bounds than any latency histogram has: past this, the rules (one
/// subtraction per bound) would be a burden on Prometheus, not a repair.
pub(crate) const MAX_BOUNDS: usize = 64;

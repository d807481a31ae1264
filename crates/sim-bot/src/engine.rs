//! What the running engine records besides orders: its cycles, position and
//! equity reads, profiled phases, ticker-freshness checks and process gauges
//! (docs/bot.md#metric-families). No canary-kit signal reads these; they are
//! here so that tools see a body as broad as the real exporter's.

use crate::collector::{Collector, LATENCY_BOUNDS};

/// The ticker cache the `ticker_freshness` check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticker {
    /// Filled by the stream. The first check ran before the first tick, so
    /// it counted one error and one stale symbol, as every real start does.
    Fresh,
    /// Never filled (the real canary today): every check is an error.
    AllStale,
}

/// Engine cycles behind the histograms (one per interval).
const CYCLES: u32 = 12;
/// Health-check runs behind the ticker-freshness counters.
const TICKER_CHECKS: i64 = 4;

/// Record what `CYCLES` engine cycles and `TICKER_CHECKS` health-check runs leave.
pub fn record(c: &mut Collector, ticker: Ticker) {
    let (errors, stale) = match ticker {
        Ticker::Fresh => (1, 1),
        Ticker::AllStale => (TICKER_CHECKS, TICKER_CHECKS),
    };
    if errors < TICKER_CHECKS {
        c.inc(
            "gpt_trader_ticker_freshness_checks_total",
            &[("result", "ok")],
            TICKER_CHECKS - errors,
        );
    }
    c.inc(
        "gpt_trader_ticker_freshness_checks_total",
        &[("result", "error")],
        errors,
    );
    c.inc("gpt_trader_ticker_stale_symbols_total", &[], stale);
    for i in 0..TICKER_CHECKS {
        let d = 0.0009 + 0.0001 * i as f64;
        c.observe(
            "gpt_trader_profile_duration_seconds",
            &[("phase", "ticker_freshness")],
            &LATENCY_BOUNDS,
            d,
        );
    }
    for i in 0..CYCLES {
        let jitter = 0.01 * f64::from(i % 4);
        c.observe(
            "gpt_trader_cycle_duration_seconds",
            &[("result", "success")],
            &LATENCY_BOUNDS,
            0.04 + jitter,
        );
        c.observe(
            "gpt_trader_positions_fetch_seconds",
            &[("result", "success")],
            &LATENCY_BOUNDS,
            0.02 + jitter,
        );
        c.observe(
            "gpt_trader_equity_computation_seconds",
            &[("result", "success")],
            &LATENCY_BOUNDS,
            0.003 + jitter / 10.0,
        );
        // The profiler passes extra labels through; the strategy phase is per symbol.
        c.observe(
            "gpt_trader_profile_duration_seconds",
            &[("phase", "strategy_decision"), ("symbol", "BTC-USD")],
            &LATENCY_BOUNDS,
            0.002 + jitter / 10.0,
        );
    }
    c.set("gpt_trader_process_memory_mb", &[], 212.4);
    c.set("gpt_trader_deque_cache_fill_ratio", &[], 0.35);
    c.set("gpt_trader_event_store_cache_size", &[], 128.0);
}

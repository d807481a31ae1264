//! Money at risk: the equity gauge, the broker client's circuit breakers and
//! API gauges, and a runaway order loop, as the real exporter shows them
//! (docs/money.md#what-the-bot-exports). Each money scenario unfolds in
//! time from the first request the simulator answers (so the first scrape
//! always sees the healthy start, however late it comes): before
//! `--money-after` the bot is healthy, at it the scenario's event happens.
//!
//! Names and labels are the bot's: `gpt_trader_equity_dollars` (no label),
//! `gpt_trader_circuit_breaker_state{category}` (0 closed, 1 half-open,
//! 2 open), `gpt_trader_api_error_rate` and `gpt_trader_rate_limit_usage_ratio`
//! (no label), all floats; orders go through the same path as every other
//! order (`traffic::record_order`).

use crate::collector::Collector;
use crate::traffic::{Order, record_guard_checks, record_order};
use std::time::{Duration, Instant};

pub const EQUITY: &str = "gpt_trader_equity_dollars";
pub const BREAKER: &str = "gpt_trader_circuit_breaker_state";
pub const API_ERROR_RATE: &str = "gpt_trader_api_error_rate";
pub const RATE_LIMIT_USAGE: &str = "gpt_trader_rate_limit_usage_ratio";
/// The breaker categories the simulator shows. The real client keys its
/// breakers by endpoint category; these two names are the simulator's.
pub const CATEGORIES: [&str; 2] = ["market_data", "orders"];

/// What happens to the money in a money scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Equity holds still.
    Flat,
    /// Equity loses `--equity-bleed-pct-per-min` of its start every minute
    /// (in whole-second steps).
    SlowBleed,
    /// Equity falls by `--equity-drop-pct` at `--money-after`.
    SuddenDrop,
    /// At `--money-after` the bot restarts: every series is gone, equity
    /// included, for `--restart-gap`; then it comes back at the dropped value
    /// with counters counting from zero.
    Restart,
    /// The `orders` circuit breaker opens at `--money-after`.
    BreakerOpens,
    /// From `--money-after` the bot submits `--runaway-rate` orders a second.
    OrderRunaway,
    /// From `--money-after` the broker client's error rate is 8 % (WARN)
    /// and its rate-limit usage 96 % (CRIT).
    ApiDegraded,
}

/// The money scenarios' knobs (command line).
#[derive(Debug, Clone, Copy)]
pub struct MoneyConfig {
    pub start_equity: f64,
    pub after: Duration,
    pub drop_pct: f64,
    pub bleed_pct_per_min: f64,
    pub restart_gap: Duration,
    pub runaway_rate: f64,
}

/// The healthy broker client: closed breakers, 1 % API errors, 12 % of the rate limit.
const API_ERROR_RATE_OK: f64 = 0.01;
const RATE_LIMIT_OK: f64 = 0.12;
const API_ERROR_RATE_DEGRADED: f64 = 0.08;
const RATE_LIMIT_DEGRADED: f64 = 0.96;

/// What a healthy broker client shows: every breaker closed, no API errors,
/// a little of the rate limit used.
pub fn client_gauges(c: &mut Collector) {
    for category in CATEGORIES {
        c.set(BREAKER, &[("category", category)], 0.0);
    }
    c.set(API_ERROR_RATE, &[], 0.0);
    c.set(RATE_LIMIT_USAGE, &[], 0.05);
}

/// A money scenario in progress.
#[derive(Debug)]
pub struct Money {
    path: Path,
    cfg: MoneyConfig,
    restarted: bool,
    runaway_orders: u64,
    /// The first request: the scenario's clock starts there.
    started: Option<Instant>,
}

impl Money {
    pub fn new(path: Path, cfg: MoneyConfig) -> Money {
        Money {
            path,
            cfg,
            restarted: false,
            runaway_orders: 0,
            started: None,
        }
    }

    /// Bring the collector up to now, on the scenario's clock.
    pub fn tick(&mut self, c: &mut Collector) {
        let started = *self.started.get_or_insert_with(Instant::now);
        self.advance(c, started.elapsed());
    }

    /// The equity the account holds `elapsed` after the start; `None` while
    /// a restarted bot has not set its gauge yet.
    pub fn equity(&self, elapsed: Duration) -> Option<f64> {
        let start = self.cfg.start_equity;
        let after = elapsed >= self.cfg.after;
        let dropped = start * (1.0 - self.cfg.drop_pct / 100.0);
        match self.path {
            Path::SlowBleed => {
                let minutes = elapsed.as_secs() as f64 / 60.0;
                Some(start * (1.0 - self.cfg.bleed_pct_per_min / 100.0 * minutes))
            }
            Path::SuddenDrop if after => Some(dropped),
            Path::Restart if after => {
                (elapsed >= self.cfg.after + self.cfg.restart_gap).then_some(dropped)
            }
            _ => Some(start),
        }
    }

    /// Bring the collector up to `elapsed` after the start.
    pub fn advance(&mut self, c: &mut Collector, elapsed: Duration) {
        let after = elapsed >= self.cfg.after;
        if self.path == Path::Restart && after && !self.restarted {
            // A restart loses every in-memory series together.
            *c = Collector::default();
            self.restarted = true;
        }
        let Some(equity) = self.equity(elapsed) else {
            return; // the restarted bot has set nothing yet
        };
        if self.path == Path::Restart && self.restarted && c.is_empty() {
            // Trading again: a few orders, counted from zero.
            for _ in 0..3 {
                record_order(c, Order::ok("sell", 0.08));
            }
            record_guard_checks(c, 3);
        }
        c.set(EQUITY, &[], equity);
        for category in CATEGORIES {
            let open = self.path == Path::BreakerOpens && after && category == "orders";
            let state = if open { 2.0 } else { 0.0 };
            c.set(BREAKER, &[("category", category)], state);
        }
        let degraded = self.path == Path::ApiDegraded && after;
        let (errors, usage) = if degraded {
            (API_ERROR_RATE_DEGRADED, RATE_LIMIT_DEGRADED)
        } else {
            (API_ERROR_RATE_OK, RATE_LIMIT_OK)
        };
        c.set(API_ERROR_RATE, &[], errors);
        c.set(RATE_LIMIT_USAGE, &[], usage);
        if self.path == Path::OrderRunaway && after {
            let since = (elapsed - self.cfg.after).as_secs_f64();
            let due = (since * self.cfg.runaway_rate).floor() as u64;
            while self.runaway_orders < due {
                self.runaway_orders += 1;
                let side = if self.runaway_orders.is_multiple_of(2) {
                    "buy"
                } else {
                    "sell"
                };
                record_order(c, Order::ok(side, 0.05));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MoneyConfig {
        MoneyConfig {
            start_equity: 10_000.0,
            after: Duration::from_secs(3),
            drop_pct: 6.0,
            bleed_pct_per_min: 1.0,
            restart_gap: Duration::from_secs(2),
            runaway_rate: 50.0,
        }
    }

    fn render(m: &mut Money, c: &mut Collector, secs: f64) -> String {
        m.advance(c, Duration::from_secs_f64(secs));
        c.render(true)
    }

    #[test]
    fn a_sudden_drop_moves_the_gauge_at_the_event() {
        let mut m = Money::new(Path::SuddenDrop, cfg());
        let mut c = Collector::default();
        assert!(render(&mut m, &mut c, 1.0).contains("gpt_trader_equity_dollars 10000.0\n"));
        assert!(render(&mut m, &mut c, 3.0).contains("gpt_trader_equity_dollars 9400.0\n"));
    }

    #[test]
    fn a_restart_drops_every_series_then_equity_returns_lower_and_counters_restart() {
        let mut m = Money::new(Path::Restart, cfg());
        let mut c = Collector::default();
        record_order(&mut c, Order::ok("buy", 0.1));
        for _ in 0..9 {
            record_order(&mut c, Order::ok("buy", 0.1));
        }
        let before = render(&mut m, &mut c, 1.0);
        assert!(before.contains("reason=\"none\",result=\"success\",side=\"buy\"} 10\n"));
        // In the gap: an empty body, as a bot that has recorded nothing yet.
        assert_eq!(render(&mut m, &mut c, 4.0), "");
        let back = render(&mut m, &mut c, 5.0);
        assert!(
            back.contains("gpt_trader_equity_dollars 9400.0\n"),
            "{back}"
        );
        assert!(back.contains("side=\"sell\"} 3\n"), "{back}");
        assert!(!back.contains("side=\"buy\"}"), "{back}");
    }

    #[test]
    fn the_breaker_opens_at_the_event_and_the_runaway_counts_orders() {
        let mut m = Money::new(Path::BreakerOpens, cfg());
        let mut c = Collector::default();
        let body = render(&mut m, &mut c, 3.5);
        assert!(body.contains("gpt_trader_circuit_breaker_state{category=\"orders\"} 2.0\n"));
        assert!(body.contains("gpt_trader_circuit_breaker_state{category=\"market_data\"} 0.0\n"));
        let mut m = Money::new(Path::OrderRunaway, cfg());
        let mut c = Collector::default();
        let body = render(&mut m, &mut c, 4.0);
        let sum: i64 = c
            .counters()
            .filter(|(k, _)| k.starts_with("gpt_trader_order_submission_total"))
            .map(|(_, v)| v)
            .sum();
        assert_eq!(sum, 50, "{body}");
    }

    #[test]
    fn a_slow_bleed_steps_every_second() {
        let m = Money::new(Path::SlowBleed, cfg());
        assert_eq!(
            m.equity(Duration::from_millis(59_900)),
            m.equity(Duration::from_secs(59))
        );
        assert_eq!(m.equity(Duration::from_secs(60)), Some(9_900.0));
    }
}

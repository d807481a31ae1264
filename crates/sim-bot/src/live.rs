//! Live mode: traffic that grows with wall-clock time, so rates and windows
//! can be measured against the simulator (and scraped by a real Prometheus).

use crate::collector::Collector;
use crate::traffic::{Failure, Order, Rejection, record_guard_trip, record_order};
use std::time::{Duration, Instant};

/// True for the `n`th event (1-based) when a steady `ratio` of events
/// crosses into a new whole number there.
fn evenly(n: u64, ratio: f64) -> bool {
    (n as f64 * ratio).floor() > ((n - 1) as f64 * ratio).floor()
}

/// Rates of the simulated traffic.
#[derive(Debug, Clone, Copy)]
pub struct LiveConfig {
    /// Orders per second.
    pub order_rate: f64,
    /// Fraction of orders that fail (half timeouts, half broker rejections).
    pub failure_ratio: f64,
    /// Fraction of successful orders whose first broker attempt failed and
    /// was retried (a timed-out order is always two attempts on top).
    pub retry_ratio: f64,
    /// Mean broker latency; each call is uniform in [0.5, 1.5] x the mean.
    pub latency_ms: f64,
    /// One recoverable guard trip this often, if set.
    pub guard_trip_every: Option<Duration>,
    /// Seed of the deterministic generator.
    pub seed: u64,
    /// A dry run: the read-only broker rejects every order.
    pub dry_run: bool,
}

/// The generator: how many orders and trips it has recorded since `start`.
#[derive(Debug)]
pub struct Live {
    cfg: LiveConfig,
    start: Instant,
    orders: u64,
    trips: u64,
    rng: u64,
}

impl Live {
    pub fn new(cfg: LiveConfig) -> Live {
        Live {
            cfg,
            start: Instant::now(),
            orders: 0,
            trips: 0,
            rng: cfg.seed | 1,
        }
    }

    /// xorshift64*: deterministic, dependency-free, good enough for traffic.
    fn uniform(&mut self) -> f64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let x = self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Record everything that has happened up to now.
    pub fn advance(&mut self, c: &mut Collector) {
        let elapsed = self.start.elapsed().as_secs_f64();
        let due = (elapsed * self.cfg.order_rate).floor() as u64;
        while self.orders < due {
            self.orders += 1;
            // Failures and retries are spread evenly, not drawn: any run of
            // k orders holds its share to within one, so windows of the same
            // traffic agree whatever their alignment.
            let fail = evenly(self.orders, self.cfg.failure_ratio);
            let retried = evenly(self.orders, self.cfg.retry_ratio);
            let latency_s = self.cfg.latency_ms / 1000.0 * (0.5 + self.uniform());
            let side = if self.orders.is_multiple_of(2) {
                "buy"
            } else {
                "sell"
            };
            // A timed-out order is two broker attempts, like the bot's.
            let order = match (fail || self.cfg.dry_run, self.orders % 2) {
                (true, _) if self.cfg.dry_run => {
                    Order::rejected(side, Rejection::BrokerStatus, latency_s)
                }
                (false, _) => Order {
                    retried,
                    ..Order::ok(side, latency_s)
                },
                (true, 0) => Order::failed(side, Failure::Timeout, latency_s),
                (true, _) => Order::rejected(side, Rejection::BrokerRejected, latency_s),
            };
            record_order(c, order);
        }
        if let Some(every) = self.cfg.guard_trip_every.filter(|d| !d.is_zero()) {
            let due = (elapsed / every.as_secs_f64()).floor() as u64;
            while self.trips < due {
                self.trips += 1;
                record_guard_trip(c, "mark_staleness");
            }
        }
    }
}

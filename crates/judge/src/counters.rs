//! Orders read as a counter (docs/judge.md, "Counters").
//!
//! `metrics.orders` is the bot's lifetime count of submissions. Orders count
//! only from its increases. A decrease is a restart only when the restart is
//! coherent: a restart resets every counter the bot exports together, so
//! judge looks at the other lifetime counters it sees for the same bot
//! ([`Other`]). One that fell across the same interval corroborates the
//! restart; one that held or climbed from a positive value contradicts it;
//! one at 0 on both sides, or not seen, says nothing. A restart record
//! (`process.restart`, `--restarted-at`) dated in the interval settles it.
//! A decrease that is contradicted, or corroborated by nothing, makes the
//! count inconsistent: the orders criterion is unknown. Memory is constant:
//! two samples per series and at most [`MAX_DECREASES`] decreases.

use canary_core::Record;
use canary_core::signal_fields::LatencyBucketsFields;
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// Decreases of the order counter tracked per bot; past it the count is
/// inconsistent (a counter that keeps falling is not a bot restarting).
pub const MAX_DECREASES: usize = 16;

/// Restart records kept per bot.
pub const MAX_RESTARTS: usize = 16;

/// The other lifetime counters a restart resets together with orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    /// `metrics.guard_trips_total`: the bot's lifetime guard trips.
    GuardTrips,
    /// `/health`'s order error signal: `details.total_submissions`.
    HealthSubmissions,
    /// `/health`'s order retry signal: `details.broker_call_count`.
    HealthBrokerCalls,
}

const OTHERS: [Other; 3] = [
    Other::GuardTrips,
    Other::HealthSubmissions,
    Other::HealthBrokerCalls,
];

impl Other {
    /// The series a record carries, and its value.
    fn read(rec: &Record) -> Option<(Other, f64)> {
        let detail = |k: &str| {
            rec.extra
                .get("details")
                .and_then(|d| d.get(k))
                .and_then(Value::as_f64)
        };
        let (which, v) = match rec.name.as_str() {
            "metrics.guard_trips_total" => (Other::GuardTrips, rec.value.as_f64()?),
            "health.signal.order_error_rate" => {
                (Other::HealthSubmissions, detail("total_submissions")?)
            }
            "health.signal.order_retry_rate" => {
                (Other::HealthBrokerCalls, detail("broker_call_count")?)
            }
            _ => return None,
        };
        (v.is_finite() && v >= 0.0).then_some((which, v))
    }

    pub fn name(self) -> &'static str {
        match self {
            Other::GuardTrips => "metrics.guard_trips_total",
            Other::HealthSubmissions => "/health total_submissions",
            Other::HealthBrokerCalls => "/health broker_call_count",
        }
    }

    fn index(self) -> usize {
        OTHERS.iter().position(|o| *o == self).unwrap_or(0)
    }
}

/// A series' last two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Series {
    prev: Option<(Timestamp, f64)>,
    last: Option<(Timestamp, f64)>,
}

impl Series {
    fn push(&mut self, ts: Timestamp, v: f64) {
        self.prev = self.last;
        self.last = Some((ts, v));
    }
}

/// What another counter says of one decrease of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Says {
    /// Not yet seen after the decrease began.
    Waiting,
    Nothing,
    Reset,
    Climbed,
}

fn says(before: f64, after: f64) -> Says {
    if after < before {
        Says::Reset
    } else if before > 0.0 {
        Says::Climbed
    } else {
        Says::Nothing
    }
}

/// One decrease of the order counter: between the sample at `from` and the
/// one at `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decrease {
    from: Timestamp,
    to: Timestamp,
    before: f64,
    after: f64,
    /// The failed orders at the first sample after the fall.
    errors_after: Option<f64>,
    others: [Says; 3],
}

/// How a decrease was read.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Restart,
    /// Not a coherent restart: why.
    Inconsistent(Doubt),
}

/// Why the window's orders, failed orders or submit latency cannot be
/// trusted. Each variant names the samples that raised the doubt.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Doubt {
    /// An order count producers reported as unknown.
    #[error("metrics.orders could not be read at {ts}: {msg}")]
    OrdersUnreadable { ts: Timestamp, msg: String },
    /// A fall no restart explains, while other counters climbed.
    #[error(
        "metrics.orders fell from {before} to {after} between {from} and {to} while {} did \
         not reset: not a restart (two bots behind one address, or a glitch)",
        .climbed.join(", ")
    )]
    NotARestart {
        before: f64,
        after: f64,
        from: Timestamp,
        to: Timestamp,
        climbed: Vec<&'static str>,
    },
    /// A fall nothing else corroborates.
    #[error(
        "metrics.orders fell from {before} to {after} between {from} and {to} and no other \
         counter of the bot reset with it: a restart cannot be told from a glitch; pass \
         --restarted-at if the bot did restart"
    )]
    Uncorroborated {
        before: f64,
        after: f64,
        from: Timestamp,
        to: Timestamp,
    },
    #[error(
        "metrics.orders fell more than {MAX_DECREASES} times (or more than {MAX_RESTARTS} \
         restarts were recorded): not a counter"
    )]
    TooManyFalls,
    /// The failed orders of a window whose order count is in doubt.
    #[error("the order counter is inconsistent")]
    Inconsistent,
    #[error(
        "failed orders fell from {before} to {after} at {ts} while orders did not: not a counter"
    )]
    FailedFell {
        before: f64,
        after: f64,
        ts: Timestamp,
    },
    #[error("a metrics.orders sample up to {ts} has no by_result")]
    NoBreakdown { ts: Timestamp },
    #[error("the sample after the restart at {ts} has no by_result")]
    NoBreakdownAfterRestart { ts: Timestamp },
    /// A latency record producers reported as unknown.
    #[error("{LATENCY} could not be read at {ts}: {msg}")]
    LatencyUnreadable { ts: Timestamp, msg: String },
    #[error("{LATENCY} at {ts} holds no cumulative buckets")]
    NoBuckets { ts: Timestamp },
    #[error("{LATENCY}: the bucket bounds changed at {ts}")]
    BoundsChanged { ts: Timestamp },
    #[error("{LATENCY}: a bucket fell at {ts} while the total did not")]
    BucketFell { ts: Timestamp },
}

/// The order counter of one bot and everything that judges its decreases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    orders: Option<(Timestamp, f64)>,
    /// Orders from increases only.
    increases: f64,
    others: [Series; 3],
    decreases: Vec<Decrease>,
    overflow: bool,
    restarts: Vec<Timestamp>,
    /// The first order sample that could not be read.
    unreadable: Option<Doubt>,
    /// Failed orders (all but `by_result.success`) at the newest sample.
    errors_last: Option<f64>,
    /// Failed orders from increases only, beside `increases`.
    error_increases: f64,
    /// Why the failed orders cannot be counted, if so.
    errors_doubt: Option<Doubt>,
    /// Successful submit latency buckets (`le` in s, +Inf last): the newest
    /// sample's cumulative counts, its time, and the window's increases.
    latency_last: Option<(Timestamp, Vec<(f64, f64)>)>,
    latency_acc: Vec<(f64, f64)>,
    latency_samples: u32,
    latency_doubt: Option<Doubt>,
}

/// Where the order count stands.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCount {
    pub count: f64,
    pub seen: bool,
    pub restarts: u32,
    /// Why the count cannot be trusted: the first decrease that is not a
    /// coherent restart, or an order sample that could not be read.
    pub inconsistent: Option<Doubt>,
    /// A decrease that is not a coherent restart (or too many): the
    /// increases prove no order, so they never complete a window. An
    /// unreadable sample alone leaves the increases between known samples
    /// real (a counter only climbs), though the count still holds.
    pub unproven: bool,
    /// The window's failed orders (rejected, failed or under a result the
    /// bot never writes), counted as the orders are, or why they cannot be.
    pub errors: Result<f64, Doubt>,
    /// The window's successful submits by latency bucket (cumulative, `le`
    /// in s, +Inf last), from `metrics.submit_latency_buckets` deltas;
    /// `None` with fewer than two samples.
    pub latency: Option<Result<Vec<(f64, f64)>, Doubt>>,
}

impl Counters {
    /// Take a record in: `metrics.orders`, another lifetime counter, or a
    /// restart record. Others are ignored.
    pub fn observe(&mut self, rec: &Record, tol: Duration) {
        // What could not be judged is no reading of a counter; an order
        // count that could not be read leaves the count unknown.
        if rec.kind == canary_core::Kind::Error || rec.level == canary_core::Level::Unknown {
            if rec.name == LATENCY {
                self.latency_doubt
                    .get_or_insert_with(|| Doubt::LatencyUnreadable {
                        ts: rec.ts,
                        msg: rec.msg.clone(),
                    });
            }
            if rec.name == "metrics.orders" && self.unreadable.is_none() {
                self.unreadable = Some(Doubt::OrdersUnreadable {
                    ts: rec.ts,
                    msg: rec.msg.clone(),
                });
            }
            return;
        }
        if rec.name == "process.restart" {
            if self.restarts.len() < MAX_RESTARTS {
                self.restarts.push(rec.ts);
            } else {
                self.overflow = true;
            }
            return;
        }
        if rec.name == LATENCY {
            match read_buckets(rec) {
                Some(b) => self.latency_sample(rec.ts, b),
                None => {
                    self.latency_doubt
                        .get_or_insert(Doubt::NoBuckets { ts: rec.ts });
                }
            }
            return;
        }
        if rec.name == "metrics.orders" {
            if let Some(v) = rec.value.as_f64().filter(|v| v.is_finite() && *v >= 0.0) {
                self.orders_sample(rec.ts, v, failed_orders(rec, v));
            }
            return;
        }
        let Some((which, v)) = Other::read(rec) else {
            return;
        };
        let i = which.index();
        let before_ts = self.others[i].last.map(|(t, _)| t);
        let prior = self.others[i].last;
        self.others[i].push(rec.ts, v);
        for d in &mut self.decreases {
            if let Says::Waiting = d.others[i] {
                // The first sample after the decrease began, compared with
                // the last one before it.
                if rec.ts > d.from && before_ts.is_none_or(|t| t <= d.from) {
                    d.others[i] = match prior {
                        Some((_, b)) if within(rec.ts, d.to, tol) => says(b, v),
                        _ => Says::Nothing,
                    };
                }
            }
        }
    }

    /// A restart the process manager recorded (`--restarted-at`).
    pub fn restarted_at(&mut self, ts: Timestamp) {
        if self.restarts.len() < MAX_RESTARTS {
            self.restarts.push(ts);
        } else {
            self.overflow = true;
        }
    }

    /// This bot's counters with the canary-wide restart records added.
    pub fn with_restarts(&self, restarts: &[Timestamp]) -> Counters {
        let mut out = self.clone();
        for r in restarts {
            out.restarted_at(*r);
        }
        out
    }

    /// The restart records seen.
    pub fn restarts(&self) -> &[Timestamp] {
        &self.restarts
    }

    fn orders_sample(&mut self, ts: Timestamp, v: f64, errors: Option<f64>) {
        let Some((from, last)) = self.orders else {
            // The baseline: nothing says when earlier orders were submitted.
            self.orders = Some((ts, v));
            self.errors_last = errors;
            return;
        };
        if ts < from {
            // Out of order: a sample older than the newest counts nothing.
            return;
        }
        let errors_before = std::mem::replace(&mut self.errors_last, errors);
        if v >= last {
            self.increases += v - last;
            match (errors_before, errors) {
                (Some(b), Some(a)) if a >= b => self.error_increases += a - b,
                (Some(b), Some(a)) => {
                    self.errors_doubt.get_or_insert(Doubt::FailedFell {
                        before: b,
                        after: a,
                        ts,
                    });
                }
                _ => {
                    self.errors_doubt.get_or_insert(Doubt::NoBreakdown { ts });
                }
            }
        } else if self.decreases.len() >= MAX_DECREASES {
            self.overflow = true;
        } else {
            let mut others = [Says::Nothing; 3];
            for (i, s) in self.others.iter().enumerate() {
                others[i] = match (s.prev, s.last) {
                    // Already seen on both sides of the decrease.
                    (Some((pt, pv)), Some((lt, lv))) if pt <= from && lt > from => says(pv, lv),
                    (_, Some((lt, _))) if lt <= from => Says::Waiting,
                    _ => Says::Nothing,
                };
            }
            self.decreases.push(Decrease {
                from,
                to: ts,
                before: last,
                after: v,
                errors_after: errors,
                others,
            });
        }
        self.orders = Some((ts, v));
    }

    /// One latency bucket sample: per-bound increases, as Prometheus'
    /// `increase()` reads a counter (a fall of the total is a reset, and
    /// the new counts are all new).
    fn latency_sample(&mut self, ts: Timestamp, b: Vec<(f64, f64)>) {
        let Some((last_ts, last)) = &self.latency_last else {
            self.latency_acc = b.iter().map(|(le, _)| (*le, 0.0)).collect();
            self.latency_last = Some((ts, b));
            self.latency_samples = 1;
            return;
        };
        if ts < *last_ts {
            return;
        }
        let same_bounds = last.len() == b.len() && last.iter().zip(&b).all(|(x, y)| x.0 == y.0);
        if !same_bounds {
            self.latency_doubt
                .get_or_insert(Doubt::BoundsChanged { ts });
        } else {
            let total = |v: &[(f64, f64)]| v.last().map_or(0.0, |x| x.1);
            let reset = total(&b) < total(last);
            for (i, (_, c)) in b.iter().enumerate() {
                let d = if reset { *c } else { c - last[i].1 };
                if d < 0.0 {
                    self.latency_doubt.get_or_insert(Doubt::BucketFell { ts });
                }
                self.latency_acc[i].1 += d.max(0.0);
            }
        }
        self.latency_samples += 1;
        self.latency_last = Some((ts, b));
    }

    /// Read one decrease; `used` marks the restart records already spent:
    /// each explains one fall, the first after it.
    fn read(&self, d: &Decrease, tol: Duration, used: &mut [bool]) -> Reading {
        let slack = jiff::SignedDuration::try_from(tol).unwrap_or_default();
        let lo = d.from.checked_sub(slack).unwrap_or(d.from);
        let settled = self
            .restarts
            .iter()
            .enumerate()
            .find(|(i, r)| !used[*i] && **r >= lo && **r <= d.to)
            .map(|(i, _)| i);
        if let Some(i) = settled {
            used[i] = true;
            return Reading::Restart;
        }
        let named = |what: Says| {
            OTHERS
                .iter()
                .zip(d.others)
                .filter(|(_, s)| *s == what)
                .map(|(o, _)| o.name())
                .collect::<Vec<_>>()
        };
        let climbed = named(Says::Climbed);
        if !climbed.is_empty() {
            return Reading::Inconsistent(Doubt::NotARestart {
                before: d.before,
                after: d.after,
                from: d.from,
                to: d.to,
                climbed,
            });
        }
        if named(Says::Reset).is_empty() {
            return Reading::Inconsistent(Doubt::Uncorroborated {
                before: d.before,
                after: d.after,
                from: d.from,
                to: d.to,
            });
        }
        Reading::Restart
    }

    /// The count and its consistency, judged now.
    pub fn count(&self, tol: Duration) -> OrderCount {
        let mut count = self.increases;
        let mut errors = self.error_increases;
        let mut errors_doubt = self.errors_doubt.clone();
        let mut restarts = 0;
        let mut inconsistent = None;
        let mut unproven = self.overflow;
        let mut used = vec![false; self.restarts.len()];
        for d in &self.decreases {
            match self.read(d, tol, &mut used) {
                // After a restart the new value is all new orders.
                Reading::Restart => {
                    count += d.after;
                    match d.errors_after {
                        Some(e) => errors += e,
                        None => {
                            errors_doubt.get_or_insert(Doubt::NoBreakdownAfterRestart { ts: d.to });
                        }
                    }
                    restarts += 1;
                }
                Reading::Inconsistent(why) => {
                    unproven = true;
                    inconsistent.get_or_insert(why);
                }
            }
        }
        if let Some(why) = &self.unreadable {
            inconsistent.get_or_insert_with(|| why.clone());
        }
        if self.overflow {
            inconsistent.get_or_insert(Doubt::TooManyFalls);
        }
        OrderCount {
            count,
            seen: self.orders.is_some(),
            restarts,
            errors: match errors_doubt {
                None if inconsistent.is_none() => Ok(errors),
                None => Err(Doubt::Inconsistent),
                Some(why) => Err(why),
            },
            latency: (self.latency_samples >= 2 || self.latency_doubt.is_some()).then(
                || match &self.latency_doubt {
                    Some(why) => Err(why.clone()),
                    None => Ok(self.latency_acc.clone()),
                },
            ),
            inconsistent,
            unproven,
        }
    }
}

/// The latency bucket sample's name.
pub const LATENCY: &str = "metrics.submit_latency_buckets";

/// `buckets` `[{le, count}]`: ascending bounds (null is +Inf, last),
/// non-negative counts that never fall; else `None`. A field that does not
/// read as scrape-metrics writes it refuses the record.
fn read_buckets(rec: &Record) -> Option<Vec<(f64, f64)>> {
    let fields: LatencyBucketsFields = rec.payload().ok()?;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for b in fields.buckets {
        let le = match b.le {
            None => f64::INFINITY,
            Some(v) => Some(v).filter(|v| v.is_finite())?,
        };
        let c = Some(b.count).filter(|c| c.is_finite() && *c >= 0.0)?;
        if let Some((ple, pc)) = out.last()
            && (le <= *ple || c < *pc)
        {
            return None;
        }
        out.push((le, c));
    }
    (out.last()?.0 == f64::INFINITY).then_some(out)
}

/// A `metrics.orders` sample's failed orders: every order but the
/// `success` ones (an unknown result counts as a failure, never a
/// success). `None` without a `by_result` breakdown that adds up.
fn failed_orders(rec: &Record, total: f64) -> Option<f64> {
    let by = rec.extra.get("by_result")?.as_object()?;
    let mut sum = 0.0;
    for v in by.values() {
        let v = v.as_f64().filter(|v| v.is_finite() && *v >= 0.0)?;
        sum += v;
    }
    let success = match by.get("success") {
        Some(v) => v.as_f64()?,
        None => 0.0,
    };
    // The breakdown must be the total's, else it is not this counter.
    ((sum - total).abs() < 0.5).then_some(total - success)
}

fn within(ts: Timestamp, to: Timestamp, tol: Duration) -> bool {
    Duration::try_from(ts.duration_since(to)).map_or(true, |d| d <= tol)
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::{Kind, Level};

    const TOL: Duration = Duration::from_secs(90);

    fn at(m: i64) -> Timestamp {
        Timestamp::from_second(1_795_651_200 + m * 60).expect("ts")
    }

    fn rec(m: i64, name: &str, v: f64) -> Record {
        Record::new("t", "http://h:1", Kind::Sample, name, Level::Ok)
            .at(at(m))
            .value(v)
    }

    fn health(m: i64, submissions: f64) -> Record {
        Record::new(
            "t",
            "http://h:1",
            Kind::Signal,
            "health.signal.order_error_rate",
            Level::Ok,
        )
        .at(at(m))
        .value(0.0)
        .extra(
            "details",
            serde_json::json!({"total_submissions": submissions}),
        )
    }

    #[test]
    fn a_lone_dip_is_not_a_restart() {
        let mut c = Counters::default();
        for (m, v) in [(0, 60.0), (1, 59.0), (2, 60.0), (3, 59.0), (4, 60.0)] {
            c.observe(&health(m, 100.0 + m as f64), TOL);
            c.observe(&rec(m, "metrics.orders", v), TOL);
        }
        let n = c.count(TOL);
        assert!(n.inconsistent.is_some(), "{n:?}");
        assert_eq!(n.restarts, 0);
        assert!(n.count <= 2.0, "only increases count: {n:?}");
    }

    fn orders(m: i64, total: f64, failed: f64) -> Record {
        rec(m, "metrics.orders", total).extra(
            "by_result",
            serde_json::json!({"success": total - failed, "failed": failed, "rejected": 0}),
        )
    }

    #[test]
    fn failed_orders_count_as_the_orders_do() {
        let mut c = Counters::default();
        // Baseline 100 (4 failed), then 20 more with 1 failed, a restart
        // (recorded) to 5 with 2 failed, then 5 more with none.
        c.observe(&orders(0, 100.0, 4.0), TOL);
        c.observe(&orders(1, 120.0, 5.0), TOL);
        c.restarted_at(at(2));
        c.observe(&orders(2, 5.0, 2.0), TOL);
        c.observe(&orders(3, 10.0, 2.0), TOL);
        let n = c.count(TOL);
        assert_eq!(n.count, 30.0);
        assert_eq!(n.errors, Ok(3.0));
        // A breakdown that does not add up to the count is no breakdown.
        let mut c = Counters::default();
        c.observe(&orders(0, 100.0, 4.0), TOL);
        c.observe(
            &rec(1, "metrics.orders", 120.0)
                .extra("by_result", serde_json::json!({"success": 1, "failed": 0})),
            TOL,
        );
        assert!(c.count(TOL).errors.is_err());
        // Failed orders that fall while orders climb are not a counter.
        let mut c = Counters::default();
        c.observe(&orders(0, 100.0, 4.0), TOL);
        c.observe(&orders(1, 120.0, 1.0), TOL);
        let why = c.count(TOL).errors.expect_err("not a counter");
        assert!(
            matches!(
                why,
                Doubt::FailedFell {
                    before: 4.0,
                    after: 1.0,
                    ..
                }
            ),
            "{why:?}"
        );
        assert!(
            why.to_string()
                .ends_with(" while orders did not: not a counter"),
            "{why}"
        );
    }

    #[test]
    fn a_dip_with_nothing_else_seen_is_doubt() {
        let mut c = Counters::default();
        for (m, v) in [(0, 60.0), (1, 0.0), (2, 3.0)] {
            c.observe(&rec(m, "metrics.orders", v), TOL);
        }
        let n = c.count(TOL);
        assert!(
            matches!(n.inconsistent, Some(Doubt::Uncorroborated { .. })),
            "{n:?}"
        );
        assert!(
            n.inconsistent
                .as_ref()
                .is_some_and(|w| w.to_string().contains("--restarted-at"))
        );
        let mut c2 = c.clone();
        c2.restarted_at(at(1) - jiff::SignedDuration::from_secs(20));
        let n = c2.count(TOL);
        assert_eq!(n.inconsistent, None);
        assert_eq!((n.count, n.restarts), (3.0, 1));
    }

    #[test]
    fn a_coherent_restart_resets_every_counter() {
        let mut c = Counters::default();
        // /health is probed before /metrics in a round.
        for (m, h, o) in [
            (0, 50.0, 50.0),
            (1, 55.0, 55.0),
            (2, 2.0, 2.0),
            (3, 6.0, 6.0),
        ] {
            c.observe(&health(m, h), TOL);
            c.observe(&rec(m, "metrics.orders", o), TOL);
        }
        let n = c.count(TOL);
        assert_eq!(n.inconsistent, None);
        assert_eq!((n.count, n.restarts), (5.0 + 2.0 + 4.0, 1));
    }

    #[test]
    fn a_counter_seen_after_the_decrease_settles_it_then() {
        let mut c = Counters::default();
        c.observe(&rec(0, "metrics.orders", 40.0), TOL);
        c.observe(&rec(0, "metrics.guard_trips_total", 4.0), TOL);
        c.observe(&rec(1, "metrics.orders", 1.0), TOL);
        let n = c.count(TOL);
        assert!(n.inconsistent.is_some(), "waiting is no corroboration yet");
        c.observe(&rec(1, "metrics.guard_trips_total", 0.0), TOL);
        assert_eq!(c.count(TOL).inconsistent, None);
        let mut climbing = Counters::default();
        climbing.observe(&rec(0, "metrics.orders", 40.0), TOL);
        climbing.observe(&rec(0, "metrics.guard_trips_total", 4.0), TOL);
        climbing.observe(&rec(1, "metrics.orders", 1.0), TOL);
        climbing.observe(&rec(1, "metrics.guard_trips_total", 5.0), TOL);
        assert!(climbing.count(TOL).inconsistent.is_some());
    }
}

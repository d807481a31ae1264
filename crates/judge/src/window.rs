//! The phase window: when it starts, how far it has run, how many orders it
//! saw, and whether it is complete (runbook §4: Phase A "2-6 hours or 10+
//! orders", Phase B "24h minimum or 50+ orders"; readings in docs/judge.md).

use canary_core::Phase;
use jiff::Timestamp;
use std::time::Duration;

/// How a phase's window completes. Every field is configurable; the
/// runbook's values are the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSpec {
    /// Complete once this much time has elapsed...
    pub min_duration: Duration,
    /// ... or once this many orders were submitted, whichever comes first.
    pub min_orders: u64,
    /// Longest the phase may run (Phase A: 6 h); past it judge says so.
    pub cap: Option<Duration>,
}

impl WindowSpec {
    /// The runbook's window for `phase`; `None` for the start gate (no window).
    pub fn runbook(phase: Phase) -> Option<WindowSpec> {
        match phase {
            Phase::Start => None,
            Phase::A => Some(WindowSpec {
                min_duration: Duration::from_secs(2 * 3600),
                min_orders: 10,
                cap: Some(Duration::from_secs(6 * 3600)),
            }),
            Phase::B => Some(WindowSpec {
                min_duration: Duration::from_secs(24 * 3600),
                min_orders: 50,
                cap: None,
            }),
        }
    }
}

/// Orders counted from `metrics.orders` samples: the bot's lifetime counter,
/// which restarts at 0 with the bot. The first sample in the window is the
/// baseline (the orders before it are not counted: nothing says when they
/// were submitted); a decrease is a restart, so the new value is all new
/// orders.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Orders {
    last: Option<f64>,
    pub count: f64,
    pub resets: u32,
}

impl Orders {
    /// A sample inside the window; the first one is the baseline.
    pub fn sample(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        if let Some(last) = self.last {
            if value >= last {
                self.count += value - last;
            } else {
                self.resets += 1;
                self.count += value;
            }
        }
        self.last = Some(value);
    }

    pub fn seen(&self) -> bool {
        self.last.is_some()
    }

    pub fn merge(&self, other: &Orders) -> Orders {
        Orders {
            last: self.last.or(other.last),
            count: self.count + other.count,
            resets: self.resets + other.resets,
        }
    }
}

/// Where a window stands at the moment judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub start: Option<Timestamp>,
    pub elapsed: Duration,
    pub orders: u64,
    pub orders_seen: bool,
    pub complete: bool,
    pub over_cap: bool,
    pub spec: Option<WindowSpec>,
}

impl Progress {
    pub fn new(
        spec: Option<WindowSpec>,
        start: Option<Timestamp>,
        at: Timestamp,
        orders: &Orders,
    ) -> Progress {
        let elapsed = start
            .and_then(|s| Duration::try_from(at.duration_since(s)).ok())
            .unwrap_or_default();
        let count = orders.count.max(0.0).floor() as u64;
        let (complete, over_cap) = match spec {
            None => (true, false),
            Some(w) => (
                start.is_some() && (elapsed >= w.min_duration || count >= w.min_orders),
                w.cap.is_some_and(|c| elapsed >= c),
            ),
        };
        Progress {
            start,
            elapsed,
            orders: count,
            orders_seen: orders.seen(),
            complete,
            over_cap,
            spec,
        }
    }

    /// The `window` field of a verdict.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "start": self.start.map(|s| s.to_string()),
            "elapsed_s": self.elapsed.as_secs(),
            "orders": self.orders,
            "complete": self.complete,
        });
        if let (Some(w), Some(obj)) = (self.spec, v.as_object_mut()) {
            obj.insert("min_duration_s".into(), w.min_duration.as_secs().into());
            obj.insert("min_orders".into(), w.min_orders.into());
            if let Some(c) = w.cap {
                obj.insert("cap_s".into(), c.as_secs().into());
            }
        }
        v
    }

    /// One sentence on the window, e.g. "1h of 2h, 3 of 10 orders".
    pub fn describe(&self) -> String {
        use canary_core::duration::format_duration as f;
        let Some(w) = self.spec else {
            return "start gate: no window".into();
        };
        let Some(_) = self.start else {
            return "window not started: no evidence yet".into();
        };
        format!(
            "window {} of {}, {} of {} orders{}",
            f(Duration::from_secs(self.elapsed.as_secs())),
            f(w.min_duration),
            self.orders,
            w.min_orders,
            if self.orders_seen {
                ""
            } else {
                " (no metrics.orders samples)"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decrease_is_a_restart() {
        let mut o = Orders::default();
        for v in [5.0, 8.0, 2.0, 4.0] {
            o.sample(v);
        }
        assert_eq!(o.count, 3.0 + 2.0 + 2.0);
        assert_eq!(o.resets, 1);
    }

    #[test]
    fn the_first_sample_is_the_baseline_not_counted() {
        let mut o = Orders::default();
        o.sample(100.0);
        assert_eq!(o.count, 0.0);
        assert!(o.seen());
        o.sample(104.0);
        assert_eq!(o.count, 4.0);
    }

    #[test]
    fn phase_a_completes_on_time_or_orders() {
        let spec = WindowSpec::runbook(Phase::A);
        let start: Timestamp = "2026-11-26T00:00:00Z".parse().expect("ts");
        let at = |s: &str| -> Timestamp { s.parse().expect("ts") };
        let none = Orders::default();
        let p = Progress::new(spec, Some(start), at("2026-11-26T01:59:59Z"), &none);
        assert!(!p.complete);
        let p = Progress::new(spec, Some(start), at("2026-11-26T02:00:00Z"), &none);
        assert!(p.complete && !p.over_cap);
        let mut ten = Orders::default();
        ten.sample(0.0);
        ten.sample(10.0);
        let p = Progress::new(spec, Some(start), at("2026-11-26T00:30:00Z"), &ten);
        assert!(p.complete);
        let p = Progress::new(spec, Some(start), at("2026-11-26T06:00:00Z"), &none);
        assert!(p.over_cap);
    }
}

//! The phase window: when it starts, how far it has run, how many orders it
//! saw, and whether it is complete (runbook §4: Phase A "2-6 hours or 10+
//! orders", Phase B "24h minimum or 50+ orders"; readings in docs/judge.md).

use crate::counters::OrderCount;
use canary_core::Phase;
use canary_core::verdict::WindowSummary;
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
    /// However many orders, never complete before this much evidence:
    /// "sustained" means the longest signal window at least (Phase B: the
    /// guard trips' 1 h). `--min-evidence`.
    pub min_evidence: Duration,
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
                min_evidence: Duration::ZERO,
            }),
            Phase::B => Some(WindowSpec {
                min_duration: Duration::from_secs(24 * 3600),
                min_orders: 50,
                cap: None,
                min_evidence: Duration::from_secs(3600),
            }),
        }
    }
}

/// Without --since, how far back from the moment judged the window may
/// begin: the start gate 1 h (its oldest evidence, a preflight report, may be
/// that old), Phase A its cap (6 h), Phase B twice its minimum (48 h); never
/// less than 1 h. Older records are before the window: reported, never
/// evidence.
pub fn lookback(spec: Option<WindowSpec>) -> Duration {
    const FLOOR: Duration = Duration::from_secs(3600);
    match spec {
        None => FLOOR,
        Some(w) => w.cap.unwrap_or(w.min_duration.saturating_mul(2)).max(FLOOR),
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
        orders: &OrderCount,
    ) -> Progress {
        let elapsed = start
            .and_then(|s| Duration::try_from(at.duration_since(s)).ok())
            .unwrap_or_default();
        let count = orders.count.max(0.0).floor() as u64;
        // An order counter that fell without a coherent restart (two
        // replicas behind one address, a lone dip) proves no order: the
        // window completes by time only.
        let by_orders = !orders.unproven && count >= spec.map_or(0, |w| w.min_orders);
        let (complete, over_cap) = match spec {
            None => (true, false),
            Some(w) => (
                start.is_some()
                    && (elapsed >= w.min_duration || by_orders)
                    && elapsed >= w.min_evidence,
                w.cap.is_some_and(|c| elapsed >= c),
            ),
        };
        Progress {
            start,
            elapsed,
            orders: count,
            orders_seen: orders.seen,
            complete,
            over_cap,
            spec,
        }
    }

    /// The `window` field of a verdict.
    pub fn summary(&self) -> WindowSummary {
        WindowSummary {
            start: self.start,
            elapsed_s: self.elapsed.as_secs(),
            orders: self.orders,
            complete: self.complete,
            min_duration_s: self.spec.map(|w| w.min_duration.as_secs()),
            min_orders: self.spec.map(|w| w.min_orders),
            cap_s: self.spec.and_then(|w| w.cap).map(|c| c.as_secs()),
        }
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
        let floor =
            if !self.complete && self.orders >= w.min_orders && self.elapsed < w.min_evidence {
                format!(
                    "; the orders are in, but the window needs at least {} of evidence \
                 (--min-evidence) to show the signals sustained",
                    f(w.min_evidence)
                )
            } else {
                String::new()
            };
        format!(
            "window {} of {}, {} of {} orders{}{floor}",
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
    fn phase_a_completes_on_time_or_orders() {
        let spec = WindowSpec::runbook(Phase::A);
        let start: Timestamp = "2026-11-26T00:00:00Z".parse().expect("ts");
        let at = |s: &str| -> Timestamp { s.parse().expect("ts") };
        let count = |n: f64| OrderCount {
            count: n,
            seen: true,
            restarts: 0,
            inconsistent: None,
            unproven: false,
            errors: Ok(0.0),
            latency: None,
        };
        let none = count(0.0);
        let p = Progress::new(spec, Some(start), at("2026-11-26T01:59:59Z"), &none);
        assert!(!p.complete);
        let p = Progress::new(spec, Some(start), at("2026-11-26T02:00:00Z"), &none);
        assert!(p.complete && !p.over_cap);
        let ten = count(10.0);
        let p = Progress::new(spec, Some(start), at("2026-11-26T00:30:00Z"), &ten);
        assert!(p.complete);
        let p = Progress::new(spec, Some(start), at("2026-11-26T06:00:00Z"), &none);
        assert!(p.over_cap);
        // Orders from an inconsistent counter complete nothing.
        let doubtful = OrderCount {
            inconsistent: Some(crate::counters::Doubt::Uncorroborated {
                before: 47.0,
                after: 27.0,
                from: start,
                to: start,
            }),
            unproven: true,
            ..count(28.0)
        };
        let p = Progress::new(spec, Some(start), at("2026-11-26T00:30:00Z"), &doubtful);
        assert!(!p.complete);
        let p = Progress::new(spec, Some(start), at("2026-11-26T02:00:00Z"), &doubtful);
        assert!(p.complete);
    }

    #[test]
    fn phase_b_needs_an_hour_of_evidence_whatever_the_orders() {
        let spec = WindowSpec::runbook(Phase::B);
        let at = |s: &str| -> Timestamp { s.parse().expect("ts") };
        let start = at("2026-11-26T00:00:00Z");
        let many = OrderCount {
            count: 500.0,
            seen: true,
            restarts: 0,
            inconsistent: None,
            unproven: false,
            errors: Ok(0.0),
            latency: None,
        };
        let p = Progress::new(spec, Some(start), at("2026-11-26T00:59:59Z"), &many);
        assert!(!p.complete);
        assert!(
            p.describe().contains("at least 1h of evidence"),
            "{}",
            p.describe()
        );
        let p = Progress::new(spec, Some(start), at("2026-11-26T01:00:00Z"), &many);
        assert!(p.complete);
    }
}

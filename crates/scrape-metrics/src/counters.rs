//! Counters read as counters across a window of scrapes: exact deltas, and
//! the one rule that tells a restart of the bot from evidence that cannot
//! be trusted.
//!
//! The bot keeps every counter in memory, so a restart resets all of them
//! together. A decrease is therefore a restart only when it is coherent:
//! every counter that had counted anything went down (or vanished). A single
//! series that dips while others hold or climb (60, 59, 60 ...) is not a
//! restart: two bots behind one address, or a series missing from a scrape.
//! Taking it for a restart would add its whole lifetime count as new
//! orders; it is reported as inconsistent instead, and every signal over
//! the span holding it is `unknown`.
//!
//! The first scrape after a restart is a new baseline: what it shows was
//! counted at some unknown time since the restart, so it is not added (a
//! series born *between* two scrapes of the same process counts from zero).
//! Two restarts in one span are a bot in a crash loop, or two bots behind
//! one address whose counters alternate: inconsistent as well. A scrape
//! holding no counter at all (a bot that has counted nothing yet, or an
//! empty answer) is no evidence of anything and is left out of the window.

use crate::labels::Labels;
use crate::snapshot::{GUARD_TRIPS, ORDERS, Snapshot};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

/// What happened between two consecutive scrapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// No counter went down.
    Continue,
    /// Every counter that had counted went down together: a restart.
    Restart,
    /// Some went down, others did not: why, for the operator.
    Inconsistent(String),
}

fn key(family: &str, labels: &Labels) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{family}{{{}}}", inner.join(","))
}

/// Every counter a snapshot holds: the order and guard-trip counters, the
/// observation count of every histogram (cycles, broker calls, ...) and the
/// bot's other `_total` counters (guard checks, ticker-freshness checks ...).
fn all_counters(s: &Snapshot) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for c in &s.orders {
        out.insert(key(ORDERS, &c.labels), c.value);
    }
    for c in &s.guard_trips {
        out.insert(key(GUARD_TRIPS, &c.labels), c.value);
    }
    for h in &s.histograms {
        let count = h.count.or_else(|| h.buckets.last().map(|b| b.1));
        if let Some(v) = count {
            out.insert(key(&format!("{}_count", h.family), &h.labels), v);
        }
    }
    out.extend(s.others.iter().map(|(k, v)| (k.clone(), *v)));
    out
}

/// A counter's identity, borrowed from its snapshot: hashed once per
/// series, never formatted (`key` is only for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Id<'a> {
    Order(&'a Labels),
    Trip(&'a Labels),
    /// A histogram's observation count: its family (without `_count`).
    HistCount(&'a str, &'a Labels),
}

/// `all_counters` without a string per series, and without the bot's
/// other counters (`others_seen` walks those): what a step compares. A
/// later series with the same identity replaces an earlier one, as the
/// keyed map does.
fn counter_ids(s: &Snapshot) -> HashMap<Id<'_>, f64, crate::hashing::Seeded> {
    let n = s.orders.len() + s.guard_trips.len() + s.histograms.len();
    let mut out = HashMap::with_capacity_and_hasher(n, crate::hashing::Seeded::default());
    for c in &s.orders {
        out.insert(Id::Order(&c.labels), c.value);
    }
    for c in &s.guard_trips {
        out.insert(Id::Trip(&c.labels), c.value);
    }
    for h in &s.histograms {
        let count = h.count.or_else(|| h.buckets.last().map(|b| b.1));
        if let Some(v) = count {
            out.insert(Id::HistCount(&h.family, &h.labels), v);
        }
    }
    out
}

/// What the step from `prev` to `cur` saw of the counters that had counted:
/// (any went down, any held or climbed).
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    dipped: bool,
    kept: bool,
}

impl Seen {
    fn add(&mut self, p: f64, c: f64) {
        if c < p {
            self.dipped = true;
        } else {
            self.kept = true;
        }
    }
}

/// The bot's other counters, both sides sorted by name: one merged walk,
/// no hashing (they are most of a large scrape's series).
fn others_seen(prev: &Snapshot, cur: &Snapshot, seen: &mut Seen) {
    let mut after = cur.others.iter().peekable();
    for (k, &p) in &prev.others {
        while after.next_if(|(ck, _)| *ck < k).is_some() {}
        let c = after.next_if(|(ck, _)| *ck == k).map_or(0.0, |(_, c)| *c);
        if p > 0.0 {
            seen.add(p, c);
        }
    }
}

/// Whether a scrape holds no counter at all: no evidence of anything.
pub fn is_empty(s: &Snapshot) -> bool {
    s.orders.is_empty()
        && s.guard_trips.is_empty()
        && s.others.is_empty()
        && s.histograms
            .iter()
            .all(|h| h.count.is_none() && h.buckets.is_empty())
}

/// Classify the step from `prev` to `cur`. A series absent from `cur` counts
/// as 0 there: the bot creates a series at its first increment, so after a
/// restart the series it has not used again are gone.
pub fn step(prev: &Snapshot, cur: &Snapshot) -> Step {
    // One hashed pass decides the step; the string-keyed walk below runs
    // only for an inconsistent one, to name the first series of each kind.
    let after = counter_ids(cur);
    let mut seen = Seen::default();
    for (k, &p) in counter_ids(prev).iter().filter(|(_, p)| **p > 0.0) {
        seen.add(p, after.get(k).copied().unwrap_or(0.0));
    }
    others_seen(prev, cur, &mut seen);
    match (seen.dipped, seen.kept) {
        (false, _) => Step::Continue,
        (true, false) => Step::Restart,
        (true, true) => inconsistent(prev, cur),
    }
}

/// The inconsistent step's wording: the first series (in name order) that
/// dipped and the first that held or climbed.
fn inconsistent(prev: &Snapshot, cur: &Snapshot) -> Step {
    let before = all_counters(prev);
    let after = all_counters(cur);
    let mut dipped: Vec<(String, f64, f64)> = Vec::new();
    let mut kept: Vec<(String, f64, f64)> = Vec::new();
    for (k, &p) in before.iter().filter(|(_, p)| **p > 0.0) {
        let c = after.get(k).copied().unwrap_or(0.0);
        if c < p {
            dipped.push((k.clone(), p, c));
        } else {
            kept.push((k.clone(), p, c));
        }
    }
    match (dipped.first(), kept.first()) {
        (None, _) => Step::Continue,
        (Some(_), None) => Step::Restart,
        (Some((dk, dp, dc)), Some((kk, kp, kc))) => Step::Inconsistent(format!(
            "{dk} went {dp} -> {dc} while {} other counter(s) held or climbed (e.g. {kk} {kp} -> {kc}): not a restart, which resets every counter together; two bots behind one address, or a series missing from a scrape",
            kept.len()
        )),
    }
}

/// The scrapes a window's deltas are taken over: the newest scrape at or
/// before the window's start (the baseline) when there is one no more than
/// half a window before it, then every scrape inside it. With a baseline
/// the window is covered whole, and the deltas span a little more than the
/// window, never less; an older scrape (a cron job that stopped for hours)
/// would stretch the window, so the first scrape inside it is the baseline
/// instead, and the window is not covered.
#[derive(Debug)]
pub struct Span<'a> {
    pub snaps: Vec<&'a Snapshot>,
    pub steps: Vec<Step>,
    /// Whether the baseline is at or before the window's start.
    pub covered: bool,
}

/// The steps between consecutive scrapes of one history, each classified
/// once however many windows read it: the rate window and the guard window
/// share theirs, and a step over a large scrape is a pass over every series.
#[derive(Debug)]
pub struct Steps<'a> {
    history: &'a [Snapshot],
    memo: RefCell<Vec<Option<Step>>>,
}

impl<'a> Steps<'a> {
    pub fn new(history: &'a [Snapshot]) -> Steps<'a> {
        Steps {
            history,
            memo: RefCell::new(vec![None; history.len().saturating_sub(1)]),
        }
    }

    /// The step from `history[i]` to `history[j]`; remembered when `j == i + 1`.
    fn between(&self, i: usize, j: usize) -> Step {
        if j != i + 1 {
            return step(&self.history[i], &self.history[j]);
        }
        if let Some(Some(known)) = self.memo.borrow().get(i) {
            return known.clone();
        }
        let fresh = step(&self.history[i], &self.history[j]);
        if let Some(slot) = self.memo.borrow_mut().get_mut(i) {
            *slot = Some(fresh.clone());
        }
        fresh
    }
}

/// The indices into `history` of the span of `[at - range_ms, at]`, and
/// whether its baseline is at or before the window's start.
fn span_indices(history: &[Snapshot], at: i64, range_ms: i64) -> (Vec<usize>, bool) {
    let start = at - range_ms;
    let base = history
        .iter()
        .rposition(|s| s.t_ms <= start)
        .filter(|&i| start - history[i].t_ms <= range_ms / 2);
    let from = base.unwrap_or_else(|| {
        history
            .iter()
            .position(|s| s.t_ms >= start)
            .unwrap_or(history.len())
    });
    let picked = (from..history.len())
        .filter(|&i| history[i].t_ms <= at)
        .collect();
    (picked, base.is_some())
}

/// Whether the span of `[at - range_ms, at]` holds enough scrapes for a
/// delta (`Span::usable`), without classifying its steps.
pub fn usable_at(history: &[Snapshot], at: i64, range_ms: i64) -> bool {
    span_indices(history, at, range_ms).0.len() >= 2
}

impl<'a> Span<'a> {
    /// The span of `[at - range_ms, at]` in a history sorted by time.
    pub fn of(history: &'a [Snapshot], at: i64, range_ms: i64) -> Span<'a> {
        Span::over(&Steps::new(history), at, range_ms)
    }

    /// `Span::of` over a history whose steps other spans may share.
    pub fn over(steps: &Steps<'a>, at: i64, range_ms: i64) -> Span<'a> {
        let history = steps.history;
        let (picked, covered) = span_indices(history, at, range_ms);
        let snaps: Vec<&Snapshot> = picked.iter().map(|&i| &history[i]).collect();
        let steps = picked
            .windows(2)
            .map(|w| steps.between(w[0], w[1]))
            .collect();
        Span {
            snaps,
            steps,
            covered,
        }
    }

    /// Enough scrapes for a delta.
    pub fn usable(&self) -> bool {
        self.snaps.len() >= 2
    }

    /// The first inconsistency in the span, if any.
    pub fn inconsistency(&self) -> Option<String> {
        let first = self.steps.iter().find_map(|s| match s {
            Step::Inconsistent(why) => Some(why.clone()),
            _ => None,
        });
        let restarts = self.steps.iter().filter(|s| **s == Step::Restart).count();
        first.or_else(|| {
            (restarts > 1).then(|| format!(
                "every counter went down {restarts} times: a bot in a crash loop, or two bots behind one address whose counters alternate, cannot be told apart"
            ))
        })
    }

    /// Whether the bot restarted inside the span.
    pub fn restarted(&self) -> bool {
        self.steps.contains(&Step::Restart)
    }

    /// The exact increase of a sum of counters (`pick` sums the selected
    /// series of one scrape) over the span: the plain difference between
    /// consecutive scrapes; the first scrape after a restart is a new
    /// baseline. Never negative: within a `Continue` step no series went down.
    pub fn delta(&self, pick: impl Fn(&Snapshot) -> f64) -> f64 {
        let mut total = 0.0;
        for (w, s) in self.snaps.windows(2).zip(&self.steps) {
            if *s == Step::Continue {
                total += (pick(w[1]) - pick(w[0])).max(0.0);
            }
        }
        total
    }

    /// Start and end of the span, milliseconds.
    pub fn bounds(&self) -> (i64, i64) {
        (
            self.snaps.first().map_or(0, |s| s.t_ms),
            self.snaps.last().map_or(0, |s| s.t_ms),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Counter;

    fn snap(t_ms: i64, orders: &[(&str, f64)]) -> Snapshot {
        Snapshot {
            orders: orders
                .iter()
                .map(|(r, v)| Counter {
                    labels: [("result".to_owned(), (*r).to_owned())].into(),
                    value: *v,
                })
                .collect(),
            bot_samples: 1,
            ..Snapshot::empty(t_ms)
        }
    }

    /// A scrape of `n` bots whose counters a seeded generator picks: some
    /// series missing, some at zero, some below or above `base`'s.
    fn random_snap(seed: &mut u64, t_ms: i64, n: u64) -> Snapshot {
        let mut next = |m: u64| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) % m
        };
        let mut s = Snapshot {
            bot_samples: 1,
            ..Snapshot::empty(t_ms)
        };
        for bot in 0..n {
            for result in ["success", "failed"] {
                if next(8) != 0 {
                    s.orders.push(Counter {
                        labels: [
                            ("instance".to_owned(), format!("b{bot}")),
                            ("result".to_owned(), result.to_owned()),
                        ]
                        .into(),
                        value: (next(3) + 9) as f64,
                    });
                }
            }
            for g in 0..3 {
                if next(8) != 0 {
                    s.others.insert(
                        format!(
                            "gpt_trader_guard_checks_total{{guard=\"g{g}\",instance=\"b{bot}\"}}"
                        ),
                        next(3) as f64,
                    );
                }
            }
        }
        s
    }

    #[test]
    fn the_hashed_step_agrees_with_the_keyed_one() {
        // The hashed and merged walk decides what the string-keyed maps
        // decided, on scrapes with missing, zero, dipping and climbing series.
        let mut seed = 7;
        let mut kinds = [0; 3];
        for round in 0..400 {
            let n = 1 + round % 5;
            let a = random_snap(&mut seed, 0, n);
            let b = random_snap(&mut seed, 1000, n);
            let want = inconsistent(&a, &b);
            kinds[match want {
                Step::Continue => 0,
                Step::Restart => 1,
                Step::Inconsistent(_) => 2,
            }] += 1;
            assert_eq!(step(&a, &b), want, "round {round}: {a:?} -> {b:?}");
        }
        assert!(
            kinds.iter().all(|k| *k > 0),
            "every kind of step: {kinds:?}"
        );
    }

    #[test]
    fn a_lone_dip_is_inconsistent_not_a_restart() {
        // Two replicas behind one address: success 60, 59, 60 while failures climb.
        let h = [
            snap(0, &[("success", 60.0), ("failed", 1.0)]),
            snap(1000, &[("success", 59.0), ("failed", 2.0)]),
            snap(2000, &[("success", 60.0), ("failed", 3.0)]),
        ];
        let span = Span::of(&h, 2000, 5000);
        assert!(span.inconsistency().is_some_and(|w| w.contains("60 -> 59")));
    }

    #[test]
    fn a_coherent_reset_is_a_restart_and_a_new_baseline() {
        let h = [
            snap(0, &[("success", 60.0), ("failed", 1.0)]),
            snap(1000, &[("success", 70.0), ("failed", 2.0)]),
            snap(2000, &[("success", 3.0)]),
            snap(3000, &[("success", 5.0), ("rejected", 1.0)]),
        ];
        let span = Span::of(&h, 3000, 5000);
        assert_eq!(span.steps[1], Step::Restart);
        assert!(span.restarted() && span.inconsistency().is_none());
        let all = |s: &Snapshot| s.orders.iter().map(|c| c.value).sum::<f64>();
        // 11 before the restart, nothing for the first scrape after it, then
        // 2 successes and a rejection born between two scrapes.
        assert_eq!(span.delta(all), 11.0 + 3.0);
    }

    #[test]
    fn every_order_series_dipping_is_no_restart_while_other_counters_climb() {
        let mut a = snap(0, &[("success", 60.0), ("failed", 3.0)]);
        let mut b = snap(1000, &[("success", 40.0), ("failed", 2.0)]);
        a.others
            .insert("gpt_trader_guard_checks_total{}".into(), 500.0);
        b.others
            .insert("gpt_trader_guard_checks_total{}".into(), 510.0);
        let h = [a, b];
        let span = Span::of(&h, 1000, 5000);
        assert!(
            span.inconsistency()
                .is_some_and(|w| w.contains("guard_checks_total"))
        );
    }

    #[test]
    fn alternating_resets_are_inconsistent() {
        // Every counter of one bot below the other's: each swap looks like a restart.
        let h = [
            snap(0, &[("success", 60.0), ("failed", 3.0)]),
            snap(1000, &[("success", 40.0), ("failed", 2.0)]),
            snap(2000, &[("success", 61.0), ("failed", 3.0)]),
            snap(3000, &[("success", 41.0), ("failed", 2.0)]),
        ];
        let span = Span::of(&h, 3000, 5000);
        assert!(span.inconsistency().is_some_and(|w| w.contains("2 times")));
    }

    #[test]
    fn the_baseline_is_the_last_scrape_before_the_window() {
        let h = [
            snap(0, &[("success", 1.0)]),
            snap(4000, &[("success", 5.0)]),
            snap(9000, &[("success", 9.0)]),
        ];
        let span = Span::of(&h, 9000, 5000);
        assert!(span.covered);
        assert_eq!(span.bounds(), (4000, 9000));
        let young = Span::of(&h[1..], 9000, 6000);
        assert!(!young.covered);
    }
}

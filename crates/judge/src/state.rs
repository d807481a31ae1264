//! What judge remembers of the stream: per bot and per rule, a handful of
//! evaluations, never the records themselves. State grows with the number of
//! (target, rule) pairs and distinct record names, not with the stream.

use crate::counters::Counters;
use crate::eval::{EvalError, Outcome};
use crate::rules::Rule;
use crate::target::bot_key;
use canary_core::Record;
use canary_core::ndjson::BadLine;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::Duration;

/// Distinct bots (host:port) judge keeps state for. Past it, records of a
/// new bot are refused as unknown input: judge's memory stays bounded
/// whatever the stream holds (docs/judge.md, "Resource bounds").
pub const MAX_TARGETS: usize = 64;

/// Distinct record names judge keeps state for; past it, records of a new
/// name are refused as unknown input.
pub const MAX_NAMES: usize = 1024;

/// Records memoised per bot (one per name); past it a record is judged
/// without being kept.
const MAX_MEMO: usize = 256;

/// How long after a 503 `health.status` the rest of its probe-health round
/// may come (docs/judge.md, "Guard trips").
pub const ROUND_SPAN: Duration = Duration::from_secs(30);

/// One evaluation of a rule on one record: enough to explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    pub ts: Timestamp,
    pub outcome: Outcome,
    /// Shared with the memo: one allocation per distinct record, not per rule.
    pub value: Rc<Value>,
    pub threshold: Option<f64>,
    pub record: Rc<str>,
    pub msg: Rc<str>,
}

/// What one rule has seen for one target.
#[derive(Debug, Clone, Default)]
pub struct RuleState {
    /// The newest evaluation, whatever its outcome.
    pub latest: Option<Eval>,
    /// How many evaluations were known (true or false).
    pub known: u64,
    /// Start of the current run of firing evaluations.
    pub firing_since: Option<Timestamp>,
    /// The first evaluation at which the rule had fired for its `for`.
    pub fired: Option<Eval>,
    /// Evaluations at which it had fired for its `for`.
    pub fired_count: u64,
    /// How its known evaluations cover the window: constant memory, not
    /// the evaluations themselves.
    pub coverage: Coverage,
}

/// The span of a rule's known evaluations and the longest gap between two
/// consecutive ones (docs/judge.md, "Coverage"). Records are expected in
/// time order; one older than the newest fills no gap (it is only counted
/// when it extends the span backwards), so a hole is never hidden.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Coverage {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// The longest gap between consecutive known evaluations: (from, to).
    pub max_gap: Option<(Timestamp, Timestamp)>,
}

impl Coverage {
    /// A known evaluation at `ts`.
    pub fn observe(&mut self, ts: Timestamp) {
        match (self.first, self.last) {
            (Some(first), Some(last)) => {
                if ts > last {
                    self.gap(last, ts);
                    self.last = Some(ts);
                } else if ts < first {
                    self.gap(ts, first);
                    self.first = Some(ts);
                }
            }
            _ => {
                self.first = Some(ts);
                self.last = Some(ts);
            }
        }
    }

    fn gap(&mut self, from: Timestamp, to: Timestamp) {
        let longer = self
            .max_gap
            .is_none_or(|(a, b)| to.duration_since(from) > b.duration_since(a));
        if longer {
            self.max_gap = Some((from, to));
        }
    }

    /// Two coverages (a bot's own records and canary-wide ones) as one. An
    /// interleaving of the two cannot be reconstructed, so the longer gap is
    /// kept: it may overstate a hole, never hide one.
    pub fn merge(&self, other: &Coverage) -> Coverage {
        let (Some(af), Some(al)) = (self.first, self.last) else {
            return *other;
        };
        let (Some(bf), Some(bl)) = (other.first, other.last) else {
            return *self;
        };
        let mut out = *self;
        out.first = Some(af.min(bf));
        out.last = Some(al.max(bl));
        if let Some((a, b)) = other.max_gap {
            out.gap(a, b);
        }
        if al < bf {
            out.gap(al, bf);
        } else if bl < af {
            out.gap(bl, af);
        }
        out
    }

    /// The longest stretch without evidence from `start` (the window start)
    /// to the last evaluation: (from, to), or `None` without evidence.
    pub fn longest_gap(&self, start: Option<Timestamp>) -> Option<(Timestamp, Timestamp)> {
        let first = self.first?;
        let lead = start.filter(|s| *s < first).map(|s| (s, first));
        match (lead, self.max_gap) {
            (Some(l), Some(g)) => Some(if l.1.duration_since(l.0) >= g.1.duration_since(g.0) {
                l
            } else {
                g
            }),
            (l, g) => l.or(g),
        }
    }
}

impl RuleState {
    fn update(&mut self, rule: &Rule, eval: Eval) {
        if eval.outcome != Outcome::Unknown {
            self.known += 1;
            self.coverage.observe(eval.ts);
        }
        let newer = self.latest.as_ref().is_none_or(|l| eval.ts >= l.ts);
        match eval.outcome {
            Outcome::Fire => {
                let since = *self.firing_since.get_or_insert(eval.ts);
                let held = eval.ts.duration_since(since).unsigned_abs() >= rule.for_;
                if held {
                    self.fired_count += 1;
                    if self.fired.is_none() {
                        self.fired = Some(eval.clone());
                    }
                }
            }
            // A gap in the evidence, or a clear evaluation, ends a run (as an
            // alert's `for` does in Prometheus).
            Outcome::Clear | Outcome::Unknown => {
                if newer {
                    self.firing_since = None;
                }
            }
        }
        if newer {
            self.latest = Some(eval);
        }
    }

    /// Two views of one rule (a bot's own records and canary-wide ones) as one.
    pub fn merge(&self, other: &RuleState) -> RuleState {
        let pick_latest = match (&self.latest, &other.latest) {
            (Some(a), Some(b)) => Some(if b.ts > a.ts { b.clone() } else { a.clone() }),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let fired = match (&self.fired, &other.fired) {
            (Some(a), Some(b)) => Some(if b.ts < a.ts { b.clone() } else { a.clone() }),
            (a, b) => a.clone().or_else(|| b.clone()),
        };
        let firing_since = match pick_latest.as_ref().map(|l| l.outcome) {
            Some(Outcome::Fire) => self.firing_since.or(other.firing_since),
            _ => None,
        };
        RuleState {
            latest: pick_latest,
            known: self.known + other.known,
            firing_since,
            fired,
            fired_count: self.fired_count + other.fired_count,
            coverage: self.coverage.merge(&other.coverage),
        }
    }
}

/// Everything judge knows about one bot (or about the canary as a whole).
#[derive(Debug, Clone, Default)]
pub struct TargetState {
    pub rules: Vec<RuleState>,
    /// Per record name: the last record's content and what each rule said
    /// of it. Producers repeat themselves; an identical record (but for its
    /// time) is not evaluated again.
    memo: HashMap<String, Memo>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub records: u64,
    pub counters: Counters,
    /// Records dated beyond the clock-skew allowance: not evidence.
    pub future: Future,
    /// Records dated before the window (without --since: before the
    /// lookback): not evidence.
    pub early: Future,
    /// Without --since: the time of the bot's first record in arrival
    /// order, where its window starts (less the round slack).
    pub anchor: Option<Timestamp>,
    /// Without --since: records dated before the anchor by more than the
    /// round slack, arriving after it: before the window, not evidence.
    pub late: Future,
}

/// Records set aside (from the future, before the window, past a bound):
/// how many, and the first one seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Future {
    pub count: u64,
    /// The first one: its name, target and time.
    pub first: Option<(String, String, Timestamp)>,
}

impl Future {
    pub fn note(&mut self, rec: &Record) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some((rec.name.clone(), rec.target.clone(), rec.ts));
        }
    }

    fn merge(&self, other: &Future) -> Future {
        Future {
            count: self.count + other.count,
            first: self.first.clone().or_else(|| other.first.clone()),
        }
    }
}

impl TargetState {
    /// A bot's state with the canary-wide evidence folded in (no memo).
    pub fn merged(bot: Option<&TargetState>, canary: &TargetState) -> TargetState {
        let Some(b) = bot else {
            return TargetState {
                rules: canary.rules.clone(),
                memo: HashMap::new(),
                first_ts: canary.first_ts,
                last_ts: canary.last_ts,
                records: canary.records,
                counters: canary.counters.clone(),
                future: canary.future.clone(),
                early: canary.early.clone(),
                anchor: canary.anchor,
                late: canary.late.clone(),
            };
        };
        TargetState {
            rules: b
                .rules
                .iter()
                .zip(&canary.rules)
                .map(|(x, y)| x.merge(y))
                .collect(),
            memo: HashMap::new(),
            first_ts: b.first_ts.or(canary.first_ts),
            last_ts: b.last_ts.max(canary.last_ts),
            records: b.records + canary.records,
            counters: b.counters.with_restarts(canary.counters.restarts()),
            future: b.future.merge(&canary.future),
            early: b.early.merge(&canary.early),
            anchor: b.anchor,
            late: b.late.merge(&canary.late),
        }
    }

    fn new(rules: usize) -> TargetState {
        TargetState {
            rules: vec![RuleState::default(); rules],
            ..TargetState::default()
        }
    }
}

/// What the rules said of one record, kept to skip identical successors.
#[derive(Debug, Clone)]
struct Memo {
    /// None when it is not kept (every rule on it evaluated natively).
    content: Option<Record>,
    value: Rc<Value>,
    name: Rc<str>,
    msg: Rc<str>,
    outcomes: Vec<(usize, Result<Option<Outcome>, EvalError>)>,
}

/// Equal but for the time of observation.
fn same_content(a: &Record, b: &Record) -> bool {
    a.level == b.level
        && a.kind == b.kind
        && a.value == b.value
        && a.msg == b.msg
        && a.target == b.target
        && a.tool == b.tool
        && a.expect == b.expect
        && a.thresholds == b.thresholds
        && a.extra == b.extra
}

/// Options that decide which records count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// Records before this are out of the window: ignored.
    pub since: Option<Timestamp>,
    /// Records after this are ignored (replay).
    pub until: Option<Timestamp>,
    /// Records after this are from the future (beyond the clock-skew
    /// allowance): counted and reported, never evidence.
    pub horizon: Option<Timestamp>,
    /// Without --since: records before this (the moment judged less the
    /// phase's lookback) are before the window: counted and reported,
    /// never evidence, and they never move the window start.
    pub lookback: Option<Timestamp>,
    /// How far apart the records of one round may be (the max age): the
    /// slack for reading counters across producers.
    pub tol: Duration,
}

/// The state of the whole stream.
#[derive(Debug, Clone)]
pub struct Stream<'r> {
    rules: &'r [Rule],
    scope: Scope,
    /// Which rules look at a record name, computed once per distinct name.
    by_name: HashMap<String, Vec<usize>>,
    pub bots: BTreeMap<String, TargetState>,
    pub canary: TargetState,
    pub bad_lines: u64,
    pub first_bad: Option<BadLine>,
    /// Rules that failed at run time: how often, and the first error.
    pub rule_errors: BTreeMap<String, (u64, String)>,
    pub ignored_after: u64,
    pub latest_ts: Option<Timestamp>,
    /// Records refused past a bound (MAX_TARGETS, MAX_NAMES).
    pub refused: Future,
    /// `--restarted-at`: restarts the process manager recorded.
    pub restarted_at: Vec<Timestamp>,
    /// A 503 `health.status` per bot, held back until the rest of its
    /// round says whether guard trips alone explain it.
    pending: HashMap<String, Round>,
    /// The last record's target and the bot it names.
    last_target: Option<(String, Option<String>)>,
}

/// A probe-health round that began with a CRIT `health.status`.
#[derive(Debug, Clone)]
struct Round {
    status: Record,
    /// The bot's guard_trip_count signal is CRIT.
    guard_crit: bool,
    /// Anything else in the round is CRIT, unknown or an error.
    other: bool,
}

impl Round {
    fn takes(&self, rec: &Record) -> bool {
        rec.tool == "probe-health"
            && rec.name != "health.status"
            && rec.ts >= self.status.ts
            && Duration::try_from(rec.ts.duration_since(self.status.ts))
                .is_ok_and(|d| d <= ROUND_SPAN)
    }

    fn observe(&mut self, rec: &Record) {
        use canary_core::{Kind, Level};
        match rec.name.as_str() {
            // The bot's own summary of its signals: CRIT because of them.
            "health.signals" => {}
            "health.signal.guard_trip_count" if rec.level == Level::Crit => self.guard_crit = true,
            _ if rec.kind == Kind::Error => self.other = true,
            _ if matches!(rec.level, Level::Crit | Level::Unknown) => self.other = true,
            _ => {}
        }
    }

    /// The status, marked when guard trips alone explain it.
    fn close(mut self) -> Record {
        if self.guard_crit && !self.other {
            self.status
                .extra
                .insert("attributed".into(), Value::from("guard_trips"));
        }
        self.status
    }
}

impl<'r> Stream<'r> {
    pub fn new(rules: &'r [Rule], scope: Scope) -> Stream<'r> {
        Stream {
            rules,
            scope,
            by_name: HashMap::new(),
            bots: BTreeMap::new(),
            canary: TargetState::new(rules.len()),
            bad_lines: 0,
            first_bad: None,
            rule_errors: BTreeMap::new(),
            ignored_after: 0,
            latest_ts: None,
            refused: Future::default(),
            restarted_at: Vec::new(),
            pending: HashMap::new(),
            last_target: None,
        }
    }

    /// Move the future horizon (`--follow` judging at the wall clock: the
    /// moment judged moves on, and so does what counts as the future).
    pub fn set_horizon(&mut self, horizon: Timestamp) {
        self.scope.horizon = Some(horizon);
    }

    /// Is a 503 round held back, waiting for the rest of its round?
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Close every held-back round (before judging).
    pub fn settle(&mut self) {
        let keys: Vec<String> = self.pending.keys().cloned().collect();
        for k in keys {
            self.close(&k);
        }
    }

    /// Close the rounds that can take no record dated `ts` or later.
    pub fn settle_before(&mut self, ts: Timestamp) {
        let keys: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, r)| {
                Duration::try_from(ts.duration_since(r.status.ts)).is_ok_and(|d| d > ROUND_SPAN)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            self.close(&k);
        }
    }

    fn close(&mut self, key: &str) {
        if let Some(round) = self.pending.remove(key) {
            let status = round.close();
            self.take(&status, Some(key));
        }
    }

    pub fn bad_line(&mut self, bad: BadLine) {
        self.bad_lines += 1;
        if self.first_bad.is_none() {
            self.first_bad = Some(bad);
        }
    }

    /// Take one record into account. Returns false if it was out of scope.
    pub fn ingest(&mut self, rec: &Record) -> bool {
        // A producer writes a run of records for one target: its bot is
        // worked out once per run, not once per record.
        let cache = self
            .last_target
            .take()
            .filter(|(t, _)| *t == rec.target)
            .unwrap_or_else(|| (rec.target.clone(), bot_key(&rec.target)));
        let taken = self.ingest_for(rec, cache.1.as_deref());
        self.last_target = Some(cache);
        taken
    }

    /// [`Stream::ingest`] of a record about bot `key` (None: canary-wide).
    fn ingest_for(&mut self, rec: &Record, key: Option<&str>) -> bool {
        if self.scope.until.is_some_and(|u| rec.ts > u) {
            self.ignored_after += 1;
            return false;
        }
        // Attribution is judge's, never a producer's: a forged mark is dropped.
        let owned;
        let rec = if rec.name == "health.status" && rec.extra.contains_key("attributed") {
            let mut r = rec.clone();
            r.extra.remove("attributed");
            owned = r;
            &owned
        } else {
            rec
        };
        // The bounds are looked up only once they are reached: the common
        // path costs nothing more.
        let new_bot =
            key.is_some_and(|k| self.bots.len() >= MAX_TARGETS && !self.bots.contains_key(k));
        let new_name =
            self.by_name.len() >= MAX_NAMES && !self.by_name.contains_key(rec.name.as_str());
        if new_bot || new_name {
            self.refused.note(rec);
            return false;
        }
        let n = self.rules.len();
        let state = match key {
            Some(k) => match self.bots.get_mut(k) {
                Some(st) => st,
                None => self
                    .bots
                    .entry(k.to_owned())
                    .or_insert_with(|| TargetState::new(n)),
            },
            None => &mut self.canary,
        };
        // Orders before the window are not counted: the first sample inside
        // it is the baseline (counters.rs).
        if self.scope.since.is_some_and(|s| rec.ts < s) {
            return false;
        }
        if self.scope.horizon.is_some_and(|h| rec.ts > h) {
            state.future.note(rec);
            return false;
        }
        if self.scope.lookback.is_some_and(|l| rec.ts < l) {
            state.early.note(rec);
            return false;
        }
        // Without --since a bot's window starts at its first record, in the
        // order records arrive. One dated before that by more than a
        // round's slack, arriving later (a replay, a stray old line), is
        // before the window: it never moves the start or decides anything.
        if self.scope.since.is_none() && key.is_some() {
            match state.anchor {
                None => state.anchor = Some(rec.ts),
                Some(a) if rec.ts < crate::freshness::before(a, self.scope.tol) => {
                    state.late.note(rec);
                    return false;
                }
                Some(_) => {}
            }
        }
        if let Some(k) = key {
            if !self.pending.is_empty() {
                match self.pending.get_mut(k) {
                    Some(round) if round.takes(rec) => round.observe(rec),
                    Some(_) => self.close(k),
                    None => {}
                }
            }
            let crit_status = rec.name == "health.status"
                && rec.tool == "probe-health"
                && rec.kind == canary_core::Kind::Check
                && rec.level == canary_core::Level::Crit;
            if crit_status {
                self.pending.insert(
                    k.to_owned(),
                    Round {
                        status: rec.clone(),
                        guard_crit: false,
                        other: false,
                    },
                );
                return true;
            }
        }
        self.take(rec, key);
        true
    }

    /// Evidence in scope: fold it into its bot's (or the canary's) state.
    fn take(&mut self, rec: &Record, key: Option<&str>) {
        let rules = self.rules;
        let n = rules.len();
        let state = match key {
            Some(k) => match self.bots.get_mut(k) {
                Some(st) => st,
                None => self
                    .bots
                    .entry(k.to_owned())
                    .or_insert_with(|| TargetState::new(n)),
            },
            None => &mut self.canary,
        };
        self.latest_ts = Some(self.latest_ts.map_or(rec.ts, |t| t.max(rec.ts)));
        state.first_ts = Some(state.first_ts.map_or(rec.ts, |t| t.min(rec.ts)));
        state.last_ts = Some(state.last_ts.map_or(rec.ts, |t| t.max(rec.ts)));
        state.records += 1;
        state.counters.observe(rec, self.scope.tol);
        let wanted = match self.by_name.get(&rec.name) {
            Some(w) => w,
            None => {
                let w: Vec<usize> = (0..n).filter(|&i| rules[i].wants(&rec.name)).collect();
                self.by_name.entry(rec.name.clone()).or_insert(w)
            }
        };
        if wanted.is_empty() {
            return;
        }
        let TargetState {
            memo,
            rules: rule_states,
            ..
        } = state;
        // Rules evaluated natively cost less than comparing and copying the
        // record for the memo: only records some jaq filter reads are kept.
        let native = wanted.iter().all(|&i| rules[i].program.native().is_some());
        let hit = !native
            && memo
                .get(&rec.name)
                .is_some_and(|m| m.content.as_ref().is_some_and(|c| same_content(c, rec)));
        let mut fresh = None;
        if !hit {
            let mut val = None;
            let outcomes = wanted
                .iter()
                .map(|&i| (i, rules[i].program.eval_record(rec, &mut val)))
                .collect();
            let built = Memo {
                content: (!native).then(|| rec.clone()),
                value: Rc::new(rec.value.clone()),
                name: Rc::from(rec.name.as_str()),
                msg: Rc::from(rec.msg.as_str()),
                outcomes,
            };
            // A filter that reads the time must see every record.
            let full = memo.len() >= MAX_MEMO && !memo.contains_key(&rec.name);
            if native || full || wanted.iter().any(|&i| rules[i].reads_ts) {
                fresh = Some(built);
            } else {
                memo.insert(rec.name.clone(), built);
            }
        }
        let Some(memo) = fresh.as_ref().or_else(|| memo.get(&rec.name)) else {
            return;
        };
        for (i, result) in &memo.outcomes {
            let rule = &rules[*i];
            let outcome = match result {
                Ok(Some(o)) => *o,
                Ok(None) => continue,
                Err(e) => {
                    let entry = self
                        .rule_errors
                        .entry(rule.name.clone())
                        .or_insert((0, format!("{}: {e}", rec.name)));
                    entry.0 += 1;
                    Outcome::Unknown
                }
            };
            let threshold = rule.threshold.or_else(|| match rule.level {
                canary_core::Level::Warn => rec.thresholds.map(|t| t.warn),
                canary_core::Level::Crit => rec.thresholds.map(|t| t.crit),
                _ => None,
            });
            rule_states[*i].update(
                rule,
                Eval {
                    ts: rec.ts,
                    outcome,
                    value: memo.value.clone(),
                    threshold,
                    record: memo.name.clone(),
                    msg: memo.msg.clone(),
                },
            );
        }
    }
}

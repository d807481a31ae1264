//! The decision tree of runbook §4.2, applied to what the rules saw.

use crate::eval::Outcome;
use crate::freshness::{Age, age, age_s};
use crate::rules::{Action, Evidence, Rule};
use crate::state::{Eval, RuleState};
use crate::window::Progress;
use canary_core::{Exit, Level, Phase};
use jiff::Timestamp;
use std::time::Duration;

pub use canary_core::Decision;

/// Where one criterion stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// It fired (for at least its `for`) in the window.
    Fired(Eval),
    /// It is firing now but has not yet held for its `for`.
    Pending(Eval, Timestamp),
    /// Its evidence requirement is not met: no evidence.
    Missing,
    /// Its newest evidence is older than the max age.
    Stale(Eval),
    /// Its newest evidence could not be judged.
    Unknown(Eval),
    /// Its newest evidence is dated beyond the clock-skew allowance.
    Future(Eval),
    /// Its evidence does not cover the window: the longest stretch without
    /// it, (from, to), is longer than the max age (the last one given).
    Gap(Eval, Timestamp, Timestamp, Duration),
    /// Evidence present and clear.
    Ok(Eval),
    /// Not seen, and not required.
    Quiet,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Fired(_) => "fired",
            Status::Pending(..) => "pending",
            Status::Missing => "missing",
            Status::Stale(_) => "stale",
            Status::Unknown(_) => "unknown",
            Status::Future(_) => "future",
            Status::Gap(..) => "gap",
            Status::Ok(_) => "ok",
            Status::Quiet => "not seen",
        }
    }

    pub fn eval(&self) -> Option<&Eval> {
        match self {
            Status::Fired(e) | Status::Pending(e, _) | Status::Stale(e) => Some(e),
            Status::Unknown(e) | Status::Ok(e) | Status::Future(e) => Some(e),
            Status::Gap(e, ..) => Some(e),
            Status::Missing | Status::Quiet => None,
        }
    }
}

/// When and against what evidence is judged.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The moment judged.
    pub at: Timestamp,
    /// `--max-age` (a rule's own `max_age` wins).
    pub max_age: Duration,
    /// `--max-skew`: how far ahead of `at` evidence may be dated.
    pub max_skew: Duration,
    /// The window start, where `coverage` evidence must begin; `None` at
    /// the start gate (no window: coverage is then only `current`).
    pub coverage_from: Option<Timestamp>,
}

/// The status of `rule` given its state, judged as `clock` says.
pub fn status(rule: &Rule, st: &RuleState, clock: &Clock) -> Status {
    if let Some(f) = &st.fired {
        return Status::Fired(f.clone());
    }
    let max_age = rule.max_age.unwrap_or(clock.max_age);
    let Some(latest) = &st.latest else {
        return match rule.evidence {
            Evidence::None => Status::Quiet,
            _ => Status::Missing,
        };
    };
    if latest.outcome == Outcome::Fire
        && let Some(since) = st.firing_since
    {
        return Status::Pending(latest.clone(), since);
    }
    if rule.evidence != Evidence::None {
        match age(latest.ts, clock.at, max_age, clock.max_skew) {
            Age::Stale => return Status::Stale(latest.clone()),
            Age::Future => return Status::Future(latest.clone()),
            Age::Fresh => {}
        }
    }
    match rule.evidence {
        Evidence::Window if st.known == 0 => Status::Unknown(latest.clone()),
        Evidence::Window => Status::Ok(latest.clone()),
        _ if latest.outcome == Outcome::Unknown => Status::Unknown(latest.clone()),
        Evidence::Coverage => {
            let gap = clock
                .coverage_from
                .and_then(|start| st.coverage.longest_gap(Some(start)));
            match gap {
                Some((from, to)) if longer(from, to, max_age) => {
                    Status::Gap(latest.clone(), from, to, max_age)
                }
                _ => Status::Ok(latest.clone()),
            }
        }
        _ => Status::Ok(latest.clone()),
    }
}

fn longer(from: Timestamp, to: Timestamp, max: Duration) -> bool {
    Duration::try_from(to.duration_since(from)).is_ok_and(|d| d > max)
}

/// Whole seconds from `a` to `b`, at least 0.
fn secs_between(a: Timestamp, b: Timestamp) -> u64 {
    b.duration_since(a).as_secs().max(0) as u64
}

/// One criterion as judged: the rule and its status.
#[derive(Debug, Clone)]
pub struct Criterion<'r> {
    pub rule: &'r Rule,
    pub status: Status,
}

impl Criterion<'_> {
    /// Does it stop the canary (stop, rollback, no-go) or pause it?
    pub fn fired_as(&self, action: Action) -> bool {
        matches!(self.status, Status::Fired(_)) && self.rule.action == action
    }

    /// Does it hold the phase back from go, advance or promote? `Some(true)`
    /// when only because evidence is missing, stale or unknown.
    pub fn holds(&self) -> Option<bool> {
        let action = self.rule.action;
        let required = self.rule.evidence != Evidence::None;
        match &self.status {
            // A require rule of level unknown fires on evidence that could
            // not be judged: a hold for want of evidence.
            Status::Fired(_) if action == Action::Require => {
                Some(self.rule.level == Level::Unknown)
            }
            Status::Pending(..) if action != Action::Note => Some(false),
            Status::Missing | Status::Stale(_) if required => Some(true),
            Status::Unknown(_) | Status::Future(_) if required => Some(true),
            Status::Gap(..) => Some(false),
            _ => None,
        }
    }

    /// Is it a required criterion (it needs known evidence, or it holds
    /// for want of it)?
    pub fn required(&self) -> bool {
        self.rule.evidence != Evidence::None
            || (self.rule.action == Action::Require && self.rule.level == Level::Unknown)
    }

    /// A `stop`/`pause` rule firing now but not yet for its `for`: a CRIT
    /// observation that is not yet a CRIT signal.
    pub fn pending_block(&self) -> bool {
        matches!(self.status, Status::Pending(..))
            && matches!(self.rule.action, Action::Stop | Action::Pause)
    }

    /// The level this criterion contributes to the reasons.
    pub fn level(&self) -> Level {
        match &self.status {
            // Not yet sustained: not (yet) a CRIT signal, never ok.
            Status::Pending(..) if self.pending_block() => Level::Warn,
            Status::Fired(_) | Status::Pending(..) => self.rule.level,
            Status::Gap(..) => Level::Warn,
            Status::Missing | Status::Stale(_) | Status::Unknown(_) | Status::Future(_) => {
                if self.rule.evidence != Evidence::None {
                    Level::Unknown
                } else {
                    Level::Ok
                }
            }
            Status::Ok(_) | Status::Quiet => Level::Ok,
        }
    }

    /// One sentence for the reasons and --explain. A criterion that holds
    /// for want of evidence is named by its criterion, never by the text
    /// it would fire with.
    pub fn message(&self, at: Timestamp) -> String {
        use canary_core::human::age as human_age;
        let rule = &self.rule.msg;
        let crit = &self.rule.criterion;
        match &self.status {
            Status::Fired(e) if self.rule.level == Level::Unknown => format!(
                "{rule}: {} at {} ({}); held until the criterion \"{crit}\" is known",
                e.record, e.ts, e.msg
            ),
            Status::Fired(e) => format!("{rule}: {} = {} at {}", e.record, e.value, e.ts),
            Status::Pending(e, since) => {
                let for_ = self.rule.for_;
                let elapsed = secs_between(*since, at);
                let left = for_.as_secs().saturating_sub(elapsed);
                let when = if left > 0 {
                    format!("in {}", human_age(left))
                } else {
                    "at its next record".to_owned()
                };
                let then = match self.rule.action {
                    Action::Stop => "a CRIT signal (stop, rollback)",
                    Action::Pause => "a guard-trip CRIT (pause)",
                    Action::Require => "a criterion not met",
                    Action::Note => "noted",
                };
                format!(
                    "pending: {} has fired since {since} ({} = {}), not yet for its {}; \
                     {when}, if it still fires, it is {then}: {rule}",
                    self.rule.name,
                    e.record,
                    e.value,
                    canary_core::duration::format_duration(for_),
                )
            }
            Status::Missing => format!(
                "criterion not proven: {crit}: no {} record in the window",
                self.names()
            ),
            Status::Stale(e) => format!(
                "criterion not proven: {crit}: the newest evidence ({}) is {} old, stale",
                e.record,
                human_age(age_s(e.ts, at).max(0) as u64)
            ),
            Status::Unknown(e) => format!(
                "criterion not proven: {crit}: {} could not be judged: {}",
                e.record, e.msg
            ),
            Status::Future(e) => format!(
                "criterion not proven: {crit}: the newest evidence ({}) is dated {}, {} after \
                 the moment judged: from the future (beyond --max-skew), not evidence; fix the \
                 producer's clock",
                e.record,
                e.ts,
                human_age((-age_s(e.ts, at)).max(0) as u64)
            ),
            Status::Gap(_, from, to, max_age) => {
                use canary_core::duration::format_duration as f;
                format!(
                    "criterion not proven: {crit}: coverage is broken: no known {} evidence for \
                     {} from {from} to {to}, longer than the max age {}, so the window cannot \
                     show zero CRIT signals and global pauses (runbook §4.1); reset the window \
                     with --since after the gap, or decide by hand",
                    self.names(),
                    human_age(secs_between(*from, *to)),
                    f(*max_age)
                )
            }
            Status::Ok(e) => format!("ok: {crit}: {} = {}", e.record, e.value),
            Status::Quiet => "no records for this rule".to_owned(),
        }
    }

    fn names(&self) -> String {
        self.rule
            .names
            .as_ref()
            .map(|n| n.join(", "))
            .unwrap_or_else(|| "any".into())
    }
}

/// Extra facts about the stream that bear on every target.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamFacts {
    pub bad_lines: u64,
    /// Records dated beyond the clock-skew allowance.
    pub future: u64,
    /// Records set aside: dated before the window, or past a bound.
    pub set_aside: u64,
    /// The order counter is inconsistent (counters.rs).
    pub orders_unknown: bool,
    /// The window's error rate does not prove the phase's line (proof.rs):
    /// `Some(true)` when its failed orders cannot be counted.
    pub proof: Option<bool>,
}

/// The §4.2 tree. Returns the decision and its exit status.
pub fn decide(
    phase: Phase,
    criteria: &[Criterion<'_>],
    window: &Progress,
    facts: StreamFacts,
) -> (Decision, Exit) {
    let stop = criteria.iter().any(|c| c.fired_as(Action::Stop));
    let pause = criteria.iter().any(|c| c.fired_as(Action::Pause));
    let holds: Vec<bool> = criteria
        .iter()
        .filter_map(Criterion::holds)
        .chain(facts.proof)
        .collect();
    let unreadable =
        facts.bad_lines > 0 || facts.future > 0 || facts.set_aside > 0 || facts.orders_unknown;
    let pending = criteria.iter().any(Criterion::pending_block);
    let only_unknown = holds.iter().all(|u| *u);
    let held = !holds.is_empty() || unreadable;
    let decision = match phase {
        Phase::Start if stop || pause || held => Decision::NoGo,
        Phase::Start => Decision::Go,
        Phase::A if stop || pause => Decision::Stop,
        Phase::B if stop => Decision::Rollback,
        Phase::B if pause => Decision::Pause,
        _ if !window.complete => Decision::Continue,
        _ if held => Decision::Extend,
        Phase::A => Decision::Advance,
        Phase::B => Decision::Promote,
    };
    let mut exit = decision.exit();
    let any_unknown = holds.iter().any(|u| *u) || unreadable;
    match decision {
        Decision::NoGo if !(stop || pause) && only_unknown => exit = Exit::Unevaluable,
        Decision::Extend | Decision::Continue if any_unknown => exit = Exit::Unevaluable,
        _ if unreadable => exit = exit.worst(Exit::Unevaluable),
        _ => {}
    }
    // A CRIT observation not yet sustained is never a clean exit: whether
    // it is a CRIT signal cannot be evaluated yet (1 still wins).
    if pending {
        exit = exit.worst(Exit::Unevaluable);
    }
    (decision, exit)
}

//! The decision tree of runbook §4.2, applied to what the rules saw.

use crate::freshness::{age_s, is_stale};
use crate::jq::Outcome;
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
            Status::Ok(_) => "ok",
            Status::Quiet => "not seen",
        }
    }

    pub fn eval(&self) -> Option<&Eval> {
        match self {
            Status::Fired(e) | Status::Pending(e, _) | Status::Stale(e) => Some(e),
            Status::Unknown(e) | Status::Ok(e) => Some(e),
            Status::Missing | Status::Quiet => None,
        }
    }
}

/// The status of `rule` given its state, judged at `at`.
pub fn status(rule: &Rule, st: &RuleState, at: Timestamp, max_age: Duration) -> Status {
    if let Some(f) = &st.fired {
        return Status::Fired(f.clone());
    }
    let max_age = rule.max_age.unwrap_or(max_age);
    let Some(latest) = &st.latest else {
        return match rule.evidence {
            Evidence::None => Status::Quiet,
            _ => Status::Missing,
        };
    };
    if latest.outcome == Outcome::Fire {
        if let Some(since) = st.firing_since {
            return Status::Pending(latest.clone(), since);
        }
    }
    match rule.evidence {
        Evidence::Current | Evidence::Window if is_stale(latest.ts, at, max_age) => {
            Status::Stale(latest.clone())
        }
        Evidence::Window if st.known == 0 => Status::Unknown(latest.clone()),
        Evidence::Window => Status::Ok(latest.clone()),
        _ if latest.outcome == Outcome::Unknown => Status::Unknown(latest.clone()),
        _ => Status::Ok(latest.clone()),
    }
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
            Status::Fired(_) if action == Action::Require => Some(false),
            Status::Pending(..) if action != Action::Note => Some(false),
            Status::Missing | Status::Stale(_) if required => Some(true),
            Status::Unknown(_) if required => Some(true),
            _ => None,
        }
    }

    /// The level this criterion contributes to the reasons.
    pub fn level(&self) -> Level {
        match &self.status {
            Status::Fired(_) | Status::Pending(..) => self.rule.level,
            Status::Missing | Status::Stale(_) | Status::Unknown(_) => {
                if self.rule.evidence != Evidence::None {
                    Level::Unknown
                } else {
                    Level::Ok
                }
            }
            Status::Ok(_) | Status::Quiet => Level::Ok,
        }
    }

    /// One sentence for the reasons and --explain.
    pub fn message(&self, at: Timestamp) -> String {
        let rule = &self.rule.msg;
        match &self.status {
            Status::Fired(e) => format!("{rule}: {} = {} at {}", e.record, e.value, e.ts),
            Status::Pending(e, since) => {
                format!(
                    "{rule}: firing since {since}, not yet for {}",
                    canary_core::duration::format_duration(self.rule.for_)
                ) + &format!(" ({} = {})", e.record, e.value)
            }
            Status::Missing => format!("{rule}: no evidence"),
            Status::Stale(e) => format!(
                "{rule}: newest evidence ({}) is {} s old, stale",
                e.record,
                age_s(e.ts, at)
            ),
            Status::Unknown(e) => format!("{rule}: {} could not be judged: {}", e.record, e.msg),
            Status::Ok(e) => format!("ok: {} = {}", e.record, e.value),
            Status::Quiet => "no records for this rule".to_owned(),
        }
    }
}

/// Extra facts about the stream that bear on every target.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamFacts {
    pub bad_lines: u64,
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
    let holds: Vec<bool> = criteria.iter().filter_map(Criterion::holds).collect();
    let unreadable = facts.bad_lines > 0;
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
    (decision, exit)
}

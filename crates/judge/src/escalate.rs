//! Escalation: evidence that stays unknown too long is a decision a person
//! must see, not a silent hold (`--unknown-since`, `--max-unknown`).
//!
//! A verdict is *unknown* when its exit is 2: judge could not evaluate.
//! judge gives 2 exactly when a hold (continue, extend, no-go) rests on a
//! reason at level unknown (missing, stale, unknown or future-dated
//! evidence, unreadable input) or on a CRIT not yet sustained for its `for`.
//! A reason merely noted at level unknown beside fresh evidence (a failed
//! fetch between good ones) is not a hold: exit 0, not unknown. A stop,
//! rollback or pause already acts on proven evidence and is never escalated. When the caller (canary-gate keeps it) says evidence has
//! been unknown since TIME and the moment judged is more than `--max-unknown`
//! after it, the overall verdict becomes `stop` (Phase A), `pause` (Phase B)
//! or a blocking `no-go` (start), exit 1, with an [`RULE`] reason first.
//! The result is an ordinary `judge.verdict`: rollback and notify act on it
//! like on any other.

use crate::decide::Decision;
use crate::verdict::Judged;
use canary_core::duration::{format_duration, human_secs};
use canary_core::verdict::{Reason, Scope};
use canary_core::{Exit, Level, Phase};
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// The reason's rule name (in the catalogue).
pub const RULE: &str = "evidence.unknown_too_long";

/// How the escalated verdict's message begins after its decision
/// (`pause: evidence unknown for ...`): canary-gate recognises an escalated
/// verdict by it, so the unknown streak goes on while the escalation holds.
pub const MSG_PREFIX: &str = "evidence unknown for ";

/// Since when evidence has been unknown, and for how long that may last.
#[derive(Debug, Clone, Copy)]
pub struct Escalation {
    pub since: Timestamp,
    pub max: Duration,
}

/// Is this verdict unknown (see the module's documentation)?
/// canary-gate counts its runs by the same rule: judge's exit 2.
pub fn is_unknown(j: &Judged<'_>) -> bool {
    j.exit == Exit::Unevaluable
}

/// The decision an escalation turns a hold into.
pub fn escalated_decision(phase: Phase) -> Decision {
    match phase {
        Phase::Start => Decision::NoGo,
        Phase::A => Decision::Stop,
        Phase::B => Decision::Pause,
    }
}

/// Apply `--unknown-since` and `--max-unknown` (nothing without the first)
/// to one run's verdicts.
pub fn from_cli<'r>(
    cli: &crate::cli::Cli,
    mut judged: Vec<Judged<'r>>,
    phase: Phase,
    at: Timestamp,
) -> Vec<Judged<'r>> {
    if let Some(since) = cli.unknown_since {
        let e = Escalation {
            since,
            max: cli.max_unknown,
        };
        apply(&mut judged, phase, at, e);
    }
    judged
}

/// Escalate the overall verdict of `judged` when its evidence has been
/// unknown for longer than allowed at `at`. Returns whether it did.
pub fn apply(judged: &mut [Judged<'_>], phase: Phase, at: Timestamp, e: Escalation) -> bool {
    let Some(j) = judged.iter_mut().find(|j| j.scope == Scope::Overall) else {
        return false;
    };
    if !is_unknown(j) {
        return false;
    }
    // A `since` after the moment judged (a wrong clock) is no time at all.
    let Ok(elapsed) = Duration::try_from(at.duration_since(e.since)) else {
        return false;
    };
    if elapsed <= e.max {
        return false;
    }
    let decision = escalated_decision(phase);
    let how_long = human_secs(elapsed.as_secs_f64()).unwrap_or_default();
    let msg = format!(
        "{MSG_PREFIX}{how_long} (since {}), longer than --max-unknown {}: a monitoring outage \
         this long is not a hold but a {decision}; restore the evidence (probe-health, \
         scrape-metrics, the bot's /health and /metrics) before the canary goes on",
        e.since,
        format_duration(e.max)
    );
    j.reasons.insert(
        0,
        Reason {
            rule: RULE.to_owned(),
            criterion: Some("evidence known within --max-unknown".into()),
            level: Level::Crit,
            // Seconds, to the millisecond: never equal to a limit it exceeds.
            value: Value::from(elapsed.as_millis() as f64 / 1000.0),
            threshold: Some(e.max.as_secs_f64()),
            ts: Some(e.since),
            msg,
            target: None,
        },
    );
    j.decision = decision;
    j.exit = Exit::Blocking;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Progress;

    const FIFTEEN_MINUTES: Duration = Duration::from_secs(15 * 60);

    fn judged(decision: Decision, exit: Exit, level: Level) -> Judged<'static> {
        Judged {
            target: "canary".into(),
            scope: Scope::Overall,
            decision,
            exit,
            criteria: Vec::new(),
            proofs: Vec::new(),
            window: Progress {
                start: None,
                elapsed: Duration::ZERO,
                orders: 0,
                orders_seen: false,
                complete: false,
                over_cap: false,
                spec: None,
            },
            reasons: vec![Reason {
                rule: "health-status".into(),
                criterion: None,
                level,
                value: Value::Null,
                threshold: None,
                ts: None,
                msg: "criterion not proven".into(),
                target: None,
            }],
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    const AT: &str = "2026-11-26T03:30:00Z";

    #[test]
    fn unknown_longer_than_the_limit_escalates_by_phase() {
        for (phase, want) in [
            (Phase::A, Decision::Stop),
            (Phase::B, Decision::Pause),
            (Phase::Start, Decision::NoGo),
        ] {
            let mut v = [judged(
                Decision::Continue,
                Exit::Unevaluable,
                Level::Unknown,
            )];
            let e = Escalation {
                since: t("2026-11-26T03:14:00Z"),
                max: FIFTEEN_MINUTES,
            };
            assert!(apply(&mut v, phase, t(AT), e));
            assert_eq!(v[0].decision, want);
            assert_eq!(v[0].exit, Exit::Blocking);
            let r = &v[0].reasons[0];
            assert_eq!(r.rule, RULE);
            assert_eq!(r.level, Level::Crit);
            assert_eq!(r.value, Value::from(960.0));
            assert_eq!(r.threshold, Some(900.0));
            assert!(r.msg.starts_with("evidence unknown for 16m"), "{}", r.msg);
            assert!(r.msg.contains("--max-unknown 15m"), "{}", r.msg);
            // The original reasons stay.
            assert_eq!(v[0].reasons[1].rule, "health-status");
        }
    }

    #[test]
    fn within_the_limit_or_known_or_already_acting_is_left_alone() {
        let e = Escalation {
            since: t("2026-11-26T03:15:00Z"),
            max: FIFTEEN_MINUTES,
        };
        // Exactly the limit: not longer.
        let mut v = [judged(
            Decision::Continue,
            Exit::Unevaluable,
            Level::Unknown,
        )];
        assert!(!apply(&mut v, Phase::B, t(AT), e));
        assert_eq!(v[0].decision, Decision::Continue);
        let late = t("2026-11-26T03:30:01Z");
        for (d, x, l) in [
            (Decision::Continue, Exit::Clean, Level::Warn),
            (Decision::Promote, Exit::Clean, Level::Ok),
            (Decision::Rollback, Exit::Blocking, Level::Unknown),
            (Decision::Pause, Exit::Blocking, Level::Crit),
        ] {
            let mut v = [judged(d, x, l)];
            assert!(!apply(&mut v, Phase::B, late, e), "{d} {x:?} {l}");
            assert_eq!(v[0].decision, d);
        }
        // A reason noted at level unknown beside fresh evidence: exit 0, known.
        let mut v = [judged(Decision::Continue, Exit::Clean, Level::Unknown)];
        assert!(!apply(&mut v, Phase::A, late, e));
        // An extend that rests on unknown evidence (exit 2) escalates.
        let mut v = [judged(Decision::Extend, Exit::Unevaluable, Level::Unknown)];
        assert!(apply(&mut v, Phase::A, late, e));
        assert_eq!(v[0].decision, Decision::Stop);
        // A since in the future (a wrong clock) never escalates.
        let e = Escalation {
            since: t("2026-11-26T04:00:00Z"),
            max: Duration::ZERO,
        };
        let mut v = [judged(
            Decision::Continue,
            Exit::Unevaluable,
            Level::Unknown,
        )];
        assert!(!apply(&mut v, Phase::B, t(AT), e));
    }

    #[test]
    fn only_the_overall_verdict_escalates() {
        let mut bot = judged(Decision::Continue, Exit::Unevaluable, Level::Unknown);
        bot.scope = Scope::Target;
        let mut v = [
            bot,
            judged(Decision::Continue, Exit::Unevaluable, Level::Unknown),
        ];
        let e = Escalation {
            since: t("2026-11-26T03:00:00Z"),
            max: FIFTEEN_MINUTES,
        };
        assert!(apply(&mut v, Phase::B, t(AT), e));
        assert_eq!(v[0].decision, Decision::Continue);
        assert_eq!(v[1].decision, Decision::Pause);
    }
}

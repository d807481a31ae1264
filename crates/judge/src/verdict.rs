//! From stream state to verdicts: one per bot when the stream holds a
//! fleet, plus the overall one; each with its reasons and window.

use crate::decide::{Clock, Criterion, Decision, Status, StreamFacts, decide, status};
use crate::rules::{Action, Rule};
use crate::state::{Stream, TargetState};
use crate::window::{Progress, WindowSpec};
use canary_core::verdict::{Reason, Scope};
use canary_core::{Exit, Kind, Level, Phase, Record};
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

/// How to judge: the moment, the freshness bound, the window.
#[derive(Debug, Clone, Copy)]
pub struct Judging {
    pub phase: Phase,
    pub at: Timestamp,
    pub max_age: Duration,
    /// How far ahead of `at` evidence may be dated (clock skew).
    pub max_skew: Duration,
    pub window: Option<WindowSpec>,
    pub since: Option<Timestamp>,
    /// Without --since: how far back the window may begin.
    pub lookback: Option<Duration>,
    /// `--confidence`: of the bound the window's error rate must be proven below.
    pub confidence: canary_core::stats::Confidence,
}

/// One judged scope.
#[derive(Debug)]
pub struct Judged<'r> {
    pub target: String,
    pub scope: Scope,
    pub decision: Decision,
    pub exit: Exit,
    pub criteria: Vec<Criterion<'r>>,
    pub window: Progress,
    /// What the window's orders prove (Phase A, B): its error rate, and
    /// in Phase B its p95.
    pub proofs: Vec<crate::proof::Proof>,
    pub reasons: Vec<Reason>,
}

/// The step Phase A's advance names (runbook §4.2 "use canary_open profile";
/// the bot rejects `--profile canary_open`, so derive a file).
pub const PHASE_B_STEP: &str = "switch to Phase B (micro-open): derive the profile with \
`check-profile config/profiles/canary.yaml --write-phase-b config/profiles/canary_open.yaml`, \
then restart the bot with it and judge with --phase b";

fn exit_level(exit: Exit) -> Level {
    match exit {
        Exit::Clean => Level::Ok,
        Exit::Hold => Level::Warn,
        Exit::Unevaluable => Level::Unknown,
        Exit::Blocking => Level::Crit,
    }
}

fn merged(bot: Option<&TargetState>, canary: &TargetState) -> TargetState {
    TargetState::merged(bot, canary)
}

fn reason(
    rule: &str,
    level: Level,
    value: Value,
    threshold: Option<f64>,
    ts: Option<Timestamp>,
    msg: String,
) -> Reason {
    Reason {
        rule: rule.to_owned(),
        criterion: None,
        level,
        value,
        threshold,
        ts,
        msg,
        target: None,
    }
}

/// Records set aside (from the future, before the window, past a bound)
/// as a reason that holds: their name, how many and the first.
fn set_aside(rule: &str, what: &crate::state::Future, why: String) -> Option<Reason> {
    let (name, target, ts) = what.first.as_ref()?;
    Some(reason(
        rule,
        Level::Unknown,
        Value::from(what.count),
        None,
        Some(*ts),
        format!(
            "{} record(s) {why}; the first, {name} from {target}, is dated {ts}; promotion and \
             advance are blocked",
            what.count
        ),
    ))
}

fn judge_one<'r>(
    rules: &'r [Rule],
    state: &TargetState,
    stream: &Stream<'_>,
    how: &Judging,
    target: String,
    scope: Scope,
) -> Judged<'r> {
    let start = how.since.or(state.first_ts);
    let clock = Clock {
        at: how.at,
        max_age: how.max_age,
        max_skew: how.max_skew,
        coverage_from: how.window.and(start),
    };
    let criteria: Vec<Criterion<'r>> = rules
        .iter()
        .zip(&state.rules)
        .map(|(rule, st)| Criterion {
            rule,
            status: status(rule, st, &clock),
        })
        .collect();
    let orders = state
        .counters
        .with_restarts(&stream.restarted_at)
        .count(how.max_age);
    let window = Progress::new(how.window, start, how.at, &orders);
    let orders_unknown = how.window.is_some() && orders.inconsistent.is_some();
    // An inconsistent counter is its own reason (`orders`): no second one.
    let proofs: Vec<crate::proof::Proof> = if how.window.is_some() && !orders_unknown {
        crate::proof::window_errors(how.phase, &orders, how.confidence)
            .into_iter()
            .chain(crate::proof::window_p95(how.phase, &orders))
            .collect()
    } else {
        Vec::new()
    };
    // Held for want of evidence if any is; else held if any is.
    let held: Vec<bool> = proofs
        .iter()
        .filter_map(crate::proof::Proof::holds)
        .collect();
    let proof_holds = if held.contains(&true) {
        Some(true)
    } else if held.is_empty() {
        None
    } else {
        Some(false)
    };
    let facts = StreamFacts {
        bad_lines: stream.bad_lines,
        future: state.future.count,
        set_aside: state.early.count + state.late.count + stream.refused.count,
        orders_unknown,
        proof: proof_holds,
    };
    let (decision, exit) = decide(how.phase, &criteria, &window, facts);
    let mut reasons = Vec::new();
    for c in &criteria {
        let level = c.level();
        let noted = c.rule.action == Action::Note && matches!(c.status, Status::Fired(_));
        if level == Level::Ok && !noted {
            continue;
        }
        let e = c.status.eval();
        let (value, threshold, ts) = match &c.status {
            // The longest gap (s) against the max age (s), from when it began.
            Status::Gap(_, from, to, max_age) => (
                Value::from(to.duration_since(*from).as_secs()),
                Some(max_age.as_secs() as f64),
                Some(*from),
            ),
            _ => (
                e.map_or(Value::Null, |e| (*e.value).clone()),
                e.and_then(|e| e.threshold),
                e.map(|e| e.ts),
            ),
        };
        let mut r = reason(&c.rule.name, level, value, threshold, ts, c.message(how.at));
        r.criterion = c.required().then(|| c.rule.criterion.clone());
        reasons.push(r);
    }
    if let (true, Some(why)) = (orders_unknown, &orders.inconsistent) {
        let mut r = reason(
            "orders",
            Level::Unknown,
            Value::from(window.orders),
            None,
            None,
            format!(
                "criterion not proven: orders counted from the bot's lifetime counter: {why}; \
                 the count ({} from increases) {}",
                window.orders,
                if orders.unproven {
                    "cannot complete or prove the window: it completes by time only"
                } else {
                    "cannot prove the window"
                }
            ),
        );
        r.criterion = Some("orders counted from the bot's lifetime counter".into());
        reasons.push(r);
    }
    for p in &proofs {
        // Shown while it holds, and with the evidence that passed.
        if p.holds().is_some() {
            let mut r = reason(
                p.rule(),
                p.level(),
                p.value(),
                p.threshold(),
                Some(how.at),
                p.message(),
            );
            r.criterion = Some(p.criterion());
            reasons.push(r);
        }
    }
    if stream.bad_lines > 0 {
        let first = stream
            .first_bad
            .as_ref()
            .map(|b| format!(", first at {}", b.diagnostic()))
            .unwrap_or_default();
        reasons.push(reason(
            "input.malformed",
            Level::Unknown,
            Value::from(stream.bad_lines),
            None,
            None,
            format!(
                "{} unreadable input line(s){first}; promotion and advance are blocked",
                stream.bad_lines
            ),
        ));
    }
    let aside = [
        (
            "input.future",
            &state.future,
            format!(
                "dated more than {} after {} (--max-skew, the clock-skew allowance): from the \
                 future, not evidence; fix the producer's clock",
                canary_core::duration::format_duration(how.max_skew),
                how.at
            ),
        ),
        (
            "input.before-window",
            &state.early,
            format!(
                "dated before {}, the moment judged less the lookback of {}: without --since \
                 judge cannot tell where the window starts, so they are not evidence and never \
                 move the window start; pass --since",
                how.lookback
                    .map(|l| crate::freshness::before(how.at, l))
                    .unwrap_or(how.at),
                canary_core::duration::format_duration(how.lookback.unwrap_or_default())
            ),
        ),
        (
            "input.before-window",
            &state.late,
            format!(
                "dated more than {} (the max age, a round's slack) before the bot's first \
                 record{}, yet arriving after it: without --since the window starts at the \
                 bot's first record, so they are before the window, not evidence, and never \
                 move its start or decide it; pass --since",
                canary_core::duration::format_duration(how.max_age),
                state.anchor.map(|a| format!(" ({a})")).unwrap_or_default()
            ),
        ),
        (
            "input.bounds",
            &stream.refused,
            format!(
                "refused: judge keeps state for at most {} bots and {} record names; they \
                 are not evidence",
                crate::state::MAX_TARGETS,
                crate::state::MAX_NAMES
            ),
        ),
    ];
    for (rule, what, why) in aside {
        reasons.extend(set_aside(rule, what, why));
    }
    for (rule, (count, first)) in &stream.rule_errors {
        reasons.push(reason(
            rule,
            Level::Unknown,
            Value::from(*count),
            None,
            None,
            format!("filter failed {count} time(s), first on {first}"),
        ));
    }
    if window.over_cap && how.phase == Phase::A && decision != Decision::Stop {
        reasons.push(reason(
            "window.cap",
            Level::Warn,
            Value::from(window.elapsed.as_secs()),
            window.spec.and_then(|w| w.cap).map(|c| c.as_secs() as f64),
            Some(how.at),
            format!(
                "Phase A ran past its {} cap: advance or stop it now, by hand if judge cannot",
                canary_core::duration::format_duration(
                    window.spec.and_then(|w| w.cap).unwrap_or_default()
                )
            ),
        ));
    }
    if matches!(decision, Decision::Continue | Decision::Extend) || reasons.is_empty() {
        reasons.push(reason(
            "window",
            Level::Ok,
            Value::from(window.orders),
            window.spec.map(|w| w.min_orders as f64),
            Some(how.at),
            window.describe(),
        ));
    }
    if matches!(
        decision,
        Decision::Go | Decision::Advance | Decision::Promote
    ) {
        for c in criteria
            .iter()
            .filter(|c| c.rule.evidence != crate::rules::Evidence::None)
        {
            if let Status::Ok(e) = &c.status {
                reasons.push(reason(
                    &c.rule.name,
                    Level::Ok,
                    (*e.value).clone(),
                    e.threshold,
                    Some(e.ts),
                    c.message(how.at),
                ));
            }
        }
        for p in proofs.iter().filter(|p| p.settled()) {
            let mut r = reason(
                p.rule(),
                Level::Ok,
                p.value(),
                p.threshold(),
                Some(how.at),
                p.message(),
            );
            r.criterion = Some(p.criterion());
            reasons.push(r);
        }
    }
    Judged {
        target,
        scope,
        decision,
        exit,
        criteria,
        window,
        proofs,
        reasons,
    }
}

/// Judge every scope of the stream: per bot when there are several, and overall.
pub fn judge_stream<'r>(rules: &'r [Rule], stream: &Stream<'_>, how: &Judging) -> Vec<Judged<'r>> {
    if stream.bots.len() <= 1 {
        let (target, bot) = match stream.bots.iter().next() {
            Some((k, v)) => (k.clone(), Some(v)),
            None => ("canary".to_owned(), None),
        };
        let state = merged(bot, &stream.canary);
        return vec![judge_one(
            rules,
            &state,
            stream,
            how,
            target,
            Scope::Overall,
        )];
    }
    let mut out: Vec<Judged<'r>> = stream
        .bots
        .iter()
        .map(|(k, b)| {
            let state = merged(Some(b), &stream.canary);
            judge_one(rules, &state, stream, how, k.clone(), Scope::Target)
        })
        .collect();
    let worst = out
        .iter()
        .max_by_key(|j| j.decision.severity())
        .map(|j| j.decision)
        .unwrap_or(Decision::Continue);
    let exit = out.iter().fold(Exit::Clean, |e, j| e.worst(j.exit));
    let mut reasons = Vec::new();
    for j in &out {
        for r in j
            .reasons
            .iter()
            .filter(|r| r.level != Level::Ok || j.decision == worst)
        {
            let mut r = r.clone();
            r.target = Some(j.target.clone());
            reasons.push(r);
        }
    }
    let window = Progress {
        start: out.iter().filter_map(|j| j.window.start).min(),
        elapsed: out
            .iter()
            .map(|j| j.window.elapsed)
            .max()
            .unwrap_or_default(),
        orders: out.iter().map(|j| j.window.orders).sum(),
        orders_seen: out.iter().any(|j| j.window.orders_seen),
        complete: out.iter().all(|j| j.window.complete),
        over_cap: out.iter().any(|j| j.window.over_cap),
        spec: how.window,
    };
    out.push(Judged {
        target: "fleet".into(),
        scope: Scope::Overall,
        decision: worst,
        exit,
        criteria: Vec::new(),
        window,
        proofs: Vec::new(),
        reasons,
    });
    out
}

impl Judged<'_> {
    /// The verdict record (FORMAT.md, `judge.verdict`).
    pub fn record(&self, name: &str, kind: Kind, phase: Phase, at: Timestamp) -> Record {
        self.line(name, kind, phase, at, &self.msg()).to_record()
    }

    /// Write the verdict record to `out`, without building it for NDJSON.
    pub fn write<W: std::io::Write>(
        &self,
        name: &str,
        kind: Kind,
        phase: Phase,
        at: Timestamp,
        out: &mut canary_core::ndjson::RecordWriter<W>,
    ) -> std::io::Result<()> {
        let msg = self.msg();
        let line = self.line(name, kind, phase, at, &msg);
        out.write_line(&line, || line.to_record())
    }

    fn line<'a>(
        &'a self,
        name: &'a str,
        kind: Kind,
        phase: Phase,
        at: Timestamp,
        msg: &'a str,
    ) -> canary_core::verdict::VerdictLine<'a> {
        canary_core::verdict::VerdictLine {
            ts: at,
            tool: crate::tool::TOOL,
            target: &self.target,
            kind,
            name,
            level: exit_level(self.exit),
            msg,
            decision: self.decision,
            phase,
            reasons: &self.reasons,
            window: self.window.summary(),
            scope: self.scope,
            exit: self.exit.code(),
        }
    }

    /// The verdict's one-line message: the decision and its first reason.
    fn msg(&self) -> String {
        let first = self
            .reasons
            .iter()
            .find(|r| r.level != Level::Ok)
            .or_else(|| self.reasons.first())
            .map(|r| r.msg.as_str())
            .unwrap_or("");
        let others = self
            .reasons
            .iter()
            .filter(|r| r.level != Level::Ok)
            .count()
            .saturating_sub(1);
        let more = if others > 0 {
            format!(" (and {others} more reason(s))")
        } else {
            String::new()
        };
        match self.decision {
            Decision::Advance => format!("advance: Phase A is complete and clean; {PHASE_B_STEP}"),
            Decision::Promote => {
                "promote: Phase B is complete and every criterion is met (runbook §4.4)".into()
            }
            Decision::Go => "go: preflight, config and health are clean; start Phase A".into(),
            d => format!("{}: {first}{more}", d.as_str()),
        }
    }
}

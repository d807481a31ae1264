//! From stream state to verdicts: one per bot when the stream holds a
//! fleet, plus the overall one; each with its reasons and window.

use crate::decide::{Clock, Criterion, Decision, Status, StreamFacts, decide, status};
use crate::rules::{Action, Rule};
use crate::state::{Stream, TargetState};
use crate::window::{Progress, WindowSpec};
use canary_core::{Exit, Kind, Level, Phase, Record};
use jiff::Timestamp;
use serde_json::{Value, json};
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
}

/// One judged scope.
#[derive(Debug)]
pub struct Judged<'r> {
    pub target: String,
    pub scope: &'static str,
    pub decision: Decision,
    pub exit: Exit,
    pub criteria: Vec<Criterion<'r>>,
    pub window: Progress,
    pub reasons: Vec<Value>,
}

/// The step Phase A's advance names (runbook §4.2 "use canary_open profile";
/// contracts §5.1: `--profile canary_open` is rejected, so derive a file).
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
) -> Value {
    json!({
        "rule": rule,
        "level": level.as_str(),
        "value": value,
        "threshold": threshold,
        "ts": ts.map(|t| t.to_string()),
        "msg": msg,
    })
}

fn judge_one<'r>(
    rules: &'r [Rule],
    state: &TargetState,
    stream: &Stream<'_>,
    how: &Judging,
    target: String,
    scope: &'static str,
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
    let window = Progress::new(how.window, start, how.at, &state.orders);
    let facts = StreamFacts {
        bad_lines: stream.bad_lines,
        future: state.future.count,
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
                json!(to.duration_since(*from).as_secs()),
                Some(max_age.as_secs() as f64),
                Some(*from),
            ),
            _ => (
                e.map_or(Value::Null, |e| e.value.clone()),
                e.and_then(|e| e.threshold),
                e.map(|e| e.ts),
            ),
        };
        reasons.push(reason(
            &c.rule.name,
            level,
            value,
            threshold,
            ts,
            c.message(how.at),
        ));
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
            json!(stream.bad_lines),
            None,
            None,
            format!(
                "{} unreadable input line(s){first}; promotion and advance are blocked",
                stream.bad_lines
            ),
        ));
    }
    if let Some((name, target, ts)) = &state.future.first {
        reasons.push(reason(
            "input.future",
            Level::Unknown,
            json!(state.future.count),
            None,
            Some(*ts),
            format!(
                "{} record(s) dated more than {} after {} (--max-skew, the clock-skew \
                 allowance): from the future, not evidence; the first, {name} from {target}, \
                 is dated {ts}; fix the producer's clock; promotion and advance are blocked",
                state.future.count,
                canary_core::duration::format_duration(how.max_skew),
                how.at
            ),
        ));
    }
    for (rule, (count, first)) in &stream.rule_errors {
        reasons.push(reason(
            rule,
            Level::Unknown,
            json!(count),
            None,
            None,
            format!("filter failed {count} time(s), first on {first}"),
        ));
    }
    if window.over_cap && how.phase == Phase::A && decision != Decision::Stop {
        reasons.push(reason(
            "window.cap",
            Level::Warn,
            json!(window.elapsed.as_secs()),
            window.spec.and_then(|w| w.cap).map(|c| c.as_secs() as f64),
            Some(how.at),
            "Phase A ran past its 6 h cap: advance or stop it now, by hand if judge cannot".into(),
        ));
    }
    if matches!(decision, Decision::Continue | Decision::Extend) || reasons.is_empty() {
        reasons.push(reason(
            "window",
            Level::Ok,
            json!(window.orders),
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
                    e.value.clone(),
                    e.threshold,
                    Some(e.ts),
                    c.message(how.at),
                ));
            }
        }
    }
    Judged {
        target,
        scope,
        decision,
        exit,
        criteria,
        window,
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
        return vec![judge_one(rules, &state, stream, how, target, "overall")];
    }
    let mut out: Vec<Judged<'r>> = stream
        .bots
        .iter()
        .map(|(k, b)| {
            let state = merged(Some(b), &stream.canary);
            judge_one(rules, &state, stream, how, k.clone(), "target")
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
            .filter(|r| r["level"] != "ok" || j.decision == worst)
        {
            let mut r = r.clone();
            if let Some(o) = r.as_object_mut() {
                o.insert("target".into(), json!(j.target));
            }
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
        scope: "overall",
        decision: worst,
        exit,
        criteria: Vec::new(),
        window,
        reasons,
    });
    out
}

impl Judged<'_> {
    /// The verdict record (FORMAT.md, `judge.verdict`).
    pub fn record(&self, name: &str, kind: Kind, phase: Phase, at: Timestamp) -> Record {
        let first = self
            .reasons
            .iter()
            .find(|r| r["level"] != "ok")
            .or_else(|| self.reasons.first())
            .and_then(|r| r["msg"].as_str())
            .unwrap_or("");
        let msg = match self.decision {
            Decision::Advance => format!("advance: Phase A is complete and clean; {PHASE_B_STEP}"),
            Decision::Promote => {
                "promote: Phase B is complete and every criterion is met (runbook §4.4)".into()
            }
            Decision::Go => "go: preflight and health are clean; start Phase A".into(),
            d => format!("{}: {first}", d.as_str()),
        };
        Record::new(crate::TOOL, &self.target, kind, name, exit_level(self.exit))
            .at(at)
            .value(self.decision.as_str())
            .msg(msg)
            .extra("decision", self.decision.as_str())
            .extra("phase", phase.as_str())
            .extra("reasons", Value::Array(self.reasons.clone()))
            .extra("window", self.window.to_json())
            .extra("scope", self.scope)
            .extra("exit", self.exit.code())
    }
}

//! The closing record of a run: what was done, or where it stopped, what
//! state the canary, the positions and the checkout are in, and what the
//! operator does next.

use crate::config::Settings;
use crate::git::Repo;
use crate::plan::{Action, Plan, Step};
use crate::procedure::{Procedure, Step as S};
use crate::tool::TOOL;
use canary_core::step::{RunOutcome, RunResult};
use canary_core::{Kind, Level, Record};

/// The record of a result; its payload starts with where HEAD was and
/// where the run was going.
fn base(plan: &Plan, outcome: RunOutcome) -> RunResult {
    let mut r = RunResult::new(outcome);
    r.head = Some(plan.head.to_ref());
    if let Some(t) = &plan.target {
        r.to = Some(t.to_ref());
        r.target_source = Some(plan.target_source.to_owned());
    }
    r
}

fn record(plan: &Plan, repo: &Repo, level: Level, r: &RunResult) -> Record {
    Record::new(
        TOOL,
        &repo.dir.display().to_string(),
        Kind::Step,
        &format!("{}.result", plan.prefix),
        level,
    )
    .value(r.outcome.as_str())
    .with_payload(r)
}

fn names(steps: &[&str]) -> Option<Vec<String>> {
    Some(steps.iter().map(|s| (*s).to_owned()).collect())
}

fn argv_of(step: Option<&Step>) -> String {
    step.and_then(|s| s.action.argv())
        .map(|a| a.join(" "))
        .unwrap_or_default()
}

fn find(plan: &Plan, kind: S) -> Option<&Step> {
    plan.steps.iter().find(|s| s.kind == kind)
}

/// The state after `step` failed, and the operator's next action. One arm
/// per step, no catch-all: a new step must say its own.
pub fn failure(plan: &Plan, step: &Step, settings: &Settings, repo: &Repo) -> (String, String) {
    let from = plan.head.label();
    let to = plan
        .target
        .as_ref()
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let dir = repo.dir.display();
    let log = match &step.action {
        Action::Start { log, .. } => log.clone(),
        _ => String::new(),
    };
    let argv = argv_of(Some(step));
    let rerun = "then re-run the same command with a fresh verdict (one older than --max-verdict-age is refused; --force for a rollback): finished steps are not repeated (see docs/rollback.md)";
    let promote = plan.procedure == Procedure::Promote;
    match step.kind {
        S::Stop if promote => (
            "the canary may still be running; production was not deployed".into(),
            format!("make sure the canary is stopped (the stop command was: `{argv}`; see docs/rollback.md, \"The stop step\"), {rerun}"),
        ),
        S::Stop => (
            format!("the canary may still be running; nothing else was changed (positions untouched, repository still at {from})"),
            format!("make sure the canary is stopped (the stop command was: `{argv}`; see docs/rollback.md, \"The stop step\"), {rerun}"),
        ),
        S::ClosePositions => (
            format!("the canary is stopped; open positions may remain; the repository is still at {from}"),
            "close the positions in the broker UI, then re-run with --skip-close-positions (or fix the hook and re-run)".into(),
        ),
        S::Checkout => (
            format!("the canary is stopped and positions were handled, but the repository is still at {from}: the checkout of {to} failed"),
            format!("look at `git -C {dir} status` (local changes block a checkout), fix it, {rerun}"),
        ),
        S::Sync => (
            format!("the repository is at {to} but its dependencies are not synced; nothing was restarted: the bot is not running"),
            format!("fix the sync (run `{argv}` in {dir}), {rerun}"),
        ),
        S::Restart => (
            format!("the repository is at {to} and synced, but the bot did not start with the prod profile: nothing is trading"),
            format!("start it by hand (`{argv}` in {dir}; its output is in STATE_DIR/{log}), or fix the command and re-run"),
        ),
        S::Report | S::ProfileDiff => (
            "nothing was changed: the canary is still running".into(),
            format!("fix the cause above (report directory, profile paths: {}), {rerun}", argv_of(find(plan, S::ProfileDiff))),
        ),
        S::Deploy => (
            "the canary is stopped but production did not start: nothing is trading".into(),
            format!("start production by hand (`{argv}` in {dir}; output in STATE_DIR/{log}), or fix the command and re-run"),
        ),
        S::Watch => (
            "production is deployed, but the one-hour post-promotion watch did not start".into(),
            format!(
                "start it by hand: `{} | {}` — and watch it for an hour",
                settings.watch.argv.join(" "),
                settings.watch_gate.as_ref().map(|g| g.argv.join(" ")).unwrap_or_default()
            ),
        ),
    }
}

pub fn failed(
    plan: &Plan,
    repo: &Repo,
    step: &str,
    finished: &[&str],
    not_run: &[&str],
    state: &str,
    next: &str,
) -> Record {
    let mut r = base(plan, RunOutcome::Failed);
    r.failed_step = Some(step.to_owned());
    r.finished = names(finished);
    r.not_run = names(not_run);
    r.state = Some(state.to_owned());
    r.next = Some(next.to_owned());
    record(plan, repo, Level::Crit, &r).msg(format!(
        "{} stopped at step {step}: {state}. Next: {next}",
        plan.prefix
    ))
}

pub fn success(plan: &Plan, repo: &Repo, execute: bool, finished: &[&str]) -> Record {
    let all_skipped = plan.steps.iter().all(|s| s.skip.is_some());
    let to = plan.target.as_ref().map(|t| t.name.as_str()).unwrap_or("");
    let snapshot = "a snapshot made without the lock: --execute takes the lock and plans again";
    let (outcome, msg) = match (execute, plan.prefix, &plan.completed_before) {
        (true, "rollback", None) if plan.stop_only => (
            RunOutcome::Done,
            "the canary is stopped; the rest of the rollback was not run (a stop verdict): investigate, then roll back with --full or --force if needed".to_owned(),
        ),
        (false, "rollback", Some(run)) => (
            RunOutcome::AlreadyDone,
            format!("dry run: the rollback to {to} was already completed (rollback {run}); nothing would run, not even the stop ({snapshot})"),
        ),
        (false, _, Some(run)) => (
            RunOutcome::AlreadyDone,
            format!("dry run: {} was already promoted (promotion {run}); nothing would run, not even the stop ({snapshot})", plan.head.label()),
        ),
        (false, _, None) if all_skipped => (
            RunOutcome::AlreadyDone,
            format!("dry run: every step is already done; nothing would run ({snapshot})"),
        ),
        (false, _, None) => (
            RunOutcome::Planned,
            format!(
                "dry run: {} step(s) planned; re-run with --execute to run them ({snapshot})",
                plan.steps.iter().filter(|s| s.skip.is_none()).count()
            ),
        ),
        (true, "rollback", Some(run)) => (
            RunOutcome::AlreadyDone,
            format!("the rollback to {to} was already completed (rollback {run}); the repository is at {to}: nothing was run, not even the stop (it could hit the production bot the rollback restarted)"),
        ),
        (true, "rollback", None) => (
            RunOutcome::Done,
            match &plan.resumed {
                Some(c) => format!(
                    "rolled back from {} to {to} and restarted with the prod profile (rollback {} resumed)",
                    c.from_tag.clone().unwrap_or_else(|| crate::git::short(&c.from_commit).to_owned()),
                    c.proc_id
                ),
                None => format!("rolled back from {} to {to} and restarted with the prod profile", plan.head.label()),
            },
        ),
        (true, _, Some(run)) => (
            RunOutcome::AlreadyDone,
            format!("{} ({}) was already promoted (promotion {run}): nothing was run, not even the stop (production is deployed; a second deploy would start a second production bot)", plan.head.label(), crate::git::short(&plan.head.commit)),
        ),
        (true, _, None) => (
            RunOutcome::Done,
            "promoted: canary stopped, production deployed, post-promotion watch started for one hour".to_owned(),
        ),
    };
    let mut r = base(plan, outcome);
    r.finished = names(finished);
    r.snapshot = (!execute).then_some(true);
    record(plan, repo, Level::Ok, &r).msg(msg)
}

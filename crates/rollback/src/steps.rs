//! Running a plan: one `step` record per step (planned, skipped, done or
//! failed, with its argv, times, exit status and stderr tail), stopping at
//! the first failure with what state things are in and what to do next.

use crate::audit::Sink;
use crate::command::{self, Ending, LogFile, Outcome, Track};
use crate::config::Settings;
use crate::git::Repo;
use crate::journal::{Entry, Journal, Outcome as JOutcome, now};
use crate::plan::{Action, Plan, Step};
use crate::promote;
use crate::safefs::StateDir;
use crate::status::{self, Contract, Status};
use crate::step_rec::{Done, StepRec, record};
use crate::tool::{TOOL, refusal, see};
use canary_core::step::{StepOutcome, StepStatus};
use canary_core::{Exit, Level};
use std::io::Write;
use std::time::{Duration, Instant};

/// Largest diff kept in a record.
const MAX_DIFF: usize = 64 << 10;

/// What a run needs to carry out steps.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub settings: &'a Settings,
    pub repo: &'a Repo,
    pub state: &'a StateDir,
    pub run_id: &'a str,
}

fn with_outcome(mut rec: StepRec, o: &Outcome, timeout: std::time::Duration) -> StepRec {
    rec.payload.outcome = Some(StepOutcome {
        timeout_s: Some(timeout.as_secs_f64()),
        exit_status: Some(o.code()),
        stderr_tail: Some(o.stderr_tail.clone()),
        stdout_tail: Some(o.stdout_tail.clone()).filter(|t| !t.is_empty()),
        timed_out: matches!(o.ending, Ending::TimedOut).then_some(true),
        pid: match o.ending {
            Ending::Running(pid) => Some(pid),
            _ => None,
        },
        signal: match o.ending {
            Ending::Signalled(s) => Some(s),
            _ => None,
        },
        ..StepOutcome::times(o.started, o.ended)
    });
    rec
}

/// Ask the status command (and the health URL) whether the canary runs.
pub fn canary_status(settings: &Settings, repo: &Repo, track: &mut Track) -> Status {
    let Some(st) = &settings.status else {
        return Status::CannotTell(
            "no status command is configured: the stop cannot be verified (--status-cmd)".into(),
        );
    };
    let timeout = settings.timeout("stop").min(Duration::from_secs(60));
    let o = command::run_tracked(&st.argv, &repo.dir, timeout, track);
    let s = status::read(settings.status_contract, &o, timeout);
    match (&s, &settings.canary_health) {
        (Status::Stopped(d), Some(url)) => match status::answers(url) {
            Ok((true, how)) => Status::Running(format!(
                "{d}, but the canary still answers its health URL: {how}"
            )),
            Ok((false, how)) => Status::Stopped(format!("{d}; {how}")),
            Err(e) => Status::CannotTell(format!("{d}, but the health URL cannot be probed: {e}")),
        },
        _ => s,
    }
}

/// What the process manager does with a canary that ignores SIGTERM, and
/// what the operator does about one still running after the grace.
fn still_running_advice(settings: &Settings) -> String {
    let by_manager = match settings.status_contract {
        Contract::Systemd => {
            "systemd: `systemctl stop` sends SIGTERM, waits the unit's TimeoutStopSec (90s by default) \
             and then sends SIGKILL; if the unit has a longer timeout or SendSIGKILL=no, kill it: \
             `systemctl kill -s KILL gpt-trader-canary`"
        }
        Contract::Docker => {
            "docker: `docker stop` sends SIGTERM, waits 10s and then SIGKILLs; if it still runs, \
             `docker kill gpt-trader-canary`"
        }
        Contract::Generic => {
            "canary-process: its stop sends SIGTERM, waits --stop-timeout (10s) and then SIGKILLs \
             the canary's process groups, exiting 1 if any survive; escalate by hand: \
             `kill -KILL -- -PGID` for each pgid `canary_process.py --profile canary status` lists"
        }
    };
    format!(
        "the bot ignores SIGTERM (it keeps running and answering /health until killed). {by_manager}. \
         Nothing later was run (see docs/rollback.md, \"The stop step\")"
    )
}

/// Run one step. `track` marks its processes and records their pids.
pub fn perform(plan: &Plan, step: &Step, ctx: &Ctx<'_>, track: &mut Track) -> Done {
    let (settings, repo) = (ctx.settings, ctx.repo);
    let timeout = settings.timeout(step.name());
    let base = |status, level| record(plan, step, repo, status, level);
    let finish = |o: &Outcome, ok: bool, msg: String| {
        Done::new(
            ok,
            with_outcome(
                base(
                    if ok {
                        StepStatus::Done
                    } else {
                        StepStatus::Failed
                    },
                    if ok { Level::Ok } else { Level::Crit },
                ),
                o,
                timeout,
            )
            .msg(msg),
        )
    };
    match &step.action {
        Action::Stop { stop, .. } => {
            let pre = canary_status(settings, repo, track);
            if let Status::Stopped(d) = &pre {
                let mut rec = base(StepStatus::Skipped, Level::Ok).reason("already stopped");
                rec.payload.unit_state = Some(pre.label().to_owned());
                let mut done = Done::new(
                    true,
                    rec.msg(format!(
                        "the canary is already stopped ({d}): nothing to stop"
                    )),
                );
                done.unit_state = Some(format!("stopped: {d}"));
                return done;
            }
            let o = command::run_tracked(&stop.argv, &repo.dir, timeout, track);
            if !o.success() {
                let mut d = finish(
                    &o,
                    false,
                    format!(
                        "stopping the canary failed: the command {}",
                        o.describe(timeout)
                    ),
                );
                d.unit_state = Some(format!("{}: {}", pre.label(), pre.detail()));
                return d;
            }
            // Verified, not assumed: poll until stopped or the grace is up.
            let deadline = Instant::now() + settings.stop_grace;
            let post = loop {
                let s = canary_status(settings, repo, track);
                if matches!(s, Status::Stopped(_)) || Instant::now() >= deadline {
                    break s;
                }
                std::thread::sleep(Duration::from_millis(250));
            };
            let grace = canary_core::duration::format_duration(settings.stop_grace);
            let unit = Some(format!("{}: {}", post.label(), post.detail()));
            let mut d = match &post {
                Status::Stopped(d) => finish(&o, true, format!("canary stopped (verified: {d})")),
                Status::Running(d) => finish(
                    &o,
                    false,
                    format!(
                        "the stop command returned 0 but the canary is still running {grace} after it ({d}): {}",
                        still_running_advice(settings)
                    ),
                ),
                Status::CannotTell(d) => finish(
                    &o,
                    false,
                    format!(
                        "the stop command returned 0 but whether the canary stopped cannot be told ({d}); \
                         nothing later was run: check it by hand"
                    ),
                ),
            };
            d.record.payload.unit_state = Some(post.label().to_owned());
            d.record.payload.stop_grace_s = Some(settings.stop_grace.as_secs_f64());
            d.unit_state = unit;
            d
        }
        Action::Run(cmd) => {
            let o = command::run_tracked(&cmd.argv, &repo.dir, timeout, track);
            let what = step.kind.what();
            if o.success() {
                finish(&o, true, format!("{what} finished"))
            } else {
                finish(
                    &o,
                    false,
                    format!("{what} failed: the command {}", o.describe(timeout)),
                )
            }
        }
        Action::Checkout(tag) => {
            let argv = Repo::checkout_argv(&tag.name);
            let o = command::run_tracked(&argv, &repo.dir, timeout, track);
            if !o.success() {
                return finish(
                    &o,
                    false,
                    format!(
                        "git checkout of {} failed: it {}",
                        tag.name,
                        o.describe(timeout)
                    ),
                );
            }
            match repo.head_commit() {
                Ok(c) if c == tag.commit => finish(
                    &o,
                    true,
                    format!(
                        "the repository is at {} ({})",
                        tag.name,
                        crate::git::short(&c)
                    ),
                ),
                Ok(c) => finish(
                    &o,
                    false,
                    format!(
                        "after the checkout HEAD is at {}, not at {} ({})",
                        crate::git::short(&c),
                        tag.name,
                        crate::git::short(&tag.commit)
                    ),
                ),
                Err(e) => finish(&o, false, format!("could not verify the checkout: {e}")),
            }
        }
        Action::Start { cmd, log, feed } => {
            let logf = LogFile {
                dir: ctx.state,
                name: log.clone(),
                path: ctx.state.join(log),
            };
            let o = command::spawn_detached(
                &cmd.argv,
                &repo.dir,
                &logf,
                settings.start_grace,
                feed.as_ref().map(|f| f.argv.as_slice()),
                track,
            );
            let ok = o.success();
            let shown = logf.path.display();
            let msg = match (&o.ending, ok) {
                (Ending::Running(pid), _) => format!(
                    "started: pid {pid} still running after {}; output in {shown}",
                    canary_core::duration::format_duration(settings.start_grace),
                ),
                (_, true) => format!("the command returned 0 (output in {shown})"),
                (_, false) => format!(
                    "starting failed: the command {} (output in {shown})",
                    o.describe(timeout),
                ),
            };
            finish(&o, ok, msg)
        }
        Action::Report { name, .. } => promote::write_report(plan, step, repo, ctx.state, name),
        Action::Diff { prod, canary } => {
            let argv = crate::plan::diff_argv(prod, canary);
            let (o, out) = command::run_keeping_tracked(&argv, &repo.dir, timeout, MAX_DIFF, track);
            let ok = matches!(o.ending, Ending::Exited(0 | 1));
            let text =
                String::from_utf8_lossy(&out[out.len().saturating_sub(MAX_DIFF)..]).into_owned();
            let msg = match o.ending {
                Ending::Exited(0) => "the canary and prod profiles are identical".to_owned(),
                Ending::Exited(1) => "the canary profile differs from prod (diff attached); review it before updating prod.yaml — many canary.yaml keys are never read by the bot, so compare the effective configuration with check-profile".to_owned(),
                _ => format!("the profile diff failed: diff {}", o.describe(timeout)),
            };
            let mut d = finish(&o, ok, msg);
            d.record.payload.identical = Some(o.code() == Some(0));
            d.record.payload.diff = Some(text);
            d
        }
    }
}

/// Test hook of the crash test: hold the run, forever, at a point no outside
/// observer can catch — right after a step's intent is durable (before
/// anything is spawned) or right after its done — so that the test can kill
/// it exactly there. Inert unless `CANARY_KIT_TEST_HOLD` names the point
/// (`intent:<step>` or `done:<step>`); it only ever stops a run, never makes
/// one do anything.
fn test_hold(state: &StateDir, point: &str, step: &Step) {
    let want = format!("{point}:{}", step.name());
    if std::env::var("CANARY_KIT_TEST_HOLD").ok().as_deref() == Some(want.as_str()) {
        let _ = state.write_atomic(&format!("held-{point}-{}", step.name()), b"");
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// The journal's begin entry for a new procedure.
fn begin(plan: &Plan, run_id: &str) -> Entry {
    Entry::Begin {
        proc_id: plan.proc_id.clone(),
        run_id: run_id.to_owned(),
        procedure: plan.prefix.to_owned(),
        stop_only: plan.stop_only,
        from_tag: plan.head.release.as_ref().map(|t| t.name.clone()),
        from_commit: plan.head.commit.clone(),
        to_tag: plan.target.as_ref().map(|t| t.name.clone()),
        to_commit: plan.target.as_ref().map(|t| t.commit.clone()),
        verdict_ts: plan.verdict_ts.clone(),
        ts: now(),
    }
}

/// Stop the run after `step` because the record of it could not be kept
/// (the journal or the audit log): exit 1 with where things stand.
fn abort_unrecorded<W: Write>(
    plan: &Plan,
    repo: &Repo,
    step: &Step,
    finished: &[&str],
    not_run: &[&str],
    why: &str,
    sink: &mut Sink<'_, W>,
) -> Exit {
    canary_core::diag(TOOL, "error", why);
    sink.emit(crate::result::failed(
        plan,
        repo,
        step.name(),
        finished,
        not_run,
        why,
        "free space or fix the state directory, then re-run with --resume: the journal says which step was \
         interrupted and the resume checks it (see docs/rollback.md, \"Recovery after an interruption\")",
    ));
    Exit::Blocking
}

/// Print the plan, or run it; returns the exit status. With `--execute`
/// every step is journaled: its intent (fsync'd) before anything is
/// spawned, the pids right after the spawn, its outcome after.
pub fn go<W: Write>(
    plan: &mut Plan,
    ctx: &Ctx<'_>,
    journal: &mut Journal,
    execute: bool,
    sink: &mut Sink<'_, W>,
) -> Exit {
    let repo = ctx.repo;
    if let Some(run) = plan.completed_before.clone() {
        // Already complete: nothing runs, not even the stop (guarded or
        // not): the canary was stopped then, and a stop command now could
        // hit the production bot the procedure started.
        let what = if plan.prefix == "rollback" {
            "this rollback"
        } else {
            "this promotion"
        };
        for step in &plan.steps {
            let reason = format!("{what} was already completed ({run}): nothing is run again");
            sink.emit(
                record(plan, step, repo, StepStatus::Skipped, Level::Ok)
                    .reason(reason.clone())
                    .msg(format!("{}: {reason}", step.name()))
                    .to_record(),
            );
        }
        sink.emit(crate::result::success(plan, repo, execute, &[]));
        return Exit::Clean;
    }
    if execute
        && plan.resumed.is_none()
        && let Err(e) = journal.append(ctx.state, begin(plan, ctx.run_id))
    {
        sink.emit(refusal(
                "rollback.config",
                &format!(
                    "cannot write the journal in {}: {e}; nothing was run: free space or fix the state directory, then re-run{}",
                    ctx.state.path.display(),
                    see("The journal")
                ),
            ));
        return Exit::Unevaluable;
    }
    let mut finished: Vec<&'static str> = Vec::new();
    let steps = plan.steps.clone();
    for (i, step) in steps.iter().enumerate() {
        let not_run: Vec<&str> = steps[i + 1..].iter().map(|s| s.name()).collect();
        if let Some(reason) = &step.skip {
            sink.emit(
                record(plan, step, repo, StepStatus::Skipped, step.skip_level)
                    .reason(reason.clone())
                    .msg(format!("{}: {reason}", step.name()))
                    .to_record(),
            );
            if execute {
                finished.push(step.name());
            }
            continue;
        }
        if let Some(why) = &step.blocked {
            sink.emit(
                record(plan, step, repo, StepStatus::Blocked, Level::Crit)
                    .reason(why.clone())
                    .msg(format!("{}: cannot run as configured: {why}", step.name()))
                    .to_record(),
            );
            continue;
        }
        if !execute {
            let what = match &step.action {
                // The safety options make the argv long: the gist first.
                Action::Checkout(t) => format!(
                    "git checkout --detach refs/tags/{} (hooks and fsmonitor off; the whole command is in argv)",
                    t.name
                ),
                other => other
                    .argv()
                    .map(|a| a.join(" "))
                    .unwrap_or_else(|| "write the report".into()),
            };
            sink.emit(
                record(plan, step, repo, StepStatus::Planned, Level::Ok)
                    .msg(format!("would run: {what}"))
                    .to_record(),
            );
            continue;
        }
        if !sink.audit_ok() {
            return abort_unrecorded(
                plan,
                repo,
                step,
                &finished,
                &not_run,
                &format!(
                    "the audit log cannot be written: step {} and the ones after it were not run",
                    step.name()
                ),
                sink,
            );
        }
        // Production already running (checked in the preflight too; asked
        // again here, as the steps before may have taken minutes).
        if matches!(
            step.kind,
            crate::procedure::Step::Restart | crate::procedure::Step::Deploy
        ) && let Some(why) =
            crate::production::refusal(step.kind, crate::production::running(journal))
        {
            canary_core::diag(TOOL, "error", &why);
            sink.emit(
                record(plan, step, repo, StepStatus::Failed, Level::Crit)
                    .reason(why.clone())
                    .msg(format!("{}: not run: {why}", step.name()))
                    .to_record(),
            );
            sink.emit(crate::result::failed(
                    plan,
                    repo,
                    step.name(),
                    &finished,
                    &not_run,
                    &format!(
                        "{}; production is already running, and {} was not run",
                        plan.head.label(),
                        step.kind.what()
                    ),
                    "stop the production process the refusal names, then re-run: the procedure resumes at this step \
                     (see docs/rollback.md, \"Production already running\")",
                ));
            return Exit::Blocking;
        }
        // The intent, durable before anything of the step is spawned.
        let target = plan.target.as_ref();
        let intent = Entry::Intent {
            proc_id: plan.proc_id.clone(),
            run_id: ctx.run_id.to_owned(),
            step: step.name().to_owned(),
            to_tag: target
                .map(|t| t.name.clone())
                .or_else(|| plan.head.release.as_ref().map(|t| t.name.clone())),
            commit: target.map_or_else(|| plan.head.commit.clone(), |t| t.commit.clone()),
            ts: now(),
        };
        if let Err(e) = journal.append(ctx.state, intent) {
            return abort_unrecorded(
                plan,
                repo,
                step,
                &finished,
                &not_run,
                &format!(
                    "cannot write the intent of step {} to the journal: {e}; it was not run",
                    step.name()
                ),
                sink,
            );
        }
        test_hold(ctx.state, "intent", step);
        let mut pids: Vec<u32> = Vec::new();
        let mut spawn_err: Option<String> = None;
        let done = {
            let proc_id = plan.proc_id.clone();
            let run_id = ctx.run_id.to_owned();
            let name = step.name().to_owned();
            let state = ctx.state;
            let mut on_spawn = |p: &[u32]| {
                pids.extend_from_slice(p);
                let e = Entry::Spawned {
                    proc_id: proc_id.clone(),
                    run_id: run_id.clone(),
                    step: name.clone(),
                    pids: p.to_vec(),
                    ts: now(),
                };
                if let Err(err) = journal.append(state, e) {
                    spawn_err.get_or_insert(err.to_string());
                }
            };
            let mut track = Track {
                marker: Some(status::marker(&plan.proc_id, step.name())),
                on_spawn: Some(&mut on_spawn),
            };
            perform(plan, step, ctx, &mut track)
        };
        let entry = Entry::Done {
            proc_id: plan.proc_id.clone(),
            run_id: ctx.run_id.to_owned(),
            step: step.name().to_owned(),
            outcome: if done.ok {
                JOutcome::Done
            } else {
                JOutcome::Failed
            },
            pids: pids.clone(),
            unit_state: done.unit_state.clone(),
            by_operator: false,
            detail: done.record.msg.clone(),
            ts: now(),
        };
        let recorded = journal.append(ctx.state, entry);
        let ok = done.ok;
        let mut rec = done.record;
        if !pids.is_empty() {
            rec.payload.pids = Some(pids.clone());
        }
        sink.emit(rec.to_record());
        if let Some(e) = spawn_err.filter(|_| recorded.is_err()) {
            canary_core::diag(
                TOOL,
                "error",
                &format!("recording the pids of step {}: {e}", step.name()),
            );
        }
        if !ok {
            let (state, next) = crate::result::failure(plan, step, ctx.settings, repo);
            sink.emit(crate::result::failed(
                plan,
                repo,
                step.name(),
                &finished,
                &not_run,
                &state,
                &next,
            ));
            return Exit::Blocking;
        }
        finished.push(step.name());
        if recorded.is_ok() {
            test_hold(ctx.state, "done", step);
        }
        if let Err(e) = recorded {
            return abort_unrecorded(
                plan,
                repo,
                step,
                &finished,
                &not_run,
                &format!(
                    "step {} finished but its outcome could not be written to the journal: {e}",
                    step.name()
                ),
                sink,
            );
        }
        if !sink.audit_ok() {
            return abort_unrecorded(
                plan,
                repo,
                step,
                &finished,
                &not_run,
                &format!(
                    "step {} finished but the audit log cannot be written: nothing more is run",
                    step.name()
                ),
                sink,
            );
        }
    }
    if execute {
        let entry = Entry::Complete {
            proc_id: plan.proc_id.clone(),
            run_id: ctx.run_id.to_owned(),
            ts: now(),
        };
        if let Err(e) = journal.append(ctx.state, entry) {
            canary_core::diag(
                TOOL,
                "warning",
                &format!(
                    "recording completion in the journal: {e} (a re-run finds every step done and runs nothing)"
                ),
            );
        }
    }
    sink.emit(crate::result::success(plan, repo, execute, &finished));
    if !sink.audit_ok() {
        return Exit::Blocking;
    }
    Exit::Clean
}

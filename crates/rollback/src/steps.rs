//! Running a plan: one `step` record per step (planned, skipped, done or
//! failed, with its argv, times, exit status and stderr tail), stopping at
//! the first failure with what state things are in and what to do next.

use crate::audit::Sink;
use crate::command::{self, Ending, Outcome};
use crate::config::Settings;
use crate::git::Repo;
use crate::plan::{Action, Plan, Step};
use crate::{TOOL, promote};
use canary_core::{Exit, Kind, Level, Record};
use serde_json::json;
use std::io::Write;

/// Largest diff kept in a record.
const MAX_DIFF: usize = 64 << 10;

/// A step's result.
#[derive(Debug)]
pub struct Done {
    pub ok: bool,
    pub record: Record,
}

pub fn record(plan: &Plan, step: &Step, repo: &Repo, status: &str, level: Level) -> Record {
    let mut rec = Record::new(
        TOOL,
        &repo.dir.display().to_string(),
        Kind::Step,
        &format!("{}.step.{}", plan.prefix, step.name),
        level,
    )
    .value(status)
    .extra("step", step.name)
    .extra("status", status);
    if let Some(argv) = step.action.argv().filter(|a| !a.is_empty()) {
        rec = rec.extra("argv", json!(argv));
    }
    match &step.action {
        Action::Stop { stop, status } => {
            rec = rec.extra("source", stop.source.clone());
            if let Some(s) = status {
                rec = rec.extra("status_argv", json!(s.argv));
            }
        }
        Action::Run(c) if !c.argv.is_empty() => rec = rec.extra("source", c.source.clone()),
        Action::Start { cmd, log, feed } => {
            rec = rec
                .extra("source", cmd.source.clone())
                .extra("log", log.display().to_string());
            if let Some(f) = feed {
                rec = rec.extra("feed_argv", json!(f.argv));
            }
        }
        Action::Checkout(t) => rec = rec.extra("to", t.to_json()),
        Action::Report(p) => rec = rec.extra("path", p.display().to_string()),
        _ => {}
    }
    rec.extra("cwd", repo.dir.display().to_string())
}

fn with_outcome(rec: Record, o: &Outcome, timeout: std::time::Duration) -> Record {
    let mut rec = rec
        .extra("started", o.started.to_string())
        .extra("ended", o.ended.to_string())
        .extra("timeout_s", timeout.as_secs_f64())
        .extra("exit_status", json!(o.code()))
        .extra("stderr_tail", o.stderr_tail.clone());
    if !o.stdout_tail.is_empty() {
        rec = rec.extra("stdout_tail", o.stdout_tail.clone());
    }
    match &o.ending {
        Ending::TimedOut => rec.extra("timed_out", true),
        Ending::Running(pid) => rec.extra("pid", *pid),
        Ending::Signalled(s) => rec.extra("signal", json!(s)),
        _ => rec,
    }
}

/// Is the canary running, per the status command? `None`: cannot tell.
fn running(status: &Outcome) -> Option<bool> {
    match status.ending {
        Ending::Exited(0) => Some(true),
        Ending::Exited(1..=125) => Some(false),
        _ => None,
    }
}

/// Run one step.
pub fn perform(plan: &Plan, step: &Step, settings: &Settings, repo: &Repo) -> Done {
    let timeout = settings.timeout(step.name);
    let base = |status: &str, level| record(plan, step, repo, status, level);
    let finish = |o: &Outcome, ok: bool, msg: String| Done {
        ok,
        record: with_outcome(
            base(
                if ok { "done" } else { "failed" },
                if ok { Level::Ok } else { Level::Crit },
            ),
            o,
            timeout,
        )
        .msg(msg),
    };
    match &step.action {
        Action::Stop { stop, status } => {
            if let Some(st) = status {
                let pre = command::run(&st.argv, &repo.dir, timeout);
                if running(&pre) == Some(false) {
                    return Done {
                        ok: true,
                        record: with_outcome(base("skipped", Level::Ok), &pre, timeout)
                            .extra("reason", "already stopped")
                            .msg(format!(
                                "the canary is already stopped (status command {}): nothing to stop",
                                pre.describe(timeout)
                            )),
                    };
                }
            }
            let o = command::run(&stop.argv, &repo.dir, timeout);
            if !o.success() {
                return finish(
                    &o,
                    false,
                    format!(
                        "stopping the canary failed: the command {}",
                        o.describe(timeout)
                    ),
                );
            }
            if let Some(st) = status {
                let post = command::run(&st.argv, &repo.dir, timeout);
                if running(&post) == Some(true) {
                    return finish(&o, false, "the stop command succeeded but the status command still reports the canary running".into());
                }
            }
            finish(&o, true, "canary stopped".into())
        }
        Action::Run(cmd) => {
            let o = command::run(&cmd.argv, &repo.dir, timeout);
            let what = if step.name == "close_positions" {
                "closing positions"
            } else {
                "the dependency sync"
            };
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
            let o = command::run(&argv, &repo.dir, timeout);
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
            let o = command::spawn_detached(
                &cmd.argv,
                &repo.dir,
                log,
                settings.start_grace,
                feed.as_ref().map(|f| f.argv.as_slice()),
            );
            let ok = o.success();
            let msg = match (&o.ending, ok) {
                (Ending::Running(pid), _) => format!(
                    "started: pid {pid} still running after {}; output in {}",
                    canary_core::duration::format_duration(settings.start_grace),
                    log.display()
                ),
                (_, true) => format!("the command returned 0 (output in {})", log.display()),
                (_, false) => format!(
                    "starting failed: the command {} (output in {})",
                    o.describe(timeout),
                    log.display()
                ),
            };
            finish(&o, ok, msg)
        }
        Action::Report(path) => promote::write_report(plan, step, repo, path),
        Action::Diff { prod, canary } => {
            let argv = crate::plan::diff_argv(prod, canary);
            let (o, out) = command::run_keeping(&argv, &repo.dir, timeout, MAX_DIFF);
            let ok = matches!(o.ending, Ending::Exited(0 | 1));
            let text =
                String::from_utf8_lossy(&out[out.len().saturating_sub(MAX_DIFF)..]).into_owned();
            let msg = match o.ending {
                Ending::Exited(0) => "the canary and prod profiles are identical".to_owned(),
                Ending::Exited(1) => "the canary profile differs from prod (diff attached); review it before updating prod.yaml — a file diff says little about effective config (contracts §8.18): compare with check-profile".to_owned(),
                _ => format!("the profile diff failed: diff {}", o.describe(timeout)),
            };
            let mut d = finish(&o, ok, msg);
            d.record = d
                .record
                .extra("identical", o.code() == Some(0))
                .extra("diff", text);
            d
        }
    }
}

/// Print the plan, or run it; returns the exit status. Progress is saved
/// after each finished step while executing.
pub fn go<W: Write>(
    plan: &mut Plan,
    settings: &Settings,
    repo: &Repo,
    execute: bool,
    sink: &mut Sink<'_, W>,
) -> Exit {
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
            let reason = step.skip.clone().unwrap_or_else(|| {
                format!("{what} was already completed by run {run}: nothing is run again")
            });
            sink.emit(
                record(plan, step, repo, "skipped", Level::Ok)
                    .extra("reason", reason.clone())
                    .msg(format!("{}: {reason}", step.name)),
            );
        }
        sink.emit(crate::result::success(plan, repo, execute, &[]));
        return Exit::Clean;
    }
    if execute {
        if let Some((path, p)) = &mut plan.progress {
            if let Err(e) = crate::progress::save(path, p) {
                sink.emit(crate::refusal(
                    "rollback.config",
                    &format!("cannot record progress in {}: {e}", path.display()),
                ));
                return Exit::Unevaluable;
            }
        }
    }
    let mut finished: Vec<&'static str> = Vec::new();
    let steps = plan.steps.clone();
    for (i, step) in steps.iter().enumerate() {
        if let Some(reason) = &step.skip {
            sink.emit(
                record(plan, step, repo, "skipped", step.skip_level)
                    .extra("reason", reason.clone())
                    .msg(format!("{}: {reason}", step.name)),
            );
        } else if !execute {
            let what = step
                .action
                .argv()
                .map(|a| a.join(" "))
                .unwrap_or_else(|| "write the report".into());
            sink.emit(
                record(plan, step, repo, "planned", Level::Ok).msg(format!("would run: {what}")),
            );
            continue;
        } else {
            let done = perform(plan, step, settings, repo);
            sink.emit(done.record);
            if !done.ok {
                let not_run: Vec<&str> = steps[i + 1..].iter().map(|s| s.name).collect();
                let (state, next) = crate::result::failure(plan, step, settings, repo);
                sink.emit(crate::result::failed(
                    plan, repo, step.name, &finished, &not_run, &state, &next,
                ));
                return Exit::Blocking;
            }
        }
        if !execute {
            continue;
        }
        finished.push(step.name);
        if let Some((path, p)) = &mut plan.progress {
            p.mark(step.name);
            if let Err(e) = crate::progress::save(path, p) {
                let not_run: Vec<&str> = steps[i + 1..].iter().map(|s| s.name).collect();
                let state = format!(
                    "step {} finished but its progress could not be recorded in {}: {e}",
                    step.name,
                    path.display()
                );
                sink.emit(crate::result::failed(
                    plan,
                    repo,
                    step.name,
                    &finished,
                    &not_run,
                    &state,
                    "fix the state directory, then re-run: finished steps check their own state",
                ));
                return Exit::Blocking;
            }
        }
    }
    if execute {
        if let Some((path, p)) = &mut plan.progress {
            p.completed = true;
            p.completed_at = Some(jiff::Timestamp::now().to_string());
            if let Err(e) = crate::progress::save(path, p) {
                canary_core::diag(
                    TOOL,
                    "warning",
                    &format!("recording completion in {}: {e}", path.display()),
                );
            }
        }
    }
    sink.emit(crate::result::success(plan, repo, execute, &finished));
    Exit::Clean
}

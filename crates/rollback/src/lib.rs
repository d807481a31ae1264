//! `rollback`: runbook §4.3 rollback and §4.4 promotion of the GPT-Trader
//! canary, driven by judge's verdicts, as NDJSON step records.
//!
//! The run: settings (flags over a JSON config over defaults) → the trigger
//! (the verdict acted on, if not older than `--max-verdict-age`, or
//! `--force`) → with `--execute`, the lock → the plan (git tags by version
//! order, progress of an earlier run) → the steps (run with `--execute`) →
//! a closing `rollback.result` / `promote.result` record. Every
//! record also goes to the audit log.

#![forbid(unsafe_code)]

pub mod audit;
pub mod cli;
pub mod command;
pub mod config;
pub mod git;
pub mod lock;
pub mod plan;
pub mod progress;
pub mod promote;
pub mod result;
pub mod steps;
pub mod trigger;
pub mod version;

use audit::Sink;
use canary_core::ndjson::RecordWriter;
use canary_core::{Exit, Kind, Level, Record, diag};
use cli::Cli;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use trigger::{Decision, Intake};

pub const TOOL: &str = "rollback";

/// An error record that ends the run before any step (exit 2); also on stderr.
pub fn refusal(name: &str, msg: &str) -> Record {
    diag(TOOL, "error", msg);
    Record::new(TOOL, "rollback", Kind::Error, name, Level::Unknown).msg(msg)
}

/// What the trigger asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Nothing,
    StopOnly,
    Full,
    Promote,
}

/// The whole run; records go to `out` (and the audit log). Stdout write
/// errors never cut a run short; they are reported once at the end.
pub fn run<R: BufRead, W: Write>(cli: &Cli, stdin: R, out: &mut RecordWriter<W>) -> Exit {
    let run_id = format!(
        "{}-{}",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    );
    let mut sink = Sink::new(
        out,
        &run_id,
        if cli.execute { "execute" } else { "dry-run" },
    );
    if cli.promote {
        sink.prefix = "promote";
    }
    let exit = run_in(cli, stdin, &mut sink);
    if let Some(e) = sink.stdout_error.take() {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            diag(TOOL, "error", &format!("writing stdout: {e}"));
        }
    }
    exit
}

fn refuse<W: Write>(sink: &mut Sink<'_, W>, name: &str, msg: &str) -> Exit {
    sink.emit(refusal(name, msg));
    refused_result(sink, msg)
}

/// The `<prefix>.result` record of a run that ran nothing.
fn refused_result<W: Write>(sink: &mut Sink<'_, W>, msg: &str) -> Exit {
    let result = format!("{}.result", sink.prefix);
    sink.emit(
        Record::new(TOOL, "rollback", Kind::Step, &result, Level::Unknown)
            .value("refused")
            .extra("outcome", "refused")
            .msg(format!("nothing was run: {msg}")),
    );
    Exit::Unevaluable
}

fn run_in<R: BufRead, W: Write>(cli: &Cli, stdin: R, sink: &mut Sink<'_, W>) -> Exit {
    let file = match cli.config.as_deref().map(config::load_file).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => return refuse(sink, "rollback.config", &format!("config: {e}")),
    };
    let settings = match config::settings(cli, file) {
        Ok(s) => s,
        Err(e) => return refuse(sink, "rollback.config", &e),
    };
    if let Some(path) = &settings.audit_log {
        if let Err(e) = sink.open_audit(path) {
            let msg = format!("cannot open the audit log {}: {e}", path.display());
            if cli.execute {
                return refuse(sink, "rollback.config", &msg);
            }
            diag(TOOL, "warning", &msg);
        }
    }
    let repo = match git::Repo::open(&settings.repo) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!("--repo {}: {e}", settings.repo.display()),
            );
        }
    };
    let state_dir = settings
        .state_dir
        .clone()
        .unwrap_or_else(|| repo.git_dir.join("canary-kit"));
    if let Err(e) = std::fs::create_dir_all(&state_dir) {
        return refuse(
            sink,
            "rollback.config",
            &format!("state directory {}: {e}", state_dir.display()),
        );
    }
    if !sink.has_audit() && settings.audit_log.is_none() {
        let path = state_dir.join("audit.ndjson");
        if let Err(e) = sink.open_audit(&path) {
            let msg = format!("cannot open the audit log {}: {e}", path.display());
            if cli.execute {
                return refuse(sink, "rollback.config", &msg);
            }
            diag(TOOL, "warning", &msg);
        }
    }

    // The trigger.
    let (action, verdict) = match trigger(cli, &settings, stdin, sink) {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    if action == Action::Nothing {
        return Exit::Clean;
    }

    // The lock (--execute), before anything about the repository or an
    // earlier run is read: a plan made before another run took the lock
    // would be stale once that run is done. A dry run takes no lock; its
    // plan is a snapshot and says so.
    let _lock = if cli.execute {
        match take_lock(cli, &state_dir, sink) {
            Ok(l) => Some(l),
            Err(exit) => return exit,
        }
    } else {
        None
    };

    // The plan, then the steps.
    let plan = match action {
        Action::StopOnly => git::Repo::tags(&repo)
            .and_then(|t| repo.head(&t))
            .map(|head| plan::stop_only(&settings, head)),
        Action::Promote => match &verdict {
            Some(v) => promote::plan(&settings, &repo, &state_dir, v, sink.run_id()),
            None => Err("no verdict to promote on".into()),
        },
        _ => {
            let explicit = match (&cli.to, verdict.as_ref().and_then(|v| v.to_tag.as_deref())) {
                (Some(t), _) => Some((t.as_str(), "--to")),
                (None, Some(t)) => Some((t, "the verdict's to_tag")),
                (None, None) => None,
            };
            plan::rollback(&settings, &repo, &state_dir, explicit, sink.run_id())
        }
    };
    let mut plan = match plan {
        Ok(p) => p,
        Err(e) => return refuse(sink, "rollback.config", &e),
    };
    steps::go(&mut plan, &settings, &repo, cli.execute, sink)
}

/// Take the lock shared by rollback and promotion, or say why not (exit 2).
fn take_lock<W: Write>(
    cli: &Cli,
    state_dir: &std::path::Path,
    sink: &mut Sink<'_, W>,
) -> Result<lock::Lock, Exit> {
    let path = state_dir.join("rollback.lock");
    match lock::Lock::acquire(&path, sink.run_id(), cli.break_stale_lock) {
        Ok(l) => {
            if let Some(old) = &l.broke {
                sink.emit(
                    Record::new(TOOL, &path.display().to_string(), Kind::Error, "rollback.lock", Level::Warn)
                        .value("broken")
                        .extra("owner", old.clone())
                        .msg(format!("broke the stale lock {} of a run that is no longer running (--break-stale-lock)", path.display())),
                );
            }
            Ok(l)
        }
        Err(refusal) => {
            let msg = refusal.message(&path);
            let (value, owner) = match &refusal {
                lock::Refusal::Held { owner, .. } => ("held", owner.clone()),
                lock::Refusal::Stale { owner, .. } => ("stale", owner.clone()),
                lock::Refusal::Io(_) => ("error", Value::Null),
            };
            diag(TOOL, "error", &msg);
            sink.emit(
                Record::new(
                    TOOL,
                    &path.display().to_string(),
                    Kind::Error,
                    "rollback.lock",
                    Level::Crit,
                )
                .value(value)
                .extra("owner", owner)
                .msg(msg.clone()),
            );
            Err(refused_result(sink, &msg))
        }
    }
}

/// Read the input (unless forced), emit the trigger record, and say what to do.
fn trigger<R: BufRead, W: Write>(
    cli: &Cli,
    settings: &config::Settings,
    stdin: R,
    sink: &mut Sink<'_, W>,
) -> Result<(Action, Option<trigger::Verdict>), Exit> {
    let prefix = if cli.promote { "promote" } else { "rollback" };
    let name = format!("{prefix}.trigger");
    if cli.force {
        sink.emit(
            Record::new(TOOL, "force", Kind::Step, &name, Level::Warn)
                .value("force")
                .extra("forced", true)
                .extra("action", "rollback")
                .extra("verdict", Value::Null)
                .msg("forced (--force): rolling back without a verdict"),
        );
        return Ok((Action::Full, None));
    }
    let mut intake = Intake::default();
    let read = if cli.files.is_empty() {
        trigger::read(stdin, "stdin", &mut intake).map_err(|e| format!("reading stdin: {e}"))
    } else {
        cli.files.iter().try_for_each(|p| {
            let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            trigger::read(BufReader::new(f), &p.display().to_string(), &mut intake)
                .map_err(|e| format!("reading {}: {e}", p.display()))
        })
    };
    for rec in std::mem::take(&mut intake.problems) {
        sink.emit(rec);
    }
    if let Err(e) = read {
        return Err(refuse(sink, "rollback.config", &e));
    }
    let verdict = match trigger::pick(&intake.verdicts) {
        Ok(Some(v)) => v.clone(),
        Ok(None) => {
            let why = if intake.rejected > 0 {
                "every verdict in the input was rejected"
            } else {
                "no verdict in the input"
            };
            return Err(refuse(
                sink,
                "rollback.config",
                &format!(
                    "{why}: nothing decided (judge's verdict records are needed; --force rolls back without one)"
                ),
            ));
        }
        Err(e) => return Err(refuse(sink, "rollback.config", &e)),
    };
    // A stale verdict never triggers anything, whatever its decision: the
    // canary it judged may have been stopped, rolled back, promoted or
    // replaced since.
    let age_s = match trigger::freshness(&verdict, jiff::Timestamp::now(), settings.max_verdict_age)
    {
        Ok(age) => age,
        Err(why) => {
            let ts = verdict.record.ts.to_string();
            diag(
                TOOL,
                "error",
                &format!("{}: verdict of {ts}: {why}", verdict.source),
            );
            sink.emit(
                Record::new(
                    TOOL,
                    &verdict.source,
                    Kind::Error,
                    "rollback.rejected",
                    Level::Unknown,
                )
                .value(ts.clone())
                .extra("field", "ts")
                .extra("reason", why.clone())
                .extra("verdict_ts", ts.clone())
                .extra(
                    "age_s",
                    jiff::Timestamp::now()
                        .duration_since(verdict.record.ts)
                        .as_secs_f64(),
                )
                .extra("max_age_s", settings.max_verdict_age.as_secs_f64())
                .extra("verdict", verdict.summary())
                .msg(format!(
                    "verdict of {ts} rejected: field 'ts': {why}; it is not acted on"
                )),
            );
            let hint = if cli.promote {
                "promote only on a fresh verdict (judge the canary now)"
            } else {
                "act only on a fresh verdict (judge the canary now); to finish an interrupted \
                 rollback without one, decide it yourself with --force"
            };
            return Err(refuse(
                sink,
                "rollback.config",
                &format!(
                    "the {} verdict of {ts} is stale ({why}); {hint}",
                    verdict.decision.as_str()
                ),
            ));
        }
    };
    let d = verdict.decision;
    let (action, msg) = match (cli.promote, d) {
        (false, Decision::Rollback) => (
            Action::Full,
            "rollback verdict: the full §4.3 procedure".to_owned(),
        ),
        (false, Decision::Stop) if cli.full => (
            Action::Full,
            "stop verdict with --full: the full §4.3 procedure".to_owned(),
        ),
        (false, Decision::Stop) => (
            Action::StopOnly,
            "stop verdict: stopping the canary only (investigate; --full rolls back)".to_owned(),
        ),
        (false, Decision::Promote) => (
            Action::Nothing,
            "promote verdict: nothing to roll back (promotion is rollback --promote)".to_owned(),
        ),
        (false, other) => (
            Action::Nothing,
            format!("{} verdict: nothing to roll back", other.as_str()),
        ),
        (true, Decision::Promote) => (
            Action::Promote,
            "promote verdict: the §4.4 promotion".to_owned(),
        ),
        (true, Decision::Rollback | Decision::Stop) => (
            Action::Nothing,
            format!(
                "{} verdict: never promoted (run rollback without --promote to roll back)",
                d.as_str()
            ),
        ),
        (true, other) => (
            Action::Nothing,
            format!("{} verdict: nothing to promote", other.as_str()),
        ),
    };
    if action == Action::Promote {
        if intake.malformed > 0 || intake.rejected > 0 {
            return Err(refuse(
                sink,
                "rollback.config",
                "the input has malformed lines or rejected verdicts: not promoting on unreadable evidence",
            ));
        }
        if let Err(e) = trigger::promotable(&verdict) {
            return Err(refuse(
                sink,
                "rollback.config",
                &format!("not promoting: {e}"),
            ));
        }
    }
    let act = match action {
        Action::Nothing => "none",
        Action::StopOnly => "stop",
        Action::Full => "rollback",
        Action::Promote => "promote",
    };
    sink.emit(
        Record::new(TOOL, &verdict.source, Kind::Step, &name, Level::Ok)
            .value(d.as_str())
            .extra("forced", false)
            .extra("action", act)
            .extra("verdict", verdict.summary())
            .extra("verdict_age_s", age_s)
            .extra("max_verdict_age_s", settings.max_verdict_age.as_secs_f64())
            .msg(msg.clone()),
    );
    if action == Action::Nothing {
        sink.emit(
            Record::new(
                TOOL,
                &verdict.source,
                Kind::Step,
                &format!("{prefix}.result"),
                Level::Ok,
            )
            .value("nothing-to-do")
            .extra("outcome", "nothing-to-do")
            .extra("decision", json!(d.as_str()))
            .msg(format!("nothing to do: {msg}")),
        );
    }
    Ok((action, Some(verdict)))
}

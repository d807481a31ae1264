//! `rollback`: runbook §4.3 rollback and §4.4 promotion of the GPT-Trader
//! canary, driven by judge's verdicts, as NDJSON step records.
//!
//! The run: settings (flags over a JSON config over defaults) → the state
//! directory (checked safe) and the audit log → the trigger (judge's fresh
//! overall verdict, or `--force`) → with `--execute`, the lock → the journal
//! (an interrupted earlier run is settled first, or refused) → the plan (git
//! tags by version order, what the journal says is done) → the preflight →
//! the steps (journaled, run with `--execute`) → a closing `rollback.result`
//! / `promote.result` record. Every record also goes to the audit log.

#![forbid(unsafe_code)]

mod action;
mod audit;
pub mod cli;
mod command;
mod config;
mod error;
mod git;
mod journal;
mod lock;
mod plan;
mod preflight;
mod procedure;
mod production;
mod promote;
mod result;
mod resume;
mod safefs;
mod status;
mod step_rec;
mod steps;
mod tool;
mod trigger;
mod version;

use action::{Action, action_for};
use audit::Sink;
use canary_core::ndjson::RecordWriter;
use canary_core::step::{RunOutcome, RunResult, Trigger, TriggerAction};
use canary_core::{Exit, Kind, Level, Record, diag};
use cli::Cli;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
pub use tool::TOOL;
use tool::{refusal, see};
use trigger::Intake;

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
    if let Some(e) = sink.stdout_error.take()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        diag(TOOL, "error", &format!("writing stdout: {e}"));
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
            .value(RunOutcome::Refused.as_str())
            .with_payload(&RunResult::new(RunOutcome::Refused))
            .msg(format!("nothing was run: {msg}")),
    );
    Exit::Unevaluable
}

fn run_in<R: BufRead, W: Write>(cli: &Cli, stdin: R, sink: &mut Sink<'_, W>) -> Exit {
    let file = match cli.config.as_deref().map(config::load_file).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!("config: {e}{}", see("Configuration")),
            );
        }
    };
    let settings = match config::settings(cli, file) {
        Ok(s) => s,
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!("{e}{}", see("Configuration")),
            );
        }
    };
    let repo = match git::Repo::open(&settings.repo) {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!(
                    "--repo {}: {e}{}",
                    settings.repo.display(),
                    see("Configuration")
                ),
            );
        }
    };
    let state_path = settings
        .state_dir
        .clone()
        .unwrap_or_else(|| repo.git_dir.join("canary-kit"));
    let state_path = if state_path.is_relative() {
        std::env::current_dir().unwrap_or_default().join(state_path)
    } else {
        state_path
    };
    let state = match safefs::StateDir::open(&state_path) {
        Ok(s) => s,
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!(
                    "the state directory is not safe to use: {e} (it must be a real directory owned by the running user, \
                     not writable by group or others, with no symlink in its path: see docs/rollback.md, \"The state directory\")"
                ),
            );
        }
    };
    let audit = match &settings.audit_log {
        Some(path) => safefs::append_path(path),
        None => state.append("audit.ndjson"),
    };
    match audit {
        Ok(f) => sink.set_audit(f),
        Err(e) => {
            let msg = format!(
                "cannot open the audit log: {e}; with --execute nothing is run until it can be written: \
                 fix its path or free space, then re-run{}",
                see("Lock and audit log")
            );
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
        return if sink.audit_ok() {
            Exit::Clean
        } else {
            Exit::Blocking
        };
    }
    if !sink.audit_ok() {
        return refuse(
            sink,
            "rollback.config",
            &format!(
                "the audit log cannot be written: nothing was run; fix its path or free space, then re-run{}",
                see("Lock and audit log")
            ),
        );
    }

    // The lock (--execute), before anything about the repository or an
    // earlier run is read: a plan made before another run took the lock
    // would be stale once that run is done. A dry run takes no lock; its
    // plan is a snapshot and says so.
    let _lock = if cli.execute {
        match take_lock(&state, sink) {
            Ok(l) => Some(l),
            Err(exit) => return exit,
        }
    } else {
        None
    };

    // The journal: unreadable is a refusal, never "no progress"; an
    // interrupted step is settled (or refused) before anything is planned.
    let mut journal = match journal::Journal::load(&state) {
        Ok(j) => j,
        Err(e) => {
            return refuse(
                sink,
                "rollback.journal",
                &format!(
                    "{e}: without its history a re-run could repeat a step that already ran; nothing is run. \
                     Look at the file, repair or move it aside once you know where the procedure stands \
                     (see docs/rollback.md, \"Recovery after an interruption\")"
                ),
            );
        }
    };
    if let Some(i) = journal.interrupted()
        && let Err(exit) =
            settle_interruption(cli, &settings, &repo, &state, &mut journal, &i, sink)
    {
        return exit;
    }

    // The plan, then the preflight, then the steps.
    let plan = match action {
        Action::StopOnly => git::Repo::tags(&repo)
            .and_then(|t| repo.head(&t))
            .map(|head| plan::stop_only(&settings, head, sink.run_id()))
            .map_err(error::PlanError::from),
        Action::Promote => match &verdict {
            Some(v) => promote::plan(&settings, &repo, &state.path, &journal, v, sink.run_id()),
            None => Err(error::PlanError::NoVerdict),
        },
        _ => {
            let explicit = match (&cli.to, verdict.as_ref().and_then(|v| v.to_tag.as_deref())) {
                (Some(t), _) => Some((t.as_str(), "--to")),
                (None, Some(t)) => Some((t, "the verdict's to_tag")),
                (None, None) => None,
            };
            plan::rollback(&settings, &repo, &journal, explicit, sink.run_id())
        }
    };
    let mut plan = match plan {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                sink,
                "rollback.config",
                &format!("{e}; nothing was run{}", see("Which release")),
            );
        }
    };
    let findings = if plan.completed_before.is_some() {
        Vec::new()
    } else {
        let mut f = preflight::check(&plan, &settings, &repo, sink.has_audit());
        f.extend(preflight::production(&plan, &journal));
        f
    };
    for f in &findings {
        sink.emit(f.record());
    }
    let run_id = sink.run_id().to_owned();
    let ctx = steps::Ctx {
        settings: &settings,
        repo: &repo,
        state: &state,
        run_id: &run_id,
    };
    if !findings.is_empty() {
        let msg = format!(
            "the preflight found {} problem(s) before any step (see the rollback.preflight records); nothing was run: \
             fix each, then re-run{}",
            findings.len(),
            see("The preflight")
        );
        if cli.execute {
            return refuse(sink, "rollback.config", &msg);
        }
        // A dry run still shows the whole plan, then says it would refuse.
        let _ = steps::go(&mut plan, &ctx, &mut journal, false, sink);
        diag(TOOL, "error", &msg);
        return Exit::Unevaluable;
    }
    steps::go(&mut plan, &ctx, &mut journal, cli.execute, sink)
}

/// An earlier run was interrupted inside a step: refuse, or (with
/// `--resume` and `--execute`) check the step's effect and record what was
/// found, so the plan then skips it (present) or runs it again (absent).
fn settle_interruption<W: Write>(
    cli: &Cli,
    settings: &config::Settings,
    repo: &git::Repo,
    state: &safefs::StateDir,
    journal: &mut journal::Journal,
    i: &journal::Interrupted,
    sink: &mut Sink<'_, W>,
) -> Result<(), Exit> {
    let what = format!(
        "run {} was interrupted in step {} of {} {} (intent written at {}, no outcome recorded{})",
        i.run_id,
        i.step.name(),
        i.procedure.prefix(),
        i.proc_id,
        i.intent_ts,
        if i.pids.is_empty() {
            String::new()
        } else {
            format!("; it had started pids {:?}", i.pids)
        }
    );
    let rec = |value: &str, level: Level, msg: String| {
        Record::new(
            TOOL,
            &repo.dir.display().to_string(),
            Kind::Error,
            "rollback.interrupted",
            level,
        )
        .value(value)
        .extra("step", i.step.name())
        .extra("procedure", i.procedure.prefix())
        .extra("proc_id", i.proc_id.clone())
        .extra("interrupted_run", i.run_id.clone())
        .extra("intent_ts", i.intent_ts.clone())
        .extra("pids", i.pids.clone())
        .extra("check", i.step.interrupted_check())
        .msg(msg)
    };
    if !cli.execute
        && matches!(
            lock::Lock::acquire(state, sink.run_id()),
            Err(lock::Refusal::Held { .. })
        )
    {
        // A dry run takes no lock: an intent without its done may belong
        // to a run that is executing right now, not to an interrupted one.
        let msg = format!(
            "a rollback or promotion is running now (run {}, in step {} since {}): this dry run plans nothing; \
             run it again when that run has ended",
            i.run_id,
            i.step.name(),
            i.intent_ts
        );
        sink.emit(rec("in-progress", Level::Warn, msg.clone()));
        return Err(refused_result(sink, &msg));
    }
    if !cli.resume || !cli.execute {
        let msg = format!(
            "{what}: it is not repeated blind. Check: {}. Then re-run with --execute --resume: it checks whether the step's \
             effect is there before going on (see docs/rollback.md, \"Recovery after an interruption\")",
            i.step.interrupted_check()
        );
        sink.emit(rec("interrupted", Level::Crit, msg.clone()));
        return Err(refused_result(sink, &msg));
    }
    let finding = resume::check(i, journal, settings, repo);
    match resume::settle(i, finding, cli.resolve, sink.run_id()) {
        Ok((entry, how)) => {
            if let Err(e) = journal.append(state, entry) {
                let msg = format!(
                    "{what}: found {how}, but the journal cannot be written: {e}; nothing was run"
                );
                sink.emit(rec("unsettled", Level::Crit, msg.clone()));
                return Err(refused_result(sink, &msg));
            }
            sink.emit(
                rec("settled", Level::Warn, format!("{what}: {how}")).extra(
                    "finding",
                    how.split(' ')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches(':')
                        .to_owned(),
                ),
            );
            Ok(())
        }
        Err(busy @ error::Unsettled::Busy(_)) => {
            let msg = format!("{what}: {busy}");
            sink.emit(rec("unsettled", Level::Crit, msg.clone()).extra("finding", busy.finding()));
            Err(refused_result(sink, &msg))
        }
        Err(why @ error::Unsettled::CannotTell(_)) => {
            let msg = format!(
                "{what}: --resume cannot prove the step's effect present or absent: {why}. Check: {}. \
                 If you have checked, say what you found: --resume --resolve done (its effect is in place) or \
                 --resume --resolve absent (run it again) (see docs/rollback.md, \"Recovery after an interruption\")",
                i.step.interrupted_check()
            );
            sink.emit(rec("unsettled", Level::Crit, msg.clone()).extra("finding", why.finding()));
            Err(refused_result(sink, &msg))
        }
    }
}

/// Take the lock shared by rollback and promotion, or say why not (exit 2).
fn take_lock<W: Write>(
    state: &safefs::StateDir,
    sink: &mut Sink<'_, W>,
) -> Result<lock::Lock, Exit> {
    let path = state.join(lock::FILE);
    match lock::Lock::acquire(state, sink.run_id()) {
        Ok(l) => {
            if let Some(e) = &l.owner_not_written {
                diag(
                    TOOL,
                    "warning",
                    &format!(
                        "lock {}: taken, but its owner could not be written ({e}); it is released when this run ends",
                        path.display()
                    ),
                );
            }
            Ok(l)
        }
        Err(refusal) => {
            let msg = refusal.message(state);
            let (value, owner) = match &refusal {
                lock::Refusal::Held { owner } => ("held", owner.clone()),
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
                .with_payload(&Trigger {
                    forced: true,
                    action: TriggerAction::Rollback,
                    verdict: None,
                    verdict_age_s: None,
                    max_verdict_age_s: None,
                })
                .msg("forced (--force): rolling back without a verdict"),
        );
        return Ok((Action::Full, None));
    }
    let mut intake = Intake::default();
    let read = if cli.files.is_empty() {
        canary_core::ndjson::hint_if_terminal(TOOL);
        trigger::read(stdin, "stdin", &mut intake).map_err(error::InputError::Stdin)
    } else {
        cli.files.iter().try_for_each(|p| {
            let f = std::fs::File::open(p).map_err(|e| error::InputError::Open(p.clone(), e))?;
            trigger::read(BufReader::new(f), &p.display().to_string(), &mut intake)
                .map_err(|e| error::InputError::Read(p.clone(), e))
        })
    };
    for rec in std::mem::take(&mut intake.problems) {
        sink.emit(rec);
    }
    if let Err(e) = read {
        return Err(refuse(sink, "rollback.config", &e.to_string()));
    }
    let verdict = match trigger::pick(&intake.verdicts) {
        Some(v) => v.clone(),
        None => {
            let why = if intake.rejected > 0 {
                "every verdict in the input was rejected"
            } else {
                "no verdict in the input"
            };
            return Err(refuse(
                sink,
                "rollback.config",
                &format!(
                    "{why}: nothing decided and nothing was run (judge's overall verdict records are needed; --force rolls back without one){}",
                    see("The trigger")
                ),
            ));
        }
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
                .extra("reason", why.to_string())
                .extra("verdict_ts", ts.clone())
                .extra(
                    "age_s",
                    jiff::Timestamp::now()
                        .duration_since(verdict.record.ts)
                        .as_secs_f64(),
                )
                .extra("max_age_s", settings.max_verdict_age.as_secs_f64())
                .extra(
                    "verdict",
                    serde_json::to_value(verdict.summary()).unwrap_or(Value::Null),
                )
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
                    "the {} verdict of {ts} is stale ({why}); nothing was run; {hint}{}",
                    verdict.decision.as_str(),
                    see("The trigger")
                ),
            ));
        }
    };
    let d = verdict.decision;
    let (action, msg) = action_for(cli.promote, cli.full, d);
    // Nothing to do on the last verdict that read, but something after it
    // did not read: it may have been the rollback. Not "nothing to do".
    if action == Action::Nothing && intake.unread_after > 0 {
        return Err(refuse(
            sink,
            "rollback.config",
            &format!(
                "{} line(s) after the {} verdict of {} could not be read as judge's verdict: \
                 a newer verdict may be among them; nothing decided and nothing was run{}",
                intake.unread_after,
                verdict.decision.as_str(),
                verdict.record.ts,
                see("The trigger")
            ),
        ));
    }
    if action == Action::Promote {
        if intake.malformed > 0 || intake.rejected > 0 {
            return Err(refuse(
                sink,
                "rollback.config",
                &format!(
                    "the input has malformed lines or rejected verdicts: not promoting on unreadable evidence; nothing was run{}",
                    see("Promotion")
                ),
            ));
        }
        if let Err(e) = trigger::promotable(&verdict) {
            return Err(refuse(
                sink,
                "rollback.config",
                &format!("not promoting: {e}; nothing was run{}", see("Promotion")),
            ));
        }
    }
    let act = match action {
        Action::Nothing => TriggerAction::None,
        Action::StopOnly => TriggerAction::Stop,
        Action::Full => TriggerAction::Rollback,
        Action::Promote => TriggerAction::Promote,
    };
    sink.emit(
        Record::new(TOOL, &verdict.source, Kind::Step, &name, Level::Ok)
            .value(d.as_str())
            .with_payload(&Trigger {
                forced: false,
                action: act,
                verdict: Some(verdict.summary()),
                verdict_age_s: Some(age_s),
                max_verdict_age_s: Some(settings.max_verdict_age.as_secs_f64()),
            })
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
            .value(RunOutcome::NothingToDo.as_str())
            .with_payload(&RunResult {
                decision: Some(d),
                ..RunResult::new(RunOutcome::NothingToDo)
            })
            .msg(format!("nothing to do: {msg}")),
        );
    }
    Ok((action, Some(verdict)))
}

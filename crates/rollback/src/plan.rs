//! The rollback plan (runbook §4.3): which steps, with which commands, and
//! which of them an earlier run of the same procedure already finished (per
//! the journal).

use crate::config::{Cmd, Settings};
use crate::error::PlanError;
use crate::git::{self, Head, Repo, Tag};
use crate::journal::{Current, Journal};
use crate::procedure::{Procedure, Step as Kind};
use crate::version::validate_tag;
use canary_core::Level;
use std::path::{Path, PathBuf};

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Stop the canary, checking the status command before and after.
    Stop { stop: Cmd, status: Option<Cmd> },
    /// Run a command to completion.
    Run(Cmd),
    /// Check out a release tag and verify HEAD lands on its commit.
    Checkout(Tag),
    /// Start a long-running command detached, its output to `log`;
    /// `feed` is piped into it (the watch into its gate).
    Start {
        cmd: Cmd,
        /// A file name in the state directory.
        log: String,
        feed: Option<Cmd>,
    },
    /// Write the canary report (promotion): a file name in
    /// `STATE_DIR/reports`, and its whole path (for the record).
    Report { name: String, path: PathBuf },
    /// Show the diff from the prod profile to the canary profile (promotion).
    Diff { prod: PathBuf, canary: PathBuf },
}

impl Action {
    /// The command line shown in the step record.
    pub fn argv(&self) -> Option<Vec<String>> {
        match self {
            Action::Stop { stop, .. } => Some(stop.argv.clone()),
            Action::Run(c) => Some(c.argv.clone()),
            Action::Checkout(t) => Some(Repo::checkout_argv(&t.name)),
            Action::Start { cmd, .. } => Some(cmd.argv.clone()),
            Action::Diff { prod, canary } => Some(diff_argv(prod, canary)),
            Action::Report { .. } => None,
        }
    }
}

pub fn diff_argv(prod: &Path, canary: &Path) -> Vec<String> {
    vec![
        "diff".into(),
        "-u".into(),
        "--".into(),
        prod.display().to_string(),
        canary.display().to_string(),
    ]
}

/// A step of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    pub kind: Kind,
    pub action: Action,
    /// Not run, and why (already done, or skipped on request).
    pub skip: Option<String>,
    pub skip_level: Level,
    /// Cannot run as configured (close positions without a hook): shown in
    /// the plan, and a preflight finding that refuses `--execute`.
    pub blocked: Option<String>,
}

impl Step {
    pub fn new(kind: Kind, action: Action) -> Step {
        Step {
            kind,
            action,
            skip: None,
            skip_level: Level::Ok,
            blocked: None,
        }
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn skip_if(mut self, reason: Option<String>) -> Step {
        self.skip = reason;
        self
    }
}

/// A whole procedure, ready to print or run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub procedure: Procedure,
    /// `rollback` or `promote`: the record-name prefix.
    pub prefix: &'static str,
    /// A `stop` verdict's stop alone.
    pub stop_only: bool,
    pub steps: Vec<Step>,
    pub head: Head,
    pub target: Option<Tag>,
    /// How the target was chosen.
    pub target_source: &'static str,
    /// The procedure's id: the run that began it (this run, or the earlier
    /// run it resumes).
    pub proc_id: String,
    /// The earlier run's procedure this run resumes, if any.
    pub resumed: Option<Current>,
    /// An earlier run already finished the whole procedure.
    pub completed_before: Option<String>,
    /// Promotion: the verdict acted on, whole and as read, for the canary
    /// report.
    pub verdict: Option<Box<(canary_core::Record, canary_core::verdict::Verdict)>>,
    /// Promotion: the verdict's ts, recorded in the journal.
    pub verdict_ts: Option<String>,
}

/// The stop step alone (a `stop` verdict without --full).
pub fn stop_only(settings: &Settings, head: Head, run_id: &str) -> Plan {
    Plan {
        procedure: Procedure::Rollback,
        prefix: "rollback",
        stop_only: true,
        steps: vec![stop_step(settings)],
        head,
        target: None,
        target_source: "none",
        proc_id: run_id.to_owned(),
        resumed: None,
        completed_before: None,
        verdict: None,
        verdict_ts: None,
    }
}

pub fn stop_step(settings: &Settings) -> Step {
    Step::new(
        Kind::Stop,
        Action::Stop {
            stop: settings.stop.clone(),
            status: settings.status.clone(),
        },
    )
}

/// The full §4.3 plan. `explicit` is `--to`, else a verdict's `to_tag`.
pub fn rollback(
    settings: &Settings,
    repo: &Repo,
    journal: &Journal,
    explicit: Option<(&str, &'static str)>,
    run_id: &str,
) -> Result<Plan, PlanError> {
    if let Some((name, from)) = explicit {
        let v = validate_tag(name).map_err(|source| PlanError::BadTarget {
            from,
            name: crate::version::shown(name),
            source,
        })?;
        if !v.is_release() {
            return Err(PlanError::PreRelease {
                from,
                name: name.to_owned(),
            });
        }
    }
    let tags = repo.tags()?;
    let head = repo.head(&tags)?;
    // An earlier run of this same rollback: HEAD is at its target, or still
    // at its starting point while it was unfinished.
    let resume = journal.current(Procedure::Rollback).filter(|p| {
        let same_target = explicit.is_none_or(|(t, _)| p.to_tag.as_deref() == Some(t));
        let at_to = p.to_commit.as_deref() == Some(head.commit.as_str());
        let at_from = !p.completed && p.from_commit == head.commit;
        same_target && p.to_tag.is_some() && (at_to || at_from)
    });
    let (target, source) = match (&resume, explicit) {
        (Some(p), _) => {
            let name = p.to_tag.as_deref().unwrap_or_default();
            let tag = git::find(&tags, name)
                .filter(|t| Some(t.commit.as_str()) == p.to_commit.as_deref())
                .ok_or_else(|| PlanError::ResumedTagGone {
                    name: name.to_owned(),
                    proc_id: p.proc_id.clone(),
                })?;
            (tag.clone(), "resumed")
        }
        (None, Some((name, from))) => {
            let tag = git::find(&tags, name).ok_or_else(|| PlanError::NoSuchTag {
                from,
                name: name.to_owned(),
                repo: repo.dir.clone(),
            })?;
            (tag.clone(), from)
        }
        (None, None) => (
            git::previous_release(&tags, &head)?.clone(),
            "previous release by version order",
        ),
    };
    let done_by = |step: Kind| {
        resume
            .as_ref()
            .filter(|p| p.has(step))
            .map(|p| format!("already done in rollback {}", p.proc_id))
    };
    let close = match (&settings.close_positions, done_by(Kind::ClosePositions)) {
        (_, Some(reason)) => Step::new(Kind::ClosePositions, Action::Run(placeholder())).skip_if(Some(reason)),
        (_, None) if settings.skip_close_positions => Step {
            skip: Some(
                "skipped on request (--skip-close-positions): close any open positions by hand in the broker UI; \
                 the bot has no command for flatten_and_stop (see docs/rollback.md)"
                    .into(),
            ),
            skip_level: Level::Warn,
            ..Step::new(Kind::ClosePositions, Action::Run(placeholder()))
        },
        (Some(cmd), None) => Step::new(Kind::ClosePositions, Action::Run(cmd.clone())),
        (None, None) => Step {
            blocked: Some(
                "closing positions is not configured: the bot has no command-line entry point for \
                 flatten_and_stop and the TUI panic key is gone (see docs/rollback.md); pass \
                 --close-positions-cmd CMD (your own hook), or --skip-close-positions to close them \
                 by hand in the broker UI"
                    .into(),
            ),
            ..Step::new(Kind::ClosePositions, Action::Run(placeholder()))
        },
    };
    let at_target = (head.commit == target.commit)
        .then(|| format!("the repository is already at {}", target.name));
    let steps = vec![
        stop_step(settings).skip_if(done_by(Kind::Stop)),
        close,
        Step::new(Kind::Checkout, Action::Checkout(target.clone())).skip_if(at_target),
        Step::new(Kind::Sync, Action::Run(settings.sync.clone())).skip_if(done_by(Kind::Sync)),
        Step::new(
            Kind::Restart,
            Action::Start {
                cmd: settings.restart.clone(),
                log: "restart.log".into(),
                feed: None,
            },
        )
        .skip_if(done_by(Kind::Restart)),
    ];
    let completed_before = resume
        .as_ref()
        .filter(|p| p.completed)
        .map(|p| p.proc_id.clone());
    Ok(Plan {
        procedure: Procedure::Rollback,
        prefix: "rollback",
        stop_only: false,
        steps,
        head,
        target: Some(target),
        target_source: source,
        proc_id: resume
            .as_ref()
            .map_or_else(|| run_id.to_owned(), |p| p.proc_id.clone()),
        resumed: resume,
        completed_before,
        verdict: None,
        verdict_ts: None,
    })
}

/// The command of a step that will not run (skipped): nothing to show.
fn placeholder() -> Cmd {
    Cmd {
        argv: Vec::new(),
        source: "none".into(),
    }
}

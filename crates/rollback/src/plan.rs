//! The rollback plan (runbook §4.3): which steps, with which commands, and
//! which of them an earlier run already finished.

use crate::config::{Cmd, Settings};
use crate::git::{self, Head, Repo, Tag};
use crate::progress::{self, Progress};
use crate::version::validate_tag;
use canary_core::Level;
use std::path::{Path, PathBuf};

/// Every step name, rollback's then promotion's (for per-step timeouts).
pub const STEP_NAMES: &[&str] = &[
    "stop",
    "close_positions",
    "checkout",
    "sync",
    "restart",
    "report",
    "profile_diff",
    "deploy",
    "watch",
];

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
        log: PathBuf,
        feed: Option<Cmd>,
    },
    /// Write the canary report (promotion).
    Report(PathBuf),
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
            Action::Report(_) => None,
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
    pub name: &'static str,
    pub action: Action,
    /// Not run, and why (already done, or skipped on request).
    pub skip: Option<String>,
    pub skip_level: Level,
}

impl Step {
    pub fn new(name: &'static str, action: Action) -> Step {
        Step {
            name,
            action,
            skip: None,
            skip_level: Level::Ok,
        }
    }

    pub fn skip_if(mut self, reason: Option<String>) -> Step {
        self.skip = reason;
        self
    }
}

/// A whole procedure, ready to print or run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `rollback` or `promote`: the record-name prefix and progress file.
    pub prefix: &'static str,
    pub steps: Vec<Step>,
    pub head: Head,
    pub target: Option<Tag>,
    /// How the target was chosen.
    pub target_source: &'static str,
    /// Progress to keep while executing (`None` for the stop-only plan).
    pub progress: Option<(PathBuf, Progress)>,
    /// An earlier run already finished the whole procedure.
    pub completed_before: Option<String>,
    /// Promotion: the verdict acted on, whole, for the canary report.
    pub verdict: Option<serde_json::Value>,
}

/// The stop step alone (a `stop` verdict without --full).
pub fn stop_only(settings: &Settings, head: Head) -> Plan {
    Plan {
        prefix: "rollback",
        steps: vec![stop_step(settings)],
        head,
        target: None,
        target_source: "none",
        progress: None,
        completed_before: None,
        verdict: None,
    }
}

pub fn stop_step(settings: &Settings) -> Step {
    Step::new(
        "stop",
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
    state_dir: &Path,
    explicit: Option<(&str, &'static str)>,
    run_id: &str,
) -> Result<Plan, String> {
    if let Some((name, from)) = explicit {
        validate_tag(name).map_err(|e| format!("{from} '{}': {e}", crate::version::shown(name)))?;
    }
    let tags = repo.tags()?;
    let head = repo.head(&tags)?;
    let ppath = progress::path(state_dir, "rollback");
    // An earlier run of this same rollback: HEAD is at its target, or still
    // at its starting point while it was unfinished.
    let resume = progress::load(&ppath).filter(|p| {
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
                .ok_or_else(|| {
                    format!("tag {name} of the unfinished rollback {} is gone or moved; check the repository, then name the target with --to TAG", p.run_id)
                })?;
            (tag.clone(), "resumed")
        }
        (None, Some((name, from))) => {
            let tag = git::find(&tags, name).ok_or_else(|| {
                format!(
                    "{from} {name}: no such release tag in {}",
                    repo.dir.display()
                )
            })?;
            (tag.clone(), from)
        }
        (None, None) => (
            git::previous_release(&tags, &head)?.clone(),
            "previous release by version order",
        ),
    };
    let progress = resume.clone().unwrap_or_else(|| Progress {
        run_id: run_id.to_owned(),
        from_tag: head.release.as_ref().map(|t| t.name.clone()),
        from_commit: head.commit.clone(),
        to_tag: Some(target.name.clone()),
        to_commit: Some(target.commit.clone()),
        ..Progress::default()
    });
    let done_by = |step: &str| {
        resume
            .as_ref()
            .filter(|p| p.has(step))
            .map(|p| format!("already done by run {}", p.run_id))
    };
    let close = match (&settings.close_positions, done_by("close_positions")) {
        (_, Some(reason)) => Step::new("close_positions", Action::Run(placeholder())).skip_if(Some(reason)),
        (_, None) if settings.skip_close_positions => Step {
            skip: Some(
                "skipped on request (--skip-close-positions): close any open positions by hand in the broker UI; \
                 the bot has no command for flatten_and_stop (contracts §7.6)"
                    .into(),
            ),
            skip_level: Level::Warn,
            ..Step::new("close_positions", Action::Run(placeholder()))
        },
        (Some(cmd), None) => Step::new("close_positions", Action::Run(cmd.clone())),
        (None, None) => {
            return Err(
                "closing positions is not configured: the bot has no command-line entry point for \
                 flatten_and_stop (contracts §7.6) and the TUI panic key is gone; pass \
                 --close-positions-cmd CMD (your own hook), or --skip-close-positions to close them \
                 by hand in the broker UI"
                    .into(),
            );
        }
    };
    let at_target = (head.commit == target.commit)
        .then(|| format!("the repository is already at {}", target.name));
    let log = state_dir.join("restart.log");
    let steps = vec![
        stop_step(settings),
        close,
        Step::new("checkout", Action::Checkout(target.clone())).skip_if(at_target),
        Step::new("sync", Action::Run(settings.sync.clone())).skip_if(done_by("sync")),
        Step::new(
            "restart",
            Action::Start {
                cmd: settings.restart.clone(),
                log,
                feed: None,
            },
        )
        .skip_if(done_by("restart")),
    ];
    let completed_before = resume
        .as_ref()
        .filter(|p| p.completed)
        .map(|p| p.run_id.clone());
    Ok(Plan {
        prefix: "rollback",
        steps,
        head,
        target: Some(target),
        target_source: source,
        progress: Some((ppath, progress)),
        completed_before,
        verdict: None,
    })
}

/// The command of a step that will not run (skipped): nothing to show.
fn placeholder() -> Cmd {
    Cmd {
        argv: Vec::new(),
        source: "none".into(),
    }
}

//! The preflight: what is checked before the first destructive step, in a
//! dry run and with `--execute` alike, so that a problem is found before the
//! canary is stopped and its positions closed, not at the checkout after.
//!
//! The state directory (safe) and the target (a release tag that exists)
//! are checked earlier, when they are opened and planned; here: the tree is
//! clean, every command resolves, the stop can be verified, closing
//! positions is configured, the audit log is open.

use crate::config::Settings;
use crate::git::Repo;
use crate::plan::{Action, Plan};
use crate::procedure::Step as Kind;
use canary_core::{Kind as RecKind, Level, Record};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One problem found.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: &'static str,
    pub msg: String,
}

impl Finding {
    pub fn record(&self) -> Record {
        canary_core::diag(
            crate::tool::TOOL,
            "error",
            &format!("preflight: {}", self.msg),
        );
        Record::new(
            crate::tool::TOOL,
            self.check,
            RecKind::Error,
            "rollback.preflight",
            Level::Crit,
        )
        .value(self.check)
        .extra("check", self.check)
        .msg(format!("preflight: {}", self.msg))
    }
}

/// Does `prog` resolve to an executable file (relative to `cwd` when it has
/// a slash, else on PATH)?
fn resolves(prog: &str, cwd: &Path) -> bool {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if prog.contains('/') {
        return executable(&cwd.join(prog));
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| d.is_absolute() && executable(&d.join(prog)))
    })
}

pub fn check(plan: &Plan, settings: &Settings, repo: &Repo, audit_open: bool) -> Vec<Finding> {
    let mut found = Vec::new();
    let runs = |k: Kind| plan.steps.iter().any(|s| s.kind == k && s.skip.is_none());
    if !audit_open {
        found.push(Finding {
            check: "audit",
            msg: "the audit log cannot be opened: with --execute nothing would run".into(),
        });
    }
    for step in &plan.steps {
        if let Some(why) = &step.blocked {
            found.push(Finding {
                check: "close_positions",
                msg: why.clone(),
            });
        }
        if step.skip.is_some() || step.blocked.is_some() {
            continue;
        }
        let mut progs: Vec<&str> = Vec::new();
        match &step.action {
            Action::Stop { stop, status } => {
                progs.push(&stop.argv[0]);
                match status {
                    Some(s) => progs.push(&s.argv[0]),
                    None => found.push(Finding {
                        check: "status",
                        msg: "no status command: the stop could not be verified, and an unverified stop \
                              is never reported as stopped; give --status-cmd (exit 0 running, 1 stopped)"
                            .into(),
                    }),
                }
            }
            Action::Run(c) => progs.extend(c.argv.first().map(String::as_str)),
            Action::Start { cmd, feed, .. } => {
                progs.extend(cmd.argv.first().map(String::as_str));
                if let Some(f) = feed {
                    progs.extend(f.argv.first().map(String::as_str));
                }
            }
            Action::Checkout(_) => progs.push("git"),
            Action::Diff { .. } => progs.push("diff"),
            Action::Report { .. } => {}
        }
        for p in progs {
            if !resolves(p, &repo.dir) {
                found.push(Finding {
                    check: "command",
                    msg: format!(
                        "step {}: the command {p} is not found or not executable (PATH, or relative to {})",
                        step.name(),
                        repo.dir.display()
                    ),
                });
            }
        }
    }
    if runs(Kind::Checkout) {
        if repo.index_locked() {
            found.push(Finding {
                check: "tree",
                msg: format!(
                    "{} exists (a git command is running or was killed): the checkout would fail after the canary was stopped",
                    repo.git_dir.join("index.lock").display()
                ),
            });
        }
        match repo.changes() {
            Ok(c) if c.is_empty() => {}
            Ok(c) => found.push(Finding {
                check: "tree",
                msg: format!(
                    "the tree has local changes to tracked files ({}): they would block the checkout, or be carried \
                     silently into the release checked out; commit, stash or discard them first",
                    c.lines().take(5).collect::<Vec<_>>().join("; ")
                ),
            }),
            Err(e) => found.push(Finding {
                check: "tree",
                msg: format!("cannot tell whether the tree is clean: {e}"),
            }),
        }
    }
    let _ = settings;
    found
}

/// A step that starts production (restart, deploy) will run while a
/// production process an earlier procedure started is alive: two bots.
pub fn production(plan: &Plan, journal: &crate::journal::Journal) -> Option<Finding> {
    let step = plan
        .steps
        .iter()
        .find(|s| matches!(s.kind, Kind::Restart | Kind::Deploy) && s.skip.is_none())?;
    crate::production::refusal(step.kind, crate::production::running(journal)).map(|msg| Finding {
        check: "production",
        msg,
    })
}

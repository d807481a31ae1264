//! After an interruption: an intent in the journal without its done. The
//! step is never repeated blind. Without `--resume` the run refuses and says
//! what to check; with it, a check must prove the step's effect present (the
//! step is recorded done and not run again) or absent (it runs again); when
//! no check can tell, the operator's `--resolve done|absent` decides.

use crate::cli::Resolve;
use crate::command::Track;
use crate::config::Settings;
use crate::error::Unsettled;
use crate::git::Repo;
use crate::journal::{Entry, Interrupted, Journal, Outcome};
use crate::procedure::ResumeCheck;
use crate::status::{self, Status};

/// What the check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The effect is in place (with the processes that prove it, if any).
    Present(String, Vec<u32>),
    /// The effect is not there: the step may run again.
    Absent(String),
    /// Nothing proves either.
    CannotTell(String),
    /// A command of the interrupted step is still running: nothing may run
    /// it again, not even on the operator's word.
    Busy(String),
}

/// Check an interrupted step's effect.
pub fn check(i: &Interrupted, journal: &Journal, settings: &Settings, repo: &Repo) -> Finding {
    let kind = i.step.resume_check();
    // Processes of the interrupted step still running: for a step that
    // starts something they are its effect; for any other, running the step
    // again now would run it twice at once.
    let marker = status::marker(&i.proc_id, i.step.name());
    // Looked for three times, 100ms apart, together with the pids the
    // journal recorded: a process caught in the middle of an exec shows no
    // environment for an instant, and must not read as gone.
    let mut alive: Vec<u32> = Vec::new();
    let mut unreadable: Vec<u32> = Vec::new();
    for round in 0..3 {
        if round > 0 {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        match status::marked(&marker) {
            Ok(p) => alive.extend(p),
            Err(e) => return Finding::CannotTell(format!("cannot look for its processes: {e}")),
        }
        for p in &i.pids {
            match status::seen(*p, &marker) {
                status::Seen::Ours => alive.push(*p),
                status::Seen::Unreadable => unreadable.push(*p),
                status::Seen::NotOurs => {}
            }
        }
    }
    alive.sort_unstable();
    alive.dedup();
    unreadable.sort_unstable();
    unreadable.dedup();
    unreadable.retain(|p| !alive.contains(p));
    if !alive.is_empty() {
        return match kind {
            ResumeCheck::Processes => Finding::Present(
                format!("the process(es) it started are running (pids {alive:?})"),
                alive,
            ),
            ResumeCheck::CanaryStatus
            | ResumeCheck::Head
            | ResumeCheck::Repeatable
            | ResumeCheck::Operator => Finding::Busy(format!(
                "its command from the interrupted run is still running (pids {alive:?}): wait for it to end, or kill its process group (`kill -KILL -- -PGID`), then re-run with --resume"
            )),
        };
    }
    if !unreadable.is_empty() && kind != ResumeCheck::Processes {
        return Finding::Busy(format!(
            "pids {unreadable:?} it started are alive but cannot be read (reused by another process, or still starting): \
             check them with `ps -o pid,pgid,user,args -p PID`; wait for them to end, or kill them, then re-run with --resume"
        ));
    }
    match kind {
        ResumeCheck::Processes => {
        // A step that starts something (restart, deploy, watch): finding none of
        // its processes does not prove it started nothing. A process between
        // fork and exec does not carry the marker yet, a daemon may drop its
        // environment or double-fork into one that does not, a process manager
        // (`systemctl start`) runs the bot outside our tree, and a recorded pid
        // may belong to someone else by now. Starting it again on such a guess
        // is how two production bots run, so the operator looks and decides.
            let pids = if i.pids.is_empty() {
                "no pid was recorded: it was interrupted before or right after its spawn".to_owned()
            } else if unreadable.is_empty() {
                format!("the pids it recorded ({:?}) are gone", i.pids)
            } else {
                format!(
                    "the pids it recorded ({:?}) include {unreadable:?}, alive but unreadable (reused, or still starting)",
                    i.pids
                )
            };
            Finding::CannotTell(format!(
                "no running process carries {}={marker}, and {pids}; that does not prove it started nothing \
                 (a process manager, a daemon or a process still starting leaves no such trace), so it is not started again blind",
                crate::command::MARKER
            ))
        }
        ResumeCheck::Repeatable => {
            Finding::Absent("repeating it is harmless, and none of its processes is left".into())
        }
        ResumeCheck::Operator => Finding::CannotTell(
            "nothing on this host can tell whether its effect is in place (the broker holds the positions)".into(),
        ),
        ResumeCheck::CanaryStatus => {
            match crate::steps::canary_status(settings, repo, &mut Track::default()) {
                Status::Stopped(d) => Finding::Present(format!("the canary is stopped ({d})"), vec![]),
                Status::Running(d) => Finding::Absent(format!(
                    "the canary is still running ({d}): stopping it again is safe"
                )),
                Status::CannotTell(d) => Finding::CannotTell(d),
            }
        }
        ResumeCheck::Head => {
            if repo.index_locked() {
                return Finding::CannotTell(format!(
                    "{} exists: a git command was killed half-way; look at the tree, then remove the lock",
                    repo.git_dir.join("index.lock").display()
                ));
            }
            match repo.changes() {
                Ok(c) if !c.is_empty() => {
                    return Finding::CannotTell(format!(
                        "the tree has local changes (`git status`: {}): a checkout may have stopped half-way",
                        c.lines().take(5).collect::<Vec<_>>().join("; ")
                    ));
                }
                Ok(_) => {}
                Err(e) => return Finding::CannotTell(e.to_string()),
            }
            let from = journal
                .entries()
                .iter()
                .find_map(|e| match e {
                    Entry::Begin {
                        proc_id,
                        from_commit,
                        ..
                    } if *proc_id == i.proc_id => Some(from_commit.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            match repo.head_commit() {
                Ok(h) if h == i.commit => Finding::Present(
                    format!("HEAD is at the target {} and the tree is clean", crate::git::short(&h)),
                    vec![],
                ),
                Ok(h) if h == from => Finding::Absent(format!(
                    "HEAD is still at the starting commit {} and the tree is clean",
                    crate::git::short(&h)
                )),
                Ok(h) => Finding::CannotTell(format!(
                    "HEAD is at {}, neither the start nor the target",
                    crate::git::short(&h)
                )),
                Err(e) => Finding::CannotTell(e.to_string()),
            }
        }
    }
}

/// Settle the interruption: the finding (or the operator's, when nothing
/// can tell) written to the journal as the step's done. `Err` when it stays
/// unsettled.
pub fn settle(
    i: &Interrupted,
    finding: Finding,
    resolve: Option<Resolve>,
    run_id: &str,
) -> Result<(Entry, String), Unsettled> {
    let entry = |outcome, pids: Vec<u32>, by_operator, detail: String| Entry::Done {
        proc_id: i.proc_id.clone(),
        run_id: run_id.to_owned(),
        step: i.step.name().to_owned(),
        outcome,
        pids,
        unit_state: None,
        by_operator,
        detail,
        ts: crate::journal::now(),
    };
    match (finding, resolve) {
        (Finding::Present(d, pids), _) => Ok((
            entry(Outcome::Present, pids, false, d.clone()),
            format!("present: {d}; it is not run again"),
        )),
        (Finding::Absent(d), _) => Ok((
            entry(Outcome::Absent, vec![], false, d.clone()),
            format!("absent: {d}; it runs again"),
        )),
        (Finding::Busy(d), _) => Err(Unsettled::Busy(d)),
        (Finding::CannotTell(d), Some(Resolve::Done)) => Ok((
            entry(
                Outcome::Present,
                vec![],
                true,
                format!("the operator found it done (--resolve done); the check: {d}"),
            ),
            format!(
                "present by the operator's finding (--resolve done); the check could not tell: {d}"
            ),
        )),
        (Finding::CannotTell(d), Some(Resolve::Absent)) => Ok((
            entry(
                Outcome::Absent,
                vec![],
                true,
                format!("the operator found it absent (--resolve absent); the check: {d}"),
            ),
            format!(
                "absent by the operator's finding (--resolve absent): it runs again; the check could not tell: {d}"
            ),
        )),
        (Finding::CannotTell(d), None) => Err(Unsettled::CannotTell(d)),
    }
}

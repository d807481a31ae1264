//! Is production already running? Asked before any step that starts it
//! (the rollback's restart, the promotion's deploy): in the preflight, so
//! that nothing is stopped or checked out first, and again right before the
//! step.
//!
//! Every production process rollback ever started carries its step's
//! marker (`CANARY_KIT_STEP=<procedure id>/restart` or `/deploy`), and the
//! journal keeps the procedure ids and the pids. So a process of any
//! earlier restart or deploy in the journal — an interrupted promotion's
//! deploy, a completed rollback's restart — that is still alive is a
//! production bot, and starting another would run two. A recorded pid that
//! is alive but whose environment cannot be read is *cannot tell*, which
//! refuses too.

use crate::error::ProcessError;
use crate::journal::{Entry, Journal};
use crate::procedure::Step;
use crate::status::{self, Seen};

/// What runs, in words ("pid 123 (restart of rollback 2026…)"), or why it
/// cannot be told. `Ok(empty)` only when nothing of the kind runs.
pub fn running(journal: &Journal) -> Result<Vec<String>, ProcessError> {
    let mut markers: Vec<(String, String)> = Vec::new();
    let mut recorded: Vec<(u32, String, String)> = Vec::new();
    for e in journal.entries() {
        let (proc_id, step, pids) = match e {
            Entry::Intent { proc_id, step, .. } => (proc_id, step, &[][..]),
            Entry::Spawned {
                proc_id,
                step,
                pids,
                ..
            }
            | Entry::Done {
                proc_id,
                step,
                pids,
                ..
            } => (proc_id, step, &pids[..]),
            Entry::Begin { .. } | Entry::Complete { .. } => continue,
        };
        if !matches!(Step::parse(step), Some(Step::Restart | Step::Deploy)) {
            continue;
        }
        let what = format!("{step} of {} {proc_id}", journal.procedure_name(proc_id));
        let marker = status::marker(proc_id, step);
        if !markers.iter().any(|(m, _)| *m == marker) {
            markers.push((marker.clone(), what.clone()));
        }
        for p in pids {
            recorded.push((*p, marker.clone(), what.clone()));
        }
    }
    let mut found = Vec::new();
    for (marker, what) in &markers {
        for pid in status::marked(marker)? {
            found.push(format!("pid {pid} ({what})"));
        }
    }
    for (pid, marker, what) in &recorded {
        match status::seen(*pid, marker) {
            Seen::Ours => {
                let s = format!("pid {pid} ({what})");
                if !found.contains(&s) {
                    found.push(s);
                }
            }
            Seen::NotOurs => {}
            Seen::Unreadable => {
                return Err(ProcessError::Unreadable {
                    pid: *pid,
                    what: what.clone(),
                });
            }
        }
    }
    Ok(found)
}

/// The refusal's words: where things stand and what to do.
pub fn refusal(step: Step, what: Result<Vec<String>, ProcessError>) -> Option<String> {
    let why = match what {
        Ok(found) if found.is_empty() => return None,
        Ok(found) => format!(
            "a production process started by an earlier step is still running: {}",
            found.join(", ")
        ),
        Err(e) => format!("cannot tell whether production is already running: {e}"),
    };
    Some(format!(
        "{why}; {} would start a second production bot, so it is not run. Stop that process first \
         (`kill -TERM -- -PGID`, then `kill -KILL -- -PGID` if it lingers: the bot ignores SIGTERM; or its \
         process manager), check `ps -ef | grep 'gpt-trader run'` shows none, then re-run \
         (see docs/rollback.md, \"Production already running\")",
        step.what()
    ))
}

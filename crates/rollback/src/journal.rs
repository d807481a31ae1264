//! The write-ahead journal: `STATE_DIR/journal.ndjson`, one JSON entry per
//! line, appended and fsync'd (the file, then its directory) before the run
//! goes on.
//!
//! - `begin`: a procedure starts (its id is the run that began it, the
//!   release it comes from and goes to).
//! - `intent`: a step is about to run — written before any process of the
//!   step is spawned, with the target release and commit.
//! - `spawned`: the pids of what the step started, right after the spawn.
//! - `done`: the step ended — its outcome, the pids it started, the unit
//!   state it saw.
//! - `complete`: the procedure finished.
//!
//! An `intent` without its `done` means a run was interrupted inside that
//! step: nothing is repeated blind (see `resume.rs`). A journal that cannot
//! be read or parsed is a refusal, never "no progress": acting on a lost
//! history is how a rollback runs twice.

use crate::error::{Inconsistent, JournalError};
use crate::procedure::{Procedure, Step};
use crate::safefs::StateDir;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};

pub const FILE: &str = "journal.ndjson";

/// How a step ended, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The step ran and succeeded.
    Done,
    /// The step ran and failed (the run stopped there).
    Failed,
    /// After an interruption, the step's effect was found present (checked,
    /// or confirmed by the operator): it is not run again.
    Present,
    /// After an interruption, the step's effect was found absent: it runs
    /// again.
    Absent,
}

impl Outcome {
    /// Does this outcome mean the step's effect is in place?
    pub fn finished(self) -> bool {
        matches!(self, Outcome::Done | Outcome::Present)
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Entry {
    Begin {
        /// The procedure's id: the run that began it.
        proc_id: String,
        run_id: String,
        procedure: String,
        /// A `stop` verdict's stop alone (never resumed as a rollback).
        #[serde(default)]
        stop_only: bool,
        from_tag: Option<String>,
        from_commit: String,
        to_tag: Option<String>,
        to_commit: Option<String>,
        verdict_ts: Option<String>,
        ts: String,
    },
    Intent {
        proc_id: String,
        run_id: String,
        step: String,
        /// The release the procedure goes to (rollback) or promotes.
        to_tag: Option<String>,
        /// Its commit.
        commit: String,
        ts: String,
    },
    Spawned {
        proc_id: String,
        run_id: String,
        step: String,
        pids: Vec<u32>,
        ts: String,
    },
    Done {
        proc_id: String,
        run_id: String,
        step: String,
        outcome: Outcome,
        #[serde(default)]
        pids: Vec<u32>,
        #[serde(default)]
        unit_state: Option<String>,
        /// Set when the operator, not a check, resolved an interruption.
        #[serde(default)]
        by_operator: bool,
        detail: String,
        ts: String,
    },
    Complete {
        proc_id: String,
        run_id: String,
        ts: String,
    },
}

/// A procedure's begin entry and what happened since.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Current {
    pub proc_id: String,
    pub from_tag: Option<String>,
    pub from_commit: String,
    pub to_tag: Option<String>,
    pub to_commit: Option<String>,
    pub verdict_ts: Option<String>,
    /// Steps whose effect is in place.
    pub done: Vec<Step>,
    pub completed: bool,
    pub completed_at: Option<String>,
}

impl Current {
    pub fn has(&self, step: Step) -> bool {
        self.done.contains(&step)
    }
}

/// A step an earlier run was interrupted in.
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted {
    pub proc_id: String,
    pub run_id: String,
    pub procedure: Procedure,
    pub step: Step,
    pub to_tag: Option<String>,
    pub commit: String,
    pub intent_ts: String,
    /// What it had spawned, if the spawn was recorded.
    pub pids: Vec<u32>,
}

#[derive(Debug)]
pub struct Journal {
    entries: Vec<Entry>,
    file: Option<File>,
}

pub fn now() -> String {
    jiff::Timestamp::now().to_string()
}

impl Journal {
    /// Read the journal. Missing is empty; unreadable, torn or unparsable
    /// is an error naming the line.
    pub fn load(dir: &StateDir) -> Result<Journal, JournalError> {
        let path = dir.join(FILE);
        let bytes = dir
            .read(FILE)
            .map_err(JournalError::Read)?
            .unwrap_or_default();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            return Err(JournalError::Torn(path));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| JournalError::NotUtf8(path.clone()))?;
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let e: Entry = serde_json::from_str(line).map_err(|source| JournalError::Line {
                path: path.clone(),
                line: i + 1,
                source,
            })?;
            if let Some(step) = e.step()
                && Step::parse(step).is_none()
            {
                return Err(JournalError::UnknownStep {
                    path,
                    line: i + 1,
                    step: step.to_owned(),
                });
            }
            entries.push(e);
        }
        let j = Journal {
            entries,
            file: None,
        };
        j.check()
            .map_err(|source| JournalError::Inconsistent { path, source })?;
        Ok(j)
    }

    /// Every entry's procedure must have begun; a begin's procedure must be known.
    fn check(&self) -> Result<(), Inconsistent> {
        let mut begun: Vec<&str> = Vec::new();
        for e in &self.entries {
            match e {
                Entry::Begin {
                    proc_id, procedure, ..
                } => {
                    if Procedure::parse(procedure).is_none() {
                        return Err(Inconsistent::UnknownProcedure(procedure.clone()));
                    }
                    begun.push(proc_id);
                }
                other => {
                    if !begun.contains(&other.proc_id()) {
                        return Err(Inconsistent::NeverBegan(other.proc_id().to_owned()));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Append one entry and make it durable (file, then directory) before
    /// returning.
    pub fn append(&mut self, dir: &StateDir, entry: Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        if self.file.is_none() {
            self.file = Some(dir.append(FILE)?);
        }
        let Some(f) = self.file.as_mut() else {
            return Err(io::Error::other("journal not open"));
        };
        f.write_all(&line)?;
        f.sync_all()?;
        dir.sync()?;
        self.entries.push(entry);
        Ok(())
    }

    /// "rollback" or "promotion", for messages.
    pub fn procedure_name(&self, proc_id: &str) -> &'static str {
        match self.procedure_of(proc_id) {
            Some(Procedure::Rollback) | None => "rollback",
            Some(Procedure::Promote) => "promotion",
        }
    }

    fn procedure_of(&self, proc_id: &str) -> Option<Procedure> {
        self.entries.iter().find_map(|e| match e {
            Entry::Begin {
                proc_id: p,
                procedure,
                ..
            } if p == proc_id => Procedure::parse(procedure),
            _ => None,
        })
    }

    /// The step an earlier run was interrupted in: an intent whose done
    /// never came. At most one can be open (a run refuses to go on while
    /// one is).
    pub fn interrupted(&self) -> Option<Interrupted> {
        let mut open: Option<Interrupted> = None;
        for e in &self.entries {
            match e {
                Entry::Intent {
                    proc_id,
                    run_id,
                    step,
                    to_tag,
                    commit,
                    ts,
                } => {
                    open = Some(Interrupted {
                        proc_id: proc_id.clone(),
                        run_id: run_id.clone(),
                        procedure: self.procedure_of(proc_id).unwrap_or(Procedure::Rollback),
                        step: Step::parse(step).unwrap_or(Step::Stop),
                        to_tag: to_tag.clone(),
                        commit: commit.clone(),
                        intent_ts: ts.clone(),
                        pids: Vec::new(),
                    });
                }
                Entry::Spawned {
                    proc_id,
                    step,
                    pids,
                    ..
                } => {
                    if let Some(o) = open.as_mut()
                        && &o.proc_id == proc_id
                        && o.step.name() == step
                    {
                        o.pids.extend(pids);
                    }
                }
                Entry::Done { proc_id, step, .. } => {
                    if open
                        .as_ref()
                        .is_some_and(|o| &o.proc_id == proc_id && o.step.name() == step)
                    {
                        open = None;
                    }
                }
                Entry::Begin { .. } | Entry::Complete { .. } => {}
            }
        }
        open
    }

    /// The last procedure of this kind (not a stop-only one), and its state.
    pub fn current(&self, procedure: Procedure) -> Option<Current> {
        let mut cur: Option<Current> = None;
        for e in &self.entries {
            match e {
                Entry::Begin {
                    proc_id,
                    procedure: p,
                    stop_only,
                    from_tag,
                    from_commit,
                    to_tag,
                    to_commit,
                    verdict_ts,
                    ..
                } => {
                    if Procedure::parse(p) == Some(procedure) && !stop_only {
                        cur = Some(Current {
                            proc_id: proc_id.clone(),
                            from_tag: from_tag.clone(),
                            from_commit: from_commit.clone(),
                            to_tag: to_tag.clone(),
                            to_commit: to_commit.clone(),
                            verdict_ts: verdict_ts.clone(),
                            ..Current::default()
                        });
                    }
                }
                Entry::Done {
                    proc_id,
                    step,
                    outcome,
                    ..
                } => {
                    if let Some(c) = cur.as_mut().filter(|c| &c.proc_id == proc_id) {
                        let Some(s) = Step::parse(step) else { continue };
                        if outcome.finished() {
                            if !c.done.contains(&s) {
                                c.done.push(s);
                            }
                        } else {
                            c.done.retain(|d| *d != s);
                        }
                    }
                }
                Entry::Complete { proc_id, ts, .. } => {
                    if let Some(c) = cur.as_mut().filter(|c| &c.proc_id == proc_id) {
                        c.completed = true;
                        c.completed_at = Some(ts.clone());
                    }
                }
                Entry::Intent { .. } | Entry::Spawned { .. } => {}
            }
        }
        cur
    }
}

impl Entry {
    pub fn proc_id(&self) -> &str {
        match self {
            Entry::Begin { proc_id, .. }
            | Entry::Intent { proc_id, .. }
            | Entry::Spawned { proc_id, .. }
            | Entry::Done { proc_id, .. }
            | Entry::Complete { proc_id, .. } => proc_id,
        }
    }

    fn step(&self) -> Option<&str> {
        match self {
            Entry::Intent { step, .. } | Entry::Spawned { step, .. } | Entry::Done { step, .. } => {
                Some(step)
            }
            Entry::Begin { .. } | Entry::Complete { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> StateDir {
        let d =
            std::env::temp_dir().join(format!("rollback-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        StateDir::open(&d).expect("state dir")
    }

    fn begin(id: &str) -> Entry {
        Entry::Begin {
            proc_id: id.into(),
            run_id: id.into(),
            procedure: "rollback".into(),
            stop_only: false,
            from_tag: Some("v1.10.0".into()),
            from_commit: "a".into(),
            to_tag: Some("v1.3.0".into()),
            to_commit: Some("b".into()),
            verdict_ts: None,
            ts: now(),
        }
    }

    fn intent(id: &str, step: &str) -> Entry {
        Entry::Intent {
            proc_id: id.into(),
            run_id: id.into(),
            step: step.into(),
            to_tag: Some("v1.3.0".into()),
            commit: "b".into(),
            ts: now(),
        }
    }

    fn done(id: &str, step: &str, outcome: Outcome) -> Entry {
        Entry::Done {
            proc_id: id.into(),
            run_id: id.into(),
            step: step.into(),
            outcome,
            pids: vec![],
            unit_state: None,
            by_operator: false,
            detail: String::new(),
            ts: now(),
        }
    }

    #[test]
    fn intent_without_done_is_interrupted_and_survives_a_reload() {
        let d = dir("interrupted");
        let mut j = Journal::load(&d).expect("empty");
        assert!(j.current(Procedure::Rollback).is_none());
        j.append(&d, begin("r1")).expect("append");
        j.append(&d, intent("r1", "stop")).expect("append");
        j.append(&d, done("r1", "stop", Outcome::Done))
            .expect("append");
        j.append(&d, intent("r1", "restart")).expect("append");
        let j = Journal::load(&d).expect("reload");
        let i = j.interrupted().expect("interrupted");
        assert_eq!(i.step, Step::Restart);
        let c = j.current(Procedure::Rollback).expect("current");
        assert_eq!(c.done, vec![Step::Stop]);
        assert!(j.current(Procedure::Promote).is_none());
        let _ = std::fs::remove_dir_all(&d.path);
    }

    #[test]
    fn torn_or_garbled_journals_are_errors_never_empty() {
        let d = dir("torn");
        std::fs::write(d.join(FILE), b"{\"entry\":\"begin\"").expect("write");
        assert!(
            Journal::load(&d)
                .expect_err("torn")
                .to_string()
                .contains("torn")
        );
        std::fs::write(d.join(FILE), b"garbage\n").expect("write");
        assert!(Journal::load(&d).is_err());
        let line = serde_json::to_string(&intent("ghost", "stop")).expect("json");
        std::fs::write(d.join(FILE), format!("{line}\n")).expect("write");
        assert!(
            Journal::load(&d)
                .expect_err("orphan")
                .to_string()
                .contains("never began")
        );
        let _ = std::fs::remove_dir_all(&d.path);
    }
}

//! A step's record as it is built (`StepRec`) and a step's result
//! (`Done`): what running a step and writing the canary report both return.

use crate::git::Repo;
use crate::plan::{Action, Plan, Step};
use crate::tool::TOOL;
use canary_core::step::{StepRecord, StepStatus};
use canary_core::{Kind, Level, Record};
use jiff::Timestamp;

/// A step's result.
#[derive(Debug)]
pub struct Done {
    pub ok: bool,
    pub record: StepRec,
    /// The unit state the step saw last (the stop step).
    pub unit_state: Option<String>,
}

impl Done {
    pub(crate) fn new(ok: bool, record: StepRec) -> Done {
        Done {
            ok,
            record,
            unit_state: None,
        }
    }
}

/// A step record being built: the envelope's name, time, level and
/// message, and the typed payload every step key is written through.
#[derive(Debug, Clone)]
pub struct StepRec {
    name: String,
    target: String,
    ts: Timestamp,
    pub level: Level,
    pub msg: String,
    pub payload: StepRecord,
}

impl StepRec {
    pub fn msg(mut self, msg: impl Into<String>) -> StepRec {
        self.msg = msg.into();
        self
    }

    /// Why the step was skipped, blocked or refused.
    pub fn reason(mut self, reason: impl Into<String>) -> StepRec {
        self.payload.reason = Some(reason.into());
        self
    }

    /// Change how the step stands (the record's `value` follows).
    pub fn status(mut self, status: StepStatus, level: Level) -> StepRec {
        self.payload.status = status;
        self.level = level;
        self
    }

    /// The record as written: the status is its value.
    pub fn to_record(&self) -> Record {
        Record::new(TOOL, &self.target, Kind::Step, &self.name, self.level)
            .at(self.ts)
            .value(self.payload.status.as_str())
            .msg(self.msg.clone())
            .with_payload(&self.payload)
    }
}

pub fn record(plan: &Plan, step: &Step, repo: &Repo, status: StepStatus, level: Level) -> StepRec {
    let cwd = repo.dir.display().to_string();
    let mut p = StepRecord::new(step.name(), status, &cwd);
    p.argv = step.action.argv().filter(|a| !a.is_empty());
    match &step.action {
        Action::Stop { stop, status } => {
            p.source = Some(stop.source.clone());
            p.status_argv = status.as_ref().map(|s| s.argv.clone());
        }
        Action::Run(c) if !c.argv.is_empty() => p.source = Some(c.source.clone()),
        Action::Start { cmd, log, feed } => {
            p.source = Some(cmd.source.clone());
            p.log = Some(log.clone());
            p.feed_argv = feed.as_ref().map(|f| f.argv.clone());
        }
        Action::Checkout(t) => p.to = Some(t.to_ref()),
        Action::Report { path, .. } => p.path = Some(path.display().to_string()),
        _ => {}
    }
    StepRec {
        name: format!("{}.step.{}", plan.prefix, step.name()),
        target: cwd,
        ts: Timestamp::now(),
        level,
        msg: String::new(),
        payload: p,
    }
}

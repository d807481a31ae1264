//! The payload of a step record (`rollback.step.<step>`,
//! `promote.step.<step>`): which step, how it stands, what it ran and what
//! came of it. One struct, so that every key a step record can carry is
//! named once, in the order it is written.

use crate::decision::Decision;
use crate::level::Level;
use crate::phase::Phase;
use crate::verdict::Scope;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// How a step stands. Also the record's `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// A dry run: it would run.
    Planned,
    /// Not run: already done, not needed, or not asked for (`reason`).
    Skipped,
    /// A dry run: it cannot run as configured (`reason`).
    Blocked,
    /// It ran and succeeded.
    Done,
    /// It ran and failed: the run stops here, later steps are not run.
    Failed,
}

impl StepStatus {
    /// The wire name (`planned`, `skipped`, `blocked`, `done`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Planned => "planned",
            StepStatus::Skipped => "skipped",
            StepStatus::Blocked => "blocked",
            StepStatus::Done => "done",
            StepStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A release tag and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRef {
    /// The tag's name (`v1.4.2`).
    pub tag: String,
    /// The commit the tag points at.
    pub commit: String,
}

/// A step's payload. Optional fields are written only when set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's name (`stop`, `checkout`, `profile_diff`, ...).
    pub step: String,
    /// How it stands; also the record's `value`.
    pub status: StepStatus,
    /// The command it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    /// Where the command came from (a flag, the config file, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The command that tells whether the canary runs (the stop step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_argv: Option<Vec<String>>,
    /// The file, in the state directory, a started command writes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The command whose output is fed to the started one (the watch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feed_argv: Option<Vec<String>>,
    /// The release checked out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TagRef>,
    /// The file written (the canary report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The repository the step runs in.
    pub cwd: String,
    /// Why it was skipped, blocked or refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What came of a command that ran.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StepOutcome>,
    /// `stopped`, `running` or `cannot-tell` (the stop step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_state: Option<String>,
    /// The stop step's grace in seconds: the longest it waits for the bot to stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_grace_s: Option<f64>,
    /// The profile diff: identical or not, and the diff itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identical: Option<bool>,
    /// The unified diff of the profiles, when they differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Every process the step spawned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<Vec<u32>>,
}

impl StepRecord {
    /// A step with nothing but its name, status and directory.
    pub fn new(step: &str, status: StepStatus, cwd: &str) -> StepRecord {
        StepRecord {
            step: step.to_owned(),
            status,
            argv: None,
            source: None,
            status_argv: None,
            log: None,
            feed_argv: None,
            to: None,
            path: None,
            cwd: cwd.to_owned(),
            reason: None,
            outcome: None,
            unit_state: None,
            stop_grace_s: None,
            identical: None,
            diff: None,
            pids: None,
        }
    }
}

/// What came of a step that ran something (or wrote its report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// When the command started.
    pub started: Timestamp,
    /// When it ended, or when the step stopped waiting for it.
    pub ended: Timestamp,
    /// The command's time limit in seconds, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_s: Option<f64>,
    /// The command's exit status; `null` (written) when it has none: killed
    /// by a signal, timed out, or still running.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub exit_status: Option<Option<i32>>,
    /// The end of the command's stderr, capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
    /// The end of the command's stdout, capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_tail: Option<String>,
    /// `true` when the command hit its time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed_out: Option<bool>,
    /// A started command still running at the end of the grace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The signal that killed it; `null` when the signal is not known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub signal: Option<Option<i32>>,
}

impl StepOutcome {
    /// An outcome with only its times (the report, which runs nothing).
    pub fn times(started: Timestamp, ended: Timestamp) -> StepOutcome {
        StepOutcome {
            started,
            ended,
            timeout_s: None,
            exit_status: None,
            stderr_tail: None,
            stdout_tail: None,
            timed_out: None,
            pid: None,
            signal: None,
        }
    }
}

/// A field that is present reads as `Some`, even when it is `null`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// How a run of rollback (or of a promotion) ended: the `outcome` and the
/// value of its `<prefix>.result` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// The verdict calls for nothing this run does.
    NothingToDo,
    /// A dry run: these steps would run.
    Planned,
    /// The procedure completed.
    Done,
    /// The same procedure was completed earlier: nothing was run.
    AlreadyDone,
    /// Nothing was run: bad usage, configuration or input.
    Refused,
    /// A step failed: `failed_step`, `state` and `next` say where things are.
    Failed,
}

impl RunOutcome {
    /// The wire name (`nothing-to-do`, `planned`, `done`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::NothingToDo => "nothing-to-do",
            RunOutcome::Planned => "planned",
            RunOutcome::Done => "done",
            RunOutcome::AlreadyDone => "already-done",
            RunOutcome::Refused => "refused",
            RunOutcome::Failed => "failed",
        }
    }
}

/// Where the checkout was when the run planned: the commit, the branch
/// (`null` when detached) and the release tag naming it (`null` if none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadRef {
    /// The commit checked out.
    pub commit: String,
    /// The branch checked out; `None` when the head is detached.
    pub branch: Option<String>,
    /// The release tag naming the commit; `None` if none does.
    pub tag: Option<String>,
}

/// The payload of a `<prefix>.result` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// How the run ended; also the record's `value`.
    pub outcome: RunOutcome,
    /// The verdict's decision, when there was nothing to do for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Where the checkout was when the run planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<HeadRef>,
    /// The release rolled back to, and how it was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TagRef>,
    /// How the release was chosen (`none` when there is none to check out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_source: Option<String>,
    /// The step that failed, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// The steps finished, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<Vec<String>>,
    /// The steps not run because of the failure, in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_run: Option<Vec<String>>,
    /// The state things are in after a failure, and the operator's next action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What the operator does next after a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// A dry run's plan: made without the lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<bool>,
}

impl RunResult {
    /// A result with only its outcome; set the rest as the run found it.
    pub fn new(outcome: RunOutcome) -> RunResult {
        RunResult {
            outcome,
            decision: None,
            head: None,
            to: None,
            target_source: None,
            failed_step: None,
            finished: None,
            not_run: None,
            state: None,
            next: None,
            snapshot: None,
        }
    }
}

/// What a run acts on (`<prefix>.trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerAction {
    /// Nothing: the verdict calls for no action.
    None,
    /// Stop the canary, without rolling back.
    Stop,
    /// Stop and roll back to an earlier release.
    Rollback,
    /// Promote the canary's release.
    Promote,
}

/// The verdict a trigger acts on, as the trigger and the audit log show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictSummary {
    /// The input it was read from (`stdin` or a path).
    pub source: String,
    /// The verdict's `ts`: when judge decided.
    pub ts: Timestamp,
    /// The verdict's `target`: the bot it judged.
    pub target: String,
    /// The decision acted on.
    pub decision: Decision,
    /// The verdict's level.
    pub level: Level,
    /// The phase it was judged in.
    pub phase: Phase,
    /// Overall or one target's; only an overall verdict acts.
    pub scope: Scope,
}

/// The payload of a `<prefix>.trigger` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// `--force`: no verdict.
    pub forced: bool,
    /// What the run does.
    pub action: TriggerAction,
    /// `null` when forced.
    pub verdict: Option<VerdictSummary>,
    /// The verdict's age in seconds when read; `None` when forced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_age_s: Option<f64>,
    /// The oldest verdict accepted, in seconds (`--max-verdict-age`); `None` when forced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_verdict_age_s: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Kind, Record};

    #[test]
    fn a_step_writes_its_keys_in_order_and_reads_back() {
        let t: Timestamp = "2026-11-26T03:30:00.123456789Z".parse().expect("ts");
        let mut p = StepRecord::new("stop", StepStatus::Failed, "/repo");
        p.argv = Some(vec!["systemctl".into(), "stop".into()]);
        p.source = Some("default".into());
        p.outcome = Some(StepOutcome {
            timeout_s: Some(60.0),
            exit_status: Some(None),
            stderr_tail: Some(String::new()),
            signal: Some(Some(9)),
            ..StepOutcome::times(t, t)
        });
        p.unit_state = Some("running".into());
        p.pids = Some(vec![42]);
        let rec = Record::new(
            "rollback",
            "/repo",
            Kind::Step,
            "rollback.step.stop",
            Level::Crit,
        )
        .value(p.status.as_str())
        .with_payload(&p);
        let text = serde_json::to_string(&rec).expect("json");
        let tail = text.split_once(r#""msg":"","#).expect("msg").1;
        assert_eq!(
            tail,
            r#""step":"stop","status":"failed","argv":["systemctl","stop"],"source":"default","cwd":"/repo","started":"2026-11-26T03:30:00.123456789Z","ended":"2026-11-26T03:30:00.123456789Z","timeout_s":60.0,"exit_status":null,"stderr_tail":"","signal":9,"unit_state":"running","pids":[42]}"#
        );
        assert_eq!(t.to_string(), "2026-11-26T03:30:00.123456789Z");
        let back: Record = serde_json::from_str(&text).expect("record");
        assert_eq!(back.payload::<StepRecord>().expect("payload"), p);
    }

    #[test]
    fn an_unknown_status_does_not_read() {
        let rec = Record::new(
            "rollback",
            "/r",
            Kind::Step,
            "rollback.step.stop",
            Level::Ok,
        )
        .extra("step", "stop")
        .extra("status", "succeeded")
        .extra("cwd", "/r");
        assert!(rec.payload::<StepRecord>().is_err());
    }
}

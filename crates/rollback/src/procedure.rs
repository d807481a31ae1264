//! The two procedures and their steps, as types. Everything that depends on
//! which step it is — its name, whether it changes anything, what to check
//! after an interruption — is an exhaustive match here, so a new step cannot
//! borrow another step's instructions.

/// Which procedure a run carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Procedure {
    /// Runbook §4.3.
    Rollback,
    /// Runbook §4.4 (`--promote`).
    Promote,
}

impl Procedure {
    /// The record-name prefix (`rollback.step.stop`, `promote.result`).
    pub fn prefix(self) -> &'static str {
        match self {
            Procedure::Rollback => "rollback",
            Procedure::Promote => "promote",
        }
    }

    pub fn parse(s: &str) -> Option<Procedure> {
        match s {
            "rollback" => Some(Procedure::Rollback),
            "promote" => Some(Procedure::Promote),
            _ => None,
        }
    }
}

/// One step of either procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Stop,
    ClosePositions,
    Checkout,
    Sync,
    Restart,
    Report,
    ProfileDiff,
    Deploy,
    Watch,
}

/// What a re-run with `--resume` does about a step an earlier run was
/// interrupted in (an intent in the journal without a done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeCheck {
    /// Ask the status command: stopped is the effect present; running is
    /// absent (stopping again is safe); cannot tell refuses.
    CanaryStatus,
    /// Is HEAD at the target (present) or still at the start (absent), with
    /// a clean tree and no git lock left behind? Anything else refuses.
    Head,
    /// Look for the processes the interrupted step started (they carry the
    /// step's marker in their environment): found is present; none proves
    /// nothing (a daemon, a process manager, a process still starting), so
    /// the operator decides with `--resolve done|absent`.
    Processes,
    /// Repeating the step is harmless (it only reads, or writes its own
    /// file, or is idempotent): absent, once no process of it is left.
    Repeatable,
    /// Nothing on this host can tell (the broker holds the positions): the
    /// operator decides with `--resolve done|absent`.
    Operator,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Stop,
        Step::ClosePositions,
        Step::Checkout,
        Step::Sync,
        Step::Restart,
        Step::Report,
        Step::ProfileDiff,
        Step::Deploy,
        Step::Watch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Stop => "stop",
            Step::ClosePositions => "close_positions",
            Step::Checkout => "checkout",
            Step::Sync => "sync",
            Step::Restart => "restart",
            Step::Report => "report",
            Step::ProfileDiff => "profile_diff",
            Step::Deploy => "deploy",
            Step::Watch => "watch",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|k| k.name() == s)
    }

    /// The step in words, for its messages ("closing positions failed").
    pub fn what(self) -> &'static str {
        match self {
            Step::Stop => "stopping the canary",
            Step::ClosePositions => "closing positions",
            Step::Checkout => "the checkout",
            Step::Sync => "the dependency sync",
            Step::Restart => "the restart with the prod profile",
            Step::Report => "the canary report",
            Step::ProfileDiff => "the profile diff",
            Step::Deploy => "the production deploy",
            Step::Watch => "the post-promotion watch",
        }
    }

    /// How an interruption inside this step is resolved.
    pub fn resume_check(self) -> ResumeCheck {
        match self {
            Step::Stop => ResumeCheck::CanaryStatus,
            Step::ClosePositions => ResumeCheck::Operator,
            Step::Checkout => ResumeCheck::Head,
            Step::Sync | Step::Report | Step::ProfileDiff => ResumeCheck::Repeatable,
            Step::Restart | Step::Deploy | Step::Watch => ResumeCheck::Processes,
        }
    }

    /// What the operator checks when a run was interrupted in this step.
    pub fn interrupted_check(self) -> &'static str {
        match self {
            Step::Stop => {
                "is the canary still running? (the status command, `systemctl status gpt-trader-canary`, or `canary_process.py status`)"
            }
            Step::ClosePositions => {
                "are the canary's positions closed? (the broker UI); is the close-positions hook still running?"
            }
            Step::Checkout => {
                "which commit is checked out, and is the tree clean? (`git -C REPO status`, `git -C REPO log -1`); is a .git/index.lock left behind?"
            }
            Step::Sync => "is the dependency sync still running? (`ps`)",
            // Both start production: the same question, the same answers.
            Step::Restart | Step::Deploy => {
                "is a production process running? (`ps -ef | grep 'gpt-trader run'`, the process manager); never start a second one: \
                 if one runs, --resolve done; if none, --resolve absent starts it"
            }
            Step::Report => {
                "nothing changed outside the state directory: the report is rewritten on resume"
            }
            Step::ProfileDiff => "nothing changed: the diff only reads the profiles",
            Step::Watch => {
                "is the post-promotion watch running? (`ps -ef | grep probe-health`): if it runs, --resolve done; if not, --resolve absent starts it"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in Step::ALL {
            assert_eq!(Step::parse(k.name()), Some(k));
        }
        assert_eq!(Step::parse("nope"), None);
        assert_eq!(Procedure::parse("promote"), Some(Procedure::Promote));
    }
}

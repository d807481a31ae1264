//! judge's decisions (runbook §4.2), shared with every consumer of verdicts.

use crate::exit::Exit;
use std::fmt;

/// A verdict's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Start gate: preflight and health are clean.
    Go,
    /// Start gate: fix and re-run preflight, or investigate.
    NoGo,
    /// The window is not complete yet.
    Continue,
    /// Phase A is complete and clean: switch to Phase B.
    Advance,
    /// Phase B is complete and every criterion holds.
    Promote,
    /// The window is complete but a criterion does not hold: hold for a human.
    Extend,
    /// Guard trips at CRIT in Phase B: pause and investigate the guards.
    Pause,
    /// A CRIT or a global pause in Phase A.
    Stop,
    /// A CRIT or a global pause in Phase B.
    Rollback,
}

const ALL: [(Decision, &str); 9] = [
    (Decision::Go, "go"),
    (Decision::NoGo, "no-go"),
    (Decision::Continue, "continue"),
    (Decision::Advance, "advance"),
    (Decision::Promote, "promote"),
    (Decision::Extend, "extend"),
    (Decision::Pause, "pause"),
    (Decision::Stop, "stop"),
    (Decision::Rollback, "rollback"),
];

impl Decision {
    /// The wire name (`no-go`, `rollback`, ...); `None` for anything else.
    pub fn parse(s: &str) -> Option<Decision> {
        ALL.iter().find(|(_, name)| *name == s).map(|(d, _)| *d)
    }

    /// Every wire name, in the order of the enum.
    pub fn names() -> impl Iterator<Item = &'static str> {
        ALL.iter().map(|(_, name)| *name)
    }

    /// The wire name (`go`, `no-go`, `rollback`, ...), as records and flags spell it.
    pub fn as_str(self) -> &'static str {
        ALL.iter()
            .find(|(d, _)| *d == self)
            .map_or("", |(_, name)| name)
    }

    /// How severe, for the overall verdict of a fleet: the worst target wins.
    pub fn severity(self) -> u8 {
        match self {
            Decision::Go | Decision::Advance | Decision::Promote => 0,
            Decision::Continue => 1,
            Decision::Extend => 2,
            Decision::Pause => 3,
            Decision::NoGo | Decision::Stop | Decision::Rollback => 4,
        }
    }

    /// The exit status the decision calls for on its own (README table).
    pub fn exit(self) -> Exit {
        match self {
            Decision::Go | Decision::Continue | Decision::Advance | Decision::Promote => {
                Exit::Clean
            }
            Decision::NoGo | Decision::Stop | Decision::Rollback | Decision::Pause => {
                Exit::Blocking
            }
            Decision::Extend => Exit::Hold,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for (d, name) in ALL {
            assert_eq!(Decision::parse(name), Some(d));
            assert_eq!(d.as_str(), name);
        }
        assert_eq!(Decision::parse("Rollback"), None);
        assert_eq!(Decision::parse("rollback; rm -rf /"), None);
    }
}

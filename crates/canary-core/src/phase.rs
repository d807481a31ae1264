//! Canary phases (runbook §4.2), as records spell them and as every tool's
//! `--phase` reads them.
//!
//! One type per question: [`Phase`] is every gate judge can hold, and
//! [`RunPhase`] the phases in which the bot trades, for the tools that have
//! nothing to say about the start gate (probe-health's reduce-only row, the
//! profile and env targets, the report's order target). Both are
//! `clap::ValueEnum`s, so `--help` and completions list the values with
//! their meaning, and a phase that does not exist is a usage error.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A phase of the canary: the gate being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The start gate: preflight, profile, RISK_* env and /health (runbook §1-§2).
    Start,
    /// Phase A: reduce-only.
    A,
    /// Phase B: micro-open.
    B,
}

/// A phase in which the bot trades: Phase A or Phase B, never the start gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum RunPhase {
    /// Phase A: reduce-only.
    A,
    /// Phase B: micro-open.
    B,
}

impl Phase {
    /// The wire name (`start`, `a`, `b`).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::A => "a",
            Phase::B => "b",
        }
    }

    /// The trading phase this is, or `None` for the start gate.
    pub fn run(self) -> Option<RunPhase> {
        match self {
            Phase::Start => None,
            Phase::A => Some(RunPhase::A),
            Phase::B => Some(RunPhase::B),
        }
    }

    /// What runbook §2.1 expects of `reduce_only_mode` in this phase, if anything.
    pub fn expects_reduce_only(self) -> Option<bool> {
        self.run().map(|p| p == RunPhase::A)
    }
}

impl RunPhase {
    /// The wire name (`a`, `b`), the same as the matching [`Phase`]'s.
    pub fn as_str(self) -> &'static str {
        Phase::from(self).as_str()
    }
}

impl From<RunPhase> for Phase {
    fn from(p: RunPhase) -> Phase {
        match p {
            RunPhase::A => Phase::A,
            RunPhase::B => Phase::B,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RunPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line, the records and `as_str` spell a phase one way.
    #[test]
    fn every_spelling_of_a_phase_agrees() {
        for p in Phase::value_variants() {
            let cli = p.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(cli.as_deref(), Some(p.as_str()));
            let json = serde_json::to_value(p).ok();
            assert_eq!(json, Some(serde_json::Value::from(p.as_str())));
            assert_eq!(
                serde_json::from_value::<Phase>(serde_json::Value::from(p.as_str())).ok(),
                Some(*p)
            );
        }
        for r in RunPhase::value_variants() {
            let cli = r.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(cli.as_deref(), Some(r.as_str()));
            assert_eq!(Phase::from(*r).run(), Some(*r));
        }
        assert_eq!(Phase::Start.run(), None);
    }

    #[test]
    fn reduce_only_is_expected_only_while_trading() {
        assert_eq!(Phase::A.expects_reduce_only(), Some(true));
        assert_eq!(Phase::B.expects_reduce_only(), Some(false));
        assert_eq!(Phase::Start.expects_reduce_only(), None);
    }

    #[test]
    fn the_command_line_ignores_case_only_when_asked() {
        assert_eq!(Phase::from_str("B", true).ok(), Some(Phase::B));
        assert!(Phase::from_str("c", true).is_err());
        assert!(RunPhase::from_str("start", true).is_err());
    }
}

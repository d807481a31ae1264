//! Canary phases (runbook §4.2).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A phase of the canary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The start gate: preflight and the §2.1 health rows.
    Start,
    /// Phase A: reduce-only.
    A,
    /// Phase B: micro-open.
    B,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::A => "a",
            Phase::B => "b",
        }
    }

    /// What runbook §2.1 expects of `reduce_only_mode` in this phase, if anything.
    pub fn expects_reduce_only(self) -> Option<bool> {
        match self {
            Phase::A => Some(true),
            Phase::B => Some(false),
            Phase::Start => None,
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "start" => Ok(Phase::Start),
            "a" => Ok(Phase::A),
            "b" => Ok(Phase::B),
            other => Err(format!("unknown phase '{other}': expected start, a or b")),
        }
    }
}

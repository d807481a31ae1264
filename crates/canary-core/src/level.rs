//! Levels: how bad an observation is, and how levels combine.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The level of one observation.
///
/// `Unknown` means "could not observe". It is never healthy: it ranks above
/// `Warn` so that a gate built on the worst level never passes on missing
/// evidence, and below `Crit` so that a real failure is still named as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Below WARN, or a check that passed.
    Ok,
    /// At or past WARN, below CRIT: worth a look, not blocking.
    Warn,
    /// At or past CRIT, or a check that failed: blocking.
    Crit,
    /// Could not observe (missing, stale, unreadable or implausible data).
    Unknown,
}

impl Level {
    /// Severity rank used by [`Level::worst`]: ok < warn < unknown < crit.
    pub fn rank(self) -> u8 {
        match self {
            Level::Ok => 0,
            Level::Warn => 1,
            Level::Unknown => 2,
            Level::Crit => 3,
        }
    }

    /// The worse of two levels.
    pub fn worst(self, other: Level) -> Level {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The wire name (`ok`, `warn`, `crit`, `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Crit => "crit",
            Level::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_orders_unknown_between_warn_and_crit() {
        assert_eq!(Level::Ok.worst(Level::Warn), Level::Warn);
        assert_eq!(Level::Warn.worst(Level::Unknown), Level::Unknown);
        assert_eq!(Level::Unknown.worst(Level::Crit), Level::Crit);
        assert_eq!(Level::Crit.worst(Level::Ok), Level::Crit);
    }
}

//! What evaluating a rule's filter on one record gives, whichever
//! evaluator runs it (jaq, or the native shapes), and the thresholds every
//! filter sees. A leaf: both evaluators use it, it uses neither.

use canary_core::signals::SIGNALS;
use canary_core::thresholds;

/// What one evaluation of a rule on one record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Fire,
    Clear,
    Unknown,
}

/// Why a rule's filter gave no outcome on a record. jaq's values and
/// errors are not `Send`, so what they say is kept as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// An output that is not a boolean, null or nothing: the value shown.
    #[error("yielded {0}, expected true, false, null or nothing")]
    NotBoolean(String),
    /// A jq runtime error, as jaq words it.
    #[error("{0}")]
    Runtime(String),
    #[error("called halt, which a rule may not")]
    Halt,
}

/// `$thresholds`: each signal's key in jq and its thresholds, from the one
/// signal table.
pub fn threshold_table() -> impl Iterator<Item = (&'static str, thresholds::Threshold)> {
    SIGNALS.iter().map(|s| (s.key, s.threshold))
}

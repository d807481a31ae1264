//! A value on judge's command line that cannot be used. Each variant keeps
//! the text as written; clap prints it after "invalid value ... for ...".

use crate::baseline::signals::Signal;

/// A command-line value judge refuses.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ArgError {
    /// `--at`, `--since`, …: not an RFC 3339 time.
    #[error("invalid time '{text}': {why} (write it like 2026-11-26T03:30:00Z)")]
    Time { text: String, why: jiff::Error },
    /// `--baseline-tolerance` not of the form SIGNAL=HOLD:LARGE with
    /// 0 <= HOLD <= LARGE <= 1.
    #[error(
        "'{0}' is not SIGNAL=HOLD:LARGE with 0 <= HOLD <= LARGE (e.g. order_error_rate=0.02:0.08)"
    )]
    Tolerance(String),
    /// `--baseline-tolerance` naming no compared signal.
    #[error("unknown signal '{name}' (one of {})", Signal::names())]
    UnknownSignal { name: String },
    /// `--baseline-alpha` outside (0, 0.5).
    #[error("'{0}' is not a significance level in (0, 0.5)")]
    Alpha(String),
}

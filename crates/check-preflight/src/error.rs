//! Why a preflight report is unusable: each variant's text is what the
//! `preflight.report` error record and the diagnostic say after the target.

use canary_core::capped::CappedError;

/// Why the report could not be read or is not a preflight report.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The file could not be read within the cap (not a regular file, too
    /// big, unreadable).
    #[error("{0}")]
    File(CappedError),
    /// Reading stdin failed.
    #[error("cannot read: {0}")]
    Stdin(#[source] std::io::Error),
    /// Stdin held more than the cap.
    #[error("refused: over the {0}-byte limit")]
    TooBig(u64),
    #[error("not UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a preflight report: expected a JSON object")]
    NotObject,
    #[error("no \"status\" (READY, REVIEW or NOT READY): not a preflight report")]
    NoStatus,
    #[error("no \"timestamp\": not a preflight report")]
    NoTimestamp,
    #[error("timestamp '{text}' is not ISO 8601 with an offset: {source}")]
    Timestamp {
        text: String,
        #[source]
        source: jiff::Error,
    },
}

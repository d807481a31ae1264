//! Why a daily report is unusable: each variant's text is what the
//! `daily.report` error record and the diagnostic say after the target.

use canary_core::capped::CappedError;

/// Why the report could not be read or is not a daily report.
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
    Utf8(#[from] std::str::Utf8Error),
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a daily report: expected a JSON object")]
    NotObject,
    /// `gpt-trader report daily --format json` said it failed.
    #[error("the CLI envelope says the report failed (success {success}, errors {errors})")]
    EnvelopeFailed { success: String, errors: String },
    #[error("the CLI envelope has no data.report object")]
    NoReport,
    #[error(
        "not a daily report: no \"generated_at\" and \"account\" (nor a `report daily` CLI envelope)"
    )]
    NotReport,
}

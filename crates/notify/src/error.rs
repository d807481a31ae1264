//! notify's errors below the tool's edge: a bad destination URL (a usage
//! error) and a state file that cannot be used (never reset blind).

use std::path::PathBuf;

/// What stops a notify run before anything is sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("--{flag} '{url}': invalid URL: {source}")]
    InvalidUrl {
        flag: &'static str,
        url: String,
        source: ureq::http::uri::InvalidUri,
    },
    #[error("--{flag} '{url}': the scheme must be http or https")]
    Scheme { flag: &'static str, url: String },
    #[error("--{flag} '{url}': no host")]
    NoHost { flag: &'static str, url: String },
    /// Another run holds the state file's lock.
    #[error("{}: locked by another notify run; try again when it ends", .0.display())]
    Locked(PathBuf),
    /// A symlink, a directory, a device: never followed or replaced.
    #[error("{}: is {}, not a regular file; refused (never followed or replaced)", .0.display(), .1)]
    NotRegular(PathBuf, &'static str),
    /// The file exists but is not a notify state file.
    #[error(
        "{}: not a notify state file ({}); refused, not reset: move it away if it is yours to discard",
        .0.display(),
        .1
    )]
    Foreign(PathBuf, Corrupt),
    #[error("{}: {}", .0.display(), .1)]
    Io(PathBuf, #[source] std::io::Error),
}

/// Why a state file is not one notify wrote.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Corrupt {
    #[error("unreadable as text: {0}")]
    Unreadable(#[source] std::io::Error),
    #[error("larger than {0} bytes")]
    TooBig(u64),
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("its \"format\" is not \"{0}\"")]
    Format(&'static str),
    #[error("corrupt: {0}")]
    Shape(#[source] serde_json::Error),
    #[error("corrupt: more than {0} targets")]
    TooManyTargets(usize),
    #[error("corrupt: entry '{key}' has an unknown decision '{decision}'")]
    UnknownDecision { key: String, decision: String },
}

//! canary-report's errors below the tool's edge.

use std::io;
use thiserror::Error;

/// Why the log could not be read. anyhow's chain at the edge adds the
/// underlying I/O error after the message.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("opening {name}")]
    Open { name: String, source: io::Error },
    #[error("reading {name}")]
    Read { name: String, source: io::Error },
}

//! check-risk-env's errors below the tool's edge.

use thiserror::Error;

/// Why a line of an env file is not an assignment (`BadLine::why`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LineError {
    #[error("not UTF-8 (invalid byte at column {column})")]
    NotUtf8 { column: usize },
    #[error("contains control characters (binary junk?)")]
    ControlCharacters,
    /// The line, shortened, does not begin with a name.
    #[error("`{0}` does not start with a variable name")]
    NoName(String),
    #[error("no `=` after `{0}`: the variable is not set")]
    NoEquals(String),
    #[error("unterminated {quote} quote in the value of {key}")]
    Unterminated { quote: char, key: String },
    #[error("text after the closing quote of {key}: `{after}`")]
    AfterQuote { key: String, after: String },
}

//! check-profile's errors below the tool's edge. Each message is what the
//! operator reads; `run()` adds the file name and anyhow's chain adds the
//! underlying cause where there is one.

use crate::yaml::ParseError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a file could not be evaluated at all.
#[derive(Debug, Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("refused: {size} bytes is over the {max}-byte limit for a profile")]
    TooLarge { size: u64, max: u64 },
    #[error("refused: {0}, not a regular file")]
    NotRegular(&'static str),
    #[error(
        "line {line}: not UTF-8 (invalid byte at offset {offset}); the bot's loader cannot decode it either"
    )]
    NotUtf8 { line: u64, offset: usize },
    #[error(
        "{}:{}: refused: {} (an alias bomb or a pathologically large document)",
        .0.position().0,
        .0.position().1,
        .0.message()
    )]
    Budget(ParseError),
}

/// Why `--write-phase-b` cannot derive the Phase B profile.
#[derive(Debug, Error)]
pub enum DeriveError {
    #[error(
        "the source profile does not load cleanly (see its profile.load record); fix it before deriving Phase B"
    )]
    NotClean,
    #[error("the source profile is empty")]
    Empty,
    #[error("trading.mode is not a scalar")]
    ModeNotScalar,
    #[error("no position for trading.mode")]
    NoPosition,
    #[error("no ':' after trading.mode")]
    NoColon,
    #[error("trading.mode is written as a block or tagged scalar; edit a copy by hand")]
    ModeBlockOrTagged,
    #[error("trading is not a mapping")]
    TradingNotMapping,
    #[error("trading is an empty mapping; add `mode: normal` by hand")]
    TradingEmpty,
    #[error("trading is a flow mapping; add `mode: normal` by hand")]
    TradingFlow,
    /// The derived text itself cannot be evaluated.
    #[error("{0}")]
    Reload(ReadError),
    #[error("could not derive a Phase B profile that loads with mode normal; edit a copy by hand")]
    NotNormal,
    #[error("deriving Phase B would change more than trading.mode; edit a copy by hand")]
    ChangesMore,
    #[error("{}: already exists; pass --force to overwrite it", .path.display())]
    Exists {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot create", .path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot write", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why the bot's loader raises on a value (`Failure::why`): Python's own
/// exception, in Python's words.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CoerceError {
    #[error("int() raises ValueError: cannot convert float NaN to integer")]
    IntOfNan,
    #[error("int() raises OverflowError: cannot convert float infinity to integer")]
    IntOfInfinity,
    #[error("int() raises ValueError: {0}")]
    Int(crate::pynum::PyError),
    #[error("float() raises ValueError: {0}")]
    Float(crate::pynum::PyError),
    /// `call` applied to a value of the wrong type (`described`).
    #[error("{call} raises TypeError on {described}")]
    Type {
        call: &'static str,
        described: String,
    },
    #[error("Decimal(str(v)) on {described} raises {error}")]
    Decimal {
        described: String,
        error: crate::pynum::PyError,
    },
    #[error(
        "must be an \"HH:MM\" or \"HH:MM:SS\" string but is {described}{}",
        if *.base60 { " (YAML 1.1 reads an unquoted HH:MM as a base-60 integer; quote it)" } else { "" }
    )]
    Time { described: String, base60: bool },
}

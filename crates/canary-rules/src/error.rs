//! canary-rules' errors below the tool's edge. Where an error has a cause,
//! anyhow's chain at the edge prints it after the message.

use crate::limits::{MAX_BODY, MAX_BOUNDS, PROBE_FAMILY};
use canary_core::capped::CappedError;
use canary_core::http::HttpError;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Why `--from-metrics` gave no bounds.
#[derive(Debug, Error)]
pub enum BoundsError {
    #[error("--from-metrics -: reading stdin")]
    Stdin { source: io::Error },
    #[error("--from-metrics -: stdin is over the {MAX_BODY}-byte limit")]
    StdinTooLarge,
    #[error("--from-metrics {from}")]
    Fetch { from: String, source: HttpError },
    #[error("--from-metrics {from}: status {status} ({snippet})")]
    Status {
        from: String,
        status: u16,
        snippet: String,
    },
    #[error("--from-metrics {from}: {error}")]
    File { from: String, error: CappedError },
    #[error("--from-metrics {from}")]
    Exposition {
        from: String,
        source: ExpositionError,
    },
}

/// Why one scrape's body does not give one set of latency bounds.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExpositionError {
    #[error("not one exposition: line {line}: {msg}")]
    NotOne { line: usize, msg: String },
    #[error(
        "{PROBE_FAMILY}_bucket series disagree on their bounds ({{{first}}} and {{{other}}}): one set of rules cannot repair both"
    )]
    Disagree { first: String, other: String },
    #[error(
        "no {PROBE_FAMILY}_bucket series (no broker call yet?): scrape again after one, or leave out --from-metrics to use the exporter's default bounds"
    )]
    NoSeries,
    #[error("{PROBE_FAMILY}_bucket has no le=\"+Inf\" bucket: not a histogram")]
    NoInf,
    #[error("{PROBE_FAMILY}_bucket has a bucket le=\"{0}\" that is not a finite number")]
    NotFinite(String),
    #[error("{PROBE_FAMILY}_bucket has two buckets with the same bound")]
    SameBound,
    #[error("{PROBE_FAMILY}_bucket has no finite bucket")]
    NoFinite,
    #[error(
        "{PROBE_FAMILY}_bucket has {0} finite buckets, more than the {MAX_BOUNDS} a latency histogram needs"
    )]
    TooMany(usize),
}

/// Why the rule files could not be written.
#[derive(Debug, Error)]
pub enum EmitError {
    #[error("creating {}", .dir.display())]
    CreateDir { dir: PathBuf, source: io::Error },
    #[error("removing {name}")]
    Remove {
        name: &'static str,
        source: io::Error,
    },
    #[error("writing {}", .path.display())]
    Write { path: PathBuf, source: io::Error },
}

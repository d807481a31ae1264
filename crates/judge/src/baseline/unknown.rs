//! Why a comparison is `unknown`: the closed set of reasons, each with the
//! facts it names. The reason is the record's `unknown` text and part of
//! its message.

use canary_core::Kind;
use canary_core::compare::CompareError;
use canary_core::duration::format_duration;
use canary_core::role::Role;
use jiff::Timestamp;
use std::time::Duration;

/// Why one side's newest record of a signal holds no usable sample.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum SampleError {
    #[error("a record of kind {0:?}, not a signal")]
    NotASignal(Kind),
    /// The record itself is unknown; `msg` is its message.
    #[error("unknown ({msg})")]
    Unknown { msg: String },
    /// A field of the signal's is missing its type (what scrape-metrics
    /// writes): the record is refused whole.
    #[error("its signal fields do not read ({0})")]
    Fields(String),
    #[error("no {what} (an exact count is needed)")]
    NoCount { what: &'static str },
    #[error("{what} {value} is not an exact count")]
    NotACount { what: &'static str, value: f64 },
    #[error("no buckets (windowed p95 records carry them)")]
    NoBuckets,
    /// None, or more than the cap.
    #[error("{0} buckets")]
    BucketCount(usize),
    #[error("buckets are not ascending and cumulative")]
    NotCumulative,
    #[error("no +Inf bucket")]
    NoInf,
}

/// Why the canary cannot be compared with production on one signal.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(super) enum Unknown {
    #[error("no baseline record")]
    NoBaseline,
    /// Several bots marked baseline, none named: production is ambiguous.
    #[error(
        "records of {} bots are marked baseline ({}): which one is production cannot \
         be told; name it with --baseline",
        .0.len(),
        .0.join(", ")
    )]
    ManyBaselines(Vec<String>),
    /// A bot whose records claimed both roles.
    #[error("records of {0} are marked both canary and baseline: neither side can be trusted")]
    BothRoles(String),
    #[error("no {record} record from the {side}")]
    Missing { side: Role, record: &'static str },
    #[error("the {side}'s newest {record} is before the window")]
    BeforeWindow { side: Role, record: &'static str },
    #[error("the {side}'s newest {record} is from the future ({ts})")]
    Future {
        side: Role,
        record: &'static str,
        ts: Timestamp,
    },
    #[error(
        "the {side}'s newest {record} ({ts}) is older than the max age {}",
        format_duration(*.max_age)
    )]
    TooOld {
        side: Role,
        record: &'static str,
        ts: Timestamp,
        max_age: Duration,
    },
    #[error("the {side}'s newest {record}: {why}")]
    Sample {
        side: Role,
        record: &'static str,
        why: SampleError,
    },
    /// The test itself cannot be run on the two samples.
    #[error(transparent)]
    Test(CompareError),
}

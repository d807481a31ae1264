//! A value on scrape-metrics' command line that cannot be used. Each
//! variant keeps the text as written; clap prints it after "invalid value
//! ... for ...".

/// A command-line value scrape-metrics refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("not a number: {0}")]
    NotANumber(String),
    /// `--daily-loss-limit-pct` outside (0, 1].
    #[error("{0} is not a fraction in (0, 1] (0.05 is a 5 % daily loss limit)")]
    Limit(String),
    /// `--max-orders-per-minute` zero, negative or not finite.
    #[error("{0} is not a positive number of orders per minute")]
    Ceiling(String),
}

//! The comparison's command line: significance levels, what a large
//! regression does, and each signal's tolerances.

use super::signals::{SPECS, Signal};
use crate::error::ArgError;

/// The comparison's options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Production's bot (host:port, or a URL of it): its records are the
    /// baseline the canary is compared with, never the canary's evidence.
    /// Records marked "role": "baseline" are the baseline too.
    #[arg(long, value_name = "TARGET")]
    pub baseline: Option<String>,

    /// One-sided significance level of a regression against the baseline.
    #[arg(long, default_value_t = 0.05, value_parser = parse_alpha, value_name = "P")]
    pub baseline_alpha: f64,

    /// Significance level a large regression needs to roll back (Phase B).
    #[arg(long, default_value_t = 0.01, value_parser = parse_alpha, value_name = "P")]
    pub baseline_rollback_alpha: f64,

    /// What a large, significant regression does in Phase B.
    #[arg(long, value_enum, default_value_t = Large::Rollback, value_name = "ACTION")]
    pub baseline_large: Large,

    /// Override a signal's tolerances (repeatable): SIGNAL=HOLD:LARGE, the
    /// effect beyond which a significant regression holds, and from which
    /// it is large; SIGNAL is order_error_rate, order_retry_rate or
    /// broker_latency (e.g. order_error_rate=0.02:0.08).
    #[arg(long, value_parser = parse_tolerance, value_name = "SIGNAL=HOLD:LARGE")]
    pub baseline_tolerance: Vec<Tolerance>,
}

/// A signal's tolerances set on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub signal: Signal,
    pub hold: f64,
    pub large: f64,
}

pub(super) fn parse_tolerance(s: &str) -> Result<Tolerance, ArgError> {
    let bad = || ArgError::Tolerance(s.to_owned());
    let (name, rest) = s.split_once('=').ok_or_else(bad)?;
    let spec = SPECS
        .iter()
        .find(|x| x.name == name.trim())
        .ok_or_else(|| ArgError::UnknownSignal {
            name: name.trim().to_owned(),
        })?;
    let (hold, large) = rest.split_once(':').ok_or_else(bad)?;
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
    };
    let (Some(hold), Some(large)) = (num(hold), num(large)) else {
        return Err(bad());
    };
    // Cliff's delta and rate differences never exceed 1.
    if hold > large || large > 1.0 {
        return Err(bad());
    }
    Ok(Tolerance {
        signal: spec.signal,
        hold,
        large,
    })
}

/// A large regression's decision in Phase B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Large {
    /// Roll back.
    Rollback,
    /// Only hold promotion, as any significant regression does.
    Hold,
}

pub(super) fn parse_alpha(s: &str) -> Result<f64, ArgError> {
    match s.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 0.5 => Ok(p),
        _ => Err(ArgError::Alpha(s.to_owned())),
    }
}

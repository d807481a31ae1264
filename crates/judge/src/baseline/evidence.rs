//! What one side's record says of a signal: exact counts or cumulative
//! buckets, refused unless they are plausible.

use super::signals::{Spec, Test};
use super::unknown::SampleError;
use canary_core::compare::{self, CompareError, Counts, LatencyTest};
use canary_core::signal_fields::{CumulativeBucket, SignalFields};
use canary_core::{Kind, Level, Record};
use jiff::Timestamp;

/// What one side's newest record of a signal says.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sample {
    Rate(Counts),
    /// Cumulative counts per bound, the last bound +Inf.
    Buckets(Vec<(f64, u64)>),
}

/// Read one side's sample from its record.
pub(super) fn sample_of(spec: &Spec, rec: &Record) -> Result<Sample, SampleError> {
    if rec.kind != Kind::Signal {
        return Err(SampleError::NotASignal(rec.kind));
    }
    if !matches!(rec.level, Level::Ok | Level::Warn | Level::Crit) {
        return Err(SampleError::Unknown {
            msg: rec.msg.clone(),
        });
    }
    // Read as the producer wrote them: a field of the wrong type refuses
    // the record, never reads as absent or zero.
    let fields: SignalFields = rec
        .payload()
        .map_err(|e| SampleError::Fields(e.to_string()))?;
    match spec.test {
        Test::Fisher | Test::Poisson => {
            let events = count(fields.numerator, "numerator")?;
            let trials = count(fields.denominator, "denominator")?;
            Ok(Sample::Rate(Counts { events, trials }))
        }
        Test::MannWhitney => buckets(fields.buckets.as_deref()).map(Sample::Buckets),
    }
}

/// An exact count: finite, not negative, whole, not huge.
pub(super) fn count(v: Option<f64>, what: &'static str) -> Result<u64, SampleError> {
    let x = v.ok_or(SampleError::NoCount { what })?;
    let r = x.round();
    if !x.is_finite() || x < 0.0 || (x - r).abs() > 1e-6 || r > compare::MAX_COUNT as f64 {
        return Err(SampleError::NotACount { what, value: x });
    }
    Ok(r as u64)
}

/// Cumulative buckets: bounds ascending, counts whole and cumulative, the
/// last +Inf.
pub(super) fn buckets(v: Option<&[CumulativeBucket]>) -> Result<Vec<(f64, u64)>, SampleError> {
    let list = v.ok_or(SampleError::NoBuckets)?;
    if list.is_empty() || list.len() > 1024 {
        return Err(SampleError::BucketCount(list.len()));
    }
    let mut out: Vec<(f64, u64)> = Vec::with_capacity(list.len());
    for &CumulativeBucket { le, count: n } in list {
        let n = count(Some(n), "a bucket count")?;
        if let Some(prev) = out.last()
            && (le <= prev.0 || n < prev.1)
        {
            return Err(SampleError::NotCumulative);
        }
        out.push((le, n));
    }
    if out.last().is_some_and(|x| x.0.is_finite()) {
        return Err(SampleError::NoInf);
    }
    Ok(out)
}

/// The p95 bucket bound of cumulative buckets (the bound that contains it),
/// in ms; `None` for +Inf or no observation.
pub(super) fn p95_ms(b: &[(f64, u64)]) -> Option<f64> {
    let n = b.last()?.1;
    if n == 0 {
        return None;
    }
    let rank = 0.95 * n as f64;
    b.iter()
        .find(|x| x.1 as f64 >= rank)
        .map(|x| x.0 * 1000.0)
        .filter(|v| v.is_finite())
}

/// Mann-Whitney U over two cumulative bucket lists with the same bounds.
pub(super) fn latency(c: &[(f64, u64)], b: &[(f64, u64)]) -> Result<LatencyTest, CompareError> {
    let same = c.len() == b.len() && c.iter().zip(b).all(|(x, y)| x.0 == y.0);
    if !same {
        return Err(CompareError::Bounds);
    }
    let per = |v: &[(f64, u64)]| {
        compare::decumulate(&v.iter().map(|x| x.1).collect::<Vec<_>>()).ok_or(CompareError::Bounds)
    };
    compare::mann_whitney(&per(c)?, &per(b)?)
}

/// One side's newest record of a signal: when, what it said, its window.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) ts: Timestamp,
    pub(super) sample: Result<Sample, SampleError>,
    pub(super) window: Option<String>,
}

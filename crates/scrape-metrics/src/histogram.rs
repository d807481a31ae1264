//! Classic-histogram validation, and the repair of the bot's double-cumulated
//! buckets (docs/scrape-metrics.md): never a quantile from broken buckets, silently.

use crate::promql::Bucket;
use crate::snapshot::Histogram;
use clap::ValueEnum;

/// How to read exported bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BucketMode {
    /// Decide per series: de-cumulate when the buckets prove double-cumulation
    /// (a finite bucket above `+Inf`) or are consistent with it (the bot today);
    /// read as-is when only the correct reading fits (a fixed exporter).
    Auto,
    /// Always de-cumulate once (the bot's exporter today).
    Double,
    /// Always read as correct cumulative counts (a fixed exporter).
    Cumulative,
}

/// What a series' buckets turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// Correct cumulative buckets.
    Cumulative,
    /// Double-cumulated: `proven` when a finite bucket exceeds `+Inf`,
    /// otherwise assumed because both readings fit and the bot double-cumulates.
    DoubleCumulated { proven: bool },
    /// Neither reading is a valid histogram.
    Broken(Broken),
}

/// Why a series' buckets are no histogram under the mode asked for.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum Broken {
    #[error("no buckets")]
    NoBuckets,
    #[error("no +Inf bucket")]
    NoInf,
    #[error("+Inf bucket {inf} differs from _count {count}")]
    CountDiffers { inf: f64, count: f64 },
    /// `--buckets double` on buckets that are not.
    #[error("not double-cumulated either: de-cumulating gives decreasing counts")]
    NotDouble,
    /// `--buckets cumulative` on the bot's double-cumulated buckets.
    #[error("a finite bucket is above +Inf (the bot's double-cumulation; try --buckets auto)")]
    AboveInf,
    #[error("bucket counts decrease")]
    Decreasing,
    #[error("bucket counts fit neither a cumulative nor a double-cumulated reading")]
    Neither,
}

/// A series read: its reading and, unless broken, correct cumulative buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub reading: Reading,
    pub buckets: Option<Vec<Bucket>>,
}

fn non_decreasing(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] <= w[1]) && v.iter().all(|x| *x >= 0.0 && x.is_finite())
}

/// Read one histogram series under `mode`.
pub fn read(h: &Histogram, mode: BucketMode) -> Read {
    let broken = |why: Broken| Read {
        reading: Reading::Broken(why),
        buckets: None,
    };
    let Some(&(last_le, inf)) = h.buckets.last() else {
        return broken(Broken::NoBuckets);
    };
    if last_le != f64::INFINITY {
        return broken(Broken::NoInf);
    }
    if let Some(count) = h.count
        && count != inf
    {
        return broken(Broken::CountDiffers { inf, count });
    }
    let finite: Vec<f64> = h.buckets[..h.buckets.len() - 1]
        .iter()
        .map(|b| b.1)
        .collect();
    let mut as_is = finite.clone();
    as_is.push(inf);
    let valid_as_is = non_decreasing(&as_is);
    let mut decum: Vec<f64> = finite
        .iter()
        .scan(0.0, |prev, &e| {
            let d = e - *prev;
            *prev = e;
            Some(d)
        })
        .collect();
    decum.push(inf);
    let valid_decum = non_decreasing(&decum);
    let proof = finite.iter().any(|e| *e > inf);
    let with = |counts: &[f64]| -> Vec<Bucket> {
        h.buckets
            .iter()
            .zip(counts)
            .map(|(&(upper, _), &count)| Bucket { upper, count })
            .collect()
    };
    let double = |proven| Read {
        reading: Reading::DoubleCumulated { proven },
        buckets: Some(with(&decum)),
    };
    let cumulative = || Read {
        reading: Reading::Cumulative,
        buckets: Some(with(&as_is)),
    };
    match mode {
        BucketMode::Double if valid_decum => double(proof),
        BucketMode::Double => broken(Broken::NotDouble),
        BucketMode::Cumulative if valid_as_is => cumulative(),
        BucketMode::Cumulative => broken(if proof {
            Broken::AboveInf
        } else {
            Broken::Decreasing
        }),
        BucketMode::Auto if valid_decum => double(proof),
        BucketMode::Auto if valid_as_is => cumulative(),
        BucketMode::Auto => broken(Broken::Neither),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Labels;

    fn hist(buckets: &[(f64, f64)], count: f64) -> Histogram {
        Histogram {
            family: "h".into(),
            labels: Labels::new(),
            buckets: buckets.to_vec(),
            count: Some(count),
            sum: None,
        }
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn the_bots_verified_single_observation_is_proven_and_corrected() {
        // The bot today: one observation of 0.2 s → 0,0,0,0,0,0,1,2,3,4,5,6 and +Inf 1.
        let bounds = [
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let exported = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut b: Vec<(f64, f64)> = bounds.iter().copied().zip(exported).collect();
        b.push((INF, 1.0));
        let r = read(&hist(&b, 1.0), BucketMode::Auto);
        assert_eq!(r.reading, Reading::DoubleCumulated { proven: true });
        let counts: Vec<f64> = r
            .buckets
            .expect("corrected")
            .iter()
            .map(|b| b.count)
            .collect();
        assert_eq!(
            counts,
            [
                0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0
            ]
        );
    }

    #[test]
    fn correct_buckets_that_cannot_be_double_read_are_kept() {
        // Per-bucket counts 5, 3, 1: de-cumulating 5, 8, 9 gives 5, 3, 1 — decreasing.
        let r = read(
            &hist(&[(0.1, 5.0), (0.5, 8.0), (1.0, 9.0), (INF, 9.0)], 9.0),
            BucketMode::Auto,
        );
        assert_eq!(r.reading, Reading::Cumulative);
        assert_eq!(r.buckets.expect("as is")[2].count, 9.0);
    }

    #[test]
    fn missing_inf_or_mismatched_count_is_broken() {
        assert_eq!(
            read(&hist(&[(0.1, 1.0)], 1.0), BucketMode::Auto).reading,
            Reading::Broken(Broken::NoInf)
        );
        let r = read(&hist(&[(0.1, 1.0), (INF, 2.0)], 3.0), BucketMode::Auto);
        let why = Broken::CountDiffers {
            inf: 2.0,
            count: 3.0,
        };
        assert_eq!(r.reading, Reading::Broken(why));
        assert_eq!(why.to_string(), "+Inf bucket 2 differs from _count 3");
    }

    #[test]
    fn cumulative_mode_refuses_double_cumulated_buckets() {
        let r = read(
            &hist(&[(0.1, 1.0), (1.0, 2.0), (INF, 1.0)], 1.0),
            BucketMode::Cumulative,
        );
        assert_eq!(r.reading, Reading::Broken(Broken::AboveInf));
        assert!(r.buckets.is_none());
    }

    #[test]
    fn garbage_fits_neither_reading() {
        let r = read(
            &hist(&[(0.1, 5.0), (1.0, 2.0), (INF, 1.0)], 1.0),
            BucketMode::Auto,
        );
        assert_eq!(r.reading, Reading::Broken(Broken::Neither));
        let r = read(
            &hist(&[(0.1, 5.0), (1.0, 2.0), (INF, 1.0)], 1.0),
            BucketMode::Double,
        );
        assert_eq!(r.reading, Reading::Broken(Broken::NotDouble));
    }
}

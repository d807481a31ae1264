//! `metrics.histogram`: how each histogram family's buckets were read, one
//! record per family. The bot's exporter double-cumulates every histogram
//! it has, so one record per series repeated the same warning a dozen
//! times a scrape; the family record counts the series instead and keeps
//! their names.

use crate::histogram::{self, Broken, Reading};
use crate::signals::Ctx;
use crate::snapshot::{BROKER_LATENCY, Snapshot};
use canary_core::{Kind, Level, Record};
use serde::Serialize;

/// The series of one family, by how their buckets read.
#[derive(Debug, Default)]
struct Family {
    cumulative: Vec<String>,
    proven: Vec<String>,
    assumed: Vec<String>,
    broken: Vec<(String, Broken)>,
}

impl Family {
    fn total(&self) -> usize {
        self.cumulative.len() + self.proven.len() + self.assumed.len() + self.broken.len()
    }

    fn repaired(&self) -> Vec<String> {
        self.proven.iter().chain(&self.assumed).cloned().collect()
    }

    /// "3 of 3 series are double-cumulated ... and repaired (...)", or empty.
    fn repaired_clause(&self) -> String {
        let n = self.proven.len() + self.assumed.len();
        if n == 0 {
            return String::new();
        }
        let mut how = Vec::new();
        if !self.proven.is_empty() {
            how.push(format!(
                "{} proven: a finite bucket exceeds +Inf",
                self.proven.len()
            ));
        }
        if !self.assumed.is_empty() {
            how.push(format!(
                "{} assumed: both readings fit, and the bot double-cumulates",
                self.assumed.len()
            ));
        }
        format!(
            "{n} of {} series double-cumulated by the bot's exporter, repaired by de-cumulating once ({}); quantiles use the de-cumulated counts",
            self.total(),
            how.join("; ")
        )
    }
}

/// One `metrics.histogram` record per family whose buckets are not plain
/// cumulative, and one for the broker-latency family (the p95's) always.
pub fn histogram_checks(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let mut families: Vec<(&str, Family)> = Vec::new();
    for h in &snap.histograms {
        let idx = match families.iter().position(|(f, _)| *f == h.family) {
            Some(i) => i,
            None => {
                families.push((h.family.as_str(), Family::default()));
                families.len() - 1
            }
        };
        let fam = &mut families[idx].1;
        match histogram::read(h, ctx.buckets).reading {
            Reading::Cumulative => fam.cumulative.push(h.series()),
            Reading::DoubleCumulated { proven: true } => fam.proven.push(h.series()),
            Reading::DoubleCumulated { proven: false } => fam.assumed.push(h.series()),
            Reading::Broken(why) => fam.broken.push((h.series(), why)),
        }
    }
    families
        .into_iter()
        .filter_map(|(name, fam)| family_record(ctx, name, &fam))
        .collect()
}

fn family_record(ctx: &Ctx<'_>, name: &str, fam: &Family) -> Option<Record> {
    let total = fam.total();
    let repaired = fam.repaired();
    let cumulative_clause = match fam.cumulative.len() {
        0 => String::new(),
        n => format!("; {n} of {total} series are valid cumulative counts"),
    };
    let (level, reading, msg) = if let Some((first, why)) = fam.broken.first() {
        let more = match fam.broken.len() {
            1 => String::new(),
            n => format!(", and {} more", n - 1),
        };
        let rep = fam.repaired_clause();
        (
            Level::Unknown,
            "broken",
            format!(
                "{name}: {} of {total} series have invalid buckets ({first}: {why}{more}); no quantile is computed from them{}{cumulative_clause}",
                fam.broken.len(),
                if rep.is_empty() {
                    String::new()
                } else {
                    format!("; {rep}")
                }
            ),
        )
    } else if !repaired.is_empty() {
        (
            Level::Warn,
            "double-cumulated",
            format!("{name}: {}{cumulative_clause}", fam.repaired_clause()),
        )
    } else if name == BROKER_LATENCY {
        (
            Level::Ok,
            "cumulative",
            format!("{name}: all {total} series' buckets are valid cumulative counts"),
        )
    } else {
        return None;
    };
    let fields = HistogramFields {
        family: name,
        series: total,
        repaired: repaired.len(),
        repaired_series: Some(repaired).filter(|r| !r.is_empty()),
        assumed: Some(fam.assumed.len()).filter(|n| *n > 0),
        broken_series: Some(
            fam.broken
                .iter()
                .map(|(s, why)| BrokenSeries {
                    series: s,
                    reason: why.to_string(),
                })
                .collect::<Vec<_>>(),
        )
        .filter(|b| !b.is_empty()),
        cumulative_series: Some(&fam.cumulative).filter(|c| !c.is_empty()),
    };
    let rec = ctx
        .record(Kind::Check, "metrics.histogram", level)
        .value(reading)
        .with_payload(&fields);
    Some(rec.msg(msg))
}

/// The fields of a `metrics.histogram` check beyond the envelope.
#[derive(Serialize)]
struct HistogramFields<'a> {
    family: &'a str,
    /// Series of the family.
    series: usize,
    /// Series whose double-cumulated buckets were repaired.
    repaired: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    repaired_series: Option<Vec<String>>,
    /// Series read as double-cumulated on `--buckets` alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    assumed: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    broken_series: Option<Vec<BrokenSeries<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cumulative_series: Option<&'a Vec<String>>,
}

/// A series whose buckets are no histogram, and why.
#[derive(Serialize)]
struct BrokenSeries<'a> {
    series: &'a str,
    reason: String,
}

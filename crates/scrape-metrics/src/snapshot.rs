//! One scrape reduced to what the runbook's signals need, plus every
//! histogram (for validation). Small enough to keep a window of them, and
//! serialisable for `--state`.

use crate::exposition::{self, LineError, Sample};
use crate::hashing::{Prehashed, Seeded};
use crate::labels::Labels;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

pub const ORDERS: &str = "gpt_trader_order_submission_total";
pub const GUARD_TRIPS: &str = "gpt_trader_guard_trips_total";
pub const BROKER_LATENCY: &str = "gpt_trader_broker_call_latency_seconds";

/// A counter series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    pub labels: Labels,
    #[serde(with = "crate::lossless::float")]
    pub value: f64,
}

/// A classic histogram series as exported: buckets by bound (`+Inf`
/// included), `_count` and `_sum` when present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub family: String,
    pub labels: Labels,
    #[serde(with = "crate::lossless::pairs")]
    pub buckets: Vec<(f64, f64)>,
    #[serde(with = "crate::lossless::option")]
    pub count: Option<f64>,
    #[serde(with = "crate::lossless::option")]
    pub sum: Option<f64>,
}

impl Histogram {
    /// `family{labels}` for messages and records.
    pub fn series(&self) -> String {
        let inner: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        format!("{}{{{}}}", self.family, inner.join(","))
    }
}

/// What one scrape of the bot showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Scrape time, milliseconds since the epoch.
    pub t_ms: i64,
    pub orders: Vec<Counter>,
    pub guard_trips: Vec<Counter>,
    pub histograms: Vec<Histogram>,
    /// How many `gpt_trader_*` samples the body held: the bot is there.
    pub bot_samples: usize,
    /// The bot's other counters (`gpt_trader_*_total`: guard checks,
    /// ticker-freshness checks, trades ...), `name{labels}` → value. They
    /// are not signals; they tell a restart, which resets every counter
    /// together, from a lone dip.
    #[serde(default, with = "crate::lossless::map")]
    pub others: BTreeMap<String, f64>,
    /// A line of a family the signals read could not be parsed: this
    /// scrape's counts are incomplete, and no window may rest on it (a
    /// baseline missing a series would count its whole total as new).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unreadable: bool,
    /// The money gauges (`crate::money`); `--state` keeps them apart.
    #[serde(skip)]
    pub money: crate::money_gauges::Gauges,
}

/// A parsed scrape: the snapshot and the lines that could not be used.
#[derive(Debug)]
pub struct Scrape {
    pub snapshot: Snapshot,
    pub errors: Vec<LineError>,
    pub errors_dropped: usize,
}

/// A sample's labels but `skip`, packed without a string per label (the
/// parser has refused a line naming a label twice).
fn labels_of(s: &Sample<'_>, skip: &str) -> Labels {
    // Exporters write labels sorted: packed straight from the line.
    if s.labels.windows(2).all(|w| w[0].0 < w[1].0) {
        let kept = s
            .labels
            .iter()
            .filter(|(k, _)| *k != skip)
            .map(|(k, v)| (*k, v.as_ref()));
        return Labels::pack(kept);
    }
    let mut pairs: Vec<(&str, &str)> = s
        .labels
        .iter()
        .filter(|(k, _)| *k != skip)
        .map(|(k, v)| (*k, v.as_ref()))
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Labels::from_sorted(&pairs)
}

/// Parse an exposition body taken at `t_ms`.
pub fn from_body(body: &[u8], t_ms: i64) -> Scrape {
    let mut snap = Snapshot::empty(t_ms);
    // hash of (family, labels without `le`) → indices into snap.histograms
    // whose key has that hash: a bucket line is matched to its series by
    // one hash of the labels it borrows from the body, and only a new
    // series allocates its labels.
    let mut index: HashMap<u64, Vec<usize>, Prehashed> = HashMap::default();
    let seed = Seeded::default();
    let mut bucket_errors: Vec<LineError> = Vec::new();
    // The bot's other counters, in body order: made a map in one sort at
    // the end, cheaper than a search from the root for every line.
    let mut others: Vec<(String, f64)> = Vec::new();
    let summary = exposition::parse(body, |s| {
        if s.name.starts_with("gpt_trader_") {
            snap.bot_samples += 1;
        }
        match s.name {
            ORDERS => snap.orders.push(Counter {
                labels: labels_of(&s, ""),
                value: s.value,
            }),
            GUARD_TRIPS => snap.guard_trips.push(Counter {
                labels: labels_of(&s, ""),
                value: s.value,
            }),
            name if name.starts_with("gpt_trader_") && name.ends_with("_total") => {
                others.push((exposition::series_text(&s), s.value));
            }
            name => {
                snap.money.take(name, &labels_of(&s, ""), s.value);
            }
        }
        let (family, part) = if let Some(f) = s.name.strip_suffix("_bucket") {
            (f, "bucket")
        } else if let Some(f) = s.name.strip_suffix("_count") {
            (f, "count")
        } else if let Some(f) = s.name.strip_suffix("_sum") {
            (f, "sum")
        } else {
            return;
        };
        // _count and _sum also end counters and summaries; they join a
        // histogram only if it has buckets (checked after the parse).
        let mut labels: Vec<(&str, &str)> = Vec::with_capacity(s.labels.len());
        labels.extend(
            s.labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (*k, v.as_ref())),
        );
        labels.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let key = seed.hash_one((family, &labels));
        let same = |h: &Histogram| {
            h.family == family
                && h.labels.len() == labels.len()
                && h.labels
                    .iter()
                    .zip(&labels)
                    .all(|((k, v), (lk, lv))| k == *lk && v == *lv)
        };
        let slot = index.entry(key).or_default();
        let idx = match slot.iter().copied().find(|&i| same(&snap.histograms[i])) {
            Some(i) => i,
            None => {
                snap.histograms.push(Histogram {
                    family: family.to_owned(),
                    labels: Labels::from_sorted(&labels),
                    buckets: vec![],
                    count: None,
                    sum: None,
                });
                slot.push(snap.histograms.len() - 1);
                snap.histograms.len() - 1
            }
        };
        let h = &mut snap.histograms[idx];
        match part {
            "bucket" => match s.label("le").and_then(exposition::parse_value) {
                Some(le) => h.buckets.push((le, s.value)),
                None => bucket_errors.push(LineError {
                    line: 0,
                    msg: "bucket without a numeric le label".into(),
                    snippet: exposition::series_text(&s),
                    fatal: false,
                }),
            },
            "count" => h.count = Some(s.value),
            _ => h.sum = Some(s.value),
        }
    });
    // Sorted, then built in one pass (from_iter finds the run already
    // sorted). No two entries share a key: a series given twice is a
    // duplicate the parser refused, so the unstable sort loses nothing.
    others.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    snap.others = others.into_iter().collect();
    snap.histograms.retain(|h| !h.buckets.is_empty());
    for h in &mut snap.histograms {
        h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut errors = summary.errors;
    errors.extend(bucket_errors);
    snap.money.mark_broken(&errors);
    Scrape {
        snapshot: snap,
        errors,
        errors_dropped: summary.errors_dropped,
    }
}

impl Snapshot {
    /// A scrape at `t_ms` that has seen nothing yet.
    pub fn empty(t_ms: i64) -> Snapshot {
        Snapshot {
            t_ms,
            orders: vec![],
            guard_trips: vec![],
            histograms: vec![],
            bot_samples: 0,
            others: BTreeMap::new(),
            unreadable: false,
            money: crate::money_gauges::Gauges::default(),
        }
    }

    /// The broker submit histograms with `outcome="success"` (the p95 query's selector).
    pub fn submit_success(&self) -> impl Iterator<Item = &Histogram> {
        self.histograms.iter().filter(|h| {
            h.family == BROKER_LATENCY
                && h.labels.get("operation") == Some("submit")
                && h.labels.get("outcome") == Some("success")
        })
    }

    /// `_count` of every broker submit histogram (the retry query's numerator).
    pub fn submit_calls(&self) -> impl Iterator<Item = (&Labels, f64)> {
        self.histograms
            .iter()
            .filter(|h| h.family == BROKER_LATENCY && h.labels.get("operation") == Some("submit"))
            .map(|h| {
                (
                    &h.labels,
                    h.count
                        .unwrap_or_else(|| h.buckets.last().map_or(0.0, |b| b.1)),
                )
            })
    }
}

/// Orders whose `result` is failed or rejected (`result=~"failed|rejected"`).
pub fn is_failed(c: &Counter) -> bool {
    matches!(c.labels.get("result"), Some("failed" | "rejected"))
}

/// Guard trips the bot files as not recoverable.
pub fn is_nonrecoverable(c: &Counter) -> bool {
    c.labels.get("recoverable") == Some("false")
}

/// The `result` values the bot writes on its order counter.
pub const RESULTS: [&str; 3] = ["success", "rejected", "failed"];

/// Orders under a `result` the bot never writes (or none): never counted
/// as successes. The value shown for a missing label is `(none)`.
pub fn odd_result(c: &Counter) -> Option<String> {
    match c.labels.get("result") {
        Some(r) if RESULTS.contains(&r) => None,
        Some(r) => Some(r.to_owned()),
        None => Some("(none)".to_owned()),
    }
}

impl Snapshot {
    /// The distinct odd `result` values and how many orders they hold.
    pub fn odd_results(&self) -> (Vec<String>, f64) {
        let mut values: Vec<String> = Vec::new();
        let mut count = 0.0;
        for c in &self.orders {
            if let Some(v) = odd_result(c) {
                if !values.contains(&v) {
                    values.push(v);
                }
                count += c.value;
            }
        }
        (values, count)
    }

    /// The first value the signals read that no counter can hold: negative,
    /// infinite or NaN (a count, never below zero and always finite).
    pub fn implausible(&self) -> Option<String> {
        let bad = |v: f64| !v.is_finite() || v < 0.0;
        let name = |family: &str, labels: &Labels| {
            let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            format!("{family}{{{}}}", inner.join(","))
        };
        for (family, counters) in [(ORDERS, &self.orders), (GUARD_TRIPS, &self.guard_trips)] {
            if let Some(c) = counters.iter().find(|c| bad(c.value)) {
                return Some(format!(
                    "{} is {}: a counter is never negative or non-finite",
                    name(family, &c.labels),
                    c.value
                ));
            }
        }
        for h in self
            .histograms
            .iter()
            .filter(|h| h.family == BROKER_LATENCY)
        {
            let values = h.buckets.iter().map(|b| b.1).chain(h.count);
            if let Some(v) = values.into_iter().find(|v| bad(*v)) {
                return Some(format!(
                    "{} holds {v}: a count is never negative or non-finite",
                    h.series()
                ));
            }
        }
        None
    }
}

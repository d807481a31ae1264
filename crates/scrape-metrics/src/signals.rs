//! The four runbook §3.1 signals, from one scrape (lifetime) or from a
//! window of scrapes (as PromQL computes them), and the sample records.

use crate::histogram::{self, BucketMode, Reading};
use crate::promql::{self, Bucket, Point};
use crate::snapshot::{Counter, Labels, Snapshot, is_failed, is_nonrecoverable};
use canary_core::duration::format_duration;
use canary_core::thresholds::{self, Threshold};
use canary_core::{Kind, Level, Record};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Who is asking, about what.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub tool: &'a str,
    pub target: &'a str,
    pub source: &'a str,
    pub buckets: BucketMode,
}

impl Ctx<'_> {
    pub fn record(&self, kind: Kind, name: &str, level: Level) -> Record {
        Record::new(self.tool, self.target, kind, name, level).extra("source", self.source)
    }
}

/// A signal's value, or why there is none.
pub type Evidence = Result<f64, String>;

/// Build a signal record: thresholds from the one table, `unknown` without evidence.
fn signal(
    ctx: &Ctx<'_>,
    name: &str,
    th: Threshold,
    value: Evidence,
    what: &str,
    extra: Map<String, Value>,
) -> Record {
    let mut rec = ctx
        .record(Kind::Signal, name, Level::Unknown)
        .thresholds(th.record())
        .extra("unit", th.unit);
    for (k, v) in extra {
        rec = rec.extra(&k, v);
    }
    match value {
        Ok(v) if v.is_finite() => {
            let level = th.level(v);
            let shown = if th.unit == "ratio" {
                format!("{:.2} %", v * 100.0)
            } else {
                format!("{} {}", round3(v), th.unit)
            };
            let verdict = match level {
                Level::Ok => "ok".to_owned(),
                Level::Warn => format!("WARN (>= {})", th.warn),
                _ => format!("CRIT (>= {})", th.crit),
            };
            rec.level(level)
                .value(round9(v))
                .msg(format!("{what} {shown}: {verdict}"))
        }
        Ok(v) => rec.msg(format!("{what} is not a number ({v}): no evidence")),
        Err(why) => rec.msg(format!("{what} unknown: {why}")),
    }
}

/// The four runbook §3.1 signals: record name, threshold and wording, in
/// one place for the lifetime, windowed and Prometheus records alike.
#[derive(Debug, Clone, Copy)]
pub enum Sig {
    ErrorRate,
    RetryRate,
    P95,
    GuardTrips,
}

/// Whether a signal covers the bot's whole life or a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Lifetime,
    Window,
}

impl Sig {
    fn spec(self) -> (&'static str, Threshold, &'static str) {
        match self {
            Sig::ErrorRate => (
                "metrics.order_error_rate",
                thresholds::ORDER_ERROR_RATE,
                "order error rate",
            ),
            Sig::RetryRate => (
                "metrics.order_retry_rate",
                thresholds::ORDER_RETRY_RATE,
                "order retry rate",
            ),
            Sig::P95 => (
                "metrics.broker_latency_p95",
                thresholds::BROKER_LATENCY_P95_MS,
                "broker submit latency p95",
            ),
            Sig::GuardTrips => (
                "metrics.guard_trips",
                thresholds::GUARD_TRIPS_1H,
                "guard trips",
            ),
        }
    }

    /// The signal's record.
    pub fn record(
        self,
        ctx: &Ctx<'_>,
        value: Evidence,
        extra: Map<String, Value>,
        span: Span,
    ) -> Record {
        let (name, th, what) = self.spec();
        let what = match span {
            Span::Lifetime => format!("{what} since start"),
            Span::Window => what.to_owned(),
        };
        signal(ctx, name, th, value, &what, extra)
    }
}

fn round9(v: f64) -> f64 {
    (v * 1e9).round() / 1e9
}

fn round3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

fn ratio(num: f64, den: f64, none: &str) -> Evidence {
    if den > 0.0 {
        Ok(num / den)
    } else {
        Err(none.to_owned())
    }
}

/// `metrics.orders` and `metrics.guard_trips_total`: lifetime counter totals.
pub fn samples(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let by = |counters: &[Counter], label: &str| -> Map<String, Value> {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        for c in counters {
            *m.entry(c.labels.get(label).cloned().unwrap_or_default())
                .or_default() += c.value;
        }
        m.into_iter().map(|(k, v)| (k, json!(v))).collect()
    };
    let orders: f64 = snap.orders.iter().map(|c| c.value).fold(0.0, |a, b| a + b);
    let trips: f64 = snap
        .guard_trips
        .iter()
        .map(|c| c.value)
        .fold(0.0, |a, b| a + b);
    let present = snap.bot_samples > 0;
    let level = if present { Level::Ok } else { Level::Unknown };
    let why = if present {
        ""
    } else {
        " (no gpt_trader_ series in the body: is this the bot's /metrics?)"
    };
    vec![
        ctx.record(Kind::Sample, "metrics.orders", level)
            .value(orders)
            .extra("by_result", Value::Object(by(&snap.orders, "result")))
            .msg(format!(
                "{orders} order submissions since the bot started{why}"
            )),
        ctx.record(Kind::Sample, "metrics.guard_trips_total", level)
            .value(trips)
            .extra(
                "by_recoverable",
                Value::Object(by(&snap.guard_trips, "recoverable")),
            )
            .msg(format!("{trips} guard trips since the bot started{why}")),
    ]
}

/// `metrics.histogram`: one record per broker-latency series, and one per
/// other histogram whose buckets are not plain cumulative.
pub fn histogram_checks(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let mut out = Vec::new();
    for h in &snap.histograms {
        let read = histogram::read(h, ctx.buckets);
        let ours = h.family == crate::snapshot::BROKER_LATENCY;
        let (level, reading, msg) = match &read.reading {
            Reading::Cumulative if !ours => continue,
            Reading::Cumulative => (
                Level::Ok,
                "cumulative",
                format!("{}: buckets are valid cumulative counts", h.series()),
            ),
            Reading::DoubleCumulated { proven } => (
                Level::Warn,
                "double-cumulated",
                format!(
                    "{}: buckets are double-cumulated by the bot's exporter ({}); quantiles use the de-cumulated counts",
                    h.series(),
                    if *proven {
                        "a finite bucket exceeds +Inf"
                    } else {
                        "assumed: both readings fit, and the bot double-cumulates"
                    }
                ),
            ),
            Reading::Broken(why) => (
                Level::Unknown,
                "broken",
                format!(
                    "{}: invalid buckets ({why}); no quantile is computed from them",
                    h.series()
                ),
            ),
        };
        out.push(
            ctx.record(Kind::Check, "metrics.histogram", level)
                .value(reading)
                .extra("series", h.series())
                .msg(msg),
        );
    }
    out
}

/// The corrected buckets of every series under the p95 selector in one
/// scrape; `Err` when any of them is broken. The bool says a correction was applied.
/// Each series' name and corrected buckets.
type SeriesBuckets = Vec<(String, Vec<Bucket>)>;

fn submit_buckets(snap: &Snapshot, mode: BucketMode) -> Result<(SeriesBuckets, bool), String> {
    let mut out = Vec::new();
    let mut corrected = false;
    for h in snap.submit_success() {
        let read = histogram::read(h, mode);
        match (read.reading, read.buckets) {
            (Reading::DoubleCumulated { .. }, Some(b)) => {
                corrected = true;
                out.push((h.series(), b));
            }
            (Reading::Cumulative, Some(b)) => out.push((h.series(), b)),
            (Reading::Broken(why), _) => {
                return Err(format!("{} has invalid buckets ({why})", h.series()));
            }
            (_, None) => return Err(format!("{} has no usable buckets", h.series())),
        }
    }
    Ok((out, corrected))
}

/// Sum bucket lists by bound (`sum(...) by (le)`).
fn sum_by_le(lists: impl IntoIterator<Item = Vec<Bucket>>) -> Vec<Bucket> {
    let mut by: Vec<Bucket> = Vec::new();
    for list in lists {
        for b in list {
            match by.iter_mut().find(|x| x.upper == b.upper) {
                Some(x) => x.count += b.count,
                None => by.push(b),
            }
        }
    }
    by
}

const CORRECTION: &str = "de-cumulated the bot's double-cumulated buckets (bot-contracts §2.3)";

fn p95_ms(buckets: &[Bucket]) -> Evidence {
    let q = promql::histogram_quantile(0.95, buckets);
    if q.is_nan() {
        Err("no successful broker submits to take a quantile of".into())
    } else {
        Ok(q * 1000.0)
    }
}

/// The four signals from the counters' lifetime totals in one scrape.
pub fn lifetime(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let window = |m: &mut Map<String, Value>| {
        m.insert("window".into(), json!("lifetime"));
    };
    let orders: f64 = snap.orders.iter().map(|c| c.value).fold(0.0, |a, b| a + b);
    let failed: f64 = snap
        .orders
        .iter()
        .filter(|c| is_failed(c))
        .map(|c| c.value)
        .fold(0.0, |a, b| a + b);
    let calls: f64 = snap.submit_calls().map(|(_, v)| v).fold(0.0, |a, b| a + b);
    let no_orders = "no order submissions yet (a ratio over zero orders is no evidence)";

    let mut e = Map::new();
    window(&mut e);
    e.insert("numerator".into(), json!(failed));
    e.insert("denominator".into(), json!(orders));
    let err = signal(
        ctx,
        "metrics.order_error_rate",
        thresholds::ORDER_ERROR_RATE,
        ratio(failed, orders, no_orders),
        "order error rate since start",
        e,
    );

    let mut r = Map::new();
    window(&mut r);
    r.insert("numerator".into(), json!(calls - orders));
    r.insert("denominator".into(), json!(orders));
    let retry = signal(
        ctx,
        "metrics.order_retry_rate",
        thresholds::ORDER_RETRY_RATE,
        ratio(calls - orders, orders, no_orders),
        "order retry rate since start",
        r,
    );

    let mut p = Map::new();
    window(&mut p);
    let p95 = match submit_buckets(snap, ctx.buckets) {
        Ok((lists, corrected)) => {
            let summed = sum_by_le(lists.into_iter().map(|(_, b)| b));
            p.insert(
                "samples".into(),
                json!(summed.last().map_or(0.0, |b| b.count)),
            );
            if corrected {
                p.insert("correction".into(), json!(CORRECTION));
            }
            p95_ms(&summed)
        }
        Err(why) => Err(why),
    };
    let p95 = Sig::P95.record(ctx, p95, p, Span::Lifetime);

    let trips: f64 = snap
        .guard_trips
        .iter()
        .map(|c| c.value)
        .fold(0.0, |a, b| a + b);
    let nonrec: f64 = snap
        .guard_trips
        .iter()
        .filter(|c| is_nonrecoverable(c))
        .map(|c| c.value)
        .fold(0.0, |a, b| a + b);
    let mut g = Map::new();
    window(&mut g);
    g.insert("nonrecoverable".into(), json!(nonrec));
    g.insert("samples".into(), json!(trips));
    // Fewer lifetime trips than the WARN line bound the last hour's count
    // too; more say nothing about the last hour without a second scrape.
    let value = if snap.bot_samples == 0 {
        Err("no gpt_trader_ series in the body".to_owned())
    } else if trips < thresholds::GUARD_TRIPS_1H.warn {
        Ok(trips)
    } else {
        Err(format!(
            "{trips} trips since the bot started; the last hour's count needs a window of scrapes (--every or --state)"
        ))
    };
    let guard = Sig::GuardTrips.record(ctx, value, g, Span::Lifetime);
    vec![err, retry, p95, guard]
}

/// Per-series points of a counter family across the snapshots in
/// `[at - range, at]`. A series absent from a scrape in which the bot was
/// present counts as 0 there: the bot creates counters on first use, and a
/// restarted bot has not recreated them yet.
fn counter_points<'a>(
    snaps: &[&'a Snapshot],
    pick: impl Fn(&'a Snapshot) -> Vec<(&'a Labels, f64)>,
) -> BTreeMap<&'a Labels, Vec<Point>> {
    let per_snap: Vec<Vec<(&Labels, f64)>> = snaps.iter().map(|s| pick(s)).collect();
    let mut out: BTreeMap<&Labels, Vec<Point>> = BTreeMap::new();
    for series in per_snap.iter().flatten().map(|(l, _)| *l) {
        out.entry(series).or_default();
    }
    for (labels, points) in out.iter_mut() {
        for (snap, values) in snaps.iter().zip(&per_snap) {
            match values.iter().find(|(l, _)| l == labels) {
                Some((_, v)) => points.push((snap.t_ms, *v)),
                None if snap.bot_samples > 0 => points.push((snap.t_ms, 0.0)),
                None => {}
            }
        }
    }
    out
}

fn in_range(history: &[Snapshot], at: i64, range_ms: i64) -> Vec<&Snapshot> {
    history
        .iter()
        .filter(|s| s.t_ms >= at - range_ms && s.t_ms <= at)
        .collect()
}

/// Sums fold from +0.0: an empty `f64` sum is -0.0, which JSON shows as `-0`.
/// Sum of `increase()` over the series; `None` when no series had two points.
fn sum_increase(
    points: &BTreeMap<&Labels, Vec<Point>>,
    keep: impl Fn(&Labels) -> bool,
    at: i64,
    range: i64,
) -> Option<f64> {
    let values: Vec<f64> = points
        .iter()
        .filter(|(l, _)| keep(l))
        .filter_map(|(_, p)| promql::increase(p, at, range))
        .collect();
    (!values.is_empty()).then(|| values.iter().fold(0.0, |a, b| a + b))
}

fn ts(ms: i64) -> Value {
    jiff::Timestamp::from_millisecond(ms).map_or(Value::Null, |t| json!(t.to_string()))
}

/// The four signals over a window of scrapes, as the runbook's PromQL
/// computes them at the time of the newest scrape.
pub fn windowed(
    ctx: &Ctx<'_>,
    history: &[Snapshot],
    range: Duration,
    guard_range: Duration,
) -> Vec<Record> {
    let Some(at) = history.last().map(|s| s.t_ms) else {
        return vec![];
    };
    let range_ms = range.as_millis() as i64;
    let guard_ms = guard_range.as_millis() as i64;
    let snaps = in_range(history, at, range_ms);
    let frame = |m: &mut Map<String, Value>, r: Duration, n: usize| {
        m.insert("window".into(), json!(format_duration(r)));
        m.insert("window_start".into(), ts(at - r.as_millis() as i64));
        m.insert("window_end".into(), ts(at));
        m.insert("scrapes".into(), json!(n));
    };
    let too_few = format!(
        "fewer than two scrapes in the last {}",
        format_duration(range)
    );

    let orders = counter_points(&snaps, |s| {
        s.orders.iter().map(|c| (&c.labels, c.value)).collect()
    });
    let total = sum_increase(&orders, |_| true, at, range_ms);
    let failed = sum_increase(
        &orders,
        |l| {
            matches!(
                l.get("result").map(String::as_str),
                Some("failed" | "rejected")
            )
        },
        at,
        range_ms,
    );
    let no_orders = format!(
        "no order submissions in the last {} (a ratio over zero orders is no evidence)",
        format_duration(range)
    );

    let mut e = Map::new();
    frame(&mut e, range, snaps.len());
    let err = match total {
        None => Err(too_few.clone()),
        Some(t) => {
            let f = failed.unwrap_or(0.0);
            e.insert("numerator".into(), json!(round9(f)));
            e.insert("denominator".into(), json!(round9(t)));
            ratio(f, t, &no_orders)
        }
    };
    let err = Sig::ErrorRate.record(ctx, err, e, Span::Window);

    let calls = counter_points(&snaps, |s| s.submit_calls().collect());
    let mut r = Map::new();
    frame(&mut r, range, snaps.len());
    let retry = match (sum_increase(&calls, |_| true, at, range_ms), total) {
        (Some(c), Some(t)) => {
            r.insert("numerator".into(), json!(round9(c - t)));
            r.insert("denominator".into(), json!(round9(t)));
            ratio(c - t, t, &no_orders)
        }
        (None, Some(t)) if t > 0.0 => {
            Err("orders were submitted but no broker submit calls were counted".into())
        }
        (_, Some(_)) => Err(no_orders.clone()),
        _ => Err(too_few.clone()),
    };
    let retry = Sig::RetryRate.record(ctx, retry, r, Span::Window);

    let mut p = Map::new();
    frame(&mut p, range, snaps.len());
    let p95 = windowed_p95(&snaps, ctx.buckets, at, range_ms, &mut p)
        .and_then(|v| v.ok_or(too_few.clone()));
    let p95 = Sig::P95.record(ctx, p95, p, Span::Window);

    let gsnaps = in_range(history, at, guard_ms);
    let trips = counter_points(&gsnaps, |s| {
        s.guard_trips.iter().map(|c| (&c.labels, c.value)).collect()
    });
    let mut g = Map::new();
    frame(&mut g, guard_range, gsnaps.len());
    let guard = if gsnaps.len() < 2 {
        Err(format!(
            "fewer than two scrapes in the last {}",
            format_duration(guard_range)
        ))
    } else if gsnaps.iter().all(|s| s.bot_samples == 0) {
        Err("no gpt_trader_ series in the window".into())
    } else if covers(&gsnaps, at, guard_ms) {
        let nonrec = sum_increase(
            &trips,
            |l| l.get("recoverable").map(String::as_str) == Some("false"),
            at,
            guard_ms,
        );
        g.insert(
            "nonrecoverable".into(),
            json!(round9(nonrec.unwrap_or(0.0))),
        );
        // No guard series at all means no trip yet: the bot creates the counter on the first one.
        Ok(sum_increase(&trips, |_| true, at, guard_ms).unwrap_or(0.0))
    } else {
        partial_guard_trips(&trips, gsnaps.last().copied(), guard_range, &mut g)
    };
    let guard = Sig::GuardTrips.record(ctx, guard, g, Span::Window);
    vec![err, retry, p95, guard]
}

/// Whether the scrapes reach back to the start of `[at - range, at]`, as
/// PromQL judges it: the first within 110 % of the average scrape interval
/// of the range start.
fn covers(snaps: &[&Snapshot], at: i64, range_ms: i64) -> bool {
    let (Some(first), Some(last)) = (snaps.first(), snaps.last()) else {
        return false;
    };
    if snaps.len() < 2 || last.t_ms <= first.t_ms {
        return false;
    }
    let average = (last.t_ms - first.t_ms) as f64 / (snaps.len() - 1) as f64;
    ((first.t_ms - (at - range_ms)) as f64) < 1.1 * average
}

/// Guard trips when the scrapes cover only part of the guard window (the
/// first scrapes of a watch or of a cron state file). The trips seen in the
/// covered part are a floor of the window's count, the bot's lifetime total
/// a ceiling: a level is given only when those bounds settle it.
fn partial_guard_trips(
    trips: &BTreeMap<&Labels, Vec<Point>>,
    newest: Option<&Snapshot>,
    range: Duration,
    extra: &mut Map<String, Value>,
) -> Evidence {
    let floor = |keep: &dyn Fn(&Labels) -> bool| {
        trips
            .iter()
            .filter(|(l, _)| keep(l))
            .map(|(_, p)| promql::raw_increase(p))
            .fold(0.0, |a, b| a + b)
    };
    let ceiling = |keep: &dyn Fn(&Labels) -> bool| {
        newest.map_or(0.0, |s| {
            s.guard_trips
                .iter()
                .filter(|c| keep(&c.labels))
                .map(|c| c.value)
                .fold(0.0, |a, b| a + b)
        })
    };
    let nonrec = |l: &Labels| l.get("recoverable").map(String::as_str) == Some("false");
    let (low, high) = (floor(&|_| true), ceiling(&|_| true));
    let (low_nr, high_nr) = (floor(&nonrec), ceiling(&nonrec));
    extra.insert("covered".into(), json!(false));
    extra.insert("at_least".into(), json!(low));
    extra.insert("at_most".into(), json!(high));
    // Non-recoverable trips: known to be 0 only when the bot never had one.
    let nr = if high_nr == 0.0 {
        json!(0.0)
    } else if low_nr > 0.0 {
        json!(low_nr)
    } else {
        Value::Null
    };
    extra.insert("nonrecoverable".into(), nr);
    let warn = thresholds::GUARD_TRIPS_1H.warn;
    if low >= warn || high < warn {
        Ok(low)
    } else {
        Err(format!(
            "the scrapes cover less than the last {}: between {low} and {high} trips (the bot's lifetime count) fell in it",
            format_duration(range)
        ))
    }
}

/// `histogram_quantile(0.95, sum(rate(bucket{submit,success}[range])) by (le)) * 1000`
/// over corrected buckets. `Ok(None)`: too few scrapes.
fn windowed_p95(
    snaps: &[&Snapshot],
    mode: BucketMode,
    at: i64,
    range_ms: i64,
    extra: &mut Map<String, Value>,
) -> Result<Option<f64>, String> {
    // (series, le) → points
    let mut points: BTreeMap<(String, u64), (f64, Vec<Point>)> = BTreeMap::new();
    let mut corrected = false;
    for snap in snaps {
        let (lists, c) = submit_buckets(snap, mode)?;
        corrected |= c;
        for (series, buckets) in lists {
            for b in buckets {
                points
                    .entry((series.clone(), b.upper.to_bits()))
                    .or_insert((b.upper, Vec::new()))
                    .1
                    .push((snap.t_ms, b.count));
            }
        }
    }
    if corrected {
        extra.insert("correction".into(), json!(CORRECTION));
    }
    let mut by_le: Vec<Bucket> = Vec::new();
    for (upper, pts) in points.values() {
        if let Some(r) = promql::rate(pts, at, range_ms) {
            match by_le.iter_mut().find(|b| b.upper == *upper) {
                Some(b) => b.count += r,
                None => by_le.push(Bucket {
                    upper: *upper,
                    count: r,
                }),
            }
        }
    }
    if by_le.is_empty() {
        return Ok(None);
    }
    let observations = by_le
        .iter()
        .find(|b| b.upper == f64::INFINITY)
        .map_or(0.0, |b| b.count)
        * range_ms as f64
        / 1000.0;
    extra.insert("samples".into(), json!(round9(observations)));
    p95_ms(&by_le).map(Some)
}

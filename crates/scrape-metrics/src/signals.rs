//! The four runbook §3.1 signals, from one scrape (lifetime) or from a
//! window of scrapes (see `window`), the rules both share, and the sample
//! records.

use crate::histogram::{self, Broken, BucketMode, Reading};
use crate::promql::{self, Bucket};
use crate::proof::{BucketProof, Counts, RateProof};
use crate::round::round9;
use crate::snapshot::{Counter, Snapshot, is_failed, is_nonrecoverable};
use canary_core::signal_fields::{
    BucketMs, LatencyBucketsFields, LeCount, SignalFields, WindowFrame,
};
use canary_core::signals::{Signal, SignalId};
use canary_core::stats::Confidence;
use canary_core::thresholds::{Threshold, Unit};
use canary_core::{Kind, Level, Record};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where the evidence was read: every record's `source` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The bot's `/metrics` (or `--file`).
    Direct,
    /// A Prometheus server's samples of it.
    Prometheus,
}

impl Source {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Direct => "direct",
            Source::Prometheus => "prometheus",
        }
    }
}

/// Who is asking, about what.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub tool: &'a str,
    pub target: &'a str,
    pub source: Source,
    pub buckets: BucketMode,
    /// `--confidence`: the bounds every rate states.
    pub confidence: Confidence,
    /// Whether the counts are the bot's own or Prometheus' rebuild.
    pub counts: Counts,
}

impl Ctx<'_> {
    pub fn record(&self, kind: Kind, name: &str, level: Level) -> Record {
        Record::new(self.tool, self.target, kind, name, level).extra("source", self.source.as_str())
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
    fields: &SignalFields,
    note: Option<String>,
) -> Record {
    let rec = ctx
        .record(Kind::Signal, name, Level::Unknown)
        .thresholds(th.record())
        .extra("unit", th.unit)
        .with_payload(fields);
    match value {
        Ok(v) if v.is_finite() => {
            let level = th.level(v);
            let shown = if th.unit == Unit::Ratio {
                format!("{:.2} %", v * 100.0)
            } else {
                format!("{} {}", round3(v), th.unit)
            };
            let verdict = match level {
                Level::Ok => "ok".to_owned(),
                Level::Warn => format!("WARN (>= {})", th.warn_text()),
                _ => format!("CRIT (>= {})", th.crit_text()),
            };
            rec.level(level).value(round9(v)).msg(match note {
                Some(n) => format!("{what} {shown} ({n}): {verdict}"),
                None => format!("{what} {shown}: {verdict}"),
            })
        }
        Ok(v) => rec.msg(format!("{what} is not a number ({v}): no evidence")),
        Err(why) => rec.msg(format!("{what} unknown: {why}")),
    }
}

/// The four runbook §3.1 signals scrape-metrics computes from counters;
/// their record name, threshold and wording are their rows of
/// `canary_core::signals::SIGNALS`, for the lifetime, windowed and
/// Prometheus records alike.
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
    /// The signal's row of the one table (`canary_core::signals`): record
    /// name, thresholds and wording.
    pub fn spec(self) -> &'static Signal {
        match self {
            Sig::ErrorRate => SignalId::OrderErrorRate,
            Sig::RetryRate => SignalId::OrderRetryRate,
            Sig::P95 => SignalId::BrokerLatencyP95,
            Sig::GuardTrips => SignalId::GuardTrips,
        }
        .signal()
    }

    /// The signal's thresholds.
    pub fn threshold(self) -> Threshold {
        self.spec().threshold
    }

    /// The signal's record.
    pub fn record(
        self,
        ctx: &Ctx<'_>,
        value: Evidence,
        fields: SignalFields,
        span: Span,
    ) -> Record {
        let Signal {
            record: name,
            threshold: th,
            what,
            ..
        } = *self.spec();
        let what = match span {
            Span::Lifetime => format!("{what} since start"),
            Span::Window => what.to_owned(),
        };
        let mut fields = fields;
        let note = match &value {
            Ok(v) if v.is_finite() => self.prove(ctx, *v, th, &mut fields),
            _ => None,
        };
        signal(ctx, name, th, value, &what, &fields, note)
    }

    /// What the evidence behind `value` can prove: the rates' exact bounds
    /// from their integer counts, the p95's bucket (proof.rs). Adds the
    /// fields and returns the words for the message.
    fn prove(
        self,
        ctx: &Ctx<'_>,
        value: f64,
        th: Threshold,
        f: &mut SignalFields,
    ) -> Option<String> {
        match self {
            Sig::ErrorRate | Sig::RetryRate => {
                let (n, d) = (f.numerator?, f.denominator?);
                let odd = f.unknown_results.unwrap_or(0.0);
                f.counts = Some(ctx.counts);
                let proof = if let Sig::ErrorRate = self {
                    // Orders under an unknown result count as errors, as the value does.
                    RateProof::errors(n + odd, d, ctx.confidence)
                } else {
                    RateProof::retries(n, d, ctx.confidence)
                };
                let Some(proof) = proof else {
                    // Not whole counts: no bound, and the value read literally.
                    f.interval = Some(None);
                    f.proven_level = Some(th.level(value));
                    return None;
                };
                proof.fields(th, f);
                Some(match self {
                    Sig::ErrorRate => proof.describe("errors"),
                    _ => proof.describe("retries"),
                })
            }
            Sig::P95 => {
                let bucket = f.bucket_ms.as_ref()?;
                let proof = BucketProof {
                    lower_ms: bucket.lower,
                    upper_ms: bucket.upper.unwrap_or(f64::INFINITY),
                    observations: f.observations?,
                };
                proof.fields(value, th, ctx.confidence, f);
                Some(proof.describe())
            }
            Sig::GuardTrips => None,
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1e3).round() / 1e3
}

/// The order error rate: failed and rejected orders over all orders.
/// Orders under a `result` the bot never writes are never counted as
/// successes: counted as failures, and when counting them either way would
/// change the level, the rate is unknown.
pub(crate) fn error_rate(
    failed: f64,
    odd: f64,
    odd_values: &[String],
    total: f64,
    no_orders: &str,
) -> Evidence {
    if total <= 0.0 {
        return Err(no_orders.to_owned());
    }
    let worst = (failed + odd) / total;
    if odd <= 0.0 {
        return Ok(failed / total);
    }
    let th = Sig::ErrorRate.threshold();
    let best = failed / total;
    if th.level(best) == th.level(worst) {
        Ok(worst)
    } else {
        Err(format!(
            "{odd} order(s) under result {} that the bot never writes: as failures the rate is {:.2} %, as successes {:.2} %, and which they are cannot be told",
            odd_values.join(", "),
            worst * 100.0,
            best * 100.0
        ))
    }
}

/// The retry rate: broker submit calls beyond one per order, over orders.
/// Fewer calls than orders means some orders never reached the broker (a
/// pre-broker rejection) or the counters were caught mid-update: the
/// retries among the rest cannot be told, and a negative rate is never given.
pub(crate) fn retry_rate(calls: f64, orders: f64, no_orders: &str) -> Evidence {
    if orders <= 0.0 {
        Err(no_orders.to_owned())
    } else if calls <= 0.0 {
        Err("orders were submitted but no broker submit calls were counted".into())
    } else if calls < orders {
        Err(format!(
            "fewer broker submit calls than orders ({calls} < {orders}): some orders never reached the broker, so the retries among the rest cannot be told"
        ))
    } else {
        Ok((calls - orders) / orders)
    }
}

/// `metrics.order_result`: orders under a `result` the bot never writes.
pub(crate) fn odd_results_record(ctx: &Ctx<'_>, values: &[String], count: f64) -> Option<Record> {
    if values.is_empty() {
        return None;
    }
    Some(
        ctx.record(Kind::Check, "metrics.order_result", Level::Unknown)
            .value(values.to_vec())
            .extra("orders", count)
            .msg(format!(
                "{count} order(s) under result {} on {}: the bot writes only success, rejected and failed; they are never counted as successes",
                values.join(", "),
                crate::snapshot::ORDERS
            )),
    )
}

/// What a dry-run canary looks like from `/metrics`: its read-only broker
/// rejects every order, so every submission is `rejected` with reason
/// `broker_status`, and the error rate reads 100 %.
const DRY_RUN_NOTE: &str = "; every one rejected with reason broker_status, as a dry run's read-only broker (--dry-run or execution.dry_run/mock_broker) rejects every order: this canary places no real order and validates nothing";

fn looks_like_dry_run(snap: &Snapshot) -> bool {
    let total: f64 = snap.orders.iter().map(|c| c.value).sum();
    total > 0.0
        && snap.orders.iter().filter(|c| c.value > 0.0).all(|c| {
            c.labels.get("result") == Some("rejected")
                && c.labels.get("reason") == Some("broker_status")
        })
}

/// `metrics.orders` and `metrics.guard_trips_total`: lifetime counter totals.
pub fn samples(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let by = |counters: &[Counter], label: &str| -> Map<String, Value> {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        for c in counters {
            *m.entry(c.labels.get(label).unwrap_or_default().to_owned())
                .or_default() += c.value;
        }
        m.into_iter().map(|(k, v)| (k, Value::from(v))).collect()
    };
    let orders: f64 = snap.orders.iter().map(|c| c.value).fold(0.0, |a, b| a + b);
    let trips: f64 = snap
        .guard_trips
        .iter()
        .map(|c| c.value)
        .fold(0.0, |a, b| a + b);
    let present = snap.bot_samples > 0;
    let odd = snap.implausible();
    let level = if present && odd.is_none() {
        Level::Ok
    } else {
        Level::Unknown
    };
    let why = match &odd {
        _ if !present => {
            " (no gpt_trader_ series in the body: a bot still starting exports none, and neither does something that is not the bot's /metrics)".to_owned()
        }
        Some(why) => format!(" (not a count: {why})"),
        None => String::new(),
    };
    let dry = looks_like_dry_run(snap);
    let orders_rec = ctx
        .record(Kind::Sample, "metrics.orders", level)
        .value(orders)
        .extra("by_result", Value::Object(by(&snap.orders, "result")))
        .msg(format!(
            "{orders} order submissions since the bot started{why}{}",
            if dry { DRY_RUN_NOTE } else { "" }
        ));
    let orders_rec = if dry {
        orders_rec.extra("looks_like_dry_run", true)
    } else {
        orders_rec
    };
    vec![
        orders_rec,
        ctx.record(Kind::Sample, "metrics.guard_trips_total", level)
            .value(trips)
            .extra(
                "by_recoverable",
                Value::Object(by(&snap.guard_trips, "recoverable")),
            )
            .msg(format!("{trips} guard trips since the bot started{why}")),
    ]
    .into_iter()
    .chain({
        let (values, count) = snap.odd_results();
        odd_results_record(ctx, &values, count)
    })
    .chain(latency_buckets(ctx, snap, present && odd.is_none()))
    .collect()
}

/// `metrics.submit_latency_buckets`: the lifetime cumulative buckets of
/// successful broker submits (corrected), so judge can take the whole
/// window's p95 from their deltas. `le` in seconds, null for +Inf.
pub(crate) fn latency_buckets(ctx: &Ctx<'_>, snap: &Snapshot, trusted: bool) -> Option<Record> {
    let name = "metrics.submit_latency_buckets";
    let (lists, corrected) = match submit_buckets(snap, ctx.buckets) {
        Ok(b) => b,
        Err(why) => {
            return Some(
                ctx.record(Kind::Sample, name, Level::Unknown)
                    .msg(format!("submit latency buckets unreadable: {why}")),
            );
        }
    };
    if lists.is_empty() {
        return None;
    }
    let mut summed = sum_by_le(lists.into_iter().map(|(_, b)| b));
    summed.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    let total = summed.last().map_or(0.0, |b| b.count);
    let fields = LatencyBucketsFields {
        buckets: summed
            .iter()
            .map(|b| LeCount {
                le: Some(b.upper).filter(|u| u.is_finite()),
                count: b.count,
            })
            .collect(),
        correction: corrected.then(|| CORRECTION.to_owned()),
    };
    let level = if trusted { Level::Ok } else { Level::Unknown };
    Some(
        ctx.record(Kind::Sample, name, level)
            .value(total)
            .with_payload(&fields)
            .msg(format!(
                "{total} successful broker submits since the bot started, by latency bucket"
            )),
    )
}

/// The corrected buckets of every series under the p95 selector in one
/// scrape; `Err` when any of them is broken. The bool says a correction was applied.
/// Each series' name and corrected buckets.
pub(crate) type SeriesBuckets = Vec<(String, Vec<Bucket>)>;

/// A submit-latency series no quantile can be taken from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum SeriesError {
    #[error("{series} has invalid buckets ({why})")]
    Invalid { series: String, why: Broken },
    #[error("{series} has no usable buckets")]
    Unusable { series: String },
}

pub(crate) fn submit_buckets(
    snap: &Snapshot,
    mode: BucketMode,
) -> Result<(SeriesBuckets, bool), SeriesError> {
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
                return Err(SeriesError::Invalid {
                    series: h.series(),
                    why,
                });
            }
            (_, None) => return Err(SeriesError::Unusable { series: h.series() }),
        }
    }
    Ok((out, corrected))
}

/// Sum bucket lists by bound (`sum(...) by (le)`).
pub(crate) fn sum_by_le(lists: impl IntoIterator<Item = Vec<Bucket>>) -> Vec<Bucket> {
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

pub(crate) const CORRECTION: &str = "de-cumulated the bot's double-cumulated buckets";

/// The p95 in ms, and beside it (in `extra`) the bucket holding it and
/// the number of observations: the interpolated value is a guess inside
/// that bucket, the bucket is what the histogram proves.
pub(crate) fn p95_ms(buckets: &[Bucket], f: &mut SignalFields) -> Evidence {
    if let Some(b) = BucketProof::of(buckets) {
        f.bucket_ms = Some(BucketMs {
            lower: round9(b.lower_ms),
            upper: Some(b.upper_ms).filter(|u| u.is_finite()).map(round9),
        });
        f.observations = Some(round9(b.observations));
    }
    let q = promql::histogram_quantile(0.95, buckets);
    if q.is_nan() {
        Err("no successful broker submits to take a quantile of".into())
    } else {
        Ok(q * 1000.0)
    }
}

/// The four signals from the counters' lifetime totals in one scrape.
pub fn lifetime(ctx: &Ctx<'_>, snap: &Snapshot) -> Vec<Record> {
    let lifetime = || SignalFields {
        frame: WindowFrame {
            window: Some("lifetime".to_owned()),
            ..WindowFrame::default()
        },
        ..SignalFields::default()
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

    let (odd_values, odd) = snap.odd_results();
    // A value no counter can hold makes every signal from this scrape unknown.
    let trust = |ev: Evidence| match snap.implausible() {
        Some(why) => Err(why),
        None => ev,
    };

    let e = SignalFields {
        numerator: Some(failed),
        denominator: Some(orders),
        unknown_results: Some(odd).filter(|o| *o > 0.0),
        ..lifetime()
    };
    let err = Sig::ErrorRate.record(
        ctx,
        trust(error_rate(failed, odd, &odd_values, orders, no_orders)),
        e,
        Span::Lifetime,
    );

    let r = SignalFields {
        numerator: Some(calls - orders),
        denominator: Some(orders),
        ..lifetime()
    };
    let retry = Sig::RetryRate.record(
        ctx,
        trust(retry_rate(calls, orders, no_orders)),
        r,
        Span::Lifetime,
    );

    let mut p = lifetime();
    let p95 = match submit_buckets(snap, ctx.buckets) {
        Ok((lists, corrected)) => {
            let summed = sum_by_le(lists.into_iter().map(|(_, b)| b));
            p.samples = Some(summed.last().map_or(0.0, |b| b.count));
            p.buckets = Some(crate::promql::cumulative(&summed));
            p.correction = corrected.then(|| CORRECTION.to_owned());
            p95_ms(&summed, &mut p)
        }
        Err(why) => Err(why.to_string()),
    };
    let p95 = Sig::P95.record(ctx, trust(p95), p, Span::Lifetime);

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
    let g = SignalFields {
        samples: Some(trips),
        nonrecoverable: Some(Some(nonrec)),
        ..lifetime()
    };
    // Fewer lifetime trips than the WARN line bound the last hour's count
    // too; more say nothing about the last hour without a second scrape.
    let value = if snap.bot_samples == 0 {
        Err("no gpt_trader_ series in the body (a starting bot exports none)".to_owned())
    } else if trips < Sig::GuardTrips.threshold().warn {
        Ok(trips)
    } else {
        Err(format!(
            "{trips} trips since the bot started; the last hour's count needs a window of scrapes (--every or --state)"
        ))
    };
    let guard = Sig::GuardTrips.record(ctx, trust(value), g, Span::Lifetime);
    vec![err, retry, p95, guard]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ctx;
    use serde_json::json;

    /// Each signal's record takes its name, thresholds, unit and the words
    /// of its verdict from its row of the one table.
    #[test]
    fn records_come_from_the_signal_table() {
        for sig in [Sig::ErrorRate, Sig::RetryRate, Sig::P95, Sig::GuardTrips] {
            let row = sig.spec();
            let th = row.threshold;
            let rec = sig.record(&ctx(), Ok(th.crit), SignalFields::default(), Span::Window);
            assert_eq!(rec.name, row.record);
            assert_eq!(rec.level, Level::Crit, "{}", row.record);
            assert_eq!(rec.thresholds, Some(th.record()));
            assert_eq!(rec.extra.get("unit"), Some(&json!(th.unit.as_str())));
            assert_eq!(rec.extra.get("source"), Some(&json!("direct")));
            assert!(rec.msg.starts_with(row.what), "{}", rec.msg);
            assert!(
                rec.msg.ends_with(&format!("CRIT (>= {})", th.crit_text())),
                "{}",
                rec.msg
            );
            let unknown = sig.record(
                &ctx(),
                Err("x".into()),
                SignalFields::default(),
                Span::Lifetime,
            );
            assert_eq!(unknown.level, Level::Unknown);
            assert_eq!(unknown.msg, format!("{} since start unknown: x", row.what));
        }
    }

    #[test]
    fn every_record_names_where_its_evidence_was_read() {
        for (source, wire) in [
            (Source::Direct, "direct"),
            (Source::Prometheus, "prometheus"),
        ] {
            let ctx = Ctx { source, ..ctx() };
            let rec = ctx.record(Kind::Signal, "metrics.x", Level::Ok);
            assert_eq!(rec.extra.get("source"), Some(&json!(wire)));
        }
    }
}

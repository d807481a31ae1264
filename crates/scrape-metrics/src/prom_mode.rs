//! Prometheus mode's records: the same signal and sample records as direct
//! mode, from the verbatim queries, per group (one instance, or each
//! instance of a fleet).

use crate::histogram::BucketMode;
use crate::prometheus::{
    Element, Prom, QueryError, Scope, broken_series, corrected_p95, group, wants_correction,
};
use crate::signals::{Ctx, Evidence, Sig, Span};
use canary_core::thresholds;
use canary_core::{Kind, Level, Record, diag};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

type Answer = Result<Vec<Element>, QueryError>;

fn sums(answer: &Answer, fleet: bool) -> BTreeMap<String, f64> {
    answer
        .as_ref()
        .map(|v| v.iter().map(|e| (group(e, fleet), e.value)).collect())
        .unwrap_or_default()
}

fn fetch_error(ctx: &Ctx<'_>, e: &QueryError) -> Record {
    diag(
        ctx.tool,
        "error",
        &format!("Prometheus {}: query {}: {}", ctx.target, e.query, e.why),
    );
    ctx.record(Kind::Error, "metrics.fetch", Level::Unknown)
        .extra("query", e.query.as_str())
        .msg(format!("Prometheus query failed: {}: {}", e.query, e.why))
}

/// Every record of one Prometheus evaluation.
pub fn evaluate(base: &Ctx<'_>, prom: &Prom<'_>, scope: &Scope, mode: BucketMode) -> Vec<Record> {
    let present = prom.query(&scope.bot_present());
    if let Err(e) = &present {
        return vec![fetch_error(base, e)];
    }
    let fleet = scope.fleet;
    let answers: BTreeMap<&str, (String, Answer)> = [
        ("err", scope.error_rate()),
        ("orders", scope.order_rate()),
        ("retry", scope.retry_rate()),
        ("p95", scope.p95()),
        ("raw", scope.raw_buckets()),
        ("rates", scope.bucket_rates()),
        ("trips", scope.guard_trips()),
        ("nonrec", scope.nonrecoverable_trips()),
        ("order_totals", scope.order_totals()),
        ("trip_totals", scope.trip_totals()),
        ("coverage", scope.guard_coverage()),
    ]
    .into_iter()
    .map(|(k, q)| {
        let a = prom.query(&q);
        (k, (q, a))
    })
    .collect();
    let mut out = Vec::new();
    for (_, a) in answers.values() {
        if let Err(e) = a {
            out.push(fetch_error(base, e));
        }
    }
    let present = sums(&present, fleet);
    let mut groups: BTreeSet<String> = present.keys().cloned().collect();
    if !fleet {
        groups.insert(String::new());
    }
    for g in groups {
        let target = if g.is_empty() {
            base.target.to_owned()
        } else {
            g.clone()
        };
        let ctx = Ctx {
            target: &target,
            ..*base
        };
        out.extend(group_records(
            &ctx,
            &answers,
            &g,
            present.contains_key(&g),
            fleet,
            mode,
        ));
    }
    out
}

fn value_of(
    answers: &BTreeMap<&str, (String, Answer)>,
    key: &str,
    g: &str,
    fleet: bool,
) -> Result<Option<f64>, String> {
    match answers.get(key) {
        Some((_, Ok(v))) => Ok(v.iter().find(|e| group(e, fleet) == g).map(|e| e.value)),
        Some((q, Err(e))) => Err(format!("query failed ({q}): {}", e.why)),
        None => Err("query not run".into()),
    }
}

fn query_of<'a>(answers: &'a BTreeMap<&str, (String, Answer)>, key: &str) -> &'a str {
    answers.get(key).map_or("", |(q, _)| q.as_str())
}

fn base_extra(
    answers: &BTreeMap<&str, (String, Answer)>,
    key: &str,
    window: &str,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("window".into(), json!(window));
    m.insert("query".into(), json!(query_of(answers, key)));
    m
}

fn finite(v: f64, none: &str) -> Evidence {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(none.to_owned())
    }
}

fn group_records(
    ctx: &Ctx<'_>,
    answers: &BTreeMap<&str, (String, Answer)>,
    g: &str,
    bot_present: bool,
    fleet: bool,
    mode: BucketMode,
) -> Vec<Record> {
    let (range, guard_range) = (ctx_range(answers), ctx_guard_range(answers));
    let no_data =
        "no data: Prometheus has no series of the bot for this selector (is it scraping the bot?)"
            .to_owned();
    let no_orders = format!(
        "no order submissions in the last {range} (a ratio over zero orders is no evidence)"
    );
    let orders = value_of(answers, "orders", g, fleet);

    let err = match (value_of(answers, "err", g, fleet), &orders) {
        (Err(e), _) => Err(e),
        (Ok(Some(v)), _) => finite(v, &no_orders),
        // The failure series do not exist until the first failure: 0 errors, if there were orders.
        (Ok(None), Ok(Some(o))) if *o > 0.0 => Ok(0.0),
        (Ok(None), Ok(Some(_))) => Err(no_orders.clone()),
        (Ok(None), _) => Err(no_data.clone()),
    };
    let err = Sig::ErrorRate.record(ctx, err, base_extra(answers, "err", &range), Span::Window);

    let retry = match value_of(answers, "retry", g, fleet) {
        Err(e) => Err(e),
        Ok(Some(v)) => finite(v, &no_orders),
        Ok(None) => Err(if matches!(orders, Ok(Some(_))) {
            no_orders.clone()
        } else {
            no_data.clone()
        }),
    };
    let retry = Sig::RetryRate.record(
        ctx,
        retry,
        base_extra(answers, "retry", &range),
        Span::Window,
    );

    let mut p = base_extra(answers, "p95", &range);
    let verbatim = value_of(answers, "p95", g, fleet);
    let broken = match answers.get("raw") {
        Some((_, Ok(raw))) => broken_series(raw, fleet).remove(g).unwrap_or_default(),
        _ => vec![],
    };
    let p95 = if broken.is_empty() && mode != BucketMode::Double {
        p.insert("verbatim_reliable".into(), json!(true));
        match verbatim {
            Ok(Some(v)) => finite(v, "no successful broker submits in the window"),
            Ok(None) => Err(no_data.clone()),
            Err(e) => Err(e),
        }
    } else {
        if let Ok(Some(v)) = verbatim {
            p.insert("verbatim_ms".into(), json!(v));
        }
        p.insert("verbatim_reliable".into(), json!(false));
        p.insert("broken_series".into(), json!(broken));
        p.insert("correction_query".into(), json!(query_of(answers, "rates")));
        match answers.get("rates") {
            Some((_, Ok(rates))) if wants_correction(mode) => {
                let mine: Vec<Element> = rates.iter().filter(|e| group(e, fleet) == g).cloned().collect();
                p.insert("correction".into(), json!("de-cumulated the bot's double-cumulated buckets from the raw per-bucket rates"));
                corrected_p95(&mine, true)
            }
            Some((_, Ok(_))) => Err("the bot's buckets are not monotonic, and --buckets cumulative forbids correcting them".into()),
            Some((q, Err(e))) => Err(format!("query failed ({q}): {}", e.why)),
            None => Err("query not run".into()),
        }
    };
    let p95 = Sig::P95.record(ctx, p95, p, Span::Window);

    let mut gx = base_extra(answers, "trips", &guard_range);
    let trips = guard_trips(
        answers,
        g,
        fleet,
        bot_present,
        &guard_range,
        &no_data,
        &mut gx,
    );
    let trips = Sig::GuardTrips.record(ctx, trips, gx, Span::Window);

    let mut out = vec![err, retry, p95, trips];
    out.extend(samples(ctx, answers, g, fleet, bot_present));
    out
}

/// The guard-trip signal: the runbook's `increase(...[1h])`, trusted only
/// when Prometheus' data reach back to the window's start. Otherwise the
/// increase it saw is a floor and the bot's lifetime total a ceiling, and a
/// level is given only when those bounds settle it. A failed query is never 0.
fn guard_trips(
    answers: &BTreeMap<&str, (String, Answer)>,
    g: &str,
    fleet: bool,
    bot_present: bool,
    guard_range: &str,
    no_data: &str,
    extra: &mut Map<String, Value>,
) -> Evidence {
    let nonrec = match value_of(answers, "nonrec", g, fleet) {
        Ok(Some(v)) => Some(v),
        // No non-recoverable series means none so far, if the bot is there.
        Ok(None) if bot_present => Some(0.0),
        _ => None,
    };
    let observed = match value_of(answers, "trips", g, fleet) {
        Err(e) => return Err(e),
        Ok(Some(v)) => v,
        // No guard trip so far means no series at all: 0, if the bot is there.
        Ok(None) if bot_present => 0.0,
        Ok(None) => return Err(no_data.to_owned()),
    };
    let covered = match answers.get("coverage") {
        Some((_, Ok(elems))) => {
            let mine: Vec<&Element> = elems
                .iter()
                .filter(|e| !fleet || group(e, fleet) == g)
                .collect();
            !mine.is_empty() && mine.iter().all(|e| e.value == 1.0)
        }
        _ => false,
    };
    extra.insert("covered".into(), json!(covered));
    if covered {
        extra.insert(
            "nonrecoverable".into(),
            nonrec.map_or(Value::Null, |v| json!(v)),
        );
        return finite(observed, "not a number");
    }
    let lifetime = |keep: &dyn Fn(&Element) -> bool| -> Option<f64> {
        let (_, Ok(elems)) = answers.get("trip_totals")? else {
            return None;
        };
        Some(
            elems
                .iter()
                .filter(|e| group(e, fleet) == g && keep(e))
                .map(|e| e.value)
                .fold(0.0, |a, b| a + b),
        )
    };
    let high = lifetime(&|_| true);
    let high_nr = lifetime(&|e| e.labels.get("recoverable").map(String::as_str) == Some("false"));
    extra.insert("at_least".into(), json!(observed));
    extra.insert("at_most".into(), high.map_or(Value::Null, |v| json!(v)));
    let nr = match (high_nr, nonrec) {
        (Some(0.0), _) => json!(0.0),
        (_, Some(n)) if n > 0.0 => json!(n),
        _ => Value::Null,
    };
    extra.insert("nonrecoverable".into(), nr);
    let warn = thresholds::GUARD_TRIPS_1H.warn;
    match high {
        _ if observed >= warn => finite(observed, "not a number"),
        Some(h) if h < warn => finite(observed, "not a number"),
        _ => Err(format!(
            "Prometheus' data do not reach back {guard_range}: at least {observed} trips, and up to {} (the bot's lifetime count)",
            high.map_or("an unknown number".to_owned(), |h| h.to_string())
        )),
    }
}

fn samples(
    ctx: &Ctx<'_>,
    answers: &BTreeMap<&str, (String, Answer)>,
    g: &str,
    fleet: bool,
    present: bool,
) -> Vec<Record> {
    let split = |key: &str, label: &str| -> Option<(f64, Map<String, Value>)> {
        let (_, Ok(elems)) = answers.get(key)? else {
            return None;
        };
        let mut by = Map::new();
        let mut total = 0.0;
        for e in elems.iter().filter(|e| group(e, fleet) == g) {
            total += e.value;
            by.insert(
                e.labels.get(label).cloned().unwrap_or_default(),
                json!(e.value),
            );
        }
        Some((total, by))
    };
    let level = if present { Level::Ok } else { Level::Unknown };
    let mut out = Vec::new();
    if let Some((total, by)) = split("order_totals", "result") {
        out.push(
            ctx.record(Kind::Sample, "metrics.orders", level)
                .value(total)
                .extra("by_result", Value::Object(by))
                .msg(format!("{total} order submissions since the bot started")),
        );
    }
    if let Some((total, by)) = split("trip_totals", "recoverable") {
        out.push(
            ctx.record(Kind::Sample, "metrics.guard_trips_total", level)
                .value(total)
                .extra("by_recoverable", Value::Object(by))
                .msg(format!("{total} guard trips since the bot started")),
        );
    }
    out
}

/// The rate range, read back from the error-rate query (`[5m]`).
fn ctx_range(answers: &BTreeMap<&str, (String, Answer)>) -> String {
    bracket(query_of(answers, "orders"))
}

fn ctx_guard_range(answers: &BTreeMap<&str, (String, Answer)>) -> String {
    bracket(query_of(answers, "trips"))
}

fn bracket(q: &str) -> String {
    q.rsplit_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .map_or(String::new(), |(r, _)| r.to_owned())
}

//! The money records from a Prometheus server: the raw samples of each
//! money gauge (and of the order counter) over its window, rebuilt into one
//! point per scrape timestamp and judged exactly as direct mode judges its
//! own scrapes. Prometheus' own `max_over_time` and `min_over_time` over
//! the gauges are reported beside (`prometheus` field), a cross-check that
//! the path through Prometheus reads the gauge as a gauge.

use crate::cli::Cli;
use crate::labels::Labels;
use crate::money::{self, Config, Point};
use crate::money_gauges::{API_ERROR_RATE, BREAKER, EQUITY, Gauges, RATE_LIMIT_USAGE};
use crate::prometheus::{Prom, Series};
use crate::signals::Ctx;
use crate::snapshot::{Counter, ORDERS, Snapshot};
use canary_core::Record;
use canary_core::duration::format_duration;
use canary_core::http::HttpOptions;
use serde::Serialize;
use std::collections::BTreeMap;

fn strip(labels: &BTreeMap<String, String>) -> Labels {
    labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "instance" | "job"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One group's rebuilt points and counter scrapes.
#[derive(Default)]
struct Group {
    points: BTreeMap<i64, Point>,
    orders: BTreeMap<i64, Snapshot>,
    checks: BTreeMap<String, CrossCheck>,
}

/// What Prometheus' own query gave for one money signal, shown beside the
/// value computed from the raw samples (`prometheus` on each record).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum CrossCheck {
    Failed {
        query: String,
        error: String,
    },
    ByCategory {
        query: String,
        by_category: BTreeMap<String, f64>,
    },
    Value {
        query: String,
        value: f64,
    },
}

/// Every money record of one Prometheus round.
pub fn evaluate(
    ctx: &Ctx<'_>,
    cfg: &Config,
    cli: &Cli,
    base: &str,
    opts: HttpOptions,
) -> Vec<Record> {
    let prom = Prom {
        base,
        opts,
        deadline: std::time::Instant::now() + cli.timeout,
    };
    let sel = cli.instance.as_ref().map_or(String::new(), |i| {
        format!("{{instance={}}}", crate::prometheus::promql_string(i))
    });
    let (mw, w) = (
        format_duration(cfg.money_window),
        format_duration(cfg.window),
    );
    let w2 = format_duration(cfg.window * 2);
    let matrices = [
        (EQUITY, format!("{EQUITY}{sel}[{mw}]")),
        (BREAKER, format!("{BREAKER}{sel}[{w}]")),
        (API_ERROR_RATE, format!("{API_ERROR_RATE}{sel}[{w}]")),
        (RATE_LIMIT_USAGE, format!("{RATE_LIMIT_USAGE}{sel}[{w}]")),
        (ORDERS, format!("{ORDERS}{sel}[{w2}]")),
    ];
    let by = if cli.fleet { " by (instance)" } else { "" };
    let by_cat = if cli.fleet {
        " by (category, instance)"
    } else {
        " by (category)"
    };
    let checks = [
        (
            "equity_max_over_time",
            format!("max{by} (max_over_time({EQUITY}{sel}[{mw}]))"),
        ),
        (
            "equity_min_over_time",
            format!("min{by} (min_over_time({EQUITY}{sel}[{mw}]))"),
        ),
        (
            "breaker_max_over_time",
            format!("max{by_cat} (max_over_time({BREAKER}{sel}[{w}]))"),
        ),
    ];
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let group_of = |labels: &BTreeMap<String, String>| {
        if cli.fleet {
            labels.get("instance").cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    let mut instances: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for (family, q) in &matrices {
        let series: Vec<Series> = match prom.matrix(q) {
            Ok(s) => s,
            // Unreachable: the round's metrics.fetch already says so, as in direct mode.
            Err(e) if e.unreachable => return vec![],
            Err(e) => {
                return money::unknown(
                    ctx,
                    cfg,
                    &format!("Prometheus query failed ({q}): {}", e.why),
                );
            }
        };
        for s in series {
            let g = group_of(&s.labels);
            instances
                .entry(g.clone())
                .or_default()
                .insert(s.labels.get("instance").cloned().unwrap_or_default());
            let group = groups.entry(g).or_default();
            for &(t, v) in &s.points {
                if *family == ORDERS {
                    let snap = group.orders.entry(t).or_insert_with(|| Snapshot::empty(t));
                    snap.bot_samples += 1;
                    snap.orders.push(Counter {
                        labels: strip(&s.labels),
                        value: v,
                    });
                } else {
                    let p = group.points.entry(t).or_insert_with(|| Point {
                        t_ms: t,
                        gauges: Gauges::default(),
                    });
                    p.gauges.take(family, &strip(&s.labels), v);
                }
            }
        }
    }
    for (key, q) in &checks {
        // A failed cross-check is reported, not fatal: the values come from the raw samples.
        let answer = prom.query(q);
        let elements = match answer {
            Ok(e) => e,
            Err(e) => {
                for g in groups.values_mut() {
                    g.checks.insert(
                        (*key).into(),
                        CrossCheck::Failed {
                            query: q.clone(),
                            error: e.why.clone(),
                        },
                    );
                }
                continue;
            }
        };
        for e in elements {
            let g = groups.entry(group_of(&e.labels)).or_default();
            let v = match e.labels.get("category") {
                Some(cat) => {
                    let entry = g.checks.entry((*key).to_owned()).or_insert_with(|| {
                        CrossCheck::ByCategory {
                            query: q.clone(),
                            by_category: BTreeMap::new(),
                        }
                    });
                    if let CrossCheck::ByCategory { by_category, .. } = entry {
                        by_category.insert(cat.clone(), e.value);
                    }
                    continue;
                }
                None => CrossCheck::Value {
                    query: q.clone(),
                    value: e.value,
                },
            };
            g.checks.insert((*key).into(), v);
        }
    }
    if groups.is_empty() && !cli.fleet {
        groups.insert(String::new(), Group::default());
    }
    let mut out = Vec::new();
    for (g, group) in groups {
        let target = if g.is_empty() {
            ctx.target.to_owned()
        } else {
            g.clone()
        };
        let gctx = Ctx {
            target: &target,
            ..*ctx
        };
        let n = instances.get(&g).map_or(0, |i| i.len());
        let recs = if n > 1 {
            money::unknown(
                &gctx,
                cfg,
                &format!(
                    "the selector matches {n} bots (instances): equity and orders are per bot; pass --instance or --fleet"
                ),
            )
        } else if group.points.is_empty() {
            money::unknown(
                &gctx,
                cfg,
                "no data: Prometheus has no money gauge of the bot for this selector (absent is unknown, never ok)",
            )
        } else {
            let points: Vec<Point> = group.points.into_values().collect();
            let history: Vec<Snapshot> = group.orders.into_values().collect();
            money::records(&gctx, cfg, &points, &history, false)
        };
        let checks = serde_json::to_value(&group.checks).unwrap_or_default();
        out.extend(recs.into_iter().map(|r| {
            if matches!(
                r.name.as_str(),
                "metrics.drawdown" | "metrics.equity" | "metrics.circuit_breaker"
            ) {
                r.extra("prometheus", checks.clone())
            } else {
                r
            }
        }));
    }
    out
}

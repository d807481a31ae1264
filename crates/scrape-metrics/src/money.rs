//! Money at risk (docs/money.md): the equity drawdown against the bot's
//! daily loss limit, the broker client's circuit breakers, the order rate
//! against a ceiling, and the client's API error rate and rate-limit usage.
//!
//! Gauges are read as gauges: the lowest, highest and last value in the
//! window, never a rate. A gauge the bot does not export is unknown, never
//! ok; a window whose newest scrape lacks the gauge (a restarting bot) is
//! unknown too, unless what was already seen is CRIT, which no later value
//! can undo. The same records come from direct scrapes, a `--state` or
//! `--every` window, and Prometheus' raw samples.

use crate::counters::Span;
use crate::error::ArgError;
use crate::money_gauges::{API_ERROR_RATE, BREAKER, EQUITY, Gauges, RATE_LIMIT_USAGE};
use crate::round::round9;
use crate::signals::Ctx;
use crate::snapshot::Snapshot;
use canary_core::duration::{format_duration, parse_duration};
use canary_core::signal_fields::{MoneyFields, WindowFrame};
use canary_core::signals::{Signal, SignalId};
use canary_core::thresholds::Threshold;
use canary_core::{Kind, Level, Record, diag};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The default order-rate ceiling, orders per minute (docs/money.md#order-rate).
pub const DEFAULT_MAX_ORDERS_PER_MINUTE: f64 = 1800.0;
/// The environment variable the bot's risk config reads its daily loss limit from.
pub const LOSS_LIMIT_ENV: &str = "RISK_DAILY_LOSS_LIMIT_PCT";

/// The money options of the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct MoneyArgs {
    /// The bot's daily loss limit, a fraction of equity (0.05 = 5 %), the
    /// drawdown's 100 % line. Default: RISK_DAILY_LOSS_LIMIT_PCT, parsed as
    /// the bot parses it; with neither, any drawdown above zero is unknown.
    #[arg(long, value_name = "FRACTION", value_parser = parse_limit)]
    pub daily_loss_limit_pct: Option<f64>,

    /// The order-rate ceiling, in orders per minute (WARN at 80 %, CRIT at
    /// 100 %). Default: from --profile, else 1800.
    #[arg(long, value_name = "N", value_parser = parse_ceiling)]
    pub max_orders_per_minute: Option<f64>,

    /// The canary's profile: the order-rate ceiling is its symbols x 60 /
    /// interval x 10 orders a minute (one order per symbol per cycle, with
    /// room to spare).
    #[arg(long, value_name = "FILE", conflicts_with = "max_orders_per_minute")]
    pub profile: Option<std::path::PathBuf>,

    /// Window of the equity drawdown (its start is the drawdown's basis).
    #[arg(long, default_value = "6h", value_parser = parse_duration, value_name = "DUR")]
    pub money_window: Duration,
}

/// `--daily-loss-limit-pct`: a fraction in (0, 1].
pub fn parse_limit(s: &str) -> Result<f64, ArgError> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| ArgError::NotANumber(s.to_owned()))?;
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(ArgError::Limit(s.to_owned()))
    }
}

fn parse_ceiling(s: &str) -> Result<f64, ArgError> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| ArgError::NotANumber(s.to_owned()))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(ArgError::Ceiling(s.to_owned()))
    }
}

/// The daily loss limit the drawdown is judged against.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    Known { pct: f64, source: &'static str },
    Unknown(String),
}

impl Limit {
    /// From the flag, else the environment as the bot parses it (Python's
    /// `float()`); a limit of zero or less means the bot enforces none.
    pub fn resolve(args: &MoneyArgs, env: Option<String>) -> Limit {
        Limit::from_flag_or_env(args.daily_loss_limit_pct, env)
    }

    /// The flag's value, else the environment's (see `resolve`).
    pub fn from_flag_or_env(flag: Option<f64>, env: Option<String>) -> Limit {
        if let Some(pct) = flag {
            return Limit::Known {
                pct,
                source: "--daily-loss-limit-pct",
            };
        }
        let Some(raw) = env else {
            return Limit::Unknown(format!(
                "no daily loss limit: pass --daily-loss-limit-pct or set {LOSS_LIMIT_ENV}"
            ));
        };
        match check_profile::pynum::py_float(&raw) {
            Ok(pct) if pct.is_finite() && pct > 0.0 => Limit::Known {
                pct,
                source: LOSS_LIMIT_ENV,
            },
            Ok(pct) => Limit::Unknown(format!(
                "{LOSS_LIMIT_ENV}={raw} is {pct}: the bot enforces no daily loss limit, so none can be measured against"
            )),
            Err(e) => Limit::Unknown(format!("{LOSS_LIMIT_ENV}={raw}: {}", e.0)),
        }
    }

    fn pct(&self) -> Option<f64> {
        match self {
            Limit::Known { pct, .. } => Some(*pct),
            Limit::Unknown(_) => None,
        }
    }
}

/// One scrape's money gauges, at its time. `--state` keeps these for the
/// whole money window, apart from the (larger) scrapes the counters need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub t_ms: i64,
    #[serde(flatten)]
    pub gauges: Gauges,
}

/// Add the newest point and forget those older than the money window.
pub fn keep(points: &mut Vec<Point>, newest: Point, window: Duration) {
    points.retain(|p| p.t_ms < newest.t_ms);
    let horizon = newest.t_ms - window.as_millis() as i64;
    points.push(newest);
    points.retain(|p| p.t_ms >= horizon);
}

/// What the money records need besides the scrapes.
#[derive(Debug, Clone)]
pub struct Config {
    pub limit: Limit,
    pub max_orders_per_minute: f64,
    /// Where the ceiling comes from (flag, profile, default).
    pub ceiling_source: String,
    pub money_window: Duration,
    /// The rate window (`--window`): breakers, API gauges and order rate.
    pub window: Duration,
}

impl Config {
    pub fn new(args: &MoneyArgs, window: Duration) -> anyhow::Result<Config> {
        let limit = Limit::resolve(args, std::env::var(LOSS_LIMIT_ENV).ok());
        if let Limit::Unknown(why) = &limit
            && std::env::var_os(LOSS_LIMIT_ENV).is_some()
        {
            diag(crate::tool::TOOL, "warning", why);
        }
        let ceiling = crate::ceiling::resolve(
            args.max_orders_per_minute,
            args.profile.as_deref(),
            DEFAULT_MAX_ORDERS_PER_MINUTE,
        )?;
        Ok(Config {
            limit,
            max_orders_per_minute: ceiling.per_minute,
            ceiling_source: ceiling.source,
            money_window: args.money_window,
            window,
        })
    }
}

fn ts(ms: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).ok()
}

/// A signal record: its name, thresholds and wording from its row of the
/// one signal table (`canary_core::signals`).
fn signal(
    ctx: &Ctx<'_>,
    id: SignalId,
    value: Result<f64, String>,
    shown: impl Fn(f64) -> String,
    fields: &MoneyFields,
) -> Record {
    let Signal {
        record: name,
        threshold: th,
        what,
        ..
    } = *id.signal();
    let rec = ctx
        .record(Kind::Signal, name, Level::Unknown)
        .thresholds(th.record())
        .extra("unit", th.unit)
        .with_payload(fields);
    match value {
        Ok(v) if v.is_finite() => {
            let level = th.level(v);
            let verdict = match level {
                Level::Ok => "ok".to_owned(),
                Level::Warn => format!("WARN (>= {})", th.warn_text()),
                _ => format!("CRIT (>= {})", th.crit_text()),
            };
            rec.level(level)
                .value(round9(v))
                .msg(format!("{what} {}: {verdict}", shown(v)))
        }
        Ok(v) => rec.msg(format!("{what} is not a number ({v}): no evidence")),
        Err(why) => rec.msg(format!("{what} unknown: {why}")),
    }
}

fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

/// The points in `[at - range, at]`.
fn within(points: &[Point], at: i64, range: Duration) -> Vec<&Point> {
    let start = at - range.as_millis() as i64;
    points
        .iter()
        .filter(|s| s.t_ms >= start && s.t_ms <= at)
        .collect()
}

/// Every money record at the newest point (`points` sorted by time; the
/// counter scrapes `history` give the order rate). `one_shot`: a single
/// scrape, no window.
pub fn records(
    ctx: &Ctx<'_>,
    cfg: &Config,
    points: &[Point],
    history: &[Snapshot],
    one_shot: bool,
) -> Vec<Record> {
    let Some(at) = points.last().map(|s| s.t_ms) else {
        return vec![];
    };
    let mut out = vec![];
    let money = within(points, at, cfg.money_window);
    out.extend(equity(ctx, cfg, &money, at));
    let recent = within(points, at, cfg.window);
    out.push(breaker(ctx, cfg, &recent, at));
    // A rate needs two scrapes: none from one shot or a first scrape (the
    // lifetime count says nothing of a rate without the bot's uptime).
    let span = Span::of(history, at, cfg.window.as_millis() as i64);
    if !one_shot && span.usable() {
        out.push(order_rate(ctx, cfg, &span, at));
    }
    for (id, family, get) in [
        (
            SignalId::ApiErrorRate,
            API_ERROR_RATE,
            (|g: &Gauges| g.api_error_rate) as fn(&Gauges) -> Option<f64>,
        ),
        (SignalId::RateLimitUsage, RATE_LIMIT_USAGE, |g: &Gauges| {
            g.rate_limit_usage
        }),
    ] {
        out.push(gauge_max(ctx, cfg, &recent, at, id, family, get));
    }
    out
}

/// Every money record, unknown for one reason (a failed query, no data).
pub fn unknown(ctx: &Ctx<'_>, cfg: &Config, why: &str) -> Vec<Record> {
    let sig = |id: SignalId, range: Duration| {
        let fields = MoneyFields {
            frame: WindowFrame {
                window: Some(format_duration(range)),
                ..WindowFrame::default()
            },
            ..MoneyFields::default()
        };
        signal(ctx, id, Err(why.to_owned()), pct, &fields)
    };
    vec![
        ctx.record(Kind::Sample, "metrics.equity", Level::Unknown)
            .extra("window", format_duration(cfg.money_window))
            .msg(format!("equity unknown: {why}")),
        sig(SignalId::Drawdown, cfg.money_window),
        sig(SignalId::CircuitBreaker, cfg.window),
        sig(SignalId::OrderRate, cfg.window),
        sig(SignalId::ApiErrorRate, cfg.window),
        sig(SignalId::RateLimitUsage, cfg.window),
    ]
}

/// The fields every windowed money signal carries: which scrapes it is over.
fn frame(scrapes: usize, at: i64, range: Duration) -> MoneyFields {
    MoneyFields {
        frame: WindowFrame {
            window: Some(format_duration(range)),
            window_start: ts(at - range.as_millis() as i64),
            window_end: ts(at),
            scrapes: Some(scrapes as u64),
            ..WindowFrame::default()
        },
        ..MoneyFields::default()
    }
}

/// The value of a family in the newest scrape is missing or unreadable.
fn newest_lacks(scrapes: &[&Point], family: &str, get: impl Fn(&Gauges) -> bool) -> bool {
    scrapes
        .last()
        .is_none_or(|s| s.gauges.broken.contains(family) || !get(&s.gauges))
}

/// A value seen in a window whose newest reading is missing: only a CRIT
/// stands (no later value can undo it); anything else is unknown.
fn floor_or_unknown(th: Threshold, value: f64, why: String) -> Result<f64, String> {
    if th.level(value) == Level::Crit {
        Ok(value)
    } else {
        Err(why)
    }
}

/// `metrics.equity` (the gauge: last, lowest, highest) and
/// `metrics.drawdown` (peak to trough, of start-of-window equity, as a
/// fraction of the daily loss limit).
fn equity(ctx: &Ctx<'_>, cfg: &Config, scrapes: &[&Point], at: i64) -> Vec<Record> {
    let readings: Vec<(i64, f64)> = scrapes
        .iter()
        .filter(|s| !s.gauges.broken.contains(EQUITY))
        .filter_map(|s| s.gauges.equity.map(|e| (s.t_ms, e)))
        .collect();
    let implausible = readings.iter().find(|(_, e)| !e.is_finite() || *e <= 0.0);
    let newest_missing = newest_lacks(scrapes, EQUITY, |g| g.equity.is_some());
    let th = SignalId::Drawdown.signal().threshold;
    let mut m = frame(scrapes.len(), at, cfg.money_window);
    m.basis = Some("start-of-window equity".to_owned());
    m.readings = Some(readings.len() as u64);
    match &cfg.limit {
        Limit::Known { pct, source } => {
            m.daily_loss_limit_pct = Some(Some(*pct));
            m.limit_source = Some((*source).to_owned());
        }
        Limit::Unknown(_) => m.daily_loss_limit_pct = Some(None),
    }
    let last = scrapes
        .last()
        .and_then(|s| s.gauges.equity)
        .filter(|_| !newest_missing);
    let mut sample = ctx
        .record(Kind::Sample, "metrics.equity", Level::Unknown)
        .extra("window", format_duration(cfg.money_window));
    let drawdown: Result<f64, String> = if let Some((t, e)) = implausible {
        Err(format!(
            "{EQUITY} read {e} at {}: an account's equity is a positive number",
            ts(*t).map_or_else(|| "?".to_owned(), |t| t.to_string())
        ))
    } else if readings.is_empty() {
        Err(format!(
            "the bot exported no {EQUITY} in the last {} (absent is unknown, never ok)",
            format_duration(cfg.money_window)
        ))
    } else {
        let start = readings[0].1;
        let (mut peak, mut worst, mut peak_at, mut trough) = (start, 0.0_f64, start, start);
        let mut run_peak = start;
        for &(_, e) in &readings {
            run_peak = run_peak.max(e);
            if run_peak - e > worst {
                worst = run_peak - e;
                peak_at = run_peak;
                trough = e;
            }
            peak = peak.max(e);
        }
        let low = readings.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
        let frac = worst / start;
        m.equity_start = Some(start);
        m.equity_min = Some(low);
        m.equity_max = Some(peak);
        m.equity_peak = Some(peak_at);
        m.equity_trough = Some(trough);
        m.drawdown_pct = Some(round9(frac));
        sample = sample
            .extra("min", low)
            .extra("max", peak)
            .extra("start", start);
        let value = match cfg.limit.pct() {
            Some(limit) => Ok(frac / limit),
            // No drawdown at all is within any limit.
            None if worst == 0.0 => Ok(0.0),
            None => Err(format!(
                "equity fell {} from its peak but {}",
                pct(frac),
                match &cfg.limit {
                    Limit::Unknown(why) => why.as_str(),
                    Limit::Known { .. } => "the limit could not be read",
                }
            )),
        };
        match value {
            Ok(v) if newest_missing => floor_or_unknown(
                th,
                v,
                format!(
                    "the newest scrape has no {EQUITY} (a bot restarting, or the gauge gone): the drawdown since cannot be told"
                ),
            ),
            other => other,
        }
    };
    let sample = match last {
        Some(e) if e.is_finite() && e > 0.0 => sample
            .level(Level::Ok)
            .value(e)
            .msg(format!("equity {e} dollars")),
        Some(e) => sample
            .value(e)
            .msg(format!("equity reads {e}: not an account's equity")),
        None => sample.msg(format!(
            "equity unknown: the newest scrape has no {EQUITY} (absent is unknown, never ok)"
        )),
    };
    let limit_shown = cfg.limit.pct();
    let single = readings.len() == 1;
    let mut dd = signal(
        ctx,
        SignalId::Drawdown,
        drawdown,
        |v| match limit_shown {
            Some(l) => format!("{} of the {} daily loss limit", pct(v), pct(l)),
            None => "0 (no fall from the peak)".to_owned(),
        },
        &m,
    );
    if single && dd.level == Level::Ok {
        dd.msg
            .push_str(" (one equity reading so far: no fall seen yet)");
    }
    vec![sample, dd]
}

/// `metrics.circuit_breaker`: the worst state of any category in the window.
fn breaker(ctx: &Ctx<'_>, cfg: &Config, scrapes: &[&Point], at: i64) -> Record {
    let th = SignalId::CircuitBreaker.signal().threshold;
    let mut m = frame(scrapes.len(), at, cfg.window);
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    let mut bad: Option<String> = None;
    let mut unreadable = false;
    for s in scrapes {
        unreadable |= s.gauges.broken.contains(BREAKER);
        for (cat, &v) in &s.gauges.breakers {
            if !(v == 0.0 || v == 1.0 || v == 2.0) {
                bad.get_or_insert(format!(
                    "{BREAKER}{{category=\"{cat}\"}} read {v}: not 0, 1 or 2"
                ));
            }
            let w = worst.entry(cat.clone()).or_insert(v);
            *w = w.max(v);
        }
    }
    m.last_by_category = Some(
        scrapes
            .last()
            .map(|s| s.gauges.breakers.clone())
            .unwrap_or_default(),
    );
    m.open = Some(
        worst
            .iter()
            .filter(|(_, v)| **v >= 2.0)
            .map(|(k, _)| k.clone())
            .collect(),
    );
    let max = worst.values().copied().fold(f64::NEG_INFINITY, f64::max);
    let newest_missing = newest_lacks(scrapes, BREAKER, |g| !g.breakers.is_empty());
    let no_breakers = worst.is_empty();
    m.max_by_category = Some(worst);
    let value = if let Some(why) = bad {
        Err(why)
    } else if no_breakers {
        Err(format!(
            "the bot exported no {BREAKER} in the last {} (absent is unknown, never closed)",
            format_duration(cfg.window)
        ))
    } else if unreadable || newest_missing {
        floor_or_unknown(
            th,
            max,
            format!(
                "a scrape in the window has no readable {BREAKER}: a breaker may have opened unseen"
            ),
        )
    } else {
        Ok(max)
    };
    signal(
        ctx,
        SignalId::CircuitBreaker,
        value,
        |v| {
            let state = match v as i64 {
                0 => "closed",
                1 => "half-open",
                _ => "open",
            };
            format!("{state} at worst ({v})")
        },
        &m,
    )
}

/// The highest value of a ratio gauge in the window.
fn gauge_max(
    ctx: &Ctx<'_>,
    cfg: &Config,
    scrapes: &[&Point],
    at: i64,
    id: SignalId,
    family: &str,
    get: fn(&Gauges) -> Option<f64>,
) -> Record {
    let th = id.signal().threshold;
    let mut m = frame(scrapes.len(), at, cfg.window);
    let values: Vec<f64> = scrapes
        .iter()
        .filter(|s| !s.gauges.broken.contains(family))
        .filter_map(|s| get(&s.gauges))
        .collect();
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let unreadable = scrapes.iter().any(|s| s.gauges.broken.contains(family));
    let newest_missing = newest_lacks(scrapes, family, |g| get(g).is_some());
    if !values.is_empty() {
        m.max = Some(max);
        m.min = Some(values.iter().copied().fold(f64::INFINITY, f64::min));
    }
    m.last = scrapes.last().and_then(|s| get(&s.gauges));
    let value = if let Some(v) = values.iter().find(|v| !v.is_finite() || **v < 0.0) {
        Err(format!(
            "{family} read {v}: a ratio is never negative or non-finite"
        ))
    } else if values.is_empty() {
        Err(format!(
            "the bot exported no {family} in the last {} (absent is unknown, never ok)",
            format_duration(cfg.window)
        ))
    } else if unreadable || newest_missing {
        floor_or_unknown(
            th,
            max,
            format!("a scrape in the window has no readable {family}"),
        )
    } else {
        Ok(max)
    };
    signal(ctx, id, value, pct, &m)
}

/// `metrics.order_rate`: orders submitted per minute over the rate window,
/// from exact counter deltas (a restart is a new baseline), as a fraction
/// of the ceiling.
fn order_rate(ctx: &Ctx<'_>, cfg: &Config, span: &Span<'_>, at: i64) -> Record {
    let mut m = frame(span.snaps.len(), at, cfg.window);
    m.max_orders_per_minute = Some(cfg.max_orders_per_minute);
    m.ceiling_source = Some(cfg.ceiling_source.clone());
    let (from, to) = span.bounds();
    let value = if let Some(why) = span.inconsistency() {
        Err(format!(
            "the counters are inconsistent in the window: {why}"
        ))
    } else if let Some(why) = span.snaps.iter().find_map(|s| s.implausible()) {
        Err(why)
    } else if span.snaps.iter().any(|s| s.unreadable) {
        Err("a scrape in the window had an order line that could not be parsed".into())
    } else if to <= from {
        Err("the scrapes in the window span no time".into())
    } else {
        let orders = span.delta(|s| s.orders.iter().map(|c| c.value).sum());
        let minutes = (to - from) as f64 / 60_000.0;
        let per_minute = orders / minutes;
        m.orders = Some(round9(orders));
        m.orders_per_minute = Some(round9(per_minute));
        m.frame.baseline = ts(from);
        m.frame.restarted = span.restarted();
        Ok(per_minute / cfg.max_orders_per_minute)
    };
    let ceiling = cfg.max_orders_per_minute;
    signal(
        ctx,
        SignalId::OrderRate,
        value,
        |v| {
            format!(
                "{} orders/min, {} of the {ceiling}/min ceiling",
                round9(v * ceiling),
                pct(v)
            )
        },
        &m,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Counter;
    use crate::test_support::ctx;
    use serde_json::json;

    fn cfg(limit: Option<f64>) -> Config {
        Config {
            limit: match limit {
                Some(pct) => Limit::Known {
                    pct,
                    source: "--daily-loss-limit-pct",
                },
                None => Limit::Unknown("no daily loss limit".into()),
            },
            max_orders_per_minute: 60.0,
            ceiling_source: "test".into(),
            money_window: Duration::from_secs(3600),
            window: Duration::from_secs(300),
        }
    }

    /// One scrape: its money point and, when it counted orders, its counters.
    fn snap(t_s: i64, equity: Option<f64>, orders: f64) -> (Point, Snapshot) {
        let mut s = Snapshot::empty(t_s * 1000);
        s.bot_samples = 1;
        if orders > 0.0 {
            s.orders.push(Counter {
                labels: [("result".to_owned(), "success".to_owned())].into(),
                value: orders,
            });
        }
        let p = Point {
            t_ms: t_s * 1000,
            gauges: Gauges {
                equity,
                ..Gauges::default()
            },
        };
        (p, s)
    }

    fn run(cfg: &Config, scrapes: &[(Point, Snapshot)], one_shot: bool) -> Vec<Record> {
        let points: Vec<Point> = scrapes.iter().map(|s| s.0.clone()).collect();
        let history: Vec<Snapshot> = scrapes
            .iter()
            .map(|s| s.1.clone())
            .filter(|s| !crate::counters::is_empty(s))
            .collect();
        records(&ctx(), cfg, &points, &history, one_shot)
    }

    fn get<'a>(recs: &'a [Record], name: &str) -> &'a Record {
        recs.iter().find(|r| r.name == name).expect(name)
    }

    #[test]
    fn drawdown_is_peak_to_trough_over_start_of_window_equity() {
        // 10000 -> 10400 -> 9880: 520 from the peak, 5.2 % of the start.
        let h = [
            snap(0, Some(10_000.0), 1.0),
            snap(60, Some(10_400.0), 2.0),
            snap(120, Some(9_880.0), 3.0),
        ];
        let recs = run(&cfg(Some(0.104)), &h, false);
        let dd = get(&recs, "metrics.drawdown");
        assert_eq!(dd.value, json!(0.5));
        assert_eq!(dd.level, Level::Warn);
        assert_eq!(dd.extra["equity_start"], json!(10_000.0));
        assert_eq!(dd.extra["equity_peak"], json!(10_400.0));
    }

    #[test]
    fn a_restart_mid_window_keeps_the_start_of_window_basis() {
        // Equity falls 6 % across a restart: counters reset, the gauge is
        // missing for a scrape, then back lower. The basis stays 10000.
        let h = [
            snap(0, Some(10_000.0), 50.0),
            snap(60, Some(10_000.0), 60.0),
            snap(120, None, 0.0),
            snap(180, Some(9_400.0), 3.0),
        ];
        let recs = run(&cfg(Some(0.05)), &h, false);
        let dd = get(&recs, "metrics.drawdown");
        assert_eq!(dd.level, Level::Crit, "{dd:?}");
        assert_eq!(dd.extra["equity_start"], json!(10_000.0));
        // While the restarted bot has no gauge yet: a CRIT already seen stands...
        let recs = run(&cfg(Some(0.05)), &h[..3], false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Unknown);
        assert_eq!(get(&recs, "metrics.equity").level, Level::Unknown);
        let mut crit = h.to_vec();
        crit.push(snap(240, None, 0.0));
        let recs = run(&cfg(Some(0.05)), &crit, false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Crit);
    }

    #[test]
    fn missing_equity_or_limit_is_unknown_never_ok() {
        let h = [snap(0, None, 1.0), snap(60, None, 2.0)];
        let recs = run(&cfg(Some(0.05)), &h, false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Unknown);
        // Without a limit a fall is unknown, no fall is ok against any limit.
        let fall = [snap(0, Some(100.0), 1.0), snap(60, Some(99.0), 2.0)];
        let recs = run(&cfg(None), &fall, false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Unknown);
        let flat = [snap(0, Some(100.0), 1.0), snap(60, Some(100.0), 2.0)];
        let recs = run(&cfg(None), &flat, false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Ok);
        // A negative or NaN equity is not an account's.
        let odd = [snap(0, Some(100.0), 1.0), snap(60, Some(f64::NAN), 2.0)];
        let recs = run(&cfg(Some(0.05)), &odd, false);
        assert_eq!(get(&recs, "metrics.drawdown").level, Level::Unknown);
    }

    #[test]
    fn breakers_and_api_gauges_are_read_as_gauges() {
        let mut a = snap(0, Some(1.0), 1.0);
        let mut b = snap(60, Some(1.0), 2.0);
        a.0.gauges.breakers.insert("orders".into(), 2.0);
        b.0.gauges.breakers.insert("orders".into(), 0.0);
        a.0.gauges.api_error_rate = Some(0.2);
        b.0.gauges.api_error_rate = Some(0.01);
        b.0.gauges.rate_limit_usage = Some(0.5);
        let recs = run(&cfg(Some(0.05)), &[a.clone(), b.clone()], false);
        // Open at any point of the window is open: the max, not the last.
        assert_eq!(get(&recs, "metrics.circuit_breaker").level, Level::Crit);
        assert_eq!(get(&recs, "metrics.api_error_rate").level, Level::Crit);
        // Absent in the newest scrape: only a CRIT already seen stands.
        assert_eq!(get(&recs, "metrics.rate_limit_usage").level, Level::Ok);
        b.0.gauges.breakers.clear();
        a.0.gauges.breakers.insert("orders".into(), 1.0);
        let recs = run(&cfg(Some(0.05)), &[a.clone(), b.clone()], false);
        assert_eq!(get(&recs, "metrics.circuit_breaker").level, Level::Unknown);
        // A line of the family that did not parse: unknown, not closed.
        b.0.gauges.breakers.insert("orders".into(), 0.0);
        a.0.gauges.breakers.insert("orders".into(), 0.0);
        b.0.gauges.broken.insert(BREAKER.into());
        let recs = run(&cfg(Some(0.05)), &[a, b], false);
        assert_eq!(get(&recs, "metrics.circuit_breaker").level, Level::Unknown);
    }

    #[test]
    fn order_rate_is_orders_per_minute_against_the_ceiling() {
        // 48 orders in one minute against 60/min: 80 %, WARN.
        let h = [snap(0, None, 10.0), snap(60, None, 58.0)];
        let recs = run(&cfg(None), &h, false);
        let r = get(&recs, "metrics.order_rate");
        assert_eq!(r.value, json!(0.8));
        assert_eq!(r.level, Level::Warn);
        // One scrape gives no rate at all.
        let recs = run(&cfg(None), &h[1..], true);
        assert!(recs.iter().all(|r| r.name != "metrics.order_rate"));
    }

    #[test]
    fn the_limit_comes_from_the_flag_or_the_env_as_the_bot_parses_it() {
        let args = |flag: Option<f64>| MoneyArgs {
            daily_loss_limit_pct: flag,
            max_orders_per_minute: Some(60.0),
            profile: None,
            money_window: Duration::from_secs(60),
        };
        assert_eq!(
            Limit::resolve(&args(Some(0.02)), Some("0.5".into())).pct(),
            Some(0.02)
        );
        assert_eq!(Limit::resolve(&args(None), Some("0,1".into())).pct(), None);
        assert_eq!(
            Limit::resolve(&args(None), Some(" 0.01 ".into())).pct(),
            Some(0.01)
        );
        assert_eq!(
            Limit::resolve(&args(None), Some("1e-2".into())).pct(),
            Some(0.01)
        );
        assert!(matches!(
            Limit::resolve(&args(None), Some("0".into())),
            Limit::Unknown(_)
        ));
        assert!(matches!(
            Limit::resolve(&args(None), Some("".into())),
            Limit::Unknown(_)
        ));
        assert!(matches!(
            Limit::resolve(&args(None), None),
            Limit::Unknown(_)
        ));
        assert_eq!(parse_limit("0"), Err(ArgError::Limit("0".into())));
        assert_eq!(parse_limit("1.5"), Err(ArgError::Limit("1.5".into())));
        assert_eq!(
            parse_limit("five").map_err(|e| e.to_string()),
            Err("not a number: five".into())
        );
        assert_eq!(parse_limit("0.05"), Ok(0.05));
        assert_eq!(
            parse_ceiling("-3").map_err(|e| e.to_string()),
            Err("-3 is not a positive number of orders per minute".into())
        );
        assert_eq!(parse_ceiling("inf"), Err(ArgError::Ceiling("inf".into())));
    }
}

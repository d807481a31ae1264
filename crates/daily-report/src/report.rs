//! What a daily report says, as records. The report is the bot's own
//! summary of a UTC day (docs/money.md#the-daily-report); every value it
//! lacks, or gives as null or of the wrong type, is unknown, never ok.

use crate::error::Error;
use canary_core::thresholds::{self, Threshold};
use canary_core::{Kind, Level, Record};
use jiff::Timestamp;
use scrape_metrics::money::Limit;
use serde_json::{Map, Value};
use std::time::Duration;

/// Reports dated this far ahead of the clock are not trusted.
const MAX_SKEW: Duration = Duration::from_secs(300);

/// A report, from the JSON file or from the CLI's `--format json` envelope.
#[derive(Debug, Clone)]
pub struct Report {
    pub body: Map<String, Value>,
    /// Read out of a `report daily --format json` envelope.
    pub enveloped: bool,
}

/// Parse the bytes: a report object, or an envelope holding one.
pub fn parse(bytes: &[u8]) -> Result<Report, Error> {
    let text = std::str::from_utf8(bytes)?;
    let v: Value = serde_json::from_str(text)?;
    let Value::Object(top) = v else {
        return Err(Error::NotObject);
    };
    if top.get("command").and_then(Value::as_str) == Some("report daily") {
        if top.get("success").and_then(Value::as_bool) != Some(true) {
            let errors = top.get("errors").map(Value::to_string).unwrap_or_default();
            return Err(Error::EnvelopeFailed {
                success: top
                    .get("success")
                    .map(Value::to_string)
                    .unwrap_or("absent".into()),
                errors,
            });
        }
        return match top.get("data").and_then(|d| d.get("report")) {
            Some(Value::Object(r)) => Ok(Report {
                body: r.clone(),
                enveloped: true,
            }),
            _ => Err(Error::NoReport),
        };
    }
    if !top.contains_key("generated_at") || !top.contains_key("account") {
        return Err(Error::NotReport);
    }
    Ok(Report {
        body: top,
        enveloped: false,
    })
}

/// `generated_at`: ISO 8601 with an offset, or naive, read as UTC (the
/// bot's other naive timestamps are UTC); whether it was assumed.
fn generated_at(s: &str) -> Option<(Timestamp, bool)> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some((t, false));
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(|t| (t, true))
}

fn path<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    rest.iter().try_fold(m.get(*first)?, |v, k| v.get(*k))
}

fn number(m: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    path(m, keys)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
}

/// Every record of one report.
pub fn records(
    rep: &Report,
    target: &str,
    limit: &Limit,
    now: Timestamp,
    max_age: Duration,
) -> Vec<Record> {
    let m = &rep.body;
    let rec = |kind: Kind, name: &str, level: Level| {
        Record::new(crate::cli::TOOL, target, kind, name, level)
            .extra("date", path(m, &["date"]).cloned().unwrap_or(Value::Null))
            .extra(
                "profile",
                path(m, &["profile"]).cloned().unwrap_or(Value::Null),
            )
    };
    let generated = path(m, &["generated_at"]).and_then(Value::as_str);
    let Some((ts, assumed_utc)) = generated.and_then(generated_at) else {
        return vec![
            rec(Kind::Error, "daily.report", Level::Unknown).msg(format!(
                "{target}: generated_at {} is not a time: the report's age cannot be told",
                generated.map_or("absent".to_owned(), |g| format!("'{g}'"))
            )),
        ];
    };
    let age = now.duration_since(ts);
    let stale = if age
        > jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX)
    {
        Some(format!(
            "the report was generated {} ago, over --max-age {}",
            canary_core::duration::format_duration(age.unsigned_abs()),
            canary_core::duration::format_duration(max_age)
        ))
    } else if -age > jiff::SignedDuration::try_from(MAX_SKEW).unwrap_or(jiff::SignedDuration::MAX) {
        Some(format!("the report is dated {ts}, in the future"))
    } else {
        None
    };
    let out = vec![
        equity_change(m, &rec),
        drawdown(m, &rec, limit),
        breaker(m, &rec),
        liveness(m, &rec),
        count(
            m,
            &rec,
            "daily.unfilled_orders",
            "unfilled_orders",
            "unfilled order(s)",
        ),
        count(m, &rec, "daily.api_errors", "api_errors", "API error(s)"),
    ];
    out.into_iter()
        .map(|r| {
            // Dated when read, not when generated: a report from before the
            // phase's window (the account's day began before the canary
            // did) still counts against it while within --max-age, where
            // judge would drop a record dated before --since unseen. Its
            // findings only ever stop or hold; none promotes.
            let mut r = r.at(now).extra("generated_at", ts.to_string());
            if assumed_utc {
                r = r.extra("generated_at_assumed_utc", true);
            }
            if rep.enveloped {
                r = r.extra("source", "cli-envelope");
            }
            if let Some(why) = &stale {
                r.level = Level::Unknown;
                r.msg = format!("unknown: {why}; as reported: {}", r.msg);
            }
            r
        })
        .collect()
}

type Rec<'a> = dyn Fn(Kind, &str, Level) -> Record + 'a;

fn equity_change(m: &Map<String, Value>, rec: &Rec<'_>) -> Record {
    let equity = number(m, &["account", "equity"]);
    let change = number(m, &["account", "equity_change"]);
    let r = rec(Kind::Sample, "daily.equity_change", Level::Unknown)
        .extra("equity", equity)
        .extra("equity_change", change)
        .extra(
            "equity_change_pct",
            path(m, &["account", "equity_change_pct"])
                .cloned()
                .unwrap_or(Value::Null),
        );
    match (equity, change) {
        (Some(e), Some(c)) => r
            .level(Level::Ok)
            .value(c)
            .msg(format!("equity {e} dollars, {c:+} on the day")),
        _ => r.msg("equity or its change on the day is null or absent: unknown".to_owned()),
    }
}

/// The day's loss from start-of-day equity: the worse of the fall since the
/// day began (`-equity_change`) and the report's own `max_drawdown`, over
/// start-of-day equity (`equity - equity_change`), as a fraction of the limit.
fn drawdown(m: &Map<String, Value>, rec: &Rec<'_>, limit: &Limit) -> Record {
    let th: Threshold = thresholds::DRAWDOWN_OF_LOSS_LIMIT;
    let equity = number(m, &["account", "equity"]);
    let change = number(m, &["account", "equity_change"]);
    let max_dd = number(m, &["performance", "max_drawdown"]).map(f64::abs);
    let mut r = rec(Kind::Signal, "daily.drawdown", Level::Unknown)
        .thresholds(th.record())
        .extra("unit", th.unit)
        .extra("basis", "start-of-day equity")
        .extra("max_drawdown", max_dd)
        .extra(
            "max_drawdown_pct",
            path(m, &["performance", "max_drawdown_pct"])
                .cloned()
                .unwrap_or(Value::Null),
        );
    let (Some(e), Some(c)) = (equity, change) else {
        return r
            .msg("drawdown unknown: equity or its change on the day is null or absent".to_owned());
    };
    let start = e - c;
    if start <= 0.0 {
        return r.msg(format!(
            "drawdown unknown: start-of-day equity would be {start} (equity {e}, change {c})"
        ));
    }
    let loss = (-c).max(0.0).max(max_dd.unwrap_or(0.0));
    let frac = loss / start;
    r = r
        .extra("start_of_day_equity", start)
        .extra("loss", loss)
        .extra("drawdown_pct", (frac * 1e9).round() / 1e9);
    let value = match limit {
        Limit::Known { pct, source } => {
            r = r
                .extra("daily_loss_limit_pct", *pct)
                .extra("limit_source", *source);
            frac / pct
        }
        Limit::Unknown(_) if loss == 0.0 => 0.0,
        Limit::Unknown(why) => {
            return r.extra("daily_loss_limit_pct", Value::Null).msg(format!(
                "drawdown unknown: the day lost {:.2} % but {why}",
                frac * 100.0
            ));
        }
    };
    let level = th.level(value);
    let verdict = match level {
        Level::Ok => "ok".to_owned(),
        Level::Warn => format!("WARN (>= {})", th.warn),
        _ => format!("CRIT (>= {})", th.crit),
    };
    r.level(level)
        .value((value * 1e9).round() / 1e9)
        .msg(format!(
            "the day lost {:.2} % of start-of-day equity, {:.2} % of the daily loss limit: {verdict}",
            frac * 100.0,
            value * 100.0
        ))
}

fn breaker(m: &Map<String, Value>, rec: &Rec<'_>) -> Record {
    let r = rec(Kind::Check, "daily.circuit_breaker", Level::Unknown);
    match path(m, &["risk", "circuit_breaker_state"]) {
        Some(Value::Object(state)) if state.is_empty() => r
            .level(Level::Ok)
            .value(Map::new())
            .msg("no circuit breaker triggered on the day".to_owned()),
        Some(Value::Object(state)) => match state.get("triggered") {
            Some(Value::Bool(true)) => r
                .level(Level::Crit)
                .value(Value::Object(state.clone()))
                .msg(format!(
                    "circuit breaker triggered: rule {}, action {}",
                    state
                        .get("rule")
                        .map(Value::to_string)
                        .unwrap_or("?".into()),
                    state
                        .get("action")
                        .map(Value::to_string)
                        .unwrap_or("?".into())
                )),
            Some(Value::Bool(false)) => r
                .level(Level::Ok)
                .value(Value::Object(state.clone()))
                .msg("circuit breaker not triggered".to_owned()),
            _ => r
                .value(Value::Object(state.clone()))
                .msg("risk.circuit_breaker_state has no boolean `triggered`: unknown".to_owned()),
        },
        _ => r.msg("risk.circuit_breaker_state absent or not an object: unknown".to_owned()),
    }
}

fn liveness(m: &Map<String, Value>, rec: &Rec<'_>) -> Record {
    let status = path(m, &["health", "liveness", "status"]).and_then(Value::as_str);
    let r = rec(Kind::Check, "daily.liveness", Level::Unknown)
        .expect("GREEN")
        .extra(
            "events",
            path(m, &["health", "liveness", "events"])
                .cloned()
                .unwrap_or(Value::Null),
        );
    match status {
        Some("GREEN") => r
            .level(Level::Ok)
            .value("GREEN")
            .msg("liveness GREEN: heartbeat or price tick events are recent".to_owned()),
        Some("RED") => r
            .level(Level::Crit)
            .value("RED")
            .msg("liveness RED: no recent heartbeat or price tick event".to_owned()),
        Some(other) => r.value(other).msg(format!(
            "liveness {other}: the bot's own liveness could not be told"
        )),
        None => r.msg("health.liveness.status absent: unknown".to_owned()),
    }
}

fn count(m: &Map<String, Value>, rec: &Rec<'_>, name: &str, key: &str, what: &str) -> Record {
    let r = rec(Kind::Check, name, Level::Unknown);
    match path(m, &["health", key]) {
        Some(Value::Number(n)) if n.as_u64().is_some() => {
            let n = n.as_u64().unwrap_or_default();
            let level = if n == 0 { Level::Ok } else { Level::Warn };
            r.level(level)
                .value(n)
                .msg(format!("{n} {what} on the day"))
        }
        Some(other) => r
            .value(other.clone())
            .msg(format!("health.{key} is {other}: not a count, unknown")),
        None => r.msg(format!("health.{key} absent: unknown")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(equity: f64, change: f64, generated: &str, liveness: &str) -> Report {
        let v = json!({
            "generated_at": generated,
            "account": {"equity": equity, "equity_change": change},
            "performance": {"max_drawdown": 0.0},
            "risk": {"circuit_breaker_state": {}},
            "health": {"liveness": {"status": liveness}, "unfilled_orders": 0, "api_errors": 2},
        });
        parse(v.to_string().as_bytes()).expect("a report")
    }

    fn level(recs: &[Record], name: &str) -> (Level, Value) {
        let r = recs.iter().find(|r| r.name == name).expect(name);
        (r.level, r.value.clone())
    }

    const NOW: &str = "2026-12-02T18:00:00Z";
    const DAY: Duration = Duration::from_secs(26 * 3600);

    fn run(rep: &Report, limit: Option<f64>) -> Vec<Record> {
        let limit = Limit::from_flag_or_env(limit, None);
        records(rep, "t", &limit, NOW.parse().expect("time"), DAY)
    }

    #[test]
    fn the_loss_limit_boundaries_are_inclusive() {
        // Start-of-day 10000: a 50-dollar loss is exactly half a 1 % limit.
        let half = run(
            &report(9950.0, -50.0, "2026-12-02T17:00:00Z", "GREEN"),
            Some(0.01),
        );
        assert_eq!(level(&half, "daily.drawdown"), (Level::Warn, json!(0.5)));
        let full = run(
            &report(9900.0, -100.0, "2026-12-02T17:00:00Z", "GREEN"),
            Some(0.01),
        );
        assert_eq!(level(&full, "daily.drawdown"), (Level::Crit, json!(1.0)));
        let below = run(
            &report(9951.0, -49.0, "2026-12-02T17:00:00Z", "GREEN"),
            Some(0.01),
        );
        assert_eq!(level(&below, "daily.drawdown").0, Level::Ok);
        // No limit known: a loss is unknown, never ok.
        let none = run(
            &report(9950.0, -50.0, "2026-12-02T17:00:00Z", "GREEN"),
            None,
        );
        assert_eq!(level(&none, "daily.drawdown").0, Level::Unknown);
    }

    #[test]
    fn liveness_and_counts() {
        let red = run(&report(1.0, 0.0, "2026-12-02T17:00:00Z", "RED"), Some(0.01));
        assert_eq!(level(&red, "daily.liveness").0, Level::Crit);
        assert_eq!(level(&red, "daily.api_errors"), (Level::Warn, json!(2)));
        let unknown = run(
            &report(1.0, 0.0, "2026-12-02T17:00:00Z", "UNKNOWN"),
            Some(0.01),
        );
        assert_eq!(level(&unknown, "daily.liveness").0, Level::Unknown);
    }

    #[test]
    fn a_stale_future_or_undated_report_is_unknown() {
        let old = run(
            &report(1.0, 0.0, "2026-11-30T17:00:00Z", "GREEN"),
            Some(0.01),
        );
        assert!(old.iter().all(|r| r.level == Level::Unknown), "{old:?}");
        let ahead = run(
            &report(1.0, 0.0, "2026-12-02T19:00:00Z", "GREEN"),
            Some(0.01),
        );
        assert!(ahead.iter().all(|r| r.level == Level::Unknown));
        // Naive is read as UTC and said so.
        let naive = run(
            &report(1.0, 0.0, "2026-12-02T17:00:00", "GREEN"),
            Some(0.01),
        );
        assert_eq!(level(&naive, "daily.liveness").0, Level::Ok);
        assert_eq!(naive[0].extra["generated_at_assumed_utc"], true);
        let undated = run(&report(1.0, 0.0, "yesterday", "GREEN"), Some(0.01));
        assert_eq!(undated.len(), 1);
        assert_eq!(undated[0].name, "daily.report");
    }
}

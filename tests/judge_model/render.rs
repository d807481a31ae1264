//! Render abstract streams as the NDJSON the real producers write
//! (probe-health, scrape-metrics, check-profile, check-risk-env): the same
//! names, kinds, levels, value types and fields.

use super::model::*;
use serde_json::{Map, Value, json};

/// RFC 3339 UTC for seconds since the epoch (1970 or later), computed
/// directly: a batch has hundreds of thousands of them.
pub fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[test]
fn rfc3339_agrees_with_jiff() {
    for t in [
        0,
        951_782_400,
        T0,
        T0 - STALE_BY_S,
        T0 + 86_399,
        4_102_444_800,
    ] {
        let want = jiff::Timestamp::from_second(t)
            .expect("in range")
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        assert_eq!(rfc3339(t), want);
    }
}

/// Bot `j` of stream `i` in a batch: its own address, so that one judge
/// process judges many streams.
pub fn host(i: usize, j: usize) -> String {
    format!("10.{}.{}.{}:8080", i / 200, i % 200, j + 1)
}

struct Rec(Map<String, Value>);

#[allow(clippy::too_many_arguments)]
fn rec(
    ts: i64,
    tool: &str,
    target: &str,
    kind: &str,
    name: &str,
    level: &str,
    value: Value,
    msg: &str,
) -> Rec {
    let mut m = Map::new();
    m.insert("v".into(), json!(1));
    m.insert("ts".into(), json!(rfc3339(ts)));
    m.insert("tool".into(), json!(tool));
    m.insert("target".into(), json!(target));
    m.insert("kind".into(), json!(kind));
    m.insert("name".into(), json!(name));
    m.insert("level".into(), json!(level));
    m.insert("value".into(), value);
    m.insert("msg".into(), json!(msg));
    Rec(m)
}

impl Rec {
    fn with(mut self, k: &str, v: Value) -> Rec {
        // `expect` and `thresholds` sit before `msg`, as the producers write.
        if k == "expect" || k == "thresholds" {
            let msg = self.0.remove("msg");
            self.0.insert(k.into(), v);
            if let Some(msg) = msg {
                self.0.insert("msg".into(), msg);
            }
        } else {
            self.0.insert(k.into(), v);
        }
        self
    }
    fn line(self) -> String {
        Value::Object(self.0).to_string()
    }
}

fn level(ev: Ev) -> &'static str {
    match ev {
        Ev::Ok | Ev::Missing => "ok",
        Ev::Warn => "warn",
        Ev::Crit | Ev::Stale | Ev::Future => "crit",
        Ev::Unknown | Ev::Bad => "unknown",
    }
}

/// Every line starts with the version and `ts`, then the rest.
const TS_HEAD: &str = "{\"v\":1,\"ts\":\"";
const TS_END: usize = TS_HEAD.len() + 20;

/// When a record of this state is dated: stale ones hours before (or at
/// the epoch), future ones a day after the moment judged.
fn dated(ev: Ev, t: i64, k: usize) -> i64 {
    match ev {
        Ev::Stale if k.is_multiple_of(2) => T0 - STALE_BY_S,
        Ev::Stale => 0,
        Ev::Future => super::generate::AT + FUTURE_BY_S,
        _ => t,
    }
}

fn health_row(row: Row, ev: Ev, phase: Phase, ts: i64, target: &str) -> Rec {
    let ph = "probe-health";
    let lv = level(ev);
    let unknown = matches!(ev, Ev::Unknown | Ev::Bad);
    match row {
        Row::Status => {
            let (v, code) = match ev {
                Ev::Ok => (json!("healthy"), 200),
                Ev::Warn => (json!("degraded"), 200),
                _ if unknown => (Value::Null, 200),
                _ => (json!("unhealthy"), 503),
            };
            let msg = if unknown {
                "/health has no status".to_owned()
            } else {
                format!("bot reports {}", v.as_str().unwrap_or("?"))
            };
            rec(ts, ph, target, "check", "health.status", lv, v, &msg)
                .with("expect", json!(["healthy", "degraded"]))
                .with("endpoint", json!("/health"))
                .with("http_status", json!(code))
        }
        Row::Broker => {
            let v = if unknown {
                Value::Null
            } else if lv == "crit" {
                json!("fail")
            } else {
                json!("pass")
            };
            rec(
                ts,
                ph,
                target,
                "check",
                "health.broker",
                lv,
                v,
                "broker ping",
            )
            .with("expect", json!("pass"))
            .with("endpoint", json!("/health"))
        }
        Row::WsConnected | Row::WsStale | Row::GlobalPaused => {
            let (name, good) = match row {
                Row::WsConnected => ("health.websocket.connected", true),
                Row::WsStale => ("health.websocket.stale", false),
                _ => ("health.degradation.global_paused", false),
            };
            let v = if unknown {
                Value::Null
            } else {
                json!(if lv == "crit" { !good } else { good })
            };
            let msg = if unknown {
                format!("{name} unknown: streaming not initialised (ws_not_initialized)")
            } else {
                format!("{name} is {v}")
            };
            rec(ts, ph, target, "check", name, lv, v, &msg).with("expect", json!(good))
        }
        Row::WsStaleness => {
            let v = match ev {
                Ev::Ok => json!(2.0),
                Ev::Warn => json!(45.0),
                Ev::Unknown => Value::Null,
                Ev::Bad => json!(-3.5),
                _ => json!(75.0),
            };
            let msg = if ev == Ev::Bad {
                "websocket message age -3.5 s is negative: unknown".to_owned()
            } else {
                format!("last websocket message {v} s ago")
            };
            rec(
                ts,
                ph,
                target,
                "check",
                "health.websocket.staleness",
                lv,
                v,
                &msg,
            )
            .with("thresholds", json!({"warn": 30.0, "crit": 60.0}))
            .with("unit", json!("s"))
        }
        Row::ReduceOnly => {
            // probe-health run without --phase: level ok, judge re-judges
            // the value against its own phase.
            let want = phase == Phase::A;
            let v = if unknown {
                Value::Null
            } else {
                json!(if lv == "crit" { !want } else { want })
            };
            let lv = if unknown { "unknown" } else { "ok" };
            rec(
                ts,
                ph,
                target,
                "check",
                "health.degradation.reduce_only_mode",
                lv,
                v.clone(),
                &format!("reduce_only_mode is {v}; pass --phase a|b to judge it"),
            )
        }
        Row::CheckTicker => {
            let v = match ev {
                Ev::Ok => json!("pass"),
                Ev::Warn => json!("warn"),
                _ if unknown => Value::Null,
                _ => json!("fail"),
            };
            rec(
                ts,
                ph,
                target,
                "check",
                "health.check.ticker_freshness",
                lv,
                v,
                "ticker_freshness",
            )
            .with("endpoint", json!("/health"))
            .with("check", json!("ticker_freshness"))
        }
        Row::SignalErrorRate | Row::SignalGuardTrips => {
            let (name, th, vals) = match row {
                Row::SignalErrorRate => (
                    "health.signal.order_error_rate",
                    (0.05, 0.15),
                    [0.01, 0.07, 0.2],
                ),
                _ => (
                    "health.signal.guard_trip_count",
                    (3.0, 10.0),
                    [0.0, 4.0, 12.0],
                ),
            };
            let v = match ev {
                Ev::Ok => json!(vals[0]),
                Ev::Warn => json!(vals[1]),
                _ if unknown => Value::Null,
                _ => json!(vals[2]),
            };
            rec(
                ts,
                ph,
                target,
                "signal",
                name,
                lv,
                v,
                &format!("bot's {name} since process start"),
            )
            .with("thresholds", json!({"warn": th.0, "crit": th.1}))
            .with("scope", json!("lifetime"))
        }
    }
}

fn metrics_sig(sig: Sig, ev: Ev, nonrec: NonRec, ts: i64, target: &str) -> Rec {
    let sm = "scrape-metrics";
    let lv = level(ev);
    let (name, th, vals, window): (&str, (f64, f64), [f64; 4], &str) = match sig {
        Sig::ErrorRate => (
            "metrics.order_error_rate",
            (0.05, 0.15),
            [0.01, 0.07, 0.2, -0.1],
            "5m",
        ),
        Sig::RetryRate => (
            "metrics.order_retry_rate",
            (0.1, 0.25),
            [0.02, 0.12, 0.3, -0.1056],
            "5m",
        ),
        Sig::P95 => (
            "metrics.broker_latency_p95",
            (1000.0, 3000.0),
            [250.0, 1500.0, 3500.0, -1.0],
            "5m",
        ),
        Sig::GuardTrips => (
            "metrics.guard_trips",
            (3.0, 10.0),
            [0.0, 4.0, 12.0, -2.0],
            "1h",
        ),
    };
    let v = match ev {
        Ev::Ok => json!(vals[0]),
        Ev::Warn => json!(vals[1]),
        Ev::Unknown => Value::Null,
        Ev::Bad => json!(vals[3]),
        _ => json!(vals[2]),
    };
    let msg = match ev {
        Ev::Unknown => format!("{name} over {window}: unknown (NaN: no submissions)"),
        Ev::Bad => format!("{name} over {window}: {v} is negative: unknown"),
        _ => format!("{name} over {window}: {v}"),
    };
    let mut r = rec(ts, sm, target, "signal", name, lv, v, &msg)
        .with("thresholds", json!({"warn": th.0, "crit": th.1}))
        .with("window", json!(window));
    if sig == Sig::GuardTrips {
        let n = match (ev, nonrec) {
            (Ev::Unknown | Ev::Bad, _) => Some(Value::Null),
            (_, NonRec::Zero) => Some(json!(0)),
            (_, NonRec::Some) => Some(json!(2)),
            (_, NonRec::Null) => Some(Value::Null),
            (_, NonRec::Negative) => Some(json!(-1)),
            (_, NonRec::Absent) => None,
        };
        if let Some(n) = n {
            r = r.with("nonrecoverable", n);
        }
    }
    r.with("source", json!("direct"))
}

fn counter(name: &str, c: Count, ts: i64, target: &str) -> Option<(i64, Rec)> {
    let (v, ts) = match c {
        Count::Missing => return None,
        Count::Unknown => (None, ts),
        Count::Val(v) => (Some(v), ts),
        Count::Stale(v) => (Some(v), T0 - STALE_BY_S),
        Count::Future(v) => (Some(v), super::generate::AT + FUTURE_BY_S),
    };
    let sm = "scrape-metrics";
    let r = match (name, v) {
        (_, None) => rec(
            ts,
            sm,
            target,
            "sample",
            name,
            "unknown",
            Value::Null,
            &format!("{name}: unknown"),
        )
        .with("source", json!("direct")),
        ("metrics.orders", Some(v)) => {
            let failed = failed_of(v);
            rec(
                ts,
                sm,
                target,
                "sample",
                name,
                "ok",
                json!(v),
                &format!("{v} order submissions since the bot started"),
            )
            .with(
                "by_result",
                json!({"success": v - failed, "failed": failed, "rejected": 0}),
            )
            .with("source", json!("direct"))
        }
        (_, Some(v)) => rec(
            ts,
            sm,
            target,
            "sample",
            name,
            "ok",
            json!(v),
            &format!("{v} guard trips since the bot started"),
        )
        .with("by_recoverable", json!({"true": v, "false": 0}))
        .with("source", json!("direct")),
    };
    Some((ts, r))
}

/// One bot's lines, oldest first; stale replays arrive after their round.
fn bot_lines(bot: &Bot, phase: Phase, host: &str) -> Vec<(i64, String)> {
    let health_target = format!("http://{host}");
    let metrics_target = format!("http://{host}/metrics");
    let mut out = Vec::new();
    // A row in a given state renders the same every round but for `ts`:
    // render it once (a batch has hundreds of thousands of lines).
    let mut seen: std::collections::HashMap<(usize, Ev, NonRec), String> = Default::default();
    let mut cached = |key: (usize, Ev, NonRec), ts: i64, make: &dyn Fn(i64) -> Rec| {
        let tail = seen
            .entry(key)
            .or_insert_with(|| make(ts).line()[TS_END..].to_owned());
        format!("{TS_HEAD}{}{tail}", rfc3339(ts))
    };
    for (k, r) in bot.rounds.iter().enumerate() {
        let mut late = Vec::new();
        match &r.health {
            None => out.push((
                r.t,
                rec(
                    r.t,
                    "probe-health",
                    &health_target,
                    "error",
                    "health.fetch",
                    "unknown",
                    Value::Null,
                    "GET /health: connection refused",
                )
                .line(),
            )),
            Some(h) => {
                for (row, ev) in ROWS.iter().zip(h.iter()) {
                    if *ev == Ev::Missing {
                        continue;
                    }
                    let make = |ts| health_row(*row, *ev, phase, ts, &health_target);
                    let key = (*row as usize, *ev, NonRec::Zero);
                    let line = cached(key, dated(*ev, r.t, k), &make);
                    if *ev == Ev::Stale {
                        late.push(line)
                    } else {
                        out.push((r.t, line))
                    }
                }
            }
        }
        if r.restarted {
            out.push((
                r.t,
                rec(
                    r.t,
                    "canary-gate",
                    &health_target,
                    "sample",
                    "process.restart",
                    "ok",
                    json!("restarted"),
                    "the process manager restarted the bot",
                )
                .line(),
            ));
        }
        let t = r.t + METRICS_LAG_S;
        match &r.metrics {
            None => out.push((
                t,
                rec(
                    t,
                    "scrape-metrics",
                    &metrics_target,
                    "error",
                    "metrics.fetch",
                    "unknown",
                    Value::Null,
                    "GET /metrics: connection refused",
                )
                .line(),
            )),
            Some(m) => {
                for (name, c) in [
                    ("metrics.orders", m.orders),
                    ("metrics.guard_trips_total", m.trips),
                ] {
                    if let Some((_, rec)) = counter(name, c, t, &metrics_target) {
                        if matches!(c, Count::Stale(_)) {
                            late.push(rec.line())
                        } else {
                            out.push((t, rec.line()))
                        }
                    }
                }
                for (sig, ev) in SIGS.iter().zip(m.sig.iter()) {
                    if *ev == Ev::Missing {
                        continue;
                    }
                    let make = |ts| metrics_sig(*sig, *ev, m.nonrec, ts, &metrics_target);
                    let key = (ROWS.len() + *sig as usize, *ev, m.nonrec);
                    let line = cached(key, dated(*ev, t, k), &make);
                    if *ev == Ev::Stale {
                        late.push(line)
                    } else {
                        out.push((t, line))
                    }
                }
            }
        }
        out.extend(late.into_iter().map(|l| (t, l)));
    }
    out
}

fn config_lines(set: &Setting) -> Vec<String> {
    let ts = set.at - 10;
    let mut out = Vec::new();
    let profile = "config/profiles/canary.yaml";
    match set.profile {
        Cfg::Absent => {}
        Cfg::Unknown => out.push(
            rec(
                ts,
                "check-profile",
                profile,
                "error",
                "profile.read",
                "unknown",
                Value::Null,
                "config/profiles/canary.yaml: cannot read: Permission denied (os error 13)",
            )
            .line(),
        ),
        Cfg::Ok | Cfg::Crit => {
            let mode = match set.phase {
                Phase::A => "reduce_only",
                Phase::B => "normal",
            };
            out.push(
                rec(
                    ts,
                    "check-profile",
                    profile,
                    "check",
                    "profile.load",
                    "ok",
                    json!("loaded"),
                    "the bot loads config/profiles/canary.yaml as written",
                )
                .line(),
            );
            out.push(
                rec(
                    ts,
                    "check-profile",
                    profile,
                    "check",
                    "profile.trading.mode",
                    "ok",
                    json!(mode),
                    &format!("mode {mode}"),
                )
                .with("expect", json!(mode))
                .line(),
            );
            let (lv, v) = if set.profile == Cfg::Crit {
                ("crit", 3)
            } else {
                ("ok", 1)
            };
            out.push(
                rec(
                    ts,
                    "check-profile",
                    profile,
                    "check",
                    "profile.risk_management.max_leverage",
                    lv,
                    json!(v),
                    &format!("max_leverage {v}"),
                )
                .with("expect", json!(1))
                .line(),
            );
        }
    }
    let env = "risk.env";
    match set.risk {
        Cfg::Absent => {}
        Cfg::Unknown => out.push(
            rec(
                ts,
                "check-risk-env",
                env,
                "error",
                "risk.env_file",
                "unknown",
                Value::Null,
                "risk.env: cannot read: No such file or directory (os error 2)",
            )
            .line(),
        ),
        Cfg::Ok | Cfg::Crit => {
            let ro = set.phase == Phase::A;
            out.push(
                rec(
                    ts,
                    "check-risk-env",
                    env,
                    "check",
                    "risk.from_env",
                    "ok",
                    Value::Null,
                    "RiskConfig.from_env() reads every value",
                )
                .line(),
            );
            let (lv, v) = if set.risk == Cfg::Crit {
                ("crit", 5)
            } else {
                ("ok", 1)
            };
            out.push(
                rec(
                    ts,
                    "check-risk-env",
                    env,
                    "check",
                    "risk.max_leverage",
                    lv,
                    json!(v),
                    &format!("max_leverage {v}"),
                )
                .with("expect", json!("<= 1"))
                .line(),
            );
            out.push(
                rec(
                    ts,
                    "check-risk-env",
                    env,
                    "check",
                    "risk.reduce_only_mode",
                    "ok",
                    json!(ro),
                    &format!("reduce_only_mode {ro}"),
                )
                .with("expect", json!(ro))
                .line(),
            );
        }
    }
    out
}

const MALFORMED: [&str; 3] = [
    "{\"v\":1,\"ts\":\"2026-11-26T01:00:00Z\",\"tool\":\"probe-health\"",
    "not a record at all",
    "{\"v\":2,\"ts\":\"2026-11-26T01:00:00Z\",\"tool\":\"probe-health\",\"target\":\"x\",\"kind\":\"check\",\"name\":\"health.status\",\"level\":\"ok\",\"value\":\"healthy\",\"msg\":\"\"}",
];

/// The whole batch as judge's input: every bot's lines merged by time
/// (stable, so a round keeps its order), config and bad lines in between.
pub fn batch(b: &Batch) -> String {
    let mut lines: Vec<(i64, String)> = Vec::new();
    for (i, s) in b.streams.iter().enumerate() {
        for (j, bot) in s.bots.iter().enumerate() {
            lines.extend(bot_lines(bot, b.setting.phase, &host(i, j)));
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    let mut out: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    for (k, l) in config_lines(&b.setting).into_iter().enumerate() {
        out.insert(out.len().saturating_sub(k * 3), l);
    }
    for k in 0..b.setting.malformed {
        let at = out.len() * (k + 1) / (b.setting.malformed + 1);
        out.insert(at, MALFORMED[k % MALFORMED.len()].to_owned());
    }
    let mut s = out.join("\n");
    s.push('\n');
    s
}

/// Seconds since the epoch of an RFC 3339 UTC time as `rfc3339` writes it.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days from civil (the inverse of rfc3339's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Move every record of an input by `by` seconds: a stream judged live is
/// dated relative to the real clock when judge runs.
pub fn shift(input: &str, by: i64) -> String {
    const HEAD: &str = TS_HEAD;
    if by == 0 {
        return input.to_owned();
    }
    let mut out = String::with_capacity(input.len());
    for line in input.lines() {
        let ts = line.get(HEAD.len()..HEAD.len() + 20);
        match ts.and_then(parse_rfc3339) {
            Some(t) if line.starts_with(HEAD) => {
                out.push_str(HEAD);
                out.push_str(&rfc3339(t + by));
                out.push_str(&line[HEAD.len() + 20..]);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// How far to move a batch judged live so that its moment judged is now.
pub fn live_shift(set: &Setting) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if set.live { now - set.at } else { 0 }
}

#[test]
fn shift_moves_every_timestamp() {
    let line = rec(
        T0,
        "probe-health",
        "x",
        "check",
        "health.status",
        "ok",
        json!(1),
        "m",
    )
    .line();
    let moved = shift(&line, 3600 * 24 * 7 + 1);
    assert!(moved.contains("\"ts\":\"2026-12-03T00:00:01Z\""), "{moved}");
    assert_eq!(
        parse_rfc3339(&rfc3339(T0 - STALE_BY_S)),
        Some(T0 - STALE_BY_S)
    );
}

/// judge's arguments for a batch (--since apart: since_args).
pub fn args(set: &Setting) -> Vec<String> {
    let (min_s, min_orders) = set.phase.window();
    let mut a = vec![
        "--phase".to_owned(),
        set.phase.arg().to_owned(),
        "--probe-interval".to_owned(),
        format!("{ROUND_S}s"),
        "--min-duration".to_owned(),
        format!("{min_s}s"),
        "--min-orders".to_owned(),
        min_orders.to_string(),
        "--min-evidence".to_owned(),
        format!("{}s", set.phase.evidence_floor()),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    if !set.live {
        a.push("--at".to_owned());
        a.push(rfc3339(set.at));
    }
    a
}

/// --since, moved with a batch judged live.
pub fn since_args(set: &Setting, shift: i64) -> Vec<String> {
    set.since
        .map(|s| vec!["--since".to_owned(), rfc3339(s + shift)])
        .unwrap_or_default()
}

//! Money at risk end to end (docs/money.md): sim-bot's money scenarios
//! through scrape-metrics (direct, windowed, and a real Prometheus) and
//! daily-report, into judge; judge's boundaries at exactly 50 % and 100 %
//! of the daily loss limit; missing equity holds.

use crate::util::{Output, Sim, TempDir, cmd};
use canary_core::{Level, Record};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/judge")
        .join(name);
    std::fs::read_to_string(p).expect("fixture")
}

const B_END: &str = "2026-11-26T01:01:00Z";
const A_END: &str = "2026-11-26T02:11:00Z";

/// Scrape the simulator once a second, `rounds` times.
fn scrape_every(sim: &Sim, rounds: u32, extra: &[&str]) -> Output {
    let url = format!("{}/metrics", sim.url);
    let count = rounds.to_string();
    let mut args = vec![
        "--url",
        url.as_str(),
        "--every",
        "1s",
        "--count",
        count.as_str(),
    ];
    args.extend_from_slice(extra);
    cmd("scrape-metrics").args(args).run()
}

fn all(out: &Output, name: &str) -> Vec<Record> {
    out.records()
        .into_iter()
        .filter(|r| r.name == name)
        .collect()
}

fn last(out: &Output, name: &str) -> Record {
    all(out, name)
        .pop()
        .unwrap_or_else(|| panic!("no {name}\n{}", out.stdout))
}

/// judge's overall verdict on `stream`.
fn judge(stream: &str, phase: &str, extra: &[&str]) -> (Value, Option<i32>) {
    let out = cmd("judge")
        .args(["--phase", phase])
        .args(extra)
        .stdin(stream.to_owned())
        .run();
    let v = out
        .records()
        .into_iter()
        .find(|r| r.name == "judge.verdict" && r.extra["scope"] == "overall")
        .unwrap_or_else(|| panic!("no verdict\n{}\n{}", out.stdout, out.stderr));
    (Value::Object(v.extra.into_iter().collect()), out.code)
}

fn reason_rules(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(|r| r["rule"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn a_sudden_drop_past_the_limit_is_crit_and_rolls_back() {
    let sim = Sim::with_args(&["--scenario", "equity-sudden-drop", "--money-after", "2s"]);
    let out = scrape_every(&sim, 5, &["--daily-loss-limit-pct", "0.05"]);
    let dd = last(&out, "metrics.drawdown");
    // 10000 -> 9400: 6 % of start-of-window equity, 1.2 times a 5 % limit.
    assert_eq!(
        (dd.level, dd.value.as_f64()),
        (Level::Crit, Some(1.2)),
        "{}",
        dd.msg
    );
    assert_eq!(dd.extra["equity_start"], json!(10000.0));
    assert_eq!(dd.extra["equity_trough"], json!(9400.0));
    assert_eq!(dd.extra["basis"], "start-of-window equity");
    assert_eq!(last(&out, "metrics.equity").value, json!(9400.0));
    let (v, code) = judge(&out.stdout, "b", &[]);
    assert_eq!(
        (v["decision"].as_str(), code),
        (Some("rollback"), Some(1)),
        "{v}"
    );
    assert!(reason_rules(&v).contains(&"drawdown".to_owned()), "{v}");
    let (v, _) = judge(&out.stdout, "a", &[]);
    assert_eq!(v["decision"], "stop", "{v}");
}

#[test]
fn a_restart_mid_window_keeps_the_start_of_window_basis_through_the_state_file() {
    let sim = Sim::with_args(&[
        "--scenario",
        "equity-restart",
        "--money-after",
        "2s",
        "--restart-gap",
        "2s",
    ]);
    let dir = TempDir::new("money-state");
    let state = dir.path("metrics.state");
    let state = state.to_str().expect("utf-8 path");
    // One run a second, as cron would, each with the state file.
    let mut rounds: Vec<Output> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = cmd("scrape-metrics")
            .args(["--url", &format!("{}/metrics", sim.url), "--state", state])
            .args(["--daily-loss-limit-pct", "0.05"])
            .run();
        let done = out
            .records()
            .iter()
            .any(|r| r.name == "metrics.equity" && r.value == json!(9400.0));
        rounds.push(out);
        if done && rounds.len() >= 6 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted bot never came back"
        );
        std::thread::sleep(Duration::from_millis(700));
    }
    let dd: Vec<Record> = rounds
        .iter()
        .flat_map(|o| all(o, "metrics.drawdown"))
        .collect();
    // In the gap the restarted bot exports nothing: no equity, unknown.
    assert!(
        dd.iter().any(|r| r.level == Level::Unknown),
        "{:?}",
        dd.iter().map(|r| &r.msg).collect::<Vec<_>>()
    );
    let after = dd.last().expect("a drawdown");
    assert_eq!(after.level, Level::Crit, "{}", after.msg);
    assert_eq!(
        after.extra["equity_start"],
        json!(10000.0),
        "the basis survived the restart"
    );
    // The order counter did fall: it was a restart, not a lost scrape.
    let orders: Vec<f64> = rounds
        .iter()
        .flat_map(|o| all(o, "metrics.orders"))
        .filter_map(|r| r.value.as_f64())
        .collect();
    assert!(orders.windows(2).any(|w| w[1] < w[0]), "{orders:?}");
}

#[test]
fn a_slow_bleed_warns_before_it_crits() {
    // 60 % a minute is 1 % a second: 5 % of the start (a 5 % limit) in 5 s.
    let sim = Sim::with_args(&[
        "--scenario",
        "equity-slow-bleed",
        "--equity-bleed-pct-per-min",
        "60",
    ]);
    let out = scrape_every(&sim, 8, &["--daily-loss-limit-pct", "0.05"]);
    let levels: Vec<Level> = all(&out, "metrics.drawdown")
        .iter()
        .map(|r| r.level)
        .collect();
    let warn = levels.iter().position(|l| *l == Level::Warn);
    let crit = levels.iter().position(|l| *l == Level::Crit);
    assert!(
        matches!((warn, crit), (Some(w), Some(c)) if w < c),
        "{levels:?}"
    );
}

#[test]
fn flat_equity_is_ok_even_without_a_limit_and_a_fall_without_one_is_unknown() {
    let flat = Sim::start("equity-flat");
    let out = cmd("scrape-metrics")
        .args([
            "--url",
            &format!("{}/metrics", flat.url),
            "--every",
            "1s",
            "--count",
            "2",
        ])
        .env("RISK_DAILY_LOSS_LIMIT_PCT", "")
        .run();
    let dd = last(&out, "metrics.drawdown");
    assert_eq!(
        (dd.level, dd.value.as_f64()),
        (Level::Ok, Some(0.0)),
        "{}",
        dd.msg
    );
    let drop = Sim::with_args(&["--scenario", "equity-sudden-drop", "--money-after", "1s"]);
    let out = cmd("scrape-metrics")
        .args([
            "--url",
            &format!("{}/metrics", drop.url),
            "--every",
            "1s",
            "--count",
            "3",
        ])
        .env("RISK_DAILY_LOSS_LIMIT_PCT", "")
        .run();
    let dd = last(&out, "metrics.drawdown");
    assert_eq!(dd.level, Level::Unknown, "{}", dd.msg);
    // The limit from the environment, parsed as the bot parses it.
    let drop = Sim::with_args(&["--scenario", "equity-sudden-drop", "--money-after", "1s"]);
    let out = cmd("scrape-metrics")
        .args([
            "--url",
            &format!("{}/metrics", drop.url),
            "--every",
            "1s",
            "--count",
            "3",
        ])
        .env("RISK_DAILY_LOSS_LIMIT_PCT", " 1_2e-2 ")
        .run();
    let dd = last(&out, "metrics.drawdown");
    assert_eq!(
        (dd.level, dd.value.as_f64()),
        (Level::Warn, Some(0.5)),
        "{}",
        dd.msg
    );
    assert_eq!(dd.extra["limit_source"], "RISK_DAILY_LOSS_LIMIT_PCT");
}

#[test]
fn an_open_circuit_breaker_rolls_back() {
    let sim = Sim::with_args(&["--scenario", "breaker-open", "--money-after", "1s"]);
    let out = scrape_every(&sim, 3, &[]);
    let b = last(&out, "metrics.circuit_breaker");
    assert_eq!(
        (b.level, b.value.as_f64()),
        (Level::Crit, Some(2.0)),
        "{}",
        b.msg
    );
    assert_eq!(b.extra["open"], json!(["orders"]));
    let (v, code) = judge(&out.stdout, "b", &[]);
    assert_eq!(
        (v["decision"].as_str(), code),
        (Some("rollback"), Some(1)),
        "{v}"
    );
    assert!(reason_rules(&v).contains(&"circuit-breaker-open".to_owned()));
}

#[test]
fn a_runaway_order_loop_stops_phase_a() {
    let sim = Sim::with_args(&[
        "--scenario",
        "order-runaway",
        "--money-after",
        "0s",
        "--runaway-rate",
        "50",
    ]);
    // 50 orders a second is 3000 a minute: five times a 600/min ceiling.
    let out = scrape_every(&sim, 4, &["--max-orders-per-minute", "600"]);
    let r = last(&out, "metrics.order_rate");
    assert_eq!(r.level, Level::Crit, "{}", r.msg);
    let per_minute = r.extra["orders_per_minute"].as_f64().expect("rate");
    assert!((2000.0..4000.0).contains(&per_minute), "{per_minute}");
    let (v, _) = judge(&out.stdout, "a", &[]);
    assert_eq!(v["decision"], "stop", "{v}");
    assert!(reason_rules(&v).contains(&"order-rate".to_owned()));
    // The ceiling from the canary's profile: one symbol every 60 s, x 10.
    let profile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/profiles/phase-a.yaml");
    let out = scrape_every(&sim, 3, &["--profile", profile.to_str().expect("path")]);
    let r = last(&out, "metrics.order_rate");
    assert_eq!(
        (r.level, r.extra["max_orders_per_minute"].as_f64()),
        (Level::Crit, Some(10.0)),
        "{}",
        r.msg
    );
    assert!(
        r.extra["ceiling_source"]
            .as_str()
            .is_some_and(|s| s.contains("1 symbol(s) every 60 s")),
        "{r:?}"
    );
    // The default ceiling (1800/min) is crossed too.
    let out = scrape_every(&sim, 3, &[]);
    assert_eq!(last(&out, "metrics.order_rate").level, Level::Crit);
}

#[test]
fn a_degraded_broker_api_holds_but_never_rolls_back() {
    let sim = Sim::with_args(&["--scenario", "api-degraded", "--money-after", "0s"]);
    let out = scrape_every(&sim, 2, &[]);
    assert_eq!(last(&out, "metrics.api_error_rate").level, Level::Warn);
    assert_eq!(last(&out, "metrics.rate_limit_usage").level, Level::Crit);
    let (v, _) = judge(&out.stdout, "b", &[]);
    assert_ne!(v["decision"], "rollback", "{v}");
    let rules = reason_rules(&v);
    assert!(rules.contains(&"api-health".to_owned()), "{rules:?}");
    assert!(
        !rules.contains(&"other-metrics-crit".to_owned()),
        "{rules:?}"
    );
}

/// `stream` with a `metrics.drawdown` record beside each round's guard-trip
/// signal: the equity drawdown at `value` of the limit throughout.
fn with_drawdown(stream: &str, value: f64) -> String {
    let mut out = String::new();
    for line in stream.lines() {
        out.push_str(line);
        out.push('\n');
        let v: Value = serde_json::from_str(line).expect("fixture line");
        if v["name"] == "metrics.guard_trips" {
            let level = if value >= 1.0 {
                "crit"
            } else if value >= 0.5 {
                "warn"
            } else {
                "ok"
            };
            let dd = json!({"v": 1, "ts": v["ts"], "tool": "scrape-metrics", "target": v["target"],
                "kind": "signal", "name": "metrics.drawdown", "level": level, "value": value,
                "thresholds": {"warn": 0.5, "crit": 1.0}, "msg": "equity drawdown", "unit": "ratio"});
            out.push_str(&dd.to_string());
            out.push('\n');
        }
    }
    out
}

fn decision(stream: &str, phase: &str, at: &str) -> String {
    let (v, _) = judge(stream, phase, &["--at", at, "--probe-interval", "5m"]);
    v["decision"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn judge_boundaries_at_exactly_half_and_all_of_the_limit() {
    let b = fixture("b-promote.ndjson");
    assert_eq!(decision(&with_drawdown(&b, 0.4999), "b", B_END), "promote");
    assert_eq!(decision(&with_drawdown(&b, 0.5), "b", B_END), "extend");
    assert_eq!(decision(&with_drawdown(&b, 0.9999), "b", B_END), "extend");
    assert_eq!(decision(&with_drawdown(&b, 1.0), "b", B_END), "rollback");
    let a = fixture("a-advance.ndjson");
    assert_eq!(decision(&with_drawdown(&a, 0.5), "a", A_END), "advance");
    assert_eq!(decision(&with_drawdown(&a, 0.9999), "a", A_END), "advance");
    assert_eq!(decision(&with_drawdown(&a, 1.0), "a", A_END), "stop");
}

#[test]
fn missing_equity_is_unknown_and_holds_promotion() {
    // A bot whose /metrics has no equity gauge: scrape-metrics says unknown...
    let dir = TempDir::new("money-noequity");
    let body = dir.path("metrics.txt");
    std::fs::write(
        &body,
        "# TYPE gpt_trader_order_submission_total counter\ngpt_trader_order_submission_total{reason=\"none\",result=\"success\",side=\"buy\"} 3\n",
    )
    .expect("body");
    let out = cmd("scrape-metrics")
        .args(["--file", body.to_str().expect("path")])
        .run();
    out.code(2);
    let eq = last(&out, "metrics.equity");
    assert_eq!(eq.level, Level::Unknown, "{}", eq.msg);
    assert_eq!(last(&out, "metrics.drawdown").level, Level::Unknown);
    // ... and judge holds a window that would otherwise promote.
    let b = with_drawdown(&fixture("b-promote.ndjson"), 0.0);
    assert_eq!(decision(&b, "b", B_END), "promote");
    let mut held = b.clone();
    let unknown = json!({"v": 1, "ts": "2026-11-26T01:00:15Z", "tool": "scrape-metrics",
        "target": "http://127.0.0.1:8080/metrics", "kind": "sample", "name": "metrics.equity",
        "level": "unknown", "value": null, "msg": "equity unknown: the newest scrape has no gpt_trader_equity_dollars"});
    held.push_str(&unknown.to_string());
    held.push('\n');
    let (v, code) = judge(&held, "b", &["--at", B_END, "--probe-interval", "5m"]);
    assert_eq!(
        (v["decision"].as_str(), code),
        (Some("extend"), Some(2)),
        "{v}"
    );
    assert!(
        reason_rules(&v).contains(&"unknown-evidence".to_owned()),
        "{v}"
    );
}

/// A daily report generated now, with the given day and liveness.
fn daily(equity: f64, change: f64, liveness: &str) -> String {
    let now = jiff::Timestamp::now().to_string();
    json!({
        "date": "2026-12-02", "profile": "canary", "generated_at": now,
        "account": {"equity": equity, "equity_change": change, "equity_change_pct": 0.0},
        "pnl": {"realized": 0.0, "unrealized": 0.0, "funding": 0.0, "total": change, "fees": 0.0},
        "performance": {"max_drawdown": 0.0, "max_drawdown_pct": 0.0},
        "risk": {"guard_triggers": {}, "circuit_breaker_state": {}},
        "health": {"stale_marks": 0, "ws_reconnects": 0, "unfilled_orders": 0, "api_errors": 0,
                   "liveness": {"status": liveness, "max_age_seconds": 300}}
    })
    .to_string()
}

fn daily_report(report: String, extra: &[&str]) -> Output {
    cmd("daily-report").args(extra).stdin(report).run()
}

#[test]
fn the_daily_report_at_the_boundaries_and_its_liveness() {
    // Start-of-day 10000, 1 % limit: 50 dollars is half, 100 the whole.
    let half = daily_report(
        daily(9950.0, -50.0, "GREEN"),
        &["--daily-loss-limit-pct", "0.01"],
    );
    half.code(0);
    let dd = half.record("daily.drawdown");
    assert_eq!(
        (dd.level, dd.value.as_f64()),
        (Level::Warn, Some(0.5)),
        "{}",
        dd.msg
    );
    let full = daily_report(
        daily(9900.0, -100.0, "GREEN"),
        &["--daily-loss-limit-pct", "0.01"],
    );
    full.code(1);
    assert_eq!(full.record("daily.drawdown").level, Level::Crit);
    let (v, _) = judge(&full.stdout, "b", &[]);
    assert_eq!(v["decision"], "rollback", "{v}");
    // The CLI envelope of `report daily --format json` is read too.
    let env = json!({"success": true, "exit_code": 0, "command": "report daily",
        "data": {"report": serde_json::from_str::<Value>(&daily(10000.0, 0.0, "RED")).expect("json"),
                 "saved_paths": [], "profile": "canary", "date": "2026-12-02"},
        "errors": [], "warnings": [], "metadata": {"timestamp": "x", "was_noop": false, "version": "1.0"}});
    let red = daily_report(env.to_string(), &["--daily-loss-limit-pct", "0.01"]);
    red.code(1);
    assert_eq!(red.record("daily.liveness").level, Level::Crit);
    let (v, _) = judge(&red.stdout, "a", &[]);
    assert_eq!(v["decision"], "stop", "{v}");
    // UNKNOWN liveness holds, with exit 2.
    let unknown = daily_report(
        daily(10000.0, 0.0, "UNKNOWN"),
        &["--daily-loss-limit-pct", "0.01"],
    );
    unknown.code(2);
    let (v, _) = judge(&unknown.stdout, "b", &[]);
    assert!(
        reason_rules(&v).contains(&"liveness-unknown".to_owned()),
        "{v}"
    );
    // A report two days old is stale: every record unknown.
    let old =
        daily(10000.0, 0.0, "GREEN").replace(&jiff::Timestamp::now().to_string()[..4], "2020");
    let stale = daily_report(old, &["--daily-loss-limit-pct", "0.01"]);
    stale.code(2);
    assert!(stale.records().iter().all(|r| r.level == Level::Unknown));
    // Not a report, or over the cap: a daily.report error and exit 2.
    let junk = daily_report("[1, 2]".into(), &[]);
    junk.code(2);
    assert!(
        junk.stderr.starts_with("daily-report: error: "),
        "{}",
        junk.stderr
    );
    assert_eq!(junk.record("daily.report").level, Level::Unknown);
    let big = daily_report(daily(1.0, 0.0, "GREEN"), &["--max-bytes", "100"]);
    big.code(2);
    assert!(big.record("daily.report").msg.contains("limit"));
}

#[test]
fn through_a_real_prometheus_the_gauges_are_read_as_gauges() {
    // The scenario's clock starts at Prometheus' first scrape: it sees the
    // flat equity for 4 s, then the drop.
    let sim = Sim::with_args(&["--scenario", "equity-sudden-drop", "--money-after", "4s"]);
    let prom = crate::prometheus::prometheus(&[sim.instance()], &[]);
    let deadline = Instant::now() + Duration::from_secs(40);
    let (dd, out) = loop {
        let out = cmd("scrape-metrics")
            .args(["--prometheus", &prom.url, "--instance", &sim.instance()])
            .args(["--daily-loss-limit-pct", "0.05"])
            .run();
        let recs = out.records();
        let dd = recs.iter().find(|r| r.name == "metrics.drawdown").cloned();
        if let Some(dd) = dd.filter(|d| d.level == Level::Crit) {
            break (dd, out);
        }
        assert!(
            Instant::now() < deadline,
            "never CRIT through Prometheus\n{}",
            out.stdout
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(dd.value.as_f64(), Some(1.2), "{}", dd.msg);
    assert_eq!(dd.extra["source"], "prometheus");
    let p = &dd.extra["prometheus"];
    assert_eq!(p["equity_max_over_time"]["value"], json!(10000.0), "{p}");
    assert_eq!(p["equity_min_over_time"]["value"], json!(9400.0), "{p}");
    let b = out
        .records()
        .into_iter()
        .find(|r| r.name == "metrics.circuit_breaker")
        .expect("breaker");
    assert_eq!(b.level, Level::Ok, "{}", b.msg);
    assert_eq!(
        b.extra["prometheus"]["breaker_max_over_time"]["by_category"]["orders"],
        json!(0.0)
    );
    let (v, _) = judge(&out.stdout, "b", &[]);
    assert_eq!(v["decision"], "rollback", "{v}");
}

#[test]
fn canary_report_charts_equity_against_the_loss_limit_lines() {
    let sim = Sim::with_args(&["--scenario", "equity-sudden-drop", "--money-after", "1s"]);
    let out = scrape_every(&sim, 3, &["--daily-loss-limit-pct", "0.05"]);
    let report = cmd("canary-report").stdin(out.stdout.clone()).run();
    report.code(0);
    let html = &report.stdout;
    assert!(html.contains("id=\"chart-equity\""), "no equity chart");
    let chart = &html[html.find("id=\"chart-equity\"").expect("chart")..];
    let chart = &chart[..chart.find("</figure>").expect("end of figure")];
    assert!(chart.contains("<svg class=\"plot\""), "{chart}");
    assert!(
        chart.contains("class=\"threshold warn\"") && chart.contains("class=\"threshold crit\""),
        "{chart}"
    );
    // Start 10000 less 2.5 % and 5 %: the WARN and CRIT lines.
    assert!(
        chart.contains("WARN −2.5 %") && chart.contains("CRIT −5 %"),
        "{chart}"
    );
    assert!(chart.contains("<polyline"), "the equity line: {chart}");
}

#[test]
fn two_equities_in_one_body_or_an_unparsable_breaker_line_are_unknown() {
    let dir = TempDir::new("money-forged");
    let body = dir.path("metrics.txt");
    std::fs::write(
        &body,
        "# TYPE gpt_trader_equity_dollars gauge\ngpt_trader_equity_dollars 10000.0\ngpt_trader_equity_dollars 9000.0\n\
         # TYPE gpt_trader_circuit_breaker_state gauge\ngpt_trader_circuit_breaker_state{category=\"market_data\"} 0.0\n\
         gpt_trader_circuit_breaker_state{category=\"orders\"} open\n",
    )
    .expect("body");
    let out = cmd("scrape-metrics")
        .args(["--file", body.to_str().expect("path")])
        .run();
    out.code(2);
    assert_eq!(last(&out, "metrics.equity").level, Level::Unknown);
    assert_eq!(last(&out, "metrics.drawdown").level, Level::Unknown);
    // The orders breaker's line did not parse: closed elsewhere is not closed.
    let b = last(&out, "metrics.circuit_breaker");
    assert_eq!(b.level, Level::Unknown, "{}", b.msg);
    assert!(
        all(&out, "metrics.parse")
            .iter()
            .any(|r| r.level == Level::Unknown)
    );
}

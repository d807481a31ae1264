//! Issue 17, end to end: for each behaviour where the real GPT-Trader bot
//! differs from the picture the tools were first built on, the real
//! producer is run against the sim-bot scenario that reproduces it (or
//! against the real example profile and env file), and the test asserts
//! what an operator must see. docs/fidelity.md names these tests beside
//! the behaviours they prove.
//!
//! Series born inside a Prometheus window are proven in
//! `prometheus::series_born_inside_the_window_are_counted_from_zero`, not here.

use crate::util::{Output, Sim, TempDir, cmd};
use canary_core::{Level, Record};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One GET to the simulator: status code and body, as the bot frames them.
fn get(sim: &Sim, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(sim.instance()).expect("connect to sim-bot");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    write!(s, "GET {path} HTTP/1.1\r\n\r\n").expect("send request");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read response");
    let (head, body) = resp.split_once("\r\n\r\n").expect("head and body");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (code, body.to_owned())
}

fn health(sim: &Sim) -> (u16, Value) {
    let (code, body) = get(sim, "/health");
    (code, serde_json::from_str(&body).expect("/health is JSON"))
}

fn probe(sim: &Sim, extra: &[&str]) -> Output {
    cmd("probe-health")
        .args(["--url", sim.url.as_str(), "--format", "json"])
        .args(extra)
        .run()
}

fn scrape(sim: &Sim) -> Output {
    cmd("scrape-metrics")
        .args(["--url", &format!("{}/metrics", sim.url), "--format", "json"])
        .run()
}

/// Every record of this name (several with `--every`).
fn all(out: &Output, name: &str) -> Vec<Record> {
    out.records()
        .into_iter()
        .filter(|r| r.name == name)
        .collect()
}

fn msg_has(r: &Record, words: &[&str]) {
    for w in words {
        assert!(
            r.msg.contains(w),
            "{}: message lacks {w:?}: {}",
            r.name,
            r.msg
        );
    }
}

// ---- sim-bot items 1 and 2: a stale or lost feed is a global pause, 503 ----

#[test]
fn ws_stale_is_a_global_pause_and_no_go() {
    let sim = Sim::start("ws-stale");
    let (code, h) = health(&sim);
    assert_eq!((code, h["status"].as_str()), (503, Some("unhealthy")));
    let out = probe(&sim, &[]);
    out.code(1);
    let status = out.record("health.status");
    assert_eq!(
        (status.level, status.value.as_str()),
        (Level::Crit, Some("unhealthy"))
    );
    assert_eq!(status.extra["http_status"], 503);
    let pause = out.record("health.degradation.global_paused");
    assert_eq!(
        (pause.level, &pause.value),
        (Level::Crit, &Value::Bool(true))
    );
    assert_eq!(pause.extra["reason"], "ws_message_stale");
    msg_has(&pause, &["globally paused", "ws_message_stale", "NO-GO"]);
    // The watchdog renews a 30 s pause every 5 s: 25–30 s remain.
    let left = h["checks"]["degradation"]["details"]["global_remaining_seconds"]
        .as_f64()
        .expect("remaining seconds");
    assert!((25.0..=30.0).contains(&left), "remaining {left}");
    assert_eq!(out.record("health.websocket.stale").level, Level::Crit);
}

#[test]
fn ws_disconnected_is_paused_and_503_in_every_sample() {
    let sim = Sim::start("ws-disconnected");
    let out = probe(&sim, &["--every", "1s", "--count", "3"]);
    out.code(1);
    let statuses = all(&out, "health.status");
    assert_eq!(statuses.len(), 3, "three rounds");
    for s in &statuses {
        assert_eq!(s.level, Level::Crit, "{}", s.msg);
        assert_eq!(s.extra["http_status"], 503);
    }
    let pauses = all(&out, "health.degradation.global_paused");
    assert_eq!(pauses.len(), 3);
    assert!(
        pauses
            .iter()
            .all(|p| p.level == Level::Crit && p.value == Value::Bool(true)),
        "{pauses:?}"
    );
    let connected = all(&out, "health.websocket.connected");
    assert!(
        connected.iter().all(|c| c.level == Level::Crit),
        "{connected:?}"
    );
    // A raw look at more samples than the probes took: never a 200.
    for _ in 0..10 {
        let (code, h) = health(&sim);
        assert_eq!(code, 503);
        assert_eq!(h["checks"]["degradation"]["details"]["global_paused"], true);
    }
}

// ---- sim-bot item 3: a failed order is two broker attempts ----

#[test]
fn retries_count_two_broker_attempts_per_failed_order() {
    let sim = Sim::start("retries");
    // 50 orders: 44 first-time successes, 5 successes on a second attempt
    // after a timeout, 1 rate-limited order failed after two attempts
    // → 56 broker submits, 6 retries.
    let m = get(&sim, "/metrics").1;
    let count = |selector: &str| -> f64 {
        m.lines()
            .filter(|l| {
                l.starts_with("gpt_trader_broker_call_latency_seconds_count{")
                    && l.contains(selector)
            })
            .map(|l| {
                l.rsplit(' ')
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .expect("count")
            })
            .sum()
    };
    assert_eq!(count("operation=\"submit\""), 56.0);
    assert!(
        m.contains("gpt_trader_order_submission_total{reason=\"rate_limit\",result=\"failed\",side=\"sell\"} 1\n"),
        "one failed order"
    );
    assert_eq!(
        count("reason=\"rate_limit\""),
        2.0,
        "the failed order is two broker attempts"
    );
    let out = scrape(&sim);
    out.code(0);
    let retry = out.record("metrics.order_retry_rate");
    assert_eq!(retry.extra["numerator"], 6.0);
    assert_eq!(retry.extra["denominator"], 50.0);
    assert_eq!(retry.value.as_f64(), Some(0.12));
    assert_eq!(retry.level, Level::Warn);
    let errors = out.record("metrics.order_error_rate");
    assert_eq!(
        (
            errors.extra["numerator"].as_f64(),
            errors.extra["denominator"].as_f64()
        ),
        (Some(1.0), Some(50.0))
    );
    // The bot's own signal counts the same attempts.
    let p = probe(&sim, &[]);
    let sig = p.record("health.signal.order_retry_rate");
    assert_eq!((sig.level, sig.value.as_f64()), (Level::Warn, Some(0.12)));
}

// ---- sim-bot item 4: the heartbeat age is null ----

#[test]
fn a_null_heartbeat_age_is_never_evidence() {
    let sim = Sim::start("healthy-b");
    let (_, h) = health(&sim);
    assert_eq!(
        h["checks"]["websocket"]["details"]["last_heartbeat_age_seconds"],
        Value::Null
    );
    let out = probe(&sim, &[]);
    out.code(0);
    let row = out.record("health.websocket.staleness");
    // The row is judged on the message age alone; the null heartbeat is
    // carried as it is and said to be unknown, never turned into 0 or "fresh".
    assert_eq!(row.value.as_f64(), Some(2.1));
    assert_eq!(row.extra["heartbeat_age_seconds"], Value::Null);
    msg_has(&row, &["heartbeat", "unknown"]);
    for r in out.records() {
        assert!(
            !(r.level == Level::Ok && r.name.contains("heartbeat")),
            "a record calls the heartbeat ok: {r:?}"
        );
    }
    // The exporter writes the missing timestamp's age as 0.0; no tool may
    // read that as a fresh heartbeat: scrape-metrics says nothing about it.
    assert!(
        get(&sim, "/metrics")
            .1
            .contains("gpt_trader_ws_last_heartbeat_age_seconds 0.0\n")
    );
    let s = scrape(&sim);
    assert!(
        s.records()
            .iter()
            .all(|r| !r.name.contains("heartbeat") && !r.msg.contains("heartbeat")),
        "{}",
        s.stdout
    );
}

// ---- sim-bot item 5: starting is `cli_run`; shutdown freezes the checks ----

#[test]
fn starting_with_reason_cli_run_is_reported_as_starting() {
    let sim = Sim::start("starting");
    let out = probe(&sim, &["--ready"]);
    out.code(1);
    let status = out.record("health.status");
    assert_eq!(
        (status.level, status.value.as_str()),
        (Level::Crit, Some("starting"))
    );
    assert_eq!(status.extra["reason"], "cli_run");
    msg_has(&status, &["starting", "cli_run"]);
    let ready = out.record("health.ready");
    assert_eq!(
        (ready.level, ready.extra["reason"].as_str()),
        (Level::Crit, Some("cli_run"))
    );
    // A starting bot's /metrics is empty: no evidence, and said to be why.
    let m = scrape(&sim);
    m.code(2);
    let orders = m.record("metrics.orders");
    assert_eq!(orders.level, Level::Unknown);
    msg_has(&orders, &["starting"]);
    // Only the performance check exists yet: every other row is unknown.
    for name in [
        "health.broker",
        "health.websocket.connected",
        "health.degradation.global_paused",
    ] {
        assert_eq!(out.record(name).level, Level::Unknown, "{name}");
    }
}

#[test]
fn shutdown_reports_frozen_checks_as_stale_and_not_live() {
    let sim = Sim::start("shutdown");
    let out = probe(&sim, &["--live"]);
    out.code(1);
    let status = out.record("health.status");
    assert_eq!(status.level, Level::Crit);
    assert_eq!(status.extra["live"], false);
    msg_has(&status, &["not live", "shutdown"]);
    assert_eq!(out.record("health.live").level, Level::Crit);
    // The cached rows still say pass / connected / not paused: stale, never ok.
    for name in [
        "health.broker",
        "health.websocket.connected",
        "health.websocket.stale",
        "health.websocket.staleness",
        "health.degradation.global_paused",
        "health.check.ticker_freshness",
        "health.check.market_data_feed",
    ] {
        let r = out.record(name);
        assert_eq!(r.level, Level::Unknown, "{name}: {}", r.msg);
        assert_eq!(r.extra["frozen"], true, "{name}");
        msg_has(&r, &["frozen", "stale"]);
    }
    assert!(
        out.records()
            .iter()
            .filter(|r| r.level == Level::Ok)
            .all(|r| r.name == "health.check.performance" || r.name.starts_with("health.signal")),
        "only what the bot computes per request may stay ok\n{}",
        out.stdout
    );
}

// ---- sim-bot item 9: maximum reconnect attempts, the critical websocket state ----

#[test]
fn max_reconnect_says_the_websocket_check_failed_critical() {
    let sim = Sim::start("max-reconnect");
    let out = probe(&sim, &[]);
    out.code(1);
    let ws = out.record("health.websocket.connected");
    assert_eq!(ws.level, Level::Crit);
    assert_eq!(ws.extra["max_attempts_triggered"], true);
    msg_has(
        &ws,
        &["maximum reconnect attempts", "fails critical", "NO-GO"],
    );
    let status = out.record("health.status");
    msg_has(&status, &["websocket (critical)"]);
    // A plain disconnect is not called critical by the bot: the message says so.
    let plain = Sim::start("ws-disconnected");
    let ws = probe(&plain, &[]).record("health.websocket.connected");
    assert_eq!(ws.level, Level::Crit);
    assert!(ws.extra.get("max_attempts_triggered").is_none(), "{ws:?}");
    msg_has(&ws, &["disconnected", "severity warning"]);
    assert!(!ws.msg.contains("maximum"), "{}", ws.msg);
}

// ---- sim-bot item 6: the host-wide performance check flips ----

#[test]
fn a_performance_flip_is_read_as_degraded_not_a_failure() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--perf-flap", "2"]);
    let first = probe(&sim, &[]);
    first.code(0);
    assert_eq!(first.record("health.status").level, Level::Ok);
    let second = probe(&sim, &[]);
    second.code(0);
    let status = second.record("health.status");
    assert_eq!(
        (status.level, status.value.as_str()),
        (Level::Warn, Some("degraded"))
    );
    msg_has(&status, &["performance degraded"]);
    let perf = second.record("health.check.performance");
    assert_eq!(perf.level, Level::Warn);
    msg_has(&perf, &["High CPU usage", "host-wide"]);
}

// ---- sim-bot item 7: the exporter's breadth, float gauges, a lying gauge ----

#[test]
fn the_full_exporter_body_is_read_without_errors() {
    let sim = Sim::start("ws-disconnected");
    let body = get(&sim, "/metrics").1;
    let families: std::collections::BTreeSet<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    assert!(families.len() >= 20, "breadth: {families:?}");
    assert!(body.contains("gpt_trader_ws_connected 1.0\n"));
    let gauges: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("gpt_trader_ws_"))
        .collect();
    assert!(gauges.len() >= 9, "{gauges:?}");
    for g in &gauges {
        assert!(
            g.rsplit(' ').next().is_some_and(|v| v.contains('.')),
            "websocket gauges are floats: {g}"
        );
    }
    let out = scrape(&sim);
    out.code(0);
    assert!(all(&out, "metrics.parse").is_empty(), "{}", out.stdout);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    // One histogram record per family, however many series it has.
    let hist = all(&out, "metrics.histogram");
    let mut names: Vec<&str> = hist
        .iter()
        .filter_map(|r| r.extra["family"].as_str())
        .collect();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "one record per family: {names:?}");
    let broker = hist
        .iter()
        .find(|r| r.extra["family"] == "gpt_trader_broker_call_latency_seconds")
        .expect("the broker-latency family");
    assert_eq!(broker.level, Level::Warn);
    let series = broker.extra["series"].as_u64().expect("series count");
    assert!(series >= 3, "{broker:?}");
    assert_eq!(broker.extra["repaired"].as_u64(), Some(series));
    assert_eq!(
        broker.extra["repaired_series"].as_array().map(Vec::len),
        Some(series as usize)
    );
    msg_has(
        broker,
        &[&format!("{series} of {series} series double-cumulated")],
    );
    // `gpt_trader_ws_connected 1.0` is no evidence of a connection: nothing
    // scrape-metrics says rests on it, and /health's disconnect wins.
    assert!(
        out.records()
            .iter()
            .all(|r| !r.name.contains("ws") && !r.msg.contains("websocket")),
        "{}",
        out.stdout
    );
    let ws = probe(&sim, &[]).record("health.websocket.connected");
    assert_eq!((ws.level, &ws.value), (Level::Crit, &Value::Bool(false)));
}

// ---- sim-bot item 8: market_data_feed's delay is 0.0 ----

#[test]
fn market_data_feed_with_zero_delay_is_read_as_passing() {
    let sim = Sim::start("healthy-b");
    let (_, h) = health(&sim);
    let d = h["checks"]["market_data_feed"]["details"]
        .as_object()
        .expect("details");
    assert_eq!(d["timeout_delay_seconds"], 0.0);
    assert_eq!(d.keys().next_back().map(String::as_str), Some("severity"));
    let out = probe(&sim, &[]);
    out.code(0);
    let r = out.record("health.check.market_data_feed");
    assert_eq!(
        (r.level, r.value.as_str()),
        (Level::Ok, Some("pass")),
        "{}",
        r.msg
    );
}

// ---- sim-bot item 9: the dry-run canary ----

#[test]
fn dry_run_reads_as_a_100_percent_error_rate_everywhere() {
    let sim = Sim::start("dry-run");
    let out = scrape(&sim);
    out.code(1);
    let e = out.record("metrics.order_error_rate");
    assert_eq!((e.level, e.value.as_f64()), (Level::Crit, Some(1.0)));
    assert_eq!(e.extra["numerator"], e.extra["denominator"]);
    assert!(
        e.extra["denominator"].as_f64().is_some_and(|d| d > 0.0),
        "{e:?}"
    );
    assert_eq!(
        out.record("metrics.orders").extra["by_result"],
        serde_json::json!({"rejected": e.extra["denominator"]})
    );
    // The operator is told why: every order rejected as a dry run's broker does.
    let orders = out.record("metrics.orders");
    assert_eq!(orders.extra["looks_like_dry_run"], true);
    msg_has(
        &orders,
        &["broker_status", "dry run", "places no real order"],
    );
    // Ordinary failures are never called a dry run.
    let real = scrape(&Sim::start("order-errors-crit"));
    assert!(
        real.record("metrics.orders")
            .extra
            .get("looks_like_dry_run")
            .is_none()
    );
    let p = probe(&sim, &[]);
    p.code(1);
    let sig = p.record("health.signal.order_error_rate");
    assert_eq!((sig.level, sig.value.as_f64()), (Level::Crit, Some(1.0)));
    let status = p.record("health.status");
    assert_eq!(
        (status.level, status.extra["http_status"].as_u64()),
        (Level::Crit, Some(503))
    );
}

/// The example canary profile, edited one way.
fn canary_profile(dir: &TempDir, edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string("examples/profiles/canary.yaml").expect("example profile");
    let edited = edit(text.clone());
    assert_ne!(edited, text, "the edit changed nothing");
    let path = dir.path("canary.yaml");
    std::fs::write(&path, edited).expect("write profile");
    path.display().to_string()
}

#[test]
fn a_dry_run_canary_profile_is_no_go_with_the_reason() {
    let dir = TempDir::new("fidelity-dry");
    for (key, line) in [
        ("execution.dry_run", "    dry_run: true\n"),
        ("execution.mock_broker", "    mock_broker: true\n"),
    ] {
        let p = canary_profile(&dir, |t| {
            t.replace(
                "    time_in_force: IOC\n",
                &format!("    time_in_force: IOC\n{line}"),
            )
        });
        let out = cmd("check-profile")
            .args([p.as_str(), "--phase", "a", "--format", "json"])
            .run();
        out.code(1);
        let r = out.record("profile.execution");
        assert_eq!(r.level, Level::Crit, "{key}: {}", r.msg);
        assert_eq!(r.value, serde_json::json!([key]));
        msg_has(&r, &["rejects every", "100 %"]);
    }
}

// ---- producers item 4: a null section makes the bot fall back ----

#[test]
fn a_null_execution_section_is_the_bots_fallback_not_loaded() {
    let dir = TempDir::new("fidelity-null");
    let p = canary_profile(&dir, |t| {
        let start = t.find("  execution:\n").expect("trading.execution");
        let end = t.find("\nstrategy:").expect("strategy");
        format!("{}  execution: null\n{}", &t[..start], &t[end..])
    });
    let out = cmd("check-profile")
        .args([p.as_str(), "--phase", "a", "--format", "json"])
        .run();
    out.code(1);
    let load = out.record("profile.load");
    assert_eq!(
        (load.level, load.value.as_str()),
        (Level::Crit, Some("fallback"))
    );
    msg_has(
        &load,
        &[
            "null",
            "falls back",
            "hard-coded 'canary'",
            "shorts ENABLED",
        ],
    );
    // Every value shown is the fallback's, and says so: none is the file's.
    for name in [
        "profile.trading.mode",
        "profile.risk_management.max_leverage",
        "profile.risk_management.position_fraction",
    ] {
        msg_has(
            &out.record(name),
            &["from the hard-coded profile the bot falls back to"],
        );
    }
    assert_eq!(out.record("profile.execution").level, Level::Unknown);
}

// ---- producers item 3: check-risk-env validates as the bot does ----

#[test]
fn check_risk_env_validates_the_example_env_as_the_bot_does() {
    let dir = TempDir::new("fidelity-env");
    let text = std::fs::read_to_string("examples/env/phase-a.env").expect("example env");
    let run = |body: String| {
        let p = dir.path("risk.env");
        std::fs::write(&p, body).expect("write env");
        cmd("check-risk-env")
            .args([
                "--env-file",
                &p.display().to_string(),
                "--phase",
                "a",
                "--format",
                "json",
            ])
            .run()
    };
    // The example as shipped is GO.
    run(text.clone()).code(0);
    // CFM_MAX_LEVERAGE=2_0: Python's int() takes it, the bot's start does not.
    let out = run(text.replace("CFM_MAX_LEVERAGE=1", "CFM_MAX_LEVERAGE=2_0"));
    out.code(1);
    let start = out.record("risk.bot_start");
    assert_eq!(start.level, Level::Crit);
    msg_has(&start, &["CFM_MAX_LEVERAGE", "exits 1"]);
    // ${VAR} is expanded as the bot's dotenv loader does: no false NO-GO.
    let out = run(text.replace(
        "export RISK_MAX_LEVERAGE=1",
        "LEV=1\nexport RISK_MAX_LEVERAGE=${LEV}",
    ));
    out.code(0);
    assert_eq!(out.record("risk.max_leverage").value.as_f64(), Some(1.0));
    // CFM_ENABLED is read by the bot: never called unread.
    let out = run(format!("{text}CFM_ENABLED=1\n"));
    out.code(0);
    assert!(
        !out.stdout.contains("not read by the bot"),
        "{}",
        out.stdout
    );
}

//! The simulator speaks the bot's wire format (docs/bot.md#http-framing,
//! docs/bot.md#endpoints-and-status-codes, docs/bot.md#metrics-exporter) and
//! reproduces the real bot's states (docs/fidelity.md).

use crate::util::{Sim, bin, cmd, read_all};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn raw(sim: &Sim, request: &str) -> String {
    let addr = sim.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(request.as_bytes()).expect("send");
    String::from_utf8(read_all(s)).expect("utf8 response")
}

#[test]
fn metrics_disabled_is_the_bots_exact_404() {
    let sim = Sim::start("metrics-disabled");
    let resp = raw(&sim, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        resp,
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 97\r\nConnection: close\r\n\r\n{\n  \"error\": \"Metrics endpoint disabled\",\n  \"hint\": \"Set GPT_TRADER_METRICS_ENDPOINT_ENABLED=1\"\n}"
    );
}

#[test]
fn routing_is_exact_and_get_only() {
    let sim = Sim::start("healthy-a");
    let head = raw(&sim, "HEAD /health HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{head}"
    );
    assert!(head.contains("Content-Length: 35\r\n"));
    let bad = raw(&sim, "GARBAGE\r\n\r\n");
    assert!(
        bad.starts_with("HTTP/1.1 400 Bad Request\r\n") && bad.contains("Content-Length: 32\r\n"),
        "{bad}"
    );
    let slash = raw(&sim, "GET /health/ HTTP/1.1\r\n\r\n");
    assert!(
        slash.starts_with("HTTP/1.1 404 Not Found\r\n")
            && slash.ends_with("\"path\": \"/health/\"\n}"),
        "{slash}"
    );
    let query = raw(&sim, "GET /health?x=1 HTTP/1.1\r\n\r\n");
    assert!(query.starts_with("HTTP/1.1 404 "), "{query}");
}

#[test]
fn health_is_pretty_json_without_trailing_newline_and_503_when_unhealthy() {
    let sim = Sim::start("real-canary");
    let resp = raw(&sim, "GET /health HTTP/1.1\r\n\r\n");
    let (head, body) = resp.split_once("\r\n\r\n").expect("head and body");
    assert_eq!(
        head.lines().collect::<Vec<_>>()[..3],
        [
            "HTTP/1.1 503 Service Unavailable",
            "Content-Type: application/json",
            &format!("Content-Length: {}", body.len())
        ]
    );
    assert!(head.ends_with("Connection: close"));
    assert!(body.starts_with("{\n  \"status\": \"unhealthy\",\n  \"live\": true,"));
    assert!(!body.ends_with('\n'));
    let v: serde_json::Value = serde_json::from_str(body).expect("json");
    assert_eq!(
        v["checks"]["ticker_freshness"]["details"]["severity"],
        "critical"
    );
    assert_eq!(
        v["checks"]["degradation"]["details"]["reduce_only_mode"],
        false
    );
    assert_eq!(
        v["checks"]["market_data_feed"]["details"]["status"],
        "UNKNOWN"
    );
    let keys: Vec<&String> = v["checks"].as_object().expect("checks").keys().collect();
    assert_eq!(keys.last().map(|k| k.as_str()), Some("performance"));
}

#[test]
fn metrics_use_the_prometheus_type_and_double_cumulate_unless_told() {
    let sim = Sim::start("order-errors-warn");
    let resp = raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(resp.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert!(!resp.contains("# HELP"));
    // De-cumulating 10, 28, 47 gives the truth 10, 18, 19 (docs/bot.md#histogram-double-cumulation).
    for (le, want) in [("0.25", 10), ("0.5", 28), ("1.0", 47)] {
        let line = format!(
            "gpt_trader_broker_call_latency_seconds_bucket{{le=\"{le}\",operation=\"submit\",outcome=\"success\",reason=\"none\"}} {want}\n"
        );
        assert!(resp.contains(&line), "missing {line}");
    }
    assert!(resp.ends_with('\n'));
    let fixed = Sim::with_args(&["--scenario", "order-errors-warn", "--correct-buckets"]);
    let resp = raw(&fixed, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(
        resp.contains("le=\"1.0\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 19\n")
    );
}

#[test]
fn starting_bot_has_an_empty_metrics_body() {
    let sim = Sim::start("starting");
    let resp = raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(
        resp.ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"),
        "{resp}"
    );
}

/// The bot's lifetime order count in a /metrics response.
fn orders(body: &str) -> i64 {
    body.lines()
        .filter(|l| l.starts_with("gpt_trader_order_submission_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<i64>().ok())
        .sum()
}

#[test]
fn live_mode_counters_grow() {
    let sim = Sim::with_args(&["--scenario", "live", "--order-rate", "50"]);
    let first = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
    assert!(
        second >= first + 10,
        "orders did not grow: {first} -> {second}"
    );
}

#[test]
fn unknown_scenario_is_a_usage_error() {
    let out = cmd("sim-bot")
        .args(["--port", "0", "--scenario", "nope"])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .starts_with("sim-bot: error: invalid value 'nope' for '--scenario <SCENARIO>'"),
        "{}",
        out.stderr
    );
    // The possible values are listed, the new scenarios among them.
    assert!(out.stderr.contains("ws-stale"), "{}", out.stderr);
    assert!(out.stderr.contains("max-reconnect"), "{}", out.stderr);
}

#[test]
fn live_traffic_can_run_on_top_of_any_scenario() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "50"]);
    let first = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let second = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
    assert!(
        second >= first + 10,
        "orders did not grow: {first} -> {second}"
    );
    let health = raw(&sim, "GET /health HTTP/1.1\r\n\r\n");
    assert!(
        health.contains("\"reduce_only_mode\": true"),
        "still the Phase A scenario"
    );
}

/// Status code and parsed JSON body of a GET.
fn get(sim: &Sim, path: &str) -> (u16, Value) {
    let resp = raw(sim, &format!("GET {path} HTTP/1.1\r\n\r\n"));
    let (head, body) = resp.split_once("\r\n\r\n").expect("head and body");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (code, serde_json::from_str(body).expect("json body"))
}

fn metrics(sim: &Sim) -> String {
    let resp = raw(sim, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    resp.split_once("\r\n\r\n").expect("body").1.to_owned()
}

/// The value of one exposition line, given everything before the value.
fn sample(body: &str, series: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(str::to_owned)
}

fn signal<'a>(health: &'a Value, name: &str) -> &'a Value {
    health["signals"]["signals"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no signal {name}"))
}

#[test]
fn ws_stale_is_503_with_a_global_pause_the_watchdog_renews() {
    let sim = Sim::start("ws-stale");
    let (code, h) = get(&sim, "/health");
    assert_eq!((code, h["status"].as_str()), (503, Some("unhealthy")));
    let d = &h["checks"]["degradation"];
    assert_eq!(d["status"], "fail");
    assert_eq!(d["details"]["severity"], "critical");
    assert_eq!(d["details"]["global_paused"], true);
    assert_eq!(d["details"]["global_pause_reason"], "ws_message_stale");
    let left = d["details"]["global_remaining_seconds"]
        .as_i64()
        .expect("int");
    assert!(
        (25..=30).contains(&left),
        "a 30 s pause renewed every 5 s: {left}"
    );
    assert_eq!(d["details"]["reduce_only_mode"], true);
    assert_eq!(d["details"]["reduce_only_reason"], "ws_message_stale");
    let ws = &h["checks"]["websocket"]["details"];
    assert_eq!(
        (ws["connected"].as_bool(), ws["stale"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(ws["stale_reason"], "message");
    let m = metrics(&sim);
    assert_eq!(
        sample(&m, "gpt_trader_ws_connected").as_deref(),
        Some("1.0")
    );
    assert_eq!(
        sample(&m, "gpt_trader_ws_message_stale").as_deref(),
        Some("1.0")
    );
}

#[test]
fn ws_disconnected_is_paused_and_503_on_every_request_while_the_gauge_says_connected() {
    let sim = Sim::start("ws-disconnected");
    for _ in 0..10 {
        let (code, h) = get(&sim, "/health");
        assert_eq!(code, 503);
        assert_eq!(h["checks"]["degradation"]["details"]["global_paused"], true);
        assert_eq!(h["checks"]["websocket"]["details"]["connected"], false);
        assert_eq!(h["checks"]["websocket"]["status"], "fail");
    }
    // The watchdog skips its health update on reconnect: the gauge is stale.
    assert_eq!(
        sample(&metrics(&sim), "gpt_trader_ws_connected").as_deref(),
        Some("1.0")
    );
}

#[test]
fn max_reconnect_attempts_is_a_critical_websocket() {
    let sim = Sim::start("max-reconnect");
    let (code, h) = get(&sim, "/health");
    assert_eq!((code, h["status"].as_str()), (503, Some("unhealthy")));
    let ws = &h["checks"]["websocket"];
    assert_eq!(ws["status"], "fail");
    assert_eq!(ws["details"]["severity"], "critical");
    assert_eq!(ws["details"]["max_attempts_triggered"], true);
    assert_eq!(ws["details"]["connected"], false);
}

#[test]
fn dry_run_counts_every_order_as_rejected() {
    let sim = Sim::start("dry-run");
    let (code, h) = get(&sim, "/health");
    assert_eq!((code, h["status"].as_str()), (503, Some("unhealthy")));
    let err = signal(&h, "order_error_rate");
    assert_eq!(
        (err["value"].as_f64(), err["status"].as_str()),
        (Some(1.0), Some("CRIT"))
    );
    assert_eq!(
        err["details"]["total_submissions"],
        err["details"]["failed_submissions"]
    );
    let m = metrics(&sim);
    let submissions: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("gpt_trader_order_submission_total{"))
        .collect();
    assert_eq!(
        submissions,
        [
            "gpt_trader_order_submission_total{reason=\"broker_status\",result=\"rejected\",side=\"sell\"} 12"
        ]
    );
    assert!(
        !m.contains("gpt_trader_trades_executed_total"),
        "no order filled"
    );
}

#[test]
fn shutdown_is_not_live_with_the_checks_frozen() {
    let sim = Sim::start("shutdown");
    let (code, h) = get(&sim, "/health");
    assert_eq!((code, h["status"].as_str()), (503, Some("unhealthy")));
    assert_eq!(
        (h["live"].as_bool(), h["ready"].as_bool()),
        (Some(false), Some(false))
    );
    assert_eq!(h["reason"], "shutdown");
    // Frozen at the last values: the broker still passes, the websocket still connected.
    assert_eq!(h["checks"]["broker"]["status"], "pass");
    assert_eq!(h["checks"]["websocket"]["details"]["connected"], true);
    assert_eq!(
        get(&sim, "/live"),
        (503, serde_json::json!({"status": "fail", "live": false}))
    );
    let (code, ready) = get(&sim, "/ready");
    assert_eq!((code, ready["reason"].as_str()), (503, Some("shutdown")));
}

#[test]
fn starting_reads_cli_run() {
    let sim = Sim::start("starting");
    let (code, h) = get(&sim, "/health");
    assert_eq!(
        (code, h["status"].as_str(), h["reason"].as_str()),
        (503, Some("starting"), Some("cli_run"))
    );
    let (code, ready) = get(&sim, "/ready");
    assert_eq!((code, ready["reason"].as_str()), (503, Some("cli_run")));
}

#[test]
fn a_failed_order_is_two_broker_attempts() {
    // One timed-out order in Phase B: one submission, two failed attempts.
    let m = metrics(&Sim::start("healthy-b"));
    assert_eq!(
        sample(
            &m,
            "gpt_trader_order_submission_total{reason=\"timeout\",result=\"failed\",side=\"buy\"}"
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        sample(&m, "gpt_trader_broker_call_latency_seconds_count{operation=\"submit\",outcome=\"failure\",reason=\"timeout\"}").as_deref(),
        Some("2")
    );
    // The retries scenario: 50 orders, 5 succeed on a second attempt, one
    // rate-limited order fails twice: 56 attempts, retry rate 6/50.
    let sim = Sim::start("retries");
    let m = metrics(&sim);
    assert_eq!(
        sample(&m, "gpt_trader_broker_call_latency_seconds_count{operation=\"submit\",outcome=\"failure\",reason=\"rate_limit\"}").as_deref(),
        Some("2")
    );
    assert_eq!(
        sample(&m, "gpt_trader_broker_call_latency_seconds_count{operation=\"submit\",outcome=\"failure\",reason=\"timeout\"}").as_deref(),
        Some("5")
    );
    let (code, h) = get(&sim, "/health");
    assert_eq!((code, h["status"].as_str()), (200, Some("degraded")));
    let retry = signal(&h, "order_retry_rate");
    assert_eq!(retry["value"].as_f64(), Some(0.12));
    assert_eq!(retry["status"], "WARN");
    assert_eq!(retry["details"]["broker_call_count"], 56);
    assert_eq!(signal(&h, "order_error_rate")["value"].as_f64(), Some(0.02));
}

#[test]
fn the_heartbeat_age_is_null_because_the_bot_never_subscribes() {
    for scenario in [
        "healthy-a",
        "healthy-b",
        "ws-stale",
        "ws-disconnected",
        "global-pause",
    ] {
        let (_, h) = get(&Sim::start(scenario), "/health");
        let ws = &h["checks"]["websocket"]["details"];
        assert!(
            ws["last_heartbeat_age_seconds"].is_null(),
            "{scenario}: {ws}"
        );
        assert!(
            ws["last_message_age_seconds"].is_number(),
            "{scenario}: {ws}"
        );
    }
}

#[test]
fn market_data_feed_has_no_timeout_delay_and_severity_last() {
    let resp = raw(&Sim::start("healthy-b"), "GET /health HTTP/1.1\r\n\r\n");
    assert!(resp.contains("\"timeout_delay_seconds\": 0.0,"), "{resp}");
    let (_, h) = get(&Sim::start("healthy-b"), "/health");
    let details = h["checks"]["market_data_feed"]["details"]
        .as_object()
        .expect("details");
    assert_eq!(
        details.keys().next_back().map(String::as_str),
        Some("severity")
    );
    assert_eq!(details["severity"], "ok");
}

#[test]
fn metrics_have_the_real_exporters_breadth_with_float_gauges() {
    let m = metrics(&Sim::start("healthy-b"));
    for (family, kind) in [
        ("gpt_trader_cycle_duration_seconds", "histogram"),
        ("gpt_trader_equity_computation_seconds", "histogram"),
        ("gpt_trader_positions_fetch_seconds", "histogram"),
        ("gpt_trader_profile_duration_seconds", "histogram"),
        ("gpt_trader_ticker_freshness_checks_total", "counter"),
        ("gpt_trader_ticker_stale_symbols_total", "counter"),
        ("gpt_trader_process_memory_mb", "gauge"),
        ("gpt_trader_deque_cache_fill_ratio", "gauge"),
        ("gpt_trader_event_store_cache_size", "gauge"),
        ("gpt_trader_ws_gap_count", "gauge"),
        ("gpt_trader_ws_reconnect_count", "gauge"),
        ("gpt_trader_ws_last_heartbeat_age_seconds", "gauge"),
        ("gpt_trader_ws_last_close_age_seconds", "gauge"),
        ("gpt_trader_ws_last_error_age_seconds", "gauge"),
    ] {
        let type_line = format!("# TYPE {family} {kind}\n");
        assert!(m.contains(&type_line), "missing {type_line}");
    }
    assert!(
        m.contains("{le=\"0.005\",phase=\"strategy_decision\",symbol=\"BTC-USD\"}"),
        "one histogram carries a symbol label"
    );
    for guard in [
        "api_health",
        "daily_loss",
        "liquidation_buffer",
        "mark_staleness",
        "pnl_telemetry",
        "risk_metrics",
        "volatility_circuit_breaker",
    ] {
        let series =
            format!("gpt_trader_guard_checks_total{{guard=\"{guard}\",result=\"success\"}}");
        assert_eq!(sample(&m, &series).as_deref(), Some("60"), "{series}");
    }
    for (gauge, want) in [
        ("gpt_trader_ws_connected", "1.0"),
        ("gpt_trader_ws_message_stale", "0.0"),
        ("gpt_trader_ws_heartbeat_stale", "0.0"),
        ("gpt_trader_ws_reconnect_count", "0.0"),
    ] {
        assert_eq!(sample(&m, gauge).as_deref(), Some(want), "{gauge}");
    }
    // Still no series before its first increment: no guard trip yet, no line.
    assert!(!m.contains("gpt_trader_guard_trips_total"));
}

#[test]
fn perf_flap_degrades_every_nth_health_request_and_only_when_asked() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--perf-flap", "3"]);
    let statuses: Vec<(u16, String)> = (0..6)
        .map(|_| {
            let (code, h) = get(&sim, "/health");
            (code, h["status"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    let healthy = (200, "healthy".to_owned());
    let degraded = (200, "degraded".to_owned());
    assert_eq!(
        statuses,
        [
            healthy.clone(),
            healthy.clone(),
            degraded.clone(),
            healthy.clone(),
            healthy,
            degraded
        ]
    );
    // /live and /metrics do not count as /health requests; the third /health does.
    let _ = get(&sim, "/live");
    let _ = metrics(&sim);
    for _ in 0..2 {
        assert_eq!(get(&sim, "/health").1["status"], "healthy");
    }
    let (_, busy) = get(&sim, "/health");
    let perf = &busy["checks"]["performance"];
    assert_eq!(perf["status"], "degraded");
    assert_eq!(
        perf["issues"],
        serde_json::json!(["High CPU usage: 100.0%"])
    );
    assert_eq!(perf["metrics"]["cpu_usage_percent"], 100.0);
    // Without the option the host is never busy.
    let steady = Sim::start("healthy-b");
    for _ in 0..20 {
        assert_eq!(get(&steady, "/health").1["status"], "healthy");
    }
    let zero = cmd("sim-bot")
        .args(["--port", "0", "--perf-flap", "0"])
        .run();
    zero.code(2);
}

/// A sim-bot with stderr piped, its URL read.
fn spawn(args: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = Command::new(bin("sim-bot"))
        .args(["--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning sim-bot");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("url");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, url.trim().to_owned(), rx)
}

fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn health_code(url: &str) -> Option<u16> {
    let mut s = TcpStream::connect(url.trim_start_matches("http://")).ok()?;
    s.write_all(b"GET /health HTTP/1.1\r\n\r\n").ok()?;
    let resp = String::from_utf8(read_all(s)).ok()?;
    resp.split(' ').nth(1)?.parse().ok()
}

#[test]
fn ignore_sigterm_keeps_serving_until_sigkill() {
    use std::os::unix::process::ExitStatusExt;
    let (mut child, url, stderr) = spawn(&["--scenario", "healthy-b", "--ignore-sigterm"]);
    assert_eq!(health_code(&url), Some(200));
    sigterm(&child);
    let line = stderr
        .recv_timeout(Duration::from_secs(10))
        .expect("the SIGTERM is logged");
    assert!(line.contains("signal 15 received"), "{line}");
    // Still serving /health 200 well after the signal.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        assert_eq!(
            child.try_wait().expect("try_wait"),
            None,
            "exited on SIGTERM"
        );
        assert_eq!(health_code(&url), Some(200));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(9), "only SIGKILL ends it");

    // Without the option, SIGTERM ends the simulator (the harness relies on it).
    let (mut plain, _, _) = spawn(&["--scenario", "healthy-b"]);
    sigterm(&plain);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = plain.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "plain sim-bot survived SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(15));
}

#[test]
fn list_names_every_scenario_with_its_description() {
    let out = cmd("sim-bot").args(["--list"]).run();
    out.code(0);
    for name in [
        "ws-stale",
        "ws-disconnected",
        "max-reconnect",
        "dry-run",
        "shutdown",
        "retries",
        "starting",
        "live",
    ] {
        let line = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{}", out.stdout));
        assert!(line.len() > name.len() + 20, "{line}");
    }
    let help = cmd("sim-bot").args(["--help"]).run();
    assert!(help.stdout.contains("- max-reconnect:"), "{}", help.stdout);
}

#[test]
fn live_traffic_follows_the_scenario_dry_runs_reject_and_stopped_bots_do_not_trade() {
    let dry = Sim::with_args(&["--scenario", "dry-run", "--live", "--order-rate", "50"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = metrics(&dry);
        if orders(&m) >= 30 {
            break m;
        }
        assert!(Instant::now() < deadline, "no live orders on the dry run");
        std::thread::sleep(Duration::from_millis(50));
    };
    let kinds: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("gpt_trader_order_submission_total{"))
        .filter_map(|l| l.split_once("} ").map(|(k, _)| k))
        .collect();
    assert!(
        kinds
            .iter()
            .all(|k| k.contains("reason=\"broker_status\",result=\"rejected\"")),
        "{kinds:?}"
    );
    assert_eq!(
        signal(&get(&dry, "/health").1, "order_error_rate")["value"],
        1.0
    );

    for stopped in ["shutdown", "starting"] {
        let sim = Sim::with_args(&["--scenario", stopped, "--live", "--order-rate", "200"]);
        let first = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
        std::thread::sleep(Duration::from_millis(200));
        let second = orders(&raw(&sim, "GET /metrics HTTP/1.1\r\n\r\n"));
        assert_eq!(
            first, second,
            "{stopped}: a bot that is not ready does not trade"
        );
    }
}

//! probe-health against the simulator: every scenario, every fault.

use crate::util::{Fixture, Output, Sim, bin, cmd};
use canary_core::{Kind, Level};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROWS: [&str; 7] = [
    "health.status",
    "health.broker",
    "health.websocket.connected",
    "health.websocket.stale",
    "health.websocket.staleness",
    "health.degradation.global_paused",
    "health.degradation.reduce_only_mode",
];

use Level::{Crit as C, Ok as O, Unknown as U, Warn as W};

/// Probe a scenario and check the level of every §2.1 row and the exit code.
fn expect(scenario: &str, phase: &str, levels: [Level; 7], exit: i32) -> crate::util::Output {
    let sim = Sim::start(scenario);
    let out = cmd("probe-health")
        .args(["--url", &sim.url, "--phase", phase])
        .run();
    out.code(exit);
    for (name, want) in ROWS.iter().zip(levels) {
        let rec = out.record(name);
        assert_eq!(rec.level, want, "{scenario}: {name}: {}", rec.msg);
        assert_eq!(rec.kind, Kind::Check);
        assert_eq!(rec.target, sim.url);
    }
    out
}

#[test]
fn healthy_phase_a_is_go() {
    let out = expect("healthy-a", "a", [O, O, O, O, O, O, O], 0);
    assert!(out.records().iter().all(|r| r.level == O), "{}", out.stdout);
    assert!(out.stderr.is_empty());
}

#[test]
fn healthy_phase_b_is_go() {
    expect("healthy-b", "b", [O, O, O, O, O, O, O], 0);
}

#[test]
fn phase_mismatch_on_reduce_only_is_crit() {
    let out = expect("healthy-b", "a", [O, O, O, O, O, O, C], 1);
    assert!(
        out.record("health.degradation.reduce_only_mode")
            .msg
            .contains("Phase A expects true")
    );
}

#[test]
fn websocket_stale_is_no_go() {
    let out = expect("ws-stale", "b", [C, O, O, C, C, C, C], 1);
    assert_eq!(out.record("health.websocket.staleness").value, 75.0);
    assert!(
        out.record("health.websocket.stale")
            .msg
            .contains("stale_reason message")
    );
}

#[test]
fn websocket_not_initialised_is_unknown_not_ok() {
    let out = expect("ws-not-initialized", "b", [O, O, U, U, U, O, O], 2);
    let rec = out.record("health.websocket.connected");
    assert!(rec.msg.contains("ws_not_initialized"), "{}", rec.msg);
    assert!(rec.value.is_null());
}

#[test]
fn websocket_disconnected_is_no_go_and_staleness_not_evaluated() {
    let out = expect("ws-disconnected", "b", [C, O, C, U, W, C, C], 1);
    assert!(
        out.record("health.websocket.stale")
            .msg
            .contains("only checks it while connected")
    );
}

#[test]
fn global_pause_is_no_go_on_the_boolean() {
    let out = expect("global-pause", "b", [C, O, O, O, O, C, C], 1);
    let rec = out.record("health.degradation.global_paused");
    assert_eq!(rec.extra["http_status"], 503);
    assert!(rec.msg.contains("guard_failure:daily_loss"));
}

#[test]
fn unhealthy_broker_is_no_go() {
    let out = expect("unhealthy", "b", [C, C, O, O, O, O, O], 1);
    assert!(out.record("health.broker").msg.contains("Read timed out"));
}

#[test]
fn starting_bot_is_no_go_with_unknown_checks() {
    let out = expect("starting", "a", [C, U, U, U, U, U, U], 1);
    assert!(out.record("health.broker").msg.contains("not ready yet"));
}

#[test]
fn the_bots_signals_over_no_orders_are_unknown_not_ok() {
    // The real canary has not traded: the bot says 0.0 "OK" for its error
    // rate and p95, which is no evidence.
    let sim = Sim::start("real-canary");
    let out = cmd("probe-health").args(["--url", &sim.url]).run();
    for name in ["order_error_rate", "order_retry_rate", "broker_latency_p95"] {
        let sig = out.record(&format!("health.signal.{name}"));
        assert_eq!(sig.level, U, "{name}: {}", sig.msg);
        assert!(sig.msg.contains("no samples"), "{}", sig.msg);
    }
    // A count of zero guard trips is evidence: ok.
    assert_eq!(out.record("health.signal.guard_trip_count").level, O);
}

#[test]
fn the_real_canary_is_no_go_for_both_reasons() {
    let out = expect("real-canary", "a", [C, O, U, U, U, O, C], 1);
    let status = out.record("health.status");
    assert_eq!(
        status.extra["http_status"], 503,
        "a 503 body is evidence, read check by check"
    );
    assert!(
        status.msg.contains("ticker_freshness (critical)"),
        "{}",
        status.msg
    );
    let ticker = out.record("health.check.ticker_freshness");
    assert_eq!(ticker.level, C);
    assert!(ticker.msg.contains("BTC-USD"));
    let ro = out.record("health.degradation.reduce_only_mode");
    assert_eq!(ro.value, false);
    assert!(
        ro.msg.contains("never sets it from the profile"),
        "{}",
        ro.msg
    );
    assert_eq!(out.record("health.check.market_data_feed").level, U);
    assert!(
        out.record("health.websocket.connected")
            .msg
            .contains("ws_not_supported")
    );
}

#[test]
fn metrics_disabled_does_not_change_health() {
    expect("metrics-disabled", "b", [O, O, O, O, O, O, O], 0);
}

#[test]
fn order_error_signal_crit() {
    let out = expect("order-errors-crit", "b", [C, O, O, O, O, O, O], 1);
    let sig = out.record("health.signal.order_error_rate");
    assert_eq!((sig.kind, sig.level), (Kind::Signal, C));
    assert_eq!(sig.value, 0.2);
    assert_eq!(sig.thresholds.map(|t| (t.warn, t.crit)), Some((0.05, 0.15)));
    assert_eq!(sig.extra["scope"], "lifetime");
    assert_eq!(out.record("health.signals").level, C);
}

#[test]
fn latency_signal_warn_is_not_blocking() {
    let out = expect("latency-warn", "b", [W, O, O, O, O, O, O], 0);
    let sig = out.record("health.signal.broker_latency_p95");
    assert_eq!((sig.level, sig.value.as_f64()), (W, Some(1000.0)));
}

#[test]
fn guard_trips_signal_crit() {
    let out = expect("guard-trips-crit", "b", [C, O, O, O, O, O, O], 1);
    assert_eq!(out.record("health.signal.guard_trip_count").level, C);
}

#[test]
fn without_phase_reduce_only_is_reported_not_judged() {
    let sim = Sim::start("healthy-b");
    let out = cmd("probe-health").args(["--url", &sim.url]).run();
    out.code(0);
    let rec = out.record("health.degradation.reduce_only_mode");
    assert!(rec.expect.is_none());
    assert!(rec.msg.contains("pass --phase"));
}

#[test]
fn live_and_ready_endpoints() {
    let sim = Sim::start("starting");
    let out = cmd("probe-health")
        .args(["--url", &sim.url, "--live", "--ready"])
        .run();
    out.code(1);
    assert_eq!(out.record("health.live").level, O);
    let ready = out.record("health.ready");
    assert_eq!(
        (ready.level, ready.extra["reason"].as_str()),
        (C, Some("cli_run"))
    );
}

#[test]
fn every_count_probes_n_rounds() {
    let sim = Sim::start("healthy-a");
    let out = cmd("probe-health")
        .args(["--url", &sim.url, "--every", "1s", "--count", "2"])
        .run();
    out.code(0);
    assert_eq!(
        out.records()
            .iter()
            .filter(|r| r.name == "health.status")
            .count(),
        2
    );
}

#[test]
fn every_flushes_each_round_to_a_pipe() {
    let sim = Sim::start("healthy-a");
    let mut child = Command::new(bin("probe-health"))
        .args(["--url", &sim.url, "--every", "1h"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first record arrives");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("\"name\":\"health.status\""), "{line}");
}

// ---- faults ---------------------------------------------------------------

fn fetch_error(out: &crate::util::Output, needle: &str) {
    out.code(2);
    let recs = out.records();
    assert_eq!(
        recs.len(),
        1,
        "one record saying what happened:\n{}",
        out.stdout
    );
    assert_eq!(
        (recs[0].kind, recs[0].level, recs[0].name.as_str()),
        (Kind::Error, U, "health.fetch")
    );
    assert!(
        recs[0].msg.contains(needle),
        "record msg {:?} lacks {needle:?}",
        recs[0].msg
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one stderr line: {}", out.stderr);
    assert!(
        lines[0].starts_with("probe-health: error: GET http://127.0.0.1:"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(needle), "{}", lines[0]);
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn connection_refused() {
    let port = crate::util::free_port();
    let out = cmd("probe-health")
        .args(["--url", &format!("http://127.0.0.1:{port}")])
        .run();
    fetch_error(&out, "connection refused");
}

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let sim = Sim::fault("hang");
    let out = cmd("probe-health")
        .args(["--url", &sim.url, "--timeout", "1s"])
        .run();
    fetch_error(&out, "no complete response within 1s");
    assert!(
        out.elapsed < Duration::from_secs(2),
        "timeout of 1s took {:?}",
        out.elapsed
    );
}

#[test]
fn a_body_over_the_default_cap() {
    let sim = Sim::fault("huge-body");
    let out = cmd("probe-health").args(["--url", &sim.url]).run();
    fetch_error(&out, "over the 8388608-byte cap");
}

#[test]
fn invalid_json() {
    let sim = Sim::fault("not-json");
    fetch_error(
        &cmd("probe-health").args(["--url", &sim.url]).run(),
        "not JSON",
    );
}

#[test]
fn json_of_the_wrong_shape_is_unknown_row_by_row() {
    let sim = Sim::fault("wrong-shape");
    let out = cmd("probe-health")
        .args(["--url", &sim.url, "--phase", "a"])
        .run();
    out.code(2);
    for name in ROWS {
        assert_eq!(out.record(name).level, U, "{name}");
    }
    assert!(out.record("health.status").msg.contains("the number 7"));
    assert!(
        out.record("health.broker")
            .msg
            .contains("checks is an array")
    );
    assert!(!out.stderr.contains("panicked"));
}

#[test]
fn not_found_names_the_url_problem() {
    let sim = Sim::start("healthy-a");
    let out = cmd("probe-health")
        .args(["--url", &format!("{}/health", sim.url)])
        .run();
    fetch_error(&out, "HTTP 404");
    assert!(out.stderr.contains("base URL"));
}

#[test]
fn a_redirect_loop() {
    let sim = Sim::fault("redirect-loop");
    fetch_error(
        &cmd("probe-health").args(["--url", &sim.url]).run(),
        "too many redirects",
    );
}

#[test]
fn a_server_that_closes_mid_body() {
    let sim = Sim::fault("truncated");
    fetch_error(
        &cmd("probe-health").args(["--url", &sim.url]).run(),
        "closed before a complete response",
    );
}

#[test]
fn an_empty_reply() {
    let sim = Sim::fault("empty-reply");
    fetch_error(
        &cmd("probe-health").args(["--url", &sim.url]).run(),
        "closed before a complete response",
    );
}

#[test]
fn a_closed_stdout_is_a_quiet_clean_exit() {
    let sim = Sim::start("real-canary");
    crate::util::assert_quiet_when_stdout_closes(
        "probe-health",
        &format!("--url {} --every 1s --count 3", sim.url),
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = cmd("probe-health").args(["--phase", "c"]).run();
    out.code(2);
    let out = cmd("probe-health").args(["--timeout", "soon"]).run();
    out.code(2);
    assert!(out.stderr.contains("invalid duration"));
}

// ---- bodies no honest bot serves ------------------------------------------
//
// The simulator serves the bot's real bodies; these are forged, broken or
// contradictory ones, served by a loopback fixture with the bot's framing.

/// A healthy Phase B `/health` body, shaped as the bot writes it.
fn healthy_body() -> Value {
    json!({
        "status": "healthy", "live": true, "ready": true, "reason": "trading_bot_running",
        "checks": {
            "broker": {"status": "pass", "details": {"severity": "critical", "latency_ms": 150.2, "method": "get_time"}},
            "degradation": {"status": "pass", "details": {"severity": "warning", "global_paused": false,
                "global_pause_reason": null, "global_remaining_seconds": 0, "paused_symbol_count": 0,
                "reduce_only_mode": false}},
            "market_data_feed": {"status": "pass", "details": {"severity": "ok", "age_seconds": 2.0,
                "threshold_warn_seconds": 10.0, "threshold_crit_seconds": 30.0, "status": "OK"}},
            "websocket": {"status": "pass", "details": {"severity": "warning", "connected": true,
                "last_message_age_seconds": 1.2, "last_heartbeat_age_seconds": null, "gap_count": 0,
                "reconnect_count": 0, "max_attempts_triggered": false, "stale": false}},
            "performance": {"status": "healthy", "issues": [],
                "metrics": {"total_metrics": 17, "memory_usage_mb": 436.16, "cpu_usage_percent": 12.5}}
        },
        "signals": {"status": "OK", "message": "All signals OK", "signals": [
            {"name": "order_error_rate", "status": "OK", "value": 0.01, "threshold_warn": 0.05,
             "threshold_crit": 0.15, "unit": "ratio", "details": {"total_submissions": 100, "failed_submissions": 1}},
            {"name": "order_retry_rate", "status": "OK", "value": 0.02, "threshold_warn": 0.1,
             "threshold_crit": 0.25, "unit": "ratio", "details": {"submission_count": 100}},
            {"name": "broker_latency_p95", "status": "OK", "value": 250.0, "threshold_warn": 1000.0,
             "threshold_crit": 3000.0, "unit": "ms", "details": {}},
            {"name": "guard_trip_count", "status": "OK", "value": 0.0, "threshold_warn": 3.0,
             "threshold_crit": 10.0, "unit": "count", "details": {}},
            {"name": "missing_decision_id_count", "status": "OK", "value": 0.0, "threshold_warn": 1.0,
             "threshold_crit": 3.0, "unit": "count", "details": {}}
        ]}
    })
}

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("json")
}

fn probe_fixture(status: u16, body: Vec<u8>, extra: &[&str]) -> Output {
    let live = pretty(&json!({"status": "pass", "live": true}));
    let fx = Fixture::serve(vec![
        ("/health", status, "application/json", body),
        ("/live", 200, "application/json", live),
    ]);
    let mut args = vec!["--url", fx.url.as_str(), "--phase", "b"];
    args.extend_from_slice(extra);
    cmd("probe-health").args(args).run()
}

#[test]
fn the_fixture_body_is_go_when_served_honestly() {
    // The control for the tests below: the same body, served as the bot would.
    let out = probe_fixture(200, pretty(&healthy_body()), &[]);
    out.code(0);
    assert!(out.records().iter().all(|r| r.level == O), "{}", out.stdout);
}

#[test]
fn a_5xx_is_never_healthy_whatever_the_body_says() {
    for status in ["healthy", "degraded"] {
        let mut body = healthy_body();
        body["status"] = json!(status);
        let out = probe_fixture(503, pretty(&body), &[]);
        out.code(2);
        let rec = out.record("health.status");
        assert_eq!(rec.level, U, "{status}: {}", rec.msg);
        assert!(rec.msg.contains("a 5xx is never healthy"), "{}", rec.msg);
    }
}

#[test]
fn live_answering_fail_is_not_live() {
    for (code, body) in [
        (200, json!({"status": "fail", "live": true})),
        (503, json!({"status": "pass", "live": true})),
        (200, json!({"live": true})),
    ] {
        let fx = Fixture::serve(vec![
            ("/health", 200, "application/json", pretty(&healthy_body())),
            ("/live", code, "application/json", pretty(&body)),
        ]);
        let out = cmd("probe-health").args(["--url", &fx.url, "--live"]).run();
        out.code(2);
        let live = out.record("health.live");
        assert_eq!(live.level, U, "{code} {body}: {}", live.msg);
        assert!(live.msg.contains("proves nothing"), "{}", live.msg);
    }
}

#[test]
fn a_duplicate_key_is_reported_and_never_settled_last_wins() {
    // global_paused true, then false: serde's last-wins would read "not paused".
    let text = String::from_utf8(pretty(&healthy_body())).expect("utf8");
    let forged = text.replacen(
        "\"global_paused\": false,",
        "\"global_paused\": true,\n        \"global_paused\": false,",
        1,
    );
    assert_ne!(forged, text);
    let out = probe_fixture(200, forged.into_bytes(), &[]);
    out.code(2);
    let paused = out.record("health.degradation.global_paused");
    assert_eq!(paused.level, U, "{}", paused.msg);
    assert!(paused.msg.contains("more than once"), "{}", paused.msg);
    let dup = out.record("health.duplicate_key");
    assert_eq!((dup.kind, dup.level), (Kind::Error, U));
    assert_eq!(dup.extra["key"], "checks.degradation.details.global_paused");
    assert!(out.stderr.contains("global_paused"), "{}", out.stderr);

    // The same value twice is reported too, as a warning, and read.
    let twice = text.replacen("\"live\": true,", "\"live\": true,\n  \"live\": true,", 1);
    let out = probe_fixture(200, twice.into_bytes(), &[]);
    out.code(0);
    let dup = out.record("health.duplicate_key");
    assert_eq!((dup.level, dup.extra["key"].as_str()), (W, Some("live")));
}

#[test]
fn negative_or_non_finite_ages_and_counts_are_unknown() {
    // A negative message age passes the bot's own "> 60 s" staleness test.
    let mut body = healthy_body();
    body["checks"]["websocket"]["details"]["last_message_age_seconds"] = json!(-5.0);
    let out = probe_fixture(200, pretty(&body), &[]);
    out.code(2);
    for name in ["health.websocket.staleness", "health.websocket.stale"] {
        let rec = out.record(name);
        assert_eq!(rec.level, U, "{name}: {}", rec.msg);
        assert!(rec.msg.contains("-5"), "{}", rec.msg);
    }

    // Counts: a negative reconnect count; a negative order total under a signal.
    let mut body = healthy_body();
    body["checks"]["websocket"]["details"]["gap_count"] = json!(-1);
    body["signals"]["signals"][0]["details"]["total_submissions"] = json!(-100);
    body["checks"]["broker"]["details"]["latency_ms"] = json!(-3.0);
    let out = probe_fixture(200, pretty(&body), &[]);
    assert_eq!(out.record("health.websocket.stale").level, U);
    assert_eq!(out.record("health.broker").level, U);
    let sig = out.record("health.signal.order_error_rate");
    assert_eq!(sig.level, U, "{}", sig.msg);
    assert!(sig.msg.contains("total_submissions"), "{}", sig.msg);

    // Python writes bare NaN and Infinity: the body is still read, the value is not.
    let mut body = healthy_body();
    body["checks"]["websocket"]["details"]["last_message_age_seconds"] = json!("@NAN@");
    body["checks"]["market_data_feed"]["details"]["age_seconds"] = json!("@INF@");
    body["signals"]["signals"][3]["value"] = json!("@NEGINF@");
    let text = String::from_utf8(pretty(&body))
        .expect("utf8")
        .replace("\"@NAN@\"", "NaN")
        .replace("\"@INF@\"", "Infinity")
        .replace("\"@NEGINF@\"", "-Infinity");
    let out = probe_fixture(200, text.into_bytes(), &[]);
    out.code(2);
    let age = out.record("health.websocket.staleness");
    assert_eq!(age.level, U);
    assert!(age.msg.contains("NaN"), "{}", age.msg);
    let feed = out.record("health.check.market_data_feed");
    assert_eq!(feed.level, U);
    assert!(feed.msg.contains("Infinity"), "{}", feed.msg);
    let trips = out.record("health.signal.guard_trip_count");
    assert_eq!(trips.level, U, "{}", trips.msg);
    assert!(trips.value.is_null());
}

#[test]
fn after_shutdown_the_cached_checks_are_stale_not_ok() {
    // The bot marks itself not live on shutdown; its check rows keep their
    // last values (broker pass, websocket connected) with nothing refreshing them.
    let mut body = healthy_body();
    body["status"] = json!("unhealthy");
    body["live"] = json!(false);
    body["ready"] = json!(false);
    body["reason"] = json!("shutdown");
    let out = probe_fixture(503, pretty(&body), &[]);
    out.code(1);
    assert_eq!(out.record("health.status").level, C);
    for name in [
        "health.broker",
        "health.websocket.connected",
        "health.websocket.stale",
        "health.websocket.staleness",
        "health.degradation.global_paused",
        "health.degradation.reduce_only_mode",
        "health.check.market_data_feed",
    ] {
        let rec = out.record(name);
        assert_eq!(rec.level, U, "{name}: {}", rec.msg);
        assert_eq!(rec.extra["frozen"], true, "{name}");
        assert!(rec.msg.contains("frozen after shutdown"), "{}", rec.msg);
    }
    // Computed on each request: not frozen.
    assert_eq!(out.record("health.check.performance").level, O);

    // A status of `shutdown` freezes them as well, and is itself NO-GO.
    let mut body = healthy_body();
    body["status"] = json!("shutdown");
    let out = probe_fixture(503, pretty(&body), &[]);
    assert_eq!(out.record("health.status").level, C);
    assert_eq!(out.record("health.broker").level, U);
}

#[test]
fn every_has_a_one_second_minimum() {
    for every in ["0s", "500ms"] {
        let out = cmd("probe-health")
            .args(["--every", every, "--count", "2"])
            .run();
        out.code(2);
        assert!(out.stdout.is_empty());
        assert!(
            out.stderr.contains("minimum of 1s"),
            "{every}: {}",
            out.stderr
        );
    }
}

#[test]
fn ages_read_as_human_durations_in_the_table() {
    let mut body = healthy_body();
    body["checks"]["websocket"]["details"]["last_message_age_seconds"] = json!(557_762.0);
    body["checks"]["degradation"]["details"]["global_paused"] = json!(true);
    body["checks"]["degradation"]["details"]["global_pause_reason"] = json!("ws_reconnect");
    body["checks"]["degradation"]["details"]["global_remaining_seconds"] = json!(299);
    let out = probe_fixture(200, pretty(&body), &["--format", "text"]);
    out.code(1);
    let line = |name: &str| {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("no {name} row:\n{}", out.stdout))
            .to_owned()
    };
    let age = line("health.websocket.staleness");
    assert!(age.contains("last websocket message 6d 10h ago"), "{age}");
    assert!(!age.contains("557762 s"), "{age}");
    let pause = line("health.degradation.global_paused");
    assert!(pause.contains("4m 59s left"), "{pause}");
}

#[test]
fn max_reconnect_attempts_is_crit_whatever_connected_says_and_never_settled_last_wins() {
    // The bot's check tests max_attempts_triggered first: critical, 503.
    let mut body = healthy_body();
    body["status"] = json!("unhealthy");
    body["checks"]["websocket"]["status"] = json!("fail");
    body["checks"]["websocket"]["details"]["severity"] = json!("critical");
    body["checks"]["websocket"]["details"]["max_attempts_triggered"] = json!(true);
    body["checks"]["websocket"]["details"]["reconnect_count"] = json!(10);
    let out = probe_fixture(503, pretty(&body), &[]);
    out.code(1);
    let ws = out.record("health.websocket.connected");
    assert_eq!(ws.level, C, "{}", ws.msg);
    assert_eq!(ws.extra["max_attempts_triggered"], true);
    assert!(
        ws.msg.contains("maximum reconnect attempts") && ws.msg.contains("fails critical"),
        "{}",
        ws.msg
    );

    // The flag given twice, true then false: "connected" proves nothing.
    let text = String::from_utf8(pretty(&healthy_body())).expect("utf8");
    let forged = text.replacen(
        "\"max_attempts_triggered\": false,",
        "\"max_attempts_triggered\": true,\n        \"max_attempts_triggered\": false,",
        1,
    );
    assert_ne!(forged, text);
    let out = probe_fixture(200, forged.into_bytes(), &[]);
    out.code(2);
    let ws = out.record("health.websocket.connected");
    assert_eq!(ws.level, U, "{}", ws.msg);
    assert!(ws.msg.contains("more than once"), "{}", ws.msg);

    // A flag that is not a bool is no "not at max attempts" either.
    for odd in [json!("true"), json!(null), json!(1)] {
        let mut body = healthy_body();
        body["checks"]["websocket"]["details"]["max_attempts_triggered"] = odd.clone();
        let out = probe_fixture(200, pretty(&body), &[]);
        out.code(2);
        let ws = out.record("health.websocket.connected");
        assert_eq!(ws.level, U, "{odd}: {}", ws.msg);
        assert!(ws.msg.contains("max_attempts_triggered"), "{}", ws.msg);
    }
}

#[test]
fn a_signal_status_its_own_value_and_thresholds_contradict_is_unknown() {
    // The bot computes each signal's status from its value and thresholds
    // (inclusive) and the summary as the worst of them, and always reports
    // all five. A body where these disagree was not written by the bot.
    let forged = |edit: &dyn Fn(&mut Value)| {
        let mut body = healthy_body();
        edit(&mut body);
        probe_fixture(200, pretty(&body), &[])
    };
    // 50 guard trips, crit at 10, yet "OK".
    let out = forged(&|b| b["signals"]["signals"][3]["value"] = json!(50.0));
    out.code(2);
    let rec = out.record("health.signal.guard_trip_count");
    assert_eq!(rec.level, U, "{}", rec.msg);
    assert!(rec.msg.contains("make it CRIT"), "{}", rec.msg);
    // A 90 % error rate under "OK".
    let out = forged(&|b| b["signals"]["signals"][0]["value"] = json!(0.9));
    out.code(2);
    assert_eq!(out.record("health.signal.order_error_rate").level, U);
    // Exactly at the crit threshold is CRIT (inclusive), so "WARN" is forged.
    let out = forged(&|b| {
        b["signals"]["signals"][3]["value"] = json!(10.0);
        b["signals"]["signals"][3]["status"] = json!("WARN");
        b["signals"]["status"] = json!("WARN");
    });
    out.code(2);
    assert_eq!(out.record("health.signal.guard_trip_count").level, U);
    // The summary says OK while a signal is CRIT.
    let out = forged(&|b| {
        b["signals"]["signals"][3]["value"] = json!(12.0);
        b["signals"]["signals"][3]["status"] = json!("CRIT");
    });
    out.code(1);
    let sum = out.record("health.signals");
    assert_eq!(sum.level, U, "{}", sum.msg);
    assert!(sum.msg.contains("worst signal is CRIT"), "{}", sum.msg);
    // "OK" over no signals at all.
    let out = forged(&|b| b["signals"]["signals"] = json!([]));
    out.code(2);
    assert_eq!(out.record("health.signals").level, U);
    // A signal left out of the list is reported, never silently absent.
    let out = forged(&|b| {
        b["signals"]["signals"]
            .as_array_mut()
            .expect("list")
            .remove(3);
    });
    out.code(2);
    let rec = out.record("health.signal.guard_trip_count");
    assert_eq!(rec.level, U, "{}", rec.msg);
    assert!(rec.msg.contains("absent"), "{}", rec.msg);
    // The honest crit still reads crit.
    let out = forged(&|b| {
        b["signals"]["signals"][3]["value"] = json!(12.0);
        b["signals"]["signals"][3]["status"] = json!("CRIT");
        b["signals"]["status"] = json!("CRIT");
    });
    assert_eq!(out.record("health.signal.guard_trip_count").level, C);
}

#[test]
fn healthy_from_a_bot_that_says_it_is_not_live_or_not_ready_is_unknown() {
    // The bot's status is unhealthy when not live and starting when not
    // ready, before anything else: "healthy" beside either flag is forged.
    for (key, v) in [
        ("live", json!(false)),
        ("ready", json!(false)),
        ("ready", json!("true")),
    ] {
        for status in ["healthy", "degraded"] {
            let mut body = healthy_body();
            body["status"] = json!(status);
            body[key] = v.clone();
            let out = probe_fixture(200, pretty(&body), &[]);
            out.code(2);
            let rec = out.record("health.status");
            assert_eq!(rec.level, U, "{key}={v} {status}: {}", rec.msg);
            assert!(rec.msg.contains(&format!("{key} is {v}")), "{}", rec.msg);
        }
    }
}

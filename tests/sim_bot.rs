//! The simulator speaks the bot's wire format (contracts §1.2–§1.3, §2.2).

use crate::util::{Sim, cmd, read_all};
use std::io::Write;
use std::net::TcpStream;

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
    // contracts §2.5: de-cumulating 10, 28, 47 gives the truth 10, 18, 19.
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
            .starts_with("sim-bot: error: unknown scenario 'nope'"),
        "{}",
        out.stderr
    );
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

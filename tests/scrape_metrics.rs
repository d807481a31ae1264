//! scrape-metrics in direct mode, against the simulator and crafted bodies.

use crate::util::{Output, Sim, TempDir, cmd};
use canary_core::{Kind, Level};

fn scrape(sim: &Sim, extra: &[&str]) -> Output {
    let url = format!("{}/metrics", sim.url);
    let mut args = vec!["--url", url.as_str()];
    args.extend_from_slice(extra);
    cmd("scrape-metrics").args(args).run()
}

#[test]
fn one_shot_gives_samples_and_lifetime_signals_with_their_counts() {
    let sim = Sim::start("order-errors-warn");
    let out = scrape(&sim, &[]);
    out.code(0);
    let orders = out.record("metrics.orders");
    assert_eq!(
        (orders.kind, orders.value.as_f64()),
        (Kind::Sample, Some(20.0))
    );
    assert_eq!(orders.extra["by_result"]["rejected"], 1.0);
    assert_eq!(orders.extra["by_result"]["failed"], 1.0);
    let err = out.record("metrics.order_error_rate");
    assert_eq!((err.level, err.value.as_f64()), (Level::Warn, Some(0.1)));
    assert_eq!(
        (
            err.extra["numerator"].as_f64(),
            err.extra["denominator"].as_f64()
        ),
        (Some(2.0), Some(20.0))
    );
    assert_eq!(err.extra["window"], "lifetime");
    assert_eq!(err.thresholds.map(|t| (t.warn, t.crit)), Some((0.05, 0.15)));
    let trips = out.record("metrics.guard_trips_total");
    assert_eq!(trips.extra["by_recoverable"]["true"], 1.0);
}

#[test]
fn double_cumulation_is_detected_and_p95_computed_from_corrected_counts() {
    let sim = Sim::start("order-errors-warn");
    let out = scrape(&sim, &[]);
    // 10 x 0.2 s, 8 x 0.4 s, 1 x 0.9 s: rank 18.05 falls 5 % into (0.5, 1.0] → 525 ms.
    let p95 = out.record("metrics.broker_latency_p95");
    assert_eq!(p95.value.as_f64(), Some(525.0));
    assert!(
        p95.extra["correction"]
            .as_str()
            .is_some_and(|c| c.contains("de-cumulated"))
    );
    assert_eq!(p95.extra["samples"], 19.0);
    let submit = out
        .records()
        .into_iter()
        .find(|r| {
            r.name == "metrics.histogram"
                && r.extra["family"] == "gpt_trader_broker_call_latency_seconds"
                && r.extra["repaired_series"].as_array().is_some_and(|a| {
                    a.iter().any(|s| {
                        s.as_str()
                            .is_some_and(|s| s.contains("submit") && s.contains("success"))
                    })
                })
        })
        .expect("a histogram record naming the submit series as repaired");
    assert_eq!(
        (submit.level, submit.value.as_str()),
        (Level::Warn, Some("double-cumulated"))
    );
    assert!(submit.msg.contains("finite bucket exceeds +Inf"));

    // The same traffic from a fixed exporter: same p95, no correction.
    let fixed = Sim::with_args(&["--scenario", "order-errors-warn", "--correct-buckets"]);
    let out = scrape(&fixed, &[]);
    let p95 = out.record("metrics.broker_latency_p95");
    assert_eq!(p95.value.as_f64(), Some(525.0));
    assert!(p95.extra.get("correction").is_none());

    // Told the buckets are correct, the bot-faithful body is refused, not misread.
    let out = scrape(&sim, &["--buckets", "cumulative"]);
    out.code(2);
    let p95 = out.record("metrics.broker_latency_p95");
    assert_eq!(p95.level, Level::Unknown);
    assert!(p95.msg.contains("invalid buckets"), "{}", p95.msg);
}

#[test]
fn crit_error_rate_is_blocking() {
    let sim = Sim::start("order-errors-crit");
    let out = scrape(&sim, &[]);
    out.code(1);
    assert_eq!(out.record("metrics.order_error_rate").level, Level::Crit);
}

#[test]
fn zero_orders_is_unknown_never_ok() {
    let sim = Sim::start("starting"); // 200 with an empty body
    let out = scrape(&sim, &[]);
    out.code(2);
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.level, Level::Unknown);
    assert!(err.msg.contains("zero orders"), "{}", err.msg);
    assert_eq!(
        out.record("metrics.broker_latency_p95").level,
        Level::Unknown
    );
    assert!(
        out.records().iter().all(|r| r.name != "metrics.parse"),
        "an empty body is valid"
    );
}

#[test]
fn metrics_disabled_tells_the_operator_what_to_set() {
    let sim = Sim::start("metrics-disabled");
    let out = scrape(&sim, &[]);
    out.code(2);
    let rec = out.record("metrics.fetch");
    assert_eq!(
        (rec.kind, rec.level, rec.extra["reason"].as_str()),
        (Kind::Error, Level::Unknown, Some("disabled"))
    );
    assert!(
        rec.msg.contains("GPT_TRADER_METRICS_ENDPOINT_ENABLED=1") && rec.msg.contains("No-Go"),
        "{}",
        rec.msg
    );
    assert!(
        out.stderr.starts_with("scrape-metrics: error: "),
        "{}",
        out.stderr
    );
}

#[test]
fn windowed_signals_across_runs_through_the_state_file() {
    let sim = Sim::with_args(&[
        "--scenario",
        "live",
        "--order-rate",
        "40",
        "--failure-ratio",
        "0.1",
    ]);
    let dir = TempDir::new("state");
    let state = dir.path("metrics.state");
    let state_arg = state.to_string_lossy().into_owned();
    let first = scrape(&sim, &["--state", &state_arg]);
    assert_eq!(
        first.record("metrics.order_error_rate").extra["window"],
        "lifetime",
        "one scrape: lifetime only"
    );
    std::thread::sleep(std::time::Duration::from_millis(600));
    let second = scrape(&sim, &["--state", &state_arg]);
    let err = second.record("metrics.order_error_rate");
    assert_eq!(err.extra["window"], "5m");
    assert_eq!(err.extra["scrapes"], 2);
    assert!(
        err.extra["denominator"].as_f64().is_some_and(|d| d > 5.0),
        "{:?}",
        err.extra
    );
    let text = std::fs::read_to_string(&state).expect("state written");
    assert!(text.contains("canary-kit/scrape-metrics-state"));
}

#[test]
fn a_corrupt_or_foreign_state_file_is_an_error_never_reset() {
    let sim = Sim::start("healthy-b");
    let dir = TempDir::new("badstate");
    for (name, content, needle) in [
        (
            "corrupt",
            "{\"format\": \"canary-kit/scrape-metrics-state\", \"v\": 1, \"tar",
            "corrupt",
        ),
        (
            "foreign",
            "{\"hello\": \"world\"}\n",
            "not a scrape-metrics state file",
        ),
        (
            "other-target",
            "{\"format\":\"canary-kit/scrape-metrics-state\",\"v\":1,\"target\":\"http://elsewhere/metrics\",\"snapshots\":[]}",
            "belongs to http://elsewhere/metrics",
        ),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, content).expect("write");
        let out = scrape(&sim, &["--state", &path.to_string_lossy()]);
        out.code(2);
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains(needle), "{name}: {}", out.stderr);
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            content,
            "{name} must be left as it was"
        );
    }
}

fn body(orders: u64, failed: u64) -> String {
    format!(
        "# TYPE gpt_trader_order_submission_total counter\n\
gpt_trader_order_submission_total{{reason=\"none\",result=\"success\",side=\"buy\"}} {orders}\n\
gpt_trader_order_submission_total{{reason=\"timeout\",result=\"failed\",side=\"buy\"}} {failed}\n"
    )
}

#[test]
fn a_coherent_restart_mid_window_is_a_new_baseline() {
    let dir = TempDir::new("reset");
    let state = dir.path("s");
    let file = dir.path("metrics.txt");
    let run = |orders, failed| {
        std::fs::write(&file, body(orders, failed)).expect("write body");
        let out = cmd("scrape-metrics")
            .args([
                "--file",
                &file.to_string_lossy(),
                "--state",
                &state.to_string_lossy(),
            ])
            .run();
        std::thread::sleep(std::time::Duration::from_millis(20));
        out
    };
    run(100, 4);
    run(120, 6);
    // The bot restarted: its counters start again from zero.
    let out = run(5, 1);
    let err = out.record("metrics.order_error_rate");
    // Every counter went down together: a restart. Exact deltas, and the
    // first scrape after the restart is a new baseline: orders 126 - 104 = 22,
    // failures 6 - 4 = 2.
    assert_eq!(err.extra["denominator"].as_f64(), Some(22.0));
    assert_eq!(err.extra["numerator"].as_f64(), Some(2.0));
    assert_eq!(err.value.as_f64(), Some(0.090909091));
    assert_eq!(err.level, Level::Warn);
    assert_eq!(err.extra["restarted"], true);
    // After it, the new process counts as usual.
    let out = run(15, 2);
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.extra["denominator"].as_f64(), Some(22.0 + 11.0));
    assert_eq!(err.extra["numerator"].as_f64(), Some(3.0));
}

#[test]
fn bad_lines_are_reported_by_number_and_the_rest_is_kept() {
    let dir = TempDir::new("badlines");
    let file = dir.path("m.txt");
    let text = format!(
        "{}some_other_metric{{a=\"x}} 3\ngpt_trader_guard_trips_total{{guard=\"daily_loss\"}} notanumber\n",
        body(50, 1)
    );
    std::fs::write(&file, text).expect("write");
    let out = cmd("scrape-metrics")
        .args(["--file", &file.to_string_lossy()])
        .run();
    out.code(2);
    let parse: Vec<_> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "metrics.parse")
        .collect();
    assert_eq!(parse.len(), 2);
    assert_eq!(
        (parse[0].extra["line"].as_u64(), parse[0].level),
        (Some(4), Level::Warn)
    );
    assert_eq!(
        (parse[1].extra["line"].as_u64(), parse[1].level),
        (Some(5), Level::Unknown),
        "a guard-trip line is one the signals read"
    );
    assert_eq!(out.record("metrics.orders").value.as_f64(), Some(51.0));
    assert!(
        out.stderr
            .contains("2 line(s) could not be parsed; first: line 4"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_hundred_thousand_series_and_a_body_over_the_cap() {
    let dir = TempDir::new("big");
    let file = dir.path("big.txt");
    let mut text = body(10, 0);
    text.push_str("# TYPE other_total counter\n");
    for i in 0..100_000 {
        text.push_str(&format!(
            "other_total{{shard=\"{i}\",zone=\"z{}\"}} {i}\n",
            i % 7
        ));
    }
    std::fs::write(&file, &text).expect("write");
    let out = cmd("scrape-metrics")
        .args(["--file", &file.to_string_lossy()])
        .run();
    assert!(out.records().iter().all(|r| r.name != "metrics.parse"));
    assert_eq!(out.record("metrics.orders").value.as_f64(), Some(10.0));
    let out = cmd("scrape-metrics")
        .args(["--file", &file.to_string_lossy(), "--max-body", "100000"])
        .run();
    out.code(2);
    assert!(
        out.record("metrics.fetch")
            .msg
            .contains("over the 100000-byte cap")
    );
}

#[test]
fn unreachable_bot_is_one_fetch_error() {
    let port = crate::util::free_port();
    let out = cmd("scrape-metrics")
        .args(["--url", &format!("http://127.0.0.1:{port}/metrics")])
        .run();
    out.code(2);
    assert_eq!(out.records().len(), 1);
    assert!(
        out.record("metrics.fetch")
            .msg
            .contains("connection refused")
    );
}

#[test]
fn a_closed_stdout_is_quiet() {
    let sim = Sim::start("order-errors-warn");
    crate::util::assert_quiet_when_stdout_closes(
        "scrape-metrics",
        &format!("--url {}/metrics --every 1s --count 3", sim.url),
    );
}

#[test]
fn no_guard_trip_series_yet_is_zero_trips() {
    // The bot creates the counter on the first trip: absent means 0, shown as 0.
    let sim = Sim::start("healthy-b");
    let out = scrape(&sim, &[]);
    out.code(0);
    assert!(
        !out.stdout.contains("\"value\":-0"),
        "no negative zeros: {}",
        out.stdout
    );
    let total = out.record("metrics.guard_trips_total");
    assert!(
        total
            .value
            .as_f64()
            .is_some_and(|v| v == 0.0 && v.is_sign_positive())
    );
    let trips = out.record("metrics.guard_trips");
    assert_eq!((trips.level, trips.value.as_f64()), (Level::Ok, Some(0.0)));
}

#[test]
fn guard_trips_over_less_than_the_guard_window_are_not_called_ok() {
    // 12 trips since start, two scrapes a second apart: the last hour's count
    // is anywhere between 0 and 12, so it is unknown, not "0, ok".
    let sim = Sim::start("guard-trips-crit");
    let out = scrape(&sim, &["--every", "1s", "--count", "2"]);
    out.code(2);
    let last = out
        .records()
        .into_iter()
        .rfind(|r| r.name == "metrics.guard_trips")
        .expect("guard trips");
    assert_eq!(last.level, Level::Unknown, "{}", last.msg);
    assert!(last.msg.contains("between 0 and 12"), "{}", last.msg);

    // Trips seen in the covered part are a floor: ten in a second is CRIT already.
    let busy = Sim::with_args(&[
        "--scenario",
        "healthy-b",
        "--live",
        "--guard-trip-every",
        "80ms",
    ]);
    let out = scrape(&busy, &["--every", "1s", "--count", "2"]);
    let last = out
        .records()
        .into_iter()
        .rfind(|r| r.name == "metrics.guard_trips")
        .expect("guard trips");
    assert_eq!(last.level, Level::Crit, "{}", last.msg);

    // A window the scrapes do cover is PromQL's increase.
    let quiet = Sim::start("healthy-b");
    let out = scrape(
        &quiet,
        &["--every", "1s", "--count", "3", "--guard-window", "1500ms"],
    );
    let last = out
        .records()
        .into_iter()
        .rfind(|r| r.name == "metrics.guard_trips")
        .expect("guard trips");
    assert_eq!(
        (last.level, last.value.as_f64()),
        (Level::Ok, Some(0.0)),
        "{}",
        last.msg
    );
    assert_eq!(last.extra["window"], "1s", "shown to the second");
    assert!(last.extra.get("covered").is_none(), "{:?}", last.extra);
}

/// scrape-metrics over one crafted body in a file.
fn scrape_text(text: &str, extra: &[&str]) -> Output {
    let dir = TempDir::new("text");
    let file = dir.path("metrics.txt");
    std::fs::write(&file, text).expect("write");
    let path = file.to_string_lossy().into_owned();
    let mut args = vec!["--file", path.as_str()];
    args.extend_from_slice(extra);
    cmd("scrape-metrics").args(args).run()
}

const ORDERS_TYPE: &str = "# TYPE gpt_trader_order_submission_total counter\n";

fn order_line(result: &str, value: &str) -> String {
    format!(
        "gpt_trader_order_submission_total{{reason=\"none\",result=\"{result}\",side=\"buy\"}} {value}\n"
    )
}

#[test]
fn an_early_eof_is_a_parse_error_and_hides_nothing() {
    // A bot at 20 % errors: cut at `# EOF`, it would read 0 %.
    let text = format!(
        "{ORDERS_TYPE}{}# EOF\n{}",
        order_line("success", "80"),
        order_line("failed", "20")
    );
    let out = scrape_text(&text, &[]);
    let parse = out.record("metrics.parse");
    assert_eq!(
        (parse.level, parse.extra["line"].as_u64()),
        (Level::Unknown, Some(3))
    );
    assert!(parse.msg.contains("# EOF before the end"), "{}", parse.msg);
    let err = out.record("metrics.order_error_rate");
    assert_eq!((err.level, err.value.as_f64()), (Level::Crit, Some(0.2)));
    out.code(1);
}

#[test]
fn unknown_result_labels_are_flagged_and_never_counted_as_successes() {
    // 10 orders under result="error" (which the bot never writes): as
    // successes 0 % (ok), as failures 10 % (warn): unknown.
    let text = format!(
        "{ORDERS_TYPE}{}{}",
        order_line("success", "90"),
        order_line("error", "10")
    );
    let out = scrape_text(&text, &[]);
    out.code(2);
    let flag = out.record("metrics.order_result");
    assert_eq!((flag.kind, flag.level), (Kind::Check, Level::Unknown));
    assert_eq!(flag.value, serde_json::json!(["error"]));
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.level, Level::Unknown, "{}", err.msg);
    assert!(err.msg.contains("cannot be told"), "{}", err.msg);

    // When either way gives the same level, they count as failures.
    let text = format!(
        "{ORDERS_TYPE}{}{}",
        order_line("success", "199"),
        order_line("timeout", "1")
    );
    let err = scrape_text(&text, &[]).record("metrics.order_error_rate");
    assert_eq!((err.level, err.value.as_f64()), (Level::Ok, Some(0.005)));
    assert_eq!(err.extra["unknown_results"], 1.0);
}

#[test]
fn negative_or_non_finite_counts_are_unknown() {
    for bad in ["-5", "NaN", "+Inf"] {
        let text = format!(
            "{ORDERS_TYPE}{}{}",
            order_line("success", "100"),
            order_line("failed", bad)
        );
        let out = scrape_text(&text, &[]);
        out.code(2);
        for name in [
            "metrics.order_error_rate",
            "metrics.order_retry_rate",
            "metrics.orders",
        ] {
            let rec = out.record(name);
            assert_eq!(rec.level, Level::Unknown, "{bad}: {name}: {}", rec.msg);
            assert!(
                rec.msg.contains("never negative or non-finite"),
                "{}",
                rec.msg
            );
        }
    }
}

#[test]
fn windowed_rates_are_exact_deltas_and_never_negative_on_live_traffic() {
    let sim = Sim::with_args(&[
        "--scenario",
        "live",
        "--order-rate",
        "30",
        "--failure-ratio",
        "0.1",
        "--retry-ratio",
        "0.05",
    ]);
    let out = scrape(&sim, &["--every", "1s", "--count", "4"]);
    let windowed: Vec<_> = out
        .records()
        .into_iter()
        .filter(|r| {
            (r.name == "metrics.order_retry_rate" || r.name == "metrics.order_error_rate")
                && r.extra["window"] == "5m"
        })
        .collect();
    assert_eq!(windowed.len(), 6, "{}", out.stdout);
    for r in windowed {
        let v = r
            .value
            .as_f64()
            .unwrap_or_else(|| panic!("{}: {}", r.name, r.msg));
        assert!(v >= 0.0, "{}: {v}", r.name);
        for side in ["numerator", "denominator"] {
            let x = r.extra[side].as_f64().expect(side);
            assert_eq!(x, x.round(), "{}: {side} {x} is an exact count", r.name);
        }
    }
}

fn run_state(dir: &TempDir, text: &str) -> Output {
    let file = dir.path("m.txt");
    std::fs::write(&file, text).expect("write");
    let out = cmd("scrape-metrics")
        .args([
            "--file",
            &file.to_string_lossy(),
            "--state",
            &dir.path("state").to_string_lossy(),
        ])
        .run();
    std::thread::sleep(std::time::Duration::from_millis(20));
    out
}

#[test]
fn a_lone_dip_is_inconsistent_never_a_restart() {
    // Two replicas behind one address: successes 60, 59, 60 while failures
    // climb. Read as a restart, 59 + 60 orders would appear from nowhere.
    let dir = TempDir::new("dip");
    for (ok, failed) in [("60", "1"), ("59", "2"), ("60", "3")] {
        let text = format!(
            "{ORDERS_TYPE}{}{}",
            order_line("success", ok),
            order_line("failed", failed)
        );
        let out = run_state(&dir, &text);
        if ok == "60" && failed == "1" {
            continue;
        }
        out.code(2);
        for name in [
            "metrics.order_error_rate",
            "metrics.order_retry_rate",
            "metrics.guard_trips",
        ] {
            let rec = out.record(name);
            assert_eq!(rec.level, Level::Unknown, "{name}: {}", rec.msg);
            assert!(rec.msg.contains("inconsistent"), "{}", rec.msg);
            assert!(rec.msg.contains("60 -> 59"), "{}", rec.msg);
        }
    }
}

#[test]
fn two_bots_behind_one_address_never_make_orders_from_nowhere() {
    // Every counter of one replica below the other's: each swap looks like a
    // restart, and an empty answer between two full ones like one too.
    let dir = TempDir::new("replicas");
    let body = |ok: &str, failed: &str| {
        format!(
            "{ORDERS_TYPE}{}{}",
            order_line("success", ok),
            order_line("failed", failed)
        )
    };
    run_state(&dir, &body("60", "3"));
    run_state(&dir, &body("40", "2"));
    let out = run_state(&dir, &body("61", "3"));
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.extra["denominator"].as_f64(), Some(22.0), "{}", err.msg);
    let out = run_state(&dir, &body("41", "2"));
    out.code(2);
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.level, Level::Unknown, "{}", err.msg);
    assert!(err.msg.contains("2 times"), "{}", err.msg);

    let dir = TempDir::new("empty");
    run_state(&dir, &body("60", "3"));
    let empty = run_state(&dir, "");
    assert_eq!(
        empty.record("metrics.order_error_rate").level,
        Level::Unknown
    );
    let out = run_state(&dir, &body("61", "3"));
    let err = out.record("metrics.order_error_rate");
    assert_eq!(
        (
            err.extra["denominator"].as_f64(),
            err.extra.get("restarted")
        ),
        (Some(1.0), None),
        "{}",
        err.msg
    );
}

#[test]
fn files_that_are_not_files_are_clear_errors() {
    let dir = TempDir::new("notfiles");
    let fifo = dir.path("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let sim = Sim::start("healthy-b");
    let url = format!("{}/metrics", sim.url);
    let fifo = fifo.to_string_lossy().into_owned();
    let here = dir.0.to_string_lossy().into_owned();
    for (path, needle) in [
        ("/dev/zero", "not a regular file"),
        (fifo.as_str(), "not a regular file"),
        (here.as_str(), "is a directory"),
    ] {
        let out = cmd("scrape-metrics")
            .args(["--url", &url, "--state", path])
            .run();
        out.code(2);
        assert!(
            out.stderr.contains(needle),
            "--state {path}: {}",
            out.stderr
        );
        assert!(out.elapsed < std::time::Duration::from_secs(5));

        let out = cmd("scrape-metrics").args(["--file", path]).run();
        out.code(2);
        assert!(
            out.record("metrics.fetch").msg.contains(needle),
            "--file {path}: {}",
            out.stdout
        );
    }
}

#[test]
fn the_bots_base_url_scrapes_its_metrics_and_says_so() {
    let sim = Sim::start("order-errors-warn");
    for base in [sim.url.clone(), format!("{}/", sim.url)] {
        let out = cmd("scrape-metrics").args(["--url", &base]).run();
        out.code(0);
        assert_eq!(out.record("metrics.orders").value.as_f64(), Some(20.0));
        assert!(
            out.stderr
                .contains(&format!("scraping {}/metrics", sim.url)),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn every_has_a_one_second_minimum() {
    let out = cmd("scrape-metrics")
        .args(["--every", "0s", "--count", "2"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("minimum of 1s"), "{}", out.stderr);
}

#[test]
fn an_unreadable_line_of_a_family_the_signals_read_leaves_them_unknown() {
    // 20 failed orders out of 100, but the failed line does not parse: read
    // without it, the error rate would be 0 % "ok".
    let text = format!(
        "{ORDERS_TYPE}{}{}gpt_trader_guard_trips_total{{guard=\"daily_loss\",category=\"limit\",recoverable=\"false\"}} 0\n",
        order_line("success", "80"),
        order_line("failed", "20x")
    );
    let out = scrape_text(&text, &[]);
    out.code(2);
    assert_eq!(out.record("metrics.parse").level, Level::Unknown);
    // (The retry rate is unknown here anyway: no broker calls in this body.)
    assert_eq!(out.record("metrics.order_retry_rate").level, Level::Unknown);
    for name in ["metrics.orders", "metrics.order_error_rate"] {
        let rec = out.record(name);
        assert_eq!(rec.level, Level::Unknown, "{name}: {}", rec.msg);
        assert!(rec.msg.contains("line 3"), "{name}: {}", rec.msg);
        assert!(rec.value.is_null(), "{name}: {:?}", rec.value);
    }
    // A family the broken line does not belong to is still read.
    assert_eq!(out.record("metrics.guard_trips_total").level, Level::Ok);

    // The same over a window: never an ok rate from the scrapes beside it.
    let dir = TempDir::new("unreadable-window");
    let file = dir.path("metrics.txt");
    let state = dir.path("state");
    let run = |failed: &str| {
        let text = format!(
            "{ORDERS_TYPE}{}{}",
            order_line("success", "80"),
            order_line("failed", failed)
        );
        std::fs::write(&file, text).expect("write");
        let out = cmd("scrape-metrics")
            .args([
                "--file",
                &file.to_string_lossy(),
                "--state",
                &state.to_string_lossy(),
            ])
            .run();
        std::thread::sleep(std::time::Duration::from_millis(20));
        out
    };
    run("10");
    let out = run("20 x");
    let rec = out.record("metrics.order_error_rate");
    assert_eq!(rec.level, Level::Unknown, "{}", rec.msg);

    // A baseline scrape that lost its failed line: the next scrapes must
    // not count that series' whole total (5) as new failures (a false 33 %
    // CRIT that would roll back a bot with no new failure).
    let _ = std::fs::remove_file(&state);
    run("5x");
    for _ in 0..2 {
        let out = run("5");
        let rec = out.record("metrics.order_error_rate");
        assert_eq!(rec.level, Level::Unknown, "{}", rec.msg);
        assert!(rec.msg.contains("could not be parsed"), "{}", rec.msg);
    }
}

#[test]
fn a_state_file_linked_to_another_targets_state_is_refused_and_left_alone() {
    // Two targets; the second's --state is a symlink to the first's state:
    // its scrapes must never be judged against the other bot's baseline.
    let dir = TempDir::new("state-link");
    let a = dir.path("a.txt");
    let b = dir.path("b.txt");
    std::fs::write(&a, body(100, 1)).expect("a");
    std::fs::write(&b, body(10, 0)).expect("b");
    let state_a = dir.path("a.state");
    let link = dir.path("b.state");
    let out = cmd("scrape-metrics")
        .args([
            "--file",
            &a.to_string_lossy(),
            "--state",
            &state_a.to_string_lossy(),
        ])
        .run();
    // One scrape: no window yet (exit 2), but the state now holds a's baseline.
    out.code(2);
    let before = std::fs::read(&state_a).expect("state a");
    std::os::unix::fs::symlink(&state_a, &link).expect("symlink");
    let out = cmd("scrape-metrics")
        .args([
            "--file",
            &b.to_string_lossy(),
            "--state",
            &link.to_string_lossy(),
        ])
        .run();
    out.code(2);
    assert!(out.stderr.contains("belongs to"), "{}", out.stderr);
    assert!(
        !out.stdout.contains("\"level\":\"ok\""),
        "nothing is ok from another target's state: {}",
        out.stdout
    );
    assert_eq!(std::fs::read(&state_a).expect("state a"), before);
}

#[test]
fn every_rate_states_its_exact_bounds_and_what_they_prove() {
    // 2 errors in 10 orders read 20 % (CRIT at face value), but the 95 %
    // lower bound is 3.7 %: the evidence proves no alarm at all.
    let text = format!(
        "{ORDERS_TYPE}{}{}",
        order_line("success", "8"),
        order_line("failed", "2")
    );
    let out = scrape_text(&text, &[]);
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.level, Level::Crit, "{}", err.msg);
    assert_eq!(err.extra["numerator"].as_f64(), Some(2.0));
    assert_eq!(err.extra["denominator"].as_f64(), Some(10.0));
    assert_eq!(err.extra["counts"], "exact");
    let iv = &err.extra["interval"];
    assert_eq!(iv["method"], "clopper-pearson");
    assert_eq!(iv["confidence"].as_f64(), Some(0.95));
    let (lo, hi) = (
        iv["lower"].as_f64().expect("lower"),
        iv["upper"].as_f64().expect("upper"),
    );
    // Independent values (scripts/clopper-pearson-fixtures): 2 in 10.
    assert!((lo - 0.036771).abs() < 1e-5, "{lo}");
    assert!((hi - 0.506901).abs() < 1e-5, "{hi}");
    assert_eq!(err.extra["proven_level"], "ok", "{}", err.msg);
    assert!(
        err.msg.contains("2 errors in 10 orders; 95 % bounds"),
        "{}",
        err.msg
    );

    // --confidence 0 is the runbook read literally.
    let out = scrape_text(&text, &["--confidence", "0"]);
    let err = out.record("metrics.order_error_rate");
    assert_eq!(err.extra["interval"]["method"], "literal");
    assert_eq!(err.extra["proven_level"], "crit");

    // 0 errors in 10: the upper bound is the 25.9 %.
    let text = format!("{ORDERS_TYPE}{}", order_line("success", "10"));
    let err = scrape_text(&text, &[]).record("metrics.order_error_rate");
    let hi = err.extra["interval"]["upper"].as_f64().expect("upper");
    assert!((hi - 0.258866).abs() < 1e-5, "{hi}");

    // A confidence that is no probability is refused.
    cmd("scrape-metrics")
        .args(["--file", "-", "--confidence", "1.5"])
        .stdin("")
        .run()
        .code(2);
}

#[test]
fn the_p95_states_its_bucket_and_observations() {
    let sim = Sim::start("healthy-b");
    let out = scrape(&sim, &[]);
    let p95 = out.record("metrics.broker_latency_p95");
    let v = p95.value.as_f64().expect("p95");
    let b = &p95.extra["bucket_ms"];
    let (lo, hi) = (
        b["lower"].as_f64().expect("lower"),
        b["upper"].as_f64().expect("upper"),
    );
    assert!(lo < v && v <= hi, "{v} in ({lo}, {hi}]");
    assert_eq!(p95.extra["observations"], p95.extra["samples"]);
    assert!(
        p95.msg.contains(&format!("p95 in ({lo} ms, {hi} ms]")),
        "{}",
        p95.msg
    );
    assert_eq!(p95.extra["proven_level"], "ok");
}

#[test]
fn windowed_counts_are_exact_and_bounded() {
    let sim = Sim::with_args(&[
        "--scenario",
        "live",
        "--order-rate",
        "30",
        "--failure-ratio",
        "0.1",
    ]);
    let out = scrape(&sim, &["--every", "1s", "--count", "3"]);
    let last = out
        .records()
        .into_iter()
        .rev()
        .find(|r| r.name == "metrics.order_error_rate" && r.extra["window"] == "5m")
        .expect("a windowed error rate");
    let (k, n) = (
        last.extra["numerator"].as_f64().expect("k"),
        last.extra["denominator"].as_f64().expect("n"),
    );
    assert!(n > 0.0, "{}", last.msg);
    let iv = &last.extra["interval"];
    let p = k / n;
    assert!(iv["lower"].as_f64().expect("lo") <= p && p <= iv["upper"].as_f64().expect("hi"));
    assert_eq!(last.extra["counts"], "exact");
}

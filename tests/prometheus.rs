//! Prometheus mode against a real Prometheus server (Debian's `prometheus`,
//! installed by scripts/test) scraping the simulator's live traffic.

use crate::util::{Output, Sim, TempDir, cmd, free_port};
use canary_core::{Level, Record};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Prometheus {
    child: Child,
    pub(crate) url: String,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn prometheus(targets: &[String], extra: &[&str]) -> Prometheus {
    let binary = which("prometheus").expect(
        "the prometheus binary is not on PATH: run the tests with scripts/test, which installs it",
    );
    let dir = TempDir::new("prom");
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: bot\n    metrics_path: /metrics\n    static_configs:\n      - targets: [{}]\n",
        list.join(", ")
    );
    std::fs::write(dir.path("prometheus.yml"), config).expect("config");
    let port = free_port();
    let child = Command::new(binary)
        .arg(format!(
            "--config.file={}",
            dir.path("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting prometheus");
    // Owned from here on, so a failed start is still killed and reaped.
    let prom = Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if canary_core::http::get(&format!("{}/-/ready", prom.url), &Default::default())
            .is_ok_and(|r| r.status == 200)
        {
            return prom;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("prometheus did not become ready on {}", prom.url);
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn signal(out: &Output, name: &str, target: Option<&str>) -> Record {
    out.records()
        .into_iter()
        .find(|r| r.name == name && target.is_none_or(|t| r.target == t))
        .unwrap_or_else(|| panic!("no {name} for {target:?}\n{}", out.stdout))
}

fn value(r: &Record) -> f64 {
    r.value
        .as_f64()
        .unwrap_or_else(|| panic!("{} has no value: {}", r.name, r.msg))
}

/// Direct mode and Prometheus mode agree on the same traffic; the runbook's
/// verbatim p95 is poisoned by the bot's buckets and reported as such; a
/// fleet is grouped by instance; a down or erroring Prometheus is reported.
#[test]
fn direct_and_prometheus_modes_agree_on_the_same_traffic() {
    let live = [
        "--scenario",
        "live",
        "--order-rate",
        "20",
        "--failure-ratio",
        "0.1",
        "--latency-ms",
        "120",
        "--retry-ratio",
        "0.2",
    ];
    let bot = Sim::with_args(&live);
    let other = Sim::with_args(&[
        "--scenario",
        "live",
        "--order-rate",
        "10",
        "--failure-ratio",
        "0.5",
        "--seed",
        "7",
    ]);
    let prom = prometheus(&[bot.instance(), other.instance()], &[]);

    // Direct mode scrapes once a second over the same ~15 s Prometheus sees.
    let direct = cmd("scrape-metrics")
        .args([
            "--url",
            &format!("{}/metrics", bot.url),
            "--every",
            "1s",
            "--count",
            "15",
        ])
        .run();
    let last_round: Vec<Record> = direct
        .records()
        .into_iter()
        .rev()
        .take_while(|r| r.name != "metrics.orders")
        .collect();
    let d = |name: &str| {
        last_round
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(d("metrics.order_error_rate").extra["window"], "5m");

    let out = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url, "--instance", &bot.instance()])
        .run();
    let p = |name: &str| signal(&out, name, Some(&bot.instance()));

    // Ratios: both windows cover the same traffic to within one scrape
    // interval at each end (≤ 2 x 20 of ~300 orders), so they agree to 0.03.
    for name in ["metrics.order_error_rate", "metrics.order_retry_rate"] {
        let (dv, pv) = (value(&d(name)), value(&p(name)));
        assert!(
            (dv - pv).abs() <= 0.03,
            "{name}: direct {dv} vs prometheus {pv}"
        );
        assert_eq!(p(name).level, d(name).level, "{name}");
    }
    // p95: the same interpolation over the same buckets; rates differ only by
    // extrapolation at the window edges: within 10 %.
    let (dp, pp) = (
        value(&d("metrics.broker_latency_p95")),
        value(&p("metrics.broker_latency_p95")),
    );
    assert!(
        (dp - pp).abs() <= 0.10 * dp,
        "p95: direct {dp} vs prometheus {pp}"
    );
    let p95 = p("metrics.broker_latency_p95");
    assert_eq!(
        p95.extra["verbatim_reliable"], false,
        "the bot's buckets are double-cumulated"
    );
    let verbatim = p95.extra["verbatim_ms"]
        .as_f64()
        .expect("verbatim value reported");
    assert!(
        verbatim > 2.0 * pp,
        "verbatim {verbatim} ms should be far above the corrected {pp} ms"
    );
    assert_eq!(
        value(&p("metrics.guard_trips")),
        0.0,
        "no guard trip series yet is 0 trips, the bot being present"
    );
    assert_eq!(p("metrics.guard_trips").level, Level::Ok);
    assert_eq!(
        p("metrics.guard_trips").extra["covered"],
        false,
        "15 s of data do not cover the hour: 0 is known only because the bot never tripped"
    );
    assert!(value(&signal(&out, "metrics.orders", Some(&bot.instance()))) > 100.0);

    // The cumulative submit buckets judge takes the window's p95 from:
    // written in both modes, corrected alike, and Prometheus' (its last
    // scrape of the bot) a few scrapes from direct mode's last.
    let buckets = |r: &Record| -> Vec<(Option<f64>, f64)> {
        r.extra["buckets"]
            .as_array()
            .expect("buckets")
            .iter()
            .map(|b| (b["le"].as_f64(), b["count"].as_f64().expect("count")))
            .collect()
    };
    let (db, pb) = (
        d("metrics.submit_latency_buckets"),
        p("metrics.submit_latency_buckets"),
    );
    assert_eq!(pb.level, Level::Ok, "{}", pb.msg);
    assert_eq!(pb.extra["correction"], db.extra["correction"]);
    let (dl, pl) = (buckets(&db), buckets(&pb));
    assert_eq!(
        dl.iter().map(|b| b.0).collect::<Vec<_>>(),
        pl.iter().map(|b| b.0).collect::<Vec<_>>(),
        "the same bucket bounds"
    );
    let (dt, pt) = (value(&db), value(&pb));
    assert!(
        pt > 0.0 && (pt - dt).abs() <= 0.5 * dt,
        "Prometheus' {pt} submits against direct mode's {dt}"
    );
    assert!(
        pl.windows(2).all(|w| w[0].1 <= w[1].1),
        "cumulative buckets: {pl:?}"
    );

    // A fleet: one set of signals per instance.
    let fleet = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url, "--fleet"])
        .run();
    let bad = signal(&fleet, "metrics.order_error_rate", Some(&other.instance()));
    assert_eq!(bad.level, Level::Crit, "{}", bad.msg);
    let good = signal(&fleet, "metrics.order_error_rate", Some(&bot.instance()));
    assert_eq!(good.level, Level::Warn, "{}", good.msg);
    fleet.code(1);

    // An unknown instance: no data is unknown, never ok.
    let none = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url, "--instance", "127.0.0.1:1"])
        .run();
    none.code(2);
    assert!(
        signal(&none, "metrics.order_error_rate", None)
            .msg
            .contains("no data")
    );
    assert_eq!(
        signal(&none, "metrics.guard_trips", None).level,
        Level::Unknown
    );
}

#[test]
fn a_prometheus_that_answers_errors_or_is_down() {
    let bot = Sim::with_args(&["--scenario", "live", "--order-rate", "20"]);
    // A real Prometheus that refuses any query touching more than one sample.
    let prom = prometheus(&[bot.instance()], &["--query.max-samples=1"]);
    std::thread::sleep(Duration::from_secs(3));
    let out = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url])
        .run();
    out.code(2);
    let errors: Vec<Record> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "metrics.fetch")
        .collect();
    assert!(!errors.is_empty(), "{}", out.stdout);
    assert!(
        errors.iter().any(|r| r.extra["query"]
            .as_str()
            .is_some_and(|q| q.contains("gpt_trader_"))
            && r.msg.contains("too many samples")),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("query"), "{}", out.stderr);
    drop(prom);

    let port = free_port();
    let down = cmd("scrape-metrics")
        .args(["--prometheus", &format!("http://127.0.0.1:{port}")])
        .run();
    down.code(2);
    assert_eq!(down.records().len(), 1);
    assert!(
        down.record("metrics.fetch")
            .msg
            .contains("connection refused"),
        "{}",
        down.stdout
    );

    // Something that is not Prometheus at all (the bot itself).
    let wrong = cmd("scrape-metrics").args(["--prometheus", &bot.url]).run();
    wrong.code(2);
    assert!(
        wrong.record("metrics.fetch").msg.contains("HTTP 404"),
        "{}",
        wrong.stdout
    );
}

/// Prometheus mode gives the whole round `--timeout`, not each of its
/// dozen queries: a Prometheus answering every query in 600 ms is cut off
/// after 1 s, with one record for the queries never sent.
#[test]
fn prometheus_mode_honours_one_overall_deadline() {
    let empty = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_vec();
    let slow = crate::util::Fixture::slow(
        vec![("/api/v1/query", 200, "application/json", empty)],
        Duration::from_millis(600),
    );
    let out = cmd("scrape-metrics")
        .args(["--prometheus", &slow.url, "--timeout", "1s"])
        .run();
    out.code(2);
    assert!(
        out.elapsed < Duration::from_millis(2500),
        "one round under --timeout 1s took {:?}",
        out.elapsed
    );
    let late: Vec<Record> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "metrics.fetch" && r.msg.contains("not sent"))
        .collect();
    assert_eq!(late.len(), 1, "{}", out.stdout);
    for name in ["metrics.order_error_rate", "metrics.guard_trips"] {
        assert_eq!(signal(&out, name, None).level, Level::Unknown, "{name}");
    }
}

/// The bot creates a series at its first increment, so the runbook's
/// `increase()` never sees that increment. Here every guard trip happens
/// after Prometheus' first scrape of the bot: the exact count is the bot's
/// lifetime count, and the verbatim query, reported beside it, falls short.
#[test]
fn series_born_inside_the_window_are_counted_from_zero() {
    // Prometheus first, scraping the (not yet listening) bot before it
    // starts, so it sees the bot from its first second on.
    let port = free_port();
    let prom = prometheus(&[format!("127.0.0.1:{port}")], &[]);
    let query = |q: &str| {
        canary_core::http::get(
            &format!("{}/api/v1/query?query={q}", prom.url),
            &Default::default(),
        )
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !query("up").contains("\"0\"") {
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped the target"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let bot = Sim::on_port(
        port,
        &[
            "--scenario",
            "live",
            "--order-rate",
            "10",
            "--failure-ratio",
            "0.07",
            "--guard-trip-every",
            "5s",
        ],
    );
    // Wait until Prometheus holds a few trips, all born after its first scrape.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = query("gpt_trader_guard_trips_total");
        if answer.contains("\"3\"") || answer.contains("\"4\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no trips in Prometheus: {answer}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // The premise: the trip series is younger than Prometheus' first scrape of the bot.
    let first = |q: &str| -> f64 {
        let body = query(q);
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["data"]["result"][0]["values"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p[1] != "0"))
            .and_then(|p| p[0].as_f64())
            .unwrap_or_else(|| panic!("{q}: {body}"))
    };
    let (up_at, born_at) = (
        first("up%5B10m%5D"),
        first("gpt_trader_guard_trips_total%5B10m%5D"),
    );
    assert!(
        born_at > up_at,
        "the trip series was there at the first scrape ({born_at} <= {up_at}): a loaded machine?"
    );
    let out = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url, "--instance", &bot.instance()])
        .run();
    let trips = signal(&out, "metrics.guard_trips", None);
    let total = value(&signal(&out, "metrics.guard_trips_total", None));
    let exact = value(&trips);
    assert_eq!(
        exact, total,
        "every trip is inside the window: {}",
        trips.msg
    );
    let verbatim = trips.extra["verbatim"].as_f64().expect("verbatim value");
    assert!(
        verbatim <= exact - 0.4,
        "the verbatim increase() misses the first trip: verbatim {verbatim}, exact {exact}"
    );
    // The rejected series is born inside the window too: all of it counts.
    let err = signal(&out, "metrics.order_error_rate", None);
    let orders = signal(&out, "metrics.orders", None);
    let rejected = orders.extra["by_result"]["rejected"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(rejected >= 1.0, "{:?}", orders.extra);
    let numerator = err.extra["numerator"].as_f64().expect("numerator");
    assert!(
        numerator >= rejected,
        "{numerator} < {rejected}: {}",
        err.msg
    );
    assert_eq!(numerator, numerator.round(), "exact counts");
    assert!(err.extra.get("verbatim").is_some(), "{:?}", err.extra);
}

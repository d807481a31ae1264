//! The canary against production (docs/judge.md#against-production):
//! judge compares the canary's error rate, retry rate and latency with the
//! baseline's, never counts production's records as the canary's evidence,
//! holds or rolls back on a significant regression; scrape-metrics and
//! sim-bot mark and serve the two sides. The end-to-end case runs two
//! pairs of sim-bots scraped by a real Prometheus.

use crate::util::{Output, Sim, cmd};
use canary_core::Record;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A clean one-hour Phase B stream of bot 127.0.0.1:8080 that promotes at B_END.
fn promote_stream() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/judge/b-promote.ndjson"),
    )
    .expect("fixture")
}

const B_END: &str = "2026-11-26T01:01:00Z";
const LAST: &str = "2026-11-26T01:00:30Z";
const CANARY: &str = "http://127.0.0.1:8080/metrics";
const PROD: &str = "http://127.0.0.1:9090/metrics";

/// The three compared signals of one side, as scrape-metrics writes them
/// (windowed, exact counts, bucket deltas), marked with `role` if given.
fn side(
    target: &str,
    role: Option<&str>,
    errors: u64,
    orders: u64,
    retries: u64,
    buckets: Value,
) -> String {
    let mut out = String::new();
    let rate = |name: &str, n: u64, d: u64| {
        let v = n as f64 / d as f64;
        json!({"v":1,"ts":LAST,"tool":"scrape-metrics","target":target,"kind":"signal",
            "name":name,"level":"ok","value":v,"msg":"x","window":"5m",
            "numerator":n,"denominator":d,"source":"direct"})
    };
    let p95 = json!({"v":1,"ts":LAST,"tool":"scrape-metrics","target":target,"kind":"signal",
        "name":"metrics.broker_latency_p95","level":"ok","value":250.0,"msg":"x","window":"5m",
        "samples":orders,"buckets":buckets,"source":"direct"});
    for mut rec in [
        rate("metrics.order_error_rate", errors, orders),
        rate("metrics.order_retry_rate", retries, orders),
        p95,
    ] {
        if let Some(r) = role {
            rec["role"] = json!(r);
        }
        out.push_str(&rec.to_string());
        out.push('\n');
    }
    out
}

fn buckets(fast: u64, slow: u64) -> Value {
    json!([[0.1, fast], [0.5, fast + slow], ["+Inf", fast + slow]])
}

fn judge(stream: &str, extra: &[&str]) -> Output {
    cmd("judge")
        .args(["--phase", "b", "--at", B_END, "--probe-interval", "5m"])
        .args(extra)
        .stdin(stream.to_owned())
        .run()
}

fn verdict(out: &Output) -> Record {
    out.records()
        .into_iter()
        .find(|r| r.name == "judge.verdict" && r.extra["scope"] == "overall")
        .unwrap_or_else(|| panic!("no verdict\n{}\n{}", out.stdout, out.stderr))
}

fn comparison(out: &Output, signal: &str) -> Record {
    out.records()
        .into_iter()
        .find(|r| r.name == "judge.comparison" && r.extra["signal"] == signal)
        .unwrap_or_else(|| panic!("no {signal} comparison\n{}", out.stdout))
}

fn decision(out: &Output) -> String {
    verdict(out).extra["decision"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn same_as_production_still_promotes_with_the_comparison_recorded() {
    let stream = promote_stream()
        + &side(CANARY, None, 10, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 11, 1000, 30, buckets(905, 95));
    let out = judge(&stream, &[]);
    assert_eq!(decision(&out), "promote", "{}", verdict(&out).msg);
    out.code(0);
    for s in ["order_error_rate", "order_retry_rate", "broker_latency"] {
        let c = comparison(&out, s);
        assert_eq!(c.value, "same", "{}", c.msg);
        assert_eq!(c.target, "127.0.0.1:8080");
        assert_eq!(c.extra["baseline_target"], "127.0.0.1:9090");
        assert!(
            c.extra["p_value"].as_f64().is_some_and(|p| p > 0.05),
            "{c:?}"
        );
    }
    let e = comparison(&out, "order_error_rate");
    assert_eq!(e.extra["canary"]["events"], 10);
    assert_eq!(e.extra["baseline"]["trials"], 1000);
    assert_eq!(e.extra["test"], "fisher-exact");
}

#[test]
fn a_significant_regression_holds_promotion_and_a_large_one_rolls_back() {
    // 4 % (under the runbook's WARN) against production's 1 %, over 1,000
    // orders each: significant, beyond the 1-point tolerance, not the 10
    // points of a large one.
    let worse = promote_stream()
        + &side(CANARY, None, 40, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&worse, &[]);
    out.code(3);
    let v = verdict(&out);
    assert_eq!(v.extra["decision"], "extend");
    assert!(
        v.msg.contains("significantly worse than production"),
        "{}",
        v.msg
    );
    let c = comparison(&out, "order_error_rate");
    assert_eq!(
        (c.value.as_str(), c.level),
        (Some("worse"), canary_core::Level::Warn)
    );
    assert!(
        c.extra["p_value"]
            .as_f64()
            .is_some_and(|p| (p - 9.5047e-6).abs() < 1e-9)
    );
    assert!((c.extra["effect_size"].as_f64().unwrap_or(0.0) - 0.03).abs() < 1e-9);
    // The same counts in Phase A hold advance.
    let out = cmd("judge")
        .args(["--phase", "a", "--at", B_END, "--probe-interval", "5m"])
        .stdin(worse.clone())
        .run();
    assert_ne!(decision(&out), "advance");

    // 20 % against 1 %: a large regression (CRIT on its own too).
    let large = promote_stream()
        + &side(CANARY, None, 200, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&large, &[]);
    out.code(1);
    assert_eq!(decision(&out), "rollback");
    assert_eq!(
        comparison(&out, "order_error_rate").level,
        canary_core::Level::Crit
    );

    // Latency: most of the canary's submits slow (p95 still under WARN),
    // most of production's fast: large, and Phase B rolls back ...
    let slow = promote_stream()
        + &side(CANARY, None, 10, 1000, 30, buckets(300, 700))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&slow, &[]);
    out.code(1);
    let v = verdict(&out);
    assert_eq!(v.extra["decision"], "rollback");
    assert!(v.msg.contains("roll back"), "{}", v.msg);
    let c = comparison(&out, "broker_latency");
    assert_eq!(c.value, "worse");
    assert!(
        (c.extra["effect_size"].as_f64().unwrap_or(0.0) - 0.6).abs() < 1e-9,
        "{c:?}"
    );
    // ... unless the operator made large regressions hold only.
    let out = judge(&slow, &["--baseline-large", "hold"]);
    out.code(3);
    assert_eq!(decision(&out), "extend");
    // A stricter significance level the evidence does not reach: same.
    let out = judge(&worse, &["--baseline-alpha", "0.000001"]);
    assert_eq!(comparison(&out, "order_error_rate").value, "same");
    out.code(0);
    // A wider tolerance the 3-point difference does not pass: same.
    let out = judge(
        &worse,
        &["--baseline-tolerance", "order_error_rate=0.05:0.10"],
    );
    let c = comparison(&out, "order_error_rate");
    assert_eq!(
        (c.value.as_str(), c.extra["tolerance"].as_f64()),
        (Some("same"), Some(0.05))
    );
    out.code(0);
    // A narrower large bound: the same 3 points are large and roll back.
    let out = judge(
        &worse,
        &["--baseline-tolerance", "order_error_rate=0.01:0.02"],
    );
    assert_eq!(decision(&out), "rollback");
    cmd("judge")
        .args([
            "--phase",
            "b",
            "--baseline-tolerance",
            "order_error_rate=0.2:0.1",
        ])
        .run()
        .code(2);
}

#[test]
fn better_than_production_promotes() {
    let stream = promote_stream()
        + &side(CANARY, None, 2, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 40, 1000, 30, buckets(900, 100));
    let out = judge(&stream, &[]);
    out.code(0);
    assert_eq!(comparison(&out, "order_error_rate").value, "better");
}

#[test]
fn a_named_baseline_without_evidence_holds_promotion_for_want_of_it() {
    let stream = promote_stream() + &side(CANARY, None, 10, 1000, 30, buckets(900, 100));
    let out = judge(&stream, &["--baseline", "127.0.0.1:9090"]);
    out.code(2);
    assert_eq!(decision(&out), "extend");
    let c = comparison(&out, "order_error_rate");
    assert_eq!(
        (c.value.as_str(), c.level),
        (Some("unknown"), canary_core::Level::Unknown)
    );
    // Without --baseline and without a baseline record: no comparison at all.
    let out = judge(&stream, &[]);
    out.code(0);
    assert!(!out.stdout.contains("judge.comparison"));
}

#[test]
fn production_evidence_never_counts_as_the_canarys() {
    // The canary's own health evidence is removed; production's, marked
    // baseline, is the same stream under production's name. Production's
    // clean health must not promote a canary with none.
    let canary: String = promote_stream()
        .lines()
        .filter(|l| !l.contains("\"health."))
        .map(|l| format!("{l}\n"))
        .collect();
    let prod: String = promote_stream()
        .lines()
        .filter(|l| l.contains("\"health."))
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json");
            v["target"] = json!("http://127.0.0.1:9090");
            v["role"] = json!("baseline");
            format!("{v}\n")
        })
        .collect();
    let stream = canary
        + &prod
        + &side(CANARY, None, 10, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&stream, &[]);
    assert_ne!(decision(&out), "promote");
    out.code(2);
    // The same with --baseline and no role mark: still production's.
    let unmarked = stream.replace(",\"role\":\"baseline\"", "");
    assert!(!unmarked.contains("\"role\""));
    let out = judge(&unmarked, &["--baseline", "http://127.0.0.1:9090"]);
    assert_ne!(decision(&out), "promote");
    let c = comparison(&out, "order_error_rate");
    assert_eq!(c.value, "same", "{}", c.msg);
}

#[test]
fn a_forged_or_contradictory_role_is_no_evidence_and_holds() {
    let base = promote_stream()
        + &side(CANARY, None, 10, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    // An unknown role value: unreadable input, never either side's evidence.
    let forged = base.clone() + &side(CANARY, Some("production"), 0, 1000, 0, buckets(1000, 0));
    let out = judge(&forged, &[]);
    out.code(2);
    assert_ne!(decision(&out), "promote");
    assert!(
        out.stderr.contains("neither \\\"canary\\\" nor") || out.stderr.contains("role"),
        "{}",
        out.stderr
    );
    // Marked canary from the bot --baseline names: refused.
    let contradictory = base.clone() + &side(PROD, Some("canary"), 0, 1000, 0, buckets(1000, 0));
    let out = judge(&contradictory, &["--baseline", "127.0.0.1:9090"]);
    out.code(2);
    assert_ne!(decision(&out), "promote");
    // One bot speaking for both sides: the comparison is unknown.
    let both = base + &side(PROD, None, 10, 1000, 30, buckets(900, 100));
    let out = judge(&both, &[]);
    assert_ne!(decision(&out), "promote");
    assert_eq!(comparison(&out, "order_error_rate").value, "unknown");
}

#[test]
fn impossible_counts_and_buckets_are_unknown_never_same() {
    for (errors, orders, b) in [
        (11, 10, buckets(900, 100)), // more errors than orders
        (10, 0, buckets(900, 100)),  // no orders
        (10, 1000, json!([[0.1, 900], [0.5, 800], ["+Inf", 1000]])), // falling buckets
        (10, 1000, json!([[0.1, 900], [0.5, 1000]])), // no +Inf
    ] {
        let stream = promote_stream()
            + &side(CANARY, None, errors, orders, 30, b)
            + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
        let out = judge(&stream, &[]);
        assert_ne!(decision(&out), "promote", "{errors}/{orders}");
        assert!(
            out.records()
                .iter()
                .any(|r| r.name == "judge.comparison" && r.value == "unknown"),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn scrape_metrics_marks_every_record_of_production() {
    let sim = Sim::with_args(&[
        "--scenario",
        "versus-same",
        "--order-rate",
        "20",
        "--role",
        "baseline",
    ]);
    let out = cmd("scrape-metrics")
        .args(["--url", &sim.url, "--role", "baseline"])
        .run();
    let recs = out.records();
    assert!(recs.len() >= 4, "{}", out.stdout);
    assert!(
        recs.iter()
            .all(|r| r.extra.get("role") == Some(&json!("baseline")))
    );
    // A failed fetch is production's too.
    let out = cmd("scrape-metrics")
        .args([
            "--url",
            "http://127.0.0.1:9/metrics",
            "--role",
            "baseline",
            "--timeout",
            "1s",
        ])
        .run();
    let recs = out.records();
    assert!(!recs.is_empty() && recs.iter().all(|r| r.extra["role"] == "baseline"));
    // The canary's records stay unmarked.
    let out = cmd("scrape-metrics").args(["--url", &sim.url]).run();
    assert!(out.records().iter().all(|r| !r.extra.contains_key("role")));
    // One-shot (lifetime) scrapes of two bots carry exact counts and
    // buckets too: every signal is compared, none unknown.
    let (a, b) = (Sim::start("healthy-b"), Sim::start("healthy-b"));
    let canary = cmd("scrape-metrics").args(["--url", &a.url]).run().stdout;
    let prod = cmd("scrape-metrics")
        .args(["--url", &b.url, "--role", "baseline"])
        .run()
        .stdout;
    let out = cmd("judge")
        .args(["--phase", "b"])
        .stdin(canary + &prod)
        .run();
    for s in ["order_error_rate", "order_retry_rate", "broker_latency"] {
        let c = comparison(&out, s);
        assert_eq!(c.value, "same", "{s}: {}", c.msg);
    }
    // sim-bot refuses a production side where there is no pairing.
    cmd("sim-bot")
        .args([
            "--port",
            "0",
            "--scenario",
            "healthy-b",
            "--role",
            "baseline",
        ])
        .run()
        .code(2);
}

/// The seeded simulation (judge::baseline::power, docs/benchmarks.md)
/// classifies windows by judge's own path in-process; the judge binary
/// over real pipes classifies the same windows alike.
#[test]
fn the_simulation_classifies_as_the_judge_binary_does() {
    use judge::baseline::power::{Bot, classify, draws};
    let (canary, prod) = (
        Bot {
            orders: 50,
            rate: 0.15,
        },
        Bot {
            orders: 1000,
            rate: 0.05,
        },
    );
    let mut seen = std::collections::BTreeSet::new();
    for (c, p) in draws(canary, prod, 16, 11) {
        let stream = promote_stream()
            + &side(CANARY, None, c, 50, 1, buckets(45, 5))
            + &side(PROD, Some("baseline"), p, 1000, 20, buckets(900, 100));
        let out = judge(&stream, &[]);
        let got = comparison(&out, "order_error_rate");
        let (want, large) = classify((c, 50), (p, 1000));
        assert_eq!(
            got.value,
            json!(want),
            "{c}/50 against {p}/1000: {}",
            got.msg
        );
        assert_eq!(
            got.level == canary_core::Level::Crit,
            large,
            "{c}/50 against {p}/1000"
        );
        seen.insert(want);
    }
    // The draws reach both sides of the line.
    assert!(seen.contains("worse") && seen.contains("same"), "{seen:?}");
}

/// One round of evidence: probe-health on the canary, scrape-metrics on
/// both through Prometheus, production's marked by `mark`.
fn round(prom: &str, canary: &Sim, prod: &Sim, mark: &[&str]) -> String {
    let health = cmd("probe-health")
        .args(["--url", &canary.url, "--phase", "b"])
        .run();
    let c = cmd("scrape-metrics")
        .args([
            "--prometheus",
            prom,
            "--instance",
            &canary.instance(),
            "--window",
            "20s",
        ])
        .run();
    let p = cmd("scrape-metrics")
        .args([
            "--prometheus",
            prom,
            "--instance",
            &prod.instance(),
            "--window",
            "20s",
        ])
        .args(mark)
        .run();
    health.stdout + &c.stdout + &p.stdout
}

/// Both sides' newest error-rate denominators in `text` (0 if unknown).
fn orders_in(text: &str, instance: &str) -> u64 {
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Record>(l).ok())
        .filter(|r| r.name == "metrics.order_error_rate" && r.target == instance)
        .filter(|r| r.level != canary_core::Level::Unknown)
        .filter_map(|r| r.extra.get("denominator").and_then(Value::as_f64))
        .next()
        .unwrap_or(0.0) as u64
}

/// Rounds until both bots have `n` orders in the window (deadline 60 s),
/// then three more, a second apart: the stream judge reads, from the
/// first of those rounds.
fn collect(prom: &str, canary: &Sim, prod: &Sim, mark: &[&str]) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = round(prom, canary, prod, mark);
        if orders_in(&r, &canary.instance()) >= 300 && orders_in(&r, &prod.instance()) >= 300 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never held 300 orders of each bot:\n{r}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let since = jiff::Timestamp::now().to_string();
    let mut stream = String::new();
    for _ in 0..3 {
        stream.push_str(&round(prom, canary, prod, mark));
        std::thread::sleep(Duration::from_secs(1));
    }
    (stream, since)
}

#[test]
fn two_sim_bots_in_prometheus_worse_is_held_same_is_not() {
    let live = |scenario: &str, role: &str| {
        Sim::with_args(&[
            "--scenario",
            scenario,
            // Under the default order-rate ceiling (30 a second, see
            // docs/money.md), so the money criteria stay quiet.
            "--order-rate",
            "20",
            "--role",
            role,
            "--seed",
            "7",
        ])
    };
    let (worse_c, worse_p) = (
        live("versus-worse", "canary"),
        live("versus-worse", "baseline"),
    );
    let (same_c, same_p) = (
        live("versus-same", "canary"),
        live("versus-same", "baseline"),
    );
    let prom = crate::prometheus::prometheus(
        &[
            worse_c.instance(),
            worse_p.instance(),
            same_c.instance(),
            same_p.instance(),
        ],
        &[],
    );
    let judge_live = |stream: &str, since: &str, extra: &[&str]| {
        cmd("judge")
            .args([
                "--phase",
                "b",
                "--since",
                since,
                "--min-duration",
                "2s",
                "--min-evidence",
                "2s",
                "--max-age",
                "30s",
            ])
            .args(extra)
            .stdin(stream.to_owned())
            .run()
    };

    // Worse: production's records marked by scrape-metrics --role baseline.
    let (stream, since) = collect(&prom.url, &worse_c, &worse_p, &["--role", "baseline"]);
    let out = judge_live(&stream, &since, &[]);
    let err = comparison(&out, "order_error_rate");
    assert_eq!(err.value, "worse", "{}", err.msg);
    assert_eq!(err.target, worse_c.instance());
    assert_eq!(err.extra["baseline_target"], json!(worse_p.instance()));
    let lat = comparison(&out, "broker_latency");
    assert_eq!(lat.value, "worse", "{}", lat.msg);
    // 250 ms against 120 ms is a large regression: Phase B rolls back.
    assert_eq!(decision(&out), "rollback", "{}", verdict(&out).msg);
    out.code(1);
    // Holding only: extend.
    let out = judge_live(&stream, &since, &["--baseline-large", "hold"]);
    assert_eq!(decision(&out), "extend", "{}", verdict(&out).msg);

    // Same: production named with --baseline, its records unmarked.
    let prod = same_p.instance();
    let (stream, since) = collect(&prom.url, &same_c, &same_p, &[]);
    let out = judge_live(&stream, &since, &["--baseline", &prod]);
    for s in ["order_error_rate", "order_retry_rate", "broker_latency"] {
        let c = comparison(&out, s);
        assert!(c.value == "same" || c.value == "better", "{s}: {}", c.msg);
    }
    let v = verdict(&out);
    assert!(
        !v.extra["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["rule"]
                .as_str()
                .is_some_and(|x| x.starts_with("baseline."))
                && r["level"] != "ok"),
        "{}",
        v.msg
    );
    assert_ne!(decision(&out), "rollback", "{}", v.msg);
}

/// judge's comparisons precede its verdict on stdout: `judge | rollback
/// --promote` still promotes on a promote verdict (rollback passes them
/// over), and another tool's record of that name is still refused.
#[test]
fn rollback_passes_judges_comparisons_over() {
    use crate::rollback::{Fx, promote_verdict};
    let cmp = |tool: &str| {
        format!(
            "{}\n",
            json!({"v":1,"ts":crate::rollback::ts_ago(0),"tool":tool,"target":"127.0.0.1:8080",
                "kind":"check","name":"judge.comparison","level":"ok","value":"same","msg":"m"})
        )
    };
    let fx = Fx::new("baseline-promote");
    let out = fx
        .rollback()
        .args(["--promote"])
        .stdin(cmp("judge") + &promote_verdict())
        .run();
    out.code(0);
    assert_eq!(out.record("promote.trigger").extra["action"], "promote");
    assert!(!out.stdout.contains("rollback.rejected"), "{}", out.stdout);
    let out = fx
        .rollback()
        .args(["--promote"])
        .stdin(cmp("probe-health") + &promote_verdict())
        .run();
    out.code(2);
}

/// A fleet: each canary bot is compared with the one baseline; a bot's
/// regression holds its own verdict and the overall one, not its peer's.
#[test]
fn in_a_fleet_each_bot_is_compared_and_the_worst_decides() {
    let other = promote_stream().replace("127.0.0.1:8080", "127.0.0.1:8081");
    let stream = promote_stream()
        + &other
        + &side(CANARY, None, 40, 1000, 30, buckets(900, 100))
        + &side(
            "http://127.0.0.1:8081/metrics",
            None,
            10,
            1000,
            30,
            buckets(900, 100),
        )
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&stream, &[]);
    out.code(3);
    let verdicts: Vec<Record> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "judge.verdict")
        .collect();
    let of = |t: &str| {
        verdicts
            .iter()
            .find(|v| v.target == t)
            .map(|v| v.extra["decision"].clone())
    };
    assert_eq!(of("127.0.0.1:8080"), Some(json!("extend")));
    assert_eq!(of("127.0.0.1:8081"), Some(json!("promote")));
    assert_eq!(of("fleet"), Some(json!("extend")));
    let worse: Vec<Record> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "judge.comparison" && r.value == "worse")
        .collect();
    assert_eq!(worse.len(), 1);
    assert_eq!(worse[0].target, "127.0.0.1:8080");
    let fleet = verdicts
        .iter()
        .find(|v| v.target == "fleet")
        .expect("overall");
    assert!(
        fleet.extra["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["rule"] == "baseline.order_error_rate" && r["target"] == "127.0.0.1:8080"),
        "{}",
        fleet.msg
    );
}

#[test]
fn explain_shows_each_comparison_with_production() {
    let worse = promote_stream()
        + &side(CANARY, None, 40, 1000, 30, buckets(900, 100))
        + &side(PROD, Some("baseline"), 10, 1000, 30, buckets(900, 100));
    let out = judge(&worse, &["--explain"]);
    out.code(3);
    let table = out
        .stderr
        .split_once("judge: the canary against production")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no comparison table\n{}", out.stderr));
    for s in ["order_error_rate", "order_retry_rate", "broker_latency"] {
        let c = comparison(&out, s);
        let row = table
            .lines()
            .find(|l| l.contains(s))
            .unwrap_or_else(|| panic!("no {s} row\n{table}"));
        assert!(row.contains(c.level.as_str()), "{row}");
        assert!(row.contains(c.msg.as_str()), "{row}");
    }
    // Without production's evidence there is no such table.
    let out = judge(&promote_stream(), &["--explain"]);
    assert!(
        !out.stderr.contains("the canary against production"),
        "{}",
        out.stderr
    );
}

//! canary-rules: the rules it writes pass promtool and their own promtool
//! tests, for the exporter's default bounds and for bounds read from a
//! scrape; a real Prometheus scraping the simulator's double-cumulated
//! traffic fires the runbook's verbatim p95 rule on a healthy bot, where the
//! repaired rule stays quiet and fires only on a real regression.

use crate::util::{Sim, TempDir, cmd, free_port};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FILES: [&str; 3] = [
    "canary_alerts.yml",
    "canary_alerts_test.yml",
    "canary_latency_test.yml",
];

fn promtool(dir: &Path, args: &[&str]) {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("promtool (Debian package prometheus, installed by scripts/test)");
    assert!(
        out.status.success(),
        "promtool {args:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `canary-rules ARGS DIR`, which must succeed quietly.
fn emit(dir: &TempDir, args: &[&str]) {
    let out = cmd("canary-rules").args(args).args([&dir.0]).run();
    out.code(0);
    assert!(
        out.stdout.is_empty(),
        "stdout carries no records: {}",
        out.stdout
    );
}

fn check_and_test(dir: &Path) {
    promtool(dir, &["check", "rules", "canary_alerts.yml"]);
    promtool(
        dir,
        &[
            "test",
            "rules",
            "canary_alerts_test.yml",
            "canary_latency_test.yml",
        ],
    );
}

#[test]
fn the_default_rules_pass_promtool_and_their_own_tests() {
    let dir = TempDir::new("rules-default");
    emit(&dir, &[]);
    for f in FILES {
        assert!(dir.path(f).is_file(), "{f} written");
    }
    let rules = std::fs::read_to_string(dir.path("canary_alerts.yml")).expect("rules");
    assert!(!rules.contains("humanizeDuration }} ms"));
    assert!(rules.contains("p95 latency is {{ $value | printf \\\"%.0f\\\" }} ms"));
    check_and_test(&dir.0);
    // A fixed exporter (--buckets cumulative): no repair, the opposite check,
    // and tests generated for plain cumulative input.
    let fixed = TempDir::new("rules-cumulative");
    emit(&fixed, &["--buckets", "cumulative"]);
    let rules = std::fs::read_to_string(fixed.path("canary_alerts.yml")).expect("rules");
    assert!(
        !rules.contains("- ignoring (le) group_left"),
        "no subtraction: {rules}"
    );
    assert!(rules.contains("alert: CanaryLatencyBucketsDoubleCumulated\n"));
    assert!(!rules.contains("alert: CanaryLatencyBucketsNotDoubleCumulated\n"));
    check_and_test(&fixed.0);
    // Another scrape job: the scrape alerts and their tests follow it.
    let job = TempDir::new("rules-job");
    emit(&job, &["--job", "gpt-trader-canary"]);
    let rules = std::fs::read_to_string(job.path("canary_alerts.yml")).expect("rules");
    assert!(rules.contains("up{job=\"gpt-trader-canary\"} == 0"));
    check_and_test(&job.0);
}

#[test]
fn bounds_from_a_scrape_give_rules_and_tests_for_those_bounds() {
    // A file with bounds that are not the exporter's default.
    let dir = TempDir::new("rules-file");
    let scrape = dir.path("scrape.txt");
    let mut body = String::from("# TYPE gpt_trader_broker_call_latency_seconds histogram\n");
    for (le, v) in [
        ("0.2", 1),
        ("0.75", 3),
        ("1.5", 6),
        ("4.0", 10),
        ("+Inf", 4),
    ] {
        body.push_str(&format!(
            "gpt_trader_broker_call_latency_seconds_bucket{{le=\"{le}\",operation=\"submit\",outcome=\"success\",reason=\"none\"}} {v}\n"
        ));
    }
    std::fs::write(&scrape, body).expect("scrape");
    let out_dir = TempDir::new("rules-file-out");
    emit(&out_dir, &["--from-metrics", &scrape.to_string_lossy()]);
    let rules = std::fs::read_to_string(out_dir.path("canary_alerts.yml")).expect("rules");
    assert!(rules.contains("_bucket{le=\"0.75\"}\n"), "{rules}");
    assert!(!rules.contains("le=\"1.0\""), "only the scraped bounds");
    check_and_test(&out_dir.0);
    // The same scrape on stdin (`curl ... | canary-rules --from-metrics -`).
    let piped = TempDir::new("rules-stdin");
    cmd("canary-rules")
        .args(["--from-metrics", "-"])
        .args([&piped.0])
        .stdin(std::fs::read(&scrape).expect("scrape"))
        .run()
        .code(0);
    let from_stdin = std::fs::read_to_string(piped.path("canary_alerts.yml")).expect("rules");
    assert_eq!(
        from_stdin.replace(
            "one scrape of -",
            &format!("one scrape of {}", scrape.display())
        ),
        rules
    );

    // The simulator's live /metrics: the exporter's bounds, read over HTTP.
    let sim = Sim::with_args(&["--scenario", "live", "--order-rate", "50"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let live_dir = TempDir::new("rules-live");
    loop {
        let out = cmd("canary-rules")
            .args(["--from-metrics", &format!("{}/metrics", sim.url)])
            .args([&live_dir.0])
            .run();
        if out.code == Some(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no broker histogram yet: {}",
            out.stderr
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let live = std::fs::read_to_string(live_dir.path("canary_alerts.yml")).expect("rules");
    let default = TempDir::new("rules-default-cmp");
    emit(&default, &[]);
    let plain = std::fs::read_to_string(default.path("canary_alerts.yml")).expect("rules");
    let source = format!("one scrape of {}/metrics", sim.url);
    assert!(live.contains(&source));
    assert_eq!(
        live.replace(&source, "the bot exporter's default bounds"),
        plain,
        "the simulator's exporter has the default bounds"
    );
}

#[test]
fn a_scrape_without_usable_bounds_is_refused() {
    let dir = TempDir::new("rules-refused");
    // Starting: an empty /metrics. Disabled: a 404. Neither gives bounds, and
    // rules for guessed bounds could never fire.
    let starting = Sim::start("starting");
    let disabled = Sim::start("metrics-disabled");
    let fifo = dir.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for (from, why) in [
        (
            format!("{}/metrics", starting.url),
            "no gpt_trader_broker_call_latency_seconds_bucket series",
        ),
        (format!("{}/metrics", disabled.url), "status 404"),
        (fifo.to_string_lossy().into_owned(), "FIFO"),
        (
            dir.path("missing").to_string_lossy().into_owned(),
            "cannot read",
        ),
    ] {
        let out_dir = dir.path("out");
        let out = cmd("canary-rules")
            .args(["--from-metrics", &from])
            .args([&out_dir])
            .run();
        out.code(2);
        assert!(
            out.stderr
                .starts_with("canary-rules: error: --from-metrics ")
                && out.stderr.contains(why),
            "{from}: {}",
            out.stderr
        );
        assert!(
            !out_dir.join("canary_alerts.yml").exists(),
            "nothing written"
        );
    }
    // A scrape on stdin over the 8 MiB every body is capped at.
    let out = cmd("canary-rules")
        .args(["--from-metrics", "-"])
        .args([&dir.path("out")])
        .stdin(vec![b'#'; 8 * 1024 * 1024 + 1])
        .run();
    out.code(2);
    assert!(out.stderr.contains("over the"), "{}", out.stderr);
    // A job name that would break out of its PromQL string.
    let out = cmd("canary-rules")
        .args(["--job", "bot\"} or vector(1) #"])
        .args([&dir.path("out")])
        .run();
    out.code(2);
    assert!(
        out.stderr.starts_with("canary-rules: error: --job "),
        "{}",
        out.stderr
    );
}

#[test]
fn for_override_writes_no_tests_that_would_describe_other_rules() {
    let dir = TempDir::new("rules-for");
    emit(&dir, &[]);
    let out = cmd("canary-rules")
        .args(["--for", "0s"])
        .args([&dir.0])
        .run();
    out.code(0);
    assert!(
        out.stderr.contains("no promtool tests are written"),
        "{}",
        out.stderr
    );
    let rules = std::fs::read_to_string(dir.path("canary_alerts.yml")).expect("rules");
    assert!(
        rules
            .lines()
            .filter(|l| l.trim_start().starts_with("for:"))
            .all(|l| l.trim() == "for: 0s")
    );
    assert!(!dir.path("canary_alerts_test.yml").exists());
    assert!(!dir.path("canary_latency_test.yml").exists());
    promtool(&dir.0, &["check", "rules", "canary_alerts.yml"]);
}

#[test]
fn a_symlink_in_dir_is_replaced_not_written_through() {
    let dir = TempDir::new("rules-symlink");
    let victim = dir.path("victim.txt");
    std::fs::write(&victim, "keep me").expect("victim");
    let out_dir = dir.path("out");
    std::fs::create_dir(&out_dir).expect("out");
    std::os::unix::fs::symlink(&victim, out_dir.join("canary_alerts.yml")).expect("symlink");
    cmd("canary-rules").args([&out_dir]).run().code(0);
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep me");
    assert!(
        !std::fs::symlink_metadata(out_dir.join("canary_alerts.yml"))
            .expect("rules")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn judge_emit_alert_rules_is_a_deprecated_alias() {
    let alias = TempDir::new("rules-alias");
    let out = cmd("judge")
        .args(["--emit-alert-rules"])
        .args([&alias.0])
        .run();
    out.code(0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("judge: warning: --emit-alert-rules is deprecated: use canary-rules"),
        "{}",
        out.stderr
    );
    let direct = TempDir::new("rules-direct");
    emit(&direct, &[]);
    for f in FILES {
        assert_eq!(
            std::fs::read_to_string(alias.path(f)).expect(f),
            std::fs::read_to_string(direct.path(f)).expect(f),
            "{f}"
        );
    }
    let help = cmd("judge").args(["--help"]).run();
    assert!(
        !help.stdout.contains("emit-alert-rules"),
        "hidden from --help"
    );
}

/// The runbook §3.2 `for:`s are what judge's default rules sustain: both
/// read them from the one signal table.
#[test]
fn rule_for_durations_match_the_default_judge_rules() {
    use canary_core::signals::SignalId;
    let specs = judge::rules::merged_specs(None).expect("defaults");
    let rules = judge::rules::compile(&specs, canary_core::Phase::B).expect("compiles");
    let for_of = |name: &str| {
        rules
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.for_)
            .expect(name)
    };
    let alerting = |id: SignalId| id.signal().alerting.expect("alerts");
    // The promotion criteria "below WARN sustained" are not the WARN
    // alerts: any evaluation at or above WARN in the window holds
    // promotion, so they have no `for` (docs/judge.md).
    assert_eq!(for_of("order-error-rate-warn"), Duration::ZERO);
    assert_eq!(for_of("broker-latency-warn"), Duration::ZERO);
    let err = alerting(SignalId::OrderErrorRate);
    let retry = alerting(SignalId::OrderRetryRate);
    let latency = alerting(SignalId::BrokerLatencyP95);
    let guard = alerting(SignalId::GuardTrips);
    assert_eq!(for_of("order-error-rate-crit"), err.crit_for);
    assert_eq!(for_of("order-retry-rate-warn"), retry.warn_for);
    assert_eq!(for_of("order-retry-rate-crit"), retry.crit_for);
    assert_eq!(for_of("broker-latency-crit"), latency.crit_for);
    assert_eq!(for_of("guard-trips-warn"), guard.warn_for);
    assert_eq!(for_of("guard-trips-pause"), guard.crit_for);
    // And the generated alerts say the same.
    let yaml = canary_rules::rules_yaml(&canary_rules::Options::default());
    for (name, d) in [
        ("CanaryOrderErrorRateCrit", err.crit_for),
        ("CanaryOrderRetryRateWarn", retry.warn_for),
        ("CanaryBrokerLatencyCrit", latency.crit_for),
    ] {
        let at = yaml.find(&format!("alert: {name}\n")).expect(name);
        let for_line = yaml[at..]
            .lines()
            .find(|l| l.trim_start().starts_with("for:"))
            .expect("for");
        assert_eq!(
            for_line.trim(),
            format!("for: {}", canary_core::signals::for_text(d)),
            "{name}"
        );
    }
}

// ---- examples/prometheus ------------------------------------------------------

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/prometheus")
}

#[test]
fn the_rules_in_examples_are_what_canary_rules_generates() {
    let dir = TempDir::new("rules-examples");
    emit(&dir, &[]);
    for file in FILES {
        let fresh = std::fs::read_to_string(dir.path(file)).expect("generated");
        let kept = std::fs::read_to_string(examples().join(file)).expect("example");
        assert_eq!(
            kept, fresh,
            "examples/prometheus/{file} drifted: regenerate with canary-rules examples/prometheus"
        );
    }
}

/// The example configuration loads the generated rules and names its bot
/// job as the rules' default `--job` does, so CanaryBotDown watches it.
#[test]
fn the_example_config_scrapes_the_job_the_rules_watch() {
    let config = std::fs::read_to_string(examples().join("prometheus.yml")).expect("config");
    assert!(config.contains(&format!("job_name: {}\n", canary_rules::DEFAULT_JOB)));
    assert!(config.contains(&format!("  - {}\n", canary_rules::RULES_FILE)));
}

#[test]
fn promtool_accepts_the_example_config_rules_and_tests() {
    let dir = examples();
    promtool(&dir, &["check", "config", "prometheus.yml"]);
    check_and_test(&dir);
}

// ---- a real Prometheus ----------------------------------------------------------

struct Prometheus {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prometheus scraping `targets` as job `bot` every second, evaluating the
/// rule files in `rules` every second.
fn prometheus(targets: &[String], rules: &Path) -> Prometheus {
    let dir = TempDir::new("rules-prom");
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - '{}/*.yml'\nscrape_configs:\n  - job_name: bot\n    metrics_path: /metrics\n    static_configs:\n      - targets: [{}]\n",
        rules.display(),
        list.join(", ")
    );
    std::fs::write(dir.path("prometheus.yml"), config).expect("config");
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!(
            "--config.file={}",
            dir.path("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting prometheus (installed by scripts/test)");
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

fn get_json(url: &str) -> Value {
    let resp = canary_core::http::get(url, &Default::default()).expect("prometheus answers");
    assert_eq!(resp.status, 200, "{url}: {}", resp.snippet(300));
    serde_json::from_slice(&resp.body).expect("JSON")
}

/// Active (pending or firing) alerts: (name, instance label, state).
fn active_alerts(prom: &Prometheus) -> Vec<(String, String, String)> {
    let v = get_json(&format!("{}/api/v1/alerts", prom.url));
    v["data"]["alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
            (
                s(&a["labels"]["alertname"]),
                s(&a["labels"]["instance"]),
                s(&a["state"]),
            )
        })
        .collect()
}

/// The value of an instant query's sample for `instance` (or its only one).
fn instant(prom: &Prometheus, query: &str, instance: Option<&str>) -> Option<f64> {
    let url = format!(
        "{}/api/v1/query?query={}",
        prom.url,
        query
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"_.-:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            })
            .collect::<String>()
    );
    let v = get_json(&url);
    v["data"]["result"]
        .as_array()?
        .iter()
        .find(|r| instance.is_none_or(|i| r["metric"]["instance"] == i))
        .and_then(|r| r["value"][1].as_str())
        .and_then(|s| s.parse().ok())
}

fn poll<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_real_prometheus_fires_the_runbook_rule_on_healthy_traffic_and_ours_only_on_a_regression() {
    // A healthy bot: broker calls of 60-180 ms (true p95 about 175 ms, under
    // 250 ms by its buckets), exported double-cumulated. The regressed one
    // (1.5-4.5 s) starts later on a port Prometheus already scrapes, so that
    // at first the healthy bot's traffic is all there is.
    let healthy = Sim::with_args(&[
        "--scenario",
        "live",
        "--order-rate",
        "20",
        "--latency-ms",
        "120",
    ]);
    let slow_port = free_port();
    let h = healthy.instance();
    let s = format!("127.0.0.1:{slow_port}");
    let rules = TempDir::new("rules-e2e");
    emit(
        &rules,
        &["--for", "0s", "--runbook-verbatim", "--job", "bot"],
    );
    let prom = prometheus(&[h.clone(), s.clone()], &rules.0);

    // A target that cannot be scraped pages on its own.
    poll("CanaryBotDown for the bot not yet started", 60, || {
        active_alerts(&prom)
            .into_iter()
            .find(|a| a.0 == "CanaryBotDown" && a.1 == s)
    });
    // The runbook's verbatim p95 over the healthy bot's buckets reads
    // seconds: its CRIT rule goes pending or firing.
    let verbatim = poll("the runbook's verbatim p95", 60, || {
        instant(&prom, canary_rules::signals::RUNBOOK_LATENCY, None).filter(|v| v.is_finite())
    });
    assert!(
        verbatim >= 3000.0,
        "the runbook's p95 of the healthy bot: {verbatim} ms"
    );
    poll("RunbookBrokerLatencyCrit", 60, || {
        active_alerts(&prom)
            .into_iter()
            .find(|a| a.0 == "RunbookBrokerLatencyCrit")
    });
    // The repaired p95 of the same traffic is the true one, far under WARN.
    let repaired = poll("the repaired p95 of the healthy bot", 60, || {
        instant(&prom, "canary:broker_submit_latency_p95:ms", Some(&h)).filter(|v| v.is_finite())
    });
    assert!(
        (150.0..=250.0).contains(&repaired),
        "repaired p95 {repaired} ms (true about 175, interpolated about 239)"
    );
    let active = active_alerts(&prom);
    assert!(
        !active
            .iter()
            .any(|a| a.0.starts_with("CanaryBrokerLatency")),
        "a repaired latency alert on healthy traffic: {active:?}"
    );
    // scrape-metrics' own repair of the same samples agrees (both
    // interpolate over the same true buckets; rate windows differ by a
    // second or two at the edges).
    let theirs = cmd("scrape-metrics")
        .args(["--prometheus", &prom.url, "--instance", &h])
        .run();
    let p95 = theirs
        .records()
        .into_iter()
        .find(|r| r.name == "metrics.broker_latency_p95")
        .unwrap_or_else(|| panic!("no p95 from scrape-metrics: {}", theirs.stdout));
    let theirs = p95.value.as_f64().expect("a p95 value");
    assert!(
        (theirs - repaired).abs() <= 0.10 * theirs,
        "scrape-metrics {theirs} ms vs the recorded {repaired} ms"
    );

    // The regression fires the repaired CRIT, for the slow bot only.
    let _slow = Sim::on_port(
        slow_port,
        &[
            "--scenario",
            "live",
            "--order-rate",
            "20",
            "--latency-ms",
            "3000",
            "--seed",
            "7",
        ],
    );
    let fired = poll("CanaryBrokerLatencyCrit for the slow bot", 60, || {
        active_alerts(&prom)
            .into_iter()
            .find(|a| a.0 == "CanaryBrokerLatencyCrit" && a.1 == s)
    });
    assert!(fired.2 == "pending" || fired.2 == "firing", "{fired:?}");
    let slow_p95 =
        instant(&prom, "canary:broker_submit_latency_p95:ms", Some(&s)).expect("slow p95");
    assert!(slow_p95 >= 3000.0, "slow p95 {slow_p95}");
    let active = active_alerts(&prom);
    assert!(
        !active
            .iter()
            .any(|a| a.0.starts_with("CanaryBrokerLatency") && a.1 == h),
        "a repaired latency alert on the healthy bot: {active:?}"
    );
    assert!(
        !active
            .iter()
            .any(|a| a.0 == "CanaryLatencyBucketsUnrepaired"),
        "every bucket repaired: {active:?}"
    );
}

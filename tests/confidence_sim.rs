//! The seeded simulation of docs/benchmarks.md ("Confidence"): thousands of
//! Phase B windows of bots with known true error rates and latencies, each
//! rendered as the producers' records round by round (probe-health's rows
//! from a recorded round, scrape-metrics' order counter and 5 m signals
//! from simulated orders), judged by the real judge binary, once as the
//! runbook reads them literally (`--confidence 0` on both sides) and once
//! at the default confidence. It counts:
//!
//! - false promotes: promoted while the true error rate is at least WARN
//!   (5 %) or the true p95 at least WARN (1000 ms);
//! - false alarms: rollback on a bot whose true rates are below WARN.
//!
//! CONFIDENCE_SIM_SEED (default 12) and CONFIDENCE_SIM_WINDOWS (windows per
//! order count and policy, default 120) choose the run; scripts/confidence-sim
//! runs it large and prints the table for docs/benchmarks.md.

use canary_core::stats::{self, Confidence, binomial};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// The rounds of a window: every 5 minutes (scrape-metrics' 5 m window is
/// one round's orders) for an hour and 5 minutes, so the 1 h evidence floor
/// never decides (both policies see the same).
const ROUNDS: i64 = 14;
/// Minutes between rounds.
const ROUND_MIN: i64 = 5;
/// Bots judged by one judge process (judge keeps at most 64).
const PER_PROCESS: usize = 60;
/// The bot's histogram bounds in seconds (the default buckets), +Inf last.
const BUCKETS: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];
/// True error rates and p95s drawn per window: healthy and not.
const TRUE_ERRORS: [f64; 10] = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.10, 0.15, 0.25];
const TRUE_P95_MS: [f64; 5] = [300.0, 600.0, 850.0, 1200.0, 2000.0];
/// The window sizes compared: `--min-orders`, and about as many orders.
const ORDER_COUNTS: [u64; 3] = [10, 50, 200];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    /// A standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// One window's truth and its simulated minutes.
struct Window {
    true_error: f64,
    true_p95_ms: f64,
    /// Per round: orders, failed, and successful latencies bucketed.
    minutes: Vec<(u64, u64, [u64; 12])>,
}

impl Window {
    fn bad(&self) -> bool {
        self.true_error >= 0.05 || self.true_p95_ms >= 1000.0
    }

    fn simulate(rng: &mut Rng, orders: u64) -> Window {
        let true_error = rng.pick(&TRUE_ERRORS);
        let true_p95_ms = rng.pick(&TRUE_P95_MS);
        // Lognormal latency, sigma 0.5, with the chosen p95.
        let sigma = 0.5;
        let mu = (true_p95_ms / 1000.0).ln() - 1.644_853_6 * sigma;
        // A quarter more than the window needs, so most complete by orders.
        let per_round = 1.25 * orders as f64 / (ROUNDS - 1) as f64;
        let mut minutes = Vec::new();
        for _ in 0..ROUNDS {
            // Orders arrive as a Bernoulli stream of 100 slots a round.
            let mut n = 0;
            for _ in 0..100 {
                if rng.unit() < per_round / 100.0 {
                    n += 1;
                }
            }
            let mut failed = 0;
            let mut buckets = [0u64; 12];
            for _ in 0..n {
                if rng.unit() < true_error {
                    failed += 1;
                } else {
                    let s = (mu + sigma * rng.normal()).exp();
                    let i = BUCKETS.iter().position(|b| s <= *b).unwrap_or(11);
                    buckets[i] += 1;
                }
            }
            minutes.push((n, failed, buckets));
        }
        Window {
            true_error,
            true_p95_ms,
            minutes,
        }
    }
}

/// `histogram_quantile(q)` over per-bucket counts: the bucket and the
/// linear interpolation inside it, in seconds.
fn quantile(q: f64, counts: &[u64; 12]) -> Option<(f64, f64, f64)> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut cum = 0u64;
    for (i, c) in counts.iter().enumerate() {
        let before = cum;
        cum += c;
        if cum as f64 >= rank {
            let lo = if i == 0 { 0.0 } else { BUCKETS[i - 1] };
            if i == 11 {
                return Some((BUCKETS[10], BUCKETS[10], f64::INFINITY));
            }
            let v = lo + (BUCKETS[i] - lo) * ((rank - before as f64) / *c as f64);
            return Some((v, lo, BUCKETS[i]));
        }
    }
    None
}

/// The time of round `round`, plus `second`.
fn ts(round: i64, second: i64) -> String {
    jiff::Timestamp::from_second(1_795_651_200 + round * ROUND_MIN * 60 + second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The records of one round of probe-health from the recorded fixture.
fn health_round() -> Vec<Value> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/judge/b-promote.ndjson"),
    )
    .expect("fixture");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["ts"] == "2026-11-26T00:00:00Z" || v["ts"] == "2026-11-26T00:00:15Z")
        .filter(|v| {
            !matches!(
                v["name"].as_str(),
                Some(
                    "metrics.orders"
                        | "metrics.order_error_rate"
                        | "metrics.order_retry_rate"
                        | "metrics.broker_latency_p95"
                )
            )
        })
        .collect()
}

fn level(v: f64, warn: f64, crit: f64) -> &'static str {
    if v >= crit {
        "crit"
    } else if v >= warn {
        "warn"
    } else {
        "ok"
    }
}

/// One window as scrape-metrics (at `c`) and probe-health would write it.
fn render(w: &Window, bot: &str, c: Confidence, template: &[Value], out: &mut String) {
    let metrics = format!("http://{bot}/metrics");
    let health = format!("http://{bot}");
    let (mut orders, mut failed) = (100u64, 0u64);
    for m in 0..ROUNDS {
        for r in template {
            let mut r = r.clone();
            let second = if r["tool"] == "scrape-metrics" { 15 } else { 0 };
            r["ts"] = json!(ts(m, second));
            r["target"] = json!(if second == 15 { &metrics } else { &health });
            out.push_str(&r.to_string());
            out.push('\n');
        }
        let (n, f, _) = w.minutes[m as usize];
        orders += n;
        failed += f;
        let at = ts(m, 15);
        let sample = json!({"v": 1, "ts": at, "tool": "scrape-metrics", "target": metrics,
            "kind": "sample", "name": "metrics.orders", "level": "ok", "value": orders,
            "msg": "orders", "by_result": {"success": orders - failed, "failed": failed}});
        out.push_str(&format!("{sample}\n"));
        // The 5 m window: this round's orders.
        let span = &w.minutes[m as usize..=m as usize];
        let n5: u64 = span.iter().map(|x| x.0).sum();
        let f5: u64 = span.iter().map(|x| x.1).sum();
        let mut b5 = [0u64; 12];
        for x in span {
            for (i, c) in x.2.iter().enumerate() {
                b5[i] += c;
            }
        }
        let signal = |name: &str, lv: &str, value: Value, extra: Value| {
            let mut r = json!({"v": 1, "ts": at, "tool": "scrape-metrics", "target": metrics,
                "kind": "signal", "name": name, "level": lv, "value": value, "msg": name,
                "window": "5m"});
            if let (Some(o), Some(e)) = (r.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            format!("{r}\n")
        };
        match binomial::interval(f5, n5, c) {
            Some(i) => {
                let v = f5 as f64 / n5 as f64;
                let proven = if i.alarms(0.15) {
                    "crit"
                } else if i.alarms(0.05) {
                    "warn"
                } else {
                    "ok"
                };
                out.push_str(&signal(
                    "metrics.order_error_rate",
                    level(v, 0.05, 0.15),
                    json!(v),
                    json!({"numerator": f5, "denominator": n5, "proven_level": proven,
                        "thresholds": {"warn": 0.05, "crit": 0.15}}),
                ));
                out.push_str(&signal(
                    "metrics.order_retry_rate",
                    "ok",
                    json!(0.0),
                    json!({"numerator": 0, "denominator": n5, "proven_level": "ok",
                        "thresholds": {"warn": 0.1, "crit": 0.25}}),
                ));
            }
            None => {
                for name in ["metrics.order_error_rate", "metrics.order_retry_rate"] {
                    out.push_str(&signal(name, "unknown", Value::Null, json!({})));
                }
            }
        }
        match quantile(0.95, &b5) {
            Some((v, lo, hi)) => {
                let (v, lo, hi) = (v * 1000.0, lo * 1000.0, hi * 1000.0);
                let obs: u64 = b5.iter().sum();
                let enough = obs >= stats::MIN_ALARM_TRIALS || c.is_literal();
                let alarms = |t: f64| lo >= t || (v >= t && enough);
                let proven = if alarms(3000.0) {
                    "crit"
                } else if alarms(1000.0) {
                    "warn"
                } else {
                    "ok"
                };
                let upper = if hi.is_finite() {
                    json!(hi)
                } else {
                    Value::Null
                };
                out.push_str(&signal(
                    "metrics.broker_latency_p95",
                    level(v, 1000.0, 3000.0),
                    json!(v),
                    json!({"bucket_ms": {"lower": lo, "upper": upper}, "observations": obs,
                        "proven_level": proven, "thresholds": {"warn": 1000.0, "crit": 3000.0}}),
                ));
            }
            None => out.push_str(&signal(
                "metrics.broker_latency_p95",
                "unknown",
                Value::Null,
                json!({}),
            )),
        }
    }
}

/// judge's per-bot decisions for one batch.
fn judge(stream: &str, min_orders: u64, c: Confidence) -> BTreeMap<String, String> {
    let mut child = Command::new(crate::util::bin("judge"))
        .args([
            "--phase",
            "b",
            "--probe-interval",
            "5m",
            "--at",
            &ts(ROUNDS - 1, 30),
        ])
        .args(["--min-orders", &min_orders.to_string()])
        .args(["--confidence", &c.get().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("judge runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = stream.to_owned();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("judge output");
    let _ = writer.join();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["scope"] == "target")
        .filter_map(|v| {
            Some((
                v["target"].as_str()?.to_owned(),
                v["decision"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Counts of one (order count, policy) cell.
#[derive(Default, Debug, Clone, Copy)]
struct Cell {
    bad: u64,
    promoted_bad: u64,
    /// Bad by the error rate alone (true p95 below WARN).
    bad_errors: u64,
    promoted_bad_errors: u64,
    healthy: u64,
    alarmed_healthy: u64,
    promoted_healthy: u64,
}

impl Cell {
    fn false_promote(&self) -> f64 {
        self.promoted_bad as f64 / self.bad.max(1) as f64
    }
    fn false_promote_errors(&self) -> f64 {
        self.promoted_bad_errors as f64 / self.bad_errors.max(1) as f64
    }
    fn false_alarm(&self) -> f64 {
        self.alarmed_healthy as f64 / self.healthy.max(1) as f64
    }
    fn promote_healthy(&self) -> f64 {
        self.promoted_healthy as f64 / self.healthy.max(1) as f64
    }
}

fn run(seed: u64, per_cell: usize) -> BTreeMap<(u64, bool), Cell> {
    let template = health_round();
    let mut cells = BTreeMap::new();
    for &n in &ORDER_COUNTS {
        // The same windows for both policies.
        let mut rng = Rng(seed ^ n.wrapping_mul(0x9E37_79B9));
        let windows: Vec<Window> = (0..per_cell)
            .map(|_| Window::simulate(&mut rng, n))
            .collect();
        for literal in [true, false] {
            let c = if literal {
                Confidence::new(0.0).expect("0")
            } else {
                Confidence::default()
            };
            let mut cell = Cell::default();
            for (b, batch) in windows.chunks(PER_PROCESS).enumerate() {
                let mut stream = String::new();
                let bots: Vec<String> = (0..batch.len())
                    .map(|i| format!("10.{}.{}.{}:8080", b / 250, b % 250, i + 1))
                    .collect();
                for (w, bot) in batch.iter().zip(&bots) {
                    render(w, bot, c, &template, &mut stream);
                }
                let said = judge(&stream, n, c);
                for (w, bot) in batch.iter().zip(&bots) {
                    let d = said.get(bot).map(String::as_str).unwrap_or("none");
                    assert_ne!(d, "none", "no verdict for {bot}");
                    if w.bad() {
                        cell.bad += 1;
                        cell.promoted_bad += u64::from(d == "promote");
                        if w.true_p95_ms < 1000.0 {
                            cell.bad_errors += 1;
                            cell.promoted_bad_errors += u64::from(d == "promote");
                        }
                    } else {
                        cell.healthy += 1;
                        cell.alarmed_healthy += u64::from(matches!(d, "rollback" | "stop"));
                        cell.promoted_healthy += u64::from(d == "promote");
                    }
                }
            }
            cells.insert((n, literal), cell);
        }
    }
    cells
}

#[test]
fn the_confidence_policy_promotes_bad_canaries_rarely_and_alarms_on_healthy_ones_rarely() {
    let seed = env_u64("CONFIDENCE_SIM_SEED", 12);
    let per_cell = env_u64("CONFIDENCE_SIM_WINDOWS", 120) as usize;
    let started = std::time::Instant::now();
    let cells = run(seed, per_cell);
    eprintln!(
        "confidence sim: seed {seed}, {per_cell} windows per cell, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "| orders | policy | bad windows | false promote | bad by error rate alone | \
         false promote | healthy windows | false alarm | healthy promoted |"
    );
    eprintln!("|---|---|---|---|---|---|---|---|---|");
    for ((n, literal), c) in &cells {
        eprintln!(
            "| {n} | {} | {} | {:.1} % | {} | {:.1} % | {} | {:.1} % | {:.1} % |",
            if *literal { "literal" } else { "95 %" },
            c.bad,
            c.false_promote() * 100.0,
            c.bad_errors,
            c.false_promote_errors() * 100.0,
            c.healthy,
            c.false_alarm() * 100.0,
            c.promote_healthy() * 100.0
        );
    }
    for ((n, literal), c) in &cells {
        if !literal {
            assert!(c.false_promote() <= 0.05, "{n} orders at 95 %: {c:?}");
            assert!(c.false_alarm() <= 0.01, "{n} orders at 95 %: {c:?}");
        }
    }
    // The runbook read literally promotes more canaries whose error rate
    // is bad at 10 orders than the confidence policy does (none).
    let (lit10, conf10) = (cells[&(10, true)], cells[&(10, false)]);
    assert!(
        lit10.promoted_bad_errors > conf10.promoted_bad_errors,
        "at 10 orders: literal {lit10:?}, 95 % {conf10:?}"
    );
    // Not a gate that never promotes: healthy bots with 200 orders do.
    let conf200 = cells[&(200, false)];
    assert!(conf200.promote_healthy() >= 0.2, "{conf200:?}");
}

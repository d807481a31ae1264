//! scrape-metrics' windowed mode on a large fleet gives the records a small
//! input does: the window's series are matched by identity however many
//! there are (a federation endpoint over a fleet of bots), and the rules
//! that tell a restart from an inconsistent dip name the same series.
//!
//! The oracle is arithmetic the test does itself, and the one-bot body run
//! through the same binary: bot `m` of the fleet counts `m` times what the
//! one bot counts, so every ratio and quantile of the fleet equals the one
//! bot's, and every sum is the one bot's times 1 + 2 + ... + N.

use crate::util::{Output, TempDir, cmd};
use canary_core::Record;
use std::fmt::Write as _;

/// Bots in the large fleet: 24 series each, ~29k series, ~3 MB.
const BOTS: u64 = 1200;
const RESULTS: [(&str, &str, u64, u64); 3] = [
    // result, reason, count at the first scrape, added by the second
    ("success", "none", 1000, 50),
    ("failed", "timeout", 10, 3),
    ("rejected", "broker_rejected", 5, 1),
];
/// Cumulative submit-latency buckets (0.1, 0.5, 1, +Inf) at the first
/// scrape, and what the second adds.
const BUCKETS: [(&str, u64, u64); 4] = [
    ("0.1", 300, 120),
    ("0.5", 900, 300),
    ("1.0", 1140, 360),
    ("+Inf", 1200, 400),
];

fn instance(bot: u64) -> String {
    format!("10.{}.{}:9090", bot / 250, bot % 250)
}

/// The exposition of bots `1..=bots` at scrape `round` (0 or 1). `dip`
/// takes one from one bot's first order series; `reset` has every bot
/// start again from small counts, as a restart of the whole fleet would.
fn body(bots: u64, round: u64, dip: Option<u64>, reset: bool) -> String {
    let mut out = String::from("# TYPE gpt_trader_order_submission_total counter\n");
    for m in 1..=bots {
        let inst = instance(m);
        for (i, (result, reason, at0, add)) in RESULTS.iter().enumerate() {
            for side in ["buy", "sell"] {
                for symbol in ["BTC", "ETH", "SOL"] {
                    let mut v = m * (at0 + round * add);
                    if reset {
                        v = round + i as u64;
                    }
                    if dip == Some(m) && i == 0 && side == "buy" && symbol == "BTC" {
                        v = m * at0 - 1;
                    }
                    writeln!(
                        out,
                        "gpt_trader_order_submission_total{{instance=\"{inst}\",reason=\"{reason}\",result=\"{result}\",side=\"{side}\",symbol=\"{symbol}\"}} {v}"
                    )
                    .expect("write");
                }
            }
        }
    }
    out.push_str("# TYPE gpt_trader_broker_call_latency_seconds histogram\n");
    for m in 1..=bots {
        let lab = format!(
            "instance=\"{}\",operation=\"submit\",outcome=\"success\",reason=\"none\"",
            instance(m)
        );
        let name = "gpt_trader_broker_call_latency_seconds";
        let count = |at0: u64, add: u64| {
            if reset {
                round + 1
            } else {
                m * (at0 + round * add)
            }
        };
        for (le, at0, add) in BUCKETS {
            writeln!(
                out,
                "{name}_bucket{{{lab},le=\"{le}\"}} {}",
                count(at0, add)
            )
            .expect("write");
        }
        let (_, at0, add) = BUCKETS[3];
        writeln!(out, "{name}_sum{{{lab}}} {}", count(at0, add) / 4).expect("write");
        writeln!(out, "{name}_count{{{lab}}} {}", count(at0, add)).expect("write");
    }
    out
}

/// Two scrapes through one state file; the second run's output.
fn two_runs(tag: &str, first: &str, second: &str) -> Output {
    let dir = TempDir::new(tag);
    let file = dir.path("m.txt");
    let state = dir.path("state");
    let run = |text: &str| {
        std::fs::write(&file, text).expect("write body");
        cmd("scrape-metrics")
            .args([
                "--file",
                &file.to_string_lossy(),
                "--state",
                &state.to_string_lossy(),
            ])
            .run()
    };
    run(first);
    // The second scrape must be a later millisecond than the first.
    std::thread::sleep(std::time::Duration::from_millis(5));
    run(second)
}

fn field(rec: &Record, name: &str) -> serde_json::Value {
    rec.extra.get(name).cloned().unwrap_or_default()
}

const SIGNALS: [&str; 3] = [
    "metrics.order_error_rate",
    "metrics.order_retry_rate",
    "metrics.broker_latency_p95",
];

#[test]
fn a_large_fleet_window_reads_as_one_bot_scaled() {
    let one = two_runs("scale1", &body(1, 0, None, false), &body(1, 1, None, false));
    let fleet = two_runs(
        "scalen",
        &body(BOTS, 0, None, false),
        &body(BOTS, 1, None, false),
    );
    let scale = (BOTS * (BOTS + 1) / 2) as f64;
    // What the one bot added in the window: 6 series per result.
    let total: u64 = RESULTS.iter().map(|r| r.3 * 6).sum();
    let failed: u64 = RESULTS[1..].iter().map(|r| r.3 * 6).sum();
    let calls = BUCKETS[3].2;
    for name in SIGNALS {
        let (a, b) = (one.record(name), fleet.record(name));
        assert_eq!(a.level, b.level, "{name}: {} vs {}", a.msg, b.msg);
        assert_eq!(a.value, b.value, "{name}: {} vs {}", a.msg, b.msg);
        assert!(a.value.is_number(), "{name} has no value: {}", a.msg);
        assert_eq!(field(&b, "scrapes"), 2, "{name}");
    }
    let err = fleet.record("metrics.order_error_rate");
    let want = failed as f64 / total as f64;
    assert!(err.value.as_f64().is_some_and(|v| (v - want).abs() < 1e-9));
    assert_eq!(
        field(&err, "denominator").as_f64(),
        Some(total as f64 * scale)
    );
    assert_eq!(
        field(&err, "numerator").as_f64(),
        Some(failed as f64 * scale)
    );
    let retry = fleet.record("metrics.order_retry_rate");
    let want = (calls as f64 - total as f64) / total as f64;
    assert!(
        retry
            .value
            .as_f64()
            .is_some_and(|v| (v - want).abs() < 1e-9)
    );
    let p95 = fleet.record("metrics.broker_latency_p95");
    assert_eq!(field(&p95, "samples").as_f64(), Some(calls as f64 * scale));
}

#[test]
fn one_dip_in_a_large_fleet_is_inconsistent_and_names_the_series() {
    let k = BOTS / 2 + 7;
    let out = two_runs(
        "scaledip",
        &body(BOTS, 0, None, false),
        &body(BOTS, 1, Some(k), false),
    );
    // Every counter counted: 18 order series and one histogram count per bot.
    let kept = BOTS * 19 - 1;
    let at0 = RESULTS[0].2;
    let dipped = format!(
        "gpt_trader_order_submission_total{{instance=\"{}\",reason=\"none\",result=\"success\",side=\"buy\",symbol=\"BTC\"}} went {} -> {} while {kept} other counter(s) held or climbed (e.g. gpt_trader_broker_call_latency_seconds_count{{instance=\"{}\",",
        instance(k),
        k * at0,
        k * at0 - 1,
        // The first kept series in name order: "10.0.100:9090" sorts
        // before "10.0.10:9090" and "10.0.1:9090".
        instance(100),
    );
    for name in SIGNALS {
        let rec = out.record(name);
        assert_eq!(
            rec.level,
            canary_core::Level::Unknown,
            "{name}: {}",
            rec.msg
        );
        assert!(
            rec.msg.contains(&dipped),
            "{name}: {}\nwant: {dipped}",
            rec.msg
        );
        assert!(rec.value.is_null());
    }
}

#[test]
fn a_whole_large_fleet_resetting_is_a_restart_not_an_inconsistency() {
    let out = two_runs(
        "scalereset",
        &body(BOTS, 0, None, false),
        &body(BOTS, 0, None, true),
    );
    for name in SIGNALS {
        let rec = out.record(name);
        assert_eq!(field(&rec, "restarted"), true, "{name}: {}", rec.msg);
        assert!(!rec.msg.contains("inconsistent"), "{name}: {}", rec.msg);
        assert_eq!(
            rec.level,
            canary_core::Level::Unknown,
            "{name}: {}",
            rec.msg
        );
    }
}

//! scripts/canary-gate: the cron gate, run for real against the simulator.

use crate::util::{Sim, TempDir, bin_dir};
use canary_core::Record;
use std::path::Path;
use std::process::{Command, Output};

fn gate(dir: &Path, sim: &Sim, extra: &[&str]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-gate");
    let mut c = Command::new("bash");
    c.arg(script)
        .args([
            "--phase",
            "a",
            "--url",
            &sim.url,
            "--dir",
            &dir.to_string_lossy(),
            "--no-config",
        ])
        .args(extra)
        .env("CANARY_KIT_BIN", bin_dir())
        .env_remove("CANARY_GATE_DIR");
    c
}

fn log_records(dir: &Path) -> Vec<Record> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir.join("logs"))
        .expect("logs dir")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("canary-") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("log");
        for line in text.lines() {
            out.push(
                serde_json::from_str::<Record>(line)
                    .unwrap_or_else(|e| panic!("corrupt log line ({e}): {line}")),
            );
        }
    }
    out
}

fn ok(out: &Output) -> String {
    assert!(out.status.code().is_some(), "killed: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_runs_compute_windowed_rates_through_the_state_file() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate");
    let first = gate(&dir.0, &sim, &[]).output().expect("run");
    let verdict = ok(&first);
    assert!(
        verdict.contains("\"name\":\"judge.verdict\""),
        "{verdict}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = gate(&dir.0, &sim, &[]).output().expect("run");
    ok(&second);
    let windows: Vec<String> = log_records(&dir.0)
        .into_iter()
        .filter(|r| r.name == "metrics.order_error_rate")
        .map(|r| r.extra["window"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        windows,
        ["lifetime", "5m"],
        "the second run is windowed across runs"
    );
    assert!(dir.0.join("state/metrics.state").exists());
    let verdicts = std::fs::read_dir(dir.0.join("logs"))
        .expect("logs")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("verdicts-"))
        .count();
    assert_eq!(
        verdicts, 1,
        "verdicts are kept beside the evidence, not in it"
    );
}

#[test]
fn overlapping_runs_do_not_corrupt_the_log() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-overlap");
    let children: Vec<_> = (0..3)
        .map(|_| {
            gate(&dir.0, &sim, &[])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().expect("wait").code().is_some());
    }
    let records = log_records(&dir.0);
    // Three whole runs, one after another: the producers' blocks never
    // interleave (probe-health's records, then scrape-metrics', three times).
    let mut blocks: Vec<&str> = Vec::new();
    for r in &records {
        if blocks.last() != Some(&r.tool.as_str()) {
            blocks.push(&r.tool);
        }
    }
    assert_eq!(blocks, ["probe-health", "scrape-metrics"].repeat(3));
    assert_eq!(
        records.iter().filter(|r| r.name == "health.status").count(),
        3
    );
    // The state file's read-modify-write is serialised too: no scrape lost.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.0.join("state/metrics.state")).expect("state"),
    )
    .expect("json");
    assert_eq!(state["snapshots"].as_array().map(Vec::len), Some(3));
}

#[test]
fn a_run_that_cannot_get_the_lock_says_so() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-lock");
    std::fs::create_dir_all(dir.0.join("state")).expect("state dir");
    let lock = dir.0.join("state/canary-gate.lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "5"])
        .spawn()
        .expect("flock");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let out = gate(&dir.0, &sim, &["--lock-wait", "0"])
        .output()
        .expect("run");
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("canary-gate: error: another canary-gate run holds"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_usage_is_exit_2() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-usage");
    let out = gate(&dir.0, &sim, &["--frobnicate"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument '--frobnicate'"));
}

fn health_check(sim: &Sim, phase: &str) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-health-check");
    let out = Command::new("bash")
        .arg(script)
        .args(["--url", &sim.url, "--phase", phase])
        .env("CANARY_KIT_BIN", bin_dir())
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_health_check_script_replaces_runbook_2_2() {
    let (code, text) = health_check(&Sim::start("healthy-a"), "a");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.ends_with("=== All health checks passed ===\n"),
        "{text}"
    );
    // The runbook's script calls this "WebSocket healthy"; it is not known.
    let (code, text) = health_check(&Sim::start("ws-not-initialized"), "b");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("UNKNOWN health.websocket.connected") && text.contains("CANNOT TELL"),
        "{text}"
    );
    let (code, text) = health_check(&Sim::start("real-canary"), "a");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("CRIT    health.status") && text.contains("NO-GO"),
        "{text}"
    );
    assert!(
        !text.contains("ok      health.broker"),
        "only rows that are not ok are listed"
    );
}

#[test]
fn a_new_phase_starts_a_new_window() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "40"]);
    let dir = TempDir::new("gate-phase");
    for _ in 0..2 {
        gate(&dir.0, &sim, &[]).output().expect("phase a run");
        std::thread::sleep(std::time::Duration::from_millis(600));
    }
    let phase_a = std::fs::read_to_string(dir.0.join("state/phase")).expect("phase file");
    assert!(phase_a.starts_with("a "), "{phase_a}");
    let mut b = gate(&dir.0, &sim, &[]);
    // gate() says --phase a; the last --phase wins for this run.
    b.args(["--phase", "b"]);
    let out = b.output().expect("phase b run");
    let phase_b = std::fs::read_to_string(dir.0.join("state/phase")).expect("phase file");
    assert!(phase_b.starts_with("b "), "{phase_b}");
    let verdict: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("a verdict"),
    )
    .expect("json");
    assert_eq!(verdict["phase"], "b");
    // Phase A's orders (tens of them) are not Phase B's: one scrape in the
    // new window is its baseline.
    assert_eq!(verdict["window"]["orders"], 0, "{verdict}");
    let start = verdict["window"]["start"].as_str().expect("window start");
    assert!(
        start >= phase_b[2..].trim(),
        "window {start} starts before phase b {}",
        phase_b[2..].trim()
    );
}

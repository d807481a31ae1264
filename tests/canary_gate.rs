//! scripts/canary-gate: the cron gate, run for real against the simulator.

use crate::util::{Sim, TempDir, bin_dir};
use canary_core::Record;
use std::path::Path;
use std::process::{Command, Output};

fn gate(dir: &Path, sim: &Sim, extra: &[&str]) -> Command {
    gate_url(dir, &sim.url, extra)
}

fn gate_url(dir: &Path, url: &str, extra: &[&str]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-gate");
    let mut c = Command::new("bash");
    c.arg(script)
        .args([
            "--phase",
            "a",
            "--url",
            url,
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

/// Poll until something holds the flock on `lock` (deadline 10 s).
fn wait_until_locked(lock: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let free = Command::new("flock")
            .args(["-n"])
            .arg(lock)
            .arg("true")
            .status()
            .expect("flock")
            .success();
        if !free {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing took the lock on {}",
            lock.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
    wait_until_locked(&lock);
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

#[test]
fn the_first_run_prints_no_stray_error_and_phase_takes_upper_case() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-first");
    let mut c = gate(&dir.0, &sim, &[]);
    c.args(["--phase", "A"]);
    let out = c.output().expect("run");
    let err = stderr(&out);
    assert!(!err.contains("No such file"), "{err}");
    assert!(
        out.status.code().is_some_and(|c| c != 2) || !err.contains("--phase"),
        "{err}"
    );
    let phase = std::fs::read_to_string(dir.0.join("state/phase")).expect("phase file");
    assert!(phase.starts_with("a "), "{phase}");
    // An empty or malformed phase file (a crash mid-write) starts a new
    // window: more evidence, never less.
    std::fs::write(dir.0.join("state/phase"), "").expect("truncate");
    let out = gate(&dir.0, &sim, &[]).output().expect("run");
    assert!(
        stderr(&out).contains("empty or malformed"),
        "{}",
        stderr(&out)
    );
    let again = std::fs::read_to_string(dir.0.join("state/phase")).expect("phase file");
    assert!(
        again.starts_with("a ") && again > phase,
        "{again} after {phase}"
    );
    // A value-less flag is a usage error, not an endless loop (deadline 20 s).
    let g = gate(&dir.0, &sim, &["--since"]);
    let out = Command::new("timeout")
        .arg("20")
        .arg(g.get_program())
        .args(g.get_args())
        .env("CANARY_KIT_BIN", bin_dir())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since needs a value"));
}

#[test]
fn a_producer_that_cannot_evaluate_holds_the_run() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-producer");
    let env = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/env/phase-a.env");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-gate");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--phase", "a", "--url", &sim.url, "--dir"])
        .arg(&dir.0)
        .args(["--profile", "/nonexistent/canary.yaml", "--env-file"])
        .arg(&env)
        .args(["--rollback", "--repo", "/nonexistent"])
        .env("CANARY_KIT_BIN", bin_dir())
        .env_remove("CANARY_GATE_DIR")
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("check-profile exited 2 (could not evaluate)") && err.contains("holding"),
        "{err}"
    );
    let held: Vec<Record> = log_records(&dir.0)
        .into_iter()
        .filter(|r| r.name == "gate.producer")
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].level, canary_core::Level::Unknown);
    assert_eq!(held[0].value, "check-profile");
    assert_eq!(held[0].target, "/nonexistent/canary.yaml");
    // The verdict was not handed to rollback.
    let handed = std::fs::read_dir(dir.0.join("logs"))
        .expect("logs")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("rollback-"));
    assert!(!handed, "a held run must not reach rollback");
}

#[test]
fn a_new_release_or_reset_starts_a_new_window_after_a_rollback() {
    let dir = TempDir::new("gate-release");
    let bad = Sim::start("real-canary");
    let port = bad.port();
    let decision = |out: &Output| -> String {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let last = text
            .lines()
            .last()
            .unwrap_or_else(|| panic!("no verdict: {}", stderr(out)));
        let v: serde_json::Value = serde_json::from_str(last).expect("json");
        v["decision"].as_str().unwrap_or_default().to_owned()
    };
    let b = |extra: &[&str], sim: &Sim| {
        let mut c = gate(&dir.0, sim, extra);
        c.args(["--phase", "b"]);
        c.output().expect("run")
    };
    let out = b(&["--release", "v1"], &bad);
    assert_eq!(decision(&out), "rollback", "{}", stderr(&out));
    drop(bad);
    // The healthy release replaces the bad one on the same address.
    let good = Sim::on_port(
        port,
        &["--scenario", "healthy-b", "--live", "--order-rate", "20"],
    );
    let out = b(&["--release", "v1"], &good);
    assert_eq!(
        decision(&out),
        "rollback",
        "same release, same window: still held"
    );
    let out = b(&["--release", "v2"], &good);
    assert_ne!(decision(&out), "rollback", "{}", stderr(&out));
    assert!(
        stderr(&out).contains("release v1 -> v2"),
        "{}",
        stderr(&out)
    );
    let phase = std::fs::read_to_string(dir.0.join("state/phase")).expect("phase");
    assert!(
        phase.starts_with("b ") && phase.trim_end().ends_with(" v2"),
        "{phase}"
    );
    // The release is remembered: the next run needs no --release.
    let out = b(&[], &good);
    assert_ne!(decision(&out), "rollback");

    // --reset, without a release: the same way forward.
    let dir2 = TempDir::new("gate-reset");
    drop(good);
    let bad = Sim::on_port(port, &["--scenario", "real-canary"]);
    let mut c = gate(&dir2.0, &bad, &["--phase", "b"]);
    assert_eq!(decision(&c.output().expect("run")), "rollback");
    drop(bad);
    let good = Sim::on_port(port, &["--scenario", "healthy-b"]);
    c = gate(&dir2.0, &good, &["--phase", "b"]);
    assert_eq!(decision(&c.output().expect("run")), "rollback");
    c = gate(&dir2.0, &good, &["--phase", "b", "--reset"]);
    let out = c.output().expect("run");
    assert_ne!(decision(&out), "rollback", "{}", stderr(&out));
    assert!(stderr(&out).contains("(--reset)"));
}

#[test]
fn a_long_lived_child_of_the_gate_does_not_hold_its_lock() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-fd");
    // The real tools, but scrape-metrics first starts a process that
    // outlives the run, as a production bot started by rollback does.
    let bins = TempDir::new("gate-fd-bin");
    let pids = bins.path("pids");
    for tool in [
        "probe-health",
        "judge",
        "check-profile",
        "check-risk-env",
        "rollback",
    ] {
        std::os::unix::fs::symlink(bin_dir().join(tool), bins.path(tool)).expect("symlink");
    }
    let wrapper = format!(
        "#!/bin/sh\nsleep 30 </dev/null >/dev/null 2>&1 &\necho $! >>'{}'\nexec '{}' \"$@\"\n",
        pids.display(),
        bin_dir().join("scrape-metrics").display()
    );
    let w = bins.path("scrape-metrics");
    std::fs::write(&w, wrapper).expect("wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let run = || {
        let mut c = gate(&dir.0, &sim, &["--lock-wait", "0"]);
        c.env("CANARY_KIT_BIN", &bins.0);
        c.output().expect("run")
    };
    let first = run();
    assert!(first.status.code().is_some(), "{}", stderr(&first));
    let second = run();
    let started: Vec<String> = std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    for pid in &started {
        let _ = Command::new("kill").arg(pid).status();
    }
    assert_eq!(started.len(), 2, "the wrapper ran twice");
    let err = stderr(&second);
    assert!(!err.contains("another canary-gate run holds"), "{err}");
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("judge.verdict"),
        "{err}"
    );
}

#[test]
fn the_health_check_takes_a_or_b_in_either_case_and_nothing_else() {
    let sim = Sim::start("healthy-a");
    let (code, text) = health_check(&sim, "A");
    assert_eq!(code, Some(0), "{text}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-health-check");
    for bad in [&["--phase", "c"][..], &["--phase"][..]] {
        // Under a deadline: a value-less flag used to loop forever.
        let out = Command::new("timeout")
            .args(["20", "bash"])
            .arg(&script)
            .args(["--url", &sim.url])
            .args(bad)
            .env("CANARY_KIT_BIN", bin_dir())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            out.stdout.is_empty(),
            "a usage error is not a CANNOT TELL verdict"
        );
        assert!(stderr(&out).starts_with("canary-health-check: error: "));
    }
}

#[test]
fn a_judge_that_crashes_is_no_verdict_and_nothing_acts() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-judge-crash");
    let bins = TempDir::new("gate-judge-crash-bin");
    for tool in [
        "probe-health",
        "scrape-metrics",
        "check-profile",
        "check-risk-env",
        "rollback",
    ] {
        std::os::unix::fs::symlink(bin_dir().join(tool), bins.path(tool)).expect("symlink");
    }
    // The real judge, then a crash's exit status (a Rust panic exits 101).
    let wrapper = format!(
        "#!/bin/sh\n'{}' \"$@\"\nexit 101\n",
        bin_dir().join("judge").display()
    );
    let w = bins.path("judge");
    std::fs::write(&w, wrapper).expect("wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&w, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = gate(&dir.0, &sim, &["--rollback", "--repo", "/nonexistent"])
        .env("CANARY_KIT_BIN", &bins.0)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("judge exited 101"),
        "{}",
        stderr(&out)
    );
    let handed = std::fs::read_dir(dir.0.join("logs"))
        .expect("logs")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("rollback-"));
    assert!(!handed);
}

/// A bin dir holding the real tools, except `tool`, which runs `script`.
fn bins_with(tag: &str, tool: &str, script: &str) -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let bins = TempDir::new(tag);
    for t in [
        "probe-health",
        "scrape-metrics",
        "check-profile",
        "check-risk-env",
        "judge",
        "rollback",
    ] {
        if t == tool {
            let p = bins.path(t);
            std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).expect("script");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        } else {
            std::os::unix::fs::symlink(bin_dir().join(t), bins.path(t)).expect("symlink");
        }
    }
    bins
}

fn handed_to_rollback(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("logs"))
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("rollback-"))
        })
        .unwrap_or(false)
}

#[test]
fn a_producer_that_crashes_fails_or_writes_nothing_holds_the_run() {
    let sim = Sim::start("healthy-a");
    // The control: every real producer answers, judge's verdict goes to rollback.
    let dir = TempDir::new("gate-prod-control");
    let out = gate(&dir.0, &sim, &["--rollback", "--repo", "/nonexistent"])
        .output()
        .expect("run");
    assert!(handed_to_rollback(&dir.0), "{}", stderr(&out));
    for (tool, script, why) in [
        (
            "probe-health",
            "exit 0",
            "probe-health exited 0 without writing a record",
        ),
        (
            "scrape-metrics",
            "exit 1",
            "scrape-metrics exited 1 without writing a record",
        ),
        (
            "probe-health",
            "kill -SEGV $$",
            "probe-health killed by signal 11",
        ),
        (
            "scrape-metrics",
            "kill -KILL $$",
            "scrape-metrics killed by signal 9",
        ),
        (
            "probe-health",
            "echo 'probe-health: error: x' >&2; exit 2",
            "probe-health exited 2",
        ),
        ("scrape-metrics", "exit 101", "scrape-metrics exited 101"),
    ] {
        let dir = TempDir::new("gate-prod");
        let bins = bins_with("gate-prod-bin", tool, script);
        let out = gate(&dir.0, &sim, &["--rollback", "--repo", "/nonexistent"])
            .env("CANARY_KIT_BIN", &bins.0)
            .output()
            .expect("run");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{tool} `{script}`: {err}");
        assert!(err.contains(why) && err.contains("holding"), "{why}: {err}");
        assert!(
            !handed_to_rollback(&dir.0),
            "{tool} `{script}` reached rollback"
        );
        let held: Vec<Record> = log_records(&dir.0)
            .into_iter()
            .filter(|r| r.name == "gate.producer")
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
        assert_eq!(held[0].value, tool);
    }
}

#[test]
fn a_full_disk_for_the_log_holds_the_run_and_nothing_acts() {
    // A tiny tmpfs as the gate's directory, filled before the run. Mounting
    // needs root; elsewhere the test says so and checks nothing.
    let mnt = TempDir::new("gate-full");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt.0)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt.0);
    let sim = Sim::start("healthy-a");
    let dir = mnt.0.join("gate");
    // The gate's directories exist; the disk is full when the run starts.
    std::fs::create_dir_all(dir.join("logs")).expect("logs");
    std::fs::create_dir_all(dir.join("state")).expect("state");
    let fill = std::fs::write(mnt.0.join("fill"), vec![b'x'; 128 * 1024]);
    assert!(fill.is_err(), "the tmpfs should be full");
    let out = gate(&dir, &sim, &["--rollback", "--repo", "/nonexistent"])
        .output()
        .expect("run");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\"decision\""),
        "no verdict on a full disk: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!handed_to_rollback(&dir), "{err}");

    // Room for the run file but not for the log: free the filler, then
    // leave less than one run's records.
    let _ = std::fs::remove_file(mnt.0.join("fill"));
    let out = gate(&dir, &sim, &[]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "control: {}", stderr(&out));
    let log_size: usize = std::fs::read_dir(dir.join("logs"))
        .expect("logs")
        .flatten()
        .map(|e| e.metadata().map_or(0, |m| m.len() as usize))
        .sum();
    let free = 64 * 1024 - log_size;
    let _ = std::fs::write(mnt.0.join("fill"), vec![b'x'; free.saturating_sub(2048)]);
    let out = gate(&dir, &sim, &["--rollback", "--repo", "/nonexistent"])
        .output()
        .expect("run");
    let err = stderr(&out);
    eprintln!("second full run: {err}");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("No space left") || err.contains("cannot"),
        "{err}"
    );
    assert!(!handed_to_rollback(&dir), "{err}");
}

/// The gate's stdout lines, parsed: records only.
fn records(out: &Output) -> Vec<Record> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a record ({e}): {l}")))
        .collect()
}

fn verdict_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("logs"))
        .expect("logs")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("verdicts-"))
        .map(|e| {
            std::fs::read_to_string(e.path())
                .expect("log")
                .lines()
                .count()
        })
        .sum()
}

#[test]
fn quiet_unchanged_prints_only_a_changed_decision_or_a_non_zero_exit() {
    // Phase B: its window needs an hour of evidence, so it stays at
    // continue run after run. 20 orders a second put orders between two
    // runs a fraction of a second apart (none would be unknown evidence).
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "20"]);
    let port = sim.port();
    let dir = TempDir::new("gate-quiet");
    let quiet = |sim: &Sim, phase: &str| {
        let mut c = gate(&dir.0, sim, &["--quiet-unchanged"]);
        c.args(["--phase", phase]);
        c.output().expect("run")
    };
    // The first run of the phase is news.
    let first = quiet(&sim, "b");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let recs = records(&first);
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0].extra["decision"], "continue");
    // The same decision, exit 0: nothing on stdout or stderr, so no cron
    // mail; the verdict is still logged.
    let second = quiet(&sim, "b");
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        second.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&second.stdout)
    );
    assert!(second.stderr.is_empty(), "{}", stderr(&second));
    assert_eq!(verdict_count(&dir.0), 2);
    // Without the flag every run prints (the control).
    let mut loud = gate(&dir.0, &sim, &[]);
    loud.args(["--phase", "b"]);
    assert_eq!(records(&loud.output().expect("run")).len(), 1);
    // Each phase keeps its own last decision: a first Phase A run is news.
    // (A Phase B bot judged as Phase A is a stop: printed whatever.)
    let out = quiet(&sim, "a");
    assert_eq!(records(&out).len(), 1, "{}", stderr(&out));
    let last_b = std::fs::read_to_string(dir.0.join("state/last-b")).expect("last-b");
    assert_eq!(
        last_b.trim(),
        "continue 0",
        "Phase A did not overwrite Phase B's"
    );
    drop(sim);
    // The bot turns bad on the same address: rollback is news, and a
    // repeated rollback (exit 1) is printed every run.
    let bad = Sim::on_port(port, &["--scenario", "real-canary"]);
    for _ in 0..2 {
        let out = quiet(&bad, "b");
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let recs = records(&out);
        assert_eq!(
            recs.last().map(|r| r.extra["decision"].clone()),
            Some("rollback".into())
        );
    }
}

/// The textfile's samples, `name{labels}` to value, after promtool accepts it.
fn textfile(path: &Path) -> std::collections::BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).expect("textfile");
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (installed by scripts/test)");
    use std::io::Write;
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = check.wait_with_output().expect("promtool");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("sample");
            (k.to_owned(), v.parse().expect("value"))
        })
        .collect()
}

const GATE_METRICS: [&str; 8] = [
    "canary_gate_last_run_timestamp_seconds",
    "canary_gate_run_duration_seconds",
    "canary_gate_interval_seconds",
    "canary_gate_last_decision",
    "canary_gate_last_exit_code",
    "canary_gate_evidence_unknown_rounds",
    "canary_gate_evidence_unknown_seconds",
    "canary_gate_max_unknown_seconds",
];

#[test]
fn the_textfile_tells_the_truth_after_go_hold_and_failure_runs() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-textfile");
    let collector = TempDir::new("gate-collector");
    let tf = collector.path("canary_gate.prom");
    let tfs = tf.to_string_lossy().into_owned();
    let args = [
        "--textfile",
        &tfs,
        "--interval",
        "2m",
        "--max-unknown",
        "20m",
    ];
    let before = jiff::Timestamp::now().as_second() as f64;

    // A run that goes on: continue, exit 0.
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let m = textfile(&tf);
    let names: std::collections::BTreeSet<&str> = m
        .keys()
        .map(|k| k.split('{').next().unwrap_or(""))
        .collect();
    assert_eq!(names, GATE_METRICS.into_iter().collect());
    assert_eq!(m.len(), GATE_METRICS.len(), "one series each: {m:?}");
    assert_eq!(
        m[r#"canary_gate_last_decision{phase="a",decision="continue"}"#],
        1.0
    );
    assert_eq!(m[r#"canary_gate_last_exit_code{phase="a"}"#], 0.0);
    assert_eq!(m[r#"canary_gate_interval_seconds{phase="a"}"#], 120.0);
    assert_eq!(m[r#"canary_gate_max_unknown_seconds{phase="a"}"#], 1200.0);
    assert_eq!(m[r#"canary_gate_evidence_unknown_rounds{phase="a"}"#], 0.0);
    assert_eq!(m[r#"canary_gate_evidence_unknown_seconds{phase="a"}"#], 0.0);
    let ended = m[r#"canary_gate_last_run_timestamp_seconds{phase="a"}"#];
    let now = jiff::Timestamp::now().as_second() as f64;
    assert!(
        ended >= before && ended <= now + 1.0,
        "{ended} not in [{before}, {now}]"
    );
    let took = m[r#"canary_gate_run_duration_seconds{phase="a"}"#];
    assert!(took > 0.0 && took < 60.0, "{took}");
    // node_exporter's collector can read it; no temporary file is left.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&tf).expect("meta").permissions().mode();
    assert_eq!(mode & 0o044, 0o044, "world-readable: {mode:o}");
    let left: Vec<_> = std::fs::read_dir(&collector.0)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");

    // A held run: a producer could not evaluate; evidence is unknown.
    let bins = bins_with("gate-textfile-bin", "scrape-metrics", "exit 2");
    for round in 1..=2 {
        let out = gate(&dir.0, &sim, &args)
            .env("CANARY_KIT_BIN", &bins.0)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let m = textfile(&tf);
        assert_eq!(m[r#"canary_gate_last_exit_code{phase="a"}"#], 2.0);
        assert_eq!(
            m[r#"canary_gate_last_decision{phase="a",decision="continue"}"#],
            1.0
        );
        assert_eq!(
            m[r#"canary_gate_evidence_unknown_rounds{phase="a"}"#],
            f64::from(round)
        );
    }

    // A failed run: judge crashed, no verdict.
    let bins = bins_with("gate-textfile-crash", "judge", "exit 101");
    let out = gate(&dir.0, &sim, &args)
        .env("CANARY_KIT_BIN", &bins.0)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let m = textfile(&tf);
    assert_eq!(
        m[r#"canary_gate_last_decision{phase="a",decision="none"}"#],
        1.0
    );
    assert_eq!(m[r#"canary_gate_last_exit_code{phase="a"}"#], 2.0);
    assert_eq!(m[r#"canary_gate_evidence_unknown_rounds{phase="a"}"#], 3.0);
    assert_eq!(m.len(), GATE_METRICS.len(), "one decision series: {m:?}");

    // Known evidence again ends the streak: Phase A continues, or extends
    // while its error rate's bound is not yet below CRIT; never a hold.
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{:?} {}",
        out.status.code(),
        stderr(&out)
    );
    let m = textfile(&tf);
    assert_eq!(m[r#"canary_gate_evidence_unknown_rounds{phase="a"}"#], 0.0);
    assert_eq!(m[r#"canary_gate_evidence_unknown_seconds{phase="a"}"#], 0.0);

    // A run that cannot take the lock is refused, not a run: the textfile
    // keeps the last real run, so a leaked lock shows as a gate that stopped.
    let stamp = std::fs::read_to_string(&tf).expect("textfile");
    let lock = dir.0.join("state/canary-gate.lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "5"])
        .spawn()
        .expect("flock");
    wait_until_locked(&lock);
    let mut locked_args = args.to_vec();
    locked_args.extend(["--lock-wait", "0"]);
    let out = gate(&dir.0, &sim, &locked_args).output().expect("run");
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&tf).expect("textfile"), stamp);
}

#[test]
fn the_textfile_never_follows_a_symlink_or_replaces_a_non_file() {
    let sim = Sim::start("healthy-a");
    let dir = TempDir::new("gate-tf-link");
    let collector = TempDir::new("gate-tf-link-collector");
    let victim = collector.path("victim");
    std::fs::write(&victim, "keep me\n").expect("victim");
    let link = collector.path("canary_gate.prom");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let subdir = collector.path("sub.prom");
    std::fs::create_dir(&subdir).expect("dir");
    for (path, why) in [
        (
            link.to_string_lossy().into_owned(),
            "symlink or not a regular file",
        ),
        (
            subdir.to_string_lossy().into_owned(),
            "symlink or not a regular file",
        ),
        (
            collector.path("gate.txt").to_string_lossy().into_owned(),
            "must end in .prom",
        ),
        (
            collector
                .path("missing/canary_gate.prom")
                .to_string_lossy()
                .into_owned(),
            "is not a directory",
        ),
    ] {
        let out = gate(&dir.0, &sim, &["--textfile", &path])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{path}");
        assert!(stderr(&out).contains(why), "{path}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "a usage error is not a run");
    }
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "keep me\n"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert!(subdir.is_dir());
}

/// The verdict a gate run printed last (its overall verdict).
fn last_verdict(out: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rfind(|l| l.contains("\"judge.verdict\""))
        .unwrap_or_else(|| panic!("no verdict: {}", stderr(out)));
    serde_json::from_str(line).expect("json")
}

#[test]
fn evidence_unknown_longer_than_max_unknown_escalates_to_pause_and_acts() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-escalate");
    let collector = TempDir::new("gate-escalate-tf");
    let tf = collector.path("canary_gate.prom");
    let tfs = tf.to_string_lossy().into_owned();
    let run = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "--phase",
            "b",
            "--interval",
            "1s",
            "--max-unknown",
            "3s",
            "--textfile",
            &tfs,
        ];
        args.extend_from_slice(extra);
        gate_url(&dir.0, url, &args).output().expect("run")
    };
    let out = run(&sim.url, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The bot's health server goes away: every later run is unknown. It
    // holds (exit 2, never handed on) until the streak is longer than
    // --max-unknown, then it is a pause that rollback receives.
    let dead = sim.url.clone();
    drop(sim);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    let mut held = 0;
    let escalated = loop {
        let out = run(&dead, &[]);
        let v = last_verdict(&out);
        if v["decision"] == "pause" {
            break out;
        }
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        held += 1;
        assert!(std::time::Instant::now() < deadline, "never escalated");
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert!(held >= 1, "the first unknown run holds");
    assert_eq!(escalated.status.code(), Some(1), "{}", stderr(&escalated));
    let v = last_verdict(&escalated);
    let r = &v["reasons"][0];
    assert_eq!(r["rule"], "evidence.unknown_too_long", "{v}");
    assert_eq!(r["level"], "crit");
    assert_eq!(r["threshold"], 3.0);
    assert!(r["value"].as_f64().is_some_and(|s| s > 3.0), "{r}");
    let msg = v["msg"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("pause: evidence unknown for ") && msg.contains("--max-unknown 3s"),
        "{msg}"
    );
    let m = textfile(&tf);
    assert_eq!(
        m[r#"canary_gate_last_decision{phase="b",decision="pause"}"#],
        1.0
    );
    assert_eq!(m[r#"canary_gate_last_exit_code{phase="b"}"#], 1.0);
    assert_eq!(
        m[r#"canary_gate_evidence_unknown_rounds{phase="b"}"#],
        f64::from(held + 1)
    );
    assert!(m[r#"canary_gate_evidence_unknown_seconds{phase="b"}"#] >= 3.0);
    // The escalation keeps the streak going: the next run is a pause too,
    // and rollback receives it (its exit, for a missing repo, is the gate's).
    let out = run(&dead, &["--rollback", "--repo", "/nonexistent"]);
    assert_eq!(last_verdict(&out)["decision"], "pause");
    assert!(handed_to_rollback(&dir.0), "the escalation is acted on");
    // A tampered streak file restarts the streak, loudly: a hold again.
    std::fs::write(dir.0.join("state/unknown"), "b 99999999999 1\n").expect("tamper");
    let out = run(&dead, &[]);
    assert!(
        stderr(&out).contains("state/unknown is malformed or dated ahead of the clock"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(2));
    assert_ne!(last_verdict(&out)["decision"], "pause");
}

/// A loopback webhook receiver answering every request with `status`, and
/// keeping each request body.
fn receiver(status: u16) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let header = line.trim_end().to_ascii_lowercase();
                if header.is_empty() {
                    break;
                }
                if let Some(v) = header.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                seen.lock()
                    .expect("lock")
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

#[test]
fn notify_gets_each_change_and_a_failed_send_is_exit_2_with_the_verdict_kept() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-notify");
    let (hook, bodies) = receiver(200);
    // --notify's arguments end at `--`; --rollback takes the rest.
    let args = [
        "--phase",
        "b",
        "--quiet-unchanged",
        "--notify",
        "--webhook",
        &hook,
        "--",
        "--rollback",
        "--repo",
        "/nonexistent",
    ];
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        handed_to_rollback(&dir.0),
        "--rollback after --notify ... --"
    );
    let got = bodies.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let body: serde_json::Value = serde_json::from_str(&got[0]).expect("json");
    assert_eq!(body["decision"], "continue");
    assert!(body["previous"].is_null());
    assert!(
        dir.0.join("state/notify.json").is_file(),
        "default state in DIR"
    );
    let names: Vec<String> = records(&out).into_iter().map(|r| r.name).collect();
    assert!(names.contains(&"notify.sent".to_owned()), "{names:?}");
    // The same decision again: no news, nothing sent.
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(bodies.lock().expect("lock").len(), 1);

    // A destination that refuses connections: exit 2, and the verdict is
    // still printed and logged.
    let dir = TempDir::new("gate-notify-fail");
    let dead = format!("http://127.0.0.1:{}/hook", crate::util::free_port());
    let failing = [
        "--phase",
        "b",
        "--quiet-unchanged",
        "--notify",
        "--webhook",
        &dead,
        "--retries",
        "0",
    ];
    let out = gate(&dir.0, &sim, &failing).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("canary-gate: error: notify exited 2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(last_verdict(&out)["decision"], "continue");
    assert_eq!(verdict_count(&dir.0), 1);
    drop(sim);
    // A rollback (exit 1) outranks the failed send.
    let bad = Sim::start("real-canary");
    let dir = TempDir::new("gate-notify-bad");
    let out = gate(&dir.0, &bad, &failing).output().expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(last_verdict(&out)["decision"], "rollback");
    assert!(stderr(&out).contains("notify exited 2"));
    // No destination: a usage error before anything runs.
    let out = gate(&dir.0, &bad, &["--notify", "--"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--notify needs notify's arguments"));
}

fn examples_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// `Key=value` settings of a unit file (continuation lines joined).
fn unit_settings(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        if pending.is_empty() && (line.starts_with('#') || line.starts_with('[')) {
            continue;
        }
        pending.push_str(line.trim_end_matches('\\'));
        if line.ends_with('\\') {
            continue;
        }
        if let Some((k, v)) = pending.split_once('=') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        pending.clear();
    }
    out
}

#[test]
fn the_systemd_units_verify_and_fail_the_run_on_blocking_decisions() {
    let sys = examples_dir().join("systemd");
    let service = std::fs::read_to_string(sys.join("canary-gate.service")).expect("service");
    let notify = std::fs::read_to_string(sys.join("canary-gate-notify@.service")).expect("notify");
    let settings = unit_settings(&service);
    let get = |k: &str| -> Vec<String> {
        settings
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    // extend (3) is success; stop/rollback/pause/no-go (1) and failed runs
    // (2) are failures that OnFailure= reports.
    let success: Vec<String> = get("SuccessExitStatus")
        .iter()
        .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    assert_eq!(success, ["3"], "{service}");
    assert_eq!(get("OnFailure"), ["canary-gate-notify@%n.service"]);
    let exec = get("ExecStart").concat();
    assert!(
        exec.contains("--textfile") && exec.contains("--max-unknown"),
        "{exec}"
    );
    let notify_exec = unit_settings(&notify)
        .into_iter()
        .find(|(k, _)| k == "ExecStart")
        .map(|(_, v)| v)
        .expect("notify ExecStart");
    assert!(
        notify_exec.ends_with("/canary-gate-notify.sh %i"),
        "{notify_exec}"
    );

    // systemd's own check, with the install paths pointed at this checkout.
    let Ok(probe) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze not installed: the parse checks above stand alone");
        return;
    };
    assert!(probe.status.success());
    let tmp = TempDir::new("gate-units");
    let root = env!("CARGO_MANIFEST_DIR");
    for name in [
        "canary-gate.service",
        "canary-gate.timer",
        "canary-gate-notify@.service",
    ] {
        let text = std::fs::read_to_string(sys.join(name))
            .expect("unit")
            .replace("/opt/canary-kit/scripts/", &format!("{root}/scripts/"))
            .replace("/opt/canary-kit/examples/", &format!("{root}/examples/"));
        std::fs::write(tmp.path(name), text).expect("copy");
    }
    // The instance OnFailure= starts for canary-gate.service.
    std::fs::copy(
        tmp.path("canary-gate-notify@.service"),
        tmp.path("canary-gate-notify@canary-gate.service.service"),
    )
    .expect("instance");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args([
            "canary-gate.service",
            "canary-gate.timer",
            "canary-gate-notify@canary-gate.service.service",
        ])
        .current_dir(&tmp.0)
        .output()
        .expect("systemd-analyze verify");
    // verify exits 0 on settings it ignores; any complaint is a failure here.
    assert!(
        out.status.success() && out.stderr.is_empty() && out.stdout.is_empty(),
        "systemd-analyze verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_onfailure_script_says_why_the_run_failed() {
    let script = examples_dir().join("systemd/canary-gate-notify.sh");
    let run = |url: Option<&str>, status: &str| {
        let mut c = Command::new(&script);
        c.arg("canary-gate.service")
            .env("MONITOR_EXIT_STATUS", status)
            .env("MONITOR_SERVICE_RESULT", "exit-code")
            .env_remove("CANARY_NOTIFY_WEBHOOK")
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY");
        if let Some(u) = url {
            c.env("CANARY_NOTIFY_WEBHOOK", u);
        }
        c.output().expect("run the script")
    };
    let (hook, bodies) = receiver(200);
    for (status, says) in [
        ("1", "decided stop, rollback, pause or no-go"),
        ("2", "could not evaluate"),
        ("143", "failed (exit-code, exit 143)"),
    ] {
        let out = run(Some(&hook), status);
        assert!(out.status.success(), "{}", stderr(&out));
        let got = bodies.lock().expect("lock").pop().expect("a request");
        let body: serde_json::Value = serde_json::from_str(&got).expect("JSON body");
        let text = body["text"].as_str().unwrap_or_default();
        assert!(
            text.contains(says) && text.contains("journalctl -u canary-gate.service"),
            "{text}"
        );
    }
    // Not delivered: the notify unit fails too.
    let (refusing, _) = receiver(500);
    let out = run(Some(&refusing), "1");
    assert!(!out.status.success(), "a 500 must fail the unit");
    let out = run(None, "1");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CANARY_NOTIFY_WEBHOOK is not set"));
}

#[test]
fn the_alertmanager_example_routes_the_gate_and_its_decisions() {
    let config = examples_dir().join("alertmanager/alertmanager.yml");
    let out = Command::new("amtool")
        .arg("check-config")
        .arg(&config)
        .output()
        .expect("amtool (installed by scripts/test with prometheus-alertmanager)");
    assert!(out.status.success(), "{}", stderr(&out));
    for (labels, receivers) in [
        (
            &["alertname=CanaryDecision", "severity=critical"][..],
            "canary-oncall",
        ),
        (
            &["alertname=CanaryDecision", "severity=warning"][..],
            "canary-oncall",
        ),
        (
            &[
                "alertname=CanaryGateNotRunning",
                "severity=critical",
                "phase=a",
            ][..],
            "canary-gate-ops,canary-oncall",
        ),
        (
            &[
                "alertname=CanaryGateEvidenceUnknown",
                "severity=critical",
                "phase=b",
            ][..],
            "canary-gate-ops,canary-oncall",
        ),
        (
            &["alertname=CanaryGateOverran", "severity=warning", "phase=b"][..],
            "canary-gate-ops",
        ),
        (
            &["alertname=CanaryOrderErrorRateCrit", "severity=critical"][..],
            "canary-oncall",
        ),
    ] {
        let out = Command::new("amtool")
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--verify.receivers={receivers}"))
            .args(labels)
            .output()
            .expect("amtool");
        assert!(
            out.status.success(),
            "{labels:?} should reach {receivers}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
    }
}

/// judge's side of the contract the gate relies on: `--unknown-since` and
/// `--max-unknown` escalate only an unknown (exit 2) verdict, only past
/// the limit, and only forward in time.
#[test]
fn judge_escalates_only_an_unknown_verdict_past_the_limit() {
    let stream = examples_dir().join("streams/clean-canary-b.ndjson");
    let stream = stream.to_string_lossy().into_owned();
    let judge = |at: &str, extra: &[&str]| {
        let out = crate::util::cmd("judge")
            .args(["--phase", "b", stream.as_str(), "--at", at])
            .args(extra)
            .run();
        let v = out.record("judge.verdict");
        (
            out.code,
            v.extra["decision"].as_str().unwrap_or_default().to_owned(),
            v,
        )
    };
    // Fresh evidence: an extend (exit 3) is not unknown, however old the
    // streak the caller claims.
    let fresh = "2026-11-26T01:00:20Z";
    let since = ["--unknown-since", "2026-11-25T00:00:00Z"];
    assert_eq!(judge(fresh, &[]).1, "extend");
    let (code, decision, _) = judge(fresh, &since);
    assert_eq!((code, decision.as_str()), (Some(3), "extend"));
    // A day later the evidence is stale: exit 2, unknown.
    let stale = "2026-11-27T12:00:00Z";
    let (code, decision, _) = judge(stale, &[]);
    assert_eq!((code, decision.as_str()), (Some(2), "extend"));
    // Unknown for 20 minutes, limit 15: a pause, exit 1, saying why.
    let (code, decision, v) = judge(stale, &["--unknown-since", "2026-11-27T11:40:00Z"]);
    assert_eq!((code, decision.as_str()), (Some(1), "pause"));
    assert_eq!(v.extra["exit"], 1);
    assert_eq!(v.extra["reasons"][0]["rule"], "evidence.unknown_too_long");
    assert_eq!(v.extra["reasons"][0]["value"], 1200.0);
    assert_eq!(v.extra["reasons"][0]["threshold"], 900.0);
    assert!(
        v.msg.starts_with("pause: evidence unknown for 20m"),
        "{}",
        v.msg
    );
    assert!(
        canary_core::catalogue::lookup("evidence.unknown_too_long").is_some(),
        "the reason is in the catalogue"
    );
    // Within the limit, or a streak dated in the future: unchanged.
    for extra in [
        &["--unknown-since", "2026-11-27T11:50:00Z"][..],
        &[
            "--unknown-since",
            "2026-11-27T11:40:00Z",
            "--max-unknown",
            "30m",
        ][..],
        &[
            "--unknown-since",
            "2026-11-27T13:00:00Z",
            "--max-unknown",
            "0s",
        ][..],
    ] {
        let (code, decision, _) = judge(stale, extra);
        assert_eq!((code, decision.as_str()), (Some(2), "extend"), "{extra:?}");
    }
}

/// A real Alertmanager with the project's example config, on a free
/// loopback port, killed on drop.
struct Alertmanager {
    child: std::process::Child,
    url: String,
    _dir: TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Alertmanager {
    fn start() -> Alertmanager {
        let binary = ["prometheus-alertmanager", "alertmanager"]
            .iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok())
            .expect("prometheus-alertmanager (installed by scripts/test)");
        let dir = TempDir::new("gate-alertmanager");
        let port = crate::util::free_port();
        let child = Command::new(binary)
            .arg(format!(
                "--config.file={}",
                examples_dir()
                    .join("alertmanager/alertmanager.yml")
                    .display()
            ))
            .arg(format!("--storage.path={}", dir.path("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starting alertmanager");
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if canary_core::http::get(&format!("{}/-/ready", am.url), &Default::default())
                .is_ok_and(|r| r.status == 200)
            {
                return am;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("alertmanager did not become ready on {}", am.url);
    }

    /// Poll (deadline 20 s) until an active alert matches `want`.
    fn wait_for(&self, want: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let resp =
                canary_core::http::get(&format!("{}/api/v2/alerts", self.url), &Default::default())
                    .expect("GET /api/v2/alerts");
            let alerts: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON");
            if let Some(a) = alerts.as_array().and_then(|a| a.iter().find(|a| want(a))) {
                return a.clone();
            }
            assert!(std::time::Instant::now() < deadline, "alerts: {alerts:#}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

#[test]
fn a_long_monitoring_outage_reaches_alertmanager_as_a_critical_pause() {
    let am = Alertmanager::start();
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-outage-am");
    let url = sim.url.clone();
    let run = || {
        gate_url(
            &dir.0,
            &url,
            &[
                "--phase",
                "b",
                "--interval",
                "1s",
                "--max-unknown",
                "2s",
                "--quiet-unchanged",
                "--notify",
                "--alertmanager",
                &am.url,
                "--",
            ],
        )
        .output()
        .expect("run")
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    drop(sim);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        let out = run();
        if out.status.code() == Some(1) {
            assert_eq!(last_verdict(&out)["decision"], "pause", "{}", stderr(&out));
            break;
        }
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(std::time::Instant::now() < deadline, "never escalated");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let alert = am.wait_for(|a| a["labels"]["alertname"] == "CanaryDecision");
    assert_eq!(alert["labels"]["decision"], "pause", "{alert:#}");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["phase"], "b");
    let reasons = alert["annotations"]["reasons"].as_str().unwrap_or_default();
    assert!(reasons.starts_with("evidence unknown for "), "{reasons}");
    let receivers: Vec<&str> = alert["receivers"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(receivers, ["canary-oncall"], "{alert:#}");
}

#[test]
fn a_held_run_is_printed_notifies_nobody_and_its_recovery_is_news() {
    let sim = Sim::with_args(&["--scenario", "healthy-b", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-held-quiet");
    let (hook, bodies) = receiver(200);
    let args = [
        "--phase",
        "b",
        "--quiet-unchanged",
        "--notify",
        "--webhook",
        &hook,
    ];
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(bodies.lock().expect("lock").len(), 1, "the first decision");
    // scrape-metrics cannot evaluate: the run holds, prints (exit 2), and
    // its verdict, judged without that evidence, goes to nobody.
    let bins = bins_with("gate-held-quiet-bin", "scrape-metrics", "exit 2");
    let out = gate(&dir.0, &sim, &args)
        .env("CANARY_KIT_BIN", &bins.0)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(last_verdict(&out)["decision"], "continue");
    assert!(
        !dir.0
            .join("logs")
            .read_dir()
            .expect("logs")
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().starts_with("notify-")
                    && std::fs::read_to_string(e.path()).is_ok_and(|t| t.lines().count() > 1)
            })
    );
    assert_eq!(
        bodies.lock().expect("lock").len(),
        1,
        "a held run notifies nobody"
    );
    // Evidence back: the same decision, but exit 0 after 2 is news once.
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(last_verdict(&out)["decision"], "continue");
    let out = gate(&dir.0, &sim, &args).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Production's metrics, the money flags and the daily report reach the
/// producers and judge from the gate's own options.
#[test]
fn the_gate_compares_with_production_and_passes_the_money_limits_on() {
    let canary = Sim::with_args(&["--scenario", "versus-worse", "--order-rate", "20"]);
    let prod = Sim::with_args(&[
        "--scenario",
        "versus-worse",
        "--order-rate",
        "20",
        "--role",
        "baseline",
    ]);
    let dir = TempDir::new("gate-baseline");
    let report = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/daily-report/daily_report_green.json")
        .to_string_lossy()
        .into_owned();
    let run = |dir: &Path| {
        gate(
            dir,
            &canary,
            &[
                "--baseline-url",
                &prod.url,
                "--max-orders-per-minute",
                "60",
                "--daily-loss-limit-pct",
                "0.02",
                "--daily-report",
                &report,
            ],
        )
        .output()
        .expect("run")
    };
    let first = run(&dir.0);
    assert!(first.status.code().is_some(), "{}", stderr(&first));
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = run(&dir.0);
    let out = ok(&second);
    let logged = log_records(&dir.0);
    // Production's records are in the log, marked as production's.
    let prod_key = prod.instance();
    let theirs: Vec<&Record> = logged
        .iter()
        .filter(|r| r.target.contains(&prod_key))
        .collect();
    assert!(!theirs.is_empty(), "no record of production");
    assert!(
        theirs.iter().all(|r| r.extra["role"] == "baseline"),
        "{theirs:?}"
    );
    // judge compared the canary with it.
    let verdicts: Vec<Record> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l).ok())
        .collect();
    let compared: Vec<&Record> = verdicts
        .iter()
        .filter(|r| r.name == "judge.comparison")
        .collect();
    assert!(!compared.is_empty(), "no comparison in\n{out}");
    assert!(
        compared
            .iter()
            .all(|c| c.extra["baseline_target"].as_str() == Some(prod_key.as_str())),
        "{compared:?}"
    );
    // 20 orders a second against a ceiling of 60 a minute: a runaway, which
    // stops Phase A; and the loss limit reached scrape-metrics.
    let rate = logged
        .iter()
        .rev()
        .find(|r| r.name == "metrics.order_rate" && r.target.contains(&canary.instance()))
        .expect("an order-rate record");
    assert_eq!(rate.extra["max_orders_per_minute"], 60.0, "{rate:?}");
    assert_eq!(rate.level, canary_core::Level::Crit, "{}", rate.msg);
    assert_eq!(second.status.code(), Some(1), "{out}\n{}", stderr(&second));
    let drawdown = logged
        .iter()
        .rev()
        .find(|r| r.name == "metrics.drawdown" && r.target.contains(&canary.instance()))
        .expect("a drawdown record");
    assert_eq!(drawdown.extra["daily_loss_limit_pct"], 0.02, "{drawdown:?}");
    // The daily report was read (dated long ago, it is stale: unknown).
    assert!(
        logged
            .iter()
            .any(|r| r.tool == "daily-report" && r.name.starts_with("daily.")),
        "no daily-report record"
    );
    // A bad value is refused before anything runs.
    let bad = gate(&dir.0, &canary, &["--baseline-url"])
        .output()
        .expect("run");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    // Production named as the canary itself: refused too.
    let same = gate(&dir.0, &canary, &["--baseline-url", &canary.url])
        .output()
        .expect("run");
    assert_eq!(same.status.code(), Some(2), "{}", stderr(&same));
    assert!(stderr(&same).contains("another bot"), "{}", stderr(&same));
}

/// A daily report generated before the phase began still counts: RED
/// liveness reported two hours before the window stops Phase A.
#[test]
fn a_daily_report_from_before_the_window_still_stops_the_phase() {
    let sim = Sim::with_args(&["--scenario", "healthy-a", "--live", "--order-rate", "20"]);
    let dir = TempDir::new("gate-daily");
    let generated = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2)).to_string();
    let report = serde_json::json!({
        "date": "2026-12-02", "profile": "canary", "generated_at": generated,
        "account": {"equity": 10000.0, "equity_change": 0.0, "equity_change_pct": 0.0},
        "pnl": {"realized": 0.0, "unrealized": 0.0, "funding": 0.0, "total": 0.0, "fees": 0.0},
        "performance": {"max_drawdown": 0.0, "max_drawdown_pct": 0.0},
        "risk": {"guard_triggers": {}, "circuit_breaker_state": {}},
        "health": {"stale_marks": 0, "ws_reconnects": 0, "unfilled_orders": 0, "api_errors": 0,
                   "liveness": {"status": "RED", "max_age_seconds": 300}}
    });
    let path = dir.0.join("daily_report.json");
    std::fs::write(&path, report.to_string()).expect("report");
    let out = gate(
        &dir.0,
        &sim,
        &[
            "--daily-report",
            &path.to_string_lossy(),
            "--daily-loss-limit-pct",
            "0.01",
        ],
    )
    .output()
    .expect("run");
    let text = ok(&out);
    let overall = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Record>(l).ok())
        .rfind(|r| r.name == "judge.verdict" && r.extra["scope"] == "overall")
        .unwrap_or_else(|| panic!("no verdict\n{text}\n{}", stderr(&out)));
    assert_eq!(overall.extra["decision"], "stop", "{}", overall.msg);
    assert!(
        overall.extra["reasons"]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r["rule"] == "liveness-red")),
        "{overall:?}"
    );
    assert_eq!(out.status.code(), Some(1));
}

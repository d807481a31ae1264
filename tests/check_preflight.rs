//! check-preflight: the bot's preflight report and exit code as check
//! records, and the start gate judged on them.

use crate::util::{Output, Sim, TempDir, cmd};
use canary_core::{Kind, Level};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(ROOT)
        .join("tests/fixtures/judge/preflight")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every record is check-preflight's, catalogued under its name as its own.
fn records_are_check_preflights(out: &Output) {
    for r in out.records() {
        assert_eq!(r.tool, "check-preflight", "{r:?}");
        let spec = canary_core::catalogue::lookup(&r.name).expect("catalogued");
        assert_eq!(spec.tool, "check-preflight", "{}", r.name);
        assert_eq!(spec.kind, r.kind, "{}", r.name);
    }
}

/// An unusable report: exit 2, one `preflight.report` error record (unknown),
/// and a `check-preflight: error:` line naming why.
fn unusable(out: &Output, why: &str) {
    out.code(2);
    let recs = out.records();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0].name, "preflight.report");
    assert_eq!(recs[0].kind, Kind::Error);
    assert_eq!(recs[0].level, Level::Unknown);
    assert!(
        out.stderr.starts_with("check-preflight: error: ") && out.stderr.contains(why),
        "want {why:?} in: {}",
        out.stderr
    );
}

#[test]
fn a_ready_report_from_just_now_lets_the_start_gate_go() {
    let now = jiff::Timestamp::now();
    let report = read("ready.json").replace(
        "2026-11-25T23:55:00.123456+00:00",
        &now.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
    );
    let dir = TempDir::new("check-preflight-ready");
    let path = dir.path("preflight_report.json");
    std::fs::write(&path, report).expect("report");
    let pre = cmd("check-preflight")
        .args([&path])
        .args(["--preflight-exit", "0"])
        .run();
    pre.code(0);
    assert!(pre.stderr.is_empty(), "{}", pre.stderr);
    records_are_check_preflights(&pre);
    let status = pre.record("preflight.status");
    assert_eq!(
        (status.level, status.value.as_str()),
        (Level::Ok, Some("READY"))
    );
    assert_eq!(status.target, path.display().to_string());
    assert_eq!(pre.record("preflight.exit").level, Level::Ok);
    assert_eq!(pre.record("preflight.warnings").level, Level::Warn);

    let sim = Sim::start("healthy-a");
    let health = cmd("probe-health").args(["--url", &sim.url]).run();
    let profile = cmd("check-profile")
        .args([&format!("{ROOT}/examples/profiles/phase-a.yaml")])
        .args(["--phase", "a"])
        .run();
    let env = cmd("check-risk-env")
        .args(["--env-file", &format!("{ROOT}/examples/env/phase-a.env")])
        .args(["--phase", "a"])
        .run();
    let config = format!("{}{}", profile.stdout, env.stdout);
    let go = cmd("judge")
        .args(["--phase", "start"])
        .stdin(format!("{}{}{config}", pre.stdout, health.stdout))
        .run();
    go.code(0);
    assert_eq!(go.record("judge.verdict").extra["decision"], "go");
    // Without the preflight records the same stream is not go.
    let held = cmd("judge")
        .args(["--phase", "start"])
        .stdin(format!("{}{config}", health.stdout))
        .run();
    held.code(2);
    assert_eq!(held.record("judge.verdict").extra["decision"], "no-go");
}

#[test]
fn each_failing_check_is_one_crit_record_with_its_hint() {
    let out = cmd("check-preflight")
        .args([fixture("not-ready.json")])
        .args(["--preflight-exit", "1"])
        .run();
    out.code(1);
    records_are_check_preflights(&out);
    assert_eq!(out.record("preflight.status").level, Level::Crit);
    assert_eq!(out.record("preflight.exit").level, Level::Crit);
    let disk = out.record("preflight.check.check_disk_space");
    assert_eq!(disk.level, Level::Crit);
    assert!(
        disk.msg.contains("(hint: free at least 1 GB"),
        "{}",
        disk.msg
    );
    assert_eq!(
        out.record("preflight.check.check_environment_variables")
            .level,
        Level::Crit
    );
}

/// A report and an exit code that disagree, or a status nobody defined,
/// never read as a pass.
#[test]
fn inconsistent_or_unknown_reports_never_pass() {
    // NOT READY, yet preflight "exited 0".
    let out = cmd("check-preflight")
        .args([fixture("not-ready.json")])
        .args(["--preflight-exit", "0"])
        .run();
    out.code(1);
    assert_eq!(out.record("preflight.exit").level, Level::Crit);
    // READY, yet preflight exited 1 (errors) or 2 (it never ran).
    for code in ["1", "2"] {
        let out = cmd("check-preflight")
            .args([fixture("ready.json")])
            .args(["--preflight-exit", code])
            .run();
        out.code(1);
        assert_eq!(out.record("preflight.status").level, Level::Ok);
        assert_eq!(out.record("preflight.exit").level, Level::Crit);
    }
    // An exit code preflight does not have.
    let out = cmd("check-preflight")
        .args([fixture("ready.json")])
        .args(["--preflight-exit", "137"])
        .run();
    out.code(2);
    assert_eq!(out.record("preflight.exit").level, Level::Unknown);

    let dir = TempDir::new("check-preflight-forged");
    let ready = read("ready.json");
    // "READY" with errors counted is crit; a status nobody defined is unknown.
    for (name, text, code, level) in [
        (
            "errors.json",
            ready.replace("\"errors\": 0", "\"errors\": 3"),
            1,
            Level::Crit,
        ),
        (
            "green.json",
            ready.replace("\"READY\"", "\"GREEN\""),
            2,
            Level::Unknown,
        ),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, text).expect("report");
        let out = cmd("check-preflight").args([&path]).run();
        out.code(code);
        assert_eq!(out.record("preflight.status").level, level, "{name}");
    }
}

#[test]
fn a_warn_only_run_does_not_satisfy_the_gate() {
    let out = cmd("check-preflight")
        .args([fixture("warn-only.json")])
        .args(["--preflight-exit", "0"])
        .run();
    out.code(1);
    assert_eq!(out.record("preflight.diagnostic_only").level, Level::Crit);
    assert_eq!(out.record("preflight.status").level, Level::Warn);
    assert_eq!(out.record("preflight.warnings").value, 5);
}

#[test]
fn preflights_stdout_is_read_from_a_file_or_stdin() {
    let file = cmd("check-preflight")
        .args([fixture("stdout-target.txt")])
        .run();
    file.code(0);
    assert_eq!(file.record("preflight.status").value, "READY");
    let piped = cmd("check-preflight")
        .args(["-"])
        .stdin(read("stdout-target.txt"))
        .run();
    piped.code(0);
    let status = piped.record("preflight.status");
    assert_eq!(
        (status.value.as_str(), status.target.as_str()),
        (Some("READY"), "stdin")
    );
}

#[test]
fn unusable_reports_are_unknown_never_ok() {
    unusable(
        &cmd("check-preflight")
            .args([fixture("truncated.json")])
            .run(),
        "not JSON",
    );
    unusable(
        &cmd("check-preflight").args(["/nonexistent/pf.json"]).run(),
        "cannot read",
    );
    let dir = TempDir::new("check-preflight-bad");
    unusable(&cmd("check-preflight").args([&dir.0]).run(), "a directory");
    let ready = read("ready.json");
    for (name, text, why) in [
        ("empty.json", String::new(), "not JSON"),
        ("array.json", "[1, 2]".to_owned(), "expected a JSON object"),
        ("object.json", "{}".to_owned(), "no \"status\""),
        (
            "no-ts.json",
            ready.replace("\"timestamp\"", "\"time\""),
            "no \"timestamp\"",
        ),
        (
            "bad-ts.json",
            ready.replace("2026-11-25T23:55:00.123456+00:00", "yesterday"),
            "not ISO 8601",
        ),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, text).expect("report");
        unusable(&cmd("check-preflight").args([&path]).run(), why);
    }
    let latin1 = dir.path("latin1.json");
    std::fs::write(&latin1, b"{\"status\": \"READY\xff\"}").expect("report");
    unusable(&cmd("check-preflight").args([&latin1]).run(), "not UTF-8");
    // Over the cap, as a file and on stdin.
    let path = dir.path("ready.json");
    std::fs::write(&path, &ready).expect("report");
    unusable(
        &cmd("check-preflight")
            .args([&path])
            .args(["--max-bytes", "100"])
            .run(),
        "over the 100-byte limit",
    );
    unusable(
        &cmd("check-preflight")
            .args(["-", "--max-bytes", "100"])
            .stdin(ready)
            .run(),
        "over the 100-byte limit",
    );
}

/// A FIFO in the report's place is refused at once, not waited on: a
/// converter that blocks never lets a cron'd start gate finish.
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = TempDir::new("check-preflight-fifo");
    let fifo = dir.path("pf.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // Safety net: should the tool block on the FIFO, open it read-write
    // after a deadline (which never blocks) and close it, so the test ends
    // with a failure instead of hanging.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let net = {
        let (done, fifo) = (done.clone(), fifo.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if Instant::now() > deadline {
                    let _ = std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(&fifo);
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let out = cmd("check-preflight").args([&fifo]).run();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = net.join();
    unusable(&out, "a FIFO");
    assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
}

#[test]
fn text_output_is_a_table_for_people() {
    let out = cmd("check-preflight")
        .args([fixture("not-ready.json")])
        .args(["--format", "text"])
        .run();
    out.code(1);
    assert!(
        out.stdout.contains("preflight.check.check_disk_space"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.trim_start().starts_with('{'), "{}", out.stdout);
}

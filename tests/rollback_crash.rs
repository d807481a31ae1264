//! rollback killed at every point between and inside steps, with SIGKILL and
//! with SIGTERM, then recovered the documented way (docs/rollback.md,
//! "Recovery after an interruption"): re-run with `--execute --resume`; when
//! the resume cannot tell, the operator checks and says `--resolve
//! done|absent`.
//!
//! The process manager is a fake that keeps real state in files: the canary
//! runs while `canary-running` exists; restart and deploy start a real
//! long-running "production" process (`prod.<pid>`), which itself records a
//! violation if another production process is alive when it starts. Each
//! command can be held at its start or end (`hold-<cmd>-<n>-start|end`), so
//! the test knows where rollback is; git is wrapped the same way for the
//! checkout. The two points nobody outside can see — right after a step's
//! intent is durable, right after its done — are held by rollback's test
//! hook (`CANARY_KIT_TEST_HOLD`).
//!
//! Invariants after every recovery: at most one production process ever ran
//! (one alive, one ever started); close-positions ran exactly once; no other
//! step repeated unless its check said so; the repository is at the intended
//! release; the audit log tells the story of both runs.

use crate::rollback::{Fx, promote_verdict, result, verdict};
use serde_json::{Value, json};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CRASHPM: &str = r#"#!/bin/sh
d="$(cd "$(dirname "$0")" && pwd)"
c="$1"
n=$(( $(cat "$d/n-$c" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$d/n-$c"
echo "$c $n" >> "$d/calls.log"
gate() {
  if [ -e "$d/hold-$1" ]; then
    touch "$d/at-$1"
    while [ ! -e "$d/go-$1" ]; do sleep 0.05; done
  fi
}
live() {
  for f in "$d"/$1.*; do
    [ -e "$f" ] || continue
    p="${f##*.}"
    if [ -d "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then echo "$p"; fi
  done
}
gate "$c-$n-start"
case "$c" in
  status) [ -e "$d/canary-running" ] && exit 0; exit 1 ;;
  stop)
    if [ -e "$d/stop-lags" ]; then (sleep 1; rm -f "$d/canary-running") >/dev/null 2>&1 &
    else rm -f "$d/canary-running"; fi
    echo x >> "$d/effect-stop" ;;
  close) echo x >> "$d/effect-close" ;;
  sync) echo x >> "$d/effect-sync" ;;
  restart|deploy|prod-daemon)
    if [ "$c" != prod-daemon ] && [ -e "$d/$c-daemonizes" ]; then
      # Like a process manager or a daemon: production runs on, outside
      # the step's process tree and without its environment; the starter
      # returns.
      env -i "$0" prod-daemon >/dev/null 2>&1 &
      gate "$c-$n-end"
      exit 0
    fi
    others="$(live prod)"
    [ -n "$others" ] && echo "second production process while $others runs" >> "$d/violations"
    echo "$$" > "$d/prod.$$"
    exec sleep 600 ;;
  watch)
    others="$(live watch)"
    [ -n "$others" ] && echo "second watch while $others runs" >> "$d/violations"
    echo "$$" > "$d/watch.$$"
    exec sleep 600 ;;
esac
gate "$c-$n-end"
exit 0
"#;

/// Where rollback is when it is killed.
#[derive(Debug, Clone, Copy)]
enum At {
    /// rollback's own hook: `intent:<step>` or `done:<step>`.
    Hold(&'static str),
    /// A command held at a gate (`stop-1-start`, `checkout-end`, ...).
    Gate(&'static str),
    /// A long-running process has started (`prod`, `watch`): rollback is in
    /// its start grace.
    Started(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Point {
    label: &'static str,
    at: At,
    /// A file to create first (`stop-lags`: the canary outlives the stop
    /// command for a second, so rollback is polling in its stop grace).
    setup: Option<&'static str>,
}

const fn p(label: &'static str, at: At) -> Point {
    Point {
        label,
        at,
        setup: None,
    }
}

const ROLLBACK_POINTS: &[Point] = &[
    p("stop: after intent", At::Hold("intent:stop")),
    p("stop: after spawn", At::Gate("stop-1-start")),
    p("stop: after its effect", At::Gate("stop-1-end")),
    Point {
        label: "stop: during the stop grace",
        at: At::Gate("status-2-start"),
        setup: Some("stop-lags"),
    },
    p("stop: after done", At::Hold("done:stop")),
    p("close: after intent", At::Hold("intent:close_positions")),
    p("close: after spawn", At::Gate("close-1-start")),
    p("close: after its effect", At::Gate("close-1-end")),
    p("close: after done", At::Hold("done:close_positions")),
    p("checkout: after intent", At::Hold("intent:checkout")),
    p("checkout: after spawn", At::Gate("checkout-start")),
    p("checkout: after its effect", At::Gate("checkout-end")),
    p("checkout: after done", At::Hold("done:checkout")),
    p("sync: after intent", At::Hold("intent:sync")),
    p("sync: after spawn", At::Gate("sync-1-start")),
    p("sync: after its effect", At::Gate("sync-1-end")),
    p("sync: after done", At::Hold("done:sync")),
    p("restart: after intent", At::Hold("intent:restart")),
    p("restart: after spawn", At::Gate("restart-1-start")),
    p("restart: during the start grace", At::Started("prod")),
    p("restart: after done", At::Hold("done:restart")),
    Point {
        label: "restart: a daemon started, its starter gone",
        at: At::Gate("restart-1-end"),
        setup: Some("restart-daemonizes"),
    },
];

const PROMOTE_POINTS: &[Point] = &[
    p("report: after intent", At::Hold("intent:report")),
    p("report: after done", At::Hold("done:report")),
    p(
        "profile_diff: after intent",
        At::Hold("intent:profile_diff"),
    ),
    p("profile_diff: after done", At::Hold("done:profile_diff")),
    p("stop: after intent", At::Hold("intent:stop")),
    p("stop: after spawn", At::Gate("stop-1-start")),
    p("stop: after its effect", At::Gate("stop-1-end")),
    Point {
        label: "stop: during the stop grace",
        at: At::Gate("status-2-start"),
        setup: Some("stop-lags"),
    },
    p("stop: after done", At::Hold("done:stop")),
    p("deploy: after intent", At::Hold("intent:deploy")),
    p("deploy: after spawn", At::Gate("deploy-1-start")),
    p("deploy: during the start grace", At::Started("prod")),
    p("deploy: after done", At::Hold("done:deploy")),
    Point {
        label: "deploy: a daemon started, its starter gone",
        at: At::Gate("deploy-1-end"),
        setup: Some("deploy-daemonizes"),
    },
    p("watch: after intent", At::Hold("intent:watch")),
    p("watch: after spawn", At::Gate("watch-1-start")),
    p("watch: during the start grace", At::Started("watch")),
    p("watch: after done", At::Hold("done:watch")),
];

fn count_lines(path: &Path) -> usize {
    fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

fn files_with_prefix(dir: &Path, prefix: &str) -> Vec<u32> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_prefix(&format!("{prefix}."))
                        .and_then(|pid| pid.parse().ok())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            !s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(false)
}

fn kill(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .status();
}

/// The fixture: the release repo, the fake process manager, a git wrapper.
fn fixture(name: &str) -> Fx {
    let fx = Fx::new(name);
    let pm = fx.dir.join("crashpm");
    fs::write(&pm, CRASHPM).expect("write crashpm");
    let bin = fx.dir.join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let real_git = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("sh")
            .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_owned();
    let d = fx.dir.display();
    let wrapper = format!(
        r#"#!/bin/sh
d='{d}'
gate() {{
  if [ -e "$d/hold-$1" ]; then
    touch "$d/at-$1"
    while [ ! -e "$d/go-$1" ]; do sleep 0.05; done
  fi
}}
case " $* " in
  *" checkout "*)
    gate checkout-start
    '{real_git}' "$@"; rc=$?
    [ "$rc" = 0 ] && echo x >> "$d/effect-checkout"
    gate checkout-end
    exit "$rc" ;;
esac
exec '{real_git}' "$@"
"#
    );
    fs::write(bin.join("git"), wrapper).expect("write git wrapper");
    for f in [pm, bin.join("git")] {
        let mut perm = fs::metadata(&f).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        fs::set_permissions(&f, perm).expect("chmod");
    }
    fs::write(
        fx.dir.join("crash.json"),
        json!({"commands": {"watch_gate": []}}).to_string(),
    )
    .expect("config");
    fx
}

fn pm(fx: &Fx, sub: &str) -> String {
    json!([fx.dir.join("crashpm").display().to_string(), sub]).to_string()
}

/// rollback wired to the fake process manager and the git wrapper.
fn base(fx: &Fx) -> crate::util::Cmd {
    let path = format!(
        "{}:{}",
        fx.dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    crate::util::cmd("rollback")
        .env("PATH", &path)
        .args([
            "--config",
            &fx.dir.join("crash.json").display().to_string(),
            "--repo",
            &fx.repo.display().to_string(),
        ])
        .args([
            "--stop-cmd",
            &pm(fx, "stop"),
            "--status-cmd",
            &pm(fx, "status"),
        ])
        .args([
            "--close-positions-cmd",
            &pm(fx, "close"),
            "--sync-cmd",
            &pm(fx, "sync"),
        ])
        .args([
            "--restart-cmd",
            &pm(fx, "restart"),
            "--deploy-cmd",
            &pm(fx, "deploy"),
        ])
        .args(["--watch-cmd", &pm(fx, "watch")])
        .args(["--start-grace", "1s", "--stop-grace", "5s"])
}

/// Run the procedure until `point`, then kill it with `sig`.
fn run_until_killed(fx: &Fx, promote: bool, point: Point, sig: &str) {
    if let Some(f) = point.setup {
        fx.touch(f);
    }
    let mut cmd = base(fx).args(["--execute"]);
    if promote {
        cmd = cmd.args(["--promote"]);
    }
    match point.at {
        At::Hold(h) => cmd = cmd.env("CANARY_KIT_TEST_HOLD", h),
        At::Gate(g) => fx.touch(&format!("hold-{g}")),
        At::Started(_) => {}
    }
    let input = if promote {
        promote_verdict()
    } else {
        verdict("rollback", "")
    };
    let mut inner = cmd.inner;
    inner
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = inner.spawn().expect("spawn rollback");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let reached = || match point.at {
        At::Hold(h) => fx
            .state()
            .join(format!("held-{}", h.replacen(':', "-", 1)))
            .exists(),
        At::Gate(g) => fx.dir.join(format!("at-{g}")).exists(),
        At::Started(prefix) => !files_with_prefix(&fx.dir, prefix).is_empty(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reached() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{}: rollback ended ({status}) before reaching the kill point; calls {:?}",
                point.label,
                fx.calls()
            );
        }
        assert!(Instant::now() < deadline, "{}: never reached", point.label);
        std::thread::sleep(Duration::from_millis(10));
    }
    // Written ahead: at every point inside a step, the journal already
    // holds the step's intent, and once a process of it runs, its pids.
    let journal = crate::rollback::journal(fx);
    let step_of = |g: &str| {
        match g.split('-').next().unwrap_or_default() {
            "close" => "close_positions",
            "status" => "stop",
            other => other,
        }
        .to_owned()
    };
    let (step, spawned) = match point.at {
        At::Hold(h) => {
            let (when, step) = h.split_once(':').expect("point:step");
            (step.to_owned(), when == "done")
        }
        At::Gate(g) => (step_of(g), true),
        At::Started(_) => (
            point.label.split(':').next().unwrap_or_default().to_owned(),
            true,
        ),
    };
    let has = |entry: &str| {
        journal
            .iter()
            .any(|e| e["entry"] == entry && e["step"] == step.as_str())
    };
    assert!(
        has("intent"),
        "{}: no intent for {step}: {journal:?}",
        point.label
    );
    if !spawned {
        assert!(!has("spawned"), "{}: spawned before the hold", point.label);
    } else if !matches!(point.at, At::Hold(_)) {
        assert!(
            has("spawned"),
            "{}: no pids recorded: {journal:?}",
            point.label
        );
    }
    if let At::Hold(h) = point.at
        && h.starts_with("intent:")
    {
        assert_eq!(
            journal.last().map(|e| e["entry"].clone()),
            Some(json!("intent")),
            "{}",
            point.label
        );
    }
    kill(child.id(), sig);
    let status = child.wait().expect("wait");
    assert!(!status.success(), "{}: not killed", point.label);
    // The killed run's children live on (their own process groups): let
    // whatever was held go on, as it would.
    for e in fs::read_dir(&fx.dir).expect("dir").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(g) = name.strip_prefix("hold-") {
            let _ = fs::remove_file(e.path());
            fx.touch(&format!("go-{g}"));
        }
    }
    if let Some(f) = point.setup {
        let _ = fs::remove_file(fx.dir.join(f));
    }
}

/// The documented recovery; returns the runs it took.
fn recover(fx: &Fx, promote: bool, label: &str) -> Vec<crate::util::Output> {
    let mut runs = Vec::new();
    let mut resolve: Option<&str> = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "{label}: recovery never finished"
        );
        let mut cmd = base(fx).args(["--execute", "--resume"]);
        cmd = if promote {
            cmd.args(["--promote"]).stdin(promote_verdict())
        } else {
            cmd.args(["--force"])
        };
        if let Some(r) = resolve.take() {
            cmd = cmd.args(["--resolve", r]);
        }
        let out = cmd.run();
        let outcome = result(&out).value;
        let interrupted = out
            .records()
            .into_iter()
            .find(|r| r.name == "rollback.interrupted");
        runs.push(out);
        if outcome == "done" || outcome == "already-done" {
            return runs;
        }
        let Some(i) = interrupted.filter(|i| i.value == "unsettled") else {
            panic!(
                "{label}: recovery refused: {}\n{}",
                runs.last().map(|o| o.stdout.as_str()).unwrap_or_default(),
                runs.last().map(|o| o.stderr.as_str()).unwrap_or_default()
            );
        };
        if i.extra["finding"] == "busy" {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        // The operator checks what no check on this host can prove and
        // says so: the fake broker's record of closed positions; for a
        // start step whose processes the resume could not find, `ps` (here:
        // the processes that recorded themselves) — the resume never
        // starts one again on its own.
        let live = |prefix: &str| files_with_prefix(&fx.dir, prefix).into_iter().any(alive);
        let found = match i.extra["step"].as_str().unwrap_or_default() {
            "close_positions" => fx.dir.join("effect-close").exists(),
            "restart" | "deploy" => live("prod"),
            "watch" => live("watch"),
            other => panic!(
                "{label}: only closing positions and start steps need the operator, not {other}: {}",
                i.msg
            ),
        };
        resolve = Some(if found { "done" } else { "absent" });
    }
}

fn check_invariants(fx: &Fx, promote: bool, label: &str, runs: &[crate::util::Output]) {
    let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
    assert!(violations.is_empty(), "{label}: {violations}");
    let prods = files_with_prefix(&fx.dir, "prod");
    assert_eq!(
        prods.len(),
        1,
        "{label}: production processes started: {prods:?}"
    );
    assert!(alive(prods[0]), "{label}: production is not running");
    assert!(
        !fx.dir.join("canary-running").exists(),
        "{label}: canary runs"
    );
    assert!(count_lines(&fx.dir.join("effect-stop")) <= 2, "{label}");
    if promote {
        let watches = files_with_prefix(&fx.dir, "watch");
        assert_eq!(watches.len(), 1, "{label}: watches started: {watches:?}");
        assert_eq!(fx.head(), fx.commit("v1.10.0"), "{label}");
    } else {
        assert_eq!(
            count_lines(&fx.dir.join("effect-close")),
            1,
            "{label}: close ran"
        );
        assert!(count_lines(&fx.dir.join("effect-checkout")) <= 2, "{label}");
        assert!(count_lines(&fx.dir.join("effect-sync")) <= 2, "{label}");
        assert_eq!(fx.head(), fx.commit("v1.3.0"), "{label}: HEAD");
    }
    // The audit log: the killed run and every recovery run, the settling
    // of the interruption when there was one, and the final result.
    let audit = fx.audit();
    let runs_in_audit: std::collections::BTreeSet<&str> =
        audit.iter().filter_map(|r| r["run_id"].as_str()).collect();
    assert!(
        runs_in_audit.len() > runs.len(),
        "{label}: {runs_in_audit:?}"
    );
    let journal = crate::rollback::journal(fx);
    let settled_in_journal = journal
        .iter()
        .any(|e| e["entry"] == "done" && (e["outcome"] == "present" || e["outcome"] == "absent"));
    let settled_in_audit = audit
        .iter()
        .any(|r| r["name"] == "rollback.interrupted" && r["value"] == "settled");
    assert_eq!(settled_in_journal, settled_in_audit, "{label}");
    let last = audit.last().expect("audit");
    let prefix = if promote { "promote" } else { "rollback" };
    assert_eq!(
        last["name"],
        Value::from(format!("{prefix}.result")),
        "{label}"
    );
    assert_eq!(last["value"], "done", "{label}: {last}");
    let msg = last["msg"].as_str().unwrap_or_default();
    if !promote {
        assert!(msg.contains("from v1.10.0 to v1.3.0"), "{label}: {msg}");
    }
}

fn cleanup(fx: &Fx) {
    for prefix in ["prod", "watch"] {
        for pid in files_with_prefix(&fx.dir, prefix) {
            kill(pid, "KILL");
        }
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

#[test]
fn killed_at_every_point_then_recovered_never_runs_a_step_twice() {
    let mut cases = Vec::new();
    for sig in ["KILL", "TERM"] {
        for point in ROLLBACK_POINTS {
            cases.push((false, *point, sig));
        }
        for point in PROMOTE_POINTS {
            cases.push((true, *point, sig));
        }
    }
    let total = cases.len();
    let queue = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                loop {
                    let Some((promote, point, sig)) = queue.lock().expect("queue").pop() else {
                        return;
                    };
                    let label = format!(
                        "{} killed with SIG{sig} at {}",
                        if promote { "promotion" } else { "rollback" },
                        point.label
                    );
                    let n = SEQ.fetch_add(1, Ordering::SeqCst);
                    let fx = fixture(&format!("crash-{n}"));
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_until_killed(&fx, promote, point, sig);
                        let runs = recover(&fx, promote, &label);
                        check_invariants(&fx, promote, &label, &runs);
                    }));
                    cleanup(&fx);
                    if let Err(e) = outcome {
                        let why = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        failures
                            .lock()
                            .expect("failures")
                            .push(format!("{label}: {why}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    eprintln!(
        "rollback crash test: {total} kill points tested ({} rollback + {} promotion points, each with SIGKILL and SIGTERM)",
        ROLLBACK_POINTS.len(),
        PROMOTE_POINTS.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Wait until no process carries the marker of `step` any more (the killed
/// run's starter has returned), and a production process runs.
fn wait_for_daemon(fx: &Fx, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let prod = files_with_prefix(&fx.dir, "prod").into_iter().any(alive);
        let starter = crate::rollback::journal(fx)
            .iter()
            .filter(|e| e["entry"] == "spawned")
            .flat_map(|e| e["pids"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.as_u64())
            .any(|p| alive(p as u32));
        if prod && !starter {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{label}: the daemon never settled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Finding: the resume took "no process carries the step's marker" as
/// proof that a restart started nothing, and started it again. A daemon,
/// a process manager or a process between fork and exec leaves no such
/// trace: here production runs on without the marker, its starter gone.
/// The resume must not start a second one: it cannot tell, and says so.
#[test]
fn a_start_step_whose_processes_cannot_be_found_is_never_started_again_blind() {
    for promote in [false, true] {
        let step = if promote { "deploy" } else { "restart" };
        let label = format!("{step} daemonized");
        let fx = fixture(&format!("daemon-{step}"));
        let setup: &'static str = if promote {
            "deploy-daemonizes"
        } else {
            "restart-daemonizes"
        };
        let gate: &'static str = if promote {
            "deploy-1-end"
        } else {
            "restart-1-end"
        };
        run_until_killed(
            &fx,
            promote,
            Point {
                label: "daemon",
                at: At::Gate(gate),
                setup: Some(setup),
            },
            "KILL",
        );
        wait_for_daemon(&fx, &label);
        let resume = || {
            let c = base(&fx).args(["--execute", "--resume"]);
            if promote {
                c.args(["--promote"]).stdin(promote_verdict())
            } else {
                c.args(["--force"])
            }
        };
        let out = resume().run();
        out.code(2);
        let rec = out.record("rollback.interrupted");
        assert_eq!(rec.value, "unsettled", "{label}: {}", out.stdout);
        assert_eq!(rec.extra["finding"], "cannot-tell", "{label}: {}", rec.msg);
        assert_eq!(rec.extra["step"], step, "{label}");
        assert!(rec.msg.contains("--resolve"), "{label}: {}", rec.msg);
        assert!(rec.msg.contains("docs/rollback.md"), "{label}: {}", rec.msg);
        let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
        assert!(violations.is_empty(), "{label}: {violations}");
        assert_eq!(files_with_prefix(&fx.dir, "prod").len(), 1, "{label}");
        // The operator looks (`ps`), finds it running, and says so.
        let out = resume().args(["--resolve", "done"]).run();
        out.code(0);
        assert_eq!(result(&out).value, "done", "{label}: {}", out.stdout);
        assert_eq!(files_with_prefix(&fx.dir, "prod").len(), 1, "{label}");
        let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
        assert!(violations.is_empty(), "{label}: {violations}");
        cleanup(&fx);
    }
}

/// Finding: an interrupted promotion settled by a rollback run went on
/// with the rollback, whose restart started production beside the promoted
/// one; so did a rollback after a completed promotion. A step that starts
/// production first looks for the production processes every earlier
/// restart or deploy in the journal started, and refuses — in the
/// preflight, before the stop — while one runs.
#[test]
fn a_rollback_never_starts_production_beside_a_running_one() {
    // After an interrupted promotion (killed in its deploy's start grace).
    let fx = fixture("beside-interrupted");
    run_until_killed(
        &fx,
        true,
        p("deploy: during the start grace", At::Started("prod")),
        "KILL",
    );
    let before = fs::read_to_string(fx.dir.join("calls.log")).unwrap_or_default();
    let out = base(&fx).args(["--execute", "--resume", "--force"]).run();
    out.code(2);
    assert_eq!(
        out.record("rollback.interrupted").value,
        "settled",
        "{}",
        out.stdout
    );
    let pre = out.record("rollback.preflight");
    assert_eq!(pre.extra["check"], "production", "{}", pre.msg);
    assert!(pre.msg.contains("deploy of promotion"), "{}", pre.msg);
    assert!(pre.msg.contains("docs/rollback.md"), "{}", pre.msg);
    assert_eq!(result(&out).value, "refused");
    let after = fs::read_to_string(fx.dir.join("calls.log")).unwrap_or_default();
    assert_eq!(before, after, "a step ran");
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    // A dry run shows the same finding.
    let dry = base(&fx).args(["--force"]).run();
    dry.code(2);
    assert_eq!(
        dry.record("rollback.preflight").extra["check"],
        "production"
    );
    // Production stopped by the operator: the rollback goes through, and
    // starts exactly one.
    cleanup(&fx);
    let deadline = Instant::now() + Duration::from_secs(10);
    while files_with_prefix(&fx.dir, "prod").into_iter().any(alive) {
        assert!(Instant::now() < deadline, "production never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = base(&fx).args(["--execute", "--force"]).run();
    out.code(0);
    assert_eq!(result(&out).value, "done", "{}", out.stdout);
    let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
    assert!(violations.is_empty(), "{violations}");
    assert_eq!(
        files_with_prefix(&fx.dir, "prod")
            .into_iter()
            .filter(|p| alive(*p))
            .count(),
        1
    );
    cleanup(&fx);

    // After a completed promotion.
    let fx = fixture("beside-completed");
    let out = base(&fx)
        .args(["--execute", "--promote"])
        .stdin(promote_verdict())
        .run();
    out.code(0);
    let before = fs::read_to_string(fx.dir.join("calls.log")).unwrap_or_default();
    let out = base(&fx).args(["--execute", "--force"]).run();
    out.code(2);
    assert_eq!(
        out.record("rollback.preflight").extra["check"],
        "production",
        "{}",
        out.stdout
    );
    let after = fs::read_to_string(fx.dir.join("calls.log")).unwrap_or_default();
    assert_eq!(before, after, "a step ran");
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
    assert!(violations.is_empty(), "{violations}");
    cleanup(&fx);
}

/// The same guard, asked again right before the step: production that
/// appears after the preflight (here: a process of the earlier deploy,
/// during the sync) stops the run at the restart, which is not run.
#[test]
fn production_appearing_after_the_preflight_stops_the_restart() {
    let fx = fixture("beside-late");
    let out = base(&fx)
        .args(["--execute", "--promote"])
        .stdin(promote_verdict())
        .run();
    out.code(0);
    cleanup(&fx);
    let deadline = Instant::now() + Duration::from_secs(10);
    while files_with_prefix(&fx.dir, "prod").into_iter().any(alive) {
        assert!(Instant::now() < deadline, "production never ended");
        std::thread::sleep(Duration::from_millis(20));
    }
    let promotion = crate::rollback::journal(&fx)
        .iter()
        .find(|e| e["entry"] == "begin")
        .and_then(|e| e["proc_id"].as_str().map(str::to_owned))
        .expect("the promotion's begin");
    // The rollback passes its preflight, then is held at the sync.
    fx.touch("hold-sync-1-start");
    let mut inner = base(&fx).args(["--execute", "--force"]).inner;
    inner.stdout(Stdio::piped()).stderr(Stdio::null());
    let child = inner.spawn().expect("spawn rollback");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fx.dir.join("at-sync-1-start").exists() {
        assert!(Instant::now() < deadline, "never reached the sync");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut late = std::process::Command::new("sleep")
        .arg("600")
        .env("CANARY_KIT_STEP", format!("{promotion}/deploy"))
        .spawn()
        .expect("spawn");
    fx.touch("go-sync-1-start");
    let out = child.wait_with_output().expect("wait");
    let _ = late.kill();
    let _ = late.wait();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let records: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let restart = records
        .iter()
        .find(|r| r["name"] == "rollback.step.restart")
        .expect("a restart record");
    assert_eq!(restart["status"], "failed", "{restart}");
    assert!(
        restart["msg"]
            .as_str()
            .unwrap_or_default()
            .contains(&late.id().to_string()),
        "{restart}"
    );
    let res = records
        .iter()
        .find(|r| r["name"] == "rollback.result")
        .expect("a result");
    assert_eq!(res["failed_step"], "restart", "{res}");
    assert!(
        !fs::read_to_string(fx.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .any(|l| l.starts_with("restart")),
        "the restart ran"
    );
    let violations = fs::read_to_string(fx.dir.join("violations")).unwrap_or_default();
    assert!(violations.is_empty(), "{violations}");
    cleanup(&fx);
}

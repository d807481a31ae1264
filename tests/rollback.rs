//! rollback end to end: real git repositories in temp dirs (tags v1.2.0,
//! v1.3.0, v1.10.0), a fake process manager that records the argv it was
//! called with, every failure point, re-runs, the lock, hostile verdicts, and
//! promotion.

use crate::util::{Output, cmd};
use canary_core::{Kind, Level, Record};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The fake process manager: appends its argv (one line per call) to
/// calls.log; `fail-<cmd>` makes that command fail, `slow-<cmd>` makes it
/// take 3 s, `hang-<cmd>` makes it hang; the canary's state is the file
/// `canary-running` (status exits 0 while it exists, 1 after a stop).
const FAKEPM: &str = r#"#!/bin/sh
d="$(cd "$(dirname "$0")" && pwd)"
c="$1"
line="$1"; shift
for a in "$@"; do line="$line $a"; done
echo "$line" >> "$d/calls.log"
if [ -e "$d/fail-$c" ]; then echo "fakepm: $c failed on purpose" >&2; exit 3; fi
if [ -e "$d/slow-$c" ]; then sleep 3; fi
if [ -e "$d/hang-$c" ]; then sleep 30; fi
case "$c" in
  status) [ -e "$d/canary-running" ] && exit 0; exit 1 ;;
  stop) rm -f "$d/canary-running" ;;
  restart|deploy) touch "$d/prod-running" ;;
esac
echo "fakepm: $c ok"
exit 0
"#;

/// A temp dir holding a release repository and the fake process manager.
pub(crate) struct Fx {
    pub(crate) dir: PathBuf,
    pub(crate) repo: PathBuf,
    commits: Vec<(String, String)>,
}

impl Drop for Fx {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("running git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Fx {
    /// Releases v1.2.0, v1.3.0 and v1.10.0 (one commit each, annotated and
    /// lightweight tags mixed), HEAD on main at v1.10.0, canary running.
    pub(crate) fn new(name: &str) -> Fx {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "canary-kit-rollback-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        let repo = dir.join("repo");
        fs::create_dir_all(&repo).expect("mkdir");
        git_in(&repo, &["init", "-q"]);
        let profiles = repo.join("config/profiles");
        fs::create_dir_all(&profiles).expect("mkdir");
        fs::write(profiles.join("prod.yaml"), "trading:\n  mode: normal\n").expect("write");
        let mut commits = Vec::new();
        for (i, v) in ["v1.2.0", "v1.3.0", "v1.10.0"].iter().enumerate() {
            fs::write(repo.join("VERSION"), format!("{v}\n")).expect("write");
            fs::write(
                profiles.join("canary.yaml"),
                format!("trading:\n  mode: reduce_only\n# {v}\n"),
            )
            .expect("write");
            git_in(&repo, &["add", "-A"]);
            git_in(&repo, &["commit", "-q", "-m", v]);
            if i == 1 {
                git_in(&repo, &["tag", "-a", "-m", v, v]);
            } else {
                git_in(&repo, &["tag", v]);
            }
            commits.push(((*v).to_owned(), git_in(&repo, &["rev-parse", "HEAD"])));
        }
        // A tag that is not a release is never a target.
        git_in(&repo, &["tag", "nightly"]);
        let pm = dir.join("fakepm");
        fs::write(&pm, FAKEPM).expect("write fakepm");
        let mut perm = fs::metadata(&pm).expect("meta").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        fs::set_permissions(&pm, perm).expect("chmod");
        fs::write(dir.join("canary-running"), "").expect("write");
        Fx { dir, repo, commits }
    }

    pub(crate) fn commit(&self, tag: &str) -> String {
        self.commits
            .iter()
            .find(|(t, _)| t == tag)
            .map(|(_, c)| c.clone())
            .expect("known tag")
    }

    pub(crate) fn head(&self) -> String {
        git_in(&self.repo, &["rev-parse", "HEAD"])
    }

    pub(crate) fn pm(&self, sub: &str) -> String {
        json!([self.dir.join("fakepm").display().to_string(), sub]).to_string()
    }

    pub(crate) fn touch(&self, name: &str) {
        fs::write(self.dir.join(name), "").expect("touch");
    }

    pub(crate) fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The calls log once `name` shows in it: the watch and its gate run
    /// detached, so their first line may land just after rollback returns.
    fn calls_with(&self, name: &str) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let calls = self.calls();
            if calls.iter().any(|c| c == name) || std::time::Instant::now() > deadline {
                return calls;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub(crate) fn state(&self) -> PathBuf {
        self.repo.join(".git/canary-kit")
    }

    /// rollback with every command pointed at the fake process manager.
    pub(crate) fn rollback(&self) -> crate::util::Cmd {
        self.rollback_except(&[])
    }

    /// [`Fx::rollback`] without the named flags (to give them otherwise).
    pub(crate) fn rollback_except(&self, skip: &[&str]) -> crate::util::Cmd {
        let mut c = cmd("rollback").args(["--repo", &self.repo.display().to_string()]);
        for (flag, sub) in [
            ("--stop-cmd", "stop"),
            ("--status-cmd", "status"),
            ("--close-positions-cmd", "close"),
            ("--sync-cmd", "sync"),
            ("--restart-cmd", "restart"),
            ("--deploy-cmd", "deploy"),
            ("--watch-cmd", "watch"),
            ("--watch-gate-cmd", "gate"),
        ] {
            if !skip.contains(&flag) {
                c = c.args([flag, &self.pm(sub)]);
            }
        }
        if !skip.contains(&"--start-grace") {
            c = c.args(["--start-grace", "2s"]);
        }
        c
    }

    pub(crate) fn audit(&self) -> Vec<Value> {
        fs::read_to_string(self.state().join("audit.ndjson"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit lines are JSON"))
            .collect()
    }
}

/// The journal's entries.
pub(crate) fn journal(fx: &Fx) -> Vec<Value> {
    fs::read_to_string(fx.state().join("journal.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal lines are JSON"))
        .collect()
}

/// Now minus `secs` seconds, truncated to the second (so at least `secs` ago).
pub(crate) fn ts_ago(secs: i64) -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - secs)
        .expect("timestamp")
        .to_string()
}

/// A verdict judged just now (a fresh one: rollback refuses stale verdicts).
pub(crate) fn verdict(decision: &str, extra: &str) -> String {
    verdict_at(&ts_ago(0), decision, extra)
}

pub(crate) fn verdict_at(ts: &str, decision: &str, extra: &str) -> String {
    // The exit judge gives each decision.
    let exit = match decision {
        "go" | "continue" | "advance" | "promote" => 0,
        "rollback" | "stop" | "pause" | "no-go" => 1,
        _ => 3,
    };
    format!(
        r#"{{"v":1,"ts":"{ts}","tool":"judge","target":"http://127.0.0.1:8080","kind":"verdict","name":"judge.verdict","level":"crit","value":"{decision}","msg":"m","decision":"{decision}","phase":"b","scope":"overall","reasons":[],"window":{{"start":"2026-11-25T03:30:00Z","elapsed_s":86400,"orders":60,"complete":true,"min_duration_s":86400,"min_orders":50}},"exit":{exit}{extra}}}
"#
    )
}

pub(crate) fn promote_verdict() -> String {
    promote_verdict_at(&ts_ago(0))
}

pub(crate) fn promote_verdict_at(ts: &str) -> String {
    verdict_at(ts, "promote", "").replace(r#""level":"crit""#, r#""level":"ok""#)
}

pub(crate) fn steps(out: &Output) -> Vec<(String, String)> {
    out.records()
        .into_iter()
        .filter(|r| r.name.contains(".step."))
        .map(|r| {
            let step = r.name.rsplit('.').next().unwrap_or_default().to_owned();
            (step, r.value.as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

pub(crate) fn result(out: &Output) -> Record {
    out.records()
        .into_iter()
        .find(|r| r.name.ends_with(".result"))
        .unwrap_or_else(|| panic!("no result record\n{}", out.stdout))
}

pub(crate) fn extra_str(r: &Record, key: &str) -> String {
    r.extra
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn dry_run_plans_the_previous_release_by_version_order() {
    let fx = Fx::new("dry");
    let ts = ts_ago(0);
    let out = fx.rollback().stdin(verdict_at(&ts, "rollback", "")).run();
    out.code(0);
    assert_eq!(
        steps(&out),
        pairs(&[
            ("stop", "planned"),
            ("close_positions", "planned"),
            ("checkout", "planned"),
            ("sync", "planned"),
            ("restart", "planned"),
        ])
    );
    // v1.10.0 > v1.3.0 > v1.2.0: in string order v1.10.0 would sort first.
    let checkout = out.record("rollback.step.checkout");
    assert_eq!(checkout.extra["to"]["tag"], "v1.3.0");
    assert_eq!(checkout.extra["to"]["commit"], fx.commit("v1.3.0"));
    let argv = checkout.extra["argv"].as_array().expect("argv");
    let at = argv
        .iter()
        .position(|a| a == "--end-of-options")
        .expect("end of options");
    assert_eq!(argv[at + 1], "refs/tags/v1.3.0");
    let res = result(&out);
    assert_eq!(res.value, "planned");
    assert_eq!(res.extra["head"]["tag"], "v1.10.0");
    assert_eq!(
        res.extra["target_source"],
        "previous release by version order"
    );
    // A dry run takes no lock: its plan is a snapshot, and it says so.
    assert_eq!(res.extra["snapshot"], true);
    assert!(res.msg.contains("snapshot"), "{}", res.msg);
    assert!(!fx.state().join("rollback.lock").exists());
    // Nothing ran, nothing moved, the run is audited.
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    let audit = fx.audit();
    assert!(audit.iter().any(|r| r["name"] == "rollback.trigger"
        && r["verdict"]["ts"] == ts.as_str()
        && r["mode"] == "dry-run"));
}

#[test]
fn execute_runs_every_step_then_a_second_run_does_no_harm() {
    let fx = Fx::new("exec");
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    assert_eq!(
        steps(&out),
        pairs(&[
            ("stop", "done"),
            ("close_positions", "done"),
            ("checkout", "done"),
            ("sync", "done"),
            ("restart", "done"),
        ])
    );
    assert_eq!(
        fx.calls(),
        ["status", "stop", "status", "close", "sync", "restart"]
    );
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    let stop = out.record("rollback.step.stop");
    for key in ["argv", "started", "ended", "exit_status", "stderr_tail"] {
        assert!(stop.extra.contains_key(key), "{key} missing: {stop:?}");
    }
    assert_eq!(stop.extra["exit_status"], 0);
    assert_eq!(result(&out).value, "done");

    // Second run, same verdict: the repo is already at v1.3.0 (not rolled
    // back again to v1.2.0), the canary already stopped, nothing repeated.
    let again = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    again.code(0);
    assert_eq!(
        steps(&again),
        pairs(&[
            ("stop", "skipped"),
            ("close_positions", "skipped"),
            ("checkout", "skipped"),
            ("sync", "skipped"),
            ("restart", "skipped"),
        ])
    );
    assert!(
        again
            .record("rollback.step.checkout")
            .msg
            .contains("already completed")
    );
    // The rollback is complete: the stop is skipped too, without even a
    // status query (a stop now could hit the production bot just restarted).
    assert!(
        again
            .record("rollback.step.stop")
            .msg
            .contains("already completed"),
        "{}",
        again.record("rollback.step.stop").msg
    );
    assert_eq!(result(&again).value, "already-done");
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    assert_eq!(
        fx.calls().len(),
        6,
        "nothing run again, not even a status query: {:?}",
        fx.calls()
    );
    // Both runs are in the audit log, each naming its verdict.
    let triggers: Vec<_> = fx
        .audit()
        .into_iter()
        .filter(|r| r["name"] == "rollback.trigger" && r["mode"] == "execute")
        .collect();
    assert_eq!(triggers.len(), 2);
    assert_ne!(triggers[0]["run_id"], triggers[1]["run_id"]);
}

#[test]
fn detached_head_at_a_release_rolls_back() {
    let fx = Fx::new("detached");
    git_in(&fx.repo, &["checkout", "-q", "--detach", "v1.10.0"]);
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    assert_eq!(result(&out).extra["head"]["branch"], Value::Null);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

#[test]
fn head_not_on_a_tag_needs_an_explicit_target() {
    let fx = Fx::new("untagged");
    fs::write(fx.repo.join("VERSION"), "hotfix\n").expect("write");
    git_in(&fx.repo, &["commit", "-q", "-am", "hotfix"]);
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    let rec = out.record("rollback.config");
    assert!(rec.msg.contains("not at a release tag"), "{}", rec.msg);
    assert!(rec.msg.contains("--to TAG"), "{}", rec.msg);
    assert!(fx.calls().is_empty());
    let out = fx
        .rollback()
        .args(["--to", "v1.3.0"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    assert_eq!(result(&out).extra["target_source"], "--to");
}

#[test]
fn no_earlier_release_is_a_clear_error() {
    let fx = Fx::new("earliest");
    git_in(&fx.repo, &["checkout", "-q", "--detach", "v1.2.0"]);
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    assert!(
        out.record("rollback.config")
            .msg
            .contains("no release tag earlier than v1.2.0")
    );
    assert!(
        out.stderr
            .contains("rollback: error: no release tag earlier")
    );
    assert!(fx.calls().is_empty());
    assert_eq!(fx.head(), fx.commit("v1.2.0"));
}

#[test]
fn previous_of_v1_3_0_is_v1_2_0() {
    let fx = Fx::new("mid");
    git_in(&fx.repo, &["checkout", "-q", "--detach", "v1.3.0"]);
    let out = fx.rollback().stdin(verdict("rollback", "")).run();
    out.code(0);
    assert_eq!(
        out.record("rollback.step.checkout").extra["to"]["tag"],
        "v1.2.0"
    );
}

/// Run with one failure injected; check the stop point, message, exit code.
fn fail_at(step: &str, marker: Option<&str>) -> (Fx, Output) {
    let fx = Fx::new(&format!("fail-{step}"));
    if let Some(m) = marker {
        fx.touch(m);
    }
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(1);
    let failed = out.record(&format!("rollback.step.{step}"));
    assert_eq!(failed.value, "failed");
    assert_eq!(failed.level, Level::Crit);
    let res = result(&out);
    assert_eq!(res.value, "failed");
    assert_eq!(extra_str(&res, "failed_step"), step);
    assert!(res.msg.contains("Next:"), "{}", res.msg);
    assert!(out.stderr.is_empty() || !out.stderr.contains("panicked"));
    (fx, out)
}

#[test]
fn stop_fails() {
    let (fx, out) = fail_at("stop", Some("fail-stop"));
    let rec = out.record("rollback.step.stop");
    assert!(extra_str(&rec, "stderr_tail").contains("stop failed on purpose"));
    assert_eq!(rec.extra["exit_status"], 3);
    let res = result(&out);
    assert!(extra_str(&res, "state").contains("may still be running"));
    assert!(extra_str(&res, "next").contains("make sure the canary is stopped"));
    assert_eq!(
        res.extra["not_run"],
        json!(["close_positions", "checkout", "sync", "restart"])
    );
    assert_eq!(fx.calls(), ["status", "stop"]);
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
}

#[test]
fn close_positions_hook_fails() {
    let (fx, out) = fail_at("close_positions", Some("fail-close"));
    let res = result(&out);
    assert!(extra_str(&res, "state").contains("open positions may remain"));
    assert!(extra_str(&res, "next").contains("--skip-close-positions"));
    assert_eq!(fx.calls(), ["status", "stop", "status", "close"]);
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
}

/// Issue: a dirty tree was found at the checkout, after the canary was
/// stopped and its positions closed; and local edits that do not conflict
/// were carried silently into the "rolled back" release. The preflight finds
/// both before any step, in a dry run too.
#[test]
fn a_dirty_tree_is_found_before_anything_runs() {
    let fx = Fx::new("dirty");
    // A conflicting edit (VERSION differs between releases) and one that
    // would not conflict (prod.yaml is the same in every release).
    fs::write(fx.repo.join("VERSION"), "local edit\n").expect("write");
    fs::write(fx.repo.join("config/profiles/prod.yaml"), "local: edit\n").expect("write");
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    let pre = out.record("rollback.preflight");
    assert_eq!(pre.extra["check"], "tree");
    assert!(
        pre.msg.contains("VERSION") && pre.msg.contains("prod.yaml"),
        "{}",
        pre.msg
    );
    assert_eq!(result(&out).value, "refused");
    assert!(fx.calls().is_empty(), "nothing ran: {:?}", fx.calls());
    assert!(fx.dir.join("canary-running").exists());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    // Only the non-conflicting edit: still refused (never carried silently).
    git_in(&fx.repo, &["checkout", "--", "VERSION"]);
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    assert!(out.record("rollback.preflight").msg.contains("prod.yaml"));
    assert!(fx.calls().is_empty());
    // The dry run shows it too, with the whole plan.
    let dry = fx.rollback().stdin(verdict("rollback", "")).run();
    dry.code(2);
    assert_eq!(dry.record("rollback.preflight").extra["check"], "tree");
    assert_eq!(steps(&dry).len(), 5, "{}", dry.stdout);
}

#[test]
fn sync_fails_then_a_rerun_resumes_at_the_same_target() {
    let (fx, out) = fail_at("sync", Some("fail-sync"));
    let res = result(&out);
    assert!(extra_str(&res, "state").contains("the bot is not running"));
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    assert!(!fx.calls().contains(&"restart".to_owned()));
    // Fixed; the re-run finishes this rollback, it does not start another.
    fs::remove_file(fx.dir.join("fail-sync")).expect("rm");
    let again = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    again.code(0);
    assert_eq!(
        steps(&again),
        pairs(&[
            ("stop", "skipped"),
            ("close_positions", "skipped"),
            ("checkout", "skipped"),
            ("sync", "done"),
            ("restart", "done"),
        ])
    );
    assert_eq!(result(&again).extra["target_source"], "resumed");
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

#[test]
fn restart_fails() {
    let (fx, out) = fail_at("restart", Some("fail-restart"));
    let res = result(&out);
    assert!(extra_str(&res, "state").contains("did not start"));
    assert!(extra_str(&res, "next").contains("start it by hand"));
    let rec = out.record("rollback.step.restart");
    assert!(extra_str(&rec, "stderr_tail").contains("restart failed on purpose"));
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

#[test]
fn a_hanging_step_times_out() {
    let fx = Fx::new("hang");
    fx.touch("hang-sync");
    let out = fx
        .rollback()
        .args(["--execute", "--step-timeout", "1s"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(1);
    let rec = out.record("rollback.step.sync");
    assert_eq!(rec.extra["timed_out"], true);
    assert!(rec.msg.contains("timed out after 1s"), "{}", rec.msg);
    assert!(out.elapsed < Duration::from_secs(20));
}

#[test]
fn a_concurrent_run_is_refused_by_the_lock() {
    let fx = Fx::new("lock");
    fx.touch("slow-stop");
    let first = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""));
    let handle = std::thread::spawn(move || first.run());
    let lock = fx.state().join("rollback.lock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !lock.exists() {
        assert!(Instant::now() < deadline, "first run never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    second.code(2);
    let rec = second.record("rollback.lock");
    assert_eq!(rec.value, "held");
    assert!(rec.msg.contains("another rollback"), "{}", rec.msg);
    assert_eq!(result(&second).value, "refused");
    let first = handle.join().expect("first run");
    first.code(0);
    assert_eq!(fx.calls().iter().filter(|c| *c == "stop").count(), 1);
}

#[test]
fn hostile_verdict_fields_are_rejected_and_recorded() {
    for bad in ["v1;rm -rf /", "--upload-pack=x", "../../etc"] {
        for field in ["to_tag", "tag"] {
            let fx = Fx::new("hostile");
            let extra = format!(r#","{field}":{}"#, json!(bad));
            let out = fx
                .rollback()
                .args(["--execute"])
                .stdin(verdict("rollback", &extra))
                .run();
            out.code(2);
            let rec = out.record("rollback.rejected");
            assert_eq!(rec.kind, Kind::Error);
            assert_eq!(rec.extra["field"], field);
            assert_eq!(rec.value, bad);
            assert!(rec.msg.contains("not acted on"), "{}", rec.msg);
            assert!(fx.calls().is_empty(), "{bad}: {:?}", fx.calls());
            assert_eq!(fx.head(), fx.commit("v1.10.0"));
            assert!(
                fx.audit().iter().any(|r| r["name"] == "rollback.rejected"),
                "rejection audited"
            );
        }
    }
    // Wrong types and unknown decisions too.
    let fx = Fx::new("types");
    let input = [
        verdict("rollback", "").replace(r#""decision":"rollback""#, r#""decision":["rollback"]"#),
        verdict("rollback; reboot", ""),
        verdict("rollback", r#","to_tag":42"#),
    ]
    .concat();
    let out = fx.rollback().args(["--execute"]).stdin(input).run();
    out.code(2);
    assert_eq!(
        out.records()
            .iter()
            .filter(|r| r.name == "rollback.rejected")
            .count(),
        3
    );
    assert!(fx.calls().is_empty());
    // A hostile --to on the command line is refused the same way.
    let out = fx
        .rollback()
        .args(["--execute", "--to=--upload-pack=x"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    assert!(
        out.record("rollback.config")
            .msg
            .contains("--to '--upload-pack=x': contains '='")
    );
    assert!(fx.calls().is_empty());
}

#[test]
fn a_valid_to_tag_in_the_verdict_is_used() {
    let fx = Fx::new("totag");
    let out = fx
        .rollback()
        .stdin(verdict("rollback", r#","to_tag":"v1.2.0""#))
        .run();
    out.code(0);
    assert_eq!(
        out.record("rollback.step.checkout").extra["to"]["tag"],
        "v1.2.0"
    );
    let out = fx
        .rollback()
        .stdin(verdict("rollback", r#","to_tag":"v9.9.9""#))
        .run();
    out.code(2);
    assert!(
        out.record("rollback.config")
            .msg
            .contains("no such release tag")
    );
}

#[test]
fn malformed_lines_do_not_hide_a_later_verdict() {
    let fx = Fx::new("malformed");
    let input = format!("{{not json\n\u{1}garbage\n{}", verdict("rollback", ""));
    let out = fx.rollback().stdin(input).run();
    out.code(0);
    let bad: Vec<_> = out
        .records()
        .into_iter()
        .filter(|r| r.name == "input.malformed")
        .collect();
    assert_eq!(bad.len(), 2);
    assert_eq!(result(&out).value, "planned");
}

#[test]
fn a_promote_verdict_never_rolls_back() {
    let fx = Fx::new("promote-no-rollback");
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(promote_verdict())
        .run();
    out.code(0);
    let trig = out.record("rollback.trigger");
    assert_eq!(trig.extra["action"], "none");
    assert_eq!(result(&out).value, "nothing-to-do");
    assert!(steps(&out).is_empty());
    assert!(fx.calls().is_empty());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
}

#[test]
fn a_rollback_verdict_never_promotes() {
    let fx = Fx::new("rollback-no-promote");
    for decision in ["rollback", "stop"] {
        let out = fx
            .rollback()
            .args(["--promote", "--execute"])
            .stdin(verdict(decision, ""))
            .run();
        out.code(0);
        assert_eq!(out.record("promote.trigger").extra["action"], "none");
        assert_eq!(result(&out).value, "nothing-to-do");
    }
    assert!(fx.calls().is_empty());
    assert!(!fx.state().join("reports").exists());
}

#[test]
fn other_decisions_are_nothing_to_do() {
    let fx = Fx::new("nothing");
    for d in ["go", "no-go", "continue", "advance", "extend", "pause"] {
        let out = fx
            .rollback()
            .args(["--execute"])
            .stdin(verdict(d, ""))
            .run();
        out.code(0);
        assert_eq!(result(&out).value, "nothing-to-do", "{d}");
    }
    assert!(fx.calls().is_empty());
}

#[test]
fn a_stop_verdict_stops_only_unless_full() {
    let fx = Fx::new("stop");
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("stop", ""))
        .run();
    out.code(0);
    assert_eq!(steps(&out), pairs(&[("stop", "done")]));
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    let out = fx
        .rollback()
        .args(["--execute", "--full"])
        .stdin(verdict("stop", ""))
        .run();
    out.code(0);
    assert_eq!(steps(&out).len(), 5);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

#[test]
fn fleet_streams_act_on_the_overall_verdict() {
    let fx = Fx::new("fleet");
    let target = |d: &str| verdict(d, "").replace(r#""scope":"overall""#, r#""scope":"target""#);
    let input = [
        target("rollback"),
        target("continue"),
        verdict("continue", ""),
    ]
    .concat();
    let out = fx.rollback().stdin(input).run();
    out.code(0);
    assert_eq!(result(&out).value, "nothing-to-do");
    let input = [target("rollback"), verdict("rollback", "")].concat();
    let out = fx.rollback().stdin(input).run();
    out.code(0);
    assert_eq!(result(&out).value, "planned");
}

#[test]
fn no_verdict_is_unevaluable_and_force_is_recorded() {
    let fx = Fx::new("force");
    let out = fx.rollback().stdin("").run();
    out.code(2);
    assert!(out.record("rollback.config").msg.contains("no verdict"));
    let out = fx.rollback().args(["--force", "--execute"]).run();
    out.code(0);
    let trig = out.record("rollback.trigger");
    assert_eq!(trig.extra["forced"], true);
    assert_eq!(trig.value, "force");
    assert!(
        fx.audit()
            .iter()
            .any(|r| r["name"] == "rollback.trigger" && r["forced"] == true)
    );
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

#[test]
fn closing_positions_must_be_configured_or_skipped() {
    let fx = Fx::new("close");
    let out = cmd("rollback")
        .args(["--repo", &fx.repo.display().to_string()])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    // The whole plan is shown, the unconfigured step marked blocked.
    let close = out.record("rollback.step.close_positions");
    assert_eq!(close.value, "blocked");
    assert!(close.msg.contains("flatten_and_stop"), "{}", close.msg);
    assert_eq!(steps(&out).len(), 5, "{}", out.stdout);
    assert!(
        out.records()
            .iter()
            .any(|r| r.name == "rollback.preflight" && r.extra["check"] == "close_positions")
    );
    let out = cmd("rollback")
        .args([
            "--repo",
            &fx.repo.display().to_string(),
            "--skip-close-positions",
        ])
        .stdin(verdict("rollback", ""))
        .run();
    // systemctl and uv are not on this host: the preflight says so (exit 2)
    // and still shows the plan.
    let rec = out.record("rollback.step.close_positions");
    assert_eq!(rec.value, "skipped");
    assert_eq!(rec.level, Level::Warn);
    // The documented defaults, shown in the plan.
    assert_eq!(
        out.record("rollback.step.stop").extra["argv"],
        json!(["systemctl", "stop", "gpt-trader-canary"])
    );
    assert_eq!(
        out.record("rollback.step.sync").extra["argv"],
        json!(["uv", "sync"])
    );
    assert_eq!(
        out.record("rollback.step.restart").extra["argv"],
        json!(["uv", "run", "gpt-trader", "run", "--profile", "prod"])
    );
    let out = cmd("rollback")
        .args([
            "--repo",
            &fx.repo.display().to_string(),
            "--skip-close-positions",
            "--manager",
            "docker",
        ])
        .stdin(verdict("rollback", ""))
        .run();
    assert_eq!(
        out.record("rollback.step.stop").extra["argv"],
        json!(["docker", "stop", "gpt-trader-canary"])
    );
}

#[test]
fn a_config_file_supplies_the_commands() {
    let fx = Fx::new("config");
    let pm = fx.dir.join("fakepm").display().to_string();
    let config = json!({
        "repo": "repo",
        "commands": {
            "stop": [pm, "stop"],
            "status": [pm, "status"],
            "close_positions": [pm, "close"],
            "sync": [pm, "sync"],
            "restart": [pm, "restart"]
        },
        "timeouts": {"sync": "10m"},
        "start_grace": "2s"
    });
    let path = fx.dir.join("rollback.json");
    fs::write(&path, config.to_string()).expect("write");
    let out = cmd("rollback")
        .args(["--config", &path.display().to_string(), "--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    assert_eq!(
        fx.calls(),
        ["status", "stop", "status", "close", "sync", "restart"]
    );
    assert_eq!(out.record("rollback.step.sync").extra["timeout_s"], 600.0);
    fs::write(&path, r#"{"repo": "repo", "comands": {}}"#).expect("write");
    let out = cmd("rollback")
        .args(["--config", &path.display().to_string()])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    assert!(out.record("rollback.config").msg.contains("unknown field"));
}

#[test]
fn the_example_config_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fx = Fx::new("example");
    let out = cmd("rollback")
        .args([
            "--config",
            &root
                .join("examples/rollback/rollback.json")
                .display()
                .to_string(),
            "--repo",
            &fx.repo.display().to_string(),
        ])
        .args([root.join("examples/rollback/verdict-rollback.ndjson")]);
    // The example verdict is a recorded one: older than the example's
    // max_verdict_age, it is refused; a wider bound on the command line
    // (flags over the file) reads it.
    let stale = out.run();
    stale.code(2);
    assert_eq!(stale.record("rollback.rejected").extra["field"], "ts");
    let out = cmd("rollback")
        .args([
            "--config",
            &root
                .join("examples/rollback/rollback.json")
                .display()
                .to_string(),
            "--repo",
            &fx.repo.display().to_string(),
            "--max-verdict-age",
            "36500d",
        ])
        .args([root.join("examples/rollback/verdict-rollback.ndjson")])
        .run();
    // The example's commands (uv, /srv/ops/flatten-canary) are not on this
    // host: the preflight names them, and the plan is still shown.
    out.code(2);
    assert_eq!(result(&out).value, "planned");
    assert!(out.records().iter().any(|r| r.name == "rollback.preflight"
        && r.extra["check"] == "command"
        && r.msg.contains("flatten-canary")));
}

#[test]
fn promotion_reports_diffs_stops_deploys_and_watches_once() {
    let fx = Fx::new("promote");
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict())
        .run();
    out.code(0);
    assert_eq!(
        steps(&out),
        pairs(&[
            ("report", "done"),
            ("profile_diff", "done"),
            ("stop", "done"),
            ("deploy", "done"),
            ("watch", "done"),
        ])
    );
    let report_rec = out.record("promote.step.report");
    let report: Value =
        serde_json::from_slice(&fs::read(extra_str(&report_rec, "path")).expect("report written"))
            .expect("report is JSON");
    assert_eq!(report["decision"], "promote");
    assert_eq!(report["window"]["complete"], true);
    assert_eq!(report["release"]["tag"], "v1.10.0");
    let diff = out.record("promote.step.profile_diff");
    assert_eq!(diff.extra["identical"], false);
    assert!(extra_str(&diff, "diff").contains("+  mode: reduce_only"));
    let calls = fx.calls_with("watch");
    assert!(calls.contains(&"deploy".to_owned()), "{calls:?}");
    assert!(calls.contains(&"watch".to_owned()), "{calls:?}");
    assert!(calls.contains(&"gate".to_owned()), "{calls:?}");
    // Same verdict again: no second deploy.
    let again = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict())
        .run();
    again.code(0);
    assert_eq!(result(&again).value, "already-done");
    assert_eq!(
        fx.calls().iter().filter(|c| *c == "deploy").count(),
        1,
        "{:?}",
        fx.calls()
    );
    assert_eq!(
        fx.head(),
        fx.commit("v1.10.0"),
        "promotion never checks out"
    );
}

#[test]
fn promotion_needs_a_clean_complete_phase_b_verdict() {
    let fx = Fx::new("promote-gate");
    for bad in [
        promote_verdict().replace(r#""phase":"b""#, r#""phase":"a""#),
        promote_verdict().replace(r#""complete":true"#, r#""complete":false"#),
        promote_verdict().replace(r#""level":"ok""#, r#""level":"unknown""#),
        format!("{{garbage\n{}", promote_verdict()),
    ] {
        let out = fx
            .rollback()
            .args(["--promote", "--execute"])
            .stdin(bad)
            .run();
        out.code(2);
        assert_eq!(result(&out).value, "refused");
    }
    assert!(fx.calls().is_empty());
}

#[test]
fn closed_stdout_does_not_cut_a_rollback_short() {
    let fx = Fx::new("pipe");
    let bin = crate::util::bin("rollback");
    let script = format!(
        "printf '%s' \"$V\" | {} --repo {} --stop-cmd '{}' --status-cmd '{}' --close-positions-cmd '{}' --sync-cmd '{}' --restart-cmd '{}' --execute | head -c 1 >/dev/null; echo \"rc=${{PIPESTATUS[1]}}\"",
        bin.display(),
        fx.repo.display(),
        fx.pm("stop"),
        fx.pm("status"),
        fx.pm("close"),
        fx.pm("sync"),
        fx.pm("restart"),
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .env("V", verdict("rollback", ""))
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rc=0"),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    assert!(fx.calls().contains(&"restart".to_owned()));
    assert!(
        fx.audit()
            .iter()
            .any(|r| r["name"] == "rollback.result" && r["value"] == "done")
    );
}

#[test]
fn judge_verdicts_pipe_straight_into_rollback() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/judge/fleet.ndjson");
    let judged = cmd("judge").args(["--phase", "b"]).args([&fixture]).run();
    let overall: Vec<Record> = judged
        .records()
        .into_iter()
        .filter(|r| r.name == "judge.verdict" && r.extra.get("scope") == Some(&json!("overall")))
        .collect();
    let decision = overall
        .last()
        .and_then(|r| r.extra.get("decision"))
        .and_then(Value::as_str)
        .expect("judge emits an overall decision")
        .to_owned();
    let fx = Fx::new("pipeline");
    let out = fx.rollback().stdin(judged.stdout.clone()).run();
    out.code(0);
    let trig = out.record("rollback.trigger");
    assert_eq!(trig.value, decision.as_str());
    let want = if matches!(decision.as_str(), "rollback" | "stop") {
        "planned"
    } else {
        "nothing-to-do"
    };
    assert_eq!(result(&out).value, want);
    assert!(fx.calls().is_empty());
}

/// judge's clean Phase B fixture moved so that its window ends now: judge
/// at that moment gives a fresh promote verdict.
pub(crate) fn promote_stream_ending_now() -> (String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        fs::read_to_string(root.join("tests/fixtures/judge/b-promote.ndjson")).expect("fixture");
    let end: jiff::Timestamp = "2026-11-26T01:01:00Z".parse().expect("ts");
    let now = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).expect("now");
    let shift = now.duration_since(end);
    let moved: String = text
        .lines()
        .map(|line| {
            let mut v: Value = serde_json::from_str(line).expect("fixture line");
            let ts: jiff::Timestamp = v["ts"].as_str().expect("ts").parse().expect("ts");
            v["ts"] = json!((ts + shift).to_string());
            format!("{v}\n")
        })
        .collect();
    (moved, now.to_string())
}

/// `judge --transitions` writes each change of decision before its verdict:
/// piped into `rollback --promote`, the transitions are passed over (not
/// rejected, which would refuse the promotion) and the run acts on the
/// fresh overall verdict alone. A transition is never a verdict: alone,
/// even one that says promote, it is "no verdict" (exit 2, nothing run), and
/// a record of that name claiming kind verdict is rejected.
#[test]
fn judges_transitions_are_passed_over_and_never_acted_on() {
    let (stream, now) = promote_stream_ending_now();
    let judged = cmd("judge")
        .args(["--phase", "b", "--at", &now, "--probe-interval", "5m"])
        .args(["--transitions"])
        .stdin(stream)
        .run();
    judged.code(0);
    let transitions: Vec<&str> = judged
        .stdout
        .lines()
        .filter(|l| l.contains(r#""name":"judge.transition""#))
        .collect();
    assert!(transitions.len() >= 2, "{}", judged.stdout);
    let last = transitions.last().copied().unwrap_or_default();
    assert!(last.contains(r#""decision":"promote""#), "{last}");

    let fx = Fx::new("transitions");
    let out = fx
        .rollback()
        .args(["--promote"])
        .stdin(judged.stdout.clone())
        .run();
    out.code(0);
    assert_eq!(out.record("promote.trigger").extra["action"], "promote");
    assert_eq!(result(&out).value, "planned");
    assert!(!out.stdout.contains("rollback.rejected"), "{}", out.stdout);
    assert!(fx.calls().is_empty(), "a dry run runs nothing");

    // The promote transition alone: no verdict, nothing run.
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(format!("{last}\n"))
        .run();
    out.code(2);
    assert!(
        out.record("rollback.config")
            .msg
            .contains("no verdict in the input"),
        "{}",
        out.stdout
    );
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
    // The name with kind verdict is no side record: rejected, not taken.
    let forged = last.replace(r#""kind":"sample""#, r#""kind":"verdict""#);
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(format!("{forged}\n"))
        .run();
    out.code(2);
    assert_eq!(out.record("rollback.rejected").extra["field"], "name");
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
}

/// Defect: promotion was keyed on the verdict's `ts`, so every new promote
/// verdict deployed production again. It is keyed on the commit promoted.
#[test]
fn a_second_promote_verdict_for_the_same_commit_deploys_nothing() {
    let fx = Fx::new("promote-twice");
    let first = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict_at(&ts_ago(61)))
        .run();
    first.code(0);
    assert_eq!(result(&first).value, "done");
    // The watch and its gate run detached: both have written their line
    // before the log is taken as the baseline.
    fx.calls_with("watch");
    let calls = fx.calls_with("gate");
    assert_eq!(calls.iter().filter(|c| *c == "deploy").count(), 1);
    // A minute later, cron's next promote verdict for the same commit.
    let second = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict_at(&ts_ago(1)))
        .run();
    second.code(0);
    let res = result(&second);
    assert_eq!(res.value, "already-done");
    assert!(res.msg.contains("v1.10.0"), "{}", res.msg);
    assert!(res.msg.contains("already promoted"), "{}", res.msg);
    assert!(
        steps(&second).iter().all(|(_, status)| status == "skipped"),
        "{:?}",
        steps(&second)
    );
    assert_eq!(fx.calls(), calls, "nothing ran, not even a status query");
    // The journal: one promotion of v1.10.0, begun, every step's intent
    // and done, completed.
    let journal = journal(&fx);
    let begin = journal
        .iter()
        .find(|e| e["entry"] == "begin")
        .expect("begin");
    assert_eq!(begin["procedure"], "promote");
    assert_eq!(begin["from_commit"], fx.commit("v1.10.0"));
    assert_eq!(begin["from_tag"], "v1.10.0");
    assert_eq!(journal.iter().filter(|e| e["entry"] == "intent").count(), 5);
    assert_eq!(journal.iter().filter(|e| e["entry"] == "done").count(), 5);
    assert_eq!(
        journal.iter().filter(|e| e["entry"] == "complete").count(),
        1
    );
    // A dry run says the same.
    let dry = fx
        .rollback()
        .args(["--promote"])
        .stdin(promote_verdict())
        .run();
    dry.code(0);
    assert_eq!(result(&dry).value, "already-done");
}

/// A promotion that stopped half-way resumes on any later fresh verdict for
/// the same commit: finished steps are not repeated.
#[test]
fn a_failed_deploy_resumes_on_the_next_verdict_for_the_same_commit() {
    let fx = Fx::new("promote-resume");
    fx.touch("fail-deploy");
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict_at(&ts_ago(30)))
        .run();
    out.code(1);
    assert_eq!(extra_str(&result(&out), "failed_step"), "deploy");
    fs::remove_file(fx.dir.join("fail-deploy")).expect("rm");
    let again = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(promote_verdict())
        .run();
    again.code(0);
    assert_eq!(
        steps(&again),
        pairs(&[
            ("report", "skipped"),
            ("profile_diff", "skipped"),
            ("stop", "skipped"),
            ("deploy", "done"),
            ("watch", "done"),
        ])
    );
    assert_eq!(result(&again).value, "done");
}

/// Defect: verdicts of any age were acted on. A verdict older than
/// --max-verdict-age (default 5m), or dated ahead of the clock, is refused
/// (exit 2, recorded) for promotion and rollback alike, dry run included.
#[test]
fn stale_verdicts_never_trigger_anything() {
    let fx = Fx::new("stale-verdict");
    // Two promote verdicts a minute apart, the first 40 minutes old.
    for ago in [40 * 60, 39 * 60] {
        let out = fx
            .rollback()
            .args(["--promote", "--execute"])
            .stdin(promote_verdict_at(&ts_ago(ago)))
            .run();
        out.code(2);
        let rej = out.record("rollback.rejected");
        assert_eq!(rej.extra["field"], "ts");
        assert_eq!(rej.extra["max_age_s"], 300.0);
        assert!(extra_str(&rej, "reason").contains("older than"), "{rej:?}");
        assert_eq!(result(&out).value, "refused");
        assert!(out.stderr.contains("stale"), "{}", out.stderr);
    }
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
    assert!(!fx.state().join("reports").exists());
    assert!(journal(&fx).is_empty());
    // Rollback and stop verdicts: the same bound.
    for decision in ["rollback", "stop"] {
        for execute in [true, false] {
            let mut c = fx.rollback();
            if execute {
                c = c.args(["--execute"]);
            }
            let out = c.stdin(verdict_at(&ts_ago(40 * 60), decision, "")).run();
            out.code(2);
            assert_eq!(out.record("rollback.rejected").extra["field"], "ts");
            assert_eq!(result(&out).value, "refused");
            assert!(
                out.record("rollback.config").msg.contains("--force"),
                "names the human override for an interrupted rollback"
            );
            assert!(steps(&out).is_empty());
        }
    }
    // Dated ahead of the clock by more than a minute: refused too.
    let out = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict_at(&ts_ago(-10 * 60), "rollback", ""))
        .run();
    out.code(2);
    assert!(
        extra_str(&out.record("rollback.rejected"), "reason").contains("in the future"),
        "{}",
        out.stdout
    );
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    let audited = fx
        .audit()
        .into_iter()
        .filter(|r| r["name"] == "rollback.rejected" && r["field"] == "ts")
        .count();
    assert_eq!(audited, 7, "every refusal is in the audit log");
    // The bound is configurable: on the command line, and in the config file.
    let out = fx
        .rollback()
        .args(["--max-verdict-age", "1h"])
        .stdin(verdict_at(&ts_ago(40 * 60), "rollback", ""))
        .run();
    out.code(0);
    assert_eq!(result(&out).value, "planned");
    let trig = out.record("rollback.trigger");
    assert!(trig.extra["verdict_age_s"].as_f64().expect("age") >= 2400.0);
    assert_eq!(trig.extra["max_verdict_age_s"], 3600.0);
    let config = fx.dir.join("rollback.json");
    fs::write(&config, r#"{"max_verdict_age": "1h"}"#).expect("write");
    let out = fx
        .rollback()
        .args(["--config", &config.display().to_string()])
        .stdin(verdict_at(&ts_ago(40 * 60), "rollback", ""))
        .run();
    out.code(0);
    fs::write(&config, r#"{"max_verdict_age": "10m"}"#).expect("write");
    let out = fx
        .rollback()
        .args(["--config", &config.display().to_string()])
        .stdin(verdict_at(&ts_ago(40 * 60), "rollback", ""))
        .run();
    out.code(2);
    fs::write(&config, r#"{"max_verdict_age": "soon"}"#).expect("write");
    let out = fx
        .rollback()
        .args(["--config", &config.display().to_string()])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(2);
    assert!(
        out.record("rollback.config")
            .msg
            .contains("max_verdict_age")
    );
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
}

/// Defect: a completed rollback ran the stop command again on a re-run,
/// which stops the production bot the rollback restarted when the stop
/// command matches it.
#[test]
fn a_completed_rollback_runs_nothing_again_not_even_the_stop() {
    let fx = Fx::new("rollback-twice");
    let first = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    first.code(0);
    let calls = fx.calls();
    assert_eq!(
        calls,
        ["status", "stop", "status", "close", "sync", "restart"]
    );
    // The status command now sees something running: the production bot
    // the restart started, when the stop/status commands match it.
    fx.touch("canary-running");
    let second = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    second.code(0);
    assert_eq!(fx.calls(), calls, "nothing ran again: {:?}", fx.calls());
    assert!(fx.dir.join("canary-running").exists(), "not stopped");
    let stop = second.record("rollback.step.stop");
    assert_eq!(stop.value, "skipped");
    assert!(stop.msg.contains("already completed"), "{}", stop.msg);
    let res = result(&second);
    assert_eq!(res.value, "already-done");
    assert!(res.msg.contains("not even the stop"), "{}", res.msg);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

/// Defect: the lock was taken after planning, so a run that planned before
/// another run took the lock executed its stale plan after that run: a
/// second close, checkout, sync and restart (a second production bot).
/// `git` is wrapped so that the slow run pauses while reading HEAD.
#[test]
fn a_run_never_executes_a_plan_made_before_another_run_held_the_lock() {
    let fx = Fx::new("lock-plan");
    let real_git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .expect("sh")
            .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_owned();
    assert!(!real_git.is_empty(), "git on PATH");
    let wrap = fx.dir.join("slowgit");
    fs::create_dir_all(&wrap).expect("mkdir");
    let script = format!(
        "#!/bin/sh\ncase \"$*\" in *symbolic-ref*) touch '{}'; sleep 6 ;; esac\nexec '{real_git}' \"$@\"\n",
        fx.dir.join("git-paused").display()
    );
    fs::write(wrap.join("git"), script).expect("write");
    let mut perm = fs::metadata(wrap.join("git")).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    fs::set_permissions(wrap.join("git"), perm).expect("chmod");
    let path = format!(
        "{}:{}",
        wrap.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let slow = fx
        .rollback()
        .args(["--execute"])
        .env("PATH", &path)
        .stdin(verdict("rollback", ""));
    let handle = std::thread::spawn(move || slow.run());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !fx.dir.join("git-paused").exists() {
        assert!(Instant::now() < deadline, "the slow run never read HEAD");
        std::thread::sleep(Duration::from_millis(20));
    }
    // While the slow run is reading the repository, another run comes.
    let fast = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    let slow = handle.join().expect("slow run");
    let count = |what: &str| fx.calls().iter().filter(|c| *c == what).count();
    assert_eq!(
        (count("close"), count("sync"), count("restart")),
        (1, 1, 1),
        "one rollback, not two: {:?}\nfast: {}\nslow: {}",
        fx.calls(),
        fast.stdout,
        slow.stdout
    );
    // The slow run held the lock while it planned: the other was refused.
    fast.code(2);
    assert_eq!(fast.record("rollback.lock").value, "held");
    slow.code(0);
    assert_eq!(result(&slow).value, "done");
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

/// Every refusal says where things stand ("nothing was run") and what to
/// do next, and points to a section of docs/rollback.md that exists.
#[test]
fn every_refusal_says_nothing_ran_and_points_to_a_section_that_exists() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rollback.md"))
        .expect("docs/rollback.md");
    let section_exists = |s: &str| {
        doc.lines().any(|l| {
            let l = l.trim_start_matches('#').trim();
            l.starts_with(s) || l.starts_with(&format!("**{s}"))
        })
    };
    let fx = Fx::new("refusals");
    let execute = || fx.rollback().args(["--execute"]);
    let cases: Vec<(&str, crate::util::Cmd)> = vec![
        ("no verdict", execute().stdin("")),
        (
            "stale verdict",
            execute().stdin(verdict_at(&ts_ago(3600), "rollback", "")),
        ),
        (
            "unknown --to",
            execute()
                .args(["--to", "v9.9.9"])
                .stdin(verdict("rollback", "")),
        ),
        (
            "config file missing",
            execute()
                .args(["--config", "/nonexistent/rollback.json"])
                .stdin(verdict("rollback", "")),
        ),
        (
            "audit log unopenable",
            execute()
                .args(["--audit-log", &fx.dir.display().to_string()])
                .stdin(verdict("rollback", "")),
        ),
        (
            "promotion on malformed input",
            execute()
                .args(["--promote"])
                .stdin(format!("not json\n{}", promote_verdict())),
        ),
    ];
    let check = |label: &str, out: &Output| {
        out.code(2);
        let res = result(out);
        assert_eq!(res.value, "refused", "{label}: {}", out.stdout);
        assert!(res.msg.contains("nothing was run"), "{label}: {}", res.msg);
        let Some((_, rest)) = res.msg.split_once("docs/rollback.md, \"") else {
            panic!("{label}: no docs section in: {}", res.msg);
        };
        let section = rest.split('"').next().unwrap_or_default();
        assert!(
            section_exists(section),
            "{label}: no section {section:?} in docs/rollback.md"
        );
    };
    for (label, c) in cases {
        check(label, &c.run());
    }
    // A dirty tree: the preflight.
    fs::write(fx.repo.join("VERSION"), "local edit\n").expect("write");
    check(
        "dirty tree",
        &execute().stdin(verdict("rollback", "")).run(),
    );
    assert!(fx.calls().is_empty(), "{:?}", fx.calls());
}

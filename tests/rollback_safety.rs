//! rollback's safety under a tampered state directory, a full disk, a
//! process manager that cannot tell, a canary that ignores SIGTERM, hostile
//! repository config and forged verdicts: one regression test per finding
//! of the adversarial sweep (docs/rollback.md says what each rule is).

use crate::rollback::{Fx, git_in, result, verdict};
use crate::util::{Output, Sim, cmd};
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn write_exec(path: &Path, body: &str) {
    fs::write(path, body).expect("write script");
    let mut perm = fs::metadata(path).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    fs::set_permissions(path, perm).expect("chmod");
}

fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            !s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(false)
}

fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

fn run_rollback(fx: &Fx) -> Output {
    fx.rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run()
}

/// Issue: a progress file that could not be parsed was ignored with a
/// warning, so the next rollback verdict rolled back again, to the release
/// before. Now the journal is the history, and a journal that cannot be
/// read is a refusal.
#[test]
fn a_corrupt_or_torn_journal_is_a_refusal_never_no_progress() {
    let fx = Fx::new("corrupt-journal");
    run_rollback(&fx).code(0);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    let calls = fx.calls();
    let journal = fx.state().join("journal.ndjson");
    let good = fs::read(&journal).unwrap_or_else(|_| b"{}\n{}\n".to_vec());
    for bad in [
        b"{\"entry\":\"garbage\"}\n".to_vec(),
        good[..good.len() - 3].to_vec(),
        b"\xff\xfe\n".to_vec(),
    ] {
        fs::write(&journal, &bad).expect("corrupt");
        // The old progress file too: whatever a run keeps, garbage in it
        // never reads as "nothing done yet".
        fs::write(fx.state().join("rollback-progress.json"), b"{garbage").expect("write");
        let out = run_rollback(&fx);
        out.code(2);
        let rec = out.record("rollback.journal");
        assert!(rec.msg.contains("docs/rollback.md"), "{}", rec.msg);
        assert_eq!(result(&out).value, "refused");
        assert_eq!(fx.head(), fx.commit("v1.3.0"), "rolled back again");
        assert_eq!(fx.calls(), calls, "nothing ran");
    }
}

/// Issue: rollback (run as root) followed symlinks planted in
/// `REPO/.git/canary-kit`, a directory the bot's user can write:
/// `rollback-progress.json.tmp`, `audit.ndjson`, `restart.log`.
#[test]
fn planted_symlinks_in_the_state_dir_are_never_followed() {
    for name in [
        "journal.ndjson",
        "audit.ndjson",
        "rollback.lock",
        "restart.log",
        "rollback-progress.json.tmp",
    ] {
        let fx = Fx::new("symlink");
        let victim = fx.dir.join("victim");
        fs::write(&victim, "precious").expect("victim");
        fs::create_dir_all(fx.state()).expect("state");
        std::os::unix::fs::symlink(&victim, fx.state().join(name)).expect("plant");
        let out = run_rollback(&fx);
        assert_eq!(
            fs::read_to_string(&victim).expect("victim"),
            "precious",
            "{name}: written through"
        );
        assert!(
            fs::symlink_metadata(fx.state().join(name))
                .expect("still there")
                .file_type()
                .is_symlink(),
            "{name}: replaced"
        );
        match name {
            "restart.log" => {
                // Found at the restart: it fails, the log refused.
                out.code(1);
                assert_eq!(result(&out).extra["failed_step"], "restart");
                assert!(out.stdout.contains("symlink"), "{}", out.stdout);
            }
            "rollback-progress.json.tmp" => {
                out.code(0);
            }
            _ => {
                out.code(2);
                assert!(out.stderr.contains("symlink"), "{name}: {}", out.stderr);
                assert!(fx.calls().is_empty(), "{name}: {:?}", fx.calls());
            }
        }
    }
}

/// What a safe state directory is: a real directory (no symlink in its
/// path), owned by the running user, not writable by group or others.
#[test]
fn an_unsafe_state_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let fx = Fx::new("unsafe-state");
    let real = fx.dir.join("real-state");
    fs::create_dir_all(&real).expect("mkdir");
    let link = fx.dir.join("state-link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let loose = fx.dir.join("loose");
    fs::create_dir_all(&loose).expect("mkdir");
    fs::set_permissions(&loose, fs::Permissions::from_mode(0o777)).expect("chmod");
    let mut cases: Vec<(PathBuf, &str)> = vec![
        (link.clone(), "symlink"),
        (link.join("sub"), "symlink"),
        (loose.clone(), "writable by group or others"),
    ];
    let foreign = fx.dir.join("foreign");
    fs::create_dir_all(&foreign).expect("mkdir");
    let chowned = Command::new("chown")
        .args(["65534", &foreign.display().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if chowned {
        cases.push((foreign.clone(), "owned by uid 65534"));
    } else {
        eprintln!("skipping the foreign-owner case: chown needs root");
    }
    for (dir, why) in cases {
        for execute in [true, false] {
            let mut c = fx
                .rollback()
                .args(["--state-dir", &dir.display().to_string()]);
            if execute {
                c = c.args(["--execute"]);
            }
            let out = c.stdin(verdict("rollback", "")).run();
            out.code(2);
            let rec = out.record("rollback.config");
            assert!(rec.msg.contains(why), "{}: {}", dir.display(), rec.msg);
            assert!(rec.msg.contains("docs/rollback.md"), "{}", rec.msg);
        }
    }
    assert!(fx.calls().is_empty());
    assert_eq!(fs::read_dir(&real).expect("dir").count(), 0);
}

/// A small tmpfs, filled up (root only; `None` when it cannot be mounted).
struct FullDisk(PathBuf);

impl FullDisk {
    fn new(at: PathBuf) -> Option<FullDisk> {
        fs::create_dir_all(&at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs"])
            .arg(&at)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipping the full-disk cases: mounting a tmpfs needs root");
            return None;
        }
        Some(FullDisk(at))
    }

    fn fill(&self) {
        let _ = Command::new("dd")
            .args(["if=/dev/zero", "bs=4096"])
            .arg(format!("of={}", self.0.join("fill").display()))
            .stderr(std::process::Stdio::null())
            .status();
    }

    fn free(&self) {
        let _ = fs::remove_file(self.0.join("fill"));
    }
}

impl Drop for FullDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Issue: with the audit log on a full disk every step ran and the exit was
/// 0 with a 0-byte audit log; a lock write that failed on a full disk left a
/// lock that blocked every later run.
#[test]
fn a_full_disk_stops_the_run_before_any_step_and_leaves_no_lock_behind() {
    let fx = Fx::new("full-disk");
    let Some(disk) = FullDisk::new(fx.dir.join("full")) else {
        return;
    };
    // The audit log on the full disk.
    disk.fill();
    let out = fx
        .rollback()
        .args(["--execute", "--audit-log"])
        .arg_path(&disk.0.join("audit.ndjson"))
        .stdin(verdict("rollback", ""))
        .run();
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    assert!(out.stderr.contains("audit log"), "{}", out.stderr);
    assert!(fx.calls().is_empty(), "steps ran: {:?}", fx.calls());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    // The state directory on the full disk (made before it filled).
    disk.free();
    let state = disk.0.join("state");
    fs::create_dir_all(&state).expect("mkdir");
    disk.fill();
    // The audit log elsewhere, so that the lock and the journal meet the
    // full disk.
    let audit = fx.dir.join("audit-elsewhere.ndjson");
    let on_full = || {
        fx.rollback()
            .args(["--execute", "--state-dir"])
            .arg_path(&state)
            .args(["--audit-log"])
            .arg_path(&audit)
            .stdin(verdict("rollback", ""))
            .run()
    };
    let out = on_full();
    out.code(2);
    assert!(
        out.stderr.contains("its owner could not be written"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("cannot write the journal"),
        "{}",
        out.stderr
    );
    assert!(fx.calls().is_empty(), "steps ran: {:?}", fx.calls());
    // Space is back: nothing left behind blocks the next run.
    disk.free();
    let out = on_full();
    out.code(0);
    assert_eq!(result(&out).value, "done");
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

trait ArgPath {
    fn arg_path(self, p: &Path) -> Self;
}

impl ArgPath for crate::util::Cmd {
    fn arg_path(self, p: &Path) -> Self {
        self.args([p.display().to_string()])
    }
}

/// A fake `systemctl` on PATH: `is-active` and `stop` behave per `script`.
fn with_systemctl(fx: &Fx, script: &str) -> String {
    let bin = fx.dir.join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let d = fx.dir.display();
    write_exec(
        &bin.join("systemctl"),
        &format!("#!/bin/sh\nd='{d}'\necho \"systemctl $*\" >> \"$d/calls.log\"\n{script}\n"),
    );
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// rollback with the default (systemd) stop and status, the rest faked.
fn systemd_rollback(fx: &Fx, path: &str) -> Output {
    cmd("rollback")
        .env("PATH", path)
        .args(["--repo", &fx.repo.display().to_string(), "--execute"])
        .args([
            "--close-positions-cmd",
            &fx.pm("close"),
            "--sync-cmd",
            &fx.pm("sync"),
        ])
        .args(["--restart-cmd", &fx.pm("restart"), "--start-grace", "1s"])
        .args(["--stop-grace", "1s"])
        .stdin(verdict("rollback", ""))
        .run()
}

/// Issue: the canary was reported "already stopped (status command exited
/// 1)" when systemctl had failed ("System has not been booted with
/// systemd"), and the checkout ran under a bot that may still be trading.
/// For systemd only `is-active` exit 3 is stopped; any other failure is
/// "cannot tell", and nothing later runs.
#[test]
fn a_status_that_cannot_tell_stops_the_procedure_before_anything_changes() {
    let booted = "echo 'System has not been booted with systemd as init system (PID 1). Can'\"'\"'t operate.' >&2; exit 1";
    // Both fail.
    let fx = Fx::new("cannot-tell");
    let path = with_systemctl(&fx, booted);
    let out = systemd_rollback(&fx, &path);
    out.code(1);
    let stop = out.record("rollback.step.stop");
    assert_eq!(stop.value, "failed");
    assert_eq!(result(&out).extra["failed_step"], "stop");
    assert!(
        fx.calls().iter().all(|c| c.starts_with("systemctl")),
        "{:?}",
        fx.calls()
    );
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    // The stop "works" but whether the canary stopped cannot be told.
    let fx = Fx::new("cannot-tell-after");
    let path = with_systemctl(
        &fx,
        &format!("case \"$1\" in stop) exit 0 ;; *) {booted} ;; esac"),
    );
    let out = systemd_rollback(&fx, &path);
    out.code(1);
    let stop = out.record("rollback.step.stop");
    assert_eq!(stop.value, "failed");
    assert_eq!(stop.extra["unit_state"], "cannot-tell");
    assert!(stop.msg.contains("cannot be told"), "{}", stop.msg);
    assert!(stop.msg.contains("not been booted"), "{}", stop.msg);
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    assert!(
        fx.calls().iter().all(|c| c.starts_with("systemctl")),
        "{:?}",
        fx.calls()
    );
    // Exit 3 is inactive: stopped, the rollback goes on.
    let fx = Fx::new("inactive");
    let path = with_systemctl(&fx, "case \"$1\" in stop) exit 0 ;; *) exit 3 ;; esac");
    let out = systemd_rollback(&fx, &path);
    out.code(0);
    assert_eq!(out.record("rollback.step.stop").value, "skipped");
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

/// The real bot ignores SIGTERM: it was still running, `/health` 200, 150 s
/// after SIGTERM. The stop is verified within the stop grace; a canary still
/// running after it — or still answering its health URL whatever the
/// process manager says — is never reported stopped, and the message says
/// what the process manager does next.
#[test]
fn a_canary_that_ignores_sigterm_is_never_reported_stopped() {
    // systemd says active after the stop returned.
    let fx = Fx::new("sigterm-systemd");
    let path = with_systemctl(&fx, "case \"$1\" in stop) exit 0 ;; *) exit 0 ;; esac");
    let started = Instant::now();
    let out = systemd_rollback(&fx, &path);
    out.code(1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the grace was waited"
    );
    let stop = out.record("rollback.step.stop");
    assert_eq!(stop.value, "failed");
    assert_eq!(stop.extra["unit_state"], "running");
    assert_eq!(stop.extra["stop_grace_s"], 1.0);
    for want in [
        "ignores SIGTERM",
        "TimeoutStopSec",
        "SIGKILL",
        "docs/rollback.md",
    ] {
        assert!(stop.msg.contains(want), "{want}: {}", stop.msg);
    }
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    // The process manager says stopped, but the canary still answers.
    let fx = Fx::new("sigterm-health");
    let sim = Sim::start("healthy-b");
    let out = fx
        .rollback()
        .args(["--execute", "--stop-grace", "1s", "--canary-health"])
        .args([format!("{}/health", sim.url)])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(1);
    let stop = out.record("rollback.step.stop");
    assert_eq!(stop.value, "failed");
    assert!(
        stop.msg.contains("still answers its health URL"),
        "{}",
        stop.msg
    );
    assert_eq!(fx.calls()[..2], ["status", "stop"]);
    assert!(
        !fx.calls().contains(&"close".to_owned()),
        "{:?}",
        fx.calls()
    );
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
    drop(sim);
    // Gone from /health too: stopped.
    let fx = Fx::new("sigterm-gone");
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = free.local_addr().expect("addr").port();
    drop(free);
    let out = fx
        .rollback()
        .args(["--execute", "--canary-health"])
        .args([format!("http://127.0.0.1:{port}/health")])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    assert!(
        out.record("rollback.step.stop")
            .msg
            .contains("connection refused")
    );
}

/// Issue: a step timeout killed only the direct child: a grandchild of
/// `uv sync` kept writing after "killed".
#[test]
fn a_timeout_kills_the_whole_process_group() {
    let fx = Fx::new("grandchild");
    let pidfile = fx.dir.join("grandchild.pid");
    let sync = json!([
        "sh",
        "-c",
        format!("sleep 60 & echo $! > '{}'; wait", pidfile.display())
    ])
    .to_string();
    let out = fx
        .rollback_except(&["--sync-cmd"])
        .args(["--execute", "--sync-cmd", &sync, "--step-timeout", "2s"])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(1);
    let rec = out.record("rollback.step.sync");
    assert_eq!(rec.extra["timed_out"], true);
    let pid: u32 = fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = alive(pid);
    kill(pid);
    assert!(!left, "the grandchild {pid} outlived the timeout");
}

/// Issue: root ran the repository's code: its `post-checkout` hook and its
/// `core.fsmonitor` command ran during the checkout.
#[test]
fn the_repositorys_hooks_and_fsmonitor_never_run() {
    let fx = Fx::new("hooks");
    let ran = fx.dir.join("ran");
    let script = format!("#!/bin/sh\necho \"$0\" >> '{}'\nexit 0\n", ran.display());
    let hooks = fx.repo.join(".git/hooks");
    fs::create_dir_all(&hooks).expect("mkdir");
    for hook in ["post-checkout", "pre-commit", "reference-transaction"] {
        write_exec(&hooks.join(hook), &script);
    }
    let fsmonitor = fx.dir.join("fsmonitor");
    write_exec(&fsmonitor, &script);
    git_in(
        &fx.repo,
        &["config", "core.fsmonitor", &fsmonitor.display().to_string()],
    );
    let out = run_rollback(&fx);
    out.code(0);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
    let ran = fs::read_to_string(&ran).unwrap_or_default();
    assert!(ran.is_empty(), "repository code ran: {ran}");
    let argv = &out.record("rollback.step.checkout").extra["argv"];
    assert!(
        argv.to_string().contains("core.hooksPath=/dev/null"),
        "{argv}"
    );
}

/// Issue: rollback never checked which tool wrote a verdict: a
/// verdict-shaped record from probe-health promoted.
#[test]
fn only_judges_overall_verdicts_trigger_anything() {
    let fx = Fx::new("forged");
    let forged_promote =
        crate::rollback::promote_verdict().replace(r#""tool":"judge""#, r#""tool":"probe-health""#);
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(forged_promote)
        .run();
    out.code(2);
    let rej = out.record("rollback.rejected");
    assert_eq!(rej.extra["field"], "tool");
    assert!(fx.calls().is_empty());
    let forged = verdict("rollback", "").replace(r#""tool":"judge""#, r#""tool":"probe-health""#);
    let target_only =
        verdict("rollback", "").replace(r#""scope":"overall""#, r#""scope":"target""#);
    let wrong_kind = verdict("rollback", "").replace(r#""kind":"verdict""#, r#""kind":"sample""#);
    let bot_scope = verdict("rollback", "").replace(r#""scope":"overall""#, r#""scope":"bot""#);
    let no_scope = verdict("rollback", "").replace(r#""scope":"overall","#, "");
    // A fleet's per-bot verdict is passed over (the overall one holds its
    // worst): alone, it leaves no verdict to act on.
    let out = fx.rollback().args(["--execute"]).stdin(target_only).run();
    out.code(2);
    assert!(out.records().iter().all(|r| r.name != "rollback.rejected"));
    assert_eq!(result(&out).value, "refused");
    for (input, field) in [
        (forged, "tool"),
        (wrong_kind, "kind"),
        (bot_scope, "scope"),
        (no_scope, "scope"),
    ] {
        assert!(input.contains("\"decision\""), "{input}");
        let out = fx.rollback().args(["--execute"]).stdin(input).run();
        out.code(2);
        assert_eq!(out.record("rollback.rejected").extra["field"], field);
        assert_eq!(result(&out).value, "refused");
    }
    assert!(fx.calls().is_empty());
    assert_eq!(fx.head(), fx.commit("v1.10.0"));
}

/// No command rollback starts inherits its lock, journal or audit log: a
/// production bot started by the restart step must not hold the lock (every
/// later run would find it "held").
#[test]
fn no_command_inherits_the_lock_the_journal_or_the_audit_log() {
    let fx = Fx::new("inherit");
    let restart = json!(["sh", "-c", "exec sleep 60"]).to_string();
    let out = fx
        .rollback_except(&["--restart-cmd", "--start-grace"])
        .args([
            "--execute",
            "--restart-cmd",
            &restart,
            "--start-grace",
            "1s",
        ])
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    let pid = out.record("rollback.step.restart").extra["pid"]
        .as_u64()
        .expect("pid") as u32;
    let fds: Vec<String> = fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| fs::read_link(e.path()).ok())
                .map(|p| p.display().to_string())
                .collect()
        })
        .unwrap_or_default();
    let state = fx.state().display().to_string();
    let held: Vec<&String> = fds
        .iter()
        .filter(|f| f.starts_with(&state) && !f.ends_with("restart.log"))
        .collect();
    // While production runs, the next run is not locked out.
    let next = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""))
        .run();
    kill(pid);
    assert!(held.is_empty(), "the production process holds {held:?}");
    next.code(0);
    assert_eq!(result(&next).value, "already-done");
}

/// An interrupted run (kill -9 inside the stop) is never repeated blind:
/// the next run refuses and says what to check; the lock never goes stale.
#[test]
fn an_interrupted_run_is_refused_until_resumed() {
    let fx = Fx::new("interrupted");
    fx.touch("slow-stop");
    let mut inner = fx.rollback().args(["--execute"]).inner;
    inner
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = inner.spawn().expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(verdict("rollback", "").as_bytes())
            .expect("write");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !fx.calls().contains(&"stop".to_owned()) {
        assert!(Instant::now() < deadline, "never reached the stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    kill(child.id());
    let _ = child.wait();
    // Without --resume: refused, with what to check, not a lock problem.
    let out = run_rollback(&fx);
    out.code(2);
    let rec = out.record("rollback.interrupted");
    assert_eq!(rec.value, "interrupted");
    assert_eq!(rec.extra["step"], "stop");
    assert!(rec.msg.contains("--resume"), "{}", rec.msg);
    assert!(rec.msg.contains("docs/rollback.md"), "{}", rec.msg);
    assert!(!out.stdout.contains("rollback.lock"), "{}", out.stdout);
    // A dry run says the same.
    let dry = fx.rollback().stdin(verdict("rollback", "")).run();
    dry.code(2);
    assert_eq!(dry.record("rollback.interrupted").value, "interrupted");
    // --resume: busy while the interrupted stop still runs, then settled.
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let out = fx
            .rollback()
            .args(["--execute", "--resume"])
            .stdin(verdict("rollback", ""))
            .run();
        if result(&out).value == "done" {
            break out;
        }
        assert_eq!(
            out.record("rollback.interrupted").extra["finding"],
            "busy",
            "{}",
            out.stdout
        );
        assert!(Instant::now() < deadline, "never settled");
        std::thread::sleep(Duration::from_millis(200));
    };
    let settled = done.record("rollback.interrupted");
    assert_eq!(settled.value, "settled");
    assert_eq!(settled.extra["finding"], "present");
    assert_eq!(fx.calls().iter().filter(|c| *c == "stop").count(), 1);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

/// A dry run takes no lock: an open intent of a run executing right now is
/// "in progress", not "interrupted".
#[test]
fn a_dry_run_during_an_executing_run_says_in_progress() {
    let fx = Fx::new("in-progress");
    fx.touch("slow-stop");
    let first = fx
        .rollback()
        .args(["--execute"])
        .stdin(verdict("rollback", ""));
    let handle = std::thread::spawn(move || first.run());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !fx.calls().contains(&"stop".to_owned()) {
        assert!(Instant::now() < deadline, "never reached the stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    let dry = fx.rollback().stdin(verdict("rollback", "")).run();
    dry.code(2);
    let rec = dry.record("rollback.interrupted");
    assert_eq!(rec.value, "in-progress", "{}", rec.msg);
    handle.join().expect("first").code(0);
    assert_eq!(fx.head(), fx.commit("v1.3.0"));
}

/// Run rollback under a file-size limit (RLIMIT_FSIZE, via `prlimit`): a
/// write past `limit` bytes fails with EFBIG, as on a full disk, at an
/// offset the test chooses. SIGXFSZ is ignored (an ignored signal stays
/// ignored across exec), so the write fails instead of killing the run.
fn run_with_fsize_limit(
    base: crate::util::Cmd,
    limit: u64,
    input: &str,
) -> (Option<i32>, String, String) {
    let program = base.inner.get_program().to_owned();
    let mut c = Command::new("sh");
    c.args(["-c", "trap '' XFSZ; exec prlimit --fsize=\"$0:$0\" \"$@\""])
        .arg(limit.to_string())
        .arg(program)
        .args(base.inner.get_args())
        .env_clear();
    for (k, v) in base.inner.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn prlimit");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue: with the audit log failing, every step ran and the exit was 0.
/// The first write failing is covered above; here the audit log fails in
/// the middle of the run, on the record of the stop step: the stop has
/// happened, and nothing after it may run (exit 1, where things stand).
#[test]
fn an_audit_write_failing_mid_run_stops_the_run_after_that_step() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    // Where the stop's record lands in the audit log of a whole run.
    let reference = Fx::new("audit-mid-ref");
    let ref_log = reference.dir.join("audit.ndjson");
    let out = reference
        .rollback()
        .args(["--execute", "--audit-log"])
        .arg_path(&ref_log)
        .stdin(verdict("rollback", ""))
        .run();
    out.code(0);
    let text = fs::read_to_string(&ref_log).expect("audit");
    let mut offset = 0u64;
    let mut stop = None;
    for line in text.split_inclusive('\n') {
        if line.contains("\"rollback.step.stop\"") {
            stop = Some((offset, line.len() as u64));
        }
        offset += line.len() as u64;
    }
    let (start, len) = stop.expect("a stop record in the audit log");
    // The same run on a twin fixture (same path lengths), its audit log
    // pre-filled, so that the limit falls in the middle of that record.
    let fx = Fx::new("audit-mid-cut");
    let log = fx.dir.join("audit.ndjson");
    let filler: String = "{\"filler\":true}\n".repeat(4096);
    fs::write(&log, &filler).expect("prefill");
    let limit = filler.len() as u64 + start + len / 2;
    let (code, stdout, stderr) = run_with_fsize_limit(
        fx.rollback()
            .args(["--execute", "--audit-log"])
            .arg_path(&log),
        limit,
        &verdict("rollback", ""),
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("audit log"), "{stderr}");
    let calls = fx.calls();
    assert!(calls.contains(&"stop".to_owned()), "{calls:?}");
    for later in ["close", "sync", "restart"] {
        assert!(!calls.contains(&later.to_owned()), "{later} ran: {calls:?}");
    }
    assert_eq!(fx.head(), fx.commit("v1.10.0"), "the checkout ran");
    let result = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["name"] == "rollback.result")
        .expect("a result record on stdout");
    assert_eq!(result["value"], "failed", "{result}");
    assert_eq!(result["failed_step"], "stop", "{result}");
    let msg = result["msg"].as_str().unwrap_or_default();
    assert!(msg.contains("docs/rollback.md"), "{msg}");
    assert!(fs::metadata(&log).expect("log").len() <= limit);
}

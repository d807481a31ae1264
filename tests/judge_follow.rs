//! `judge --follow`: a verdict per round over real pipes, from a producer
//! that feeds rounds slowly (this test, or probe-health against sim-bot),
//! and from a file read all at once; `--on-change`; the stdin hint on a
//! terminal (under `script`, a real pty).

use crate::util::{Sim, bin, cmd};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long a verdict may take to appear before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/judge")
        .join(name)
}

/// The recorded stream's lines grouped by their `ts`: one poll of one
/// producer each, as canary_core::rounds writes them.
fn rounds(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("json");
        let ts = v["ts"].as_str().expect("ts").to_owned();
        match out.last_mut() {
            Some((t, body)) if *t == ts => {
                body.push_str(line);
                body.push('\n');
            }
            _ => out.push((ts, format!("{line}\n"))),
        }
    }
    out.into_iter().map(|(_, b)| b).collect()
}

/// `round` with its health.status turned into a 503 the guard trips do
/// not explain.
fn with_503(round: &str) -> String {
    round
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json");
            if v["name"] == "health.status" {
                v["level"] = "crit".into();
                v["value"] = "unhealthy".into();
                v["http_status"] = 503.into();
                v["msg"] = "bot reports unhealthy".into();
            }
            format!("{v}\n")
        })
        .collect()
}

/// judge running with its stdin and stdout on pipes; its stdout lines
/// arrive on a channel so each can be awaited with a deadline.
struct Live {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Live {
    fn spawn(args: &[&str], stdin: Stdio) -> Live {
        let mut child = Command::new(bin("judge"))
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning judge");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            stdin,
            lines,
        }
    }

    fn feed(&mut self, text: &str) {
        let w = self.stdin.as_mut().expect("stdin open");
        w.write_all(text.as_bytes()).expect("feeding judge");
        w.flush().expect("flush");
    }

    /// The next overall verdict judge writes, within the deadline.
    fn next_overall(&self) -> Value {
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let v: Value = serde_json::from_str(&line).expect("a JSON record");
                    assert_eq!(v["name"], "judge.verdict", "{line}");
                    if v["scope"] == "overall" {
                        return v;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no verdict within {DEADLINE:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("judge closed its stdout"),
            }
        }
    }

    /// Close judge's stdin; every line it writes after, and its exit code.
    fn close(mut self) -> (Vec<Value>, Option<i32>) {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => rest.push(serde_json::from_str(&line).expect("a JSON record")),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("judge did not finish in {DEADLINE:?}"),
            }
        }
        let code = self.child.wait().expect("wait").code();
        (rest, code)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Phase B at 00:36, six minutes into the window of b-promote's rounds.
const B_ARGS: [&str; 8] = [
    "--phase",
    "b",
    "--follow",
    "--at",
    "2026-11-26T00:36:00Z",
    "--probe-interval",
    "5m",
    "--since=2026-11-26T00:00:00Z",
];

#[test]
fn a_verdict_follows_each_round_fed_slowly_and_a_503_is_never_skipped() {
    let rounds = rounds("b-promote.ndjson");
    let mut judge = Live::spawn(&B_ARGS, Stdio::piped());
    // Each round is judged before the next is written: the verdict comes
    // because judge's input would block, not because input ended.
    for round in &rounds[..14] {
        judge.feed(round);
        let v = judge.next_overall();
        assert_eq!(v["decision"], "continue", "{v}");
    }
    // 00:35's /health round with a 503: its health.status is held back
    // until the round says whether guard trips explain it, yet the verdict
    // written after the round already counts it.
    judge.feed(&with_503(&rounds[14]));
    let v = judge.next_overall();
    assert_eq!(v["decision"], "rollback", "{v}");
    let (rest, code) = judge.close();
    let overall: Vec<&Value> = rest.iter().filter(|v| v["scope"] == "overall").collect();
    assert_eq!(
        overall.len(),
        1,
        "one final verdict at end of input: {rest:?}"
    );
    assert_eq!(overall[0]["decision"], "rollback");
    assert_eq!(code, Some(1));
}

#[test]
fn on_change_writes_only_changes_of_the_decision() {
    let rounds = rounds("b-promote.ndjson");
    let mut args = B_ARGS.to_vec();
    args.push("--on-change");
    let mut judge = Live::spawn(&args, Stdio::piped());
    judge.feed(&rounds[0]);
    assert_eq!(judge.next_overall()["decision"], "continue");
    // Unchanged rounds write nothing: the next line on the pipe is the
    // rollback, written after the 503 round that follows them.
    for round in &rounds[1..14] {
        judge.feed(round);
    }
    judge.feed(&with_503(&rounds[14]));
    assert_eq!(judge.next_overall()["decision"], "rollback");
    let (rest, code) = judge.close();
    assert_eq!(rest.len(), 1, "only the final verdict: {rest:?}");
    assert_eq!(rest[0]["decision"], "rollback");
    assert_eq!(code, Some(1));
}

#[test]
fn a_file_read_at_once_is_judged_round_by_round_and_ends_as_without_follow() {
    let file = fixture("b-promote.ndjson");
    let file = file.to_str().expect("utf8 path");
    let common = [
        "--phase",
        "b",
        "--at",
        "2026-11-26T01:01:00Z",
        "--probe-interval",
        "5m",
        file,
    ];
    let once = cmd("judge").args(common).run();
    let followed = cmd("judge").args(common).args(["--follow"]).run();
    assert_eq!(followed.code, once.code, "{}", followed.stderr);
    let verdicts: Vec<Value> = followed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    // One verdict per round (a new round opens at a record dated a second
    // or more after its round's first): the last round's is the final one.
    let n = rounds("b-promote.ndjson").len();
    assert_eq!(verdicts.len(), n, "{}", followed.stdout);
    let last: Value = serde_json::from_str(once.stdout.trim()).expect("one verdict");
    assert_eq!(verdicts.last(), Some(&last));
    assert_eq!(last["decision"], "promote");
    assert_eq!(
        verdicts[0]["decision"], "continue",
        "one round completes no window"
    );
}

#[test]
fn probe_health_every_second_piped_into_judge_follow_is_judged_live() {
    let sim = Sim::start("healthy-b");
    let mut probe = Command::new(bin("probe-health"))
        .args(["--url", &sim.url, "--phase", "b", "--every", "1s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning probe-health");
    let feed = Stdio::from(probe.stdout.take().expect("stdout"));
    let judge = Live::spawn(
        &["--phase", "b", "--follow", "--probe-interval", "1s"],
        feed,
    );
    let first = judge.next_overall();
    let second = judge.next_overall();
    // Judged at the wall clock, on /health alone: a hold, never a promote.
    for v in [&first, &second] {
        assert_eq!(v["decision"], "continue", "{v}");
    }
    assert!(
        second["ts"].as_str() > first["ts"].as_str(),
        "each verdict is as of its round: {first} then {second}"
    );
    let _ = probe.kill();
    let _ = probe.wait();
    let (rest, code) = judge.close();
    assert!(
        rest.iter()
            .any(|v| v["scope"] == "overall" && v["decision"] == "continue"),
        "the final verdict: {rest:?}"
    );
    assert_eq!(code, Some(2), "resting on missing /metrics evidence");
}

/// Run `tool ARGS` under `script`, its stdin a terminal that reaches end of
/// input at once; what it wrote to the terminal.
fn on_a_terminal(tool: &str, args: &str) -> String {
    let line = format!("'{}' {args}", bin(tool).display());
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(Stdio::null())
        .env("TERM", "dumb")
        .output()
        .expect("script (util-linux) is installed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tools_reading_stdin_say_so_on_a_terminal_and_only_there() {
    let dir = crate::util::TempDir::new("hint");
    let repo = dir.path("repo");
    let git = Command::new("git").args(["init", "-q"]).arg(&repo).status();
    assert!(git.expect("git").success());
    let cases = [
        ("judge", "--phase b".to_owned()),
        (
            "canary-report",
            format!("-o '{}'", dir.path("r.html").display()),
        ),
        (
            "rollback",
            format!(
                "--repo '{}' --state-dir '{}'",
                repo.display(),
                dir.path("st").display()
            ),
        ),
        (
            "notify",
            format!(
                "--dry-run --webhook http://127.0.0.1:9/ --state '{}'",
                dir.path("n.json").display()
            ),
        ),
    ];
    for (tool, args) in &cases {
        let shown = on_a_terminal(tool, args);
        assert!(
            shown.contains(&format!("{tool}: note: reading records from stdin")),
            "{tool} {args} on a terminal:\n{shown}"
        );
    }
    // From a pipe, nothing of the kind.
    let piped = cmd("judge").args(["--phase", "b"]).stdin("").run();
    assert!(
        !piped.stderr.contains("reading records"),
        "{}",
        piped.stderr
    );
}

/// `round` with every record dated `ts`.
fn dated(round: &str, ts: &str) -> String {
    round
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("json");
            v["ts"] = ts.into();
            format!("{v}\n")
        })
        .collect()
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8(out.stdout)
        .expect("utf8")
        .trim()
        .to_owned()
}

fn reason_rules(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["rule"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn judged_at_the_wall_clock_the_future_horizon_moves_on() {
    let rounds = rounds("b-promote.ndjson");
    let args = [
        "--phase",
        "b",
        "--follow",
        "--max-skew",
        "1s",
        "--probe-interval",
        "5m",
    ];
    let mut judge = Live::spawn(&args, Stdio::piped());
    judge.feed(&dated(&rounds[0], &now()));
    let first = judge.next_overall();
    assert!(
        !reason_rules(&first).contains(&"input.future".to_owned()),
        "{first}"
    );
    // Past the skew allowance as it stood at start: records dated now are
    // still the present, not the future.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        std::thread::sleep(Duration::from_millis(100));
    }
    judge.feed(&dated(&rounds[1], &now()));
    let second = judge.next_overall();
    assert!(
        !reason_rules(&second).contains(&"input.future".to_owned()),
        "{second}"
    );
    // A record dated well ahead of the clock is still the future.
    judge.feed(&dated(&rounds[2], "2099-01-01T00:00:00Z"));
    let third = judge.next_overall();
    assert!(
        reason_rules(&third).contains(&"input.future".to_owned()),
        "{third}"
    );
}

#[test]
fn tail_f_of_a_growing_log_is_judged_as_it_grows() {
    let rounds = rounds("b-promote.ndjson");
    let dir = crate::util::TempDir::new("tail");
    let log = dir.path("window.ndjson");
    std::fs::write(&log, rounds[..2].concat()).expect("write");
    let mut tail = Command::new("tail")
        .args(["-n", "+1", "-f"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("tail");
    let feed = Stdio::from(tail.stdout.take().expect("stdout"));
    let judge = Live::spawn(&B_ARGS, feed);
    assert_eq!(judge.next_overall()["decision"], "continue");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .expect("open");
    f.write_all(with_503(&rounds[2]).as_bytes())
        .expect("append");
    f.flush().expect("flush");
    // Verdicts until the appended round's: a rollback, while tail still runs.
    let until = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < until, "no rollback after the 503 round");
        if judge.next_overall()["decision"] == "rollback" {
            break;
        }
    }
    let _ = tail.kill();
    let _ = tail.wait();
    let (rest, code) = judge.close();
    assert_eq!(
        rest.last().map(|v| v["decision"].clone()),
        Some("rollback".into())
    );
    assert_eq!(code, Some(1));
}

//! notify against a real Alertmanager (Debian's `prometheus-alertmanager`,
//! installed by scripts/test) and against local webhook receivers that
//! answer, fail, or never answer.

use crate::util::{Output, TempDir, assert_quiet_when_stdout_closes, cmd, free_port};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TARGET: &str = "http://127.0.0.1:8080";

/// One judge verdict, `secs` after a fixed recent moment (so order is real).
fn verdict(decision: &str, secs: i64, target: &str, scope: &str) -> String {
    let base = Timestamp::now().as_second() - 3600;
    let ts = Timestamp::from_second(base + secs).expect("ts");
    let level = match decision {
        "rollback" | "stop" | "no-go" | "pause" => "crit",
        "extend" => "warn",
        _ => "ok",
    };
    let reasons = if level == "crit" {
        json!([{"rule": "metrics.order_error_rate", "level": "crit", "msg": "order error rate 21% >= 15%"}])
    } else {
        json!([])
    };
    let rec = json!({
        "v": 1, "ts": ts.to_string(), "tool": "judge", "target": target,
        "kind": "verdict", "name": "judge.verdict", "level": level,
        "value": decision, "msg": format!("judge says {decision}"),
        "decision": decision, "phase": "b", "scope": scope, "reasons": reasons,
    });
    format!("{rec}\n")
}

fn overall(decisions: &[(&str, i64)]) -> String {
    decisions
        .iter()
        .map(|(d, s)| verdict(d, *s, TARGET, "overall"))
        .collect()
}

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Status(u16),
    /// Read the request, then never answer.
    Silence,
}

/// What the receiver got.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    body: Value,
}

/// A loopback HTTP receiver on a port of its own, answering from a script
/// (the last answer repeats) and recording every request.
struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    fn start(script: &[Answer]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let script = script.to_vec();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { continue };
                let Some(req) = read_request(&mut stream) else {
                    continue;
                };
                seen.lock().expect("lock").push(req);
                match script[n.min(script.len() - 1)] {
                    Answer::Status(code) => {
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                        );
                    }
                    Answer::Silence => held.push(stream),
                }
            }
        });
        Receiver { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    /// The requests, once `n` have arrived: a request the sender gave up on
    /// may still be in the socket when the sender exits.
    fn wait_requests(&self, n: usize) -> Vec<Request> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.requests();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Request> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        path,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn notify(args: &[&str], input: &str) -> Output {
    cmd("notify").args(args).stdin(input).run()
}

fn sent(out: &Output) -> Vec<canary_core::Record> {
    out.records()
        .into_iter()
        .filter(|r| r.name == "notify.sent")
        .collect()
}

fn state_arg(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn one_notification_per_change_to_webhook_and_slack() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let slack = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-change");
    let state = state_arg(&dir.path("state.json"));
    let input = overall(&[
        ("continue", 0),
        ("continue", 30),
        ("rollback", 60),
        ("rollback", 90),
        ("continue", 120),
    ]);
    let args = [
        "--state",
        &state,
        "--webhook",
        &format!("{}/hook", hook.url),
        "--slack",
        &format!("{}/services/T/B/SECRET", slack.url),
    ];
    let out = notify(&args, &input);
    out.code(0);
    let recs = sent(&out);
    assert_eq!(recs.len(), 6, "3 changes x 2 destinations\n{}", out.stdout);
    assert!(recs.iter().all(|r| r.extra["status"] == "sent"));
    assert!(
        !out.stdout.contains("SECRET"),
        "a webhook's path is never shown"
    );
    let bodies: Vec<Value> = hook.requests().into_iter().map(|r| r.body).collect();
    let decisions: Vec<(&str, &Value)> = bodies
        .iter()
        .map(|b| (b["decision"].as_str().unwrap_or(""), &b["previous"]))
        .collect();
    assert_eq!(
        decisions,
        [
            ("continue", &Value::Null),
            ("rollback", &json!("continue")),
            ("continue", &json!("rollback"))
        ]
    );
    assert_eq!(bodies[1]["severity"], "critical");
    assert_eq!(bodies[1]["reasons"][0], "order error rate 21% >= 15%");
    let texts: Vec<String> = slack
        .requests()
        .into_iter()
        .map(|r| {
            assert_eq!(r.path, "/services/T/B/SECRET");
            r.body["text"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    assert_eq!(texts.len(), 3);
    assert!(
        texts[1].contains("*rollback* (was continue)"),
        "{}",
        texts[1]
    );
    assert!(
        texts[1].contains("order error rate 21% &gt;= 15%"),
        "{}",
        texts[1]
    );

    // The same input again is not news: the state remembers.
    let again = notify(&args, &input);
    again.code(0);
    assert!(sent(&again).is_empty(), "{}", again.stdout);
    assert_eq!(hook.requests().len(), 3);

    // A new rollback is.
    let later = notify(&args, &overall(&[("rollback", 150)]));
    later.code(0);
    assert_eq!(sent(&later).len(), 2);
    assert_eq!(hook.requests().len(), 4);
    assert_eq!(hook.requests()[3].body["previous"], "continue");
}

#[test]
fn targets_and_scopes_are_tracked_apart() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-keys");
    let state = state_arg(&dir.path("state.json"));
    let mut input = String::new();
    input.push_str(&verdict("continue", 0, "http://127.0.0.1:8080", "target"));
    input.push_str(&verdict("continue", 0, "http://127.0.0.1:8081", "target"));
    input.push_str(&verdict("continue", 0, "fleet", "overall"));
    input.push_str(&verdict("rollback", 30, "http://127.0.0.1:8081", "target"));
    input.push_str(&verdict("rollback", 30, "fleet", "overall"));
    input.push_str(&verdict("continue", 30, "http://127.0.0.1:8080", "target"));
    let out = notify(&["--state", &state, "--webhook", &hook.url], &input);
    out.code(0);
    let got: Vec<(String, String)> = hook
        .requests()
        .into_iter()
        .map(|r| {
            (
                r.body["target"].as_str().unwrap_or("").to_owned(),
                r.body["decision"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 5, "{got:?}");
    assert_eq!(
        got.iter().filter(|(_, d)| d == "rollback").count(),
        2,
        "{got:?}"
    );
}

#[test]
fn a_failing_receiver_is_retried_within_bounds() {
    let hook = Receiver::start(&[
        Answer::Status(500),
        Answer::Status(503),
        Answer::Status(200),
    ]);
    let dir = TempDir::new("notify-retry");
    let state = state_arg(&dir.path("state.json"));
    let out = notify(
        &["--state", &state, "--webhook", &hook.url, "--retries", "2"],
        &overall(&[("rollback", 0)]),
    );
    out.code(0);
    assert_eq!(out.record("notify.sent").extra["attempts"], 3);
    assert_eq!(hook.requests().len(), 3);

    // Retries are bounded: two attempts, then an error, exit 2.
    let down = Receiver::start(&[Answer::Status(500)]);
    let dir = TempDir::new("notify-retry-bound");
    let state = state_arg(&dir.path("state.json"));
    let out = notify(
        &["--state", &state, "--webhook", &down.url, "--retries", "1"],
        &overall(&[("rollback", 0)]),
    );
    out.code(2);
    assert_eq!(down.requests().len(), 2);
    let err = out.record("notify.error");
    assert_eq!(err.extra["attempts"], 2);
    assert!(err.msg.contains("HTTP 500"), "{}", err.msg);
    assert!(out.stderr.starts_with("notify: error: "), "{}", out.stderr);
}

#[test]
fn a_silent_receiver_times_out_and_the_change_is_sent_next_run() {
    let silent = Receiver::start(&[Answer::Silence]);
    let dir = TempDir::new("notify-timeout");
    let path = dir.path("state.json");
    let state = state_arg(&path);
    let input = overall(&[("continue", 0)]);
    let first = Receiver::start(&[Answer::Status(200)]);
    notify(&["--state", &state, "--webhook", &first.url], &input).code(0);
    let before = std::fs::read(&path).expect("state written");

    let rollback = overall(&[("rollback", 60)]);
    let out = notify(
        &[
            "--state",
            &state,
            "--webhook",
            &silent.url,
            "--timeout",
            "300ms",
            "--retries",
            "1",
            "--retry-budget",
            "5s",
        ],
        &rollback,
    );
    out.code(2);
    assert!(
        out.elapsed < Duration::from_secs(5),
        "bounded: {:?}",
        out.elapsed
    );
    assert_eq!(silent.wait_requests(2).len(), 2, "one try and one retry");
    assert!(out.record("notify.error").msg.contains("no answer within"));
    assert!(sent(&out).is_empty());
    assert!(out.stderr.contains("notify: error: "), "{}", out.stderr);
    assert_eq!(
        std::fs::read(&path).expect("state"),
        before,
        "a change that was not sent is not recorded as sent"
    );

    // The next run sends the same change: never a lost verdict.
    let back = Receiver::start(&[Answer::Status(200)]);
    let out = notify(&["--state", &state, "--webhook", &back.url], &rollback);
    out.code(0);
    let got = back.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["decision"], "rollback");
    assert_eq!(got[0].body["previous"], "continue");
}

#[test]
fn corrupt_foreign_or_symlinked_state_is_refused_and_kept() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-badstate");
    let input = overall(&[("rollback", 0)]);
    for (name, text) in [
        (
            "corrupt.json",
            "{\"format\": \"canary-kit/notify-state/v1\", \"targets\": {",
        ),
        ("foreign.json", "{\"hello\": \"world\"}\n"),
        ("empty.json", ""),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, text).expect("write");
        let out = notify(
            &["--state", &state_arg(&path), "--webhook", &hook.url],
            &input,
        );
        out.code(2);
        let err = out.record("notify.error");
        assert!(err.msg.contains("not a notify state file"), "{}", err.msg);
        assert_eq!(
            std::fs::read_to_string(&path).expect("kept"),
            text,
            "never reset"
        );
    }
    let real = dir.path("real.json");
    let good = Receiver::start(&[Answer::Status(200)]);
    notify(
        &["--state", &state_arg(&real), "--webhook", &good.url],
        &overall(&[("continue", 0)]),
    )
    .code(0);
    let before = std::fs::read(&real).expect("real state");
    let link = dir.path("link.json");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let out = notify(
        &["--state", &state_arg(&link), "--webhook", &hook.url],
        &input,
    );
    out.code(2);
    assert!(
        out.record("notify.error").msg.contains("a symlink"),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(&real).expect("real"), before);
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    // A symlinked lock file is refused too.
    let other = dir.path("other.json");
    std::os::unix::fs::symlink(&real, dir.path("other.json.lock")).expect("symlink");
    notify(
        &["--state", &state_arg(&other), "--webhook", &hook.url],
        &input,
    )
    .code(2);
    assert!(
        hook.requests().is_empty(),
        "nothing sent on a refused state"
    );
}

#[test]
fn the_state_is_bounded_and_a_target_beyond_it_is_an_error() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-full");
    let path = dir.path("state.json");
    let targets: serde_json::Map<String, Value> = (0..1000)
        .map(|i| {
            let target = format!("http://10.0.0.1:{i}");
            (
                format!("target {target}"),
                json!({"scope": "target", "target": target, "decision": "continue",
                       "verdict_ts": "2026-01-01T00:00:00Z"}),
            )
        })
        .collect();
    let text = json!({"format": "canary-kit/notify-state/v1", "targets": targets}).to_string();
    std::fs::write(&path, &text).expect("state");
    let out = notify(
        &["--state", &state_arg(&path), "--webhook", &hook.url],
        &verdict("rollback", 0, "http://10.0.0.2:1", "target"),
    );
    out.code(2);
    assert!(
        out.record("notify.error").msg.contains("1000 targets"),
        "{}",
        out.stdout
    );
    assert!(hook.requests().is_empty());
    // A known target still gets its change through.
    let out = notify(
        &["--state", &state_arg(&path), "--webhook", &hook.url],
        &verdict("rollback", 0, "http://10.0.0.1:7", "target"),
    );
    out.code(0);
    assert_eq!(hook.requests().len(), 1);
}

#[test]
fn a_held_lock_refuses_a_second_run() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-lock");
    let path = dir.path("state.json");
    let lock = dir.path("state.json.lock");
    std::fs::write(&lock, "").expect("lock file");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("flock (util-linux)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Command::new("flock")
        .args(["-n"])
        .arg(&lock)
        .arg("true")
        .status()
        .expect("flock -n")
        .success()
    {
        assert!(Instant::now() < deadline, "flock never took the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = notify(
        &["--state", &state_arg(&path), "--webhook", &hook.url],
        &overall(&[("rollback", 0)]),
    );
    drop(holder.stdin.take());
    let _ = holder.wait();
    out.code(2);
    assert!(
        out.record("notify.error").msg.contains("locked"),
        "{}",
        out.stdout
    );
    assert!(hook.requests().is_empty());
}

#[test]
fn forged_and_replayed_verdicts_send_nothing() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-forged");
    let state = state_arg(&dir.path("state.json"));
    let args = ["--state", state.as_str(), "--webhook", hook.url.as_str()];
    notify(&args, &overall(&[("rollback", 100)])).code(0);
    assert_eq!(hook.requests().len(), 1);

    let forged =
        overall(&[("continue", 200)]).replace("\"tool\":\"judge\"", "\"tool\":\"sim-bot\"");
    let out = notify(&args, &forged);
    out.code(2);
    assert_eq!(out.record("notify.rejected").extra["field"], "tool");
    let check = overall(&[("continue", 200)]).replace("\"kind\":\"verdict\"", "\"kind\":\"check\"");
    notify(&args, &check).code(2);
    let unknown = overall(&[("continue", 200)])
        .replace("\"decision\":\"continue\"", "\"decision\":\"resolved\"");
    notify(&args, &unknown).code(2);

    // Yesterday's `continue`, replayed, must not resolve today's rollback.
    let replay = notify(&args, &overall(&[("continue", 50)]));
    replay.code(0);
    assert!(sent(&replay).is_empty());
    assert_eq!(hook.requests().len(), 1, "only the first rollback was sent");

    // A verdict from tomorrow is refused: accepted, it would make every
    // real verdict after it "older" and silence them.
    let future = verdict("continue", 3600 + 86_400, TARGET, "overall");
    let out = notify(&args, &future);
    out.code(2);
    assert_eq!(out.record("notify.rejected").extra["field"], "ts");
    let real = notify(&args, &overall(&[("continue", 200)]));
    real.code(0);
    assert_eq!(sent(&real).len(), 1, "the real continue still gets through");
    assert_eq!(hook.requests().len(), 2);

    // No verdict at all is not silence that looks like health.
    let empty = notify(&args, "");
    empty.code(2);
    assert!(empty.record("notify.error").msg.contains("no verdict"));
}

#[test]
fn dry_run_prints_bodies_and_touches_nothing() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-dry");
    let path = dir.path("state.json");
    let out = notify(
        &[
            "--dry-run",
            "--state",
            &state_arg(&path),
            "--webhook",
            &hook.url,
            "--alertmanager",
            "http://127.0.0.1:1",
        ],
        &overall(&[("continue", 0), ("rollback", 30)]),
    );
    out.code(0);
    let recs = sent(&out);
    assert_eq!(recs.len(), 3, "2 webhook + 1 alert\n{}", out.stdout);
    assert!(recs.iter().all(|r| r.extra["status"] == "planned"));
    let alert = recs
        .iter()
        .find(|r| r.extra["destination"] == "alertmanager")
        .expect("alert planned");
    assert_eq!(alert.extra["action"], "fire");
    assert_eq!(alert.extra["body"][0]["labels"]["decision"], "rollback");
    assert!(hook.requests().is_empty());
    assert!(!path.exists(), "a dry run writes no state");
    assert!(!dir.path("state.json.lock").exists());
}

#[test]
fn a_live_stream_is_notified_before_it_ends() {
    let hook = Receiver::start(&[Answer::Status(200)]);
    let dir = TempDir::new("notify-live");
    let mut child = Command::new(crate::util::bin("notify"))
        .arg("--state")
        .arg(dir.path("state.json"))
        .args(["--webhook", &hook.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("notify");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(overall(&[("rollback", 0)]).as_bytes())
        .expect("write");
    stdin.flush().expect("flush");
    // stdin stays open: the change must go out now, not at end of input.
    let deadline = Instant::now() + Duration::from_secs(10);
    while hook.requests().is_empty() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no notification while the stream was open");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_closed_stdout_is_a_quiet_exit() {
    let dir = TempDir::new("notify-pipe");
    let path = dir.path("verdicts.ndjson");
    let flips: Vec<(&str, i64)> = (0..2000)
        .map(|i| (if i % 2 == 0 { "continue" } else { "rollback" }, i))
        .collect();
    std::fs::write(&path, overall(&flips)).expect("verdicts");
    assert_quiet_when_stdout_closes(
        "notify",
        &format!(
            "--dry-run --webhook http://127.0.0.1:1/hook '{}'",
            path.display()
        ),
    );
}

// ---- Alertmanager -------------------------------------------------------

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alertmanager/alertmanager.yml")
}

fn which(names: &[&str]) -> PathBuf {
    names
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|d| Path::new(d).join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!("none of {names:?} is on PATH: run the tests with scripts/test, which installs prometheus-alertmanager")
        })
}

struct Alertmanager {
    child: Child,
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
    /// Start with the project's example config, on a loopback port, with
    /// clustering off and storage of its own.
    fn start() -> Alertmanager {
        let binary = which(&["prometheus-alertmanager", "alertmanager"]);
        let dir = TempDir::new("alertmanager");
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", example_config().display()))
            .arg(format!("--storage.path={}", dir.path("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting alertmanager");
        let am = Alertmanager {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if canary_core::http::get(&format!("{}/-/ready", am.url), &Default::default())
                .is_ok_and(|r| r.status == 200)
            {
                return am;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("alertmanager did not become ready on {}", am.url);
    }

    /// The alerts Alertmanager lists (active ones: resolved alerts are not listed).
    fn alerts(&self) -> Vec<Value> {
        let resp =
            canary_core::http::get(&format!("{}/api/v2/alerts", self.url), &Default::default())
                .expect("GET /api/v2/alerts");
        assert_eq!(resp.status, 200);
        let v: Value = serde_json::from_slice(&resp.body).expect("JSON");
        v.as_array().cloned().unwrap_or_default()
    }

    /// Poll until `want` holds for the listed alerts.
    fn wait_for(&self, what: &str, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let alerts = self.alerts();
            if want(&alerts) {
                return alerts;
            }
            assert!(Instant::now() < deadline, "{what}: alerts are {alerts:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn for_target<'a>(alerts: &'a [Value], target: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["labels"]["target"] == target)
        .collect()
}

#[test]
fn alertmanager_fires_replaces_and_resolves() {
    let am = Alertmanager::start();
    let dir = TempDir::new("notify-am");
    let state = state_arg(&dir.path("state.json"));
    let args = ["--state", state.as_str(), "--alertmanager", am.url.as_str()];
    let other = "http://127.0.0.1:8081";

    // A rollback fires, with the labels and annotations people route on.
    let mut input = overall(&[("continue", 0), ("rollback", 30)]);
    input.push_str(&verdict("stop", 30, other, "overall"));
    let out = notify(&args, &input);
    out.code(0);
    let alerts = am.wait_for("the rollback alert fires", |a| {
        for_target(a, TARGET).len() == 1 && for_target(a, other).len() == 1
    });
    let alert = for_target(&alerts, TARGET)[0];
    let labels = &alert["labels"];
    assert_eq!(labels["alertname"], "CanaryDecision");
    assert_eq!(labels["decision"], "rollback");
    assert_eq!(labels["phase"], "b");
    assert_eq!(labels["scope"], "overall");
    assert_eq!(labels["severity"], "critical");
    assert_eq!(
        alert["annotations"]["reasons"],
        "order error rate 21% >= 15%"
    );
    assert_eq!(alert["status"]["state"], "active");
    let ends: Timestamp = alert["endsAt"]
        .as_str()
        .expect("endsAt")
        .parse()
        .expect("ts");
    assert!(ends > Timestamp::now(), "a firing alert ends in the future");

    // A repeated rollback is not news, but keeps the alert alive: it is
    // re-asserted with a later end, so it never lapses while judge repeats it.
    let out = notify(&args, &overall(&[("rollback", 60)]));
    out.code(0);
    assert!(sent(&out).is_empty());
    am.wait_for("the repeat re-asserts the alert", |a| {
        for_target(a, TARGET).first().is_some_and(|x| {
            x["endsAt"]
                .as_str()
                .and_then(|e| e.parse::<Timestamp>().ok())
                .is_some_and(|e| e > ends)
        })
    });

    // rollback -> extend: the rollback alert resolves, a warning fires.
    let out = notify(&args, &overall(&[("extend", 90)]));
    out.code(0);
    assert_eq!(out.record("notify.sent").extra["action"], "replace");
    am.wait_for("extend replaces rollback", |a| {
        let mine = for_target(a, TARGET);
        mine.len() == 1 && mine[0]["labels"]["decision"] == "extend"
    });

    // extend -> continue: resolved, no longer listed; the other target's
    // stop alert still fires, so the listing is not merely empty.
    let out = notify(&args, &overall(&[("continue", 120)]));
    out.code(0);
    assert_eq!(out.record("notify.sent").extra["action"], "resolve");
    let alerts = am.wait_for("the alert resolves", |a| for_target(a, TARGET).is_empty());
    let others = for_target(&alerts, other);
    assert_eq!(others.len(), 1);
    assert_eq!(others[0]["labels"]["decision"], "stop");
}

#[test]
fn alertmanager_down_is_an_error_and_the_alert_is_sent_later() {
    let dir = TempDir::new("notify-am-down");
    let path = dir.path("state.json");
    let state = state_arg(&path);
    let port = free_port();
    let down = format!("http://127.0.0.1:{port}");
    let input = overall(&[("rollback", 0)]);
    let out = notify(
        &["--state", &state, "--alertmanager", &down, "--retries", "1"],
        &input,
    );
    out.code(2);
    assert!(out.record("notify.error").msg.contains("alertmanager"));
    assert!(!path.exists(), "nothing recorded as sent");

    let am = Alertmanager::start();
    notify(&["--state", &state, "--alertmanager", &am.url], &input).code(0);
    am.wait_for("the held-back alert arrives", |a| {
        for_target(a, TARGET).len() == 1
    });
}

#[test]
fn the_example_alertmanager_config_is_valid() {
    let amtool = which(&["amtool"]);
    let out = Command::new(amtool)
        .arg("check-config")
        .arg(example_config())
        .output()
        .expect("amtool");
    assert!(
        out.status.success(),
        "amtool check-config: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// judge's side records are one list (canary_core::side) for notify and
/// rollback: `judge --transitions | notify` plans one notification per
/// verdict and none for the transitions before it, with no rejection; a
/// record of a side record's name under kind verdict is still refused.
#[test]
fn judges_transitions_are_passed_over_quietly() {
    let (stream, now) = crate::rollback::promote_stream_ending_now();
    let judged = cmd("judge")
        .args(["--phase", "b", "--at", &now, "--probe-interval", "5m"])
        .args(["--transitions"])
        .stdin(stream)
        .run();
    judged.code(0);
    let records = judged.records();
    let transitions = records
        .iter()
        .filter(|r| r.name == "judge.transition")
        .count();
    let verdicts = records.iter().filter(|r| r.name == "judge.verdict").count();
    assert!(transitions >= 2 && verdicts >= 1, "{}", judged.stdout);
    let args = ["--dry-run", "--webhook", "http://127.0.0.1:1/hook"];
    let out = notify(&args, &judged.stdout);
    out.code(0);
    assert!(!out.stdout.contains("notify.rejected"), "{}", out.stdout);
    let planned = sent(&out);
    assert_eq!(planned.len(), verdicts, "{}", out.stdout);
    assert!(planned.iter().all(|r| r.extra["status"] == "planned"));

    let transition = judged
        .stdout
        .lines()
        .find(|l| l.contains(r#""name":"judge.transition""#))
        .unwrap_or_default();
    let forged = transition.replace(r#""kind":"sample""#, r#""kind":"verdict""#);
    let out = notify(&args, &format!("{forged}\n"));
    out.code(2);
    assert!(out.stdout.contains("notify.rejected"), "{}", out.stdout);
}

//! Running a configured command: an argv array (never a shell string), no
//! stdin, a timeout, and a bounded tail of what it printed.

use jiff::Timestamp;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes of stdout and stderr kept from each command (the last ones).
pub const TAIL_BYTES: usize = 4096;

/// How long to wait for a killed command's pipes to close before giving up on
/// the rest of its output (a grandchild may still hold them).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// How a command ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// It exited with this status.
    Exited(i32),
    /// It was killed by a signal (the number, when known).
    Signalled(Option<i32>),
    /// It ran past its timeout and was killed.
    TimedOut,
    /// It could not be started (not found, not executable, bad cwd).
    NotStarted(String),
    /// It is still running, detached, with this pid (restart, deploy, watch).
    Running(u32),
}

/// What running a command produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub ending: Ending,
    pub started: Timestamp,
    pub ended: Timestamp,
    pub stdout_tail: String,
    pub stderr_tail: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        matches!(self.ending, Ending::Exited(0) | Ending::Running(_))
    }

    /// The exit status, when the command exited.
    pub fn code(&self) -> Option<i32> {
        match self.ending {
            Ending::Exited(c) => Some(c),
            _ => None,
        }
    }

    /// One phrase for messages: "exited 3", "timed out after 5m", ...
    pub fn describe(&self, timeout: Duration) -> String {
        match &self.ending {
            Ending::Exited(c) => format!("exited {c}"),
            Ending::Signalled(Some(s)) => format!("was killed by signal {s}"),
            Ending::Signalled(None) => "was killed by a signal".into(),
            Ending::TimedOut => format!(
                "timed out after {} and was killed",
                canary_core::duration::format_duration(timeout)
            ),
            Ending::NotStarted(why) => format!("could not be started: {why}"),
            Ending::Running(pid) => format!("is running (pid {pid})"),
        }
    }
}

fn base(argv: &[String], cwd: &Path) -> Result<Command, String> {
    let (prog, args) = argv.split_first().ok_or("empty command")?;
    let mut cmd = Command::new(prog);
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    Ok(cmd)
}

/// Run `argv` in `cwd` to completion or until `timeout`, keeping the tails of
/// its output. Never inherits stdin; never panics.
pub fn run(argv: &[String], cwd: &Path, timeout: Duration) -> Outcome {
    let (outcome, _) = run_keeping(argv, cwd, timeout, TAIL_BYTES);
    outcome
}

/// [`run`], also returning up to the last `keep` bytes of stdout whole (for
/// git queries, whose output is parsed).
pub fn run_keeping(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    keep: usize,
) -> (Outcome, Vec<u8>) {
    let started = Timestamp::now();
    let spawned = base(argv, cwd).and_then(|mut c| {
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())
    });
    let mut child = match spawned {
        Ok(c) => c,
        Err(why) => return (not_started(started, why), Vec::new()),
    };
    let out = drain(child.stdout.take(), keep.max(TAIL_BYTES));
    let err = drain(child.stderr.take(), TAIL_BYTES);
    let ending = wait(&mut child, timeout);
    let (stdout, stderr) = (collect(out), collect(err));
    let outcome = Outcome {
        ending,
        started,
        ended: Timestamp::now(),
        stdout_tail: tail_text(&stdout),
        stderr_tail: tail_text(&stderr),
    };
    (outcome, stdout)
}

fn not_started(started: Timestamp, why: String) -> Outcome {
    Outcome {
        ending: Ending::NotStarted(why),
        started,
        ended: Timestamp::now(),
        stdout_tail: String::new(),
        stderr_tail: String::new(),
    }
}

fn wait(child: &mut Child, timeout: Duration) -> Ending {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return ending_of(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Ending::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Ending::NotStarted(format!("waiting for it: {e}")),
        }
    }
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match status.code() {
        Some(c) => Ending::Exited(c),
        None => Ending::Signalled(status.signal()),
    }
}

type Tail = mpsc::Receiver<Vec<u8>>;

/// Read a pipe to its end on a thread, keeping the last `keep` bytes.
fn drain(pipe: Option<impl Read + Send + 'static>, keep: usize) -> Option<Tail> {
    let mut pipe = pipe?;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * keep {
                kept.drain(..kept.len() - keep);
            }
        }
        let _ = tx.send(kept);
    });
    Some(rx)
}

fn collect(rx: Option<Tail>) -> Vec<u8> {
    let Some(rx) = rx else { return Vec::new() };
    match rx.recv_timeout(DRAIN_GRACE) {
        Ok(bytes) => bytes,
        Err(_) => b"(output still held open by a child process; not collected)".to_vec(),
    }
}

/// The last [`TAIL_BYTES`] of some output as text, cut on a character boundary.
pub fn tail_text(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(TAIL_BYTES);
    let text = String::from_utf8_lossy(&bytes[start..]);
    let text = text.trim_start_matches('\u{fffd}');
    text.trim_end().to_owned()
}

/// Start a long-running command (the bot under `uv run gpt-trader run`, a
/// process manager's `start`, a watch) in its own process group, with its
/// output appended to `log`. Wait up to `grace`: an exit in that time is its
/// result (a process manager returning), still running after it is a start.
/// `stdin_from` feeds it another command's output (a watch piped into a gate).
pub fn spawn_detached(
    argv: &[String],
    cwd: &Path,
    log: &Path,
    grace: Duration,
    feed: Option<&[String]>,
) -> Outcome {
    let started = Timestamp::now();
    let open_log = || {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("opening log {}: {e}", log.display()))
    };
    let result = (|| -> Result<Child, String> {
        let mut cmd = base(argv, cwd)?;
        let mut producer = None;
        if let Some(feed) = feed {
            let mut p = base(feed, cwd)?;
            let mut p = p
                .stdout(Stdio::piped())
                .stderr(open_log()?)
                .process_group(0)
                .spawn()
                .map_err(|e| format!("starting {}: {e}", feed.join(" ")))?;
            if let Some(out) = p.stdout.take() {
                cmd.stdin(Stdio::from(out));
            }
            producer = Some(p);
        }
        let child = cmd
            .stdout(open_log()?)
            .stderr(open_log()?)
            .process_group(0)
            .spawn()
            .map_err(|e| e.to_string());
        if child.is_err() {
            if let Some(mut p) = producer {
                let _ = p.kill();
                let _ = p.wait();
            }
        }
        child
    })();
    let mut child = match result {
        Ok(c) => c,
        Err(why) => return not_started(started, why),
    };
    let deadline = Instant::now() + grace;
    let ending = loop {
        match child.try_wait() {
            Ok(Some(status)) => break ending_of(status),
            Ok(None) if Instant::now() >= deadline => break Ending::Running(child.id()),
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => break Ending::NotStarted(format!("waiting for it: {e}")),
        }
    };
    let log_tail = std::fs::read(log)
        .map(|b| tail_text(&b))
        .unwrap_or_default();
    Outcome {
        ending,
        started,
        ended: Timestamp::now(),
        stdout_tail: String::new(),
        stderr_tail: log_tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn keeps_tails_and_status() {
        let o = run(
            &sh("echo out; echo err >&2; exit 3"),
            Path::new("/"),
            Duration::from_secs(10),
        );
        assert_eq!(o.ending, Ending::Exited(3));
        assert_eq!(o.stdout_tail, "out");
        assert_eq!(o.stderr_tail, "err");
    }

    #[test]
    fn times_out_and_kills() {
        let o = run(
            &sh("exec sleep 30"),
            Path::new("/"),
            Duration::from_millis(200),
        );
        assert_eq!(o.ending, Ending::TimedOut);
        assert!(!o.success());
    }

    #[test]
    fn tail_is_bounded() {
        let o = run(
            &sh("head -c 100000 /dev/zero | tr '\\0' x >&2"),
            Path::new("/"),
            Duration::from_secs(10),
        );
        assert!(o.stderr_tail.len() <= TAIL_BYTES);
    }

    #[test]
    fn missing_program_is_not_started() {
        let o = run(
            &["/nonexistent/prog".to_owned()],
            Path::new("/"),
            Duration::from_secs(1),
        );
        assert!(matches!(o.ending, Ending::NotStarted(_)));
        let o = run(&[], Path::new("/"), Duration::from_secs(1));
        assert!(matches!(o.ending, Ending::NotStarted(_)));
    }
}

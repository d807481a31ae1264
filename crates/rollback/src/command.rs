//! Running a configured command: an argv array (never a shell string), no
//! stdin, its own process group (a timeout kills the whole group, so a
//! grandchild of `uv sync` cannot keep writing after "killed"), a marker in
//! its environment (so the processes a step left behind can be found after an
//! interruption), a timeout, and a bounded tail of what it printed. Files
//! rollback holds open (the lock, the journal) are close-on-exec: no command
//! inherits them.

use crate::error::SpawnError;
use jiff::Timestamp;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The environment variable every command rollback starts carries
/// (`<procedure id>/<step>`), so that after an interruption the processes a
/// step left behind can be found.
pub const MARKER: &str = "CANARY_KIT_STEP";

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

/// Who is told the pids of what a step spawned, right after the spawn (the
/// journal), and the marker the step's processes carry.
#[derive(Default)]
pub struct Track<'a> {
    pub marker: Option<String>,
    pub on_spawn: Option<&'a mut OnSpawn<'a>>,
}

/// Called with the pids of what was just spawned.
pub type OnSpawn<'a> = dyn FnMut(&[u32]) + 'a;

impl std::fmt::Debug for Track<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Track")
            .field("marker", &self.marker)
            .finish()
    }
}

impl Track<'_> {
    fn spawned(&mut self, pids: &[u32]) {
        if let Some(f) = self.on_spawn.as_mut() {
            f(pids);
        }
    }
}

fn base(argv: &[String], cwd: &Path, marker: Option<&str>) -> Result<Command, SpawnError> {
    let (prog, args) = argv.split_first().ok_or(SpawnError::EmptyCommand)?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .process_group(0);
    if let Some(m) = marker {
        cmd.env(MARKER, m);
    }
    Ok(cmd)
}

/// Run `argv` in `cwd` to completion or until `timeout`, keeping the tails of
/// its output, marked, its pid reported once spawned. Never inherits stdin;
/// never panics.
pub fn run_tracked(argv: &[String], cwd: &Path, timeout: Duration, track: &mut Track) -> Outcome {
    let (outcome, _) = run_keeping_tracked(argv, cwd, timeout, TAIL_BYTES, track);
    outcome
}

/// [`run_tracked`], also returning up to the last `keep` bytes of stdout whole (for
/// git queries, whose output is parsed).
pub fn run_keeping(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    keep: usize,
) -> (Outcome, Vec<u8>) {
    run_keeping_tracked(argv, cwd, timeout, keep, &mut Track::default())
}

pub fn run_keeping_tracked(
    argv: &[String],
    cwd: &Path,
    timeout: Duration,
    keep: usize,
    track: &mut Track,
) -> (Outcome, Vec<u8>) {
    let started = Timestamp::now();
    let spawned = base(argv, cwd, track.marker.as_deref()).and_then(|mut c| {
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(SpawnError::Spawn)
    });
    let mut child = match spawned {
        Ok(c) => c,
        Err(why) => return (not_started(started, why.to_string()), Vec::new()),
    };
    track.spawned(&[child.id()]);
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
                kill_group(child);
                let _ = child.wait();
                return Ending::TimedOut;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Ending::NotStarted(format!("waiting for it: {e}")),
        }
    }
}

/// Kill the child's whole process group (it leads it: `process_group(0)`),
/// then the child itself in case the group is gone.
fn kill_group(child: &mut Child) {
    if let Some(pid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    let _ = child.kill();
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

/// A log file in the state directory (opened no-follow, regular files only).
#[derive(Debug)]
pub struct LogFile<'a> {
    pub dir: &'a crate::safefs::StateDir,
    pub name: String,
    pub path: std::path::PathBuf,
}

impl LogFile<'_> {
    fn open(&self) -> std::io::Result<std::fs::File> {
        self.dir.append(&self.name)
    }

    fn tail(&self) -> String {
        self.dir
            .read(&self.name)
            .ok()
            .flatten()
            .map(|b| tail_text(&b))
            .unwrap_or_default()
    }
}

/// Start a long-running command (the bot under `uv run gpt-trader run`, a
/// process manager's `start`, a watch) in its own process group, with its
/// output appended to `log`. Wait up to `grace`: an exit in that time is its
/// result (a process manager returning), still running after it is a start.
/// `stdin_from` feeds it another command's output (a watch piped into a gate).
pub fn spawn_detached(
    argv: &[String],
    cwd: &Path,
    log: &LogFile,
    grace: Duration,
    feed: Option<&[String]>,
    track: &mut Track,
) -> Outcome {
    let started = Timestamp::now();
    let open_log = || log.open().map_err(|e| SpawnError::Log(log.path.clone(), e));
    let marker = track.marker.clone();
    let mut pids = Vec::new();
    let result = (|| -> Result<Child, SpawnError> {
        let mut cmd = base(argv, cwd, marker.as_deref())?;
        let mut producer = None;
        if let Some(feed) = feed {
            let mut p = base(feed, cwd, marker.as_deref())?;
            let mut p = p
                .stdout(Stdio::piped())
                .stderr(open_log()?)
                .spawn()
                .map_err(|source| SpawnError::Feed {
                    feed: feed.join(" "),
                    source,
                })?;
            if let Some(out) = p.stdout.take() {
                cmd.stdin(Stdio::from(out));
            }
            pids.push(p.id());
            producer = Some(p);
        }
        let child = cmd
            .stdout(open_log()?)
            .stderr(open_log()?)
            .spawn()
            .map_err(SpawnError::Spawn);
        if let Ok(c) = &child {
            pids.push(c.id());
        }
        if child.is_err()
            && let Some(mut p) = producer
        {
            let _ = p.kill();
            let _ = p.wait();
        }
        child
    })();
    let mut child = match result {
        Ok(c) => c,
        Err(why) => return not_started(started, why.to_string()),
    };
    track.spawned(&pids);
    let deadline = Instant::now() + grace;
    let ending = loop {
        match child.try_wait() {
            Ok(Some(status)) => break ending_of(status),
            Ok(None) if Instant::now() >= deadline => break Ending::Running(child.id()),
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => break Ending::NotStarted(format!("waiting for it: {e}")),
        }
    };
    let log_tail = log.tail();
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

    fn run(argv: &[String], cwd: &Path, timeout: Duration) -> Outcome {
        run_tracked(argv, cwd, timeout, &mut Track::default())
    }

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

//! The status contract: is the canary running, stopped, or can we not tell?
//!
//! Only a definite answer counts. For systemd, `systemctl is-active` exits 0
//! for active and 3 for inactive; any other failure ("System has not been
//! booted with systemd", no permission, a timeout) is *cannot tell*. For
//! docker, `docker inspect -f {{.State.Running}}` prints `true` or `false`.
//! Any other status command (canary-process and `--status-cmd`) exits 0 for
//! running and 1 for stopped. *Cannot tell* stops the procedure before any
//! later destructive step.
//!
//! And a canary that still answers its `/health` (`--canary-health URL`) is
//! running, whatever the process manager says: the real bot ignores SIGTERM
//! and keeps answering 200 until it is killed.

use crate::command::{Ending, MARKER, Outcome};
use crate::error::{ProbeError, ProcessError};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How to read a status command's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// `systemctl is-active`: 0 active, 3 inactive.
    Systemd,
    /// `docker inspect -f {{.State.Running}}`: prints true/false.
    Docker,
    /// 0 running, 1 stopped (canary_process.py status, `--status-cmd`).
    Generic,
}

impl Contract {
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::Systemd => "systemd (is-active: 0 running, 3 stopped)",
            Contract::Docker => "docker (inspect: true running, false stopped)",
            Contract::Generic => "exit 0 running, 1 stopped",
        }
    }
}

/// What the status command (and the health probe) says.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Running(String),
    Stopped(String),
    CannotTell(String),
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Running(_) => "running",
            Status::Stopped(_) => "stopped",
            Status::CannotTell(_) => "cannot-tell",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Status::Running(d) | Status::Stopped(d) | Status::CannotTell(d) => d,
        }
    }
}

/// Read a status command's outcome by its contract.
pub fn read(contract: Contract, o: &Outcome, timeout: Duration) -> Status {
    let how = o.describe(timeout);
    let tail = if o.stderr_tail.is_empty() {
        String::new()
    } else {
        format!(": {}", o.stderr_tail.lines().last().unwrap_or_default())
    };
    match (contract, &o.ending) {
        (Contract::Systemd, Ending::Exited(0)) => {
            Status::Running(format!("active (status command {how})"))
        }
        (Contract::Systemd, Ending::Exited(3)) => {
            Status::Stopped(format!("inactive (status command {how})"))
        }
        (Contract::Docker, Ending::Exited(0)) => match o.stdout_tail.trim() {
            "true" => Status::Running("the container is running".into()),
            "false" => Status::Stopped("the container is not running".into()),
            other => Status::CannotTell(format!("docker inspect printed {other:?}")),
        },
        (Contract::Generic, Ending::Exited(0)) => Status::Running(format!("status command {how}")),
        (Contract::Generic, Ending::Exited(1)) => Status::Stopped(format!("status command {how}")),
        _ => Status::CannotTell(format!(
            "the status command {how}{tail}; its contract is {}",
            contract.as_str()
        )),
    }
}

/// Does something answer HTTP at `url` (`http://HOST:PORT/PATH`)? `Ok(true)`
/// with the status line when it answers, `Ok(false)` when the connection is
/// refused (nothing listens), `Err` when we cannot tell (timeout, bad URL).
pub fn answers(url: &str) -> Result<(bool, String), ProbeError> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| ProbeError::NotHttp(url.to_owned()))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = hostport
        .to_socket_addrs()
        .map_err(|source| ProbeError::Resolve {
            hostport: hostport.to_owned(),
            source,
        })?
        .next()
        .ok_or_else(|| ProbeError::NoAddress(hostport.to_owned()))?;
    let io = |source| ProbeError::Io {
        url: url.to_owned(),
        source,
    };
    let timeout = Duration::from_secs(3);
    let mut s = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Ok((false, format!("{url}: connection refused")));
        }
        Err(e) => return Err(io(e)),
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(io)?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).map_err(io)?;
    let text = String::from_utf8_lossy(&buf[..n]);
    let line = text.lines().next().unwrap_or_default().to_owned();
    if line.starts_with("HTTP/") {
        Ok((true, format!("{url} answered {line:?}")))
    } else if n == 0 {
        Ok((false, format!("{url}: closed without an answer")))
    } else {
        Err(ProbeError::NotHttpAnswer(url.to_owned()))
    }
}

pub fn marker(proc_id: &str, step: &str) -> String {
    format!("{proc_id}/{step}")
}

/// What a recorded pid is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Alive, and its environment carries the step's marker.
    Ours,
    /// Gone, a zombie, or alive without the marker (the pid was reused).
    NotOurs,
    /// Alive, but its environment cannot be read at this instant (another
    /// user's process, or one in the middle of an exec): nobody can say.
    Unreadable,
}

/// Is `pid` one of the step's processes (its environment carries the marker)?
pub fn seen(pid: u32, value: &str) -> Seen {
    let dir = std::path::Path::new("/proc").join(pid.to_string());
    let zombie_or_gone = std::fs::read_to_string(dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true);
    if zombie_or_gone {
        return Seen::NotOurs;
    }
    let want = format!("{MARKER}={value}");
    match std::fs::read(dir.join("environ")) {
        Ok(env) if !env.is_empty() => {
            if env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()) {
                Seen::Ours
            } else {
                Seen::NotOurs
            }
        }
        _ => Seen::Unreadable,
    }
}

/// Processes whose environment carries `MARKER=value` (live ones: a zombie
/// holds nothing). `Err` when /proc cannot be read.
pub fn marked(value: &str) -> Result<Vec<u32>, ProcessError> {
    let want = format!("{MARKER}={value}");
    let rd = std::fs::read_dir("/proc").map_err(ProcessError::Proc)?;
    let me = std::process::id();
    let mut pids = Vec::new();
    for ent in rd.flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(env) = std::fs::read(ent.path().join("environ")) else {
            continue;
        };
        if !env.split(|b| *b == 0).any(|kv| kv == want.as_bytes()) {
            continue;
        }
        let zombie = std::fs::read_to_string(ent.path().join("stat"))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .map(|(_, r)| r.trim_start().starts_with('Z'))
            })
            .unwrap_or(true);
        if !zombie {
            pids.push(pid);
        }
    }
    pids.sort_unstable();
    Ok(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(ending: Ending, stdout: &str) -> Outcome {
        Outcome {
            ending,
            started: jiff::Timestamp::now(),
            ended: jiff::Timestamp::now(),
            stdout_tail: stdout.into(),
            stderr_tail: "System has not been booted with systemd".into(),
        }
    }

    #[test]
    fn only_definite_answers_count() {
        let t = Duration::from_secs(1);
        assert_eq!(
            read(Contract::Systemd, &out(Ending::Exited(0), ""), t).label(),
            "running"
        );
        assert_eq!(
            read(Contract::Systemd, &out(Ending::Exited(3), ""), t).label(),
            "stopped"
        );
        for code in [1, 4, 127] {
            let s = read(Contract::Systemd, &out(Ending::Exited(code), ""), t);
            assert_eq!(s.label(), "cannot-tell", "{code}");
            assert!(s.detail().contains("not been booted"), "{s:?}");
        }
        assert_eq!(
            read(Contract::Generic, &out(Ending::Exited(1), ""), t).label(),
            "stopped"
        );
        assert_eq!(
            read(Contract::Generic, &out(Ending::Exited(2), ""), t).label(),
            "cannot-tell"
        );
        assert_eq!(
            read(Contract::Generic, &out(Ending::TimedOut, ""), t).label(),
            "cannot-tell"
        );
        assert_eq!(
            read(Contract::Docker, &out(Ending::Exited(0), "false\n"), t).label(),
            "stopped"
        );
        assert_eq!(
            read(Contract::Docker, &out(Ending::Exited(1), ""), t).label(),
            "cannot-tell"
        );
    }

    /// A recorded pid counts as the step's only while it carries the
    /// marker: a reused pid (alive, another environment) or a gone one does
    /// not.
    #[test]
    fn a_pid_is_ours_only_while_it_carries_the_marker() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env(MARKER, "p1/restart")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while seen(pid, "p1/restart") != Seen::Ours {
            assert!(std::time::Instant::now() < deadline, "never seen");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(seen(pid, "p2/restart"), Seen::NotOurs);
        assert_eq!(marked("p1/restart").expect("proc"), vec![pid]);
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(seen(pid, "p1/restart"), Seen::NotOurs);
        assert_eq!(seen(std::process::id(), "p1/restart"), Seen::NotOurs);
    }

    #[test]
    fn a_listener_answers_and_a_closed_port_does_not() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let h = std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut b = [0u8; 256];
                let _ = s.read(&mut b);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
            }
        });
        let (yes, _) = answers(&format!("http://127.0.0.1:{port}/health")).expect("probe");
        assert!(yes);
        let _ = h.join();
        let (yes, _) = answers(&format!("http://127.0.0.1:{port}/health")).expect("probe");
        assert!(!yes);
    }
}

//! The lock that refuses a second concurrent rollback or promotion.
//!
//! The lock is a file created with `create_new` (atomic: exactly one run
//! wins) holding the owner's pid, run id and start time. It is removed when
//! the run ends. A lock whose pid is no longer running is *stale*: it is
//! never removed silently — the run that finds it stops, names it, and the
//! operator re-runs with `--break-stale-lock` after checking the audit log.

use serde_json::{Value, json};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Another run holds it and is alive (or its liveness cannot be told).
    Held { pid: Option<u32>, owner: Value },
    /// Its owner is gone; `--break-stale-lock` removes it.
    Stale { pid: u32, owner: Value },
    /// It could not be created or read for another reason.
    Io(String),
}

impl Refusal {
    pub fn message(&self, path: &Path) -> String {
        let p = path.display();
        match self {
            Refusal::Held {
                pid: Some(pid),
                owner,
            } => format!(
                "another rollback or promotion is running (pid {pid}, run {}); lock {p}: wait for it to finish",
                owner.get("run_id").and_then(Value::as_str).unwrap_or("?")
            ),
            Refusal::Held { pid: None, .. } => format!(
                "lock {p} exists but names no owner; make sure no rollback is running, then remove it by hand"
            ),
            Refusal::Stale { pid, owner } => format!(
                "stale lock {p}: run {} (pid {pid}) is no longer running and may have stopped half-way; \
                 check the audit log, then re-run with --break-stale-lock",
                owner.get("run_id").and_then(Value::as_str).unwrap_or("?")
            ),
            Refusal::Io(e) => format!("lock {p}: {e}"),
        }
    }
}

/// A held lock; dropping it removes the file if it is still ours.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pid: u32,
    /// Set when a stale lock was broken to take this one.
    pub broke: Option<Value>,
}

impl Lock {
    pub fn acquire(path: &Path, run_id: &str, break_stale: bool) -> Result<Lock, Refusal> {
        let pid = std::process::id();
        let owner =
            json!({"pid": pid, "run_id": run_id, "started": jiff::Timestamp::now().to_string()});
        let mut broke = None;
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(path) {
                Ok(mut f) => {
                    let body = format!("{owner}\n");
                    f.write_all(body.as_bytes())
                        .and_then(|()| f.sync_all())
                        .map_err(|e| Refusal::Io(e.to_string()))?;
                    return Ok(Lock {
                        path: path.to_path_buf(),
                        pid,
                        broke,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let found = read_owner(path);
                    let found_pid = found
                        .get("pid")
                        .and_then(Value::as_u64)
                        .and_then(|p| u32::try_from(p).ok());
                    match found_pid {
                        Some(p) if !alive(p) => {
                            if !break_stale || broke.is_some() {
                                return Err(Refusal::Stale {
                                    pid: p,
                                    owner: found,
                                });
                            }
                            fs::remove_file(path).map_err(|e| Refusal::Io(e.to_string()))?;
                            broke = Some(found);
                        }
                        p => {
                            return Err(Refusal::Held {
                                pid: p,
                                owner: found,
                            });
                        }
                    }
                }
                Err(e) => return Err(Refusal::Io(e.to_string())),
            }
        }
        Err(Refusal::Io("lost the race for the lock".into()))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let ours =
            read_owner(&self.path).get("pid").and_then(Value::as_u64) == Some(u64::from(self.pid));
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn read_owner(path: &Path) -> Value {
    fs::read(path)
        .ok()
        .filter(|b| b.len() < 4096)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// Is `pid` a running process? Without /proc the answer is "yes" (the safe
/// side: a lock is only ever broken when its owner is known to be gone).
fn alive(pid: u32) -> bool {
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    match fs::read_to_string(proc_root.join(pid.to_string()).join("stat")) {
        // A zombie (state Z) has exited: it holds nothing.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("rollback-lock-{}-{name}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        dir.join("lock")
    }

    #[test]
    fn second_acquire_is_refused_and_release_frees() {
        let path = tmp("held");
        let _ = fs::remove_file(&path);
        let first = Lock::acquire(&path, "r1", false).expect("first");
        let err = Lock::acquire(&path, "r2", true).expect_err("held");
        assert!(matches!(err, Refusal::Held { pid: Some(_), .. }));
        drop(first);
        assert!(!path.exists());
        let _ = fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[test]
    fn stale_lock_needs_an_explicit_break() {
        let path = tmp("stale");
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        let _ = child.wait();
        fs::write(&path, format!("{{\"pid\":{dead},\"run_id\":\"old\"}}\n")).expect("write");
        let err = Lock::acquire(&path, "r", false).expect_err("stale");
        assert!(matches!(err, Refusal::Stale { .. }));
        let lock = Lock::acquire(&path, "r", true).expect("broken");
        assert!(lock.broke.is_some());
        drop(lock);
        fs::write(&path, "garbage").expect("write");
        assert!(matches!(
            Lock::acquire(&path, "r", true),
            Err(Refusal::Held { pid: None, .. })
        ));
        let _ = fs::remove_dir_all(path.parent().expect("dir"));
    }
}

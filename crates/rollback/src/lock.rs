//! The lock that refuses a second concurrent rollback or promotion: an OS
//! file lock (flock) on `STATE_DIR/rollback.lock`.
//!
//! The kernel releases it when its holder exits, however it exits (kill -9
//! included), so there is no stale lock to break and no reused pid to
//! mis-read; an interrupted run is found in the journal instead. The file is
//! opened close-on-exec, so no command rollback starts holds the lock (a
//! production bot started by the restart step must not block every later
//! run). The owner written into it is only for the "held" message: if that
//! write fails (a full disk), the lock is still the flock, released at exit,
//! and never blocks a later run.

use crate::safefs::StateDir;
use rustix::fs::{FlockOperation, flock};
use serde_json::{Value, json};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

pub const FILE: &str = "rollback.lock";

/// Why the lock could not be taken.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Another run holds it.
    Held { owner: Value },
    /// It could not be opened or locked (a symlink, a FIFO, an I/O error).
    Io(String),
}

impl Refusal {
    pub fn message(&self, dir: &StateDir) -> String {
        let p = dir.join(FILE);
        let p = p.display();
        match self {
            Refusal::Held { owner } => format!(
                "another rollback or promotion is running (pid {}, run {}); lock {p}: nothing was run; wait for it to finish, \
                 then re-run: it sees what that run did (see docs/rollback.md, \"Lock and audit log\")",
                owner.get("pid").map_or("?".into(), Value::to_string),
                owner.get("run_id").and_then(Value::as_str).unwrap_or("?")
            ),
            Refusal::Io(e) => format!(
                "lock {p}: {e}; nothing was run: fix the state directory, then re-run (see docs/rollback.md, \"The state directory\")"
            ),
        }
    }
}

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
    /// Set when writing the owner failed (the lock is held all the same).
    pub owner_not_written: Option<String>,
}

impl Lock {
    pub fn acquire(dir: &StateDir, run_id: &str) -> Result<Lock, Refusal> {
        let mut file = dir
            .read_write(FILE)
            .map_err(|e| Refusal::Io(e.to_string()))?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                return Err(Refusal::Held {
                    owner: read_owner(&mut file),
                });
            }
            Err(e) => return Err(Refusal::Io(format!("flock: {e}"))),
        }
        let owner = json!({
            "pid": std::process::id(),
            "run_id": run_id,
            "started": jiff::Timestamp::now().to_string(),
        });
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(format!("{owner}\n").as_bytes()));
        Ok(Lock {
            _file: file,
            owner_not_written: written.err().map(|e| e.to_string()),
        })
    }
}

fn read_owner(file: &mut File) -> Value {
    let mut buf = Vec::new();
    let _ = file.take(4096).read_to_end(&mut buf);
    serde_json::from_slice(&buf).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_is_refused_and_release_frees() {
        let d = std::env::temp_dir().join(format!("rollback-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let dir = StateDir::open(&d).expect("dir");
        let first = Lock::acquire(&dir, "r1").expect("first");
        let err = Lock::acquire(&dir, "r2").expect_err("held");
        assert!(matches!(err, Refusal::Held { .. }), "{err:?}");
        assert!(err.message(&dir).contains("r1"));
        drop(first);
        let again = Lock::acquire(&dir, "r3").expect("free again");
        drop(again);
        // Garbage left in the file blocks nothing: the lock is the flock.
        std::fs::write(dir.join(FILE), "garbage").expect("write");
        assert!(Lock::acquire(&dir, "r4").is_ok());
        let _ = std::fs::remove_dir_all(&d);
    }
}

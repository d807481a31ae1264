//! The state file: the last decision sent per scope and target, and the
//! Alertmanager alert that decision keeps firing.
//!
//! Written atomically (a temporary file in the same directory, fsync, rename,
//! fsync of the directory), guarded by an OS lock on a sidecar `FILE.lock`,
//! never read or locked through a symlink, and refused, never reset, when it
//! is not ours or does not parse: forgetting what was sent would re-send, or
//! worse, miss a resolution.

use crate::error::{Corrupt, Error};
use canary_core::Decision;
use jiff::Timestamp;
use rustix::fs::{FlockOperation, flock};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The `format` field that marks a file as ours.
pub const FORMAT: &str = "canary-kit/notify-state/v1";

/// A state file larger than this is not ours.
const MAX_STATE_BYTES: u64 = 16 * 1024 * 1024;

/// Most keys (scope + target) one state tracks, so that what is saved can
/// always be loaded again (an entry is at most a few KiB).
pub const MAX_KEYS: usize = 1000;

/// What is remembered of one scope of one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub scope: String,
    pub target: String,
    /// The last decision every destination received.
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The verdict it came from; an older verdict is never news.
    pub verdict_ts: Timestamp,
    /// The alert Alertmanager holds firing for it, to resolve it later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<FiringAlert>,
}

impl Entry {
    pub fn decision(&self) -> Option<Decision> {
        Decision::parse(&self.decision)
    }
}

/// A firing alert, exactly as it was posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FiringAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Timestamp,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    pub format: String,
    pub targets: BTreeMap<String, Entry>,
}

impl Default for State {
    fn default() -> Self {
        State {
            format: FORMAT.to_owned(),
            targets: BTreeMap::new(),
        }
    }
}

/// The held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

/// What `path` is, without following it; `None` when it does not exist.
fn regular_or_absent(path: &Path) -> Result<Option<fs::Metadata>, Error> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(Error::NotRegular(path.to_owned(), "a symlink")),
        Ok(m) if m.is_dir() => Err(Error::NotRegular(path.to_owned(), "a directory")),
        Ok(m) if !m.is_file() => Err(Error::NotRegular(path.to_owned(), "a special file")),
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io(path.to_owned(), e)),
    }
}

/// Open an existing regular file, and check that what was opened is what was
/// inspected (no symlink swapped in between).
fn open_checked(path: &Path, opts: &OpenOptions) -> Result<File, Error> {
    let before = regular_or_absent(path)?;
    let file = opts.open(path).map_err(|e| Error::Io(path.to_owned(), e))?;
    let opened = file.metadata().map_err(|e| Error::Io(path.to_owned(), e))?;
    let after = regular_or_absent(path)?;
    let same = |m: &Option<fs::Metadata>| {
        m.as_ref()
            .is_none_or(|m| m.ino() == opened.ino() && m.dev() == opened.dev())
    };
    if !opened.is_file() || after.is_none() || !same(&before) || !same(&after) {
        return Err(Error::NotRegular(
            path.to_owned(),
            "replaced while being opened",
        ));
    }
    Ok(file)
}

/// Take the lock of the state at `path`, without waiting.
pub fn lock(path: &Path) -> Result<Lock, Error> {
    let lock = lock_path(path);
    let file = open_checked(
        &lock,
        OpenOptions::new().read(true).write(true).create(true),
    )?;
    // flock through rustix: no unsafe code, and the lock dies with its holder.
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Lock { _file: file }),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(Error::Locked(path.to_owned())),
        Err(e) => Err(Error::Io(lock, e.into())),
    }
}

/// Read the state; a missing file is a first run.
pub fn load(path: &Path) -> Result<State, Error> {
    if regular_or_absent(path)?.is_none() {
        return Ok(State::default());
    }
    let file = open_checked(path, OpenOptions::new().read(true))?;
    let mut text = String::new();
    file.take(MAX_STATE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::Foreign(path.to_owned(), Corrupt::Unreadable(e)))?;
    if text.len() as u64 > MAX_STATE_BYTES {
        return Err(Error::Foreign(
            path.to_owned(),
            Corrupt::TooBig(MAX_STATE_BYTES),
        ));
    }
    parse(&text).map_err(|why| Error::Foreign(path.to_owned(), why))
}

fn parse(text: &str) -> Result<State, Corrupt> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(Corrupt::Json)?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(Corrupt::Format(FORMAT));
    }
    let state: State = serde_json::from_value(value).map_err(Corrupt::Shape)?;
    if state.targets.len() > MAX_KEYS {
        return Err(Corrupt::TooManyTargets(MAX_KEYS));
    }
    for (key, entry) in &state.targets {
        if entry.decision().is_none() {
            return Err(Corrupt::UnknownDecision {
                key: key.clone(),
                decision: entry.decision.clone(),
            });
        }
    }
    Ok(state)
}

/// Replace the state file atomically: readers see the old file or the new
/// one, never a torn one, whatever crash happens in between.
pub fn save(path: &Path, state: &State) -> Result<(), Error> {
    regular_or_absent(path)?;
    let io_err = |e| Error::Io(path.to_owned(), e);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(path.file_name().unwrap_or_default());
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let _ = fs::remove_file(&tmp);
    let mut text = serde_json::to_string_pretty(state).map_err(|e| io_err(e.into()))?;
    text.push('\n');
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("notify-state-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).expect("mkdir");
        d
    }

    fn entry() -> Entry {
        Entry {
            scope: "overall".into(),
            target: "t".into(),
            decision: "rollback".into(),
            phase: Some("b".into()),
            verdict_ts: Timestamp::UNIX_EPOCH,
            alert: None,
        }
    }

    #[test]
    fn round_trips_and_leaves_no_temporary_file() {
        let d = dir("rt");
        let path = d.join("s.json");
        assert_eq!(load(&path).expect("absent is empty"), State::default());
        let mut s = State::default();
        s.targets.insert("overall t".into(), entry());
        save(&path, &s).expect("saves");
        assert_eq!(load(&path).expect("loads"), s);
        let names: Vec<_> = fs::read_dir(&d)
            .expect("ls")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names, ["s.json"]);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn foreign_corrupt_and_unknown_decisions_are_refused() {
        for text in [
            "",
            "{",
            r#"{"targets":{}}"#,
            r#"{"format":"something-else","targets":{}}"#,
            r#"{"format":"canary-kit/notify-state/v1","targets":{},"extra":1}"#,
        ] {
            assert!(parse(text).is_err(), "{text}");
        }
        let mut s = State::default();
        let mut e = entry();
        e.decision = "yolo".into();
        s.targets.insert("k".into(), e);
        let text = serde_json::to_string(&s).expect("json");
        assert!(
            parse(&text)
                .expect_err("refused")
                .to_string()
                .contains("yolo")
        );
    }

    #[test]
    fn a_second_lock_is_refused_until_the_first_is_dropped() {
        let d = dir("lock");
        let path = d.join("s.json");
        let held = lock(&path).expect("first lock");
        assert!(matches!(lock(&path), Err(Error::Locked(_))));
        drop(held);
        lock(&path).expect("free again");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn symlinks_are_never_followed() {
        let d = dir("link");
        let real = d.join("real.json");
        save(&real, &State::default()).expect("saves");
        let link = d.join("s.json");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        assert!(matches!(load(&link), Err(Error::NotRegular(..))));
        assert!(matches!(
            save(&link, &State::default()),
            Err(Error::NotRegular(..))
        ));
        let _ = fs::remove_dir_all(&d);
    }
}

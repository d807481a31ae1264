//! Files a root-run rollback can trust: the state directory and everything in
//! it (journal, audit log, lock, logs, reports).
//!
//! rollback usually runs as root (for the process manager) while its state
//! directory sits in `REPO/.git`, writable by the bot's user. A symlink or a
//! FIFO planted there must never make root write through it. So:
//!
//! - the state directory must be a real directory (no symlink anywhere in
//!   its path), owned by the running user, not group- or world-writable; it
//!   is opened once and every file in it is opened relative to that handle,
//!   so it cannot be swapped for another directory half-way through a run;
//! - files are opened with no-follow and non-blocking (a FIFO never hangs the
//!   run), then checked: a regular file, owned by the running user, with one
//!   link; anything else is refused;
//! - whole files are written to a temp file created exclusively, fsync'd,
//!   renamed over the target, and the directory fsync'd.

use rustix::fs::{FileType, Mode, OFlags, fstat, mkdirat, openat, renameat, unlinkat};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The effective uid of this process (root when run for systemctl).
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Why a path is not safe to use, or an I/O error, as one message.
fn refused(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {why}", path.display()))
}

/// Check an open file or directory: the kind asked for, owned by us, and
/// (for a directory) not writable by group or others.
fn check_fd(fd: &OwnedFd, path: &Path, want_dir: bool) -> io::Result<()> {
    let st = fstat(fd)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if want_dir && kind != FileType::Directory {
        return Err(refused(path, "not a directory"));
    }
    if !want_dir && kind != FileType::RegularFile {
        return Err(refused(
            path,
            format!("not a regular file ({kind:?}): refused"),
        ));
    }
    if st.st_uid != euid() {
        return Err(refused(
            path,
            format!(
                "owned by uid {}, not by the running user (uid {}): refused",
                st.st_uid,
                euid()
            ),
        ));
    }
    if want_dir && st.st_mode & 0o022 != 0 {
        return Err(refused(
            path,
            format!(
                "writable by group or others (mode {:o}): refused",
                st.st_mode & 0o7777
            ),
        ));
    }
    if !want_dir && st.st_nlink != 1 {
        return Err(refused(
            path,
            format!("has {} hard links: refused", st.st_nlink),
        ));
    }
    Ok(())
}

const FILE_FLAGS: OFlags = OFlags::NOFOLLOW
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC)
    .union(OFlags::NOCTTY);

/// The state directory, opened once and checked.
#[derive(Debug)]
pub struct StateDir {
    pub path: PathBuf,
    fd: OwnedFd,
}

impl StateDir {
    /// Create (mode 0700) if missing, open without following symlinks, and
    /// check: a directory, no symlink in its path, ours, not group/world
    /// writable.
    pub fn open(path: &Path) -> io::Result<StateDir> {
        if !path.is_absolute() {
            return Err(refused(
                path,
                "the state directory must be an absolute path",
            ));
        }
        if std::fs::symlink_metadata(path).is_err() {
            // Create nothing through a symlink: the part of the path that
            // exists must already be free of them.
            let existing = path
                .ancestors()
                .find(|a| std::fs::symlink_metadata(a).is_ok())
                .unwrap_or(Path::new("/"));
            let canon = existing.canonicalize().map_err(|e| refused(path, e))?;
            if canon != existing {
                return Err(refused(
                    path,
                    format!(
                        "its path goes through a symlink ({} resolves to {}): refused",
                        existing.display(),
                        canon.display()
                    ),
                ));
            }
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|e| refused(path, e))?;
        }
        let fd = rustix::fs::open(
            path,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY,
            Mode::empty(),
        )
        .map_err(|e| refused(path, format!("{e} (a symlink is refused)")))?;
        let canon = path.canonicalize().map_err(|e| refused(path, e))?;
        if canon != path {
            return Err(refused(
                path,
                format!(
                    "its path goes through a symlink (it resolves to {}): refused",
                    canon.display()
                ),
            ));
        }
        check_fd(&fd, path, true)?;
        Ok(StateDir {
            path: path.to_path_buf(),
            fd,
        })
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A subdirectory (created 0700 if missing), checked like the state dir.
    pub fn subdir(&self, name: &str) -> io::Result<StateDir> {
        let path = self.join(name);
        match mkdirat(&self.fd, name, Mode::from_raw_mode(0o700)) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::EXIST => {}
            Err(e) => return Err(refused(&path, e)),
        }
        let fd = openat(
            &self.fd,
            name,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::RDONLY,
            Mode::empty(),
        )
        .map_err(|e| refused(&path, format!("{e} (a symlink is refused)")))?;
        check_fd(&fd, &path, true)?;
        Ok(StateDir { path, fd })
    }

    fn open_file(&self, name: &str, flags: OFlags) -> io::Result<File> {
        let path = self.join(name);
        let fd = openat(
            &self.fd,
            name,
            flags | FILE_FLAGS,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| {
            if e == rustix::io::Errno::LOOP {
                refused(&path, "is a symlink: refused")
            } else if e == rustix::io::Errno::NOENT {
                io::Error::new(io::ErrorKind::NotFound, format!("{}: {e}", path.display()))
            } else {
                refused(&path, e)
            }
        })?;
        check_fd(&fd, &path, false)?;
        Ok(File::from(fd))
    }

    /// Open for appending (created 0600 if missing).
    pub fn append(&self, name: &str) -> io::Result<File> {
        self.open_file(name, OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE)
    }

    /// Open for reading and writing without truncating (the lock).
    pub fn read_write(&self, name: &str) -> io::Result<File> {
        self.open_file(name, OFlags::RDWR | OFlags::CREATE)
    }

    /// Read a whole file; `Ok(None)` when it does not exist.
    pub fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        use std::io::Read;
        match self.open_file(name, OFlags::RDONLY) {
            Ok(mut f) => {
                let mut buf = Vec::new();
                f.read_to_end(&mut buf)?;
                Ok(Some(buf))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write a whole file atomically: a temp file created exclusively (never
    /// through a planted name), fsync'd, renamed over `name`, directory
    /// fsync'd. The target, if it exists, must be a regular file of ours.
    pub fn write_atomic(&self, name: &str, body: &[u8]) -> io::Result<()> {
        if std::fs::symlink_metadata(self.join(name)).is_ok() {
            drop(self.open_file(name, OFlags::RDONLY)?);
        }
        let tmp = format!(".{name}.{}.tmp", std::process::id());
        let _ = unlinkat(&self.fd, tmp.as_str(), rustix::fs::AtFlags::empty());
        let written = (|| {
            let mut f = self.open_file(&tmp, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL)?;
            f.write_all(body)?;
            f.sync_all()?;
            renameat(&self.fd, tmp.as_str(), &self.fd, name)?;
            self.sync()
        })();
        if written.is_err() {
            let _ = unlinkat(&self.fd, tmp.as_str(), rustix::fs::AtFlags::empty());
        }
        written
    }

    /// fsync the directory itself (a new or renamed entry survives a crash).
    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd).map_err(io::Error::from)
    }
}

/// Open a file outside the state directory (`--audit-log FILE`) for
/// appending: no-follow, non-blocking, and refused unless it is a regular
/// file of ours.
pub fn append_path(path: &Path) -> io::Result<File> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                refused(path, "is a symlink: refused")
            } else {
                refused(path, e)
            }
        })?;
    let fd = OwnedFd::from(f);
    check_fd(&fd, path, false)?;
    Ok(File::from(fd))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rollback-safefs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn symlinks_fifos_and_loose_modes_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tmp("refuse");
        let sd = StateDir::open(&d).expect("fresh state dir");
        std::os::unix::fs::symlink("/etc/hostname", d.join("audit.ndjson")).expect("symlink");
        let e = sd.append("audit.ndjson").expect_err("symlink followed");
        assert!(e.to_string().contains("symlink"), "{e}");
        let e = sd
            .write_atomic("audit.ndjson", b"x")
            .expect_err("replaced a symlink");
        assert!(e.to_string().contains("symlink"), "{e}");
        let made = std::process::Command::new("mkfifo")
            .arg(d.join("fifo"))
            .status()
            .expect("mkfifo");
        assert!(made.success());
        // Never blocks on a FIFO, never writes into one.
        assert!(sd.append("fifo").is_err());
        let e = sd.read("fifo").expect_err("fifo read");
        assert!(e.to_string().contains("not a regular file"), "{e}");
        sd.write_atomic("state.json", b"{}").expect("atomic write");
        assert_eq!(sd.read("state.json").expect("read"), Some(b"{}".to_vec()));
        assert_eq!(sd.read("missing").expect("read"), None);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let e = StateDir::open(&d).expect_err("world-writable");
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        let link = tmp("link");
        std::os::unix::fs::symlink(&d, &link).expect("symlink");
        assert!(StateDir::open(&link).is_err());
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_dir_all(&d);
    }
}

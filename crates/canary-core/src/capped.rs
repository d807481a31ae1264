//! Reading an input file with a size cap, refusing anything that is not a
//! regular file. A FIFO would block the open or the read forever,
//! `/dev/zero` never ends, and a directory has no content: each gets a
//! clear error instead of a hang or an out-of-memory kill.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum CappedError {
    /// The open, the metadata or the read failed (missing, unreadable, ...).
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    /// Not a regular file: what it is instead.
    #[error("refused: {0}, not a regular file")]
    NotRegular(&'static str),
    /// Over the cap: the bytes seen (at least cap + 1).
    #[error("refused: {seen} bytes is over the {cap}-byte limit")]
    TooLarge {
        /// Bytes read before giving up; only proves the file is over the cap.
        seen: u64,
        /// The cap in bytes; a file of exactly this size is read.
        cap: u64,
    },
}

fn kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        Some("a special file")
    }
}

/// Read a regular file of at most `cap` bytes.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, CappedError> {
    let meta = std::fs::metadata(path).map_err(CappedError::Io)?;
    if let Some(what) = kind(&meta) {
        return Err(CappedError::NotRegular(what));
    }
    // Non-blocking, in case the path was swapped for a FIFO since the stat.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(CappedError::Io)?;
    let meta = file.metadata().map_err(CappedError::Io)?;
    if let Some(what) = kind(&meta) {
        return Err(CappedError::NotRegular(what));
    }
    if meta.len() > cap {
        return Err(CappedError::TooLarge {
            seen: meta.len(),
            cap,
        });
    }
    let mut buf = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(CappedError::Io)?;
    if buf.len() as u64 > cap {
        return Err(CappedError::TooLarge {
            seen: buf.len() as u64,
            cap,
        });
    }
    Ok(buf)
}

//! Where the evidence comes from: the bot's URL as operators write it, and
//! files read with a cap. A FIFO would block forever, `/dev/zero` would
//! never end, and a directory is not a body: each is a clear error.

use canary_core::capped::{self, CappedError};
use std::path::Path;

/// The bot's `/metrics` URL. Given the bot's base URL (no path, or `/`),
/// the bot would answer a bare 404; `/metrics` is appended instead, and the
/// second value says so.
pub fn metrics_url(url: &str) -> (String, bool) {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let Some(rest) = rest else {
        return (url.to_owned(), false);
    };
    match rest.find('/') {
        None if !rest.contains(['?', '#']) => (format!("{url}/metrics"), true),
        Some(i) if &rest[i..] == "/" => (format!("{url}metrics"), true),
        _ => (url.to_owned(), false),
    }
}

/// Why `--file` or `--state` was not read; the text follows the path.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read: {0}")]
    Io(std::io::Error),
    #[error("is a directory, not a file")]
    Directory,
    #[error(
        "is not a regular file (a FIFO, socket or device would block or never end): pass a file, or `-` for stdin"
    )]
    NotRegular,
    #[error("is over the {cap}-byte cap")]
    TooLarge { cap: u64 },
}

/// Read a regular file of at most `cap` bytes (canary-core's capped reader),
/// worded for scrape-metrics' `--file` and `--state`.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, InputError> {
    capped::read(path, cap).map_err(|e| match e {
        CappedError::Io(e) => InputError::Io(e),
        CappedError::NotRegular("a directory") => InputError::Directory,
        CappedError::NotRegular(_) => InputError::NotRegular,
        CappedError::TooLarge { cap, .. } => InputError::TooLarge { cap },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_gets_metrics() {
        assert_eq!(
            metrics_url("http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/metrics".into(), true)
        );
        assert_eq!(
            metrics_url("http://bot:8080/"),
            ("http://bot:8080/metrics".into(), true)
        );
        for same in [
            "http://bot:8080/metrics",
            "http://bot:8080/health",
            "https://proxy/bot/metrics",
        ] {
            assert_eq!(metrics_url(same), (same.into(), false));
        }
    }

    #[test]
    fn devices_fifos_and_directories_are_refused() {
        assert!(matches!(
            read_capped(Path::new("/dev/zero"), 10),
            Err(InputError::NotRegular)
        ));
        assert!(matches!(
            read_capped(Path::new("/"), 10),
            Err(InputError::Directory)
        ));
        assert_eq!(
            read_capped(Path::new("/"), 10)
                .expect_err("a directory")
                .to_string(),
            "is a directory, not a file"
        );
    }

    #[test]
    fn a_file_over_the_cap_is_too_large_whatever_its_name() {
        // The path says "cap": the reason must come from the error, not
        // from the words of its message.
        let dir = std::env::temp_dir().join(format!("sm-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let big = dir.join("cap");
        std::fs::write(&big, [b'x'; 11]).expect("write");
        let err = read_capped(&big, 10).expect_err("over");
        assert!(matches!(err, InputError::TooLarge { cap: 10 }), "{err}");
        assert_eq!(err.to_string(), "is over the 10-byte cap");
        let gone = dir.join("capital");
        assert!(matches!(read_capped(&gone, 10), Err(InputError::Io(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

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

/// Read a regular file of at most `cap` bytes (canary-core's capped reader),
/// worded for scrape-metrics' `--file` and `--state`.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    capped::read(path, cap).map_err(|e| match e {
        CappedError::Io(e) => format!("cannot read: {e}"),
        CappedError::NotRegular("a directory") => "is a directory, not a file".into(),
        CappedError::NotRegular(_) => {
            "is not a regular file (a FIFO, socket or device would block or never end): pass a file, or `-` for stdin".into()
        }
        CappedError::TooLarge { .. } => format!("is over the {cap}-byte cap"),
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
        assert!(read_capped(Path::new("/dev/zero"), 10).is_err_and(|e| e.contains("regular")));
        assert!(read_capped(Path::new("/"), 10).is_err_and(|e| e.contains("directory")));
    }
}

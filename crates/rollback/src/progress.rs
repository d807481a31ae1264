//! What a run has done so far, kept in a small JSON file so that a re-run
//! resumes the same rollback (or promotion) instead of starting another.
//!
//! Without it a second rollback would see HEAD at `v1.3.0` and roll back
//! again, to `v1.2.0`; a second promotion would start a second prod bot.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The run that started this procedure.
    pub run_id: String,
    /// Rollback: the release the canary ran.
    pub from_tag: Option<String>,
    pub from_commit: String,
    /// Rollback: the known-good release.
    pub to_tag: Option<String>,
    pub to_commit: Option<String>,
    /// The verdict that started it (promotion: later verdicts for the same
    /// commit resume or find it done; the key is `from_commit`).
    pub verdict_ts: Option<String>,
    /// Steps finished (done, or skipped as already done).
    pub done: Vec<String>,
    pub completed: bool,
    /// When it completed (promotion: when the commit was promoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    pub updated: String,
}

impl Progress {
    pub fn has(&self, step: &str) -> bool {
        self.done.iter().any(|s| s == step)
    }

    pub fn mark(&mut self, step: &str) {
        if !self.has(step) {
            self.done.push(step.to_owned());
        }
    }
}

/// The progress file of a mode (`rollback`, `promote`) in the state dir.
pub fn path(state_dir: &Path, mode: &str) -> PathBuf {
    state_dir.join(format!("{mode}-progress.json"))
}

/// Read it; a missing or unreadable file is no progress (stated on stderr
/// when it exists but cannot be used).
pub fn load(path: &Path) -> Option<Progress> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(p) => Some(p),
        Err(e) => {
            canary_core::diag(
                crate::TOOL,
                "warning",
                &format!("ignoring unreadable progress file {}: {e}", path.display()),
            );
            None
        }
    }
}

/// Write it atomically (temp file, then rename).
pub fn save(path: &Path, progress: &mut Progress) -> std::io::Result<()> {
    progress.updated = jiff::Timestamp::now().to_string();
    let tmp = path.with_extension("json.tmp");
    let body = serde_json::to_vec_pretty(progress).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}

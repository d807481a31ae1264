//! What every module of the tool shares: its name, and how it refuses.
//! A leaf: it uses nothing of the crate, so any module can use it.

use canary_core::{Kind, Level, Record, diag};

/// The tool's name, the `tool` of every record it writes.
pub const TOOL: &str = "rollback";

/// An error record that ends the run before any step (exit 2); also on stderr.
pub(crate) fn refusal(name: &str, msg: &str) -> Record {
    diag(TOOL, "error", msg);
    Record::new(TOOL, "rollback", Kind::Error, name, Level::Unknown).msg(msg)
}

/// The pointer to a section of docs/rollback.md that every refusal ends with.
pub(crate) fn see(section: &str) -> String {
    format!(" (see docs/rollback.md, \"{section}\")")
}

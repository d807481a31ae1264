//! The tool's name, which the root and any module that writes a record
//! share. A leaf: it uses nothing of the crate.

/// The tool's name, the `tool` of every record it writes.
pub const TOOL: &str = "judge";

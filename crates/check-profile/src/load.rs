//! Reading a profile file the way the bot's loader would meet it: resolve a
//! name to `<profiles-dir>/<name>.yaml`, refuse what cannot be evaluated
//! safely (too big, not UTF-8, over the parse budget), and work out whether
//! the bot loads it, falls back to its hard-coded profile, or refuses it.

use crate::ignored::{self, Ignored};
use crate::schema::{self, Field, Mapped};
use crate::tags::{Outcome, TagUse};
use crate::yaml::{self, Node, NodeKind, ParseError};
use canary_core::capped::CappedError;
use std::path::{Path, PathBuf};

/// Largest profile read. The real canary profile is a few kilobytes.
pub const MAX_BYTES: u64 = 1 << 20;

/// The `Profile` enum values the bot accepts.
pub const PROFILE_NAMES: &[&str] = &[
    "dev", "demo", "prod", "canary", "spot", "observe", "test", "paper",
];

/// Resolve `PROFILE_PATH_OR_NAME`: a bare name (no `/`, no extension) means
/// `<dir>/<name>.yaml`, as `ProfileLoader().load(Profile.X)` does.
pub fn resolve(arg: &str, dir: &Path) -> PathBuf {
    let as_path = Path::new(arg);
    let bare = !arg.contains('/') && as_path.extension().is_none();
    if bare && !as_path.is_file() {
        dir.join(format!("{arg}.yaml"))
    } else {
        as_path.to_path_buf()
    }
}

pub use crate::error::ReadError;

/// Read at most `MAX_BYTES` of a regular file and require UTF-8.
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let buf = canary_core::capped::read(path, MAX_BYTES).map_err(|e| match e {
        CappedError::Io(e) => ReadError::Io(e),
        CappedError::TooLarge { seen, .. } => ReadError::TooLarge {
            size: seen,
            max: MAX_BYTES,
        },
        CappedError::NotRegular(what) => ReadError::NotRegular(what),
    })?;
    String::from_utf8(buf).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1;
        ReadError::NotUtf8 { line, offset }
    })
}

/// How the bot's loader ends up with this file.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The profile name the bot would load it as (the file stem).
    pub(crate) name: String,
    pub(crate) root: Option<Node>,
    /// The file is empty: `safe_load` gives `None`, read as `{}`.
    pub(crate) empty: bool,
    /// A YAML error: PyYAML fails, the bot falls back.
    pub(crate) syntax: Option<ParseError>,
    /// A duplicate key: PyYAML keeps the last silently.
    pub(crate) duplicate: Option<ParseError>,
    /// Tags `yaml.safe_load` refuses: the load fails and the bot falls back.
    pub(crate) refused_tags: Vec<TagUse>,
    pub(crate) mapped: Mapped,
    pub(crate) ignored: Vec<Ignored>,
}

impl Loaded {
    /// True when the bot silently swaps the file for its hard-coded profile.
    pub(crate) fn falls_back(&self) -> bool {
        self.syntax.is_some() || !self.mapped.fallbacks.is_empty() || !self.refused_tags.is_empty()
    }

    /// The fields the bot really runs with.
    pub fn effective(&self) -> Vec<Field> {
        if self.falls_back() {
            schema::fallback_fields(&self.name)
        } else {
            self.mapped.fields.clone()
        }
    }
}

/// Parse and map a profile's text. Only a budget breach is an error: every
/// other outcome is something the bot does and we report.
pub fn load(text: &str, name: &str) -> Result<Loaded, ReadError> {
    let (root, tags, syntax, duplicate) = match yaml::parse(text) {
        Ok(p) => (p.root, p.tags, None, p.duplicate),
        Err(e @ ParseError::Budget { .. }) => return Err(ReadError::Budget(e)),
        Err(e) => (None, Vec::new(), Some(e), None),
    };
    let refused_tags: Vec<TagUse> = tags
        .into_iter()
        .filter(|u| matches!(u.outcome, Outcome::Refused(_)))
        .collect();
    // A null document under a tag `safe_load` refuses is no empty file.
    let empty = root.is_none() && syntax.is_none() && refused_tags.is_empty();
    let empty_map = Node {
        line: 1,
        col: 1,
        span: None,
        kind: NodeKind::Map(Vec::new()),
    };
    let mapped = if syntax.is_some() || !refused_tags.is_empty() {
        Mapped::default()
    } else {
        schema::map(root.as_ref().unwrap_or(&empty_map), name)
    };
    let ignored = match &root {
        Some(r) => ignored::find(r, mapped.execution_from_trading),
        None => Vec::new(),
    };
    Ok(Loaded {
        name: name.to_owned(),
        root,
        empty,
        syntax,
        duplicate,
        refused_tags,
        mapped,
        ignored,
    })
}

/// The profile name for a path: its stem.
pub fn profile_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The source line `line` (1-based), for snippets.
pub(crate) fn source_line(text: &str, line: u64) -> Option<&str> {
    text.lines().nth(line.checked_sub(1)? as usize)
}

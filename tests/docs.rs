//! The project explains itself: no file cites a document the repository
//! does not hold, every `docs/<file>.md#anchor` reference names a heading
//! that exists, and every "runbook §N" has its section in docs/runbook.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where citations can hide: code, scripts, tests, examples, docs.
const ROOTS: &[&str] = &[
    "crates",
    "scripts",
    "tests",
    "examples",
    "docs",
    ".ci",
    "README.md",
    "Cargo.toml",
];

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut todo: Vec<PathBuf> = ROOTS.iter().map(|r| root.join(r)).collect();
    while let Some(p) = todo.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            for e in std::fs::read_dir(&p).expect("read_dir").flatten() {
                todo.push(e.path());
            }
        } else if meta.is_file() {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn texts() -> Vec<(PathBuf, String)> {
    files()
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

/// GitHub's anchor for a heading: lower case, spaces to dashes, only
/// letters, digits, dashes and underscores kept.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(doc: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(doc)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn no_file_cites_a_document_the_project_does_not_hold() {
    // Spelled in pieces so this file does not match itself.
    let banned = [
        ["contracts", " §"].concat(),
        ["bot-", "contracts"].concat(),
        ["../", "shared"].concat(),
        ["shared/", "reference"].concat(),
        ["DESIGN", ".md"].concat(),
        ["STYLE", ".md"].concat(),
    ];
    let mut found = Vec::new();
    for (path, text) in texts() {
        for (i, line) in text.lines().enumerate() {
            for b in &banned {
                if line.contains(b.as_str()) {
                    found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "dangling citations:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_docs_anchor_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    let mut seen = 0;
    for (path, text) in texts() {
        let in_docs = path.parent().is_some_and(|d| d.ends_with("docs"));
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find(".md#") {
                let before = &rest[..at];
                let start = before
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '/'))
                    .map_or(0, |s| s + 1);
                let name = &before[start..];
                let after = &rest[at + 4..];
                let end = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
                    .unwrap_or(after.len());
                let frag = &after[..end];
                rest = &after[end..];
                if name.is_empty() || frag.is_empty() {
                    continue;
                }
                let doc = if let Some(n) = name.strip_prefix("docs/") {
                    root.join("docs").join(format!("{n}.md"))
                } else if in_docs && !name.contains('/') {
                    root.join("docs").join(format!("{name}.md"))
                } else {
                    continue;
                };
                seen += 1;
                if !doc.is_file() || !anchors(&doc).contains(frag) {
                    missing.push(format!("{}:{}: {name}.md#{frag}", path.display(), i + 1));
                }
            }
        }
    }
    assert!(seen > 0, "no docs anchors found at all: the scan is broken");
    assert!(
        missing.is_empty(),
        "anchors that name no heading:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_runbook_section_cited_is_summarised() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let summary = std::fs::read_to_string(root.join("docs/runbook.md")).expect("docs/runbook.md");
    let have: BTreeSet<String> = summary
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.split('§').nth(1))
        .filter_map(|s| s.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let mut missing = BTreeSet::new();
    for (path, text) in texts() {
        for part in text.split("runbook §").skip(1) {
            let sec: String = part
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let sec = sec.trim_end_matches('.');
            if !sec.is_empty() && !have.contains(sec) {
                missing.insert(format!("{} cites runbook §{sec}", path.display()));
            }
        }
    }
    assert!(
        have.len() >= 10,
        "docs/runbook.md lost its sections: {have:?}"
    );
    assert!(
        missing.is_empty(),
        "{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

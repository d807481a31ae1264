//! Deriving the Phase B profile (runbook §1.2: copy canary, set
//! `trading.mode: normal`) by changing that one value in the text, so every
//! other line and comment stays as the operator wrote it.

use crate::error::DeriveError;
use crate::load::{self, Loaded};
use crate::yaml::{Node, NodeKind, Scalar, Style};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// The Phase B text for a loaded Phase A profile.
pub fn phase_b_text(text: &str, loaded: &Loaded) -> Result<String, DeriveError> {
    if loaded.falls_back() || loaded.duplicate.is_some() || loaded.empty {
        return Err(DeriveError::NotClean);
    }
    let Some(root) = &loaded.root else {
        return Err(DeriveError::Empty);
    };
    let new_text = match find_entry(root, "trading") {
        None => {
            let sep = if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                "\n"
            };
            format!("{text}{sep}trading:\n  mode: normal\n")
        }
        Some((key, trading)) => match find_entry(trading, "mode") {
            Some((mode_key, value)) => replace_value(text, mode_key, value)?,
            None => insert_mode(text, key, trading)?,
        },
    };
    let check = load::load(&new_text, &loaded.name).map_err(DeriveError::Reload)?;
    let mode = check.mapped.field("trading.mode").map(|f| f.value.clone());
    if check.falls_back() || mode.as_ref().and_then(|m| m.as_str()) != Some("normal") {
        return Err(DeriveError::NotNormal);
    }
    let unchanged = loaded
        .mapped
        .fields
        .iter()
        .zip(&check.mapped.fields)
        .all(|(a, b)| a.key == "trading.mode" || a.value == b.value);
    if !unchanged {
        return Err(DeriveError::ChangesMore);
    }
    Ok(new_text)
}

fn find_entry<'a>(map: &'a Node, key: &str) -> Option<(&'a Node, &'a Node)> {
    match &map.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(k, v)| (k, v)),
        _ => None,
    }
}

fn replace_value(text: &str, key: &Node, value: &Node) -> Result<String, DeriveError> {
    let NodeKind::Scalar(Scalar { style, .. }) = &value.kind else {
        return Err(DeriveError::ModeNotScalar);
    };
    let (start, end) = match value.span {
        Some((s, e)) if e > s && text.get(s..e).is_some() => (s, e),
        _ => {
            // `mode:` with no value: write it after the key's colon.
            let (_, kend) = key.span.ok_or(DeriveError::NoPosition)?;
            let colon = text
                .get(kend..)
                .and_then(|rest| rest.find(':'))
                .ok_or(DeriveError::NoColon)?
                + kend
                + 1;
            return Ok(format!("{} normal{}", &text[..colon], &text[colon..]));
        }
    };
    let replacement = match style {
        Style::Quoted if text[start..].starts_with('\'') => "'normal'",
        Style::Quoted => "\"normal\"",
        Style::Plain => "normal",
        Style::Block | Style::Tagged => {
            return Err(DeriveError::ModeBlockOrTagged);
        }
    };
    Ok(format!("{}{replacement}{}", &text[..start], &text[end..]))
}

fn insert_mode(text: &str, key: &Node, trading: &Node) -> Result<String, DeriveError> {
    let NodeKind::Map(entries) = &trading.kind else {
        return Err(DeriveError::TradingNotMapping);
    };
    let Some((first, _)) = entries.first() else {
        return Err(DeriveError::TradingEmpty);
    };
    if first.line <= key.line {
        return Err(DeriveError::TradingFlow);
    }
    let indent = " ".repeat(first.col.saturating_sub(1) as usize);
    let mut out = String::with_capacity(text.len() + 20);
    for (i, line) in text.split_inclusive('\n').enumerate() {
        out.push_str(line);
        if i as u64 + 1 == key.line {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("{indent}mode: normal\n"));
        }
    }
    Ok(out)
}

/// Write the derived profile, refusing to overwrite without `force`.
pub fn write(out: &Path, text: &str, force: bool) -> Result<(), DeriveError> {
    let path = out.to_path_buf();
    let mut file = if force {
        std::fs::File::create(out)
    } else {
        OpenOptions::new().write(true).create_new(true).open(out)
    }
    .map_err(|source| {
        if out.exists() && !force {
            DeriveError::Exists {
                path: path.clone(),
                source,
            }
        } else {
            DeriveError::Create {
                path: path.clone(),
                source,
            }
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|source| DeriveError::Write { path, source })
}

/// How the bot must be started with the derived file.
pub fn how_to_start(out: &Path) -> String {
    format!(
        "wrote {}: the bot rejects `--profile canary_open` (exit 2); either run `gpt-trader run --config {}` (legacy mapping: use_limit_orders and market_order_fallback are not mapped) or, for Phase B, install it as config/profiles/canary.yaml in the bot's checkout (not the cwd) and keep the Phase A file to restore",
        out.display(),
        out.display()
    )
}

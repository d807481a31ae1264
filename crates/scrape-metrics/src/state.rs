//! `--state FILE`: the window of scrapes kept between runs, so a cron job
//! that scrapes once a minute still computes windowed rates. Written
//! atomically; a corrupt or foreign file is an error, never silently reset.

use crate::money::Point;
use crate::snapshot::Snapshot;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

const FORMAT: &str = "canary-kit/scrape-metrics-state";
const VERSION: u32 = 1;
/// A state file larger than this is not ours (a day of 1-minute scrapes is ~2 MB).
const MAX_STATE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    format: String,
    v: u32,
    target: String,
    snapshots: Vec<Snapshot>,
    /// The money gauges over the money window (`crate::money`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    money: Vec<Point>,
}

/// Load the scrapes and money points kept for `target`. A missing file is
/// an empty history.
pub fn load_all(path: &Path, target: &str) -> anyhow::Result<(Vec<Snapshot>, Vec<Point>)> {
    if !path.exists() && path.symlink_metadata().is_err() {
        return Ok((Vec::new(), Vec::new()));
    }
    // A state file larger than the cap is not ours; a FIFO, a device or a
    // directory would block, never end, or is not a file at all.
    let bytes = crate::input::read_capped(path, MAX_STATE_BYTES).map_err(|why| {
        anyhow::anyhow!(
            "state file {} {why}; remove it or pass another --state",
            path.display()
        )
    })?;
    // The common case in one pass, straight into the types; any failure is
    // read again as a plain JSON value below, for the precise error.
    let state = match serde_json::from_slice::<StateFile>(&bytes) {
        Ok(state) if state.format == FORMAT => state,
        _ => slow_parse(path, &bytes)?,
    };
    if state.v != VERSION {
        bail!(
            "state file {} has version {}, expected {VERSION}",
            path.display(),
            state.v
        );
    }
    if state.target != target {
        bail!(
            "state file {} belongs to {}, not {target}; use one state file per target",
            path.display(),
            state.target
        );
    }
    // The window's arithmetic walks scrapes in time order: a file edited
    // by hand (or by another tool) is put back in order, one scrape per time.
    let mut snaps = state.snapshots;
    snaps.sort_by_key(|s| s.t_ms);
    snaps.dedup_by_key(|s| s.t_ms);
    let mut money = state.money;
    money.sort_by_key(|p| p.t_ms);
    money.dedup_by_key(|p| p.t_ms);
    Ok((snaps, money))
}

/// Parse a state file that did not read as one, for the error that says why.
fn slow_parse(path: &Path, bytes: &[u8]) -> anyhow::Result<StateFile> {
    let value: serde_json::Value = serde_json::from_slice(bytes).with_context(|| {
        format!(
            "state file {} is corrupt (not JSON); remove it to start a new window",
            path.display()
        )
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        bail!(
            "state file {} is not a scrape-metrics state file (no \"format\": \"{FORMAT}\"); refusing to overwrite it",
            path.display()
        );
    }
    let state: StateFile = serde_json::from_value(value).with_context(|| {
        format!(
            "state file {} is corrupt; remove it to start a new window",
            path.display()
        )
    })?;
    Ok(state)
}

/// Write the history atomically: a temporary file in the same directory,
/// synced, then renamed over the old one.
pub fn save_all(
    path: &Path,
    target: &str,
    snapshots: &[Snapshot],
    money: &[Point],
) -> anyhow::Result<()> {
    // Borrowed, field for field as `StateFile`: no copy of every scrape.
    #[derive(Serialize)]
    struct StateRef<'a> {
        format: &'a str,
        v: u32,
        target: &'a str,
        snapshots: &'a [Snapshot],
        #[serde(skip_serializing_if = "<[Point]>::is_empty")]
        money: &'a [Point],
    }
    let state = StateRef {
        format: FORMAT,
        v: VERSION,
        target,
        snapshots,
        money,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> anyhow::Result<()> {
        // Buffered: the serializer writes a token at a time, one system
        // call each without a buffer (seconds for a large window).
        let mut f = std::io::BufWriter::with_capacity(1 << 16, fs::File::create(&tmp)?);
        serde_json::to_writer(&mut f, &state)?;
        f.write_all(b"\n")?;
        let f = f.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    };
    write()
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
        .with_context(|| format!("writing state file {}", path.display()))
}

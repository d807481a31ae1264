//! `canary-report`: a recorded window log as one self-contained HTML page.

#![forbid(unsafe_code)]

pub mod chart;
pub mod cli;
mod equity;
mod error;
mod escape;
mod html;
mod load;
mod model;
mod orders;
mod svg;
mod table;

use anyhow::Context;
use canary_core::Exit;
use canary_core::phase::RunPhase;
use chart::{Chart, HLine, Series};
use cli::Cli;
use model::{Log, Point};
use std::fs;
use std::io::{self, Write};
use std::path::Path;

pub use cli::TOOL;

/// Read the log, render the page, write it. Exit 0 once the page is written.
pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let log = load::read_all(&cli.files)?;
    let page = render(&log, cli.phase);
    match &cli.output {
        None => {
            let mut out = io::stdout().lock();
            out.write_all(page.as_bytes())
                .and_then(|()| out.flush())
                .context("writing the report to stdout")?;
        }
        Some(path) => write_atomically(path, page.as_bytes())?,
    }
    Ok(Exit::Clean)
}

/// Write beside `path` then rename, so a reader never sees half a page.
///
/// The report may be written as root into a directory others can write, so
/// nothing is written through what is already there: a symlink, a FIFO, a
/// device node (`-o /dev/full`, `-o /dev/stdout`) or any other non-regular
/// file at `path` is refused, never replaced. The temporary file is created
/// exclusively (`O_EXCL` never follows a planted symlink) and the rename
/// replaces the directory entry itself, never what a symlink points to.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = path.display();
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            anyhow::bail!("{name} is a symlink: refused (give the real path of a regular file)")
        }
        Ok(m) if !m.file_type().is_file() => {
            anyhow::bail!("{name} exists and is not a regular file: refused, not replaced")
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("writing {name}")),
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file = path
        .file_name()
        .with_context(|| format!("writing {name}: not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file);
    tmp_name.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    ));
    let tmp = dir.join(tmp_name);
    let done = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| fs::File::open(&dir)?.sync_all());
    if let Err(e) = done {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {name}"));
    }
    Ok(())
}

/// The page for a log; `phase` overrides the verdict's for the order target.
pub(crate) fn render(log: &Log, phase: Option<RunPhase>) -> String {
    let charts = charts(log, phase);
    let rows = table::rows(log);
    html::page(log, &charts, &rows)
}

/// Group points into series by label, in order of first appearance.
fn group(points: &[Point]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for p in points {
        match out.iter_mut().find(|s| s.label == p.series) {
            Some(s) => s.points.push((p.ts, p.value)),
            None => out.push(Series {
                label: p.series.clone(),
                points: vec![(p.ts, p.value)],
            }),
        }
    }
    out
}

fn x_range(log: &Log, orders: &[orders::OrderSeries]) -> (f64, f64) {
    let times = log
        .signals
        .iter()
        .flatten()
        .map(|p| p.ts)
        .chain(orders.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for t in times {
        lo = lo.min(svg::ms(t));
        hi = hi.max(svg::ms(t));
    }
    if !lo.is_finite() {
        return (0.0, 60_000.0);
    }
    if hi - lo < 1000.0 {
        (lo - 30_000.0, hi + 30_000.0)
    } else {
        (lo, hi)
    }
}

/// The four signal charts and the order chart.
pub(crate) fn charts(log: &Log, phase: Option<RunPhase>) -> Vec<Chart> {
    let verdict = log.verdict.as_ref();
    let window = verdict.and_then(|v| v.window.as_ref());
    let start = window.and_then(|w| w.start);
    let orders = orders::in_window(&log.orders, start);
    let x = x_range(log, &orders);
    let mut out: Vec<Chart> = model::signals()
        .enumerate()
        .map(|(i, sig)| {
            let t = sig.threshold;
            let series = group(&log.signals[i]);
            let mut notes = Vec::new();
            if log.mismatched[i] > 0 {
                notes.push(format!(
                    "{} {} record(s) carry thresholds that differ from canary-kit's table (WARN {}, CRIT {}); the lines show the table.",
                    log.mismatched[i],
                    sig.record,
                    svg::num(t.warn),
                    svg::num(t.crit)
                ));
            }
            let points = log.signals[i].len();
            let unknown = log.signals[i].iter().filter(|p| p.value.is_none()).count();
            if points > 0 && unknown == points {
                notes.push("Every point is unknown: no evidence, which is never healthy.".into());
            } else if unknown > 0 {
                notes.push(format!("{unknown} of {points} points are unknown (× on the time axis)."));
            }
            Chart {
                id: sig.chart.unwrap_or(sig.key),
                title: format!("{} — {} ({})", sig.title, sig.record, t.unit),
                unit: t.unit.as_str(),
                series,
                lines: vec![
                    HLine { value: t.warn, kind: "warn", label: format!("WARN {}", svg::num(t.warn)) },
                    HLine { value: t.crit, kind: "crit", label: format!("CRIT {}", svg::num(t.crit)) },
                ],
                empty: format!("no {} records in this log (run scrape-metrics)", sig.record),
                notes,
                x_range: x,
                marker: None,
            }
        })
        .collect();
    out.extend(equity::chart(log, x));

    let phase = match phase {
        Some(p) => Some(p.as_str()),
        None => verdict.and_then(|v| v.phase.as_deref()),
    };
    let target = match phase {
        Some("a") => Some(("Phase A", 10.0)),
        Some("b") => Some(("Phase B", 50.0)),
        _ => None,
    };
    let mut notes = Vec::new();
    let mut lines = Vec::new();
    match target {
        Some((_, n)) => lines.push(HLine {
            value: n,
            kind: "target",
            label: format!("target {}", svg::num(n)),
        }),
        None => notes.push(
            "No order target: the log has no Phase A or B verdict; pass --phase a|b.".to_owned(),
        ),
    }
    if let Some((name, n)) = target {
        let counted: f64 = orders.iter().map(|s| s.count).sum();
        notes.insert(
            0,
            format!(
                "{name} window completes at {} orders; counted so far: {}.",
                svg::num(n),
                svg::num(counted)
            ),
        );
    }
    let resets: u32 = orders.iter().map(|s| s.resets).sum();
    if resets > 0 {
        notes.push(format!(
            "The bot's order counter went down {resets} time(s): a restart; counted as a reset, like PromQL's increase()."
        ));
    }
    let empty = if log.orders.is_empty() {
        "no metrics.orders samples in this log (run scrape-metrics)".to_owned()
    } else {
        "no metrics.orders samples inside the window".to_owned()
    };
    out.push(Chart {
        id: "chart-orders",
        title: format!(
            "Orders in the window{}",
            target.map_or(String::new(), |(name, _)| format!(" — {name}"))
        ),
        unit: "orders",
        series: orders
            .into_iter()
            .map(|s| Series {
                label: s.target,
                points: s.points,
            })
            .collect(),
        lines,
        empty,
        notes,
        x_range: x,
        marker: start.map(|s| (s, "window start")),
    });
    out
}

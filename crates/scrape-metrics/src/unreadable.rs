//! A line the signals read that could not be parsed leaves them unproven.
//!
//! Dropping a `gpt_trader_order_submission_total{result="failed"}` line that
//! does not parse turns a 20 % error rate into 0 %: the `metrics.parse`
//! record says so, but the signals computed without the line must not read
//! ok (or crit) beside it. Every sample and signal that reads a family with
//! an unreadable line is `unknown`, with the line named.

use crate::snapshot::{BROKER_LATENCY, GUARD_TRIPS, ORDERS, Scrape};
use canary_core::{Kind, Level, Record};
use serde_json::Value;

/// The families each record reads, by record name.
fn reads(name: &str) -> &'static [&'static str] {
    if name.contains("retry") {
        &[ORDERS, BROKER_LATENCY]
    } else if name.contains("order") {
        &[ORDERS]
    } else if name.contains("guard_trips") {
        &[GUARD_TRIPS]
    } else if name.contains("latency") {
        &[BROKER_LATENCY]
    } else {
        &[]
    }
}

/// The signal families with an unreadable line, each with its first line
/// number (0 when the line is not known: errors past the report cap).
pub(crate) fn broken(scrape: &Scrape) -> Vec<(&'static str, usize)> {
    let mut out: Vec<(&'static str, usize)> = Vec::new();
    let mut add = |family: &'static str, line: usize| {
        if !out.iter().any(|(f, _)| *f == family) {
            out.push((family, line));
        }
    };
    // Only a sample line that was dropped counts: an early `# EOF` is an
    // error of the body's framing, and the lines after it are still read.
    for e in &scrape.errors {
        for family in [ORDERS, GUARD_TRIPS, BROKER_LATENCY] {
            if e.snippet.contains(family) {
                add(family, e.line);
            }
        }
    }
    if scrape.errors_dropped > 0 {
        for family in [ORDERS, GUARD_TRIPS, BROKER_LATENCY] {
            add(family, 0);
        }
    }
    out
}

/// Make every sample and signal that reads a broken family `unknown`.
pub(crate) fn taint(records: &mut [Record], broken: &[(&'static str, usize)]) {
    for rec in records.iter_mut() {
        if !matches!(rec.kind, Kind::Signal | Kind::Sample) || rec.level == Level::Unknown {
            continue;
        }
        let Some((family, line)) = broken.iter().find(|(f, _)| reads(&rec.name).contains(f)) else {
            continue;
        };
        let at = if *line == 0 {
            "a line".to_owned()
        } else {
            format!("line {line}")
        };
        rec.msg = format!(
            "unknown: {at} of {family} could not be parsed (see metrics.parse), so this cannot be trusted; as read without it: {}",
            rec.msg
        );
        rec.level = Level::Unknown;
        rec.value = Value::Null;
    }
}

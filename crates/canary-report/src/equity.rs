//! The equity chart: `metrics.equity` over time against the daily loss
//! limit's lines (docs/money.md#drawdown). The lines are drawn from the
//! newest `metrics.drawdown` that knows its basis: start-of-window equity
//! less half the limit (WARN) and less the whole limit (CRIT). The
//! drawdown itself is peak to trough, so it can cross them while the line
//! is still above: the chart shows the money, the signal judges it.

use crate::chart::{Chart, HLine, Series};
use crate::model::{EQUITY, Log};
use crate::svg;
use canary_core::thresholds::DRAWDOWN_OF_LOSS_LIMIT;

/// The chart, when the log holds any equity reading.
pub fn chart(log: &Log, x_range: (f64, f64)) -> Option<Chart> {
    if log.equity.is_empty() {
        return None;
    }
    let mut series: Vec<Series> = Vec::new();
    for p in &log.equity {
        match series.iter_mut().find(|s| s.label == p.series) {
            Some(s) => s.points.push((p.ts, p.value)),
            None => series.push(Series {
                label: p.series.clone(),
                points: vec![(p.ts, p.value)],
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by_key(|p| p.0);
    }
    let mut notes = Vec::new();
    let mut lines = Vec::new();
    match log.loss_basis {
        Some(b) => {
            let pct = |f: f64| format!("{} %", svg::num(f * 100.0));
            let t = DRAWDOWN_OF_LOSS_LIMIT;
            lines.push(HLine {
                value: b.start * (1.0 - t.warn * b.limit_pct),
                kind: "warn",
                label: format!("WARN −{}", pct(t.warn * b.limit_pct)),
            });
            lines.push(HLine {
                value: b.start * (1.0 - t.crit * b.limit_pct),
                kind: "crit",
                label: format!("CRIT −{}", pct(t.crit * b.limit_pct)),
            });
            notes.push(format!(
                "Loss-limit lines from start-of-window equity {} less half and all of the {} daily loss limit; the drawdown signal measures from the peak.",
                svg::num(b.start),
                pct(b.limit_pct)
            ));
        }
        None => notes.push(
            "No daily loss limit in the log (scrape-metrics --daily-loss-limit-pct or RISK_DAILY_LOSS_LIMIT_PCT): no loss-limit lines."
                .to_owned(),
        ),
    }
    let unknown = log.equity.iter().filter(|p| p.value.is_none()).count();
    if unknown > 0 {
        notes.push(format!(
            "{unknown} of {} equity readings are unknown (× on the time axis): no equity is never healthy.",
            log.equity.len()
        ));
    }
    Some(Chart {
        id: "chart-equity",
        title: format!("Equity against the daily loss limit — {EQUITY} (dollars)"),
        unit: "dollars",
        series,
        lines,
        empty: format!("no {EQUITY} records in this log"),
        notes,
        x_range,
        marker: None,
    })
}

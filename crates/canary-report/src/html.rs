//! The page: header, verdict, charts, criteria table, malformed lines. Inline
//! CSS, no script, and a Content-Security-Policy that forbids fetching
//! anything, so even a mistake in escaping could not load a resource.

use crate::chart::Chart;
use crate::escape::{html, html_clipped};
use crate::model::{Log, Verdict};
use crate::table::{self, Row, badge};
use canary_core::Level;
use canary_core::duration::format_duration;
use std::fmt::Write;
use std::time::Duration;

/// Targets listed in the header; the rest are counted.
const MAX_TARGETS: usize = 20;

const CSS: &str = "
body{font-family:'Liberation Sans',Arial,Helvetica,sans-serif;margin:0;padding:20px 24px;color:#1f2328;background:#f6f8fa}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:24px 0 10px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:14px 18px;margin-bottom:16px}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.summary dt{font-weight:bold}dl.summary dd{margin:0}
.decision{display:inline-block;font-size:40px;font-weight:bold;padding:8px 22px;border-radius:8px;color:#fff;letter-spacing:1px}
.decision-good{background:#116329}.decision-progress{background:#0550ae}.decision-hold{background:#7d4e00}
.decision-bad{background:#a40e26}.decision-other{background:#24292f}
.decision-none{background:#fff;color:#24292f;border:3px dashed #24292f;font-size:26px}
.verdict-msg{font-size:16px;margin:10px 0}
.bar{width:360px;height:12px;background:#eaeef2;border:1px solid #8c959f;display:inline-block;vertical-align:middle;margin-right:8px}
.bar span{display:block;height:100%;background:#0550ae}
.charts{display:grid;grid-template-columns:repeat(2,580px);gap:16px}
figure.chart{margin:0;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 2px}
figcaption{font-weight:bold;margin:0 8px 6px}
.nodata{height:200px;display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center;
 border:2px dashed #8c959f;margin:8px;color:#24292f;font-size:14px;padding:0 12px}
.nodata strong{font-size:24px}
ul.legend{list-style:none;margin:4px 8px;padding:0;font-size:12px}ul.legend li{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:16px;height:3px;vertical-align:middle;margin-right:5px}
.swatch.dashed{height:0;border-top:2px dashed}
.x{color:#57606a;font-weight:bold;margin-right:5px}
p.note{font-size:12px;margin:4px 8px;color:#7d4e00}
table.criteria{border-collapse:collapse;width:100%;font-size:13px}
table.criteria th,table.criteria td{border:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.criteria th{background:#f6f8fa}
.target{color:#57606a;font-size:11px}td.ts{white-space:nowrap;font-size:11px}
.lvl{display:inline-block;white-space:nowrap;font-weight:bold;font-size:11px;padding:1px 6px;border-radius:10px;border:1px solid}
.lvl-ok{background:#dafbe1;color:#116329}.lvl-warn{background:#fff8c5;color:#7d4e00}
.lvl-crit{background:#ffebe9;color:#a40e26}.lvl-unknown{background:#eaeef2;color:#24292f;border-style:dashed}
ol.bad{font-family:monospace;font-size:12px}
";

/// Colour class of a decision; the word itself is always shown too.
fn decision_class(d: &str) -> &'static str {
    match d {
        "go" | "advance" | "promote" => "good",
        "continue" => "progress",
        "extend" => "hold",
        "no-go" | "pause" | "stop" | "rollback" => "bad",
        _ => "other",
    }
}

fn duration(secs: f64) -> String {
    if secs.is_finite() && secs >= 0.0 {
        format_duration(Duration::from_secs(secs as u64))
    } else {
        "?".into()
    }
}

fn bar(done: f64, of: f64) -> String {
    let pct = if of > 0.0 && done.is_finite() {
        (done / of * 100.0).clamp(0.0, 100.0)
    } else {
        0.0
    };
    format!(
        "<span class=\"bar\" role=\"img\" aria-label=\"{pct:.0}%\"><span style=\"width:{pct:.1}%\"></span></span>"
    )
}

fn header(log: &Log) -> String {
    let mut s = String::from("<section id=\"summary\"><dl class=\"summary\">");
    let targets: Vec<String> = log
        .targets
        .iter()
        .take(MAX_TARGETS)
        .map(|t| format!("<code>{}</code>", html_clipped(t, 200)))
        .collect();
    let more = log.targets.len().saturating_sub(MAX_TARGETS);
    let _ = write!(
        s,
        "<dt>targets seen</dt><dd>{}{}</dd>",
        if targets.is_empty() {
            "none".to_owned()
        } else {
            targets.join(", ")
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    );
    let span = match (log.first, log.last) {
        (Some(f), Some(l)) => format!(
            "{f} — {l} ({})",
            duration(l.duration_since(f).as_secs_f64())
        ),
        _ => "no records".into(),
    };
    let _ = write!(s, "<dt>time span</dt><dd>{}</dd>", html(&span));
    let _ = write!(s, "<dt>records</dt><dd>{}: ", log.records);
    for level in [Level::Crit, Level::Unknown, Level::Warn, Level::Ok] {
        let n = log.by_level.get(level.as_str()).copied().unwrap_or(0);
        let _ = write!(s, "{} {n} &nbsp; ", badge(level));
    }
    s.push_str("</dd>");
    let _ = write!(
        s,
        "<dt>malformed lines</dt><dd>{}{}</dd></dl></section>",
        log.bad_count,
        if log.bad_count > 0 {
            " (skipped; listed at the end of this page)"
        } else {
            ""
        }
    );
    s
}

fn verdict(v: Option<&Verdict>, verdicts: u64) -> String {
    let mut s = String::from("<section id=\"verdict\"><h2>Verdict</h2>");
    let Some(v) = v else {
        s.push_str(
            "<div class=\"decision decision-none\">no verdict in this log: run judge</div>\
             <p class=\"verdict-msg\">The log holds no <code>judge.verdict</code> record, so this report \
             makes no decision. Pipe the log through <code>judge --phase a|b</code> and report again.</p></section>",
        );
        return s;
    };
    let word = if v.decision.is_empty() {
        "(no decision field)"
    } else {
        &v.decision
    };
    let _ = write!(
        s,
        "<div class=\"decision decision-{}\">{}</div>\
         <p class=\"verdict-msg\">{}</p><dl class=\"summary\">",
        decision_class(&v.decision),
        html_clipped(&word.to_uppercase(), 60),
        html_clipped(&v.msg, 2000)
    );
    let phase = match v.phase.as_deref() {
        Some("a") => "Phase A (reduce-only)".to_owned(),
        Some("b") => "Phase B (micro-open)".to_owned(),
        Some("start") => "start gate".to_owned(),
        Some(p) => p.to_owned(),
        None => "not stated".to_owned(),
    };
    let _ = write!(
        s,
        "<dt>phase</dt><dd>{}</dd><dt>level</dt><dd>{}</dd><dt>judged at</dt><dd>{}</dd>\
         <dt>scope</dt><dd>{} <code>{}</code></dd>",
        html(&phase),
        badge(v.level),
        v.ts,
        html(v.scope.as_deref().unwrap_or("overall")),
        html_clipped(&v.target, 200)
    );
    if let Some(w) = &v.window {
        let start = w.start.map_or("not started".to_owned(), |t| t.to_string());
        let _ = write!(s, "<dt>window start</dt><dd>{}</dd>", html(&start));
        // A missing or mistyped field is "not stated", never a made-up 0.
        let _ = match (w.elapsed_s, w.min_duration_s) {
            (Some(e), Some(min)) => write!(
                s,
                "<dt>time</dt><dd>{}{} of {}</dd>",
                bar(e, min),
                duration(e),
                duration(min)
            ),
            (Some(e), None) => write!(s, "<dt>time</dt><dd>{}</dd>", duration(e)),
            (None, _) => write!(s, "<dt>time</dt><dd>not stated</dd>"),
        };
        let _ = match (w.orders, w.min_orders) {
            (Some(o), Some(min)) => write!(
                s,
                "<dt>orders</dt><dd>{}{} of {}</dd>",
                bar(o, min),
                crate::svg::num(o),
                crate::svg::num(min)
            ),
            (Some(o), None) => write!(s, "<dt>orders</dt><dd>{}</dd>", crate::svg::num(o)),
            (None, _) => write!(s, "<dt>orders</dt><dd>not stated</dd>"),
        };
        let _ = write!(
            s,
            "<dt>window complete</dt><dd>{}</dd>",
            match w.complete {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not stated",
            }
        );
    }
    if verdicts > 1 {
        let _ = write!(
            s,
            "<dt>verdicts in log</dt><dd>{verdicts}; this is the last overall one</dd>"
        );
    }
    s.push_str("</dl></section>");
    s
}

fn malformed(log: &Log) -> String {
    if log.bad_count == 0 {
        return String::new();
    }
    let mut s = format!(
        "<section id=\"malformed\"><h2>Malformed lines ({}), skipped</h2><ol class=\"bad\">",
        log.bad_count
    );
    for b in &log.bad {
        let _ = write!(s, "<li>{}</li>", html_clipped(&b.diagnostic(), 400));
    }
    s.push_str("</ol>");
    let rest = log.bad_count.saturating_sub(log.bad.len() as u64);
    if rest > 0 {
        let _ = write!(s, "<p>and {rest} more (not listed)</p>");
    }
    s.push_str("</section>");
    s
}

/// The whole page.
pub fn page(log: &Log, charts: &[Chart], rows: &[Row]) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Canary report</title><style>{CSS}</style></head><body>\
         <h1>Canary report</h1>"
    );
    s.push_str(&header(log));
    s.push_str(&verdict(log.verdict.as_ref(), log.verdicts));
    s.push_str("<section id=\"charts\"><h2>Signals and orders</h2><div class=\"charts\">");
    for c in charts {
        s.push_str(&c.render());
    }
    s.push_str(
        "</div></section><section id=\"criteria\"><h2>Criteria and evidence (worst first)</h2>",
    );
    s.push_str(&table::render(rows));
    s.push_str("</section>");
    s.push_str(&malformed(log));
    let _ = write!(
        s,
        "<footer><p>canary-report {}: nothing on this page is fetched; every value comes from the log.</p></footer></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    s.push('\n');
    s
}

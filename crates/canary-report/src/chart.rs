//! One time-series chart as inline SVG: values over time against dashed
//! horizontal lines (WARN, CRIT, a target), unknown points as gaps with ×
//! markers, labelled axes. A chart without data says so instead of drawing
//! an empty axis that looks healthy.

use crate::escape::html;
use crate::svg::{self, Scale, px};
use jiff::Timestamp;
use std::fmt::Write;

pub const WIDTH: f64 = 576.0;
pub const HEIGHT: f64 = 270.0;
const LEFT: f64 = 66.0;
const RIGHT: f64 = 96.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 46.0;
/// Draw a dot on every point when a series has at most this many.
const DOTS_UP_TO: usize = 80;

/// Series colours, in order; the first is the one tests look for.
/// Saturated, so that no grey text or its antialiasing is mistaken for a line.
pub const PALETTE: [&str; 5] = ["#1f6feb", "#8250df", "#0a7ea4", "#bf3989", "#953800"];
pub const WARN_COLOUR: &str = "#e69500";
pub const CRIT_COLOUR: &str = "#d1242f";
pub const TARGET_COLOUR: &str = "#2ea043";
pub const UNKNOWN_COLOUR: &str = "#57606a";

/// A dashed horizontal line: a threshold or a target.
#[derive(Debug, Clone)]
pub struct HLine {
    pub value: f64,
    /// `warn`, `crit` or `target`: the class and the colour.
    pub kind: &'static str,
    pub label: String,
}

impl HLine {
    fn colour(&self) -> &'static str {
        match self.kind {
            "warn" => WARN_COLOUR,
            "crit" => CRIT_COLOUR,
            _ => TARGET_COLOUR,
        }
    }
}

/// One line on the chart; its label comes from the log.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(Timestamp, Option<f64>)>,
}

#[derive(Debug)]
pub struct Chart {
    /// HTML id of the figure (static).
    pub id: &'static str,
    pub title: String,
    /// Axis unit, e.g. `ratio`, `ms`.
    pub unit: &'static str,
    pub series: Vec<Series>,
    pub lines: Vec<HLine>,
    /// What "no data" means here, e.g. "no metrics.orders samples in this log".
    pub empty: String,
    /// Sentences shown under the chart (escaped when rendered).
    pub notes: Vec<String>,
    /// Time range shared by all charts, in ms since the epoch.
    pub x_range: (f64, f64),
    /// A vertical marker, e.g. the window start.
    pub marker: Option<(Timestamp, &'static str)>,
}

impl Chart {
    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.1))
    }

    /// The chart as an HTML `<figure>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<figure class=\"chart\" id=\"{}\"><figcaption>{}</figcaption>",
            self.id,
            html(&self.title)
        );
        if self.series.iter().all(|s| s.points.is_empty()) {
            let _ = write!(
                out,
                "<div class=\"nodata\" role=\"img\" aria-label=\"no data\"><strong>no data</strong><br>{}</div>",
                html(&self.empty)
            );
        } else {
            out.push_str(&self.svg());
            out.push_str(&self.legend());
        }
        for n in &self.notes {
            let _ = write!(out, "<p class=\"note\">{}</p>", html(n));
        }
        out.push_str("</figure>");
        out
    }

    fn svg(&self) -> String {
        let (x0, x1) = self.x_range;
        let (px0, px1) = (LEFT, WIDTH - RIGHT);
        let (py0, py1) = (HEIGHT - BOTTOM, TOP);
        let xs = Scale::new(x0, x1, px0, px1);
        let lo = self.values().fold(0.0f64, f64::min);
        let hi = self
            .values()
            .chain(self.lines.iter().map(|l| l.value))
            .fold(0.0f64, f64::max)
            * 1.08;
        // A flat chart (every value 0, no lines) still gets a readable axis.
        let hi = if hi - lo < 1e-9 { lo + 1.0 } else { hi };
        let (yticks, top) = svg::ticks(lo, hi, 5);
        let ys = Scale::new(yticks.first().copied().unwrap_or(lo), top, py0, py1);

        let mut s = String::new();
        let _ = write!(
            s,
            "<svg class=\"plot\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{} over time\">",
            html(&self.title)
        );
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#8c959f\"/>",
            px(px0),
            px(py1),
            px(px1 - px0),
            px(py0 - py1)
        );
        // Y grid and labels.
        for v in &yticks {
            let y = ys.at(*v);
            let _ = write!(
                s,
                "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#eaeef2\"/>\
                 <text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
                px(px0),
                px(px1),
                px(px0 - 6.0),
                px(y + 4.0),
                svg::num(*v),
                y = px(y)
            );
        }
        // X ticks: five evenly spaced times.
        let span_s = (x1 - x0) / 1000.0;
        for i in 0..5 {
            let t = x0 + (x1 - x0) * f64::from(i) / 4.0;
            let x = xs.at(t);
            let _ = write!(
                s,
                "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>\
                 <text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\">{}</text>",
                px(py0),
                px(py0 + 4.0),
                px(py0 + 17.0),
                svg::time_label(svg::from_ms(t), span_s),
                x = px(x)
            );
        }
        let _ = write!(
            s,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">time (UTC)</text>\
             <text class=\"axis\" transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">{}</text>",
            px((px0 + px1) / 2.0),
            px(HEIGHT - 8.0),
            px((py0 + py1) / 2.0),
            html(self.unit)
        );
        if let Some((ts, label)) = self.marker {
            let t = svg::ms(ts);
            if t >= x0 && t <= x1 {
                let x = px(xs.at(t));
                let _ = write!(
                    s,
                    "<line class=\"marker\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" stroke=\"#57606a\" stroke-dasharray=\"2 3\"/>\
                     <text x=\"{x}\" y=\"{}\" font-size=\"10\" fill=\"#57606a\" text-anchor=\"start\" dx=\"3\">{}</text>",
                    px(py1),
                    px(py0),
                    px(py1 + 10.0),
                    html(label)
                );
            }
        }
        // Threshold and target lines, crisp so they show as solid colour.
        for l in &self.lines {
            let y = px(ys.at(l.value).round() + 0.5);
            let _ = write!(
                s,
                "<line class=\"threshold {kind}\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"{c}\" \
                 stroke-width=\"2\" stroke-dasharray=\"9 5\" shape-rendering=\"crispEdges\"/>\
                 <text class=\"threshold-label\" x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{c}\">{}</text>",
                px(px0),
                px(px1),
                px(px1 + 5.0),
                px(ys.at(l.value) + 4.0),
                html(&l.label),
                kind = l.kind,
                c = l.colour(),
            );
        }
        for (i, series) in self.series.iter().enumerate() {
            s.push_str(&draw_series(
                series,
                PALETTE[i % PALETTE.len()],
                &xs,
                &ys,
                py0,
            ));
        }
        s.push_str("</svg>");
        s
    }

    fn legend(&self) -> String {
        let mut s = String::from("<ul class=\"legend\">");
        for (i, series) in self.series.iter().enumerate() {
            let _ = write!(
                s,
                "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
                PALETTE[i % PALETTE.len()],
                html(&series.label)
            );
        }
        for l in &self.lines {
            let _ = write!(
                s,
                "<li><span class=\"swatch dashed\" style=\"border-color:{}\"></span>{}</li>",
                l.colour(),
                html(&l.label)
            );
        }
        if self
            .series
            .iter()
            .any(|s| s.points.iter().any(|p| p.1.is_none()))
        {
            s.push_str("<li><span class=\"x\">×</span>unknown: no evidence at that time</li>");
        }
        s.push_str("</ul>");
        s
    }
}

/// One series: a polyline per run of known points, a dot for a lone point,
/// a × on the time axis for every unknown point.
fn draw_series(series: &Series, colour: &str, xs: &Scale, ys: &Scale, bottom: f64) -> String {
    let mut s = String::new();
    // The label is text, never an attribute: no string from the log lands in a tag.
    let _ = write!(
        s,
        "<g class=\"series\"><title>{}</title>",
        html(&series.label)
    );
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>, s: &mut String| {
        match run.len() {
            0 => {}
            1 => {
                let _ = write!(
                    s,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{colour}\"/>",
                    px(run[0].0),
                    px(run[0].1)
                );
            }
            _ => {
                let pts: Vec<String> = svg::decimate(run)
                    .iter()
                    .map(|(x, y)| format!("{},{}", px(*x), px(*y)))
                    .collect();
                let _ = write!(
                    s,
                    "<polyline class=\"line\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2.5\" \
                     stroke-linejoin=\"round\" points=\"{}\"/>",
                    pts.join(" ")
                );
            }
        }
        run.clear();
    };
    let dots = series.points.len() <= DOTS_UP_TO;
    let mut last_marker: Option<f64> = None;
    for (ts, v) in &series.points {
        let x = xs.at(svg::ms(*ts));
        match v {
            Some(v) => {
                let y = ys.at(*v);
                run.push((x, y));
                if dots {
                    let _ = write!(
                        s,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{colour}\"/>",
                        px(x),
                        px(y)
                    );
                }
            }
            None => {
                flush(&mut run, &mut s);
                // One marker per pixel column is all a screen can show.
                if last_marker == Some(x.floor()) {
                    continue;
                }
                last_marker = Some(x.floor());
                let y = bottom - 8.0;
                let _ = write!(
                    s,
                    "<path class=\"unknown\" d=\"M{} {}l8 8m0 -8l-8 8\" stroke=\"{UNKNOWN_COLOUR}\" stroke-width=\"2\">\
                     <title>unknown at {}</title></path>",
                    px(x - 4.0),
                    px(y - 4.0),
                    ts
                );
            }
        }
    }
    flush(&mut run, &mut s);
    s.push_str("</g>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).expect("ts")
    }

    fn chart(series: Vec<Series>) -> Chart {
        Chart {
            id: "c",
            title: "T".into(),
            unit: "ratio",
            series,
            lines: vec![HLine {
                value: 0.05,
                kind: "warn",
                label: "WARN 0.05".into(),
            }],
            empty: "no metrics.x records".into(),
            notes: vec![],
            x_range: (svg::ms(ts(0)), svg::ms(ts(60))),
            marker: None,
        }
    }

    #[test]
    fn no_points_says_no_data_and_draws_no_axis() {
        let out = chart(vec![]).render();
        assert!(out.contains("no data"));
        assert!(!out.contains("<svg"));
    }

    #[test]
    fn unknown_points_break_the_line_and_are_marked() {
        let out = chart(vec![Series {
            label: "<b>t</b>".into(),
            points: vec![
                (ts(0), Some(0.01)),
                (ts(10), Some(0.02)),
                (ts(20), None),
                (ts(30), Some(0.2)),
            ],
        }])
        .render();
        assert_eq!(out.matches("<polyline").count(), 1);
        assert_eq!(out.matches("class=\"unknown\"").count(), 1);
        assert!(out.contains("class=\"threshold warn\""));
        assert!(out.contains("&lt;b&gt;t&lt;/b&gt;"));
        assert!(!out.contains("<b>"));
    }

    /// Each charted signal's figure takes its id, title, unit and WARN/CRIT
    /// lines from its row of the one signal table.
    #[test]
    fn signal_charts_come_from_the_signal_table() {
        let log = crate::model::Log::default();
        let charts = crate::charts(&log, None);
        let mut seen = 0;
        for sig in crate::model::signals() {
            let id = sig.chart.expect("a charted signal has a chart id");
            let c = charts.iter().find(|c| c.id == id).expect(id);
            assert!(c.title.starts_with(sig.title), "{}", c.title);
            assert!(c.title.contains(sig.record), "{}", c.title);
            assert_eq!(c.unit, sig.threshold.unit.as_str());
            let line = |kind: &str| c.lines.iter().find(|l| l.kind == kind).map(|l| l.value);
            assert_eq!(line("warn"), Some(sig.threshold.warn));
            assert_eq!(line("crit"), Some(sig.threshold.crit));
            seen += 1;
        }
        assert_eq!(seen, canary_core::signals::CHARTED);
    }
}

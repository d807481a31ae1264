//! The bot's in-memory metrics collector (`monitoring/metrics_collector.py`)
//! and its Prometheus exporter (`monitoring/metrics_exporter.py`), bug for bug.

use crate::pyjson::float_str;
use std::collections::HashSet;

/// The bot's default latency bucket bounds, in seconds.
pub const LATENCY_BOUNDS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone)]
struct Series<T> {
    key: String,
    name: String,
    labels: Vec<(String, String)>,
    data: T,
}

/// A histogram as the collector stores it: cumulative bucket counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub bounds: Vec<f64>,
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum: f64,
}

/// Series are kept in insertion order: the bot's p95 signal reads the
/// *first-inserted* success series.
#[derive(Debug, Clone, Default)]
pub struct Collector {
    counters: Vec<Series<i64>>,
    /// Gauges: every one the simulator sets is a Python float.
    gauges: Vec<Series<f64>>,
    histograms: Vec<Series<Histogram>>,
}

fn sorted_labels(labels: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.sort();
    out
}

/// `format_metric_key`: `name` or `name{k1=v1,k2=v2}`, unquoted.
fn metric_key(name: &str, labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

fn find_or_insert<'a, T>(
    list: &'a mut Vec<Series<T>>,
    name: &str,
    labels: &[(&str, &str)],
    init: impl FnOnce() -> T,
) -> &'a mut T {
    let labels = sorted_labels(labels);
    let key = metric_key(name, &labels);
    let idx = match list.iter().position(|s| s.key == key) {
        Some(i) => i,
        None => {
            list.push(Series {
                key,
                name: name.to_owned(),
                labels,
                data: init(),
            });
            list.len() - 1
        }
    };
    &mut list[idx].data
}

impl Collector {
    pub fn inc(&mut self, name: &str, labels: &[(&str, &str)], by: i64) {
        *find_or_insert(&mut self.counters, name, labels, || 0) += by;
    }

    pub fn set(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        *find_or_insert(&mut self.gauges, name, labels, || value) = value;
    }

    /// Record one observation: every bucket whose bound is >= the value gets
    /// one more; values above the top bound only move `count` and `sum`.
    pub fn observe(&mut self, name: &str, labels: &[(&str, &str)], bounds: &[f64], value: f64) {
        let h = find_or_insert(&mut self.histograms, name, labels, || Histogram {
            bounds: bounds.to_vec(),
            cumulative: vec![0; bounds.len()],
            count: 0,
            sum: 0.0,
        });
        for (bound, c) in h.bounds.iter().zip(h.cumulative.iter_mut()) {
            if value <= *bound {
                *c += 1;
            }
        }
        h.count += 1;
        h.sum += value;
    }

    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.gauges.is_empty() && self.histograms.is_empty()
    }

    pub fn total_series(&self) -> usize {
        self.counters.len() + self.gauges.len() + self.histograms.len()
    }

    /// Counters as `(key, value)`, insertion order.
    pub fn counters(&self) -> impl Iterator<Item = (&str, i64)> {
        self.counters.iter().map(|s| (s.key.as_str(), s.data))
    }

    /// Histograms as `(key, histogram)`, insertion order.
    pub fn histograms(&self) -> impl Iterator<Item = (&str, &Histogram)> {
        self.histograms.iter().map(|s| (s.key.as_str(), &s.data))
    }

    /// `format_prometheus`. With `double_cumulate` (the bot today,
    /// docs/bot.md#histogram-double-cumulation) each finite bucket is the running sum of the already-cumulative
    /// counts; without it, the buckets are correct.
    pub fn render(&self, double_cumulate: bool) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut typed: HashSet<String> = HashSet::new();
        let mut type_line = |lines: &mut Vec<String>, name: &str, kind: &str| {
            if typed.insert(name.to_owned()) {
                lines.push(format!("# TYPE {name} {kind}"));
            }
        };
        let mut counters: Vec<_> = self.counters.iter().collect();
        counters.sort_by(|a, b| a.key.cmp(&b.key));
        for s in counters {
            type_line(&mut lines, &s.name, "counter");
            lines.push(format!("{}{} {}", s.name, label_text(&s.labels), s.data));
        }
        let mut gauges: Vec<_> = self.gauges.iter().collect();
        gauges.sort_by(|a, b| a.key.cmp(&b.key));
        for s in gauges {
            type_line(&mut lines, &s.name, "gauge");
            lines.push(format!(
                "{}{} {}",
                s.name,
                label_text(&s.labels),
                float_str(s.data)
            ));
        }
        let mut hists: Vec<_> = self.histograms.iter().collect();
        hists.sort_by(|a, b| a.key.cmp(&b.key));
        for s in hists {
            type_line(&mut lines, &s.name, "histogram");
            let h = &s.data;
            let mut running = 0u64;
            for (bound, c) in h.bounds.iter().zip(&h.cumulative) {
                running += c;
                let exported = if double_cumulate { running } else { *c };
                lines.push(format!(
                    "{}_bucket{} {exported}",
                    s.name,
                    with_le(&s.labels, &float_str(*bound))
                ));
            }
            lines.push(format!(
                "{}_bucket{} {}",
                s.name,
                with_le(&s.labels, "+Inf"),
                h.count
            ));
            lines.push(format!(
                "{}_sum{} {}",
                s.name,
                label_text(&s.labels),
                float_str(h.sum)
            ));
            lines.push(format!(
                "{}_count{} {}",
                s.name,
                label_text(&s.labels),
                h.count
            ));
        }
        if lines.is_empty() {
            return String::new();
        }
        let mut body = lines.join("\n");
        body.push('\n');
        body
    }
}

/// `{k="v",...}` with values quoted but, like the bot, never escaped.
fn label_text(labels: &[(String, String)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(","))
}

/// The labels plus `le`, sorted together as the bot sorts them.
fn with_le(labels: &[(String, String)], le: &str) -> String {
    let mut all = labels.to_vec();
    all.push(("le".to_owned(), le.to_owned()));
    all.sort();
    label_text(&all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_observation_double_cumulates_as_the_bot_does() {
        // docs/bot.md#histogram-double-cumulation: one observation of 0.2 s gives 0,0,0,0,0,0,1,2,3,4,5,6 and +Inf 1.
        let mut c = Collector::default();
        let labels = [
            ("operation", "submit"),
            ("outcome", "success"),
            ("reason", "none"),
        ];
        c.observe(
            "gpt_trader_broker_call_latency_seconds",
            &labels,
            &LATENCY_BOUNDS,
            0.2,
        );
        let body = c.render(true);
        let values: Vec<&str> = body
            .lines()
            .filter(|l| l.contains("_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap_or_default())
            .collect();
        assert_eq!(
            values,
            [
                "0", "0", "0", "0", "0", "0", "1", "2", "3", "4", "5", "6", "1"
            ]
        );
        assert!(body.contains(
            "gpt_trader_broker_call_latency_seconds_bucket{le=\"1.0\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 3"
        ));
        let fixed = c.render(false);
        assert!(
            fixed.contains(
                "le=\"10.0\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 1"
            )
        );
    }

    #[test]
    fn renders_counters_gauges_histograms_in_order_with_one_type_line() {
        let mut c = Collector::default();
        c.observe("h", &[], &[1.0], 0.5);
        c.set("gpt_trader_equity_dollars", &[], 1234.5);
        c.inc(
            "gpt_trader_order_submission_total",
            &[("result", "success"), ("side", "sell"), ("reason", "none")],
            18,
        );
        c.inc(
            "gpt_trader_order_submission_total",
            &[("result", "failed"), ("side", "buy"), ("reason", "timeout")],
            1,
        );
        let body = c.render(true);
        let expect = "# TYPE gpt_trader_order_submission_total counter\n\
gpt_trader_order_submission_total{reason=\"none\",result=\"success\",side=\"sell\"} 18\n\
gpt_trader_order_submission_total{reason=\"timeout\",result=\"failed\",side=\"buy\"} 1\n\
# TYPE gpt_trader_equity_dollars gauge\n\
gpt_trader_equity_dollars 1234.5\n\
# TYPE h histogram\n\
h_bucket{le=\"1.0\"} 1\n\
h_bucket{le=\"+Inf\"} 1\n\
h_sum 0.5\n\
h_count 1\n";
        assert_eq!(body, expect);
    }

    #[test]
    fn empty_collector_is_an_empty_body() {
        assert_eq!(Collector::default().render(true), "");
    }
}

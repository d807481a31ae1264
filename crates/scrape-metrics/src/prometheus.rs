//! Prometheus mode: the runbook's §3.1 queries, verbatim, and the raw samples, through
//! `/api/v1/query`, per instance or grouped by instance for a fleet, plus
//! the queries of our own that tell "no data" from "no such series yet" and
//! catch the bot's broken buckets.

use canary_core::http::{self, HttpOptions};
use serde_json::Value;
use std::collections::BTreeMap;

/// One instant-vector element: its labels and value.
#[derive(Debug, Clone)]
pub struct Element {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One range-vector element: its labels and raw samples (ms, value).
#[derive(Debug, Clone)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(i64, f64)>,
}

/// The label set of one result element (`metric`); a label whose value is
/// not a string reads as empty, as Prometheus never sends one.
fn labels_of(item: &Value) -> BTreeMap<String, String> {
    item.get("metric")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A failed query: what was asked and why it failed.
#[derive(Debug, Clone)]
pub struct QueryError {
    pub query: String,
    pub why: String,
    /// The server could not be reached at all (vs. an API error).
    pub unreachable: bool,
    /// Not sent: the round's deadline had passed.
    pub late: bool,
}

/// The client: base URL, limits, and the round's overall deadline. Every
/// query gets what is left of `--timeout`, never a fresh one: a slow
/// Prometheus cannot stretch one round to a dozen timeouts.
#[derive(Debug, Clone)]
pub struct Prom<'a> {
    pub base: &'a str,
    pub opts: HttpOptions,
    pub deadline: std::time::Instant,
}

/// A PromQL string literal: double-quoted, with `\` and `"` escaped.
pub(crate) fn promql_string(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Prom<'_> {
    /// Run an instant query whose answer is a range vector: every series'
    /// raw samples in the range, as stored.
    pub fn matrix(&self, q: &str) -> Result<Vec<Series>, QueryError> {
        let data = self.api(q)?;
        let err = |why: &str| QueryError {
            query: q.to_owned(),
            why: why.to_owned(),
            unreachable: false,
            late: false,
        };
        if data.get("resultType").and_then(Value::as_str) != Some("matrix") {
            return Err(err("answer is not a range vector"));
        }
        let result = data
            .get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| err("answer without a result list"))?;
        result
            .iter()
            .map(|item| {
                let labels = labels_of(item);
                let points = item
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(|| err("a series without values"))?
                    .iter()
                    .map(|p| {
                        let t = p.get(0).and_then(Value::as_f64)?;
                        let v = p
                            .get(1)
                            .and_then(Value::as_str)
                            .and_then(crate::exposition::parse_value)?;
                        Some(((t * 1000.0).round() as i64, v))
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| err("a sample that is not [time, \"value\"]"))?;
                Ok(Series { labels, points })
            })
            .collect()
    }

    /// One `/api/v1/query` call within the deadline: its `data`.
    fn api(&self, q: &str) -> Result<Value, QueryError> {
        let err = |why: String, unreachable: bool| QueryError {
            query: q.to_owned(),
            why,
            unreachable,
            late: false,
        };
        let left = self
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(QueryError {
                late: true,
                ..err(
                    format!(
                        "not sent: the round's --timeout of {:?} had passed",
                        self.opts.timeout
                    ),
                    false,
                )
            });
        }
        let opts = HttpOptions {
            timeout: left.min(self.opts.timeout),
            ..self.opts
        };
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base.trim_end_matches('/'),
            encode(q)
        );
        let resp = http::get(&url, &opts).map_err(|e| err(e.to_string(), true))?;
        let body: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            let snippet = resp.snippet(120);
            err(
                format!(
                    "HTTP {}: not a Prometheus API answer ({snippet})",
                    resp.status
                ),
                false,
            )
        })?;
        if body.get("status").and_then(Value::as_str) != Some("success") {
            let kind = body
                .get("errorType")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let msg = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no error message");
            return Err(err(format!("HTTP {}: {kind}: {msg}", resp.status), false));
        }
        body.get("data")
            .cloned()
            .ok_or_else(|| err("answer without data".into(), false))
    }

    /// Run an instant query; the result must be a vector.
    pub fn query(&self, q: &str) -> Result<Vec<Element>, QueryError> {
        let err = |why: String, unreachable: bool| QueryError {
            query: q.to_owned(),
            why,
            unreachable,
            late: false,
        };
        let data = self.api(q)?;
        let data = &data;
        if data.get("resultType").and_then(Value::as_str) != Some("vector") {
            return Err(err("answer is not an instant vector".into(), false));
        }
        let result = data
            .get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| err("answer without a result list".into(), false))?;
        result
            .iter()
            .map(|item| {
                let labels = labels_of(item);
                let value = item
                    .get("value")
                    .and_then(|v| v.get(1))
                    .and_then(Value::as_str)
                    .and_then(crate::exposition::parse_value)
                    .ok_or_else(|| err("a result element without a numeric value".into(), false))?;
                Ok(Element { labels, value })
            })
            .collect()
    }
}

/// How queries are scoped: one instance, everything summed, or by instance.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Extra matcher inside every selector, e.g. `,instance="bot:8080"`.
    pub matcher: String,
    pub fleet: bool,
    /// Range of the rate queries, PromQL syntax (`5m`).
    pub range: String,
    pub guard_range: String,
    /// The windows themselves, for the exact deltas.
    pub window: std::time::Duration,
    pub guard_window: std::time::Duration,
}

impl Scope {
    fn sum(&self) -> &'static str {
        if self.fleet {
            "sum by (instance) "
        } else {
            "sum"
        }
    }

    fn sel(&self, inner: &str) -> String {
        match (inner.is_empty(), self.matcher.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{{{}}}", &self.matcher[1..]),
            _ => format!("{{{inner}{}}}", self.matcher),
        }
    }

    /// The runbook's order error rate query.
    pub fn error_rate(&self) -> String {
        let (s, r) = (self.sum(), &self.range);
        format!(
            "{s}(rate(gpt_trader_order_submission_total{}[{r}])) / {s}(rate(gpt_trader_order_submission_total{}[{r}]))",
            self.sel("result=~\"failed|rejected\""),
            self.sel("")
        )
    }

    /// The runbook's order retry rate query.
    pub fn retry_rate(&self) -> String {
        let (s, r) = (self.sum(), &self.range);
        let orders = format!(
            "{s}(rate(gpt_trader_order_submission_total{}[{r}]))",
            self.sel("")
        );
        format!(
            "({s}(rate(gpt_trader_broker_call_latency_seconds_count{}[{r}])) - {orders}) / {orders}",
            self.sel("operation=\"submit\"")
        )
    }

    fn submit_success(&self) -> String {
        format!(
            "gpt_trader_broker_call_latency_seconds_bucket{}",
            self.sel("operation=\"submit\",outcome=\"success\"")
        )
    }

    fn by_le(&self) -> &'static str {
        if self.fleet { "le, instance" } else { "le" }
    }

    /// The runbook's p95 query.
    pub fn p95(&self) -> String {
        format!(
            "histogram_quantile(0.95, sum(rate({}[{}])) by ({})) * 1000",
            self.submit_success(),
            self.range,
            self.by_le()
        )
    }

    /// The raw buckets, to check monotonicity ourselves.
    pub fn raw_buckets(&self) -> String {
        self.submit_success()
    }

    /// The runbook's guard trip query.
    pub fn guard_trips(&self) -> String {
        format!(
            "{}(increase(gpt_trader_guard_trips_total{}[{}]))",
            self.sum(),
            self.sel(""),
            self.guard_range
        )
    }

    /// The raw samples the exact deltas are computed from: each family over
    /// twice its window (room for the baseline scrape before the window).
    pub fn raw(&self) -> [(&'static str, String); 3] {
        let twice = |d: std::time::Duration| canary_core::duration::format_duration(d * 2);
        let (r, g) = (twice(self.window), twice(self.guard_window));
        [
            (
                "orders",
                format!("gpt_trader_order_submission_total{}[{r}]", self.sel("")),
            ),
            (
                "calls",
                format!(
                    "gpt_trader_broker_call_latency_seconds_bucket{}[{r}]",
                    self.sel("operation=\"submit\"")
                ),
            ),
            (
                "trips",
                format!("gpt_trader_guard_trips_total{}[{g}]", self.sel("")),
            ),
        ]
    }

    /// Whether the bot's series are there at all.
    pub fn bot_present(&self) -> String {
        let by = if self.fleet { " by (instance)" } else { "" };
        format!("count{by}({{__name__=~\"gpt_trader_.+\"{}}})", self.matcher)
    }

    /// Lifetime counter totals, for the sample records.
    pub fn order_totals(&self) -> String {
        let by = if self.fleet {
            "result, instance"
        } else {
            "result"
        };
        format!(
            "sum by ({by}) (gpt_trader_order_submission_total{})",
            self.sel("")
        )
    }

    pub fn trip_totals(&self) -> String {
        let by = if self.fleet {
            "recoverable, instance"
        } else {
            "recoverable"
        };
        format!(
            "sum by ({by}) (gpt_trader_guard_trips_total{})",
            self.sel("")
        )
    }
}

/// The group an element belongs to: its instance in fleet mode, else "".
pub fn group(e: &Element, fleet: bool) -> String {
    if fleet {
        e.labels.get("instance").cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Series of the raw bucket query whose buckets are not non-decreasing up to
/// `+Inf` (the bot's double-cumulation), by group.
pub fn broken_series(raw: &[Element], fleet: bool) -> BTreeMap<String, Vec<String>> {
    let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for e in raw {
        let Some(le) = e
            .labels
            .get("le")
            .and_then(|v| crate::exposition::parse_value(v))
        else {
            continue;
        };
        let id: Vec<String> = e
            .labels
            .iter()
            .filter(|(k, _)| *k != "le")
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        series
            .entry((group(e, fleet), id.join(",")))
            .or_default()
            .push((le, e.value));
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((g, id), mut buckets) in series {
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        if buckets.windows(2).any(|w| w[0].1 > w[1].1) {
            out.entry(g).or_default().push(format!("{{{id}}}"));
        }
    }
    out
}

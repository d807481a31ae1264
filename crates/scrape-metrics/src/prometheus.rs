//! Prometheus mode: the runbook's §3.1 queries, verbatim, through
//! `/api/v1/query`, per instance or grouped by instance for a fleet, plus
//! the queries of our own that tell "no data" from "no such series yet" and
//! catch the bot's broken buckets.

use crate::histogram::BucketMode;
use crate::promql::{self, Bucket};
use canary_core::http::{self, HttpOptions};
use serde_json::Value;
use std::collections::BTreeMap;

/// One instant-vector element: its labels and value.
#[derive(Debug, Clone)]
pub struct Element {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A failed query: what was asked and why it failed.
#[derive(Debug, Clone)]
pub struct QueryError {
    pub query: String,
    pub why: String,
    /// The server could not be reached at all (vs. an API error).
    pub unreachable: bool,
}

/// The client: base URL and limits.
#[derive(Debug, Clone)]
pub struct Prom<'a> {
    pub base: &'a str,
    pub opts: HttpOptions,
}

/// The range of a plain range selector (`up{...}[1h]`), in seconds.
fn range_of(q: &str) -> Option<f64> {
    let inner = q.strip_suffix(']')?.rsplit_once('[')?.1;
    canary_core::duration::parse_duration(inner)
        .ok()
        .map(|d| d.as_secs_f64())
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
    /// Run an instant query; the result must be a vector.
    pub fn query(&self, q: &str) -> Result<Vec<Element>, QueryError> {
        let err = |why: String, unreachable: bool| QueryError {
            query: q.to_owned(),
            why,
            unreachable,
        };
        let url = format!(
            "{}/api/v1/query?query={}",
            self.base.trim_end_matches('/'),
            encode(q)
        );
        let resp = http::get(&url, &self.opts).map_err(|e| err(e.to_string(), true))?;
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
        let mut data = body
            .get("data")
            .cloned()
            .ok_or_else(|| err("answer without data".into(), false))?;
        if let (Some(obj), Some(range)) = (data.as_object_mut(), range_of(q)) {
            obj.insert("range_s".into(), Value::from(range));
        }
        let data = &data;
        if data.get("resultType").and_then(Value::as_str) == Some("matrix") {
            return Ok(coverage(data));
        }
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
                let labels = item
                    .get("metric")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
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

/// A range-vector answer reduced to how far back each series reaches: one
/// element per series whose value is 1 when its samples cover the range as
/// PromQL judges it (the first within 110 % of the average interval of the
/// range start, measured from the newest sample), else 0.
fn coverage(data: &Value) -> Vec<Element> {
    let range = data.get("range_s").and_then(Value::as_f64).unwrap_or(0.0);
    let Some(result) = data.get("result").and_then(Value::as_array) else {
        return vec![];
    };
    result
        .iter()
        .filter_map(|item| {
            let labels = item
                .get("metric")?
                .as_object()?
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect();
            let ts: Vec<f64> = item
                .get("values")?
                .as_array()?
                .iter()
                .filter_map(|p| p.get(0)?.as_f64())
                .collect();
            let (first, last) = (*ts.first()?, *ts.last()?);
            let covered = ts.len() >= 2 && {
                let average = (last - first) / (ts.len() - 1) as f64;
                first - (last - range) < 1.1 * average
            };
            Some(Element {
                labels,
                value: if covered { 1.0 } else { 0.0 },
            })
        })
        .collect()
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

    /// Its denominator alone: tells "no failures yet" from "no data".
    pub fn order_rate(&self) -> String {
        format!(
            "{}(rate(gpt_trader_order_submission_total{}[{}]))",
            self.sum(),
            self.sel(""),
            self.range
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

    /// The per-bucket rates the corrected p95 is computed from.
    pub fn bucket_rates(&self) -> String {
        format!(
            "sum(rate({}[{}])) by ({})",
            self.submit_success(),
            self.range,
            self.by_le()
        )
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

    pub fn nonrecoverable_trips(&self) -> String {
        format!(
            "{}(increase(gpt_trader_guard_trips_total{}[{}]))",
            self.sum(),
            self.sel("recoverable=\"false\""),
            self.guard_range
        )
    }

    /// The raw `up` samples of the guard window: whether the data reach back
    /// to its start (a fresh Prometheus, or a new target, has not).
    pub fn guard_coverage(&self) -> String {
        format!("up{}[{}]", self.sel(""), self.guard_range)
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

/// p95 in ms from summed per-bucket rates, de-cumulated once when `double`.
/// `Err` when the rates fit no valid histogram.
pub fn corrected_p95(rates: &[Element], double: bool) -> Result<f64, String> {
    let mut buckets: Vec<Bucket> = rates
        .iter()
        .filter_map(|e| {
            Some(Bucket {
                upper: crate::exposition::parse_value(e.labels.get("le")?)?,
                count: e.value,
            })
        })
        .collect();
    buckets.sort_by(|a, b| a.upper.total_cmp(&b.upper));
    if double {
        let mut prev = 0.0;
        for b in buckets.iter_mut().filter(|b| b.upper.is_finite()) {
            let e = b.count;
            b.count = e - prev;
            prev = e;
        }
    }
    // Rates are floats: allow rounding noise, not real decreases.
    let tolerance = 1e-9 * buckets.iter().map(|b| b.count.abs()).fold(1.0, f64::max);
    if buckets
        .windows(2)
        .any(|w| w[0].count > w[1].count + tolerance)
        || buckets.iter().any(|b| b.count < -tolerance)
    {
        return Err("the per-bucket rates fit no valid histogram even after de-cumulating".into());
    }
    let q = promql::histogram_quantile(0.95, &buckets);
    if q.is_nan() {
        Err("no successful broker submits in the window".into())
    } else {
        Ok(q * 1000.0)
    }
}

/// Whether a bucket mode asks for de-cumulation when the buckets are broken.
pub fn wants_correction(mode: BucketMode) -> bool {
    mode != BucketMode::Cumulative
}

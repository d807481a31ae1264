//! The one table of signals: for each, the record name tools emit, the key
//! judge's rules read it under (`$thresholds.KEY`), its thresholds (from
//! [`crate::thresholds`]), the words sentences call it by, the `for:` of its
//! alerts, and where the report charts it. Every tool iterates this table,
//! and every sentence that states a threshold is rendered from it
//! ([`render`]), so changing a number here changes every place that says it.

use crate::duration::format_duration;
use crate::thresholds::{self, Threshold};
use std::time::Duration;

/// Which signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalId {
    /// Failed orders over orders submitted (`metrics.order_error_rate`).
    OrderErrorRate,
    /// Order retries over orders submitted (`metrics.order_retry_rate`).
    OrderRetryRate,
    /// The p95 of broker order-submit latency (`metrics.broker_latency_p95`).
    BrokerLatencyP95,
    /// Risk guard trips in the last hour (`metrics.guard_trips`).
    GuardTrips,
    /// The age of the last websocket message (`health.websocket.staleness`).
    WsStaleness,
    /// Peak-to-trough equity drawdown, against the daily loss limit (`metrics.drawdown`).
    Drawdown,
    /// The circuit breaker's worst state: closed, half-open, open (`metrics.circuit_breaker`).
    CircuitBreaker,
    /// Orders per minute, against the configured ceiling (`metrics.order_rate`).
    OrderRate,
    /// The broker client's own API error ratio (`metrics.api_error_rate`).
    ApiErrorRate,
    /// The share of the broker's API rate limit used (`metrics.rate_limit_usage`).
    RateLimitUsage,
}

/// A signal's Prometheus alerts (runbook §3.2): `{name}Warn` and
/// `{name}Crit`, each firing after its `for:`. The default judge rules that
/// follow an alert take the same `for:` from here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alerting {
    /// The alerts' name stem, before `Warn`/`Crit`.
    pub name: &'static str,
    /// How long WARN must hold before `{name}Warn` fires.
    pub warn_for: Duration,
    /// How long CRIT must hold before `{name}Crit` fires.
    pub crit_for: Duration,
}

/// One signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signal {
    /// Which signal this row is.
    pub(crate) id: SignalId,
    /// The record name its producer emits.
    pub record: &'static str,
    /// Its key under judge's `$thresholds` and in message placeholders.
    pub key: &'static str,
    /// Its WARN and CRIT boundaries and unit.
    pub threshold: Threshold,
    /// How a sentence names it ("order error rate").
    pub what: &'static str,
    /// How a heading names it ("Order error rate").
    pub title: &'static str,
    /// Its runbook §3.2 alerts, when it has any.
    pub alerting: Option<Alerting>,
    /// The id of its chart in canary-report, when charted.
    pub chart: Option<&'static str>,
}

const fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// Every signal, the runbook §3.1 four first in the runbook's order.
pub const SIGNALS: [Signal; 10] = [
    Signal {
        id: SignalId::OrderErrorRate,
        record: "metrics.order_error_rate",
        key: "order_error_rate",
        threshold: thresholds::ORDER_ERROR_RATE,
        what: "order error rate",
        title: "Order error rate",
        alerting: Some(Alerting {
            name: "CanaryOrderErrorRate",
            warn_for: minutes(2),
            crit_for: minutes(1),
        }),
        chart: Some("chart-error-rate"),
    },
    Signal {
        id: SignalId::OrderRetryRate,
        record: "metrics.order_retry_rate",
        key: "order_retry_rate",
        threshold: thresholds::ORDER_RETRY_RATE,
        what: "order retry rate",
        title: "Order retry rate",
        alerting: Some(Alerting {
            name: "CanaryOrderRetryRate",
            warn_for: minutes(5),
            crit_for: minutes(2),
        }),
        chart: Some("chart-retry-rate"),
    },
    Signal {
        id: SignalId::BrokerLatencyP95,
        record: "metrics.broker_latency_p95",
        key: "broker_latency_p95",
        threshold: thresholds::BROKER_LATENCY_P95_MS,
        what: "broker submit latency p95",
        title: "Broker submit latency p95",
        alerting: Some(Alerting {
            name: "CanaryBrokerLatency",
            warn_for: minutes(5),
            crit_for: minutes(2),
        }),
        chart: Some("chart-latency"),
    },
    Signal {
        id: SignalId::GuardTrips,
        record: "metrics.guard_trips",
        key: "guard_trips",
        threshold: thresholds::GUARD_TRIPS_1H,
        what: "guard trips",
        title: "Guard trips (last hour)",
        alerting: Some(Alerting {
            name: "CanaryGuardTrips",
            warn_for: minutes(0),
            crit_for: minutes(0),
        }),
        chart: Some("chart-guard-trips"),
    },
    Signal {
        id: SignalId::WsStaleness,
        record: "health.websocket.staleness",
        key: "ws_staleness",
        threshold: thresholds::WS_STALENESS_S,
        what: "websocket message age",
        title: "Websocket message age",
        alerting: None,
        chart: None,
    },
    Signal {
        id: SignalId::Drawdown,
        record: "metrics.drawdown",
        key: "drawdown",
        threshold: thresholds::DRAWDOWN_OF_LOSS_LIMIT,
        what: "equity drawdown",
        title: "Equity drawdown (of the daily loss limit)",
        alerting: None,
        chart: None,
    },
    Signal {
        id: SignalId::CircuitBreaker,
        record: "metrics.circuit_breaker",
        key: "circuit_breaker",
        threshold: thresholds::CIRCUIT_BREAKER_STATE,
        what: "circuit breaker",
        title: "Circuit breaker state",
        alerting: None,
        chart: None,
    },
    Signal {
        id: SignalId::OrderRate,
        record: "metrics.order_rate",
        key: "order_rate",
        threshold: thresholds::ORDER_RATE_OF_CEILING,
        what: "order rate",
        title: "Orders per minute (of the ceiling)",
        alerting: None,
        chart: None,
    },
    Signal {
        id: SignalId::ApiErrorRate,
        record: "metrics.api_error_rate",
        key: "api_error_rate",
        threshold: thresholds::API_ERROR_RATE,
        what: "broker API error rate",
        title: "Broker API error rate",
        alerting: None,
        chart: None,
    },
    Signal {
        id: SignalId::RateLimitUsage,
        record: "metrics.rate_limit_usage",
        key: "rate_limit_usage",
        threshold: thresholds::RATE_LIMIT_USAGE,
        what: "broker API rate-limit usage",
        title: "Broker API rate-limit usage",
        alerting: None,
        chart: None,
    },
];

impl SignalId {
    /// The signal's row of [`SIGNALS`].
    pub fn signal(self) -> &'static Signal {
        // The table is in declaration order (a test checks it).
        &SIGNALS[self as usize]
    }
}

/// The signals canary-report charts, in table order.
pub fn charted() -> impl Iterator<Item = &'static Signal> {
    SIGNALS.iter().filter(|s| s.chart.is_some())
}

/// How many signals canary-report charts.
pub const CHARTED: usize = 4;

/// The signal read under `$thresholds.KEY`.
pub fn by_key(table: &[Signal], key: &str) -> Option<Signal> {
    table.iter().find(|s| s.key == key).copied()
}

/// A `for:` as Prometheus and the rules files write it (`2m`, `0m`).
pub fn for_text(d: Duration) -> String {
    if d.is_zero() {
        "0m".into()
    } else {
        format_duration(d)
    }
}

/// A `{...}` in a text that [`render`] cannot fill.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// `{KEY.FIELD}` whose key or field is not in the table.
    #[error(
        "unknown placeholder {{{0}}}: write {{KEY.warn}}, {{KEY.crit}}, {{KEY.warn_for}} or {{KEY.crit_for}} with KEY one of {keys} (or {{{{ and }}}} for literal braces)",
        keys = SIGNALS.map(|s| s.key).join(", ")
    )]
    Unknown(String),
    /// A `{` without its `}`, or a lone `}`.
    #[error(
        "unbalanced brace: a placeholder is {{KEY.FIELD}}; write {{{{ and }}}} for literal braces"
    )]
    Unbalanced,
}

/// One placeholder's text: `KEY.warn`/`KEY.crit` in the signal's unit
/// (`15 %`, `3000 ms`), `KEY.warn_for`/`KEY.crit_for` as a duration (`2m`).
fn placeholder(table: &[Signal], inner: &str) -> Option<String> {
    let (key, field) = inner.split_once('.')?;
    let s = by_key(table, key.trim())?;
    let t = s.threshold;
    match field.trim() {
        "warn" => Some(t.warn_text()),
        "crit" => Some(t.crit_text()),
        "warn_for" => s.alerting.map(|a| for_text(a.warn_for)),
        "crit_for" => s.alerting.map(|a| for_text(a.crit_for)),
        _ => None,
    }
}

/// Fill every `{KEY.FIELD}` in `text` from `table` (normally [`SIGNALS`]);
/// `{{` and `}}` are literal braces. Any placeholder the table cannot fill
/// is an error, never left in the text.
pub fn render(text: &str, table: &[Signal]) -> Result<String, RenderError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            let end = after.find('}').ok_or(RenderError::Unbalanced)?;
            let inner = &after[..end];
            if inner.contains('{') {
                return Err(RenderError::Unbalanced);
            }
            out.push_str(
                &placeholder(table, inner).ok_or_else(|| RenderError::Unknown(inner.to_owned()))?,
            );
            rest = &after[end + 1..];
        } else {
            return Err(RenderError::Unbalanced);
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_id_order_with_unique_names() {
        for (i, s) in SIGNALS.iter().enumerate() {
            assert_eq!(s.id as usize, i, "{}", s.key);
            assert_eq!(s.id.signal().key, s.key);
            if s.id != SignalId::WsStaleness {
                assert_eq!(s.record, format!("metrics.{}", s.key));
            }
        }
        let mut keys: Vec<_> = SIGNALS.iter().map(|s| s.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SIGNALS.len());
        assert_eq!(charted().count(), CHARTED);
    }

    #[test]
    fn every_record_is_catalogued() {
        for s in &SIGNALS {
            assert!(
                crate::catalogue::CATALOGUE
                    .iter()
                    .any(|c| c.name == s.record),
                "{} is not in the catalogue",
                s.record
            );
        }
    }

    #[test]
    fn placeholders_render_in_their_unit() {
        let text = "at or above {order_error_rate.crit} for {order_error_rate.crit_for}; p95 {broker_latency_p95.warn}, {guard_trips.crit} trips, {ws_staleness.crit}";
        assert_eq!(
            render(text, &SIGNALS).expect("renders"),
            "at or above 15 % for 1m; p95 1000 ms, 10 trips, 60 s"
        );
        assert_eq!(
            render("{{x}} and }}", &SIGNALS).expect("renders"),
            "{x} and }"
        );
    }

    #[test]
    fn a_placeholder_the_table_cannot_fill_is_an_error() {
        for bad in [
            "{nosuch.crit}",
            "{order_error_rate.max}",
            "{ws_staleness.crit_for}",
            "{order_error_rate}",
            "{}",
        ] {
            assert!(
                matches!(render(bad, &SIGNALS), Err(RenderError::Unknown(_))),
                "{bad}"
            );
        }
        for bad in ["{order_error_rate.crit", "a } b", "{a{b}"] {
            assert_eq!(render(bad, &SIGNALS), Err(RenderError::Unbalanced), "{bad}");
        }
        assert_eq!(
            RenderError::Unbalanced.to_string(),
            "unbalanced brace: a placeholder is {KEY.FIELD}; write {{ and }} for literal braces"
        );
        let unknown = RenderError::Unknown("x.y".into()).to_string();
        assert!(
            unknown.starts_with("unknown placeholder {x.y}: write {KEY.warn}, {KEY.crit},")
                && unknown.ends_with(" (or {{ and }} for literal braces)"),
            "{unknown}"
        );
    }

    #[test]
    fn a_changed_table_changes_the_sentence() {
        let mut table = SIGNALS;
        table[SignalId::OrderErrorRate as usize].threshold.crit = 0.2;
        assert_eq!(
            render("{order_error_rate.crit}", &table).expect("renders"),
            "20 %"
        );
    }
}

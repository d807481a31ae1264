//! What a signal record carries beside its value: where it was measured
//! (the window), the counts a rate is taken from, a latency's buckets,
//! what the evidence proves, a guard window's bounds, and the money
//! signals' equity, limit, breaker and rate figures.
//!
//! scrape-metrics writes these fields and judge reads them back (its
//! comparison with production takes the counts and buckets), so each
//! field's name and type exist once, here. Every field is optional: which
//! ones a record has depends on the signal and the mode (docs/scrape-metrics.md).

use crate::Level;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The fields of one signal record beyond the envelope, flattened into its
/// `extra` ([`crate::Record::with_payload`]) in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalFields {
    /// Which scrapes the value is over.
    #[serde(flatten)]
    pub frame: WindowFrame,
    /// A rate's events: failed orders, or retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<f64>,
    /// A rate's trials: orders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<f64>,
    /// Orders under a result the bot never writes (counted as failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_results: Option<f64>,
    /// The repair applied to the bot's buckets, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
    /// Observations behind the value: submits for the p95, trips for the
    /// lifetime guard count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<f64>,
    /// The cumulative submit-latency buckets the p95 is taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<CumulativeBucket>>,
    /// Where the counts come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountsSource>,
    /// A rate's exact bounds; `null` when its counts are not whole, so no
    /// bound can be given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub interval: Option<Option<IntervalFields>>,
    /// The bucket holding the p95, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_ms: Option<BucketMs>,
    /// Observations in the p95's buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observations: Option<f64>,
    /// The level the evidence proves at the chosen confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proven_level: Option<Level>,
    /// `false` when the scrapes do not reach back to the guard window's
    /// start, so the count is only bounded (`at_least`..`at_most`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covered: Option<bool>,
    /// The fewest trips the window can hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// The most trips the window can hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
    /// Non-recoverable guard trips; `null` when they cannot be told.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub nonrecoverable: Option<Option<f64>>,
}

/// The window a record's value was measured over: which scrapes it is from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowFrame {
    /// The window's length ("5m"), or "lifetime" for a counter's total
    /// since the bot started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    /// The window's start (its end minus its length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start: Option<Timestamp>,
    /// The window's end: the newest scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_end: Option<Timestamp>,
    /// How many scrapes the window holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrapes: Option<u64>,
    /// The scrape the window's deltas are taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Timestamp>,
    /// The bot restarted inside the window (counters were reset).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restarted: bool,
}

/// The fields of a money signal (`metrics.drawdown`, `metrics.circuit_breaker`,
/// `metrics.order_rate`, `metrics.api_error_rate`, `metrics.rate_limit_usage`)
/// beyond the envelope, in this order (docs/money.md).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MoneyFields {
    /// Which scrapes the value is over.
    #[serde(flatten)]
    pub frame: WindowFrame,
    /// What the drawdown is a fraction of ("start-of-window equity").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// Equity readings in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readings: Option<u64>,
    /// The daily loss limit (a fraction); `null` when it cannot be read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub daily_loss_limit_pct: Option<Option<f64>>,
    /// Where the limit was read: the flag or the bot's environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_source: Option<String>,
    /// Equity at the window's first reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_start: Option<f64>,
    /// The lowest equity in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_min: Option<f64>,
    /// The highest equity in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_max: Option<f64>,
    /// The peak before the worst fall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_peak: Option<f64>,
    /// The trough of the worst fall.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equity_trough: Option<f64>,
    /// The worst fall, as a fraction of start-of-window equity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawdown_pct: Option<f64>,
    /// Each breaker category's worst state in the window (0, 1 or 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_by_category: Option<BTreeMap<String, f64>>,
    /// Each category's state in the newest scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_by_category: Option<BTreeMap<String, f64>>,
    /// The categories open at some point in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Vec<String>>,
    /// A gauge's highest value in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// A gauge's lowest value in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// A gauge's value in the newest scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<f64>,
    /// The order-rate ceiling, orders per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_orders_per_minute: Option<f64>,
    /// Where the ceiling came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling_source: Option<String>,
    /// Orders submitted in the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders: Option<f64>,
    /// Orders per minute over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders_per_minute: Option<f64>,
}

/// The fields of `metrics.submit_latency_buckets` beyond the envelope: the
/// lifetime cumulative buckets of successful broker submits, from which
/// judge takes a whole window's p95 by their deltas.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucketsFields {
    /// Bounds ascending, in seconds; the last is `+Inf`.
    pub buckets: Vec<LeCount>,
    /// The repair applied to the bot's buckets, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
}

/// One cumulative bucket as `metrics.submit_latency_buckets` writes it:
/// `{"le": bound, "count": n}`, `le` null for `+Inf`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeCount {
    /// The upper bound in seconds; `None` (null) for `+Inf`.
    pub le: Option<f64>,
    /// Observations at or under `le`.
    pub count: f64,
}

/// A field that may be present as `null`: `Some(None)` then, `None` when
/// absent (with `#[serde(default)]`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Where a rate's counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CountsSource {
    /// Deltas of the bot's own counters, read from its /metrics.
    Exact,
    /// Rebuilt from what Prometheus stored: scrapes Prometheus missed or
    /// dropped are not in them.
    Approximate,
}

/// A rate's bounds as written on its record, in the rate's own unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalFields {
    /// "clopper-pearson", or "literal" at confidence 0.
    pub method: String,
    /// The confidence, in (0, 1); 0 when read literally.
    pub confidence: f64,
    /// The lower bound.
    pub lower: f64,
    /// The upper bound.
    pub upper: f64,
}

/// The bucket holding a p95: `(lower, upper]` in ms, `upper` null for
/// the `+Inf` bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketMs {
    /// The bucket's lower bound.
    pub lower: f64,
    /// The bucket's upper bound; `None` (null) for `+Inf`.
    pub upper: Option<f64>,
}

/// One cumulative bucket, written `[le, count]` with an infinite bound as
/// the string `"+Inf"` (JSON has no infinity).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CumulativeBucket {
    /// The bucket's upper bound, in seconds; infinite for `+Inf`.
    pub le: f64,
    /// Observations at or under `le`.
    pub count: f64,
}

impl Serialize for CumulativeBucket {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Le<'a> {
            Finite(f64),
            Inf(&'a str),
        }
        let le = if self.le.is_finite() {
            Le::Finite(self.le)
        } else {
            Le::Inf("+Inf")
        };
        (le, self.count).serialize(s)
    }
}

impl<'de> Deserialize<'de> for CumulativeBucket {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Le {
            Finite(f64),
            Word(String),
        }
        let (le, count) = <(Le, f64)>::deserialize(d)?;
        let le = match le {
            Le::Finite(v) if v.is_finite() => v,
            Le::Word(w) if w == "+Inf" => f64::INFINITY,
            _ => {
                return Err(serde::de::Error::custom(
                    "a bucket bound is a finite number or \"+Inf\"",
                ));
            }
        };
        Ok(CumulativeBucket { le, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn null_and_absent_stay_apart() {
        let absent: SignalFields = serde_json::from_value(json!({})).expect("reads");
        assert_eq!(absent.nonrecoverable, None);
        assert_eq!(absent.interval, None);
        let null: SignalFields =
            serde_json::from_value(json!({"nonrecoverable": null, "interval": null}))
                .expect("reads");
        assert_eq!(null.nonrecoverable, Some(None));
        assert_eq!(null.interval, Some(None));
        let back = serde_json::to_value(&null).expect("writes");
        assert_eq!(back, json!({"interval": null, "nonrecoverable": null}));
    }

    #[test]
    fn buckets_write_inf_as_a_word_and_refuse_anything_else() {
        let b = vec![
            CumulativeBucket {
                le: 0.5,
                count: 3.0,
            },
            CumulativeBucket {
                le: f64::INFINITY,
                count: 4.0,
            },
        ];
        let v = serde_json::to_value(&b).expect("writes");
        assert_eq!(v, json!([[0.5, 3.0], ["+Inf", 4.0]]));
        let back: Vec<CumulativeBucket> = serde_json::from_value(v).expect("reads");
        assert_eq!(back, b);
        for bad in [json!([["inf", 1.0]]), json!([[0.5]]), json!([[0.5, "1"]])] {
            assert!(
                serde_json::from_value::<Vec<CumulativeBucket>>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_frame_is_flattened_in_both_and_reads_back() {
        let at: Timestamp = "2026-12-03T02:00:00Z".parse().expect("time");
        let frame = WindowFrame {
            window: Some("5m".into()),
            window_end: Some(at),
            scrapes: Some(3),
            restarted: true,
            ..WindowFrame::default()
        };
        let signal = SignalFields {
            frame: frame.clone(),
            numerator: Some(2.0),
            nonrecoverable: Some(None),
            ..SignalFields::default()
        };
        let v = serde_json::to_value(&signal).expect("writes");
        assert_eq!(
            v,
            json!({"window": "5m", "window_end": "2026-12-03T02:00:00Z", "scrapes": 3,
                   "restarted": true, "numerator": 2.0, "nonrecoverable": null})
        );
        assert_eq!(
            serde_json::from_value::<SignalFields>(v).expect("reads"),
            signal
        );
        let money = MoneyFields {
            frame,
            daily_loss_limit_pct: Some(None),
            open: Some(vec!["orders".into()]),
            ..MoneyFields::default()
        };
        let v = serde_json::to_value(&money).expect("writes");
        assert_eq!(v["daily_loss_limit_pct"], Value::Null);
        assert_eq!(
            serde_json::from_value::<MoneyFields>(v).expect("reads"),
            money
        );
        assert!(serde_json::from_value::<MoneyFields>(json!({"equity_start": "100"})).is_err());
        assert!(serde_json::from_value::<MoneyFields>(json!({"scrapes": -1})).is_err());
    }

    #[test]
    fn latency_buckets_write_null_for_inf_and_refuse_a_word() {
        let f = LatencyBucketsFields {
            buckets: vec![
                LeCount {
                    le: Some(0.25),
                    count: 3.0,
                },
                LeCount {
                    le: None,
                    count: 4.0,
                },
            ],
            correction: None,
        };
        let v = serde_json::to_value(&f).expect("writes");
        assert_eq!(
            v,
            json!({"buckets": [{"le": 0.25, "count": 3.0}, {"le": null, "count": 4.0}]})
        );
        assert_eq!(
            serde_json::from_value::<LatencyBucketsFields>(v).expect("reads"),
            f
        );
        for bad in [
            json!({"buckets": [{"le": "+Inf", "count": 4.0}]}),
            json!({"buckets": [{"le": null}]}),
            json!({}),
        ] {
            assert!(
                serde_json::from_value::<LatencyBucketsFields>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_mistyped_field_refuses_the_whole_reading() {
        for bad in [
            json!({"numerator": "3"}),
            json!({"proven_level": "fine"}),
            json!({"counts": "guessed"}),
            json!({"window_start": "yesterday"}),
        ] {
            assert!(
                serde_json::from_value::<SignalFields>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}

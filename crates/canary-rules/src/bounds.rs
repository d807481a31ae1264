//! The `le` bounds of the bot's latency histograms: the exporter's default,
//! or the ones one scrape of the bot shows (`--from-metrics URL|FILE`).
//!
//! The repair rules match each bucket by its `le` text, so the text must be
//! exactly what the bot exposes (Python's float text: `"1.0"`, not `"1"`).

use crate::error::{BoundsError, ExpositionError};
use crate::limits::{MAX_BODY, MAX_BOUNDS, PROBE_FAMILY};
use std::collections::BTreeMap;

/// One finite bucket bound: its value in seconds and its `le` text as exposed.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub seconds: f64,
    pub text: String,
}

/// The finite bounds of one histogram, ascending; `+Inf` is implied.
#[derive(Debug, Clone, PartialEq)]
pub struct Bounds {
    pub bounds: Vec<Bound>,
    /// Where they came from, for the rules file's header.
    pub source: String,
}

/// The bot's collector default (docs/bot.md#metrics-exporter), as its
/// exporter writes them.
pub const DEFAULT_TEXTS: [&str; 12] = [
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0",
];

impl Bounds {
    /// The exporter's default bounds.
    pub fn default_exporter() -> Bounds {
        Bounds {
            bounds: DEFAULT_TEXTS
                .iter()
                .map(|t| Bound {
                    seconds: t.parse().unwrap_or(f64::NAN),
                    text: (*t).to_owned(),
                })
                .collect(),
            source: "the bot exporter's default bounds".into(),
        }
    }

    /// The bounds of [`PROBE_FAMILY`] in one scrape, read from a URL
    /// (http/https), a file, or stdin (`-`).
    pub fn from_metrics(from: &str) -> Result<Bounds, BoundsError> {
        let body = if from == "-" {
            let mut body = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(std::io::stdin().lock(), MAX_BODY + 1),
                &mut body,
            )
            .map_err(|source| BoundsError::Stdin { source })?;
            if body.len() as u64 > MAX_BODY {
                return Err(BoundsError::StdinTooLarge);
            }
            body
        } else if from.starts_with("http://") || from.starts_with("https://") {
            let resp = canary_core::http::get(
                from,
                &canary_core::http::HttpOptions {
                    max_body: MAX_BODY,
                    ..Default::default()
                },
            )
            .map_err(|source| BoundsError::Fetch {
                from: from.to_owned(),
                source,
            })?;
            if resp.status != 200 {
                return Err(BoundsError::Status {
                    from: from.to_owned(),
                    status: resp.status,
                    snippet: resp.snippet(120),
                });
            }
            resp.body
        } else {
            canary_core::capped::read(std::path::Path::new(from), MAX_BODY).map_err(|error| {
                BoundsError::File {
                    from: from.to_owned(),
                    error,
                }
            })?
        };
        let mut bounds =
            Bounds::from_exposition(&body).map_err(|source| BoundsError::Exposition {
                from: from.to_owned(),
                source,
            })?;
        bounds.source = format!("one scrape of {from}");
        Ok(bounds)
    }

    /// The bounds every series of [`PROBE_FAMILY`] in `body` shares.
    pub fn from_exposition(body: &[u8]) -> Result<Bounds, ExpositionError> {
        let bucket = format!("{PROBE_FAMILY}_bucket");
        // series (labels without `le`) -> the `le` texts it has
        let mut series: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let summary = scrape_metrics::exposition::parse(body, |s| {
            if s.name != bucket {
                return;
            }
            let Some(le) = s.label("le") else { return };
            let mut key: Vec<String> = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            key.sort();
            series.entry(key.join(",")).or_default().push(le.to_owned());
        });
        if let Some(e) = summary.errors.iter().find(|e| e.fatal) {
            return Err(ExpositionError::NotOne {
                line: e.line,
                msg: e.msg.clone(),
            });
        }
        let mut shared: Option<(String, Vec<String>)> = None;
        for (key, mut les) in series {
            les.sort();
            match &shared {
                None => shared = Some((key, les)),
                Some((first, want)) if *want != les => {
                    return Err(ExpositionError::Disagree {
                        first: first.clone(),
                        other: key,
                    });
                }
                Some(_) => {}
            }
        }
        let Some((_, les)) = shared else {
            return Err(ExpositionError::NoSeries);
        };
        if !les.iter().any(|l| l == "+Inf") {
            return Err(ExpositionError::NoInf);
        }
        let mut bounds = Vec::new();
        for text in les.into_iter().filter(|l| l != "+Inf") {
            let Some(seconds) = text.parse().ok().filter(|v: &f64| v.is_finite()) else {
                return Err(ExpositionError::NotFinite(text));
            };
            bounds.push(Bound { seconds, text });
        }
        bounds.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        if bounds.windows(2).any(|w| w[0].seconds == w[1].seconds) {
            return Err(ExpositionError::SameBound);
        }
        if bounds.is_empty() {
            return Err(ExpositionError::NoFinite);
        }
        if bounds.len() > MAX_BOUNDS {
            return Err(ExpositionError::TooMany(bounds.len()));
        }
        Ok(Bounds {
            bounds,
            source: String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_exporters_python_text() {
        let b = Bounds::default_exporter();
        assert_eq!(b.bounds.len(), 12);
        assert_eq!(b.bounds[8].text, "1.0");
        assert_eq!(b.bounds[8].seconds, 1.0);
        assert!(b.bounds.windows(2).all(|w| w[0].seconds < w[1].seconds));
    }

    #[test]
    fn a_scrape_gives_its_own_bounds_with_their_text() {
        let body = b"# TYPE gpt_trader_broker_call_latency_seconds histogram\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"0.5\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 1\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"2.0\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 3\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\",operation=\"submit\",outcome=\"success\",reason=\"none\"} 2\n";
        let b = Bounds::from_exposition(body).expect("bounds");
        let texts: Vec<&str> = b.bounds.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["0.5", "2.0"]);
    }

    #[test]
    fn missing_disagreeing_or_broken_bounds_are_refused() {
        let none = b"gpt_trader_trades_executed_total 3\n";
        assert!(Bounds::from_exposition(none).is_err());
        let disagree =
            b"gpt_trader_broker_call_latency_seconds_bucket{le=\"0.5\",operation=\"submit\"} 1\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\",operation=\"submit\"} 1\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"0.25\",operation=\"cancel\"} 1\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\",operation=\"cancel\"} 1\n";
        let e = Bounds::from_exposition(disagree).expect_err("disagree");
        assert!(format!("{e:#}").contains("disagree"), "{e:#}");
        let no_inf = b"gpt_trader_broker_call_latency_seconds_bucket{le=\"0.5\"} 1\n";
        assert!(Bounds::from_exposition(no_inf).is_err());
        let nan = b"gpt_trader_broker_call_latency_seconds_bucket{le=\"NaN\"} 1\n\
gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\"} 1\n";
        assert!(Bounds::from_exposition(nan).is_err());
        let mut many = String::new();
        for i in 0..=MAX_BOUNDS {
            many.push_str(&format!(
                "gpt_trader_broker_call_latency_seconds_bucket{{le=\"{i}.5\"}} 1\n"
            ));
        }
        many.push_str("gpt_trader_broker_call_latency_seconds_bucket{le=\"+Inf\"} 1\n");
        let e = Bounds::from_exposition(many.as_bytes()).expect_err("too many");
        assert!(format!("{e:#}").contains("more than the 64"), "{e:#}");
    }
}

//! The bot's money gauges as one scrape shows them: equity, the circuit
//! breakers, the API error rate and the rate-limit usage. The snapshot
//! keeps them and the money records read them; this module uses neither.

use crate::exposition::LineError;
use crate::labels::Labels;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const EQUITY: &str = "gpt_trader_equity_dollars";
pub const BREAKER: &str = "gpt_trader_circuit_breaker_state";
pub const API_ERROR_RATE: &str = "gpt_trader_api_error_rate";
pub const RATE_LIMIT_USAGE: &str = "gpt_trader_rate_limit_usage_ratio";
/// The gauge families this module reads: a line of one that does not parse
/// makes its record unknown.
pub const FAMILIES: [&str; 4] = [EQUITY, BREAKER, API_ERROR_RATE, RATE_LIMIT_USAGE];

/// More breaker categories than this in one scrape is not a broker client.
pub const MAX_CATEGORIES: usize = 64;

/// What one scrape showed of the money gauges. Kept in `--state` with the
/// rest of the snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Gauges {
    #[serde(
        default,
        with = "crate::lossless::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub equity: Option<f64>,
    /// `category` → state.
    #[serde(
        default,
        with = "crate::lossless::map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub breakers: BTreeMap<String, f64>,
    #[serde(
        default,
        with = "crate::lossless::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_error_rate: Option<f64>,
    #[serde(
        default,
        with = "crate::lossless::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_limit_usage: Option<f64>,
    /// Families with a line in this scrape that could not be parsed: their
    /// value in this scrape is unknown, not absent.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub broken: BTreeSet<String>,
}

impl Gauges {
    pub fn is_empty(&self) -> bool {
        *self == Gauges::default()
    }

    /// Take one exposition sample if it is a money gauge; whether it was.
    /// A gauge given twice with different values (two bots behind one
    /// address, a forged body) is unreadable, never last-wins; so is a
    /// breaker family with more categories than any client has.
    pub fn take(&mut self, name: &str, labels: &Labels, value: f64) -> bool {
        let mut clash = false;
        let mut set = |slot: &mut Option<f64>| {
            clash |= slot.is_some_and(|v| v.to_bits() != value.to_bits());
            *slot = Some(value);
        };
        match name {
            EQUITY => set(&mut self.equity),
            API_ERROR_RATE => set(&mut self.api_error_rate),
            RATE_LIMIT_USAGE => set(&mut self.rate_limit_usage),
            BREAKER => {
                let category = labels
                    .get("category")
                    .map(str::to_owned)
                    .unwrap_or_default();
                if self.breakers.len() >= MAX_CATEGORIES && !self.breakers.contains_key(&category) {
                    self.broken.insert(BREAKER.to_owned());
                    return true;
                }
                let old = self.breakers.insert(category, value);
                clash = old.is_some_and(|v| v.to_bits() != value.to_bits());
            }
            _ => return false,
        }
        if clash {
            self.broken.insert(name.to_owned());
        }
        true
    }

    /// Mark the families whose lines did not parse.
    pub fn mark_broken(&mut self, errors: &[LineError]) {
        for e in errors {
            for f in FAMILIES {
                if e.fatal || e.snippet.contains(f) {
                    self.broken.insert(f.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gauge_given_twice_differently_is_unreadable_never_last_wins() {
        let mut g = Gauges::default();
        let none = Labels::new();
        g.take(EQUITY, &none, 100.0);
        g.take(EQUITY, &none, 100.0);
        assert!(g.broken.is_empty(), "the same value twice is one reading");
        g.take(EQUITY, &none, 90.0);
        assert!(g.broken.contains(EQUITY));
        let mut g = Gauges::default();
        for i in 0..=MAX_CATEGORIES {
            let l: Labels = [("category".to_owned(), i.to_string())].into();
            g.take(BREAKER, &l, 0.0);
        }
        assert!(g.broken.contains(BREAKER) && g.breakers.len() == MAX_CATEGORIES);
    }
}

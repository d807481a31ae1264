//! Freshness: evidence older than `--max-age` at the moment judged is stale,
//! hence `unknown`. The default is tied to the probe interval: three rounds
//! of `probe-health --every 30s` (90 s), so one or two lost rounds are
//! tolerated and a dead producer is noticed within a few minutes.

use jiff::Timestamp;
use std::time::Duration;

/// The interval `probe-health --every` and `scrape-metrics --every` run at
/// in the README's recipes.
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// Rounds of the probe interval that evidence may miss before it is stale.
pub const ROUNDS: u32 = 3;

/// The `--max-age` default for a given probe interval.
pub fn default_max_age(probe_interval: Duration) -> Duration {
    probe_interval.saturating_mul(ROUNDS)
}

/// Is evidence observed at `ts` stale when judged at `at`?
pub fn is_stale(ts: Timestamp, at: Timestamp, max_age: Duration) -> bool {
    match Duration::try_from(at.duration_since(ts)) {
        Ok(age) => age > max_age,
        // From the future (clock skew): not stale.
        Err(_) => false,
    }
}

/// How old evidence observed at `ts` is at `at`, in whole seconds.
pub fn age_s(ts: Timestamp, at: Timestamp) -> i64 {
    at.duration_since(ts).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_max_age_exactly() {
        let at: Timestamp = "2026-11-26T01:00:00Z".parse().expect("ts");
        let max = default_max_age(DEFAULT_PROBE_INTERVAL);
        assert_eq!(max, Duration::from_secs(90));
        let ts = |s: &str| -> Timestamp { s.parse().expect("ts") };
        assert!(!is_stale(ts("2026-11-26T00:58:30Z"), at, max));
        assert!(is_stale(ts("2026-11-26T00:58:29Z"), at, max));
        assert!(!is_stale(ts("2026-11-26T01:05:00Z"), at, max));
    }
}

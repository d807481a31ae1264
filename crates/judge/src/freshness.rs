//! Freshness: evidence older than `--max-age` at the moment judged is stale,
//! hence `unknown`. The default is tied to the probe interval: three rounds
//! of `probe-health --every 30s` (90 s), so one or two lost rounds are
//! tolerated and a dead producer is noticed within a few minutes.
//!
//! Evidence dated after the moment judged is tolerated up to `--max-skew`
//! (default 5 m: producers on other hosts with slightly fast clocks); beyond
//! that it is from the future, hence `unknown` too, and never displaces real
//! evidence (docs/judge.md, "Freshness").

use jiff::{SignedDuration, Timestamp};
use std::time::Duration;

/// Rounds of the probe interval that evidence may miss before it is stale.
pub const ROUNDS: u32 = 3;

/// The `--max-age` default for a given probe interval.
pub fn default_max_age(probe_interval: Duration) -> Duration {
    probe_interval.saturating_mul(ROUNDS)
}

/// How evidence observed at some time stands at the moment judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// At most `max_age` old, or ahead by at most `max_skew`.
    Fresh,
    /// Older than `max_age`.
    Stale,
    /// Dated more than `max_skew` after the moment judged.
    Future,
}

/// How evidence observed at `ts` stands when judged at `at`.
pub fn age(ts: Timestamp, at: Timestamp, max_age: Duration, max_skew: Duration) -> Age {
    match Duration::try_from(at.duration_since(ts)) {
        Ok(age) if age > max_age => Age::Stale,
        Ok(_) => Age::Fresh,
        Err(_) => match Duration::try_from(ts.duration_since(at)) {
            Ok(ahead) if ahead > max_skew => Age::Future,
            _ => Age::Fresh,
        },
    }
}

/// The latest time evidence may bear when judged at `at`: later is from the future.
pub fn horizon(at: Timestamp, max_skew: Duration) -> Timestamp {
    SignedDuration::try_from(max_skew)
        .ok()
        .and_then(|d| at.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// The earliest time evidence may bear within `lookback` of `at`.
pub fn before(at: Timestamp, lookback: Duration) -> Timestamp {
    SignedDuration::try_from(lookback)
        .ok()
        .and_then(|d| at.checked_sub(d).ok())
        .unwrap_or(Timestamp::MIN)
}

/// How old evidence observed at `ts` is at `at`, in whole seconds
/// (negative: from the future).
pub fn age_s(ts: Timestamp, at: Timestamp) -> i64 {
    at.duration_since(ts).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("ts")
    }

    /// `--max-skew`'s default.
    const SKEW: Duration = Duration::from_secs(5 * 60);

    #[test]
    fn stale_after_max_age_exactly() {
        let at = ts("2026-11-26T01:00:00Z");
        // `--probe-interval`'s default, 30 s.
        let max = default_max_age(Duration::from_secs(30));
        assert_eq!(max, Duration::from_secs(90));
        let at_age = |t| age(ts(t), at, max, SKEW);
        assert_eq!(at_age("2026-11-26T00:58:30Z"), Age::Fresh);
        assert_eq!(at_age("2026-11-26T00:58:29Z"), Age::Stale);
        assert_eq!(at_age("2026-11-26T01:05:00Z"), Age::Fresh);
    }

    #[test]
    fn future_beyond_the_skew_allowance_exactly() {
        let at = ts("2026-11-26T01:00:00Z");
        let (max, skew) = (Duration::from_secs(90), SKEW);
        assert_eq!(age(ts("2026-11-26T01:05:00Z"), at, max, skew), Age::Fresh);
        assert_eq!(age(ts("2026-11-26T01:05:01Z"), at, max, skew), Age::Future);
        assert!(ts("2026-11-26T01:05:01Z") > horizon(at, skew));
        assert!(ts("2026-11-26T01:05:00Z") <= horizon(at, skew));
        assert_eq!(age(ts("2026-11-26T00:58:29Z"), at, max, skew), Age::Stale);
        assert_eq!(age(ts("2027-11-26T00:00:00Z"), at, max, skew), Age::Future);
    }
}

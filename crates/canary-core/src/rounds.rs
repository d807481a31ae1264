//! `--every DUR [--count N]`: the polling loop every producer shares.

use crate::duration::{DurationError, format_duration, parse_duration};
use crate::exit::Exit;
use crate::ndjson::RecordWriter;
use crate::record::Record;
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

/// The shortest `--every` a producer accepts. Each round is a request to
/// the trading bot (or to Prometheus); without a floor `--every 0s` hammers
/// it thousands of times a second. One second is far below any useful
/// canary cadence (the runbook polls every 30 s) and harmless to the bot.
pub const MIN_EVERY: Duration = Duration::from_secs(1);

/// Why `--every` was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EveryError {
    /// Not a duration.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// A duration below the floor.
    #[error(
        "--every {text} is below the minimum of {}: each round is a request to the bot",
        format_duration(*.min)
    )]
    BelowMinimum {
        /// The text as written, trimmed.
        text: String,
        /// The floor, [`MIN_EVERY`].
        min: Duration,
    },
}

/// Parse `--every`: a duration of at least [`MIN_EVERY`].
pub fn parse_every(text: &str) -> Result<Duration, EveryError> {
    let d = parse_duration(text)?;
    if d < MIN_EVERY {
        return Err(EveryError::BelowMinimum {
            text: text.trim().to_owned(),
            min: MIN_EVERY,
        });
    }
    Ok(d)
}

/// Run `round` once, or every `every` until `count` rounds (forever without
/// a count). Each round's records are written and flushed together, so a
/// consumer downstream sees whole rounds as they happen. The exit status is
/// the worst any record called for.
pub fn run<W: Write>(
    out: &mut RecordWriter<W>,
    every: Option<Duration>,
    count: Option<u64>,
    mut round: impl FnMut() -> anyhow::Result<Vec<Record>>,
) -> anyhow::Result<Exit> {
    let mut exit = Exit::Clean;
    let mut done = 0u64;
    loop {
        let started = Instant::now();
        for rec in round()? {
            exit = exit.worst(Exit::from_level(rec.level));
            out.write(&rec)?;
        }
        out.flush()?;
        done += 1;
        let Some(every) = every else { break };
        if count.is_some_and(|n| done >= n) {
            break;
        }
        thread::sleep(every.saturating_sub(started.elapsed()));
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, Level};

    #[test]
    fn counts_rounds_and_keeps_the_worst_exit() {
        let mut buf = Vec::new();
        let mut w = RecordWriter::new(&mut buf, false);
        let mut n = 0;
        let exit = run(&mut w, Some(Duration::from_millis(1)), Some(3), || {
            n += 1;
            let level = if n == 2 { Level::Crit } else { Level::Ok };
            Ok(vec![Record::new("t", "x", Kind::Check, "n", level)])
        })
        .expect("runs");
        assert_eq!((n, exit), (3, Exit::Blocking));
        drop(w);
        assert_eq!(String::from_utf8(buf).expect("utf8").lines().count(), 3);
    }

    #[test]
    fn every_has_a_floor() {
        assert_eq!(
            parse_every(" 0s ").expect_err("below").to_string(),
            "--every 0s is below the minimum of 1s: each round is a request to the bot"
        );
        assert!(matches!(
            parse_every("999ms"),
            Err(EveryError::BelowMinimum { min: MIN_EVERY, .. })
        ));
        assert_eq!(parse_every("1s").ok(), Some(Duration::from_secs(1)));
        assert!(matches!(parse_every("soon"), Err(EveryError::Duration(_))));
    }

    #[test]
    fn without_every_runs_once() {
        let mut w = RecordWriter::new(Vec::new(), false);
        let mut n = 0;
        run(&mut w, None, Some(5), || {
            n += 1;
            Ok(vec![])
        })
        .expect("runs");
        assert_eq!(n, 1);
    }
}

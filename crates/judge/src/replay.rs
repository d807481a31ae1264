//! Replay for post-mortems: every moment the overall decision would have
//! changed, judged just before each newer record arrived.

use crate::rules::Rule;
use crate::state::Stream;
use crate::verdict::{Judging, judge_stream};
use canary_core::ndjson::RecordWriter;
use canary_core::{Kind, Record};
use jiff::Timestamp;
use std::io::Write;

/// The decision so far, and when it was last judged.
#[derive(Debug, Default)]
pub struct Replay {
    last_at: Option<Timestamp>,
    decision: Option<&'static str>,
}

impl Replay {
    fn judge_at<W: Write>(
        &mut self,
        at: Timestamp,
        rules: &[Rule],
        stream: &Stream<'_>,
        how: &Judging,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        let mut how = *how;
        how.at = at;
        let judged = judge_stream(rules, stream, &how);
        let Some(overall) = judged.iter().find(|j| j.scope == "overall") else {
            return Ok(());
        };
        let now = overall.decision.as_str();
        if self.decision != Some(now) {
            let mut rec = overall.record("judge.transition", Kind::Sample, how.phase, at);
            rec = rec.extra(
                "previous",
                self.decision.map_or(serde_json::Value::Null, |d| d.into()),
            );
            out.write(&rec)?;
            self.decision = Some(now);
        }
        Ok(())
    }

    /// Called before `rec` is taken in: judge the stream as it stood at the
    /// previous moment if `rec` is newer.
    pub fn before<W: Write>(
        &mut self,
        rec: &Record,
        rules: &[Rule],
        stream: &Stream<'_>,
        how: &Judging,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        if how_excludes(how, rec.ts) {
            return Ok(());
        }
        match self.last_at {
            Some(t) if rec.ts > t => {
                self.judge_at(t, rules, stream, how, out)?;
                self.last_at = Some(rec.ts);
            }
            None => self.last_at = Some(rec.ts),
            _ => {}
        }
        Ok(())
    }

    /// After the last record: judge at the last moment seen.
    pub fn finish<W: Write>(
        &mut self,
        rules: &[Rule],
        stream: &Stream<'_>,
        how: &Judging,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        if let Some(t) = self.last_at {
            self.judge_at(t, rules, stream, how, out)?;
        }
        Ok(())
    }
}

fn how_excludes(how: &Judging, ts: Timestamp) -> bool {
    how.since.is_some_and(|s| ts < s) || ts > how.at
}

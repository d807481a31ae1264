//! Replay for post-mortems: every moment the overall decision would have
//! changed, judged just before each newer record arrived. The input must be
//! in time order: a record older than one already replayed would change the
//! past silently, so the replay stops there with an `input.unsorted` record
//! and the run exits 2 (docs/judge.md, "--explain, replay").

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
    /// The replay was refused at an out-of-order record.
    stopped: bool,
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
        let Some(overall) = judged
            .iter()
            .find(|j| j.scope == canary_core::verdict::Scope::Overall)
        else {
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
        stream: &mut Stream<'_>,
        how: &Judging,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        if self.stopped || how_excludes(how, rec.ts) {
            return Ok(());
        }
        match self.last_at {
            Some(t) if rec.ts > t => {
                stream.settle_before(rec.ts);
                self.judge_at(t, rules, stream, how, out)?;
                self.last_at = Some(rec.ts);
            }
            Some(t) if rec.ts < t => {
                self.stopped = true;
                let refused = Record::new(
                    crate::tool::TOOL,
                    &rec.target,
                    Kind::Error,
                    "input.unsorted",
                    canary_core::Level::Unknown,
                )
                .at(t)
                .value(rec.ts.to_string())
                .msg(format!(
                    "--transitions needs records in time order: {} dated {} comes after a \
                     record dated {t}; no transition after {t} is listed (sort the input by ts, \
                     e.g. jq -s -c 'sort_by(.ts)[]')",
                    rec.name, rec.ts
                ));
                out.write(&refused)?;
            }
            None => self.last_at = Some(rec.ts),
            _ => {}
        }
        Ok(())
    }

    /// Was the replay refused at an out-of-order record?
    pub fn unsorted(&self) -> bool {
        self.stopped
    }

    /// After the last record: judge at the last moment seen.
    pub fn finish<W: Write>(
        &mut self,
        rules: &[Rule],
        stream: &Stream<'_>,
        how: &Judging,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        match self.last_at {
            Some(t) if !self.stopped => self.judge_at(t, rules, stream, how, out)?,
            _ => {}
        }
        Ok(())
    }
}

fn how_excludes(how: &Judging, ts: Timestamp) -> bool {
    how.since.is_some_and(|s| ts < s) || ts > how.at
}

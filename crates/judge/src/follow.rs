//! `judge --follow`: a verdict after each complete round of input, so a
//! live pipe (`probe-health --every 30s | judge --phase b --follow`,
//! `tail -f window.ndjson | judge --follow`) is judged as it happens.
//!
//! A round (docs/judge.md, "A live verdict stream") is what one poll of the
//! producers writes: canary_core::rounds writes and flushes a round's records
//! together, and they are dated within one `--every` of each other. So a
//! round is complete when either
//! - the input would block: everything written so far has been read (the
//!   producer flushed its round and waits for the next poll), or
//! - a record is dated at least [`MIN_EVERY`] (the shortest `--every`) after
//!   the first record of the current round: it opens the next round (input
//!   that arrives faster than it was written: a file, a `tail -f` backlog).
//!
//! Each verdict judges everything read so far; state is the same bounded
//! state as without `--follow`, so memory stays flat however long it runs.

use crate::rules::Rule;
use crate::state::Stream;
use crate::verdict::{Judging, judge_stream};
use canary_core::Kind;
use canary_core::ndjson::RecordWriter;
use canary_core::rounds::MIN_EVERY;
use canary_core::verdict::Scope;
use jiff::Timestamp;
use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};
use std::time::Duration;

/// An input judge reads records from. `drained` says whether everything
/// written to it so far has been read, i.e. the next read would block.
pub trait Source: BufRead {
    /// True when no more input is available right now. Inputs that never
    /// block (a regular file) say false: their rounds end by time.
    fn drained(&mut self) -> bool {
        false
    }
}

impl Source for io::StdinLock<'static> {}
impl<R: Read> Source for io::BufReader<R> {}

/// Chunks read ahead: bounds memory whatever the producer writes.
const CHUNKS_AHEAD: usize = 4;
const CHUNK: usize = 1 << 16;

/// A pipe read by a helper thread, so the reader learns without blocking
/// whether more input is waiting: the thread blocks in `read`, judge asks
/// the channel with `try_recv`.
#[derive(Debug)]
pub struct Pipe {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    /// An error seen by `drained`, returned by the next read.
    error: Option<io::Error>,
    eof: bool,
}

impl Pipe {
    /// Read `input` on a thread of its own.
    pub fn spawn<R: Read + Send + 'static>(mut input: R) -> Pipe {
        let (tx, rx) = sync_channel(CHUNKS_AHEAD);
        std::thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; CHUNK];
                let sent = match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        tx.send(Ok(buf))
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });
        Pipe {
            rx,
            chunk: Vec::new(),
            pos: 0,
            error: None,
            eof: false,
        }
    }

    fn took(&mut self, got: io::Result<Vec<u8>>) {
        match got {
            Ok(c) => {
                self.chunk = c;
                self.pos = 0;
            }
            Err(e) => self.error = Some(e),
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(out.len());
        out[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Pipe {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.chunk.len() && !self.eof {
            if let Some(e) = self.error.take() {
                return Err(e);
            }
            match self.rx.recv() {
                Ok(got) => self.took(got),
                Err(_) => self.eof = true,
            }
        }
        Ok(self.chunk.get(self.pos..).unwrap_or(&[]))
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.chunk.len());
    }
}

impl Source for Pipe {
    fn drained(&mut self) -> bool {
        if self.pos < self.chunk.len() || self.error.is_some() || self.eof {
            return false;
        }
        match self.rx.try_recv() {
            Ok(got) => {
                self.took(got);
                false
            }
            Err(TryRecvError::Empty) => true,
            // End of input: the final verdict follows.
            Err(TryRecvError::Disconnected) => {
                self.eof = true;
                false
            }
        }
    }
}

/// Where the live stream stands: the round being read and the last
/// decision written.
#[derive(Debug)]
pub struct Follow {
    on_change: bool,
    /// Judge at the wall clock (no --at): each verdict is as of its writing.
    live: bool,
    /// The first record time of the round being read.
    round_start: Option<Timestamp>,
    /// Input items (records or bad lines) read since the last verdict.
    unjudged: u64,
    last: Option<&'static str>,
}

impl Follow {
    pub fn new(on_change: bool, live: bool) -> Follow {
        Follow {
            on_change,
            live,
            round_start: None,
            unjudged: 0,
            last: None,
        }
    }

    /// Before a record dated `ts` is taken in: true if it opens a new round,
    /// so the round before it is complete and must be judged first.
    pub fn opens_round(&mut self, ts: Timestamp) -> bool {
        match self.round_start {
            Some(start)
                if self.unjudged > 0
                    && Duration::try_from(ts.duration_since(start))
                        .is_ok_and(|d| d >= MIN_EVERY) =>
            {
                true
            }
            Some(_) => false,
            None => {
                self.round_start = Some(ts);
                false
            }
        }
    }

    /// One input item was read.
    pub fn read_one(&mut self) {
        self.unjudged += 1;
    }

    /// Anything read since the last verdict?
    pub fn pending(&self) -> bool {
        self.unjudged > 0
    }

    /// Judging at the wall clock (no --at)?
    pub fn live(&self) -> bool {
        self.live
    }

    /// The moment to judge at now.
    pub fn at(&self, how: &Judging) -> Timestamp {
        if self.live { Timestamp::now() } else { how.at }
    }

    /// Judge the stream as it stands and write the verdicts (all of them, or
    /// with --on-change only when the overall decision changed), flushed.
    pub fn verdict<W: Write>(
        &mut self,
        rules: &[Rule],
        stream: &Stream<'_>,
        how: &Judging,
        against: &crate::baseline::Against,
        cli: &crate::cli::Cli,
        out: &mut RecordWriter<W>,
    ) -> io::Result<()> {
        self.unjudged = 0;
        self.round_start = None;
        let mut how = *how;
        how.at = self.at(&how);
        // A 503 round still open is judged as it stands so far: a verdict
        // never skips a 503 because the rest of its round is yet to come.
        let settled;
        let stream = if stream.has_pending() {
            let mut s = stream.clone();
            s.settle();
            settled = s;
            &settled
        } else {
            stream
        };
        // Each round's verdict is decided as the final one is: production's
        // comparison and a long unknown's escalation apply to it too.
        let mut judged = judge_stream(rules, stream, &how);
        let comparisons = against.settle(&mut judged, &how);
        let judged = crate::escalate::from_cli(cli, judged, how.phase, how.at);
        let now = judged
            .iter()
            .find(|j| j.scope == Scope::Overall)
            .map(|j| j.decision.as_str());
        if self.on_change && now == self.last {
            return Ok(());
        }
        self.last = now;
        for rec in &comparisons {
            out.write(rec)?;
        }
        for j in &judged {
            j.write("judge.verdict", Kind::Verdict, how.phase, how.at, out)?;
        }
        out.flush()
    }
}

//! Where records go: stdout and the NDJSON audit log, each record tagged with
//! the run's id and mode.
//!
//! A failure to write stdout (a closed pipe, `| head -1`) never interrupts a
//! rollback half-way: the run goes on, the audit log keeps every record, and
//! the exit code still reports the outcome. A failure to write the audit log
//! (a full disk) is the opposite: nothing more runs, because a step nobody
//! can read about afterwards must not happen. With `--execute` each record
//! is fsync'd, so an error shows at the record, not later.

use crate::tool::TOOL;
use canary_core::Record;
use canary_core::ndjson::RecordWriter;
use std::fs::File;
use std::io::{self, Write};

#[derive(Debug)]
pub struct Sink<'a, W: Write> {
    out: &'a mut RecordWriter<W>,
    audit: Option<File>,
    run_id: String,
    mode: &'static str,
    /// `rollback` or `promote`: the prefix of the run's result record.
    pub prefix: &'static str,
    /// The first stdout error, reported at the end.
    pub stdout_error: Option<io::Error>,
    audit_failed: bool,
}

impl<'a, W: Write> Sink<'a, W> {
    pub fn new(out: &'a mut RecordWriter<W>, run_id: &str, mode: &'static str) -> Self {
        Sink {
            out,
            audit: None,
            run_id: run_id.to_owned(),
            mode,
            prefix: "rollback",
            stdout_error: None,
            audit_failed: false,
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Use this (already safely opened) file as the audit log.
    pub fn set_audit(&mut self, file: File) {
        self.audit = Some(file);
    }

    pub fn has_audit(&self) -> bool {
        self.audit.is_some()
    }

    /// Has every audit write so far succeeded?
    pub fn audit_ok(&self) -> bool {
        !self.audit_failed
    }

    pub fn emit(&mut self, rec: Record) {
        let rec = rec
            .extra("run_id", self.run_id.clone())
            .extra("mode", self.mode);
        if let Some(f) = &mut self.audit {
            let written =
                serde_json::to_vec(&rec)
                    .map_err(io::Error::other)
                    .and_then(|mut line| {
                        line.push(b'\n');
                        // One write per record: O_APPEND keeps concurrent lines whole.
                        f.write_all(&line)?;
                        if self.mode == "execute" {
                            f.sync_data()?;
                        }
                        Ok(())
                    });
            if let Err(e) = written
                && !self.audit_failed
            {
                canary_core::diag(TOOL, "error", &format!("writing the audit log: {e}"));
                self.audit_failed = true;
            }
        }
        if self.stdout_error.is_none()
            && let Err(e) = self.out.write(&rec).and_then(|()| self.out.flush())
        {
            self.stdout_error = Some(e);
        }
    }
}

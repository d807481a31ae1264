//! `check-preflight`: the bot's preflight report and exit code as check
//! records for judge's start gate (docs/judge.md#preflight-in-the-stream).

#![forbid(unsafe_code)]

pub mod cli;
mod error;
mod report;

use anyhow::Context;
use canary_core::ndjson::RecordWriter;
use canary_core::{Exit, Kind, Level, Record, diag};
use std::io::{Read, Write};
use std::path::Path;

use error::Error;

pub use cli::{MAX_REPORT_BYTES, TOOL};

/// Run `check-preflight` as the command line asks, writing records to `out`.
pub fn run<W: Write>(cli: &cli::Cli, out: &mut RecordWriter<W>) -> anyhow::Result<Exit> {
    convert(&cli.report, cli.preflight_exit, cli.max_bytes, TOOL, out)
}

/// The report's text: a capped regular file, or capped stdin for `-`.
fn read(path: &Path, cap: u64) -> Result<String, Error> {
    let bytes = if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::stdin()
            .lock()
            .take(cap.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(Error::Stdin)?;
        if body.len() as u64 > cap {
            return Err(Error::TooBig(cap));
        }
        body
    } else {
        canary_core::capped::read(path, cap).map_err(Error::File)?
    };
    Ok(String::from_utf8(bytes)?)
}

/// Read the report at `path` (`-`: stdin), write its records, and exit as
/// the worst level. An unusable report is one `preflight.report` error
/// record, a diagnostic on stderr under the name `diag_as`, and exit 2.
pub fn convert<W: Write>(
    path: &Path,
    exit: Option<i32>,
    max_bytes: u64,
    diag_as: &str,
    out: &mut RecordWriter<W>,
) -> anyhow::Result<Exit> {
    let target = if path.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    };
    let result = read(path, max_bytes)
        .and_then(|t| report::parse_report(&t))
        .and_then(|r| report::records(&r, exit, &target));
    match result {
        Ok(recs) => {
            let mut worst = Exit::Clean;
            for r in &recs {
                worst = worst.worst(Exit::from_level(r.level));
                out.write(r).context("writing records")?;
            }
            Ok(worst)
        }
        Err(why) => {
            diag(diag_as, "error", &format!("{target}: {why}"));
            let rec = Record::new(
                TOOL,
                &target,
                Kind::Error,
                "preflight.report",
                Level::Unknown,
            )
            .msg(format!("{target}: preflight report unusable: {why}"));
            out.write(&rec).context("writing records")?;
            Ok(Exit::Unevaluable)
        }
    }
}

//! Reading the log: stdin or files, any mix of producers, bad lines counted.

use crate::error::LoadError;
use crate::model::Log;
use canary_core::ndjson::{Input, RecordReader};
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

/// Bad lines also reported on stderr; the rest only in the report.
const MAX_BAD_DIAGS: u64 = 20;

/// Read one source into `log`. A bad line is counted and skipped; an I/O
/// error is returned (the input could not be read).
pub fn read_into(log: &mut Log, reader: impl BufRead, source: &str) -> Result<(), LoadError> {
    for item in RecordReader::new(reader, source) {
        let item = item.map_err(|e| LoadError::Read {
            name: source.to_owned(),
            source: e,
        })?;
        match item {
            Input::Record(rec) => log.add(*rec),
            Input::Bad(bad) => {
                if log.bad_count < MAX_BAD_DIAGS {
                    canary_core::diag(crate::cli::TOOL, "warning", &bad.diagnostic());
                }
                log.add_bad(bad);
            }
        }
    }
    Ok(())
}

/// Read every file in order (`-` is stdin), or stdin when there is none.
pub fn read_all(files: &[impl AsRef<Path>]) -> Result<Log, LoadError> {
    let mut log = Log::default();
    if files.is_empty() {
        canary_core::ndjson::hint_if_terminal(crate::cli::TOOL);
        read_into(&mut log, io::stdin().lock(), "stdin")?;
    }
    for path in files {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            canary_core::ndjson::hint_if_terminal(crate::cli::TOOL);
            read_into(&mut log, io::stdin().lock(), "stdin")?;
            continue;
        }
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| LoadError::Open {
            name: name.clone(),
            source,
        })?;
        read_into(&mut log, BufReader::new(file), &name)?;
    }
    if log.bad_count > MAX_BAD_DIAGS {
        canary_core::diag(
            crate::cli::TOOL,
            "warning",
            &format!(
                "{} malformed lines in all (listed in the report)",
                log.bad_count
            ),
        );
    }
    log.finish();
    Ok(log)
}

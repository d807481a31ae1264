//! The one exit-code table of every canary-kit tool, and the shared `main` glue.

use crate::level::Level;
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit status of every tool. The README's table is generated from the same
/// words; keep them in step.
///
/// | code | meaning |
/// |---|---|
/// | 0 | nothing blocking: every observation ok or warn, decision go/continue/advance/promote |
/// | 1 | a blocking finding: crit, no-go, stop, rollback, pause |
/// | 2 | could not evaluate: usage error, unreadable input, unreachable endpoint, `unknown` evidence |
/// | 3 | hold for a human: `extend` |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing blocking.
    Clean,
    /// 1: a blocking finding (crit, no-go, stop, rollback, pause).
    Blocking,
    /// 2: could not evaluate; also every `unknown`, so it never reads as clean.
    Unevaluable,
    /// 3: hold for a human (`extend`).
    Hold,
}

impl Exit {
    /// The process exit status, 0 to 3 as in the table above.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Blocking => 1,
            Exit::Unevaluable => 2,
            Exit::Hold => 3,
        }
    }

    /// The exit status a single level calls for on its own.
    pub fn from_level(level: Level) -> Exit {
        match level {
            Level::Ok | Level::Warn => Exit::Clean,
            Level::Crit => Exit::Blocking,
            Level::Unknown => Exit::Unevaluable,
        }
    }

    /// Combine two statuses: a blocking finding outranks "could not evaluate",
    /// which outranks a hold, which outranks clean.
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Clean => 0,
                Exit::Hold => 1,
                Exit::Unevaluable => 2,
                Exit::Blocking => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// True if a broken pipe (a closed stdout, `| head -1`) is anywhere in the
/// error's chain. Decided here once so that every tool exits quietly on it.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Write one diagnostic line, `tool: level: message`, to stderr. Never panics:
/// a closed stderr loses the line rather than the process.
pub fn diag(tool: &str, level: &str, msg: &str) {
    let _ = writeln!(io::stderr().lock(), "{tool}: {level}: {msg}");
}

/// Parse the command line. `--help` and `--version` print and exit 0 as
/// clap does; a usage error is `tool: error: ...` (with clap's usage hint)
/// on stderr and exit 2, like every other error of every tool.
pub fn parse_cli<C: clap::Parser>(tool: &str) -> C {
    match C::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            let _ = write!(io::stderr().lock(), "{tool}: error: {text}");
            std::process::exit(Exit::Unevaluable.code().into())
        }
    }
}

/// The body of every tool's `main`: run, map the outcome to an exit code,
/// report errors as one line on stderr, and treat a broken pipe as a clean exit.
pub fn run_main(tool: &str, run: impl FnOnce() -> anyhow::Result<Exit>) -> ExitCode {
    match run() {
        Ok(exit) => exit.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            diag(tool, "error", &format!("{err:#}"));
            Exit::Unevaluable.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn broken_pipe_is_found_under_context() {
        let io_err = io::Error::new(io::ErrorKind::BrokenPipe, "closed");
        let err = Err::<(), _>(io_err)
            .context("writing record")
            .expect_err("an error");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }

    #[test]
    fn worst_prefers_blocking() {
        assert_eq!(Exit::Clean.worst(Exit::Unevaluable), Exit::Unevaluable);
        assert_eq!(Exit::Unevaluable.worst(Exit::Blocking), Exit::Blocking);
        assert_eq!(Exit::Hold.worst(Exit::Clean), Exit::Hold);
        assert_eq!(Exit::from_level(Level::Unknown), Exit::Unevaluable);
    }
}

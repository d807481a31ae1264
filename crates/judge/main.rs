//! `judge`: see `crates/judge/src/cli.rs` and `--help`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(judge::TOOL, || {
        let cli = judge::cli::Cli::parse();
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, false);
        let exit = judge::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}

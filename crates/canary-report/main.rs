//! `canary-report`: see `crates/canary-report/src/cli.rs` and `--help`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(canary_report::TOOL, || {
        let cli = canary_report::cli::Cli::parse();
        canary_report::run(&cli)
    })
}

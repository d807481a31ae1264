//! `daily-report`: see `crates/daily-report/src/cli.rs` and `--help`.

use daily_report::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main("daily-report", || {
        let cli: Cli = canary_core::parse_cli("daily-report");
        daily_report::run(&cli)
    })
}

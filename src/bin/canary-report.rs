//! `canary-report`: see `crates/canary-report/src/cli.rs` and `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(canary_report::TOOL, || {
        let cli: canary_report::cli::Cli = canary_core::parse_cli(canary_report::TOOL);
        canary_report::run(&cli)
    })
}

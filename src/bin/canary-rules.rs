//! `canary-rules`: see `crates/canary-rules/src/cli.rs` and `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(canary_rules::TOOL, || {
        let cli: canary_rules::cli::Cli = canary_core::parse_cli(canary_rules::TOOL);
        canary_rules::run(&cli)
    })
}

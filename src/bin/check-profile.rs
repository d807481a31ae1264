//! `check-profile`: see `crates/check-profile/src/cli.rs` and `--help`.

use check_profile::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main("check-profile", || {
        let cli: Cli = canary_core::parse_cli("check-profile");
        check_profile::run(&cli)
    })
}

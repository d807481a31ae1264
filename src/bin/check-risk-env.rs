//! `check-risk-env`: see `crates/check-risk-env/src/cli.rs` and `--help`.

use check_risk_env::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main("check-risk-env", || {
        let cli: Cli = canary_core::parse_cli("check-risk-env");
        check_risk_env::run(&cli)
    })
}

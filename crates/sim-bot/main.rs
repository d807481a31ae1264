use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main("sim-bot", || {
        let cli = sim_bot::cli::Cli::parse();
        sim_bot::run(&cli, &mut std::io::stdout().lock())
    })
}

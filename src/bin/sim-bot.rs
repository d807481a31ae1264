use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main("sim-bot", || {
        let cli: sim_bot::cli::Cli = canary_core::parse_cli("sim-bot");
        sim_bot::run(&cli, &mut std::io::stdout().lock())
    })
}

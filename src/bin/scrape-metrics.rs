use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(scrape_metrics::TOOL, || {
        let cli: scrape_metrics::cli::Cli = canary_core::parse_cli(scrape_metrics::TOOL);
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, cli.every.is_some());
        let exit = scrape_metrics::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}

use std::io::{self, ErrorKind};
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(notify::TOOL, || {
        let cli: notify::cli::Cli = canary_core::parse_cli("notify");
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, false);
        let exit = notify::run(&cli, io::stdin().lock(), &mut out);
        // What was sent stays sent even when stdout is gone (`| head -1`).
        if let Err(e) = out.finish()
            && e.kind() != ErrorKind::BrokenPipe
        {
            canary_core::diag(notify::TOOL, "error", &format!("writing stdout: {e}"));
        }
        Ok(exit)
    })
}

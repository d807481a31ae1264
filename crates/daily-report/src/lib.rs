//! `daily-report`: the bot's daily report as money-at-risk records
//! (docs/money.md#the-daily-report).

#![forbid(unsafe_code)]

pub mod cli;
mod error;
mod report;

use anyhow::Context;
use canary_core::ndjson::stdout_writer_for;
use canary_core::{Exit, Kind, Level, Record, diag};
use cli::Cli;
use error::Error;
use scrape_metrics::money::{LOSS_LIMIT_ENV, Limit};
use std::io::Read;

pub use cli::TOOL;

/// The report's bytes: a capped regular file, or capped stdin.
fn read(cli: &Cli) -> Result<Vec<u8>, Error> {
    if cli.file.as_os_str() != "-" {
        return canary_core::capped::read(&cli.file, cli.max_bytes).map_err(Error::File);
    }
    let mut body = Vec::new();
    std::io::stdin()
        .lock()
        .take(cli.max_bytes + 1)
        .read_to_end(&mut body)
        .map_err(Error::Stdin)?;
    if body.len() as u64 > cli.max_bytes {
        return Err(Error::TooBig(cli.max_bytes));
    }
    Ok(body)
}

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let target = if cli.file.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        cli.file.display().to_string()
    };
    let limit =
        Limit::from_flag_or_env(cli.daily_loss_limit_pct, std::env::var(LOSS_LIMIT_ENV).ok());
    let now = jiff::Timestamp::now();
    let recs = match read(cli).and_then(|b| report::parse(&b)) {
        Ok(rep) => report::records(&rep, &target, &limit, now, cli.max_age),
        Err(why) => {
            diag(TOOL, "error", &format!("{target}: {why}"));
            vec![
                Record::new(TOOL, &target, Kind::Error, "daily.report", Level::Unknown)
                    .msg(format!("{target}: daily report unusable: {why}")),
            ]
        }
    };
    let exit = recs
        .iter()
        .fold(Exit::Clean, |e, r| e.worst(Exit::from_level(r.level)));
    let mut out = stdout_writer_for(&cli.output, false);
    for r in &recs {
        out.write(r).context("writing records to stdout")?;
    }
    out.finish().context("writing records to stdout")?;
    Ok(exit)
}

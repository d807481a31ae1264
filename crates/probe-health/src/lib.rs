//! `probe-health`: the bot's `/health` (and `/live`, `/ready`) as check records.

#![forbid(unsafe_code)]

mod body;
pub mod cli;
mod evaluate;
mod frozen;
mod json;
mod others;
mod rows;

mod fetch;

use canary_core::ndjson::RecordWriter;
use canary_core::{Exit, Phase};
use cli::Cli;
use std::io::Write;

pub use cli::TOOL;

/// Probe once, or every `--every` for `--count` rounds, writing records to
/// `out`. The exit status is the worst over all rounds.
pub fn run<W: Write>(cli: &Cli, out: &mut RecordWriter<W>) -> anyhow::Result<Exit> {
    let base = cli.url.trim_end_matches('/');
    let opts = canary_core::http::HttpOptions {
        timeout: cli.timeout,
        max_body: cli.max_body,
    };
    let phase = cli.phase.map(Phase::from);
    canary_core::rounds::run(out, cli.every, cli.count, || {
        let mut records = fetch::health(base, &opts, phase);
        if cli.live {
            records.push(fetch::live_or_ready(base, "/live", &opts));
        }
        if cli.ready {
            records.push(fetch::live_or_ready(base, "/ready", &opts));
        }
        Ok(records)
    })
}

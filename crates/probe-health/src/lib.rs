//! `probe-health`: the bot's `/health` (and `/live`, `/ready`) as check records.

#![forbid(unsafe_code)]

mod body;
pub mod cli;
mod frozen;
mod json;
mod others;
mod rows;

mod fetch;

use canary_core::ndjson::RecordWriter;
use canary_core::{Exit, Phase, Record};
use cli::Cli;
use std::io::Write;

pub const TOOL: &str = "probe-health";

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

/// Every record one probe of `/health` yields, for tests and other tools.
pub(crate) fn evaluate(body: &body::Body, phase: Option<Phase>) -> Vec<Record> {
    let mut records = rows::all(body, phase);
    records.extend(others::checks(body));
    records.extend(others::signals(body));
    match frozen::after_shutdown(body) {
        Some(why) => records
            .into_iter()
            .map(|r| frozen::stale(r, &why))
            .collect(),
        None => records,
    }
}

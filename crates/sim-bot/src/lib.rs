//! The GPT-Trader bot simulator: `/health`, `/live`, `/ready` and `/metrics`
//! as the real bot serves them (see `shared/reference/bot-contracts.md` §1–§2).

#![forbid(unsafe_code)]

pub mod cli;
pub mod collector;
pub mod fault;
pub mod health;
pub mod live;
pub mod pyjson;
pub mod scenario;

mod checks;
mod server;
mod traffic;

use anyhow::{Context, bail};
use canary_core::Exit;
use cli::Cli;
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Bind, print the base URL, serve until killed.
pub fn run(cli: &Cli, out: &mut impl Write) -> anyhow::Result<Exit> {
    if cli.list {
        for (name, what) in scenario::SCENARIOS {
            writeln!(out, "{name:<20} {what}")?;
        }
        out.flush()?;
        return Ok(Exit::Clean);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    let Some(bot) = scenario::build(&cli.scenario, now) else {
        let names: Vec<_> = scenario::names().collect();
        bail!(
            "unknown scenario '{}': expected one of {}",
            cli.scenario,
            names.join(", ")
        );
    };
    for (what, v) in [
        ("--failure-ratio", cli.failure_ratio),
        ("--retry-ratio", cli.retry_ratio),
    ] {
        if !(0.0..=1.0).contains(&v) {
            bail!("{what} must be between 0 and 1, got {v}");
        }
    }
    if !(cli.order_rate.is_finite()
        && cli.order_rate >= 0.0
        && cli.latency_ms.is_finite()
        && cli.latency_ms >= 0.0)
    {
        bail!("--order-rate and --latency-ms must be finite and not negative");
    }
    let live = (cli.live || cli.scenario == "live").then(|| {
        Mutex::new(live::Live::new(live::LiveConfig {
            order_rate: cli.order_rate,
            failure_ratio: cli.failure_ratio,
            retry_ratio: cli.retry_ratio,
            latency_ms: cli.latency_ms,
            guard_trip_every: cli.guard_trip_every,
            seed: cli.seed,
        }))
    });
    let listener = TcpListener::bind(("127.0.0.1", cli.port))
        .with_context(|| format!("binding 127.0.0.1:{}", cli.port))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    writeln!(out, "http://{addr}")?;
    out.flush()?;
    let shared = Arc::new(server::Shared {
        bot: Mutex::new(bot),
        live,
        fault: cli.fault,
        double_cumulate: !cli.correct_buckets,
    });
    server::serve(listener, shared).context("serving")?;
    Ok(Exit::Clean)
}

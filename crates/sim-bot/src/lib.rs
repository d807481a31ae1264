//! The GPT-Trader bot simulator: `/health`, `/live`, `/ready` and `/metrics`
//! as the real bot serves them (docs/bot.md; what it leaves out is in
//! docs/fidelity.md).

#![forbid(unsafe_code)]

// The interface: the command line and the scenarios it names.
pub mod cli;
mod fault;
mod scenario;

mod checks;
mod collector;
mod engine;
mod health;
mod live;
mod money;
mod pyjson;
mod server;
mod sigterm;
mod traffic;

use anyhow::{Context, bail};
use canary_core::Exit;
use clap::ValueEnum;
use cli::Cli;
use scenario::{Bot, Scenario};
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Bind, print the base URL, serve until killed.
pub fn run(cli: &Cli, out: &mut impl Write) -> anyhow::Result<Exit> {
    if cli.list {
        for s in Scenario::value_variants() {
            writeln!(out, "{:<20} {}", s.name(), s.about())?;
        }
        out.flush()?;
        return Ok(Exit::Clean);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
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
    let versus = cli.scenario.versus(cli.role);
    if versus.is_none() && cli.role == canary_core::role::Role::Baseline {
        bail!(
            "--role baseline picks production's side of a versus-* scenario, and {} is not one",
            cli.scenario.name()
        );
    }
    let live = (cli.live || cli.scenario == Scenario::Live || versus.is_some()).then(|| {
        Mutex::new(live::Live::new(live::LiveConfig {
            order_rate: cli.order_rate,
            failure_ratio: versus.map_or(cli.failure_ratio, |v| v.failure_ratio),
            retry_ratio: cli.retry_ratio,
            latency_ms: versus.map_or(cli.latency_ms, |v| v.latency_ms),
            guard_trip_every: cli.guard_trip_every,
            seed: cli.seed,
            dry_run: cli.scenario == Scenario::DryRun,
        }))
    });
    let money = cli.scenario.money().map(|path| {
        Mutex::new(money::Money::new(
            path,
            money::MoneyConfig {
                start_equity: cli.start_equity,
                after: cli.money_after,
                drop_pct: cli.equity_drop_pct,
                bleed_pct_per_min: cli.equity_bleed_pct_per_min,
                restart_gap: cli.restart_gap,
                runaway_rate: cli.runaway_rate,
            },
        ))
    });
    if !(cli.start_equity.is_finite()
        && cli.start_equity > 0.0
        && (0.0..100.0).contains(&cli.equity_drop_pct)
        && (0.0..100.0).contains(&cli.equity_bleed_pct_per_min)
        && cli.runaway_rate.is_finite()
        && cli.runaway_rate >= 0.0)
    {
        bail!(
            "--start-equity must be positive, --equity-drop-pct and --equity-bleed-pct-per-min in [0, 100), --runaway-rate finite and not negative"
        );
    }
    // Before the URL is printed, so a SIGTERM sent once it is read is caught.
    if cli.ignore_sigterm {
        sigterm::ignore().context("installing the SIGTERM handler")?;
    }
    let listener = TcpListener::bind(("127.0.0.1", cli.port))
        .with_context(|| format!("binding 127.0.0.1:{}", cli.port))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    writeln!(out, "http://{addr}")?;
    out.flush()?;
    let shared = Arc::new(server::Shared {
        bot: Mutex::new(Bot::new(cli.scenario, now)),
        live,
        money,
        fault: cli.fault,
        double_cumulate: !cli.correct_buckets,
        perf_flap: cli.perf_flap,
        health_requests: AtomicU64::new(0),
        started: Instant::now(),
    });
    server::serve(listener, shared).context("serving")?;
    Ok(Exit::Clean)
}

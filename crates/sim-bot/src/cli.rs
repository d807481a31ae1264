//! Command line of `sim-bot`.

use crate::fault::Fault;
use crate::scenario::Scenario;
use clap::Parser;

/// A GPT-Trader bot simulator: serves /health, /live, /ready and /metrics
/// on 127.0.0.1 exactly as the real bot does (status codes, headers, JSON
/// layout, exposition text, double-cumulated histogram buckets).
///
/// Prints its base URL (`http://127.0.0.1:PORT`) as the first line on stdout,
/// then serves until killed.
#[derive(Debug, Parser)]
#[command(name = "sim-bot", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Port on 127.0.0.1; 0 picks a free one (printed on stdout).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// The bot state to serve.
    #[arg(long, value_enum, default_value_t = Scenario::HealthyB)]
    pub scenario: Scenario,

    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,

    /// Emit correct histogram buckets, as the bot will once its exporter is
    /// fixed. By default buckets are double-cumulated like the bot today.
    #[arg(long)]
    pub correct_buckets: bool,

    /// Misbehave on every request instead of serving the scenario.
    #[arg(long, value_enum)]
    pub fault: Option<Fault>,

    /// Add live traffic (see --order-rate ...) on top of the scenario's
    /// state; `--scenario live` implies it.
    #[arg(long)]
    pub live: bool,

    /// Which side of a versus-* pairing to serve: the canary, or the
    /// production bot it is compared with (baseline). The bot exports no
    /// role: neither does the simulator; the producer marks it (scrape-metrics --role).
    #[arg(long, value_enum, default_value_t = canary_core::role::Role::Canary)]
    pub role: canary_core::role::Role,

    /// Live traffic: orders per second.
    #[arg(long, default_value_t = 2.0)]
    pub order_rate: f64,

    /// Live traffic: fraction of orders that fail.
    #[arg(long, default_value_t = 0.02)]
    pub failure_ratio: f64,

    /// Live traffic: fraction of orders retried once by the broker executor.
    #[arg(long, default_value_t = 0.03)]
    pub retry_ratio: f64,

    /// Live traffic: mean broker latency in milliseconds.
    #[arg(long, default_value_t = 120.0)]
    pub latency_ms: f64,

    /// Live traffic: one recoverable guard trip per this duration (e.g. 10m).
    #[arg(long, value_parser = canary_core::duration::parse_duration)]
    pub guard_trip_every: Option<std::time::Duration>,

    /// Live traffic: seed of the deterministic generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Serve every Nth /health request with the host-wide performance check
    /// degraded ("High CPU usage: 100.0%"), as a busy host makes the real bot
    /// do now and then. Deterministic: requests N, 2N, 3N ...
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub perf_flap: Option<u64>,

    /// Ignore SIGTERM as the real bot does: log it and keep serving until
    /// SIGKILL.
    #[arg(long)]
    pub ignore_sigterm: bool,

    /// Money scenarios: the account's equity at the start, in dollars.
    #[arg(long, default_value_t = 10_000.0, value_name = "DOLLARS")]
    pub start_equity: f64,

    /// Money scenarios: when the scenario's event happens, after the first request.
    #[arg(long, default_value = "3s", value_parser = canary_core::duration::parse_duration, value_name = "DUR")]
    pub money_after: std::time::Duration,

    /// equity-sudden-drop, equity-restart: the fall, in percent of the start.
    #[arg(long, default_value_t = 6.0, value_name = "PCT")]
    pub equity_drop_pct: f64,

    /// equity-slow-bleed: the loss per minute, in percent of the start.
    #[arg(long, default_value_t = 1.0, value_name = "PCT")]
    pub equity_bleed_pct_per_min: f64,

    /// equity-restart: how long the restarted bot exports nothing.
    #[arg(long, default_value = "2s", value_parser = canary_core::duration::parse_duration, value_name = "DUR")]
    pub restart_gap: std::time::Duration,

    /// order-runaway: orders per second once the loop runs away.
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    pub runaway_rate: f64,
}

const EXAMPLES: &str = "Examples:
  sim-bot --port 0 --scenario real-canary
  sim-bot --port 8080 --scenario live --order-rate 5 --failure-ratio 0.1
  sim-bot --port 8080 --scenario healthy-a --live --order-rate 2    # Phase A with orders flowing
  sim-bot --port 0 --scenario versus-worse --order-rate 20                   # the canary
  sim-bot --port 0 --scenario versus-worse --order-rate 20 --role baseline   # production
  sim-bot --port 0 --fault hang          # for timeout tests
  sim-bot --port 0 --scenario healthy-b --perf-flap 5 --ignore-sigterm
  sim-bot --port 0 --scenario equity-sudden-drop --money-after 5s --equity-drop-pct 6
  sim-bot --port 8080 & probe-health --phase a | jq -c 'select(.level != \"ok\")'";

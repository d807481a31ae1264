//! End-to-end tests: the real binaries over real pipes, against the bot simulator.

mod util;

mod canary_gate;
mod check_profile;
mod check_risk_env;
mod human;
mod probe_health;
mod prometheus;
mod scrape_metrics;
mod sim_bot;

//! End-to-end tests: the real binaries over real pipes, against the bot simulator.

mod util;

mod baseline;
mod canary_gate;
mod canary_report;
mod canary_rules;
mod check_preflight;
mod check_profile;
mod check_risk_env;
mod confidence_sim;
mod demo;
mod docs;
mod examples;
mod fidelity;
mod help;
mod http_errors;
mod human;
mod judge;
mod judge_follow;
mod judge_model;
mod money;
mod notify;
mod probe_health;
mod prometheus;
mod promql_parity;
mod readme;
mod rollback;
mod rollback_crash;
mod rollback_safety;
mod scrape_metrics;
mod scrape_metrics_scale;
mod sim_bot;
mod structure;
mod typed_payloads;

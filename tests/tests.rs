//! End-to-end tests: the real binaries over real pipes, against the bot simulator.

mod util;

mod probe_health;
mod sim_bot;

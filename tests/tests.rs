//! End-to-end tests: the real binaries over real pipes, against the bot simulator.

//! From one `/health` body to its records: the runbook's rows, the bot's
//! other checks and signals, all stale once the bot has begun to shut down.

use crate::body::Body;
use crate::{frozen, others, rows};
use canary_core::{Phase, Record};

/// Every record one probe of `/health` yields.
pub(crate) fn evaluate(body: &Body, phase: Option<Phase>) -> Vec<Record> {
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

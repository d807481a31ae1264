//! The trigger's table: what a verdict's decision asks of the run.

use crate::trigger::Decision;

/// What the trigger asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Nothing,
    StopOnly,
    Full,
    Promote,
}

/// The trigger's table (docs/rollback.md, "The trigger"): what a verdict's
/// decision asks of `rollback` (or `rollback --promote`, `promote`), with
/// `--full` turning a stop into the full procedure.
pub(crate) fn action_for(promote: bool, full: bool, d: Decision) -> (Action, String) {
    match (promote, d) {
        (false, Decision::Rollback) => (
            Action::Full,
            "rollback verdict: the full §4.3 procedure".to_owned(),
        ),
        (false, Decision::Stop) if full => (
            Action::Full,
            "stop verdict with --full: the full §4.3 procedure".to_owned(),
        ),
        (false, Decision::Stop) => (
            Action::StopOnly,
            "stop verdict: stopping the canary only (investigate; --full rolls back)".to_owned(),
        ),
        (false, Decision::Promote) => (
            Action::Nothing,
            "promote verdict: nothing to roll back (promotion is rollback --promote)".to_owned(),
        ),
        (false, other) => (
            Action::Nothing,
            format!("{} verdict: nothing to roll back", other.as_str()),
        ),
        (true, Decision::Promote) => (
            Action::Promote,
            "promote verdict: the §4.4 promotion".to_owned(),
        ),
        (true, Decision::Rollback | Decision::Stop) => (
            Action::Nothing,
            format!(
                "{} verdict: never promoted (run rollback without --promote to roll back)",
                d.as_str()
            ),
        ),
        (true, other) => (
            Action::Nothing,
            format!("{} verdict: nothing to promote", other.as_str()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trigger table of docs/rollback.md, row by row: rollback runs the
    /// full procedure, stop the stop step (or the full one with --full),
    /// promote only under --promote, and every other decision nothing, in
    /// either mode.
    #[test]
    fn every_decision_in_either_mode_asks_what_the_table_says() {
        for name in Decision::names() {
            let d = Decision::parse(name).expect("a decision");
            for full in [false, true] {
                let want = match d {
                    Decision::Rollback => Action::Full,
                    Decision::Stop if full => Action::Full,
                    Decision::Stop => Action::StopOnly,
                    _ => Action::Nothing,
                };
                let (got, msg) = action_for(false, full, d);
                assert_eq!(got, want, "{name} (full {full}): {msg}");
                assert!(msg.starts_with(d.as_str()), "{msg}");
                let want = if d == Decision::Promote {
                    Action::Promote
                } else {
                    Action::Nothing
                };
                let (got, msg) = action_for(true, full, d);
                assert_eq!(got, want, "{name} --promote (full {full}): {msg}");
            }
        }
    }
}

//! Alerts on canary-gate itself, from the textfile-collector metrics it
//! writes on every run (`canary_gate.prom`, read by node_exporter): a gate
//! that stopped, a run that overran, and evidence unknown for too long.

use crate::yaml::{Alert, Rule, Severity};

/// Missed runs before the gate counts as stopped.
pub const MISSED_RUNS: u32 = 3;

/// The four self-monitoring alerts.
pub fn alerts() -> Vec<Rule> {
    vec![
        Rule::Alert(Alert {
            name: "CanaryGateNotRunning".into(),
            expr: format!(
                "time() - canary_gate_last_run_timestamp_seconds\n  > {MISSED_RUNS} * canary_gate_interval_seconds"
            ),
            for_: "0m".into(),
            severity: Severity::Critical,
            summary: "canary-gate has stopped running".into(),
            description: format!(
                "canary-gate (phase {{{{ $labels.phase }}}}) last finished {{{{ $value | humanizeDuration }}}} ago, over {MISSED_RUNS} intervals: nothing is judging the canary"
            ),
        }),
        // The alerts above compare two gauges; when one is missing they
        // match nothing and stay silent, so a missing one pages here.
        Rule::Alert(Alert {
            name: "CanaryGateMetricsAbsent".into(),
            expr: "absent(canary_gate_last_run_timestamp_seconds)
or
(canary_gate_last_run_timestamp_seconds unless on (job, instance, phase) canary_gate_interval_seconds)
or
(canary_gate_last_run_timestamp_seconds unless on (job, instance, phase) canary_gate_run_duration_seconds)
or
(canary_gate_last_run_timestamp_seconds unless on (job, instance, phase) canary_gate_evidence_unknown_seconds)
or
(canary_gate_last_run_timestamp_seconds unless on (job, instance, phase) canary_gate_max_unknown_seconds)".into(),
            for_: "15m".into(),
            severity: Severity::Warning,
            summary: "canary-gate metrics are missing".into(),
            description: "{{ with $labels.phase }}canary-gate (phase {{ . }}) wrote only some of its metrics, so its self-monitoring alerts cannot compare them{{ else }}No canary_gate_last_run_timestamp_seconds: the gate never ran, or node_exporter's textfile collector does not read canary_gate.prom{{ end }}".into(),
        }),
        Rule::Alert(Alert {
            name: "CanaryGateOverran".into(),
            expr: "canary_gate_run_duration_seconds > canary_gate_interval_seconds".into(),
            for_: "0m".into(),
            severity: Severity::Warning,
            summary: "canary-gate run overran its interval".into(),
            description: "The last canary-gate run (phase {{ $labels.phase }}) took {{ $value | humanizeDuration }}, longer than its interval".into(),
        }),
        Rule::Alert(Alert {
            name: "CanaryGateEvidenceUnknown".into(),
            expr: "canary_gate_evidence_unknown_seconds > canary_gate_max_unknown_seconds".into(),
            for_: "0m".into(),
            severity: Severity::Critical,
            summary: "canary evidence unknown too long".into(),
            description: "canary-gate (phase {{ $labels.phase }}) has judged on unknown evidence for {{ $value | humanizeDuration }}, longer than its --max-unknown: a monitoring outage a human must see".into(),
        }),
    ]
}

//! Profile vs environment (runbook §1.3): preflight reads `RISK_*`, the
//! running bot reads the profile. Where they disagree, say so, naming both.

use crate::evaluate::{Reading, TOOL};
use canary_core::{Kind, Level, Record};
use check_profile::schema::Field;
use serde_json::Value;

/// Pairs compared: (record suffix, env var, profile field).
const PAIRS: &[(&str, &str, &str)] = &[
    ("reduce_only_mode", "RISK_REDUCE_ONLY_MODE", "trading.mode"),
    (
        "max_leverage",
        "RISK_MAX_LEVERAGE",
        "risk_management.max_leverage",
    ),
    (
        "max_position_pct_per_symbol",
        "RISK_MAX_POSITION_PCT_PER_SYMBOL",
        "risk_management.position_fraction",
    ),
    (
        "daily_loss_limit_pct",
        "RISK_DAILY_LOSS_LIMIT_PCT",
        "risk_management.daily_loss_limit_pct",
    ),
];

/// One `risk.profile_mismatch.<field>` warning per disagreement.
pub fn records(target: &str, profile: &str, readings: &[Reading], fields: &[Field]) -> Vec<Record> {
    let mut out = Vec::new();
    for (suffix, var, key) in PAIRS {
        let Some(r) = readings.iter().find(|r| r.var.name == *var) else {
            continue;
        };
        let Some(f) = fields.iter().find(|f| f.key == *key) else {
            continue;
        };
        let Ok(env_value) = &r.result else { continue };
        let (env_json, profile_json, same) = if *suffix == "reduce_only_mode" {
            let bot = f.value.as_str() == Some("reduce_only");
            (
                env_value.json(),
                f.value.clone(),
                env_value.json() == Value::Bool(bot),
            )
        } else {
            let Some(p) = f.number else { continue };
            let e = env_value.number();
            (
                env_value.json(),
                f.value.clone(),
                (e - p).abs() <= f64::EPSILON * e.abs().max(p.abs()),
            )
        };
        if same {
            continue;
        }
        out.push(
            Record::new(TOOL, target, Kind::Check, &format!("risk.profile_mismatch.{suffix}"), Level::Warn)
                .value(env_json.clone())
                .msg(format!(
                    "preflight reads {var}={env_json} ({}) but the running bot uses {key}={profile_json} from {profile}; make them agree so preflight checks what runs",
                    r.source()
                ))
                .extra("env_var", *var)
                .extra("profile", profile)
                .extra("profile_key", *key)
                .extra("profile_value", profile_json),
        );
    }
    out
}

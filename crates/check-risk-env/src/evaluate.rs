//! `RiskConfig.from_env` and `BotConfig.from_env` as the bot runs them
//!, and the runbook §1.3 bounds.

use crate::env::{Env, Origin, Set};
use crate::vars::{self, FROM_ENV, Parse, Var};
use canary_core::thresholds::{
    MAX_DAILY_LOSS_LIMIT_PCT, MAX_LEVERAGE, MAX_POSITION_FRACTION, RUNBOOK_DAILY_LOSS_LIMIT,
};
use canary_core::{Kind, Level, Phase, Record};
use check_profile::pynum::{PyError, py_decimal, py_float, py_int, py_repr, tolerant_bool};
use check_profile::pyyaml::{float_json, int_json};
use serde_json::Value;

pub const TOOL: &str = "check-risk-env";

/// A parsed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Parsed {
    pub fn json(&self) -> Value {
        match self {
            Parsed::Int(i) => int_json(*i),
            Parsed::Float(f) => float_json(*f),
            Parsed::Bool(b) => Value::Bool(*b),
        }
    }

    pub fn number(&self) -> f64 {
        match self {
            Parsed::Int(i) => *i as f64,
            Parsed::Float(f) => *f,
            Parsed::Bool(b) => f64::from(u8::from(*b)),
        }
    }
}

/// Parse a string with one of the bot's rules.
pub fn parse(raw: &str, how: Parse) -> Result<Parsed, PyError> {
    match how {
        Parse::Int => py_int(raw).map(Parsed::Int),
        Parse::Float => py_float(raw).map(Parsed::Float),
        Parse::Bool01 => Ok(Parsed::Bool(raw == "1")),
        Parse::Decimal => py_decimal(raw).map(|d| Parsed::Float(d.value)),
        Parse::StrictInt => strict_int(raw).map(Parsed::Int),
        Parse::TolerantBool => tolerant_bool(raw).map(Parsed::Bool).ok_or_else(|| {
            PyError(format!(
                "Failed to parse RISK_REDUCE_ONLY_MODE: expected a boolean value (1/0, true/false, yes/no, on/off), got {}",
                py_repr(raw)
            ))
        }),
    }
}

/// The bot's strict integer: `[+-]?[0-9]+`, nothing else.
fn strict_int(raw: &str) -> Result<i128, PyError> {
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PyError(format!(
            "{} is not a plain integer (digits only: no '_', '.', spaces or letters)",
            py_repr(raw)
        )));
    }
    py_int(raw)
}

/// One variable as `from_env` sees it.
#[derive(Debug, Clone)]
pub struct Reading {
    pub var: &'static Var,
    pub set: Option<Set>,
    pub result: Result<Parsed, PyError>,
}

impl Reading {
    pub fn raw(&self) -> &str {
        self.set
            .as_ref()
            .map(|s| s.value.as_str())
            .unwrap_or(self.var.default)
    }

    pub fn source(&self) -> &'static str {
        match &self.set {
            None => "default",
            Some(Set {
                origin: Origin::Env,
                ..
            }) => "env",
            Some(Set {
                origin: Origin::File { .. },
                ..
            }) => "env-file",
        }
    }

    /// Provenance fields on a record.
    pub fn provenance(&self, mut r: Record) -> Record {
        r = r
            .extra("var", self.var.name)
            .extra("source", self.source())
            .extra("raw", self.raw());
        if let Some(Set {
            origin: Origin::File { line, .. },
            ..
        }) = &self.set
        {
            r = r.extra("line", *line);
        }
        if let Some(written) = self.set.as_ref().and_then(|s| s.written.as_deref()) {
            r = r.extra("written", written);
        }
        r
    }
}

/// Every `from_env` variable, parsed on its own.
pub fn readings(env: &Env) -> Vec<Reading> {
    FROM_ENV
        .iter()
        .map(|var| {
            let set = env.get(var.name).cloned();
            let raw = set
                .as_ref()
                .map(|s| s.value.as_str())
                .unwrap_or(var.default);
            Reading {
                var,
                result: parse(raw, var.parse),
                set,
            }
        })
        .collect()
}

fn rec(target: &str, name: &str, level: Level) -> Record {
    Record::new(TOOL, target, Kind::Check, name, level)
}

/// A suggested fix for a variable, for messages.
fn fix_for(name: &str, phase: Phase) -> String {
    match name {
        "RISK_MAX_LEVERAGE" | "CFM_MAX_LEVERAGE" => format!("{name}={MAX_LEVERAGE}"),
        "RISK_MAX_POSITION_PCT_PER_SYMBOL" => format!("{name}={MAX_POSITION_FRACTION}"),
        "RISK_DAILY_LOSS_LIMIT_PCT" => format!("{name}={MAX_DAILY_LOSS_LIMIT_PCT}"),
        "RISK_REDUCE_ONLY_MODE" => format!("{name}={}", if phase == Phase::B { 0 } else { 1 }),
        _ => format!("{name}=<a plain number> or unset it"),
    }
}

/// `risk.from_env`: does preflight get a `RiskConfig` at all?
pub fn from_env_record(target: &str, readings: &[Reading], phase: Phase) -> Record {
    match readings.iter().find(|r| r.result.is_err()) {
        None => rec(target, "risk.from_env", Level::Ok)
            .msg("RiskConfig.from_env() reads every value; preflight's risk check gets a config"),
        Some(r) => {
            let err = r
                .result
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default();
            r.provenance(
                rec(target, "risk.from_env", Level::Crit)
                    .value(r.var.name)
                    .msg(format!(
                        "RiskConfig.from_env() stops at {}={}: ValueError: {err}; preflight fails with 'Failed to validate risk config: {err}'; fix: {}",
                        r.var.name,
                        py_repr(r.raw()),
                        fix_for(r.var.name, phase)
                    )),
            )
        }
    }
}

/// `risk.preflight_ranges`: preflight's risk check validates what
/// `from_env` read; a value outside its range fails preflight (exit 1).
pub fn preflight_ranges_record(target: &str, readings: &[Reading]) -> Record {
    if readings.iter().any(|r| r.result.is_err()) {
        return rec(target, "risk.preflight_ranges", Level::Unknown).msg(
            "RiskConfig.from_env() fails, so preflight's range validation never runs (see risk.from_env)",
        );
    }
    let mut bad = Vec::new();
    for (name, low, low_inclusive, high) in vars::PREFLIGHT_RANGES {
        let Some(r) = reading(readings, name) else {
            continue;
        };
        let Ok(p) = &r.result else { continue };
        let v = p.number();
        let above_low = if *low_inclusive { v >= *low } else { v > *low };
        if !(above_low && v <= *high) {
            let range = match (*low_inclusive, high.is_finite()) {
                (true, true) => format!("{low} <= x <= {high}"),
                (false, true) => format!("{low} < x <= {high}"),
                (true, false) => format!("x >= {low}"),
                (false, false) => format!("x > {low}"),
            };
            bad.push((*name, p.json(), range, r.source()));
        }
    }
    if bad.is_empty() {
        return rec(target, "risk.preflight_ranges", Level::Ok)
            .msg("every value preflight's risk check validates is within its range");
    }
    let detail: Vec<String> = bad
        .iter()
        .map(|(n, v, range, source)| format!("{n}={v} ({source}) outside {range}"))
        .collect();
    rec(target, "risk.preflight_ranges", Level::Crit)
        .value(Value::from(
            bad.iter().map(|(n, _, _, _)| *n).collect::<Vec<_>>(),
        ))
        .msg(format!(
            "preflight's risk check fails (exit 1): {}",
            detail.join("; ")
        ))
}

/// `risk.bot_start`: would `gpt-trader run` crash in `BotConfig.from_env`?
pub fn bot_start_record(target: &str, env: &Env, phase: Phase) -> Record {
    let mut bad = Vec::new();
    for (name, how) in vars::BOT_START {
        if let Some(set) = env.get(name)
            && let Err(e) = parse(&set.value, *how)
        {
            bad.push((*name, set.value.clone(), e.0));
        }
    }
    if bad.is_empty() {
        return rec(target, "risk.bot_start", Level::Ok).msg(
            "BotConfig.from_env() accepts every RISK_*/CFM_* value it checks; the bot can start",
        );
    }
    let detail: Vec<String> = bad
        .iter()
        .map(|(n, v, e)| {
            format!(
                "{n}={} ends with 'Error: {e}'; fix: {}",
                py_repr(v),
                fix_for(n, phase)
            )
        })
        .collect();
    rec(target, "risk.bot_start", Level::Crit)
        .value(Value::from(
            bad.iter().map(|(n, _, _)| *n).collect::<Vec<_>>(),
        ))
        .msg(format!(
            "the bot would fail to start (gpt-trader run exits 1): {}",
            detail.join("; ")
        ))
}

fn reading<'a>(readings: &'a [Reading], name: &str) -> Option<&'a Reading> {
    readings.iter().find(|r| r.var.name == name)
}

/// A `<= bound` check on one variable.
fn bound(target: &str, r: &Reading, name: &str, bound: f64, phase: Phase, note: &str) -> Record {
    let (level, value, msg) = match &r.result {
        Err(e) => (
            Level::Crit,
            Value::Null,
            format!(
                "{}={} is malformed ({e}): preflight gets no RiskConfig and the bot would fail to start; fix: {}",
                r.var.name,
                py_repr(r.raw()),
                fix_for(r.var.name, phase)
            ),
        ),
        // -inf, nan or a non-positive limit passes a `<=` test but is no
        // limit at all (the bot's daily-loss check treats it as invalid).
        Ok(p) if !(p.number().is_finite() && p.number() > 0.0) => (
            Level::Crit,
            p.json(),
            format!(
                "{} {} is not a positive finite number, so it bounds nothing; fix: {}{note}",
                r.var.field,
                p.json(),
                fix_for(r.var.name, phase)
            ),
        ),
        Ok(p) if p.number() <= bound => (
            Level::Ok,
            p.json(),
            format!("{} {} is within {bound}{note}", r.var.field, p.json()),
        ),
        Ok(p) => (
            Level::Crit,
            p.json(),
            format!(
                "{} {}{} is over the runbook's {bound}; fix: {}{note}",
                r.var.field,
                p.json(),
                if r.set.is_none() {
                    format!(" ({} is unset: default)", r.var.name)
                } else {
                    String::new()
                },
                fix_for(r.var.name, phase)
            ),
        ),
    };
    r.provenance(
        rec(target, name, level)
            .value(value)
            .expect(format!("<= {bound}"))
            .msg(msg),
    )
}

/// The runbook §1.3 bound records.
pub fn bound_records(target: &str, readings: &[Reading], env: &Env, phase: Phase) -> Vec<Record> {
    let mut out = Vec::new();
    if let Some(r) = reading(readings, "RISK_MAX_LEVERAGE") {
        out.push(bound(
            target,
            r,
            "risk.max_leverage",
            MAX_LEVERAGE as f64,
            phase,
            "",
        ));
    }
    if let Some(r) = reading(readings, "RISK_MAX_POSITION_PCT_PER_SYMBOL") {
        out.push(bound(
            target,
            r,
            "risk.max_position_pct_per_symbol",
            MAX_POSITION_FRACTION,
            phase,
            " (preflight's environment check still warns below its recommended 0.01)",
        ));
    }
    if let Some(r) = reading(readings, "RISK_DAILY_LOSS_LIMIT_PCT") {
        out.push(
            bound(
                target,
                r,
                "risk.daily_loss_limit_pct",
                MAX_DAILY_LOSS_LIMIT_PCT,
                phase,
                &format!(
                    "; the runbook's alternative `daily_loss_limit <= {RUNBOOK_DAILY_LOSS_LIMIT}` does not exist in the bot"
                ),
            )
            .extra(
                "runbook",
                format!(
                    "daily_loss_limit_pct <= {MAX_DAILY_LOSS_LIMIT_PCT} or daily_loss_limit <= {RUNBOOK_DAILY_LOSS_LIMIT} (no such field)"
                ),
            ),
        );
    }
    if let Some(r) = reading(readings, "RISK_REDUCE_ONLY_MODE") {
        out.push(reduce_only(target, r, phase));
    }
    if let Some(r) = reduce_only_parsers(target, env) {
        out.push(r);
    }
    out
}

fn reduce_only(target: &str, r: &Reading, phase: Phase) -> Record {
    let want = phase != Phase::B;
    let preflight = r.raw() == "1";
    let bot = r.set.as_ref().map(|s| tolerant_bool(&s.value));
    let raw = py_repr(r.raw());
    let fix = fix_for(r.var.name, phase);
    let (level, msg) = match (preflight == want, bot) {
        (_, Some(None)) => (
            Level::Crit,
            format!(
                "RISK_REDUCE_ONLY_MODE={raw} is neither true nor false to the bot: gpt-trader run fails to start; fix: {fix}"
            ),
        ),
        (true, Some(Some(b))) if b != want => (
            Level::Crit,
            format!(
                "RISK_REDUCE_ONLY_MODE={raw}: preflight reads {preflight} but the bot's own parser reads {b}; fix: {fix}"
            ),
        ),
        (true, _) => (
            Level::Ok,
            format!(
                "reduce_only_mode {preflight} as Phase {} requires",
                phase.as_str().to_uppercase()
            ),
        ),
        (false, Some(Some(b))) if b == want => (
            Level::Crit,
            format!(
                "RISK_REDUCE_ONLY_MODE={raw} is silently misread: from_env is true only for exactly \"1\", so preflight reads {preflight} (the bot reads {b}); fix: {fix}"
            ),
        ),
        (false, None) => (
            Level::Crit,
            format!(
                "RISK_REDUCE_ONLY_MODE is unset, so from_env reads false; Phase A needs it on; fix: {fix}"
            ),
        ),
        (false, _) => (
            Level::Crit,
            format!(
                "reduce_only_mode {preflight} but Phase {} needs {want}; fix: {fix}",
                phase.as_str().to_uppercase()
            ),
        ),
    };
    r.provenance(
        rec(target, "risk.reduce_only_mode", level)
            .value(preflight)
            .expect(want)
            .msg(msg),
    )
}

/// `risk.reduce_only_parsers`: the two parsers of RISK_REDUCE_ONLY_MODE disagree.
fn reduce_only_parsers(target: &str, env: &Env) -> Option<Record> {
    let set = env.get("RISK_REDUCE_ONLY_MODE")?;
    let preflight = set.value == "1";
    let bot = tolerant_bool(&set.value)?;
    (bot != preflight).then(|| {
        rec(target, "risk.reduce_only_parsers", Level::Warn)
            .value(set.value.as_str())
            .msg(format!(
                "RISK_REDUCE_ONLY_MODE={} reads {preflight} for preflight (RiskConfig.from_env: exactly \"1\") but {bot} for the bot (BotConfig: tolerant); write 1 or 0",
                py_repr(&set.value)
            ))
            .extra("preflight", preflight)
            .extra("bot", bot)
    })
}

/// `risk.unknown_var`: a RISK_*/CFM_* name the bot never reads.
pub fn unknown_records(target: &str, env: &Env) -> Vec<Record> {
    env.vars
        .iter()
        .filter(|(k, _)| !vars::known(k))
        .map(|(k, set)| {
            let hint = match vars::closest(k) {
                Some(c) => format!("; did you mean {c}?"),
                None => String::new(),
            };
            let mut r = rec(target, "risk.unknown_var", Level::Warn)
                .value(k.as_str())
                .msg(format!(
                    "{k} is not a variable the bot is known to read, so setting it changes nothing{hint}"
                ));
            if let Some(c) = vars::closest(k) {
                r = r.extra("closest", c);
            }
            if let Origin::File { line, .. } = &set.origin {
                r = r.extra("line", *line);
            }
            r
        })
        .collect()
}

/// `risk.env_file`: an entry that could not be read.
pub fn bad_records(target: &str, env: &Env) -> Vec<Record> {
    env.bad
        .iter()
        .map(|(at, why)| {
            Record::new(TOOL, target, Kind::Error, "risk.env_file", Level::Unknown)
                .value(at.as_str())
                .msg(format!("{at}: {why}; what the bot sees for it is unknown"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Set;

    fn env(vars: &[(&str, &str)]) -> Env {
        let mut env = Env::default();
        for (k, v) in vars {
            env.vars.insert(
                (*k).to_owned(),
                Set {
                    value: (*v).to_owned(),
                    origin: Origin::Env,
                    written: None,
                },
            );
        }
        env
    }

    /// The §1.3 bounds and their fixes are the shared table's numbers
    /// (the same check-profile holds the profile to), never re-spelled.
    #[test]
    fn bounds_and_fixes_state_the_shared_targets() {
        let env = env(&[
            ("RISK_MAX_LEVERAGE", "3"),
            ("RISK_MAX_POSITION_PCT_PER_SYMBOL", "0.2"),
            ("RISK_DAILY_LOSS_LIMIT_PCT", "0.3"),
        ]);
        let recs = bound_records("t", &readings(&env), &env, Phase::A);
        let rec = |n: &str| recs.iter().find(|r| r.name == n).expect(n);
        for (name, var, bound) in [
            (
                "risk.max_leverage",
                "RISK_MAX_LEVERAGE",
                MAX_LEVERAGE as f64,
            ),
            (
                "risk.max_position_pct_per_symbol",
                "RISK_MAX_POSITION_PCT_PER_SYMBOL",
                MAX_POSITION_FRACTION,
            ),
            (
                "risk.daily_loss_limit_pct",
                "RISK_DAILY_LOSS_LIMIT_PCT",
                MAX_DAILY_LOSS_LIMIT_PCT,
            ),
        ] {
            let r = rec(name);
            assert_eq!(r.level, Level::Crit, "{name}");
            assert_eq!(r.expect, Some(Value::from(format!("<= {bound}"))), "{name}");
            assert!(
                r.msg.contains(&format!("fix: {var}={bound}")),
                "{name}: {}",
                r.msg
            );
        }
        assert_eq!(
            check_profile::checks::MAX_POSITION_FRACTION,
            MAX_POSITION_FRACTION
        );
    }
}

//! Which bot a record speaks for when the canary runs next to production:
//! the top-level record field `role`, `canary` or `baseline`. Producers set
//! it from `--role`; a record without it is the canary's (every record
//! written before the field existed).

use crate::record::Record;
use serde_json::Value;
use std::fmt;

/// The record field that carries the role.
pub const FIELD: &str = "role";

/// A record whose `role` is neither name: whose evidence it is cannot be told.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} from {target}: field {FIELD} is {value}, neither \"canary\" nor \"baseline\"")]
pub struct RoleError {
    /// The record's name.
    pub name: String,
    /// The record's target.
    pub target: String,
    /// The `role` value as found.
    pub value: Value,
}

/// The canary under test, or the production bot it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum Role {
    /// The canary under test; also a record without a `role`.
    #[default]
    Canary,
    /// The production bot the canary is compared with.
    Baseline,
}

impl Role {
    /// The wire name (`canary`, `baseline`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Canary => "canary",
            Role::Baseline => "baseline",
        }
    }

    /// The role a record declares: absent is the canary; any value other
    /// than the two names is an error (a forged or garbled mark is never
    /// read as either side's evidence).
    pub fn of(rec: &Record) -> Result<Role, RoleError> {
        match rec.extra.get(FIELD) {
            None => Ok(Role::Canary),
            Some(Value::String(s)) if s == "canary" => Ok(Role::Canary),
            Some(Value::String(s)) if s == "baseline" => Ok(Role::Baseline),
            Some(other) => Err(RoleError {
                name: rec.name.clone(),
                target: rec.target.clone(),
                value: other.clone(),
            }),
        }
    }

    /// Mark a record. The canary's records stay unmarked (absent means
    /// canary), so a canary stream reads exactly as before.
    pub fn mark(self, rec: Record) -> Record {
        match self {
            Role::Canary => rec,
            Role::Baseline => rec.extra(FIELD, self.as_str()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kind, Level};

    fn rec() -> Record {
        Record::new("t", "h:1", Kind::Signal, "metrics.x", Level::Ok)
    }

    #[test]
    fn absent_is_canary_and_marks_round_trip() {
        assert_eq!(Role::of(&rec()), Ok(Role::Canary));
        assert_eq!(Role::of(&Role::Canary.mark(rec())), Ok(Role::Canary));
        assert!(!Role::Canary.mark(rec()).extra.contains_key(FIELD));
        let b = Role::Baseline.mark(rec());
        assert_eq!(Role::of(&b), Ok(Role::Baseline));
        let line = serde_json::to_string(&b).expect("json");
        assert!(line.contains(r#""role":"baseline""#), "{line}");
        assert_eq!(
            Role::of(&rec().extra(FIELD, "canary")),
            Ok(Role::Canary),
            "an explicit canary mark"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for v in [
            Value::from("production"),
            Value::from("Baseline"),
            Value::from(1),
            Value::Null,
        ] {
            let err = Role::of(&rec().extra(FIELD, v.clone())).expect_err("refused");
            assert_eq!(err.value, v);
        }
        assert_eq!(
            Role::of(&rec().extra(FIELD, "production"))
                .expect_err("refused")
                .to_string(),
            r#"metrics.x from h:1: field role is "production", neither "canary" nor "baseline""#
        );
    }
}

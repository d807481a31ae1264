//! Where the `RISK_*`/`CFM_*` values come from: the process environment or
//! an env file, each value with its provenance.

use crate::dotenv;
use crate::vars::in_scope;
use std::collections::BTreeMap;
use std::path::Path;

/// Where a value was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Env,
    File { path: String, line: u64 },
}

/// One set variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    pub value: String,
    pub origin: Origin,
}

/// The variables in scope, and the lines or entries that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: BTreeMap<String, Set>,
    /// (where, why) for unreadable entries.
    pub bad: Vec<(String, String)>,
}

impl Env {
    pub fn get(&self, name: &str) -> Option<&Set> {
        self.vars.get(name)
    }
}

/// The process environment.
pub fn from_process() -> Env {
    let mut env = Env::default();
    for (k, v) in std::env::vars_os() {
        let Some(key) = k.to_str() else { continue };
        if !in_scope(key) {
            continue;
        }
        match v.into_string() {
            Ok(value) => {
                env.vars.insert(
                    key.to_owned(),
                    Set {
                        value,
                        origin: Origin::Env,
                    },
                );
            }
            Err(_) => env
                .bad
                .push((format!("env {key}"), "value is not UTF-8".into())),
        }
    }
    env
}

/// An env file alone: what a service started with `EnvironmentFile=` sees.
pub fn from_file(path: &Path) -> anyhow::Result<Env> {
    let parsed = dotenv::read(path)?;
    let shown = path.display().to_string();
    let mut env = Env::default();
    for a in parsed.vars {
        if in_scope(&a.key) {
            env.vars.insert(
                a.key,
                Set {
                    value: a.value,
                    origin: Origin::File {
                        path: shown.clone(),
                        line: a.line,
                    },
                },
            );
        }
    }
    for b in parsed.bad {
        env.bad.push((format!("{shown}:{}", b.line), b.why));
    }
    Ok(env)
}

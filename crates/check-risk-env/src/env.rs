//! Where the `RISK_*`/`CFM_*` values come from: the process environment or
//! an env file, each value with its provenance.

use crate::dotenv;
use crate::vars::in_scope;
use canary_core::capped::CappedError;
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
    /// The value as written, when `${...}` expansion changed it.
    pub written: Option<String>,
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
                        written: None,
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

/// An env file as the bot's `load_dotenv` reads it: each value expanded
/// (`${VAR}`, `${VAR:-default}`) from the process environment, else from
/// the file's earlier lines; the process environment wins, as with
/// `load_dotenv(override=False)`. `RISK_*`/`CFM_*` in the process
/// environment are not mixed in: the file stands for the service's
/// environment. A `RISK_*`/`CFM_*` value that uses a name the file does not
/// set before it depends on the bot's own environment, not this one's, and
/// is reported as unreadable.
pub fn from_file(path: &Path) -> Result<Env, CappedError> {
    from_file_with(path, |name| std::env::var(name).ok())
}

/// `from_file` with an explicit process environment.
pub fn from_file_with(
    path: &Path,
    environ: impl Fn(&str) -> Option<String>,
) -> Result<Env, CappedError> {
    let parsed = dotenv::read(path)?;
    let shown = path.display().to_string();
    let mut env = Env::default();
    let mut so_far: BTreeMap<String, String> = BTreeMap::new();
    // Names whose value was refused: whatever uses them is unknown too.
    let mut refused: std::collections::BTreeSet<String> = Default::default();
    // Names whose value depends on the bot's own process environment.
    let mut outside: std::collections::BTreeSet<String> = Default::default();
    for a in parsed.vars {
        let uses_refused = std::cell::Cell::new(None::<String>);
        let uses_outside = std::cell::Cell::new(None::<String>);
        let expanded = dotenv::expand_capped(&a.value, dotenv::MAX_EXPANDED, |name| {
            // A name the file does not set before this line (or set from
            // such a name) comes from the bot's process environment, which
            // is not the checker's: its value here proves nothing.
            if !so_far.contains_key(name) || outside.contains(name) {
                uses_outside.set(Some(name.to_owned()));
            }
            environ(name).or_else(|| {
                if refused.contains(name) {
                    uses_refused.set(Some(name.to_owned()));
                }
                so_far.get(name).cloned()
            })
        });
        let from_outside = uses_outside.take();
        let why = match (&expanded, uses_refused.take(), &from_outside) {
            (None, _, _) => Some(format!(
                "{} expands to more than {} bytes: refused",
                a.key,
                dotenv::MAX_EXPANDED
            )),
            (Some(_), Some(name), _) => Some(format!(
                "{} uses {name}, whose value was refused above",
                a.key
            )),
            (Some(_), None, Some(name)) if in_scope(&a.key) => Some(format!(
                "{} uses ${{{name}}}, which the file does not set before it: the bot's load_dotenv takes it from the bot's own environment, which this check cannot see; write the value itself",
                a.key
            )),
            _ => None,
        };
        match from_outside {
            Some(_) => outside.insert(a.key.clone()),
            None => outside.remove(&a.key),
        };
        let (Some(value), None) = (expanded, why.clone()) else {
            env.bad
                .push((format!("{shown}:{}", a.line), why.unwrap_or_default()));
            // The bot would hold some value; canary-kit cannot say which.
            env.vars.remove(&a.key);
            so_far.remove(&a.key);
            refused.insert(a.key);
            continue;
        };
        refused.remove(&a.key);
        so_far.insert(a.key.clone(), value.clone());
        if in_scope(&a.key) {
            let written = (value != a.value).then(|| a.value.clone());
            env.vars.insert(
                a.key,
                Set {
                    value,
                    origin: Origin::File {
                        path: shown.clone(),
                        line: a.line,
                    },
                    written,
                },
            );
        }
    }
    for b in parsed.bad {
        env.bad.push((format!("{shown}:{}", b.line), b.why));
    }
    Ok(env)
}

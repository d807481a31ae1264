//! Rules: every criterion of runbook §4 as a named jq filter, loaded from
//! YAML (the embedded default set, then `--rules FILE` overriding by name or
//! extending), and compiled once for the phase being judged.

use crate::jq::{CompileError, Program};
use canary_core::duration::{DurationError, parse_duration};
use canary_core::signals::{self, SIGNALS, Signal};
use canary_core::{Level, Phase};
use serde::Deserialize;
use std::time::Duration;

/// The default rule set, `examples/rules/default.yaml`, built into the binary.
pub const DEFAULT_RULES: &str = include_str!("../../../examples/rules/default.yaml");

/// Largest rules file accepted.
const MAX_RULES_BYTES: u64 = 1 << 20;

/// What a firing rule does to the decision (docs/judge.md, "Actions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A CRIT signal or global pause: no-go at the start gate, stop in
    /// Phase A, rollback in Phase B.
    Stop,
    /// Guard trips: pause in Phase B (stop in Phase A, no-go at the start gate).
    Pause,
    /// A promotion or advance criterion: while firing (or if it ever held for
    /// its `for` in the window) the phase cannot advance or promote.
    Require,
    /// Reported in `--explain` and the reasons; never changes the decision.
    Note,
}

/// How much evidence a rule needs before the phase may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// None: the rule only ever blocks when it fires.
    #[default]
    None,
    /// Its latest evaluation must be known (true/false), clear, and fresh.
    Current,
    /// At least one known evaluation in the window, and its latest record fresh.
    Window,
    /// As `current`, and its known evaluations cover the phase's window:
    /// they start within the max age of the window start and no two
    /// consecutive ones are further apart than the max age (docs/judge.md,
    /// "Coverage"). At the start gate (no window) the same as `current`.
    Coverage,
}

/// A rule as written in YAML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    #[serde(default)]
    pub phases: Option<Vec<Phase>>,
    /// Record names the filter is run on (`*` at the end matches any
    /// suffix); all records when absent.
    #[serde(default)]
    pub names: Option<Vec<String>>,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub level: Option<Level>,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default, rename = "for")]
    pub for_: Option<String>,
    #[serde(default)]
    pub evidence: Option<Evidence>,
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub msg: Option<String>,
    /// The criterion the rule proves, named apart from its firing text:
    /// what a hold says is missing (docs/judge.md, "The evidence model").
    #[serde(default)]
    pub criterion: Option<String>,
    /// `--rules` only: drop the default rule of this name.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<RuleSpec>,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub names: Option<Vec<String>>,
    pub program: Program,
    pub level: Level,
    pub action: Action,
    pub for_: Duration,
    pub evidence: Evidence,
    pub max_age: Option<Duration>,
    pub threshold: Option<f64>,
    pub msg: String,
    /// The criterion it proves (default: the rule's name).
    pub criterion: String,
    /// The filter mentions `ts`: it is run on every record, never memoised.
    pub reads_ts: bool,
}

/// Does jq text use the word `ts` (`.ts`, `"ts"`, `$ts`)?
fn mentions_ts(code: &str) -> bool {
    let b = code.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    code.match_indices("ts")
        .any(|(i, _)| (i == 0 || !word(b[i - 1])) && b.get(i + 2).is_none_or(|c| !word(*c)))
}

impl Rule {
    /// Is a record of this name evidence this rule looks at?
    pub fn wants(&self, name: &str) -> bool {
        match &self.names {
            None => true,
            Some(pats) => pats.iter().any(|p| match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => p == name,
            }),
        }
    }
}

/// A rules file that cannot be used. Names the file or the rule and, for
/// jq, the position in its filter.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The `--rules` file cannot be opened or read.
    #[error("{}: {why}", .path.display())]
    Io {
        path: std::path::PathBuf,
        why: std::io::Error,
    },
    /// The `--rules` file is over the cap.
    #[error("{}: larger than {cap} bytes", .path.display())]
    TooLarge { path: std::path::PathBuf, cap: u64 },
    /// Not a rules file: YAML or shape. `file` names it.
    #[error("{file}: {why}")]
    Parse {
        file: String,
        /// Boxed: the parser's error is large, and rules errors are rare.
        why: Box<serde_saphyr::Error>,
    },
    /// One rule is wrong.
    #[error("rule '{rule}': {why}")]
    Rule { rule: String, why: RuleProblem },
    /// One rule's filter is not jq judge can run.
    #[error(
        "rule '{rule}': filter does not compile at line {}, column {}: {}",
        .err.line,
        .err.column,
        .err.what
    )]
    Filter { rule: String, err: CompileError },
}

/// What is wrong with one rule.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuleProblem {
    #[error("a rule needs a name")]
    NoName,
    #[error("defined twice in one file")]
    Twice,
    #[error("has no filter")]
    NoFilter,
    /// `msg`, `criterion` or `for` has a placeholder the table cannot fill.
    #[error("{field}: {why}")]
    Text {
        field: &'static str,
        why: signals::RenderError,
    },
    /// `for` or `max_age` is no duration.
    #[error("{field}: {why}")]
    Duration {
        field: &'static str,
        why: DurationError,
    },
    /// The filter reads `$thresholds.KEY` for a key that is no signal.
    #[error(
        "filter reads $thresholds.{key}, which is not a signal (keys: {})",
        .keys.join(", ")
    )]
    UnknownKey {
        key: String,
        keys: Vec<&'static str>,
    },
    /// The filter reads a threshold field other than warn, crit and unit.
    #[error("filter reads $thresholds.{key}.{field}: a threshold has warn, crit and unit")]
    UnknownField { key: &'static str, field: String },
}

fn parse_file(text: &str, source: &str) -> Result<Vec<RuleSpec>, RulesError> {
    serde_saphyr::from_str::<RuleFile>(text)
        .map(|f| f.rules)
        .map_err(|why| RulesError::Parse {
            file: source.to_owned(),
            why: Box::new(why),
        })
}

/// Read a `--rules` file (size-capped).
pub fn read_rules_file(path: &std::path::Path) -> Result<String, RulesError> {
    use std::io::Read;
    let io = |why| RulesError::Io {
        path: path.to_owned(),
        why,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    file.take(MAX_RULES_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(io)?;
    if text.len() as u64 > MAX_RULES_BYTES {
        return Err(RulesError::TooLarge {
            path: path.to_owned(),
            cap: MAX_RULES_BYTES,
        });
    }
    Ok(text)
}

/// The default rules, with `overrides` (the text of a `--rules` file)
/// applied: a rule of the same name replaces the default's fields it sets,
/// `disabled: true` removes it, a new name is appended.
pub fn merged_specs(overrides: Option<(&str, &str)>) -> Result<Vec<RuleSpec>, RulesError> {
    let mut specs = parse_file(DEFAULT_RULES, "built-in default rules")?;
    if let Some((text, source)) = overrides {
        for new in parse_file(text, source)? {
            match specs.iter_mut().find(|s| s.name == new.name) {
                Some(old) => merge(old, new),
                None => specs.push(new),
            }
        }
    }
    specs.retain(|s| !s.disabled);
    Ok(specs)
}

fn merge(old: &mut RuleSpec, new: RuleSpec) {
    macro_rules! take {
        ($($f:ident),*) => { $( if new.$f.is_some() { old.$f = new.$f; } )* };
    }
    take!(
        phases, names, filter, level, action, for_, evidence, max_age, threshold, msg, criterion
    );
    old.disabled = new.disabled;
}

/// Every `$thresholds.KEY.FIELD` a filter spells must be in the table: jq
/// reads a missing one as null, and `.value >= null` holds for any number,
/// so a typo would silently fire (or, negated, silently clear) the rule.
fn check_threshold_paths(code: &str, table: &[Signal]) -> Result<(), RuleProblem> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (at, _) in code.match_indices("$thresholds.") {
        let rest = &code[at + "$thresholds.".len()..];
        let key_end = rest.find(|c: char| !ident(c)).unwrap_or(rest.len());
        let key = &rest[..key_end];
        let Some(sig) = signals::by_key(table, key) else {
            return Err(RuleProblem::UnknownKey {
                key: key.to_owned(),
                keys: table.iter().map(|s| s.key).collect(),
            });
        };
        if let Some(after) = rest[key_end..].strip_prefix('.') {
            let field_end = after.find(|c: char| !ident(c)).unwrap_or(after.len());
            let field = &after[..field_end];
            if !matches!(field, "warn" | "crit" | "unit") {
                return Err(RuleProblem::UnknownField {
                    key: sig.key,
                    field: field.to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// A rule's sentences and `for:` with every `{KEY.FIELD}` filled from
/// `table` (the one signal table in use: `canary_core::signals::SIGNALS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    pub msg: String,
    pub criterion: String,
    pub for_: Option<String>,
}

/// Render a rule's `msg`, `criterion` and `for` from `table`. A placeholder
/// the table cannot fill is an error naming the rule and the field.
pub fn render_texts(spec: &RuleSpec, table: &[Signal]) -> Result<Texts, RulesError> {
    let fill = |text: &str, field: &'static str| {
        signals::render(text, table).map_err(|why| RulesError::Rule {
            rule: spec.name.clone(),
            why: RuleProblem::Text { field, why },
        })
    };
    Ok(Texts {
        msg: fill(spec.msg.as_deref().unwrap_or_default(), "msg")?,
        criterion: fill(spec.criterion.as_deref().unwrap_or(&spec.name), "criterion")?,
        for_: spec.for_.as_deref().map(|f| fill(f, "for")).transpose()?,
    })
}

/// Compile the rules that apply in `phase`. Every rule's texts are
/// rendered, and its `$thresholds` paths checked, first, in any phase: a
/// bad placeholder or threshold never waits for the phase that uses it.
pub fn compile(specs: &[RuleSpec], phase: Phase) -> Result<Vec<Rule>, RulesError> {
    let mut rules = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for spec in specs {
        let rule_err = |why: RuleProblem| RulesError::Rule {
            rule: spec.name.clone(),
            why,
        };
        if spec.name.trim().is_empty() {
            return Err(rule_err(RuleProblem::NoName));
        }
        if !seen.insert(spec.name.clone()) {
            return Err(rule_err(RuleProblem::Twice));
        }
        let texts = render_texts(spec, &SIGNALS)?;
        if let Some(code) = &spec.filter {
            check_threshold_paths(code, &SIGNALS).map_err(rule_err)?;
        }
        if let Some(phases) = &spec.phases
            && !phases.contains(&phase)
        {
            continue;
        }
        let code = spec
            .filter
            .as_deref()
            .ok_or_else(|| rule_err(RuleProblem::NoFilter))?;
        let program = Program::compile(code, phase).map_err(|err| RulesError::Filter {
            rule: spec.name.clone(),
            err,
        })?;
        let dur = |d: &Option<String>, field| -> Result<Option<Duration>, RulesError> {
            d.as_deref()
                .map(|t| {
                    parse_duration(t).map_err(|why| rule_err(RuleProblem::Duration { field, why }))
                })
                .transpose()
        };
        let level = spec.level.unwrap_or(Level::Crit);
        rules.push(Rule {
            name: spec.name.clone(),
            names: spec.names.clone(),
            program,
            level,
            action: spec.action.unwrap_or(match level {
                Level::Crit => Action::Stop,
                _ => Action::Note,
            }),
            for_: dur(&texts.for_, "for")?.unwrap_or_default(),
            evidence: spec.evidence.unwrap_or_default(),
            max_age: dur(&spec.max_age, "max_age")?,
            threshold: spec.threshold,
            msg: texts.msg,
            criterion: texts.criterion,
            reads_ts: mentions_ts(code),
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_compile_in_every_phase() {
        let specs = merged_specs(None).expect("default rules parse");
        for phase in [Phase::Start, Phase::A, Phase::B] {
            let rules = compile(&specs, phase).expect("default rules compile");
            assert!(!rules.is_empty());
        }
    }

    #[test]
    fn overrides_replace_fields_disable_and_extend() {
        let text = "rules:\n  - name: order-error-rate-crit\n    for: 0s\n  - name: reduce-only-mode\n    disabled: true\n  - name: mine\n    filter: 'false'\n";
        let specs = merged_specs(Some((text, "x.yaml"))).expect("parses");
        let crit = specs
            .iter()
            .find(|s| s.name == "order-error-rate-crit")
            .expect("kept");
        assert_eq!(crit.for_.as_deref(), Some("0s"));
        assert!(crit.filter.is_some(), "unset fields keep the default");
        assert!(specs.iter().all(|s| s.name != "reduce-only-mode"));
        assert!(specs.iter().any(|s| s.name == "mine"));
    }

    #[test]
    fn bad_filter_is_named_with_its_column() {
        let text = "rules:\n  - name: broken\n    filter: '.value >= )'\n";
        let specs = merged_specs(Some((text, "x.yaml"))).expect("parses");
        let err = compile(&specs, Phase::B).expect_err("fails");
        let text = err.to_string();
        assert!(text.contains("rule 'broken'"), "{text}");
        assert!(text.contains("column 11"), "{text}");
    }

    #[test]
    fn filters_reading_the_time_are_found() {
        assert!(mentions_ts(".ts > \"2026\""));
        assert!(mentions_ts(".[\"ts\"]"));
        assert!(!mentions_ts("at_least($thresholds.guard_trips.crit)"));
        assert!(!mentions_ts(".tsx or .lots"));
    }

    /// The table with every threshold and `for:` moved to a value no
    /// default text spells.
    fn mutated_table() -> [Signal; SIGNALS.len()] {
        let mut table = SIGNALS;
        for (i, s) in table.iter_mut().enumerate() {
            let i = i as f64;
            let t = &mut s.threshold;
            (t.warn, t.crit) = match t.unit {
                canary_core::thresholds::Unit::Ratio => (0.4321 + i / 1000.0, 0.8765 + i / 1000.0),
                _ => (4321.0 + i, 8765.0 + i),
            };
            if let Some(a) = &mut s.alerting {
                a.warn_for = Duration::from_secs(17 * 60 + i as u64);
                a.crit_for = Duration::from_secs(13 * 60 + i as u64);
            }
        }
        table
    }

    /// The numbers in `text` that stand alone: not a section (`§3.1`), not
    /// part of a word (`p95`, `v1`).
    fn numbers(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let standalone = prev.is_none_or(|p| !(p.is_alphanumeric() || "_§.-".contains(p)));
            if chars[i].is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                if standalone {
                    out.push(chars[start..i].iter().collect::<String>());
                }
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn every_default_text_renders_from_a_mutated_table_with_no_stale_number() {
        let table = mutated_table();
        let mut stated: Vec<String> = table
            .iter()
            .flat_map(|s| [s.threshold.warn_text(), s.threshold.crit_text()])
            .collect();
        // Longest first, so `43.21 %` goes before any shorter value inside it.
        stated.sort_by_key(|s| std::cmp::Reverse(s.len()));
        let specs = merged_specs(None).expect("default rules parse");
        let mut placeholders = 0;
        for spec in &specs {
            let raw = [
                spec.msg.as_deref(),
                spec.criterion.as_deref(),
                spec.for_.as_deref(),
            ];
            placeholders += raw.iter().flatten().filter(|t| t.contains('{')).count();
            let texts = render_texts(spec, &table).expect("every placeholder resolves");
            for text in [&texts.msg, &texts.criterion] {
                assert!(!text.contains(['{', '}']), "{}: {text}", spec.name);
                let mut rest = text.clone();
                for v in &stated {
                    rest = rest.replace(v.as_str(), "");
                }
                // 503 is an HTTP status, not a threshold.
                let stale: Vec<String> =
                    numbers(&rest).into_iter().filter(|n| n != "503").collect();
                assert!(stale.is_empty(), "{}: {stale:?} in {text}", spec.name);
            }
            if let Some(f) = &texts.for_ {
                let d = parse_duration(f).expect("a rendered for: parses");
                let table_fors: Vec<Duration> = table
                    .iter()
                    .filter_map(|s| s.alerting)
                    .flat_map(|a| [a.warn_for, a.crit_for])
                    .collect();
                assert!(
                    table_fors.contains(&d),
                    "{}: for {f} is not the table's",
                    spec.name
                );
            }
        }
        assert!(
            placeholders >= 20,
            "only {placeholders} texts read the table"
        );
    }

    #[test]
    fn default_texts_under_the_real_table_say_the_runbook_numbers() {
        let specs = merged_specs(None).expect("default rules parse");
        let rules = compile(&specs, Phase::B).expect("compiles");
        let rule = |n: &str| rules.iter().find(|r| r.name == n).expect(n);
        assert_eq!(
            rule("order-error-rate-crit").msg,
            "order error rate at or above 15 % (runbook §3.1)"
        );
        assert_eq!(rule("order-error-rate-crit").for_, Duration::from_secs(60));
        assert!(
            rule("broker-latency-warn")
                .msg
                .contains("below 1000 ms sustained")
        );
        assert!(
            rule("guard-trips-pause")
                .msg
                .starts_with("at least 10 guard trips")
        );
    }

    #[test]
    fn an_unknown_placeholder_is_a_load_error_naming_rule_and_field() {
        for (text, field) in [
            (
                "rules:\n  - name: mine\n    filter: 'false'\n    msg: 'above {order_error_rate.critical}'\n",
                "msg",
            ),
            (
                "rules:\n  - name: mine\n    filter: 'false'\n    phases: [a]\n    criterion: '{nosuch.warn}'\n",
                "criterion",
            ),
            (
                "rules:\n  - name: mine\n    filter: 'false'\n    for: '{ws_staleness.crit_for}'\n",
                "for",
            ),
        ] {
            let specs = merged_specs(Some((text, "x.yaml"))).expect("parses");
            // Phase B, although the second rule only runs in Phase A.
            let err = compile(&specs, Phase::B).expect_err("fails").to_string();
            assert!(err.starts_with("rule 'mine': "), "{err}");
            assert!(
                err.contains(field) && err.contains("unknown placeholder"),
                "{err}"
            );
        }
        let text = "rules:\n  - name: mine\n    filter: 'false'\n    msg: 'literal {{braces}}'\n";
        let specs = merged_specs(Some((text, "x.yaml"))).expect("parses");
        let rules = compile(&specs, Phase::B).expect("compiles");
        let mine = rules.iter().find(|r| r.name == "mine").expect("mine");
        assert_eq!(mine.msg, "literal {braces}");
    }

    /// `other-metrics-crit` catches any CRIT metrics signal no rule of its
    /// own judges: every metrics signal of the table has its own rules, so
    /// each must be excepted there, or one CRIT would be reported twice.
    #[test]
    fn other_metrics_crit_excepts_every_metrics_signal_of_the_table() {
        let specs = merged_specs(None).expect("default rules parse");
        let other = specs
            .iter()
            .find(|s| s.name == "other-metrics-crit")
            .and_then(|s| s.filter.as_deref())
            .expect("other-metrics-crit");
        for s in SIGNALS.iter().filter(|s| s.record.starts_with("metrics.")) {
            assert!(
                other.contains(&format!(".name == \"{}\"", s.record)),
                "{} is not excepted",
                s.record
            );
            let own = specs.iter().filter(|r| {
                r.name != "other-metrics-crit" && r.names.iter().flatten().any(|n| n == s.record)
            });
            assert!(own.count() > 0, "{} has no rule of its own", s.record);
        }
    }

    #[test]
    fn a_filter_reading_a_threshold_the_table_lacks_is_a_load_error() {
        for (filter, says) in [
            (
                "at_least($thresholds.order_eror_rate.crit)",
                "order_eror_rate",
            ),
            (
                "at_least($thresholds.guard_trips.critical)",
                "guard_trips.critical",
            ),
        ] {
            // Phase A only: refused all the same when judging Phase B.
            let text = format!("rules:\n  - name: mine\n    phases: [a]\n    filter: '{filter}'\n");
            let specs = merged_specs(Some((&text, "x.yaml"))).expect("parses");
            let err = compile(&specs, Phase::B).expect_err("refused").to_string();
            assert!(
                err.starts_with("rule 'mine': filter reads $thresholds."),
                "{err}"
            );
            assert!(err.contains(says), "{err}");
        }
        let ok = "rules:\n  - name: mine\n    filter: 'at_least($thresholds.ws_staleness.warn) and ($thresholds | length) > 0'\n";
        let specs = merged_specs(Some((ok, "x.yaml"))).expect("parses");
        assert!(compile(&specs, Phase::B).is_ok());
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = "rules:\n  - name: x\n    filtre: 'true'\n";
        assert!(merged_specs(Some((text, "x.yaml"))).is_err());
    }
}

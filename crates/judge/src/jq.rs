//! Rule filters as jq, compiled and run with jaq-core over one record at a time.

use crate::eval::{EvalError, Outcome, threshold_table};
use crate::native::Native;
use canary_core::record::Record;
use jaq_core::load::{Arena, File, Loader, lex, parse};
use jaq_core::{Compiler, Ctx, Vars, data};
use jaq_json::Val;
use serde_json::Value;

/// Helpers every rule filter can call. A filter yields `true` (the rule
/// fires), `false` (evidence that it does not), `null` (evidence that could
/// not be judged: unknown) or nothing (the record is not evidence for it).
pub const PRELUDE: &str = r#"
def known: .kind != "error" and .level != "unknown";
def at_least($t): if known and (.value | type) == "number" then .value >= $t else null end;
def is_crit: if known then .level == "crit" else null end;
def is_level($l): if known then .level == $l else null end;
def evidence: if known then false else null end;
def unknown_evidence: known | not;
"#;

/// Global variables every filter sees: `$phase` ("start", "a" or "b") and
/// `$thresholds`, the thresholds of `canary_core::signals::SIGNALS` by key.
const GLOBALS: [&str; 2] = ["$phase", "$thresholds"];

/// A compiled rule filter.
pub struct Program {
    filter: jaq_core::Filter<data::JustLut<Val>>,
    globals: [Val; 2],
    /// The filter's built-in shape, evaluated without jaq (native.rs).
    native: Option<Native>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Program")
    }
}

/// A filter that does not compile: what and where (1-based line and column
/// within the filter text).
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub what: String,
}

fn position(code: &str, part: &str) -> (usize, usize) {
    let start = (part.as_ptr() as usize)
        .checked_sub(code.as_ptr() as usize)
        .filter(|s| *s <= code.len())
        .unwrap_or(0);
    let before = code.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn lex_expect(e: &lex::Expect<&str>) -> &'static str {
    match e {
        lex::Expect::Digit => "digit",
        lex::Expect::Ident => "identifier",
        lex::Expect::Delim("(") => "closing parenthesis",
        lex::Expect::Delim("[") => "closing bracket",
        lex::Expect::Delim("{") => "closing brace",
        lex::Expect::Delim("\"") => "closing quote",
        lex::Expect::Delim(_) => "closing delimiter",
        lex::Expect::Escape => "string escape sequence",
        lex::Expect::Unicode => "4-digit hexadecimal code point",
        _ => "token",
    }
}

fn phase_val(phase: canary_core::Phase) -> Val {
    Val::from(phase.as_str().to_owned())
}

fn thresholds_val() -> Val {
    let mut map = serde_json::Map::new();
    for (name, t) in threshold_table() {
        map.insert(
            name.to_owned(),
            serde_json::json!({"warn": t.warn, "crit": t.crit, "unit": t.unit.as_str()}),
        );
    }
    json_to_val(&Value::Object(map))
}

impl Program {
    /// Compile `code` (with the prelude) for `phase`.
    pub fn compile(code: &str, phase: canary_core::Phase) -> Result<Program, CompileError> {
        let prelude = parse(PRELUDE, |p| p.defs()).ok_or_else(|| CompileError {
            line: 0,
            column: 0,
            what: "the built-in prelude does not parse".into(),
        })?;
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .chain(prelude);
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let arena = Arena::default();
        let loader = Loader::new(defs);
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errs| {
                let mut first = None;
                for (_, err) in &errs {
                    let found = match err {
                        jaq_core::load::Error::Io(v) => v
                            .first()
                            .map(|(p, m)| (*p, format!("cannot load module: {m}"))),
                        jaq_core::load::Error::Lex(v) => v
                            .first()
                            .map(|(e, at)| (*at, format!("expected {}", lex_expect(e)))),
                        jaq_core::load::Error::Parse(v) => v
                            .first()
                            .map(|(e, at)| (*at, format!("expected {}", e.as_str()))),
                    };
                    if first.is_none() {
                        first = found;
                    }
                }
                let (at, what) = first.unwrap_or((code, "does not parse".into()));
                let (line, column) = position(code, at);
                CompileError { line, column, what }
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars(GLOBALS)
            .compile(modules)
            .map_err(|errs| {
                let found = errs
                    .iter()
                    .flat_map(|(_, v)| v.iter())
                    .next()
                    .map(|(at, undef)| (*at, format!("undefined {}: {at}", undef.as_str())));
                let (at, what) = found.unwrap_or((code, "does not compile".into()));
                let (line, column) = position(code, at);
                CompileError { line, column, what }
            })?;
        Ok(Program {
            filter,
            globals: [phase_val(phase), thresholds_val()],
            native: Native::recognise(code, phase),
        })
    }

    /// The filter's native shape, if it has one.
    pub fn native(&self) -> Option<&Native> {
        self.native.as_ref()
    }

    /// Run on one record: natively when the filter has a built-in shape
    /// that decides it, else with jaq on `val`, the record's jq value,
    /// built on first need and shared by the rules run on the same record.
    pub fn eval_record(
        &self,
        rec: &Record,
        val: &mut Option<Val>,
    ) -> Result<Option<Outcome>, EvalError> {
        if let Some(out) = self.native.as_ref().and_then(|n| n.eval(rec)) {
            return out;
        }
        let v = val.get_or_insert_with(|| record_to_val(rec)).clone();
        self.eval(v)
    }

    /// Run on one input: `None` when the filter yields nothing (not
    /// evidence), else the outcome of its first output. A runtime error or a
    /// non-boolean output is an `Err` with its description.
    pub fn eval(&self, input: Val) -> Result<Option<Outcome>, EvalError> {
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new(self.globals.clone()));
        let mut out = self.filter.id.run((ctx, input));
        match out.next() {
            None => Ok(None),
            Some(Ok(Val::Bool(true))) => Ok(Some(Outcome::Fire)),
            Some(Ok(Val::Bool(false))) => Ok(Some(Outcome::Clear)),
            Some(Ok(Val::Null)) => Ok(Some(Outcome::Unknown)),
            Some(Ok(other)) => Err(EvalError::NotBoolean(other.to_string())),
            // Never `unwrap_valr`: on `halt` it would exit the process.
            Some(Err(e)) => Err(match e.get_err() {
                Ok(err) => EvalError::Runtime(err.to_string()),
                Err(_) => EvalError::Halt,
            }),
        }
    }
}

/// A record as the jq value a filter sees: exactly its JSON form.
pub fn record_to_val(rec: &Record) -> Val {
    let mut map = jaq_json::Map::default();
    let s = |x: &str| Val::from(x.to_owned());
    map.insert(s("v"), Val::from(rec.v as isize));
    map.insert(s("ts"), s(&rec.ts.to_string()));
    map.insert(s("tool"), s(&rec.tool));
    map.insert(s("target"), s(&rec.target));
    map.insert(s("kind"), s(kind_str(rec.kind)));
    map.insert(s("name"), s(&rec.name));
    map.insert(s("level"), s(rec.level.as_str()));
    map.insert(s("value"), json_to_val(&rec.value));
    if let Some(e) = &rec.expect {
        map.insert(s("expect"), json_to_val(e));
    }
    if let Some(t) = &rec.thresholds {
        let mut tm = jaq_json::Map::default();
        tm.insert(s("warn"), Val::from(t.warn));
        tm.insert(s("crit"), Val::from(t.crit));
        map.insert(s("thresholds"), Val::obj(tm));
    }
    map.insert(s("msg"), s(&rec.msg));
    for (k, v) in &rec.extra {
        map.insert(s(k), json_to_val(v));
    }
    Val::obj(map)
}

pub fn kind_str(kind: canary_core::Kind) -> &'static str {
    use canary_core::Kind;
    match kind {
        Kind::Check => "check",
        Kind::Signal => "signal",
        Kind::Sample => "sample",
        Kind::Verdict => "verdict",
        Kind::Step => "step",
        Kind::Error => "error",
    }
}

/// A JSON value as a jq value.
pub fn json_to_val(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => match n.as_i64().and_then(|i| isize::try_from(i).ok()) {
            Some(i) => Val::from(i),
            None => Val::from(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Val::from(s.clone()),
        Value::Array(a) => a.iter().map(json_to_val).collect(),
        Value::Object(o) => {
            let mut map = jaq_json::Map::default();
            for (k, v) in o {
                map.insert(Val::from(k.clone()), json_to_val(v));
            }
            Val::obj(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::{Kind, Level, Phase};

    fn rec(value: f64, level: Level) -> Record {
        Record::new("t", "x", Kind::Signal, "metrics.order_error_rate", level).value(value)
    }

    #[test]
    fn at_least_is_inclusive_and_unknown_aware() {
        let p = Program::compile("at_least($thresholds.order_error_rate.warn)", Phase::B)
            .expect("compiles");
        let eval = |r: &Record| p.eval(record_to_val(r)).expect("runs");
        assert_eq!(eval(&rec(0.05, Level::Warn)), Some(Outcome::Fire));
        assert_eq!(eval(&rec(0.0499, Level::Ok)), Some(Outcome::Clear));
        let unknown = Record::new("t", "x", Kind::Signal, "m", Level::Unknown);
        assert_eq!(eval(&unknown), Some(Outcome::Unknown));
    }

    #[test]
    fn empty_output_is_not_evidence_and_phase_is_bound() {
        let p = Program::compile(r#"select($phase == "a") | true"#, Phase::B).expect("compiles");
        assert_eq!(p.eval(record_to_val(&rec(1.0, Level::Ok))), Ok(None));
    }

    #[test]
    fn compile_errors_carry_line_and_column() {
        let err = Program::compile(".value >= ", Phase::A).expect_err("fails");
        assert_eq!(err.line, 1);
        assert!(err.column >= 10, "{err:?}");
        let err = Program::compile("nosuchfn(1)", Phase::A).expect_err("fails");
        assert_eq!((err.line, err.column), (1, 1), "{err:?}");
        assert!(err.what.contains("nosuchfn"), "{err:?}");
    }

    #[test]
    fn non_boolean_output_is_an_error() {
        let run = |code| {
            let p = Program::compile(code, Phase::A).expect("compiles");
            p.eval(record_to_val(&rec(1.0, Level::Ok)))
        };
        assert_eq!(run(".value"), Err(EvalError::NotBoolean("1.0".into())));
        assert_eq!(
            run(".value").map_err(|e| e.to_string()),
            Err("yielded 1.0, expected true, false, null or nothing".into())
        );
        assert!(matches!(run("error(\"boom\")"), Err(EvalError::Runtime(_))));
        assert_eq!(run("halt"), Err(EvalError::Halt));
    }
}

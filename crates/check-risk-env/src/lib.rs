//! `check-risk-env`: the runbook §1.3 environment gate, told the way the bot
//! really parses `RISK_*`. See `docs/config-gates.md`.

#![forbid(unsafe_code)]

pub mod cli;
mod docs;
mod dotenv;
mod env;
mod error;
mod evaluate;
mod mismatch;
mod vars;

use anyhow::Context;
use canary_core::{Exit, Phase, Record, diag, ndjson::stdout_writer_for};
use check_profile::load;
use cli::Cli;
use std::io::Write;

/// Every record for an environment and phase.
pub(crate) fn records(target: &str, env: &env::Env, phase: Phase) -> Vec<Record> {
    let readings = evaluate::readings(env);
    let mut out = evaluate::bad_records(target, env);
    out.push(evaluate::from_env_record(target, &readings, phase));
    out.push(evaluate::bot_start_record(target, env, phase));
    out.push(evaluate::preflight_ranges_record(target, &readings));
    out.extend(evaluate::bound_records(target, &readings, env, phase));
    out.extend(evaluate::unknown_records(target, env));
    out
}

/// The record for an input that cannot be read: its evidence is unknown.
pub(crate) fn unreadable_record(target: &str, name: &str, what: &str, why: &str) -> Record {
    Record::new(
        evaluate::TOOL,
        target,
        canary_core::Kind::Error,
        name,
        canary_core::Level::Unknown,
    )
    .value(target)
    .msg(format!(
        "{target}: {why}; what the bot would read from this {what} is unknown"
    ))
}

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let phase: Phase = cli.phase.into();
    let mut recs = Vec::new();
    let env = match &cli.env_file {
        Some(path) => {
            let shown = path.display().to_string();
            match env::from_file(path) {
                Ok(env) => Some((shown, env)),
                Err(e) => {
                    diag(evaluate::TOOL, "error", &format!("{shown}: {e}"));
                    recs.push(unreadable_record(
                        &shown,
                        "risk.env_file",
                        "env file",
                        &e.to_string(),
                    ));
                    None
                }
            }
        }
        None => Some(("env".to_owned(), env::from_process())),
    };
    if let Some((target, env)) = &env {
        for (at, why) in &env.bad {
            diag(evaluate::TOOL, "error", &format!("{at}: {why}"));
        }
        recs.extend(records(target, env, phase));
    }
    if let Some(p) = &cli.profile {
        let path = load::resolve(p, &cli.profiles_dir);
        let shown = path.display().to_string();
        let loaded =
            load::read_text(&path).and_then(|text| load::load(&text, &load::profile_name(&path)));
        match (loaded, &env) {
            (Ok(loaded), Some((target, env))) => {
                let readings = evaluate::readings(env);
                recs.extend(mismatch::records(
                    target,
                    &shown,
                    &readings,
                    &loaded.effective(),
                ));
            }
            (Ok(_), None) => {}
            (Err(e), _) => {
                diag(evaluate::TOOL, "error", &format!("{shown}: {e}"));
                recs.push(unreadable_record(
                    &shown,
                    "risk.profile_read",
                    "profile",
                    &e.to_string(),
                ));
            }
        }
    }
    let exit = recs
        .iter()
        .fold(Exit::Clean, |e, r| e.worst(Exit::from_level(r.level)));
    if cli.with_docs {
        // No table of defaults for a file that could not be read: the
        // error on stderr and exit 2 say so.
        let Some((_, env)) = &env else {
            return Ok(exit);
        };
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        docs::table(&mut lock, &evaluate::readings(env)).context("writing the table")?;
        lock.flush().context("writing the table")?;
        return Ok(exit);
    }
    let mut out = stdout_writer_for(&cli.output, false);
    for r in &recs {
        out.write(r).context("writing records to stdout")?;
    }
    out.finish().context("writing records to stdout")?;
    Ok(exit)
}

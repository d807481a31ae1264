//! `check-profile`: the runbook §1.2 profile gate, told the way the bot
//! really loads a profile. See `docs/config-gates.md`.

#![forbid(unsafe_code)]

mod budget;
pub mod checks;
pub mod cli;
mod derive;
mod error;
mod ignored;
pub mod load;
#[cfg(test)]
mod parity;
pub mod pynum;
pub mod pyyaml;
pub mod schema;
mod tags;
mod yaml;

use anyhow::Context;
use canary_core::{Exit, Kind, Level, Phase, Record, diag, ndjson::stdout_writer_for};
use cli::Cli;
use std::path::Path;

/// Evaluate a profile for a phase: its records, or why it cannot be read.
fn evaluate(path: &Path, phase: Phase) -> Result<Vec<Record>, load::ReadError> {
    let text = load::read_text(path)?;
    let target = path.display().to_string();
    let loaded = load::load(&text, &load::profile_name(path))?;
    Ok(checks::records(&target, &loaded, &text, phase))
}

/// The record for a file that cannot be evaluated.
fn read_error_record(target: &str, err: &load::ReadError) -> Record {
    Record::new(checks::TOOL, target, Kind::Error, "profile.read", Level::Unknown)
        .msg(format!(
            "{target}: {err}; if this is the bot's profile, the bot would fall back to its hard-coded defaults or fail"
        ))
}

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let path = load::resolve(&cli.profile, &cli.profiles_dir);
    let target = path.display().to_string();
    let mut out = stdout_writer_for(&cli.output, false);
    let mut records = Vec::new();
    let phase: Phase = cli.phase.map(Into::into).unwrap_or(Phase::B);
    match &cli.write_phase_b {
        Some(dest) => {
            let text = load::read_text(&path).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
            if std::fs::canonicalize(dest).ok() == std::fs::canonicalize(&path).ok() {
                anyhow::bail!(
                    "{}: refusing to overwrite the Phase A source; name another file",
                    dest.display()
                );
            }
            let loaded = load::load(&text, &load::profile_name(&path))
                .map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
            let new_text = derive::phase_b_text(&text, &loaded).with_context(|| target.clone())?;
            derive::write(dest, &new_text, cli.force)?;
            let how = derive::how_to_start(dest);
            diag(checks::TOOL, "note", &how);
            let dest_target = dest.display().to_string();
            records.push(
                Record::new(
                    checks::TOOL,
                    &dest_target,
                    Kind::Step,
                    "profile.derive",
                    Level::Ok,
                )
                .value(dest_target.as_str())
                .msg(how)
                .extra("from", target.as_str()),
            );
            let reloaded =
                load::load(&new_text, &loaded.name).map_err(|e| anyhow::anyhow!("{e}"))?;
            records.extend(checks::records(
                &dest_target,
                &reloaded,
                &new_text,
                Phase::B,
            ));
        }
        None => match evaluate(&path, phase) {
            Ok(recs) => {
                for r in recs
                    .iter()
                    .filter(|r| r.name == "profile.load" && r.level == Level::Crit)
                {
                    diag(checks::TOOL, "crit", &r.msg);
                }
                records.extend(recs);
            }
            Err(e) => {
                diag(checks::TOOL, "error", &format!("{target}: {e}"));
                records.push(read_error_record(&target, &e));
            }
        },
    }
    let mut exit = Exit::Clean;
    for r in &records {
        exit = exit.worst(Exit::from_level(r.level));
        out.write(r).context("writing records to stdout")?;
    }
    out.finish().context("writing records to stdout")?;
    Ok(exit)
}

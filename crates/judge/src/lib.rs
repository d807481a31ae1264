//! `judge`: runbook §4's decision tree applied to the merged stream.

#![forbid(unsafe_code)]

// The interface: `run` and `cli` for src/bin/judge.rs (and xtask's
// generated docs). `baseline` holds `cli::Cli`'s `--baseline` options and
// the seeded power simulation (crates/judge/examples, tests/baseline.rs);
// `rules` is read by tests/canary_rules.rs, which checks canary-rules'
// alert `for:`s against the compiled default rules. The rest is internal.
pub mod baseline;
pub mod cli;
mod counters;
mod decide;
mod error;
mod escalate;
mod eval;
mod explain;
mod follow;
mod freshness;
mod jq;
mod native;
mod proof;
mod replay;
pub mod rules;
mod state;
mod target;
mod tool;
mod verdict;
mod window;

pub use error::ArgError;
pub use tool::TOOL;

use anyhow::Context;
use canary_core::ndjson::{BadLine, Input, RecordReader, RecordWriter};
use canary_core::{Exit, Kind, diag};
use cli::Cli;
use std::io::{self, BufReader, Write};
use verdict::Judging;

/// Bad lines reported one by one on stderr before judge only counts them.
const MAX_BAD_LINE_DIAGS: u64 = 20;

/// Run `judge` as the command line asks, writing records to `out`.
pub fn run<W: Write>(cli: &Cli, out: &mut RecordWriter<W>) -> anyhow::Result<Exit> {
    if let Some(dir) = &cli.emit_alert_rules {
        diag(
            TOOL,
            "warning",
            "--emit-alert-rules is deprecated: use canary-rules DIR (same rules, and --help)",
        );
        canary_rules::emit(dir, &canary_rules::Options::default())?;
        return Ok(Exit::Clean);
    }
    if let Some(report) = &cli.from_preflight {
        diag(
            TOOL,
            "warning",
            "--from-preflight is deprecated; use check-preflight",
        );
        return check_preflight::convert(
            report,
            cli.preflight_exit,
            check_preflight::MAX_REPORT_BYTES,
            TOOL,
            out,
        );
    }
    let phase = cli.phase.context("--phase is required")?;
    let override_text = match &cli.rules {
        Some(p) => Some((rules::read_rules_file(p)?, p.display().to_string())),
        None => None,
    };
    let specs = rules::merged_specs(
        override_text
            .as_ref()
            .map(|(t, s)| (t.as_str(), s.as_str())),
    )?;
    let rules = rules::compile(&specs, phase)?;
    let mut window = window::WindowSpec::runbook(phase);
    if let Some(w) = window.as_mut() {
        if let Some(d) = cli.min_duration {
            w.min_duration = d;
        }
        if let Some(n) = cli.min_orders {
            w.min_orders = n;
        }
        if let Some(c) = cli.max_duration {
            w.cap = Some(c);
        }
        if let Some(e) = cli.min_evidence {
            w.min_evidence = e;
        }
    }
    let at = cli.at.unwrap_or_else(jiff::Timestamp::now);
    let lookback = match cli.since {
        Some(_) => None,
        None => Some(window::lookback(window)),
    };
    let how = Judging {
        phase,
        at,
        max_age: cli
            .max_age
            .unwrap_or_else(|| freshness::default_max_age(cli.probe_interval)),
        max_skew: cli.max_skew,
        window,
        since: cli.since,
        lookback,
        confidence: cli.confidence,
    };
    let scope = state::Scope {
        since: cli.since,
        until: cli.at,
        horizon: Some(freshness::horizon(how.at, how.max_skew)),
        lookback: lookback.map(|l| freshness::before(how.at, l)),
        tol: how.max_age,
    };
    let mut stream = state::Stream::new(&rules, scope);
    stream.restarted_at = cli.restarted_at.clone();
    let mut replay = cli.transitions.then(replay::Replay::default);
    let mut against = baseline::Against::new(&cli.against);
    let mut follow = cli
        .follow
        .then(|| follow::Follow::new(cli.on_change, cli.at.is_none()));
    let sources: Vec<String> = if cli.files.is_empty() {
        vec!["-".into()]
    } else {
        cli.files.iter().map(|p| p.display().to_string()).collect()
    };
    for source in &sources {
        let reader: Box<dyn follow::Source> = if source == "-" {
            canary_core::ndjson::hint_if_terminal(TOOL);
            if follow.is_some() {
                Box::new(follow::Pipe::spawn(io::stdin()))
            } else {
                Box::new(io::stdin().lock())
            }
        } else {
            match std::fs::File::open(source) {
                Ok(f) => Box::new(BufReader::with_capacity(1 << 16, f)),
                Err(e) => {
                    unreadable(&mut stream, source, 0, format!("cannot open: {e}"));
                    continue;
                }
            }
        };
        let name = if source == "-" {
            "stdin"
        } else {
            source.as_str()
        };
        let mut records = RecordReader::new(reader, name);
        while let Some(item) = records.next() {
            match item {
                Ok(Input::Record(rec)) => {
                    if let Some(f) = follow.as_mut() {
                        if f.opens_round(rec.ts) {
                            f.verdict(&rules, &stream, &how, &against, cli, out)?;
                            f.opens_round(rec.ts);
                        }
                        if f.live() {
                            stream.set_horizon(freshness::horizon(f.at(&how), how.max_skew));
                        }
                        f.read_one();
                    }
                    // Production's records are compared, never the canary's evidence.
                    match against.take(&rec) {
                        baseline::Route::Canary => {}
                        baseline::Route::Baseline => continue,
                        baseline::Route::Refused(why) => {
                            unreadable(&mut stream, name, 0, why);
                            continue;
                        }
                    }
                    if let Some(r) = replay.as_mut() {
                        r.before(&rec, &rules, &mut stream, &how, out)?;
                    }
                    stream.ingest(&rec);
                }
                Ok(Input::Bad(bad)) => {
                    if stream.bad_lines < MAX_BAD_LINE_DIAGS {
                        diag(TOOL, "error", &bad.diagnostic());
                    }
                    stream.bad_line(bad);
                    if let Some(f) = follow.as_mut() {
                        f.read_one();
                    }
                }
                Err(e) => {
                    unreadable(&mut stream, name, 0, format!("read error: {e}"));
                    break;
                }
            }
            if let Some(f) = follow.as_mut()
                && f.pending()
                && records.get_mut().drained()
            {
                f.verdict(&rules, &stream, &how, &against, cli, out)?;
            }
        }
    }
    if stream.bad_lines > MAX_BAD_LINE_DIAGS {
        diag(
            TOOL,
            "error",
            &format!("{} unreadable input lines in all", stream.bad_lines),
        );
    }
    for (rule, (count, first)) in &stream.rule_errors {
        diag(
            TOOL,
            "error",
            &format!("rule '{rule}': filter failed {count} time(s), first on {first}"),
        );
    }
    stream.settle();
    let mut unsorted = false;
    if let Some(r) = replay.as_mut() {
        r.finish(&rules, &stream, &how, out)?;
        unsorted = r.unsorted();
    }
    // With --follow the final verdict is as of the end of input too.
    let how = Judging {
        at: follow.as_ref().map_or(how.at, |f| f.at(&how)),
        ..how
    };
    let mut judged = verdict::judge_stream(&rules, &stream, &how);
    let comparisons = against.settle(&mut judged, &how);
    for rec in &comparisons {
        out.write(rec)?;
    }
    let mut exit = Exit::Clean;
    // Last, once the verdicts are otherwise final: a long unknown escalates.
    let judged = escalate::from_cli(cli, judged, phase, how.at);
    for j in &judged {
        j.write("judge.verdict", Kind::Verdict, phase, how.at, out)?;
        if j.scope == canary_core::verdict::Scope::Overall {
            exit = j.exit;
        }
    }
    // The replay was refused part-way: the run could not be evaluated whole.
    if unsorted {
        exit = exit.worst(Exit::Unevaluable);
    }
    if cli.explain {
        let mut err = io::stderr().lock();
        let _ = explain::write_table(&mut err, &judged, &comparisons, how.at);
    }
    Ok(exit)
}

fn unreadable(stream: &mut state::Stream<'_>, source: &str, line: u64, reason: String) {
    let bad = BadLine {
        source: source.to_owned(),
        line,
        reason,
    };
    diag(TOOL, "error", &bad.diagnostic());
    stream.bad_line(bad);
}

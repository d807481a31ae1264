//! `scrape-metrics`: the bot's `/metrics` (or a Prometheus server) as the
//! runbook §3 signal and sample records.

#![forbid(unsafe_code)]

// The interface: `run` and `cli` for src/bin/scrape-metrics.rs; `money`
// for daily-report (the loss limit as the bot reads it); `exposition` for
// canary-rules (the same parser over Prometheus' bodies); `promql` for
// tests/promql_parity.rs, which runs its functions against promtool's
// engine. The rest is internal.
mod bucket_checks;
mod ceiling;
pub mod cli;
mod counters;
mod error;
pub mod exposition;
mod hashing;
mod histogram;
mod input;
mod labels;
mod lossless;
pub mod money;
mod money_gauges;
mod money_prom;
mod prom_mode;
mod prometheus;
pub mod promql;
mod proof;
mod round;
mod signals;
mod snapshot;
mod state;
#[cfg(test)]
mod test_support;
mod tool;
mod unreadable;
mod window;

pub use error::ArgError;
pub use tool::TOOL;

use canary_core::duration::format_duration;
use canary_core::http::{self, HttpOptions};
use canary_core::ndjson::RecordWriter;
use canary_core::{Exit, Kind, Level, Record, diag};
use cli::Cli;
use signals::Ctx;
use snapshot::{BROKER_LATENCY, GUARD_TRIPS, ORDERS, Snapshot};
use std::io::{Read, Write};

/// Run once, or every `--every`; the exit status is the worst over all rounds.
pub fn run<W: Write>(cli: &Cli, out: &mut RecordWriter<W>) -> anyhow::Result<Exit> {
    let opts = HttpOptions {
        timeout: cli.timeout,
        max_body: cli.max_body,
    };
    let (url, rewritten) = input::metrics_url(&cli.url);
    if rewritten && cli.prometheus.is_none() && cli.file.is_none() {
        diag(
            TOOL,
            "warning",
            &format!(
                "--url {} is the bot's base URL; scraping {url} (the bot serves only exact paths)",
                cli.url
            ),
        );
    }
    let target = match (&cli.prometheus, &cli.file, &cli.instance) {
        (Some(_), _, Some(instance)) => instance.clone(),
        (Some(p), _, None) => p.trim_end_matches('/').to_owned(),
        (None, Some(f), _) => f.display().to_string(),
        (None, None, _) => url.clone(),
    };
    let source = if cli.prometheus.is_some() {
        signals::Source::Prometheus
    } else {
        signals::Source::Direct
    };
    let ctx = Ctx {
        tool: TOOL,
        target: &target,
        source,
        buckets: cli.buckets,
        confidence: cli.confidence,
        counts: proof::Counts::Exact,
    };
    let (mut history, mut points) = match &cli.state {
        Some(path) => state::load_all(path, &target)?,
        None => (Vec::new(), Vec::new()),
    };
    let keep_ms = cli.window.max(cli.guard_window).as_millis() as i64;
    let money = money::Config::new(&cli.money, cli.window)?;
    canary_core::rounds::run(out, cli.every, cli.count, || {
        let mut point = None;
        let mut records = match &cli.prometheus {
            Some(base) => prometheus_round(cli, &ctx, base, opts),
            None => direct_round(cli, &url, &ctx, opts, &mut history, keep_ms, &mut point),
        };
        match &cli.prometheus {
            Some(base) => records.extend(money_prom::evaluate(&ctx, &money, cli, base, opts)),
            None => records.extend(money_round(cli, &ctx, &money, &history, &mut points, point)),
        }
        if let Some(path) = &cli.state {
            state::save_all(path, &target, &history, &points)?;
        }
        // The one place every mode's records pass: the role is set here.
        Ok(records.into_iter().map(|r| cli.role.mark(r)).collect())
    })
}

fn prometheus_round(cli: &Cli, ctx: &Ctx<'_>, base: &str, opts: HttpOptions) -> Vec<Record> {
    let matcher = cli.instance.as_ref().map_or(String::new(), |i| {
        format!(",instance={}", prometheus::promql_string(i))
    });
    let scope = prometheus::Scope {
        matcher,
        fleet: cli.fleet,
        range: format_duration(cli.window),
        guard_range: format_duration(cli.guard_window),
        window: cli.window,
        guard_window: cli.guard_window,
    };
    let prom = prometheus::Prom {
        base,
        opts,
        deadline: std::time::Instant::now() + cli.timeout,
    };
    prom_mode::evaluate(ctx, &prom, &scope, cli.buckets)
}

/// The money records of a direct round, from the money gauges of the
/// scrape just taken (`point`) and the window kept so far.
fn money_round(
    cli: &Cli,
    ctx: &Ctx<'_>,
    cfg: &money::Config,
    history: &[Snapshot],
    points: &mut Vec<money::Point>,
    point: Option<money::Point>,
) -> Vec<Record> {
    let Some(point) = point else {
        return vec![]; // no scrape this round: metrics.fetch says why
    };
    let windowed = cli.every.is_some() || cli.state.is_some();
    if !windowed {
        points.clear();
    }
    money::keep(points, point, cfg.money_window);
    let counted = if windowed { history } else { &[] };
    money::records(ctx, cfg, points, counted, !windowed)
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Fetch the exposition body, or the one record saying why there is none.
fn fetch(cli: &Cli, url: &str, ctx: &Ctx<'_>, opts: HttpOptions) -> Result<Vec<u8>, Box<Record>> {
    let fail = |why: String, reason: &str| {
        diag(TOOL, "error", &format!("{}: {why}", ctx.target));
        Box::new(
            ctx.record(Kind::Error, "metrics.fetch", Level::Unknown)
                .extra("reason", reason)
                .msg(format!("{}: {why}", ctx.target)),
        )
    };
    if let Some(path) = &cli.file {
        if path.as_os_str() != "-" {
            return input::read_capped(path, opts.max_body).map_err(|why| {
                let reason = match why {
                    input::InputError::TooLarge { .. } => "too-large",
                    _ => "unreadable",
                };
                fail(why.to_string(), reason)
            });
        }
        let mut body = Vec::new();
        let read = std::io::stdin()
            .lock()
            .take(opts.max_body + 1)
            .read_to_end(&mut body);
        return match read {
            Err(e) => Err(fail(format!("cannot read: {e}"), "unreadable")),
            Ok(_) if body.len() as u64 > opts.max_body => Err(fail(
                format!("body is over the {}-byte cap", opts.max_body),
                "too-large",
            )),
            Ok(_) => Ok(body),
        };
    }
    let resp =
        http::get(url, &opts).map_err(|e| fail(format!("GET failed: {e}"), "unreachable"))?;
    match resp.status {
        200 => Ok(resp.body),
        404 if String::from_utf8_lossy(&resp.body).contains("Metrics endpoint disabled") => Err(fail(
            "the bot's metrics endpoint is disabled (HTTP 404): set GPT_TRADER_METRICS_ENDPOINT_ENABLED=1 and restart the bot; without /metrics, promotion is No-Go (runbook §0)".into(),
            "disabled",
        )),
        s => {
            Err(fail(format!("HTTP {s} ({})", resp.snippet(120)), "status"))
        }
    }
}

fn direct_round(
    cli: &Cli,
    url: &str,
    ctx: &Ctx<'_>,
    opts: HttpOptions,
    history: &mut Vec<Snapshot>,
    keep_ms: i64,
    point: &mut Option<money::Point>,
) -> Vec<Record> {
    let body = match fetch(cli, url, ctx, opts) {
        Ok(b) => b,
        Err(rec) => return vec![*rec],
    };
    let scrape = snapshot::from_body(&body, now_ms());
    drop(body);
    let mut records = parse_errors(ctx, &scrape);
    let broken = unreadable::broken(&scrape);
    let mut snap = scrape.snapshot;
    snap.unreadable = !broken.is_empty();
    *point = Some(money::Point {
        t_ms: snap.t_ms,
        gauges: std::mem::take(&mut snap.money),
    });
    records.extend(signals::samples(ctx, &snap));
    records.extend(bucket_checks::histogram_checks(ctx, &snap));
    let windowed = cli.every.is_some() || cli.state.is_some();
    if windowed && counters::is_empty(&snap) {
        // No counter at all: no evidence for the window (and never a restart).
        records.extend(signals::lifetime(ctx, &snap));
    } else if windowed {
        // A clock that went backwards drops the scrapes now in the future.
        history.retain(|s| s.t_ms < snap.t_ms);
        history.push(snap);
        let newest = history.last().map_or(0, |s| s.t_ms);
        // Keep the longer window, and the one scrape before it: the baseline.
        let oldest_kept = history
            .iter()
            .rposition(|s| s.t_ms < newest - keep_ms)
            .unwrap_or(0);
        history.drain(..oldest_kept);
        if counters::usable_at(history, newest, cli.window.as_millis() as i64) {
            records.extend(window::windowed(ctx, history, cli.window, cli.guard_window));
        } else if let Some(last) = history.last() {
            records.extend(signals::lifetime(ctx, last));
        }
    } else {
        records.extend(signals::lifetime(ctx, &snap));
    }
    unreadable::taint(&mut records, &broken);
    records
}

/// One `metrics.parse` record per unusable line: `unknown` when the line
/// names a series the signals read (they may be wrong without it), else `warn`.
fn parse_errors(ctx: &Ctx<'_>, scrape: &snapshot::Scrape) -> Vec<Record> {
    if scrape.errors.is_empty() {
        return vec![];
    }
    let first = &scrape.errors[0];
    let total = scrape.errors.len() + scrape.errors_dropped;
    diag(
        TOOL,
        "warning",
        &format!(
            "{}: {total} line(s) could not be parsed; first: line {}: {}",
            ctx.target, first.line, first.msg
        ),
    );
    scrape
        .errors
        .iter()
        .map(|e| {
            let relevant = e.fatal
                || [ORDERS, GUARD_TRIPS, BROKER_LATENCY]
                    .iter()
                    .chain(&money_gauges::FAMILIES)
                    .any(|n| e.snippet.contains(n));
            let level = if relevant {
                Level::Unknown
            } else {
                Level::Warn
            };
            ctx.record(Kind::Error, "metrics.parse", level)
                .value(e.line)
                .extra("line", e.line)
                .extra("text", e.snippet.as_str())
                .msg(format!(
                    "line {}: {}{}",
                    e.line,
                    e.msg,
                    if e.fatal {
                        " (the signals may be incomplete)"
                    } else if relevant {
                        " (a series the signals read: they may be incomplete)"
                    } else {
                        ""
                    }
                ))
        })
        .collect()
}

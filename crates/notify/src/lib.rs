//! `notify`: one notification per change of judge's decision, to JSON
//! webhooks, Slack incoming webhooks and Alertmanager, with the last decision
//! sent kept in a locked, atomically written state file.

pub mod cli;
mod destination;
mod error;
mod send;
mod state;
mod verdict;

use crate::destination::{Change, Destination, Kind as DestKind, postable};
use crate::send::Policy;
use crate::state::{Entry, State};
use crate::verdict::{Intake, Verdict};
use canary_core::exit::Exit;
use canary_core::ndjson::RecordWriter;
use canary_core::notification::{Notification, NotifyAction, SentStatus};
use canary_core::{Kind, Level, Record, diag};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Instant;

pub use cli::TOOL;

/// An `error` record plus its stderr line.
fn error(out_target: &str, what: &str, msg: &str) -> Record {
    diag(TOOL, "error", msg);
    Record::new(
        TOOL,
        out_target,
        Kind::Error,
        "notify.error",
        Level::Unknown,
    )
    .value(what)
    .msg(msg)
}

/// Everything one run carries between verdicts.
struct Run<'a> {
    cli: &'a cli::Cli,
    destinations: Vec<Destination>,
    policy: Policy,
    state: State,
    state_path: Option<&'a Path>,
    /// Keys whose change failed to send, and when: later verdicts for them
    /// wait out the retry budget before another try.
    failed: HashMap<String, Instant>,
    /// When this run last re-asserted a key's firing alert.
    asserted: HashMap<String, Instant>,
    dirty: bool,
    seen: usize,
    exit: Exit,
}

/// Run notify over the inputs; the exit status is the return value.
pub fn run<R: BufRead, W: Write>(cli: &cli::Cli, stdin: R, out: &mut RecordWriter<W>) -> Exit {
    let fatal = |out: &mut RecordWriter<W>, what: &str, msg: &str| {
        let _ = out.write(&error("notify", what, msg));
        Exit::Unevaluable
    };
    let mut destinations = Vec::new();
    for (kind, urls) in [
        (DestKind::Webhook, &cli.webhook),
        (DestKind::Slack, &cli.slack),
        (DestKind::Alertmanager, &cli.alertmanager),
    ] {
        for url in urls {
            match Destination::parse(kind, url) {
                Ok(d) => destinations.push(d),
                Err(why) => return fatal(out, "usage", &why.to_string()),
            }
        }
    }
    if destinations.is_empty() {
        return fatal(
            out,
            "usage",
            "no destination: give --webhook, --slack or --alertmanager",
        );
    }
    let state_path = cli.state.as_deref();
    if state_path.is_none() && !cli.dry_run {
        return fatal(
            out,
            "usage",
            "--state FILE is required (the last decision sent per target lives there); --dry-run needs none",
        );
    }
    // Held until the run ends; a dry run changes nothing and takes no lock.
    let _lock = match state_path {
        Some(p) if !cli.dry_run => match state::lock(p) {
            Ok(l) => Some(l),
            Err(e) => return fatal(out, "state", &format!("state: {e}")),
        },
        _ => None,
    };
    let state = match state_path {
        Some(p) => match state::load(p) {
            Ok(s) => s,
            Err(e) => return fatal(out, "state", &format!("state: {e}")),
        },
        None => State::default(),
    };
    let mut run = Run {
        cli,
        destinations,
        policy: Policy {
            timeout: cli.timeout,
            retries: cli.retries,
            budget: cli.retry_budget,
        },
        state,
        state_path,
        failed: HashMap::new(),
        asserted: HashMap::new(),
        dirty: false,
        seen: 0,
        exit: Exit::Clean,
    };
    if cli.files.is_empty() {
        canary_core::ndjson::hint_if_terminal(TOOL);
        if let Err(e) = run.source(stdin, "stdin", out) {
            return run.fail(out, "input", &format!("reading stdin: {e}"));
        }
    } else {
        for path in &cli.files {
            let shown = path.display().to_string();
            let read = File::open(path).and_then(|f| run.source(BufReader::new(f), &shown, out));
            if let Err(e) = read {
                run.fail(out, "input", &format!("reading {shown}: {e}"));
            }
        }
    }
    if run.seen == 0 {
        run.fail(out, "input", "no verdict read: nothing to notify about");
    }
    run.save(out);
    run.exit
}

impl<'a> Run<'a> {
    fn fail<W: Write>(&mut self, out: &mut RecordWriter<W>, what: &str, msg: &str) -> Exit {
        let _ = out.write(&error("notify", what, msg));
        self.exit = Exit::Unevaluable;
        self.exit
    }

    fn save<W: Write>(&mut self, out: &mut RecordWriter<W>) {
        if !self.dirty || self.cli.dry_run {
            return;
        }
        if let Some(p) = self.state_path {
            match state::save(p, &self.state) {
                Ok(()) => self.dirty = false,
                Err(e) => {
                    self.fail(out, "state", &format!("state: saving: {e}"));
                }
            }
        }
    }

    /// Read one source, acting on each verdict as it arrives, so a live
    /// stream of verdicts piped in is notified when the change happens.
    fn source<R: BufRead, W: Write>(
        &mut self,
        reader: R,
        source: &str,
        out: &mut RecordWriter<W>,
    ) -> std::io::Result<()> {
        let mut intake = Intake::default();
        for item in canary_core::ndjson::RecordReader::new(reader, source) {
            let item = item?;
            verdict::take(item, source, &mut intake);
            // A closed stdout loses records, never notifications: write
            // errors surface once, quietly for a broken pipe, in main.
            for problem in intake.problems.drain(..) {
                let _ = out.write(&problem);
                self.exit = Exit::Unevaluable;
            }
            for v in std::mem::take(&mut intake.verdicts) {
                self.seen += 1;
                self.verdict(&v, out);
                let _ = out.flush();
            }
        }
        Ok(())
    }

    fn verdict<W: Write>(&mut self, v: &Verdict, out: &mut RecordWriter<W>) {
        let key = v.key();
        let previous = self.state.targets.get(&key).cloned();
        if let Some(p) = &previous {
            // An older verdict replayed is never news: it could resolve a
            // live alert with yesterday's `continue`.
            if v.ts < p.verdict_ts {
                return;
            }
            if p.decision() == Some(v.decision) {
                if let Some(e) = self.state.targets.get_mut(&key) {
                    e.verdict_ts = v.ts;
                    self.dirty = true;
                }
                self.reassert(&key, out);
                return;
            }
        }
        if self
            .failed
            .get(&key)
            .is_some_and(|at| at.elapsed() < self.policy.budget)
        {
            return;
        }
        if previous.is_none() && self.state.targets.len() >= state::MAX_KEYS {
            let msg = format!(
                "the state already tracks {} targets: {} {} is not notified; prune the state file",
                state::MAX_KEYS,
                v.scope.as_str(),
                v.target
            );
            let _ = out.write(&error(&v.target, "state", &msg));
            self.exit = Exit::Unevaluable;
            return;
        }
        let now = Timestamp::now();
        let change = Change {
            verdict: v,
            previous: previous.as_ref(),
        };
        let new_alert = change.new_alert(now);
        let mut all_sent = true;
        for dest in &self.destinations {
            let (body, action) = match dest.kind {
                DestKind::Webhook => (change.webhook_body(), NotifyAction::Notify),
                DestKind::Slack => (change.slack_body(), NotifyAction::Notify),
                DestKind::Alertmanager => {
                    let mut alerts = Vec::new();
                    let old = previous.as_ref().and_then(|p| p.alert.as_ref());
                    if let Some(old) = old {
                        alerts.push(postable(old, now));
                    }
                    if let Some(new) = &new_alert {
                        alerts.push(postable(new, self.ends_at(now)));
                    }
                    let action = match (old.is_some(), new_alert.is_some()) {
                        (false, false) => continue,
                        (true, false) => NotifyAction::Resolve,
                        (false, true) => NotifyAction::Fire,
                        (true, true) => NotifyAction::Replace,
                    };
                    (Value::Array(alerts), action)
                }
            };
            let rec = Record::new(TOOL, &v.target, Kind::Step, "notify.sent", Level::Ok)
                .value(v.decision.as_str());
            let mut sent = Notification {
                destination: dest.kind.as_str().to_owned(),
                url: dest.shown(),
                action,
                scope: v.scope,
                phase: v.phase,
                decision: v.decision,
                previous: change.previous_decision().map(str::to_owned),
                verdict_ts: v.ts,
                status: SentStatus::Planned,
                attempts: None,
                body: Value::Null,
            };
            if self.cli.dry_run {
                let msg = format!(
                    "would send {} ({}) to {} {}",
                    v.decision,
                    action.as_str(),
                    dest.kind.as_str(),
                    dest.shown()
                );
                sent.body = body;
                let _ = out.write(&rec.msg(msg).with_payload(&sent));
                continue;
            }
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            match send::post(&dest.url, &bytes, &self.policy) {
                Ok(attempts) => {
                    let msg = format!(
                        "sent {} (was {}) to {} {}",
                        v.decision,
                        change.previous_decision().unwrap_or("nothing"),
                        dest.kind.as_str(),
                        dest.shown()
                    );
                    sent.status = SentStatus::Sent;
                    sent.attempts = Some(attempts);
                    sent.body = body;
                    let _ = out.write(&rec.msg(msg).with_payload(&sent));
                }
                Err(f) => {
                    all_sent = false;
                    let msg = format!(
                        "sending {} for {} {} to {} {} failed: {}; not recorded as sent, the next run sends it again",
                        v.decision,
                        v.scope.as_str(),
                        v.target,
                        dest.kind.as_str(),
                        dest.shown(),
                        f.why
                    );
                    let rec = error(&v.target, "send", &msg)
                        .extra("destination", dest.kind.as_str())
                        .extra("url", dest.shown())
                        .extra("decision", v.decision.as_str())
                        .extra("attempts", f.attempts);
                    let _ = out.write(&rec);
                    self.exit = Exit::Unevaluable;
                }
            }
        }
        if self.cli.dry_run {
            return;
        }
        if !all_sent {
            // Every destination gets the change again next time: at least
            // once, never lost.
            self.failed.insert(key, Instant::now());
            return;
        }
        self.failed.remove(&key);
        if new_alert.is_some() {
            self.asserted.insert(key.clone(), Instant::now());
        }
        self.state.targets.insert(
            key,
            Entry {
                scope: v.scope.as_str().to_owned(),
                target: v.target.clone(),
                decision: v.decision.as_str().to_owned(),
                phase: Some(v.phase.as_str().to_owned()),
                verdict_ts: v.ts,
                alert: new_alert,
            },
        );
        self.dirty = true;
        // A change is on disk before the next one is sent.
        self.save(out);
    }

    fn ends_at(&self, now: Timestamp) -> Timestamp {
        let ttl = SignedDuration::try_from(self.cli.alert_ttl).unwrap_or(SignedDuration::MAX);
        now.checked_add(ttl).unwrap_or(Timestamp::MAX)
    }

    /// A repeated alerting decision keeps its alert firing in Alertmanager
    /// (which ends an alert nobody re-asserts), at most every quarter TTL.
    fn reassert<W: Write>(&mut self, key: &str, out: &mut RecordWriter<W>) {
        if self.cli.dry_run {
            return;
        }
        let Some(alert) = self.state.targets.get(key).and_then(|e| e.alert.clone()) else {
            return;
        };
        if self
            .asserted
            .get(key)
            .is_some_and(|at| at.elapsed() < self.cli.alert_ttl / 4)
        {
            return;
        }
        let now = Timestamp::now();
        let body = json!([postable(&alert, self.ends_at(now))]);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut ok = true;
        for dest in self
            .destinations
            .iter()
            .filter(|d| d.kind == DestKind::Alertmanager)
        {
            if let Err(f) = send::post(&dest.url, &bytes, &self.policy) {
                ok = false;
                let msg = format!(
                    "re-asserting the firing {} alert of {key} to {} failed: {}",
                    alert.labels.get("decision").map_or("", String::as_str),
                    dest.shown(),
                    f.why
                );
                let rec = error(key, "send", &msg)
                    .extra("destination", dest.kind.as_str())
                    .extra("url", dest.shown())
                    .extra("attempts", f.attempts);
                let _ = out.write(&rec);
                self.exit = Exit::Unevaluable;
            }
        }
        if ok {
            self.asserted.insert(key.to_owned(), Instant::now());
        }
    }
}

//! The model-based test of judge (issue 10, "proved, not hoped"): thousands
//! of generated canary streams, rendered as the producers' records, fed to
//! the real judge binary, and checked against an independent oracle of
//! runbook §4 (tests/judge_model/oracle.rs). Any disagreement is shrunk to a
//! minimal stream and kept as a fixture under tests/fixtures/judge-model/.
//! docs/judge-model.md explains how to read and extend it.
//!
//! CANARY_MODEL_SEED (default 10) and CANARY_MODEL_STREAMS (default 2000)
//! choose the streams; JUDGE_BIN picks another judge binary; with
//! CANARY_MODEL_KEEP=1 shrunk disagreements are written to the fixtures
//! directory (scripts/judge-model sets it).

mod generate;
mod model;
mod oracle;
mod render;

use model::{Batch, Setting, Stream};
use oracle::Decision;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::Instant;

/// Streams per judge process: each bot on its own address.
const PER_PROCESS: usize = 60;
/// Shrink candidates judged together in one step.
const SHRINK_WIDTH: usize = 40;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

fn judge_bin() -> PathBuf {
    match std::env::var_os("JUDGE_BIN") {
        Some(p) => PathBuf::from(p),
        None => crate::util::bin("judge"),
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/judge-model")
}

/// What judge said: the decision per bot address, and the overall one.
#[derive(Debug)]
struct Said {
    targets: BTreeMap<String, String>,
    overall: String,
}

fn run_judge(args: &[String], input: &str) -> Said {
    let mut child = Command::new(judge_bin())
        .args(args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning judge");
    let mut sink = child.stdin.take().expect("stdin piped");
    let bytes = input.as_bytes().to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = sink.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("waiting for judge");
    let _ = feeder.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut said = Said {
        targets: BTreeMap::new(),
        overall: String::new(),
    };
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("judge wrote a line that is not JSON ({e}): {line}"));
        if v["name"] != "judge.verdict" {
            continue;
        }
        let decision = v["decision"].as_str().unwrap_or("?").to_owned();
        let target = v["target"].as_str().unwrap_or("?").to_owned();
        if v["scope"] == "overall" {
            said.overall = decision.clone();
            // A lone bot gets only the overall verdict, under its address.
            said.targets.entry(target).or_insert(decision);
        } else {
            said.targets.insert(target, decision);
        }
    }
    assert!(
        !said.overall.is_empty(),
        "judge wrote no overall verdict (exit {:?})\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    said
}

/// judge's arguments and input for a batch; one judged live is dated
/// relative to the clock now, just before judge runs.
fn prepare(b: &Batch) -> (Vec<String>, String) {
    let by = render::live_shift(&b.setting);
    let mut args = render::args(&b.setting);
    args.extend(render::since_args(&b.setting, by));
    (args, render::shift(&render::batch(b), by))
}

/// Judge every batch, on as many parallel judge processes as there are cores.
fn judge_all(batches: &[Batch]) -> Vec<Said> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<Said>>> = batches
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(b) = batches.get(k) else { break };
                    let (args, input) = prepare(b);
                    let said = run_judge(&args, &input);
                    *slots[k].lock().expect("slot") = Some(said);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().expect("slot").expect("judged"))
        .collect()
}

/// The oracle's decision per bot address, and overall.
fn expect(b: &Batch) -> (BTreeMap<String, Decision>, Decision) {
    let mut per = BTreeMap::new();
    for (i, s) in b.streams.iter().enumerate() {
        for (j, bot) in s.bots.iter().enumerate() {
            per.insert(
                render::host(i, j),
                oracle::judge_bot(&b.setting, bot).decision,
            );
        }
    }
    let overall = per.values().copied().max().unwrap_or(Decision::Continue);
    (per, overall)
}

/// How judge and the oracle differ on each of these streams, judged by
/// one judge process (each bot on its own address): None where they agree.
fn differences(set: &Setting, streams: &[Stream]) -> Vec<Option<String>> {
    let b = Batch {
        setting: set.clone(),
        streams: streams.to_vec(),
    };
    let (args, input) = prepare(&b);
    let said = run_judge(&args, &input);
    let (per, overall) = expect(&b);
    let word = |d: Decision| d.word(set.phase);
    let mut out: Vec<Option<String>> = streams
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let diff: Vec<String> = (0..s.bots.len())
                .map(|j| render::host(i, j))
                .filter_map(|h| {
                    let got = said.targets.get(&h).map(String::as_str).unwrap_or("none");
                    let want = word(per[&h]);
                    (got != want).then(|| format!("{h}: judge {got}, oracle {want}"))
                })
                .collect();
            (!diff.is_empty()).then(|| diff.join("; "))
        })
        .collect();
    // Alone, a stream's overall verdict is its fleet's: check it too.
    if let [only] = out.as_mut_slice()
        && said.overall != word(overall)
    {
        let d = format!("overall: judge {}, oracle {}", said.overall, word(overall));
        *only = Some(only.take().map_or(d.clone(), |o| format!("{o}; {d}")));
    }
    out
}

/// One stream alone.
fn disagreement(set: &Setting, s: &Stream) -> Option<String> {
    differences(set, std::slice::from_ref(s)).pop().flatten()
}

/// Shrink a disagreeing stream: keep any smaller stream that still
/// disagrees. The candidates of one step share one judge process.
fn shrink(set: &Setting, s: &Stream, budget: usize) -> (Setting, Stream, usize) {
    let (mut set, mut s) = (set.clone(), s.clone());
    let mut runs = 0;
    'outer: while runs < budget {
        for cand in generate::shrink_setting(&set) {
            runs += 1;
            if disagreement(&cand, &s).is_some() {
                set = cand;
                continue 'outer;
            }
        }
        let mut cands = generate::shrink(&s);
        cands.truncate(SHRINK_WIDTH);
        if cands.is_empty() {
            break;
        }
        runs += 1;
        match differences(&set, &cands).iter().position(Option::is_some) {
            Some(i) => s = cands.swap_remove(i),
            None => break,
        }
    }
    (set, s, runs)
}

/// Write a shrunk disagreement as a replayable fixture; returns its name.
fn keep(dir: &Path, seed: u64, set: &Setting, s: &Stream, what: &str) -> String {
    let b = Batch {
        setting: set.clone(),
        streams: vec![s.clone()],
    };
    let input = render::batch(&b);
    let mut args = render::args(set);
    args.extend(render::since_args(set, 0));
    let name = format!("seed{seed}-{:08x}", fnv(&input));
    let (per, overall) = expect(&b);
    let why: Vec<String> = s
        .bots
        .iter()
        .flat_map(|bot| oracle::judge_bot(set, bot).reasons)
        .collect();
    let meta = serde_json::json!({
        "args": args,
        "live": set.live.then(|| render::rfc3339(set.at)),
        "overall": overall.word(set.phase),
        "targets": per.iter().map(|(h, d)| (h.clone(), d.word(set.phase))).collect::<BTreeMap<_, _>>(),
        "oracle_reasons": why,
        "found": what,
    });
    std::fs::create_dir_all(dir).expect("fixtures dir");
    std::fs::write(dir.join(format!("{name}.ndjson")), input).expect("write fixture");
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(&meta).expect("json") + "\n",
    )
    .expect("write fixture meta");
    name
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

#[test]
fn judge_agrees_with_the_oracle_on_generated_streams() {
    let seed = env_u64("CANARY_MODEL_SEED", 10);
    let want = env_u64("CANARY_MODEL_STREAMS", 2000) as usize;
    let keep_dir = if std::env::var_os("CANARY_MODEL_KEEP").is_some() {
        fixtures_dir()
    } else {
        std::env::temp_dir().join(format!("judge-model-{}", std::process::id()))
    };
    eprintln!(
        "judge model: seed {seed}, {want} streams, judge {}",
        judge_bin().display()
    );
    let started = Instant::now();
    // How many disagreements to shrink, and judge runs for each.
    let shrink_at_most = env_u64("CANARY_MODEL_SHRINK", 2) as usize;
    let shrink_budget = env_u64("CANARY_MODEL_SHRINK_RUNS", 40) as usize;
    let mut rng = generate::Rng::new(seed);
    let (mut streams, mut bots, mut processes) = (0usize, 0usize, 0usize);
    let mut decisions: BTreeMap<String, usize> = BTreeMap::new();
    let mut pairs: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreeing: Vec<(Setting, Stream, String)> = Vec::new();
    let mut fail_open: Vec<String> = Vec::new();
    // A fleet whose overall verdict is not its worst bot's.
    let mut fleet_wrong: Vec<String> = Vec::new();
    // The batches, drawn in order from the seed, then judged by parallel
    // judge processes: the outcome does not depend on the scheduling.
    let mut batches = Vec::new();
    let mut drawn = 0;
    while drawn < want {
        let b = generate::batch(&mut rng, PER_PROCESS.min(want - drawn));
        drawn += b.streams.len();
        batches.push(b);
    }
    if let Some(dir) = std::env::var_os("CANARY_MODEL_DUMP") {
        for (k, b) in batches.iter().enumerate() {
            let path = Path::new(&dir).join(format!("batch{k}.ndjson"));
            let (args, input) = prepare(b);
            std::fs::write(&path, input).expect("dump batch");
            std::fs::write(path.with_extension("args"), args.join(" ")).expect("dump args");
        }
    }
    let verdicts = judge_all(&batches);
    for (b, said) in batches.iter().zip(verdicts) {
        processes += 1;
        let (per, overall) = expect(b);
        let phase = b.setting.phase;
        if said.overall != overall.word(phase) && b.streams.len() > 1 {
            // The fleet's combination; every bot's own verdict is checked below.
            let all_agree = per
                .iter()
                .all(|(h, d)| said.targets.get(h).map(String::as_str) == Some(d.word(phase)));
            if all_agree {
                fleet_wrong.push(format!(
                    "fleet of {} bots: judge says {} overall, the worst bot is {}",
                    per.len(),
                    said.overall,
                    overall.word(phase)
                ));
            }
        }
        for (i, s) in b.streams.iter().enumerate() {
            let mut differs = Vec::new();
            for (j, bot) in s.bots.iter().enumerate() {
                let host = render::host(i, j);
                let got = said
                    .targets
                    .get(&host)
                    .map(String::as_str)
                    .unwrap_or("none");
                let want = per[&host];
                *decisions.entry(got.to_owned()).or_default() += 1;
                if got != want.word(phase) {
                    *pairs
                        .entry(format!("judge {got} / oracle {}", want.word(phase)))
                        .or_default() += 1;
                    differs.push(format!("{host}: judge {got}, oracle {}", want.word(phase)));
                }
                if matches!(got, "advance" | "promote")
                    && let Err(why) = oracle::proven_clean(&b.setting, bot)
                {
                    fail_open.push(format!("{host}: judge says {got}, yet {why}"));
                }
                bots += 1;
            }
            if !differs.is_empty() {
                disagreeing.push((b.setting.clone(), s.clone(), differs.join("; ")));
            }
            streams += 1;
        }
    }
    let judged_in = started.elapsed();

    // Shrink a few disagreements, each alone in its own judge process.
    let mut kept = Vec::new();
    // CANARY_MODEL_ONLY: shrink only the disagreements that mention it.
    let only = std::env::var("CANARY_MODEL_ONLY").unwrap_or_default();
    let chosen = disagreeing.iter().filter(|(_, _, w)| w.contains(&only));
    for (set0, s0, what) in chosen.take(shrink_at_most) {
        if disagreement(set0, s0).is_none() {
            kept.push(format!("(not reproduced alone) {what}"));
            continue;
        }
        let (mut set, mut s, runs) = shrink(set0, s0, shrink_budget);
        let now = match disagreement(&set, &s) {
            Some(now) => now,
            None => {
                // Shrunk in company, it agrees alone: keep the original.
                (set, s) = (set0.clone(), s0.clone());
                what.clone()
            }
        };
        let name = keep(&keep_dir, seed, &set, &s, &now);
        kept.push(format!("{name} ({runs} shrink runs): {now}"));
    }
    eprintln!(
        "judge model: checked {streams} streams ({bots} bots) in {processes} judge processes, {:.1} s (+{:.1} s shrinking); judge said {decisions:?}",
        judged_in.as_secs_f64(),
        (started.elapsed() - judged_in).as_secs_f64(),
    );
    assert!(
        fail_open.is_empty() && disagreeing.is_empty() && fleet_wrong.is_empty(),
        "seed {seed}: {} of {streams} streams disagree with the oracle ({pairs:#?}), {} fail-open verdicts\n\
         fail-open: {fail_open:#?}\nfleets: {fleet_wrong:#?}\nshrunk (in {}): {kept:#?}\nfirst disagreements: {:#?}",
        disagreeing.len(),
        fail_open.len(),
        keep_dir.display(),
        disagreeing
            .iter()
            .take(12)
            .map(|(_, _, w)| w.as_str())
            .collect::<Vec<_>>()
    );
}

/// Every kept disagreement, replayed: judge must now give the oracle's answer.
/// A setting judged live (only `at` and `live` matter to live_shift).
fn live_setting() -> Setting {
    Setting {
        phase: model::Phase::A,
        at: 0,
        since: None,
        profile: model::Cfg::Absent,
        risk: model::Cfg::Absent,
        malformed: 0,
        live: true,
    }
}

#[test]
fn kept_disagreements_replay_with_the_oracles_decision() {
    let dir = fixtures_dir();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.retain(|p| p.extension().is_some_and(|e| e == "json"));
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {}", dir.display());
    let mut wrong = Vec::new();
    for meta_path in &names {
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(meta_path).expect("read fixture"))
                .expect("fixture meta is JSON");
        let input = std::fs::read_to_string(meta_path.with_extension("ndjson")).expect("ndjson");
        let args: Vec<String> = meta["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("arg").to_owned())
            .collect();
        // A stream kept from a live batch is moved to now, as it was then.
        let (args, input) = match meta["live"].as_str() {
            Some(at) => {
                let at = jiff::Timestamp::from_str(at)
                    .expect("live: a time")
                    .as_second();
                let by = render::live_shift(&Setting {
                    at,
                    ..live_setting()
                });
                let mut args = args.clone();
                if let Some(i) = args.iter().position(|a| a == "--since") {
                    let t = jiff::Timestamp::from_str(&args[i + 1]).expect("since");
                    args[i + 1] = render::rfc3339(t.as_second() + by);
                }
                (args, render::shift(&input, by))
            }
            None => (args, input),
        };
        let said = run_judge(&args, &input);
        let want = meta["overall"].as_str().expect("overall");
        if said.overall != want {
            wrong.push(format!(
                "{}: judge {}, oracle {want} ({})",
                meta_path.file_stem().unwrap_or_default().to_string_lossy(),
                said.overall,
                meta["oracle_reasons"]
            ));
        }
    }
    eprintln!("judge model: replayed {} kept streams", names.len());
    assert!(
        wrong.is_empty(),
        "{} of {} kept streams: {wrong:#?}",
        wrong.len(),
        names.len()
    );
}

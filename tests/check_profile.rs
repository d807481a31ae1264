//! check-profile end to end: the real binary on real files, over real pipes.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

fn bin() -> std::path::PathBuf {
    crate::util::bin("check-profile")
}
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What a run of a tool produced.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Every stdout line, parsed strictly as a canary-kit record whose name
    /// is in the catalogue.
    pub fn records(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| {
                let rec: canary_core::Record = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a record ({e}): {line}\n{self:?}"));
                assert!(
                    canary_core::catalogue::lookup(&rec.name).is_some(),
                    "{} is not in the catalogue",
                    rec.name
                );
                serde_json::from_str(line).expect("json")
            })
            .collect()
    }

    pub fn named(&self, name: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["name"] == name)
            .collect()
    }

    pub fn one(&self, name: &str) -> Value {
        let mut found = self.named(name);
        assert_eq!(found.len(), 1, "expected one {name} in {self:?}");
        found.remove(0)
    }
}

/// Run a binary with a scrubbed environment.
pub fn run_bin(bin: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = Command::new(bin)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(ROOT)
        .output()
        .expect("spawn");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    run_bin(&bin(), args, &[])
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "canary-kit-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn write(dir: &Path, name: &str, body: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p.display().to_string()
}

fn fixture(name: &str) -> String {
    format!("{ROOT}/tests/fixtures/check-profile/{name}")
}

/// Pipe a tool's stdout into the real `jq` and return jq's output.
pub fn through_jq(bin: &std::path::Path, args: &[&str], filter: &str) -> (i32, String) {
    let mut tool = Command::new(bin)
        .args(args)
        .current_dir(ROOT)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn tool");
    let jq = Command::new("jq")
        .args(["-r", filter])
        .stdin(tool.stdout.take().expect("stdout"))
        .output()
        .expect("jq is installed");
    let code = tool.wait().expect("wait").code().unwrap_or(-1);
    assert!(
        jq.status.success(),
        "jq failed: {}",
        String::from_utf8_lossy(&jq.stderr)
    );
    (code, String::from_utf8(jq.stdout).expect("utf8"))
}

#[test]
fn real_canary_profile_is_no_go_for_position_fraction() {
    let out = run(&["examples/profiles/canary.yaml", "--phase", "a"]);
    assert_eq!(out.code, 1, "{out:?}");
    let pf = out.one("profile.risk_management.position_fraction");
    assert_eq!(pf["level"], "crit");
    assert_eq!(pf["value"], 0.1);
    assert_eq!(pf["source"], "default");
    let lev = out.one("profile.risk_management.max_leverage");
    assert_eq!(
        (
            lev["level"].as_str(),
            lev["value"].as_i64(),
            lev["raw"].as_str()
        ),
        (Some("ok"), Some(1), Some("1.0"))
    );
    assert_eq!(out.one("profile.trading.mode")["level"], "ok");
    assert_eq!(out.one("profile.trading.mode")["line"], 13);
    let dll = out.one("profile.risk_management.daily_loss_limit_pct");
    assert_eq!(dll["level"], "ok");
    assert!(
        dll["msg"]
            .as_str()
            .is_some_and(|m| m.contains("does not have"))
    );
    let ignored: Vec<String> = out
        .named("profile.ignored_key")
        .iter()
        .map(|r| r["value"].as_str().unwrap_or_default().to_owned())
        .collect();
    for key in [
        "trading.position_sizing",
        "features.reduce_only_mode",
        "broker",
        "monitoring.event_store",
    ] {
        assert!(
            ignored.iter().any(|k| k == key),
            "{key} not warned: {ignored:?}"
        );
    }
    assert_eq!(out.one("profile.session")["level"], "warn");
    let eff = out.one("profile.effective");
    assert_eq!(eff["value"]["execution.time_in_force"], "IOC");
    assert_eq!(eff["value"]["risk_management.max_position_size"], 10000);
}

#[test]
fn output_pipes_into_jq() {
    let (code, names) = through_jq(
        &bin(),
        &["examples/profiles/canary.yaml", "--phase", "a"],
        r#"select(.level == "crit") | .name"#,
    );
    assert_eq!(code, 1);
    assert_eq!(names.trim(), "profile.risk_management.position_fraction");
}

#[test]
fn good_profiles_pass_their_phase() {
    let a = run(&["examples/profiles/phase-a.yaml", "--phase", "a"]);
    assert_eq!(a.code, 0, "{a:?}");
    assert!(a.records().iter().all(|r| r["level"] != "crit"));
    let b = run(&["examples/profiles/phase-b.yaml", "--phase", "b"]);
    assert_eq!(b.code, 0, "{b:?}");
    let wrong = run(&["examples/profiles/phase-a.yaml", "--phase", "b"]);
    assert_eq!(wrong.code, 1);
    assert_eq!(wrong.one("profile.trading.mode")["level"], "crit");
}

#[test]
fn a_name_resolves_like_the_bot() {
    let dir = temp_dir("names");
    std::fs::copy(
        format!("{ROOT}/examples/profiles/phase-a.yaml"),
        dir.join("canary.yaml"),
    )
    .expect("copy");
    let out = run(&[
        "canary",
        "--profiles-dir",
        &dir.display().to_string(),
        "--phase",
        "a",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.named("profile.name").is_empty());
    let missing = run(&["canary", "--profiles-dir", "/nonexistent", "--phase", "a"]);
    assert_eq!(missing.code, 2);
    assert_eq!(missing.one("profile.read")["level"], "unknown");
}

#[test]
fn quoted_float_leverage_falls_back_silently_to_hard_coded_defaults() {
    let dir = temp_dir("fallback");
    let p = write(
        &dir,
        "canary.yaml",
        b"risk_management:\n  max_leverage: \"1.0\"\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.code, 1, "{out:?}");
    let load = out.one("profile.load");
    assert_eq!(
        (load["level"].as_str(), load["value"].as_str()),
        (Some("crit"), Some("fallback"))
    );
    assert!(
        load["msg"]
            .as_str()
            .is_some_and(|m| m.contains("invalid literal for int() with base 10: '1.0'"))
    );
    assert_eq!(load["line"], 2);
    let mode = out.one("profile.trading.mode");
    assert_eq!(
        (mode["value"].as_str(), mode["source"].as_str()),
        (Some("reduce_only"), Some("hard-coded default"))
    );
}

#[test]
fn integers_past_128_bits_never_read_as_zero() {
    // PyYAML's ints have no bound: a binary or base-60 integer too long
    // for 128 bits is huge to the bot, so it must never pass a ceiling.
    let dir = temp_dir("bigint");
    for (i, v) in [
        format!("0b{}", "1".repeat(140)),
        format!("{}:00", "9".repeat(45)),
    ]
    .iter()
    .enumerate()
    {
        let body = format!(
            "trading:\n  mode: reduce_only\nrisk_management:\n  position_fraction: {v}\n  daily_loss_limit_pct: {v}\n"
        );
        let p = write(&dir, &format!("canary{i}.yaml"), body.as_bytes());
        let out = run(&[&p, "--phase", "a"]);
        for name in [
            "profile.risk_management.position_fraction",
            "profile.risk_management.daily_loss_limit_pct",
        ] {
            assert_eq!(out.one(name)["level"], "crit", "{v}: {name}");
        }
    }
}

#[test]
fn a_second_byte_order_mark_is_part_of_the_first_key() {
    // PyYAML skips one BOM; with two, its first key is "\u{feff}trading",
    // so the bot never reads `trading` and runs mode normal. Refused as a
    // YAML error, never read as `trading`.
    let dir = temp_dir("two-boms");
    let p = write(
        &dir,
        "canary.yaml",
        "\u{feff}\u{feff}trading:\n  mode: reduce_only\n".as_bytes(),
    );
    let out = run(&[&p, "--phase", "a"]);
    let load = out.one("profile.load");
    assert_eq!(
        (&load["value"], &load["level"]),
        (&"fallback".into(), &"crit".into()),
        "{load}"
    );
}

#[test]
fn a_merge_key_under_the_non_specific_tag_merges() {
    // `! <<` resolves as plain `<<` does: PyYAML merges the mapping, so
    // the bot runs with shorts enabled.
    let dir = temp_dir("bang-merge");
    let p = write(
        &dir,
        "canary.yaml",
        b"trading:\n  mode: reduce_only\nrisk_management:\n  ! <<: {enable_shorts: true}\n",
    );
    let eff = run(&[&p, "--phase", "a"]).one("profile.effective");
    assert_eq!(eff["value"]["risk_management.enable_shorts"], true, "{eff}");
}

#[test]
fn float_leverage_truncates_like_int() {
    let dir = temp_dir("trunc");
    let p = write(
        &dir,
        "canary.yaml",
        b"trading:\n  mode: reduce_only\nrisk_management:\n  max_leverage: 1.9\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    let lev = out.one("profile.risk_management.max_leverage");
    assert_eq!(
        (lev["level"].as_str(), lev["value"].as_i64()),
        (Some("warn"), Some(1))
    );
    let p2 = write(&dir, "c2.yaml", b"risk_management:\n  max_leverage: 2.5\n");
    assert_eq!(
        run(&[&p2, "--phase", "a"]).one("profile.risk_management.max_leverage")["level"],
        "crit"
    );
}

#[test]
fn fixtures_cover_the_loader_outcomes() {
    // (fixture, phase, exit, record, level, value)
    let cases: &[(&str, &str, i32, &str, &str, &str)] = &[
        ("empty.yaml", "a", 1, "profile.load", "crit", "empty"),
        (
            "syntax-error.yaml",
            "a",
            1,
            "profile.load",
            "crit",
            "fallback",
        ),
        ("tabs.yaml", "a", 1, "profile.load", "crit", "fallback"),
        (
            "duplicate-keys.yaml",
            "a",
            1,
            "profile.load",
            "crit",
            "duplicate_key",
        ),
        (
            "trading-null.yaml",
            "a",
            1,
            "profile.load",
            "crit",
            "fallback",
        ),
        (
            "session-unquoted.yaml",
            "a",
            1,
            "profile.load",
            "crit",
            "refused",
        ),
        (
            "mode-typo.yaml",
            "a",
            1,
            "profile.trading.mode",
            "crit",
            "reduce-only",
        ),
        (
            "mode-typo.yaml",
            "b",
            1,
            "profile.trading.mode",
            "warn",
            "reduce-only",
        ),
    ];
    for (file, phase, code, name, level, value) in cases {
        let out = run(&[&fixture(file), "--phase", phase]);
        assert_eq!(out.code, *code, "{file}: {out:?}");
        let r = out.one(name);
        assert_eq!(
            (r["level"].as_str(), r["value"].as_str()),
            (Some(*level), Some(*value)),
            "{file}: {r}"
        );
    }
}

#[test]
fn empty_file_runs_normal_mode() {
    let out = run(&[&fixture("empty.yaml"), "--phase", "a"]);
    let mode = out.one("profile.trading.mode");
    assert_eq!(
        (mode["value"].as_str(), mode["level"].as_str()),
        (Some("normal"), Some("crit"))
    );
}

#[test]
fn syntax_errors_name_file_line_col_with_a_snippet() {
    let f = fixture("syntax-error.yaml");
    let out = run(&[&f, "--phase", "a"]);
    let load = out.one("profile.load");
    let msg = load["msg"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&format!("{f}:5:20: illegal placement")),
        "{msg}"
    );
    assert_eq!(load["line"], 5);
    assert!(
        load["snippet"]
            .as_str()
            .is_some_and(|s| s.contains("position_fraction"))
    );
    assert!(out.stderr.contains(&format!("{f}:5:20")), "{}", out.stderr);
    let tabs = run(&[&fixture("tabs.yaml"), "--phase", "a"]).one("profile.load");
    assert!(
        tabs["msg"].as_str().is_some_and(|m| m.contains("tab")),
        "{tabs}"
    );
    let dup = run(&[&fixture("duplicate-keys.yaml"), "--phase", "a"]);
    assert!(
        dup.one("profile.load")["msg"]
            .as_str()
            .is_some_and(|m| m.contains("duplicate") && m.contains(":3:"))
    );
    // PyYAML keeps the last value: reduce_only.
    assert_eq!(dup.one("profile.trading.mode")["value"], "reduce_only");
}

#[test]
fn yaml_1_1_scalars_are_reported_not_coerced() {
    let out = run(&[&fixture("yaml11.yaml"), "--phase", "a"]);
    let notes: Vec<(String, Value)> = out
        .named("profile.yaml11_scalar")
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or_default().to_owned(),
                r["yaml11"].clone(),
            )
        })
        .collect();
    assert!(
        notes.contains(&("execution.dry_run".into(), Value::Bool(true))),
        "{notes:?}"
    );
    assert!(
        notes.contains(&("trading.interval".into(), Value::from(8))),
        "{notes:?}"
    );
    assert!(
        notes.contains(&("execution.mock_broker".into(), Value::Bool(false))),
        "{notes:?}"
    );
    let eff = out.one("profile.effective");
    assert_eq!(eff["value"]["trading.interval"], 8);
    let sess = run(&[&fixture("session-unquoted.yaml"), "--phase", "a"]);
    let load = sess.one("profile.load");
    assert!(
        load["msg"]
            .as_str()
            .is_some_and(|m| m.contains("ProfileValidationError") && m.contains("base-60"))
    );
}

#[test]
fn execution_falls_back_to_trading_execution() {
    let dir = temp_dir("exec");
    let p = write(
        &dir,
        "canary.yaml",
        b"execution: {}\ntrading:\n  execution:\n    time_in_force: FOK\n",
    );
    let eff = run(&[&p, "--phase", "a"]).one("profile.effective");
    assert_eq!(eff["value"]["execution.time_in_force"], "FOK");
    let p2 = write(
        &dir,
        "c2.yaml",
        b"execution:\n  time_in_force: GTD\ntrading:\n  execution:\n    time_in_force: FOK\n",
    );
    let out = run(&[&p2, "--phase", "a"]);
    assert_eq!(
        out.one("profile.effective")["value"]["execution.time_in_force"],
        "GTD"
    );
    assert!(
        out.named("profile.ignored_key")
            .iter()
            .any(|r| r["value"] == "trading.execution")
    );
}

#[test]
fn hostile_files_are_refused_within_budget() {
    let dir = temp_dir("hostile");
    // Billion laughs.
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        bomb.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
    }
    let p = write(&dir, "bomb.yaml", bomb.as_bytes());
    let started = std::time::Instant::now();
    let out = run(&[&p, "--phase", "a"]);
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.one("profile.read")["msg"]
            .as_str()
            .is_some_and(|m| m.contains("refused"))
    );

    // 50 MB, generated here, never committed.
    let big = dir.join("big.yaml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).expect("create"));
        let line = b"key_with_some_padding: value with some padding to make the line longer\n";
        for _ in 0..(50 * 1024 * 1024 / line.len() + 1) {
            f.write_all(line).expect("write");
        }
        f.flush().expect("flush");
    }
    let out = run(&[&big.display().to_string(), "--phase", "a"]);
    assert_eq!(out.code, 2);
    assert!(
        out.one("profile.read")["msg"]
            .as_str()
            .is_some_and(|m| m.contains("over the 1048576-byte limit"))
    );
    std::fs::remove_file(&big).expect("cleanup");

    let p = write(&dir, "latin1.yaml", b"trading:\n  mode: r\xe9duce_only\n");
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.code, 2);
    assert!(
        out.one("profile.read")["msg"]
            .as_str()
            .is_some_and(|m| m.contains("line 2: not UTF-8"))
    );
    assert!(
        out.stderr.starts_with("check-profile: error: "),
        "{}",
        out.stderr
    );

    let out = run(&[&dir.display().to_string(), "--phase", "a"]);
    assert_eq!(out.code, 2, "a directory: {out:?}");
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(run(&["examples/profiles/canary.yaml"]).code, 2);
    assert_eq!(
        run(&["examples/profiles/canary.yaml", "--phase", "c"]).code,
        2
    );
    let help = run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Examples:") && help.stdout.contains("| jq"));
}

#[test]
fn derives_the_phase_b_profile_keeping_everything_else() {
    let dir = temp_dir("derive");
    let out_path = dir.join("canary_open.yaml").display().to_string();
    let src = format!("{ROOT}/examples/profiles/canary.yaml");
    let out = run(&[&src, "--write-phase-b", &out_path]);
    let derive = out.one("profile.derive");
    assert!(
        derive["msg"]
            .as_str()
            .is_some_and(|m| m.contains("--config") && m.contains("canary_open"))
    );
    // The derived canary.yaml still fails position_fraction: NO-GO for B too.
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.one("profile.trading.mode")["value"], "normal");
    assert_eq!(out.one("profile.trading.mode")["level"], "ok");
    let before = std::fs::read_to_string(&src).expect("read");
    let after = std::fs::read_to_string(&out_path).expect("read");
    let diff: Vec<(&str, &str)> = before
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        diff,
        [(
            "  mode: \"reduce_only\"          # Phase A: reduce-only",
            "  mode: \"normal\"          # Phase A: reduce-only"
        )]
    );
    assert_eq!(before.lines().count(), after.lines().count());

    let again = run(&[&src, "--write-phase-b", &out_path]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    assert!(again.stdout.is_empty());
    let forced = run(&[&src, "--write-phase-b", &out_path, "--force"]);
    assert_eq!(forced.code, 1, "{forced:?}");

    // A profile without trading.mode gets one inserted under trading.
    let p = write(&dir, "canary.yaml", b"# keep me\ntrading:\n  interval: 60\nrisk_management:\n  max_leverage: 1\n  position_fraction: 0.001\n  daily_loss_limit_pct: 0.01\n");
    let out2 = dir.join("open2.yaml").display().to_string();
    let r = run(&[&p, "--write-phase-b", &out2]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&out2).expect("read");
    assert!(
        text.starts_with("# keep me\ntrading:\n  mode: normal\n  interval: 60\n"),
        "{text}"
    );
}

#[test]
fn tags_safe_load_refuses_are_the_bots_silent_fallback() {
    let dir = temp_dir("tags-refused");
    for (i, tagged) in [
        "risk_management:\n  max_leverage: !Ref leverage\n",
        "broker:\n  api_key: !secret coinbase_key\n",
        "hook: !!python/name:os.system\n",
        "hook: !!python/object/apply:os.system [ls]\n",
        "risk_management: !Ref {max_leverage: 1}\n",
        "risk_management:\n  max_leverage: !!int 1.0\n",
        "risk_management: !!map [1]\n",
    ]
    .iter()
    .enumerate()
    {
        let body = format!("trading:\n  mode: reduce_only\n{tagged}");
        let case = dir.join(i.to_string());
        std::fs::create_dir_all(&case).expect("dir");
        let p = write(&case, "canary.yaml", body.as_bytes());
        let out = run(&[&p, "--phase", "a"]);
        assert_eq!(out.code, 1, "{tagged:?}: {out:?}");
        let load = out.one("profile.load");
        assert_eq!(
            (load["level"].as_str(), load["value"].as_str()),
            (Some("crit"), Some("fallback")),
            "{tagged:?}: {load}"
        );
        let msg = load["msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("tag ") && msg.contains("falls back") && msg.contains("shorts ENABLED"),
            "{msg}"
        );
        assert!(
            load["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{load}"
        );
        assert!(
            out.stderr.contains("check-profile: crit: "),
            "{}",
            out.stderr
        );
        assert_eq!(
            out.one("profile.effective")["sources"]["trading.mode"],
            "hard-coded default"
        );
    }
}

#[test]
fn standard_tags_are_read_as_safe_load_reads_them() {
    let dir = temp_dir("tags-std");
    let p = write(
        &dir,
        "canary.yaml",
        b"trading:\n  mode: !!str reduce_only\n  interval: !!int \"30\"\nrisk_management:\n  max_leverage: !!int \"1\"\n  position_fraction: !!float 0.001\n  daily_loss_limit_pct: !!float \"0.01\"\n  enable_shorts: !!bool no\nexecution: !!map\n  dry_run: !!bool \"false\"\n  time_in_force: !!str IOC\nnotes: !!set {a, b}\nblob: !!binary aGk=\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.one("profile.load")["value"], "loaded");
    let eff = out.one("profile.effective")["value"].clone();
    assert_eq!(eff["trading.interval"], 30);
    assert_eq!(eff["risk_management.max_leverage"], 1);
    assert_eq!(eff["risk_management.enable_shorts"], false);
    assert_eq!(eff["execution.dry_run"], false);
    // Bytes are never the string reduce_only, whatever they decode to.
    let p = write(
        &dir,
        "c2.yaml",
        b"trading:\n  mode: !!binary cmVkdWNlX29ubHk=\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.one("profile.trading.mode")["level"], "crit");
    // `!!set` is a Python set, not a dict: a section written so raises.
    let p = write(&dir, "c3.yaml", b"trading: !!set {mode, symbols}\n");
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.one("profile.load")["value"], "fallback", "{out:?}");
}

#[test]
fn a_tag_on_its_own_line_under_an_anchor_is_read_as_safe_load_reads_it() {
    // `!!int 010` is octal 8 to PyYAML. Written on its own line under an
    // anchor, the tool used to report a fallback to the hard-coded profile
    // (leverage 1, ok) while the bot ran leverage 8.
    let dir = temp_dir("own-line-tag");
    let p = write(
        &dir,
        "canary.yaml",
        b"trading:\n  mode: reduce_only\nrisk_management:\n  max_leverage: &lev\n    !!int 010\n  max_position_size: *lev\n  enable_shorts: &s\n    !!bool no\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.one("profile.load")["value"], "loaded", "{out:?}");
    let lev = out.one("profile.risk_management.max_leverage");
    assert_eq!(
        (
            lev["level"].as_str(),
            lev["value"].as_i64(),
            lev["line"].as_u64()
        ),
        (Some("crit"), Some(8), Some(5)),
        "{lev}"
    );
    let eff = out.one("profile.effective")["value"].clone();
    assert_eq!(eff["risk_management.max_position_size"].as_f64(), Some(8.0));
    assert_eq!(eff["risk_management.enable_shorts"], false);
}

#[test]
fn quoted_values_containing_a_space_hash_are_read_whole() {
    let dir = temp_dir("quoted-hash");
    let p = write(
        &dir,
        "canary.yaml",
        b"description: \"canary #1, 'reduce' #2\" # a comment\ntrading:\n  mode: 'reduce_only'\n  'note #1': |\n    yes\nexecution:\n  time_in_force: 'IOC #x'\n",
    );
    let out = run(&[&p, "--phase", "a"]);
    assert_eq!(out.one("profile.load")["value"], "loaded", "{out:?}");
    assert_eq!(out.one("profile.trading.mode")["level"], "ok");
    let eff = out.one("profile.effective")["value"].clone();
    assert_eq!(eff["description"], "canary #1, 'reduce' #2");
    assert_eq!(eff["execution.time_in_force"], "IOC #x");
    // The block scalar after the quoted key is a string, never the YAML
    // 1.1 boolean `yes`.
    assert!(out.named("profile.yaml11_scalar").is_empty(), "{out:?}");
}

#[test]
fn documents_safe_load_composes_are_read_as_it_composes_them() {
    let dir = temp_dir("compose");
    let base = "risk_management:\n  max_leverage: 1\n  position_fraction: 0.001\n  daily_loss_limit_pct: 0.01\n";
    // (body, profile.load value, trading.mode value)
    let cases: &[(String, &str, &str)] = &[
        // An empty tagged string is the empty string, not an unknown.
        (format!("trading:\n  mode: !!str\n{base}"), "loaded", ""),
        // A null document is None to safe_load: the bot reads it as {}.
        ("~\n".to_owned(), "empty", "normal"),
        ("--- !!null\n".to_owned(), "empty", "normal"),
        ("--- !Ref ~\n".to_owned(), "fallback", "reduce_only"),
        // Merge keys: the explicit key wins, then the first mapping listed.
        (
            format!(
                "a: &a {{mode: normal}}\nb: &b {{mode: reduce_only}}\ntrading:\n  <<: [*b, *a]\n{base}"
            ),
            "loaded",
            "reduce_only",
        ),
        (
            format!("a: &a {{mode: reduce_only}}\ntrading:\n  <<: *a\n  mode: normal\n{base}"),
            "loaded",
            "normal",
        ),
        // `1` and `1.0` are one dict key; a list is no key at all.
        (
            format!("trading:\n  mode: reduce_only\n{base}1: a\n1.0: b\n"),
            "duplicate_key",
            "reduce_only",
        ),
        (
            format!("trading:\n  mode: normal\n{base}? [a]\n: 1\n"),
            "fallback",
            "reduce_only",
        ),
        (
            format!("trading:\n  mode: normal\n{base}---\nb: 2\n"),
            "fallback",
            "reduce_only",
        ),
        (
            format!("trading:\n  <<: 5\n  mode: normal\n{base}"),
            "fallback",
            "reduce_only",
        ),
    ];
    for (i, (body, load, mode)) in cases.iter().enumerate() {
        let case = dir.join(i.to_string());
        std::fs::create_dir_all(&case).expect("dir");
        let p = write(&case, "canary.yaml", body.as_bytes());
        let out = run(&[&p, "--phase", "a"]);
        assert_eq!(out.one("profile.load")["value"], *load, "{body:?}: {out:?}");
        assert_eq!(
            out.one("profile.effective")["value"]["trading.mode"],
            *mode,
            "{body:?}: {out:?}"
        );
    }
}

#[test]
fn null_sections_make_the_bot_fall_back_with_shorts_enabled() {
    let dir = temp_dir("null-sections");
    let base = "trading:\n  mode: reduce_only\nrisk_management:\n  max_leverage: 1\n  position_fraction: 0.001\n  daily_loss_limit_pct: 0.01\n";
    for (section, body) in [
        (
            "trading.execution",
            base.to_string().replace(
                "  mode: reduce_only\n",
                "  mode: reduce_only\n  execution: null\n",
            ),
        ),
        (
            "trading.execution",
            format!("execution: {{}}\n{base}").replace(
                "  mode: reduce_only\n",
                "  mode: reduce_only\n  execution:\n",
            ),
        ),
        ("session", format!("{base}session: null\n")),
        ("monitoring", format!("{base}monitoring: ~\n")),
        (
            "monitoring.metrics",
            format!("{base}monitoring:\n  metrics: null\n"),
        ),
        ("strategy", format!("{base}strategy:\n")),
        ("execution", format!("{base}execution: [1]\n")),
    ] {
        let p = write(&dir, "canary.yaml", body.as_bytes());
        let out = run(&[&p, "--phase", "a"]);
        assert_eq!(out.code, 1, "{section}: {out:?}");
        let load = out.one("profile.load");
        assert_eq!(load["value"], "fallback", "{section}: {load}");
        assert_eq!(load["failures"][0]["key"], section, "{load}");
        assert!(
            load["msg"]
                .as_str()
                .is_some_and(|m| m.contains("shorts ENABLED")),
            "{load}"
        );
        assert_eq!(
            out.one("profile.effective")["value"]["risk_management.enable_shorts"],
            true
        );
    }
    // A missing or empty trading.execution is no fallback.
    let p = write(
        &dir,
        "canary.yaml",
        format!("execution: null\n{base}").as_bytes(),
    );
    assert_eq!(
        run(&[&p, "--phase", "a"]).one("profile.load")["value"],
        "loaded"
    );
}

#[test]
fn a_dry_run_or_mock_broker_canary_is_no_go() {
    let dir = temp_dir("dry-run");
    let base = "trading:\n  mode: reduce_only\nrisk_management:\n  max_leverage: 1\n  position_fraction: 0.001\n  daily_loss_limit_pct: 0.01\n";
    for (exec, key) in [
        ("execution:\n  dry_run: true\n", "execution.dry_run"),
        ("execution:\n  mock_broker: yes\n", "execution.mock_broker"),
        ("trading_x: 1\nexecution: {}\n", ""),
        ("execution:\n  dry_run: \"false\"\n", "execution.dry_run"),
    ] {
        let body = format!("{base}{exec}");
        let body = if key.is_empty() {
            body.replace(
                "  mode: reduce_only\n",
                "  mode: reduce_only\n  execution:\n    mock_broker: true\n",
            )
        } else {
            body
        };
        let p = write(&dir, "canary.yaml", body.as_bytes());
        let out = run(&[&p, "--phase", "a"]);
        assert_eq!(out.code, 1, "{exec}: {out:?}");
        let r = out.one("profile.execution");
        assert_eq!(r["level"], "crit", "{r}");
        assert!(
            r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("rejects every")),
            "{r}"
        );
    }
    let ok = run(&["examples/profiles/phase-a.yaml", "--phase", "a"]);
    assert_eq!(ok.one("profile.execution")["level"], "ok");
}

#[test]
fn fifos_devices_and_directories_are_refused_not_hung_on() {
    let dir = temp_dir("special");
    let fifo = dir.join("canary.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let deadline = std::time::Duration::from_secs(10);
    for path in [
        fifo.display().to_string(),
        "/dev/zero".to_owned(),
        dir.display().to_string(),
    ] {
        let started = std::time::Instant::now();
        let mut child = Command::new(bin())
            .args([&path, "--phase", "a"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                panic!("{path}: still running after {deadline:?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let out = child.wait_with_output().expect("output");
        assert_eq!(status.code(), Some(2), "{path}");
        let stdout = String::from_utf8(out.stdout).expect("utf8");
        let rec: Value = serde_json::from_str(stdout.trim()).expect("one record");
        assert_eq!(rec["name"], "profile.read");
        assert!(
            rec["msg"]
                .as_str()
                .is_some_and(|m| m.contains("not a regular file")),
            "{rec}"
        );
    }
}

/// The real `yaml.safe_load`'s verdict on each file, in order (true where
/// it loads), from one python3 for them all; `open` is the Python expression
/// that opens the file `p`.
fn safe_load_verdicts(files: &[(String, String)], open: &str) -> Vec<bool> {
    let script = format!(
        "import sys, yaml\nfor p in sys.argv[1:]:\n    try:\n        yaml.safe_load({open}); print('ok')\n    except Exception:\n        print('err')"
    );
    let py = Command::new("python3")
        .args(["-c", &script])
        .args(files.iter().map(|(p, _)| p))
        .output()
        .expect("python3");
    let verdicts: Vec<bool> = String::from_utf8_lossy(&py.stdout)
        .lines()
        .map(|l| l == "ok")
        .collect();
    assert_eq!(
        verdicts.len(),
        files.len(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    verdicts
}

/// Does `python3` have `module`? Parity tests skip, saying so, without it,
/// except under scripts/test, where they fail.
pub fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        // scripts/test installs the bot's libraries and sets this: there a
        // parity test that cannot run is a failure, never a silent skip.
        assert!(
            std::env::var_os("CANARY_KIT_REQUIRE_PYTHON").is_none(),
            "python3 cannot import {module}: the parity tests need it"
        );
        eprintln!("skipped: python3 with {module} is not installed");
    }
    ok
}

#[test]
fn tags_fall_back_exactly_when_the_bots_safe_load_fails() {
    if !python_has("yaml") {
        return;
    }
    let cases = [
        "!!str 5",
        "!!int \"5\"",
        "!!float 1",
        "!!bool yes",
        "!!null x",
        "!!int 0x10",
        "!!int 010",
        "!!int 0o17",
        "!!int 09",
        "!!float 1e3",
        "! 5",
        "! \"5\"",
        "!!map {x: 1}",
        "!!seq [1]",
        "!!set {x, y}",
        "!!omap [{x: 1}]",
        "!<tag:yaml.org,2002:int> 7",
        "!!timestamp 2024-01-02",
        "!!binary aGk=",
        "!!binary '***'",
        "!!binary 'aGk'",
        "!Ref other",
        "!secret key",
        "!!python/name:os.system",
        "!!python/object/apply:os.system [ls]",
        "!!merge {b: 1}",
        "!!value 1",
        "!!int 1.0",
        "!!int abc",
        "!!float abc",
        "!!bool maybe",
        "!!map 1",
        "!!seq {b: 1}",
        "!!str [1]",
        "!!timestamp soon",
        "!!int 1_000",
        "!!float -.inf",
        "!!bool \"false\"",
        "!!int ' 5'",
        "!!float ' 1.5 '",
        "!!omap {x: 1}",
        "!!pairs [{x: 1, y: 2}]",
        "!!omap [{x: 1, y: 2}]",
        "!!set [1]",
        "!!int +0x10",
        "!!float 1:30.5",
        "!!int 1:30",
        "!Ref {a: 1}",
        "!!python/tuple [1, 2]",
    ];
    let dir = temp_dir("tag-parity");
    let mut mismatches = Vec::new();
    // Whole documents: tags on keys and on their own line, under anchors,
    // next to quoted text holding ` #`, and what the composer refuses.
    let documents = [
        "!!str trading:\n  mode: reduce_only\n  !!str interval: !!int \"30\"\n".to_owned(),
        "trading:\n  mode:\n    !!str reduce_only\n".to_owned(),
        "trading:\n  !Ref mode: reduce_only\n".to_owned(),
        "trading:\n  symbols:\n  - !!str BTC-USD\n  mode: reduce_only\n".to_owned(),
        "trading: !!map\n  mode: reduce_only\n".to_owned(),
        "trading:\n  mode:\n    !!bool yes\n".to_owned(),
        "risk_management:\n  max_leverage: &lev\n    !!int 010\n  enable_shorts: &s\n    !!bool no\n".to_owned(),
        "risk_management:\n  position_fraction:\n    !!float 1_0e-4\ntrading:\n  interval:\n    !!int 1:30\n".to_owned(),
        "trading:\n  mode: !!str\n".to_owned(),
        "trading:\n  'mode #1': |\n    x\n  \"a #b\": !!int\n    5\n".to_owned(),
        "? [a]\n: 1\n".to_owned(),
        "a: 1\n---\nb: 2\n".to_owned(),
        "trading:\n  <<: 5\n".to_owned(),
        "trading:\n  <<: [{mode: x}, 1]\n".to_owned(),
        "a: &a !!omap [{x: 1}]\nb: !!omap [*a]\n".to_owned(),
        // Tabs: PyYAML takes them only in quoted and block scalars and
        // comments; YAML 1.2 parsers take more.
        "trading:\n  mode: reduce_only\t# tab\n".to_owned(),
        "trading:\n  mode:\treduce_only\n".to_owned(),
        "trading:\n  mode: 'reduce\tonly' # c\td\n  note: |\n    a\tb\n".to_owned(),
        "trading:\n  mode: |\n    x\n   \t\n".to_owned(),
        // Anchors: PyYAML takes [A-Za-z0-9_-] names, each defined once.
        "trading: &t\n  mode: &m reduce_only\nx: &m 1\n".to_owned(),
        "trading:\n  mode: &m.1 reduce_only\n".to_owned(),
        "trading:\n  mode: &m-1_a reduce_only\nx: *m-1_a\n".to_owned(),
        // A key left out; an explicit empty key.
        "trading:\n  mode: reduce_only\n  : x\n".to_owned(),
        "trading:\n  mode: reduce_only\n?\n: x\n".to_owned(),
        "trading: {mode: reduce_only,\n  sym\n  bols: [x]}\n".to_owned(),
        "trading: &t{mode: reduce_only}\n".to_owned(),
        "trading: {mode: reduce_only, symbols: [BTC?USD]}\n".to_owned(),
        // A plain `<<` or `=` anywhere but as a mapping key is a tag
        // SafeLoader cannot construct; as a key `=` is a string.
        "trading:\n  mode: reduce_only\n  note: =\n".to_owned(),
        "trading:\n  mode: reduce_only\n  note: <<\n".to_owned(),
        "trading:\n  mode: reduce_only\n  notes: [x, ! <<]\n".to_owned(),
        "trading:\n  mode: reduce_only\n  =: x\n".to_owned(),
        "trading:\n  mode: reduce_only\n  note: '='\n".to_owned(),
        // `0x_` resolves to an int with no digits: int() raises.
        "trading:\n  mode: reduce_only\n  note: 0x_\n".to_owned(),
        "trading:\n  mode: reduce_only\n  note: 0x_1\n".to_owned(),
        // PyYAML's tag runs over `,`, `[` and `]` up to a space; any other
        // character right after it is a scanner error.
        "trading: {mode: reduce_only, note: !!str}\n".to_owned(),
        "trading:\n  mode: reduce_only\n  symbols: [!!str BTC-USD, !!str]\n".to_owned(),
        "trading:\n  mode: reduce_only\n  symbols: [!!str, BTC-USD]\n".to_owned(),
        "trading:\n  mode: reduce_only\n  symbols: [!]\n".to_owned(),
        "trading:\n  mode: !!str\"reduce_only\"\n".to_owned(),
        "trading:\n  mode: [!<tag:yaml.org,2002:str> reduce_only]\n".to_owned(),
        // PyYAML breaks lines at NEL, U+2028 and U+2029 too: a key holding
        // one spans lines, and safe_load fails.
        "trading:\n  mode: reduce_only\nsessi\u{2028}on: {start_time: '14:00'}\n".to_owned(),
        "trading:\n  mode: reduce_only\n  no\u{85}te: x\n".to_owned(),
        "trading:\n  mode: reduce_only\n  sym\u{2029}bols: [x]\n".to_owned(),
        // A flow key whose `:` is on a later line is no key to PyYAML.
        "trading: {mode\n  : reduce_only}\n".to_owned(),
        "trading: {mode\n  # why\n  : reduce_only}\n".to_owned(),
        "trading: {? mode\n  : reduce_only}\n".to_owned(),
        // PyYAML's stream start: `...` before any document fails; only one
        // byte-order mark is skipped.
        "# c\n...\ntrading:\n  mode: reduce_only\n".to_owned(),
        "\u{feff}trading:\n  mode: reduce_only\n".to_owned(),
        "%YAML 1.1\n---\ntrading:\n  mode: reduce_only\n...\n".to_owned(),
        // Inside [...] or {...} PyYAML takes no plain scalar starting with ':'.
        "trading:\n  mode: reduce_only\nsession: {start_time: :'14:00'}\n".to_owned(),
        "trading: {mode: reduce_only, symbols: [a:b]}\n".to_owned(),
    ];
    let bodies = cases
        .iter()
        .map(|case| format!("trading:\n  mode: reduce_only\nextra: {case}\n"))
        .chain(documents);
    let mut files = Vec::new();
    for (i, body) in bodies.enumerate() {
        let case_dir = dir.join(i.to_string());
        std::fs::create_dir_all(&case_dir).expect("dir");
        files.push((write(&case_dir, "canary.yaml", body.as_bytes()), body));
    }
    let verdicts = safe_load_verdicts(&files, "open(p)");
    assert_eq!(verdicts.len(), files.len());
    for ((p, case), safe_load_ok) in files.iter().zip(verdicts) {
        let out = run(&[p, "--phase", "a"]);
        let load = out.one("profile.load");
        let falls_back = load["value"] == "fallback";
        if falls_back == safe_load_ok {
            mismatches.push(format!(
                "{case:?}: safe_load ok={safe_load_ok} check-profile {load}"
            ));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn mutated_profiles_never_load_where_safe_load_fails() {
    // Fail-open guard: profiles mutated with YAML's sharp characters,
    // judged by the real `yaml.safe_load`. Where it raises, the bot falls
    // back to its hard-coded profile, so check-profile must never say the
    // file loads. Seeded, so a failure reproduces.
    if !python_has("yaml") {
        return;
    }
    let seeds = [
        std::fs::read_to_string(format!("{ROOT}/examples/profiles/canary.yaml")).expect("read"),
        "trading:\n  mode: reduce_only\n  symbols: [BTC-USD, 'ETH #1']\nrisk_management:\n  max_leverage: &lev 1\n  position_fraction: 0.001\n  daily_loss_limit_pct: *lev\nexecution:\n  time_in_force: !!str IOC\n  note: |\n    a\tb\n".to_owned(),
        "base: &b {mode: reduce_only}\ntrading:\n  <<: *b\n  interval: 0x1e\nsession: {start_time: '14:00'}\n".to_owned(),
    ];
    let pieces = [
        ":", "-", "[", "]", "{", "}", "&a ", "*a", "!", "!!int ", "!!str ", "|", ">", "#", "'",
        "\"", "\n", "\n  ", " ", "\t", ",", "?", "<<: ", "---\n", "~", "%", "@", "`", ".",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let dir = temp_dir("mutated");
    let mut files = Vec::new();
    for i in 0..300 {
        let mut body: Vec<char> = seeds[next(seeds.len())].chars().collect();
        for _ in 0..1 + next(5) {
            let at = next(body.len() + 1);
            if next(10) < 6 {
                let piece = pieces[next(pieces.len())];
                body.splice(at..at, piece.chars());
            } else if at < body.len() {
                body.remove(at);
            }
        }
        let body: String = body.into_iter().collect();
        let case = dir.join(i.to_string());
        std::fs::create_dir_all(&case).expect("dir");
        files.push((write(&case, "canary.yaml", body.as_bytes()), body));
    }
    let verdicts = safe_load_verdicts(&files, "open(p, encoding='utf-8')");
    assert_eq!(verdicts.len(), files.len());
    let mut open = Vec::new();
    for ((p, body), safe_load_ok) in files.iter().zip(verdicts) {
        if safe_load_ok {
            continue;
        }
        let out = run(&[p, "--phase", "a"]);
        let load = out
            .named("profile.load")
            .into_iter()
            .next()
            .unwrap_or_default();
        if matches!(
            load["value"].as_str(),
            Some("loaded" | "empty" | "duplicate_key")
        ) {
            open.push(format!("{body:?}: {load}"));
        }
    }
    assert!(open.is_empty(), "{open:#?}");
}

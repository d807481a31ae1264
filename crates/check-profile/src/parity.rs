//! Whole-tree parity with the real `yaml.safe_load` (when python3 with
//! PyYAML is installed): every value, key and structure the composer builds
//! is what the bot's loader gets, or both fail. The corpus holds the
//! documents a review found read differently (each now fixed) and the
//! YAML 1.1 corners around them.

use crate::pyyaml::PyValue;
use crate::tags::Outcome;
use crate::yaml::{self, Node, NodeKind};
use serde_json::{Value, json};

fn canon(n: &Node) -> Value {
    match &n.kind {
        NodeKind::Scalar(s) => match &s.py {
            PyValue::Null => Value::Null,
            PyValue::Bool(b) => json!({ "b": b }),
            PyValue::Int(i) => json!({ "i": i.to_string() }),
            PyValue::Float(f) if f.is_nan() => json!({ "f": "nan" }),
            PyValue::Float(f) => json!({ "f": f.to_bits().to_string() }),
            PyValue::Str(t) => json!({ "s": t }),
            PyValue::Timestamp(_) => json!({ "t": 0 }),
            PyValue::Bytes(_) => json!({ "y": 0 }),
        },
        NodeKind::Seq(items) => json!({ "l": items.iter().map(canon).collect::<Vec<_>>() }),
        NodeKind::Map(entries) => {
            let mut pairs: Vec<(String, Value)> = entries
                .iter()
                .map(|(k, v)| (canon(k).to_string(), canon(v)))
                .collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            json!({ "m": pairs.into_iter().map(|(k, v)| json!([serde_json::from_str::<Value>(&k).unwrap_or(Value::Null), v])).collect::<Vec<_>>() })
        }
    }
}

/// What check-profile says `safe_load` gives: the tree, or "err".
fn ours(src: &str) -> String {
    match yaml::parse(src) {
        Err(_) => "err".into(),
        Ok(p)
            if p.tags
                .iter()
                .any(|t| matches!(t.outcome, Outcome::Refused(_))) =>
        {
            "err".into()
        }
        Ok(p) => p.root.as_ref().map_or(Value::Null, canon).to_string(),
    }
}

const PY: &str = r#"
import sys, json, yaml, struct, datetime
def canon(v):
    if v is None: return None
    if isinstance(v, bool): return {"b": v}
    if isinstance(v, int): return {"i": str(v)}
    if isinstance(v, float):
        if v != v: return {"f": "nan"}
        return {"f": str(struct.unpack('<Q', struct.pack('<d', v))[0])}
    if isinstance(v, str): return {"s": v}
    if isinstance(v, (datetime.date, datetime.datetime)): return {"t": 0}
    if isinstance(v, bytes): return {"y": 0}
    if isinstance(v, (list, tuple)): return {"l": [canon(x) for x in v]}
    if isinstance(v, (set, frozenset)): return {"l": sorted((canon(x) for x in v), key=lambda c: json.dumps(c, sort_keys=True, separators=(',', ':')))}
    if isinstance(v, dict):
        pairs = sorted(([canon(k), canon(x)] for k, x in v.items()), key=lambda p: json.dumps(p[0], sort_keys=True, separators=(',', ':')))
        return {"m": pairs}
    return {"?": type(v).__name__}
for p in sys.argv[1:]:
    try:
        with open(p, encoding='utf-8') as f:
            v = yaml.safe_load(f)
        print(json.dumps(canon(v), sort_keys=True, separators=(',', ':')))
    except Exception:
        print("err")
"#;

const CORPUS: &[&str] = &[
    "a: 010\nb: 0o10\nc: 0x_1\nd: 1_000\ne: +.inf\nf: 1:20\ng: 190:20:30.15\nh: ~\ni: yes\nj: Off\nk: 1e3\nl: 1.0e+3\nm: .5\nn: 0b1_0\n",
    "a: !!int 010\nb: !!float 1\nc: !!bool on\nd: !!str 5\ne: !!null x\nf: ! 5\ng: ! '5'\nh: !!int '0x10'\n",
    "a: =\n",
    "=: a\nb: {=: 1}\n",
    "a: <<\n",
    "a: [x, ! <<]\n",
    "! <<: {a: 1}\nb: 2\n",
    "'<<': {a: 1}\n",
    "a: 0x_\n",
    "a: [!!str, x]\n",
    "a: {b: !!str}\n",
    "a: !!str\"x\"\n",
    "a: [!]\n",
    "a: [!<tag:yaml.org,2002:str> x]\n",
    "a: x\u{85}y\n",
    "a\u{2028}b: 1\n",
    "a: {mode\n  : x}\n",
    "a: {? mode\n  : x}\n",
    "...\na: 1\n",
    "\u{feff}a: 1\n",
    "a: {b: :'14:00'}\n",
    "a: [a:b]\n",
    "a: &a {x: 1, y: 2}\nb: &b {x: 3, z: 4}\nc:\n  <<: [*a, *b]\n  y: 5\n",
    "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: 2\n",
    "1: x\n'1': y\n",
    "a: |-\n  x\n  y\nb: >\n  x\n\n  y\nc: |+\n  z\n\nd: 'x\n\n  y'\ne: \"x\\\n  y\"\nf: x\n  y\n",
    "a: 'x\ty'\nb: |\n  x\ty\n# \tc\n",
    "a: 1\r\nb: [x, y]\r\n",
    "%YAML 1.1\n---\na: 1\n...\n",
    "a: [1, 2,]\nb: {c: 1,}\nc: {d, e}\n",
    "? a\n: 1\n? [b]\n: 2\n",
    "a: 1\n---\nb: 2\n",
    "a: !!binary aGk=\nb: !!timestamp 2024-01-02\nc: 2024-01-02\n",
    "a: !Ref x\n",
    "a: !!python/name:os.system\n",
];

#[test]
fn trees_match_safe_load() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        // scripts/test installs PyYAML and sets this: there the parity test
        // must run, never skip.
        assert!(
            std::env::var_os("CANARY_KIT_REQUIRE_PYTHON").is_none(),
            "python3 cannot import yaml: the parity test needs it"
        );
        eprintln!("skipped: python3 with yaml is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("check-profile-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let paths: Vec<_> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let p = dir.join(format!("{i}.yaml"));
            std::fs::write(&p, doc).expect("write");
            p
        })
        .collect();
    let py = std::process::Command::new("python3")
        .args(["-c", PY])
        .args(&paths)
        .output()
        .expect("python3");
    let _ = std::fs::remove_dir_all(&dir);
    let theirs: Vec<String> = String::from_utf8_lossy(&py.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        theirs.len(),
        CORPUS.len(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let sorted = |s: &str| match serde_json::from_str::<Value>(s) {
        Ok(v) => v.to_string(),
        Err(_) => s.to_owned(),
    };
    let mismatches: Vec<String> = CORPUS
        .iter()
        .zip(&theirs)
        .filter(|(doc, t)| sorted(&ours(doc)) != sorted(t))
        .map(|(doc, t)| format!("{doc:?}: safe_load {t}, check-profile {}", ours(doc)))
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

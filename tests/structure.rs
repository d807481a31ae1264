//! The structure reads one way: inside every crate the modules form a DAG.
//! A module that uses an item of another (`crate::a::X`, `super::X`,
//! `child::X`) depends on it; two modules that depend on each other,
//! directly or around a loop, are a cycle, and a cycle hides which one is
//! the ground. Shared items belong in a leaf module both can use.
//!
//! The check reads the sources (no compiler help): it tokenizes each file,
//! drops comments, strings and `#[cfg(test)]` items, expands `use` trees and
//! resolves each path to the longest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles tolerated, as (crate, the modules of one cycle): none. A new
/// cycle fails the test; an entry here that is no longer a cycle fails too,
/// so the list can only hold what is true.
const KNOWN: &[(&str, &[&str])] = &[];

/// A module's path inside its crate: `[]` for lib.rs/main.rs.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Path, // `::`
    Punct(char),
}

/// Tokens of Rust source, without comments, string/char literals and
/// lifetimes: only what names a path matters here.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (ch == 'r' || ch == 'b')
            && raw_string_start(&c, i).is_some()
            && (i == 0 || !is_ident(c[i - 1]))
        {
            let (hashes, open) = raw_string_start(&c, i).unwrap_or((0, i));
            i = open + 1;
            'raw: while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|k| c.get(i + 1 + k) == Some(&'#')) {
                    i += 1 + hashes;
                    break 'raw;
                }
                i += 1;
            }
        } else if ch == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F}') or a lifetime ('a).
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && is_ident(c[i]) {
                    i += 1;
                }
            }
        } else if is_ident(ch) {
            let start = i;
            while i < c.len() && is_ident(c[i]) {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            if word.chars().next().is_some_and(|f| f.is_ascii_digit()) {
                continue;
            }
            out.push(Tok::Ident(word));
        } else if ch == ':' && next == Some(':') {
            out.push(Tok::Path);
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push(Tok::Punct(ch));
            }
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `r"`, `r#"`, `br##"`…: the number of hashes and the index of the quote.
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c.get(j) == Some(&'b') {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j))
}

/// The index after the token group that starts at `i` with an opening
/// bracket, or after the item's `;` when none comes first.
fn skip_item(t: &[Tok], mut i: usize) -> usize {
    let is_use = t.get(i) == Some(&Tok::Ident("use".into()))
        || (t.get(i) == Some(&Tok::Ident("pub".into()))
            && t.get(i + 1) == Some(&Tok::Ident("use".into())));
    let mut depth = 0usize;
    while i < t.len() {
        match &t[i] {
            Tok::Punct('{') if !is_use => depth += 1,
            Tok::Punct('}') if !is_use => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            Tok::Punct(';') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// `#[cfg(test)]` at `i`: the index after it, if it is one.
fn cfg_test(t: &[Tok], i: usize) -> Option<usize> {
    let want = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    (t.get(i..i + want.len()) == Some(&want[..])).then_some(i + want.len())
}

/// Skips any further attributes (`#[...]`) from `i`.
fn skip_attrs(t: &[Tok], mut i: usize) -> usize {
    while t.get(i) == Some(&Tok::Punct('#')) && t.get(i + 1) == Some(&Tok::Punct('[')) {
        let mut depth = 0;
        while i < t.len() {
            match t[i] {
                Tok::Punct('[') => depth += 1,
                Tok::Punct(']') => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }
    i
}

/// A `use` tree from `i` (just after a `::`): every path it names.
fn use_tree(t: &[Tok], i: &mut usize) -> Vec<Vec<String>> {
    match t.get(*i) {
        Some(Tok::Punct('{')) => {
            *i += 1;
            let mut all = Vec::new();
            while *i < t.len() {
                match t.get(*i) {
                    Some(Tok::Punct('}')) => {
                        *i += 1;
                        break;
                    }
                    Some(Tok::Punct(',')) => *i += 1,
                    Some(_) => {
                        let before = *i;
                        all.extend(use_tree(t, i));
                        if *i == before {
                            *i += 1;
                        }
                    }
                    None => break,
                }
            }
            all
        }
        Some(Tok::Ident(name)) => {
            *i += 1;
            if t.get(*i) == Some(&Tok::Path) {
                *i += 1;
                let rest = use_tree(t, i);
                if rest.is_empty() {
                    return vec![vec![name.clone()]];
                }
                rest.into_iter()
                    .map(|mut p| {
                        p.insert(0, name.clone());
                        p
                    })
                    .collect()
            } else {
                vec![vec![name.clone()]]
            }
        }
        // `*`, `<` (a turbofish) or anything else ends the path.
        _ => Vec::new(),
    }
}

/// The modules a file's non-test code names, resolved against `mods` (the
/// crate's file modules), and the file modules it declares under
/// `#[cfg(test)]`.
fn deps(src: &str, me: &ModPath, mods: &BTreeSet<ModPath>) -> (BTreeSet<ModPath>, Vec<String>) {
    let t = tokens(src);
    let mut out = BTreeSet::new();
    let mut test_mods = Vec::new();
    // Braces opened by inline `mod x {` blocks: `super::` inside them
    // first climbs out of those, still inside this file.
    let mut braces: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if let Some(after) = cfg_test(&t, i) {
            let item = skip_attrs(&t, after);
            if let (Some(Tok::Ident(m)), Some(Tok::Ident(name)), Some(Tok::Punct(';'))) =
                (t.get(item), t.get(item + 1), t.get(item + 2))
                && m == "mod"
            {
                test_mods.push(name.clone());
            }
            i = skip_item(&t, item);
            continue;
        }
        match &t[i] {
            Tok::Punct('{') => {
                let inline_mod = i >= 2
                    && t[i - 2] == Tok::Ident("mod".into())
                    && matches!(t[i - 1], Tok::Ident(_));
                braces.push(inline_mod);
                i += 1;
                continue;
            }
            Tok::Punct('}') => {
                braces.pop();
                i += 1;
                continue;
            }
            _ => {}
        }
        let mid_path = i > 0 && t[i - 1] == Tok::Path;
        let Tok::Ident(first) = &t[i] else {
            i += 1;
            continue;
        };
        if mid_path || t.get(i + 1) != Some(&Tok::Path) {
            i += 1;
            continue;
        }
        let inline_depth = braces.iter().filter(|b| **b).count();
        let mut j = i;
        let paths = use_tree(&t, &mut j);
        i = j.max(i + 1);
        for path in paths {
            let mut base: ModPath = me.clone();
            let mut inline = inline_depth;
            let mut segs = path.as_slice();
            match first.as_str() {
                "crate" => {
                    base.clear();
                    segs = &segs[1..];
                }
                "self" => segs = &segs[1..],
                "super" => {
                    while segs.first().is_some_and(|s| s == "super") {
                        if inline > 0 {
                            inline -= 1;
                        } else {
                            base.pop();
                        }
                        segs = &segs[1..];
                    }
                }
                // A bare path from a file module names a child module of
                // it, or an external crate / local item (no dependency).
                _ if inline_depth == 0 => {}
                _ => continue,
            }
            let mut target = base.clone();
            for s in segs {
                let mut next = target.clone();
                next.push(s.clone());
                if mods.contains(&next) {
                    target = next;
                } else {
                    break;
                }
            }
            let bare = !matches!(first.as_str(), "crate" | "self" | "super");
            if bare && target == base {
                continue; // not a child module: an external crate or an item
            }
            if &target != me {
                out.insert(target);
            }
        }
    }
    (out, test_mods)
}

/// A crate's sources: module path → text, from its `src/` directory.
fn sources(src: &Path) -> BTreeMap<ModPath, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("under src");
            let mut path: ModPath = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                path.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) && (path.len() > 1 || path[0] != "main" || !src.join("lib.rs").exists())
            {
                path.pop();
            }
            let text = std::fs::read_to_string(&p).expect("read a source file");
            out.insert(path, text);
        }
    }
    out
}

/// The module graph of one crate, test-only modules left out.
fn graph(files: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mods: BTreeSet<ModPath> = files.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    let mut test_only = BTreeSet::new();
    for (m, text) in files {
        let (d, tests) = deps(text, m, &mods);
        for t in tests {
            let mut p = m.clone();
            p.push(t);
            test_only.insert(p);
        }
        edges.insert(m.clone(), d);
    }
    // A module under a test-only one is test-only too.
    edges.retain(|m, _| !test_only.iter().any(|t| m.starts_with(t)));
    for d in edges.values_mut() {
        d.retain(|m| !test_only.iter().any(|t| m.starts_with(t)));
    }
    edges
}

/// The cycles of a graph: its strongly connected components of more than
/// one module, each as the sorted names of its modules.
fn cycles(g: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<String>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for n in g.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&ModPath, BTreeSet<ModPath>> = g.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for m in g.keys() {
        if done.contains(m) || !reaches[m].contains(m) {
            continue;
        }
        let scc: BTreeSet<ModPath> = g
            .keys()
            .filter(|n| reaches[m].contains(*n) && reaches[*n].contains(m))
            .cloned()
            .collect();
        done.extend(scc.iter().cloned());
        let mut names: Vec<String> = scc.iter().map(name).collect();
        names.sort();
        out.push(names);
    }
    out
}

fn name(p: &ModPath) -> String {
    if p.is_empty() {
        "crate".to_owned()
    } else {
        p.join("::")
    }
}

fn crate_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .expect("crates/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("src").is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn no_module_imports_around_a_cycle_in_any_crate() {
    let mut found = Vec::new();
    let dirs = crate_dirs();
    assert!(dirs.len() >= 10, "the crates were not found: {dirs:?}");
    for dir in dirs {
        let krate = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let g = graph(&sources(&dir.join("src")));
        assert!(g.len() > 1 || krate == "xtask", "{krate}: no modules read");
        for c in cycles(&g) {
            found.push((krate.clone(), c));
        }
    }
    let known: Vec<(String, Vec<String>)> = KNOWN
        .iter()
        .map(|(k, c)| {
            let mut c: Vec<String> = c.iter().map(|s| (*s).to_owned()).collect();
            c.sort();
            ((*k).to_owned(), c)
        })
        .collect();
    let new: Vec<_> = found.iter().filter(|f| !known.contains(f)).collect();
    let gone: Vec<_> = known.iter().filter(|k| !found.contains(k)).collect();
    assert!(
        new.is_empty(),
        "module cycles (each module of the list reaches every other): {new:#?}\n\
         move the items they share into a leaf module that each can use"
    );
    assert!(
        gone.is_empty(),
        "no longer cycles, remove them from KNOWN: {gone:#?}"
    );
}

/// The checker itself: a crate built to have one cycle through the root
/// (a submodule uses a root item the root uses it for), one between two
/// siblings by a grouped `use`, and none through tests, comments, strings or
/// an inline module's `super::`.
#[test]
fn the_check_finds_the_cycles_it_is_built_for() {
    let files: BTreeMap<ModPath, String> = [
        (
            "",
            "mod a; mod b; mod c; mod d; mod e;\n\
             pub const TOOL: &str = \"x\";\n\
             pub fn run() { a::go() }\n",
        ),
        ("a", "pub fn go() { let _ = crate::TOOL; }\n"),
        (
            "b",
            "use crate::{c::{self, X}, TOOL as _};\npub struct Y;\n",
        ),
        ("c", "use super::b::Y;\npub struct X;\n"),
        (
            "d",
            "// crate::e::Z in a comment\n\
             const S: &str = \"crate::e\"; const R: &str = r#\"super::e\"#;\n\
             fn f<'a>(x: &'a str) -> char { 'e' }\n\
             mod inner { use super::S; }\n\
             #[cfg(test)]\nmod tests { use crate::e::Z; }\n",
        ),
        ("e", "pub struct Z; pub fn g() { crate::d::f(\"\"); }\n"),
    ]
    .into_iter()
    .map(|(p, s)| {
        let path = if p.is_empty() {
            Vec::new()
        } else {
            vec![p.to_owned()]
        };
        (path, s.to_owned())
    })
    .collect();
    let g = graph(&files);
    let mut got = cycles(&g);
    got.sort();
    assert_eq!(
        got,
        vec![
            vec!["a".to_owned(), "crate".to_owned()],
            vec!["b".to_owned(), "c".to_owned()],
        ],
        "graph: {g:#?}"
    );
    assert_eq!(g[&vec!["d".to_owned()]], BTreeSet::new(), "d names nothing");
}

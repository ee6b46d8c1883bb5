//! The shape of the code, checked: no file over 500 lines, no function of
//! the product's code over 80 lines, no command module (`src/cmd`) of 100
//! lines; inside every
//! crate (the binary included) no import cycle between files; the binary's
//! `cli` never imports `cmd`, and no command imports another command; no
//! two public types of the workspace share a name (a re-export is not a
//! definition).
//!
//! How: every `.rs` file under `src/` and `crates/*/src/` is read as text;
//! its `use` lines and `crate::…`/`super::…`/`self::…` paths are resolved
//! to the file that defines the module they name (`mod` declarations are
//! not imports), and the graph of files is searched for cycles (Tarjan's
//! strongly connected components). It reads files, so it needs no build
//! of anything else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

/// The longest function the product's code (not its tests) may hold.
const MAX_FN_LINES: usize = 80;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The crates' source roots: the binary's `src/` and each `crates/*/src/`.
fn source_roots() -> Vec<PathBuf> {
    let mut roots = vec![root().join("src")];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    crates.sort();
    roots.extend(crates);
    roots
}

/// The module path of `file` inside the crate rooted at `src`:
/// `src/cmd/bench/mod.rs` → `["cmd", "bench"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_string());
    }
    parts
}

/// Paths a file refers to, as module paths from the crate root: every
/// `crate::`, `super::` or `self::` path, `use` groups (`{a, b::c}`)
/// expanded.
fn references(module: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = BTreeSet::new();
    for prefix in ["crate::", "super::", "self::"] {
        for (i, _) in code.match_indices(prefix) {
            // Must start a path: not `tokenpace_crate::` or `a::super::`.
            if i > 0 {
                let prev = code.as_bytes()[i - 1];
                if prev.is_ascii_alphanumeric() || prev == b'_' || prev == b':' {
                    continue;
                }
            }
            let start: Vec<String> = match prefix {
                "crate::" => Vec::new(),
                "self::" => module.to_vec(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            let mut rest = code[i + prefix.len()..].chars().peekable();
            expand(start, &mut rest, &mut out);
        }
    }
    out
}

/// Reads one path (with `{…}` groups) from `chars`, adding each full path.
fn expand(
    mut path: Vec<String>,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut BTreeSet<Vec<String>>,
) {
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            loop {
                expand(path.clone(), chars, out);
                while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                    chars.next();
                }
                match chars.peek() {
                    Some('}') => {
                        chars.next();
                        return;
                    }
                    None => return,
                    _ => {}
                }
            }
        }
        let seg: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_alphanumeric() || *c == '_')).collect();
        match seg.as_str() {
            "" => break,
            "super" => {
                path.pop();
            }
            "self" => {}
            _ => path.push(seg),
        }
        if chars.peek() == Some(&':') {
            chars.next();
            chars.next_if_eq(&':');
        } else {
            break;
        }
    }
    out.insert(path);
}

/// The file that defines the longest prefix of `path` among `modules`.
fn resolve<'a>(
    path: &[String],
    modules: &'a BTreeMap<Vec<String>, PathBuf>,
) -> Option<&'a PathBuf> {
    (0..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
}

fn tarjan(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct S<'g> {
        g: &'g BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'g PathBuf, usize>,
        low: BTreeMap<&'g PathBuf, usize>,
        stack: Vec<&'g PathBuf>,
        on: BTreeSet<&'g PathBuf>,
        next: usize,
        sccs: Vec<Vec<PathBuf>>,
    }
    fn visit<'g>(s: &mut S<'g>, v: &'g PathBuf) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        for w in s.g.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.sccs.push(scc);
            }
        }
    }
    let mut s = S {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        sccs: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.sccs
}

/// Each crate's file graph: file → files it imports from.
fn graphs() -> Vec<(PathBuf, BTreeMap<PathBuf, BTreeSet<PathBuf>>)> {
    source_roots()
        .into_iter()
        .map(|src| {
            let mut files = Vec::new();
            rust_files(&src, &mut files);
            let modules: BTreeMap<Vec<String>, PathBuf> = files
                .iter()
                .map(|f| (module_of(&src, f), f.clone()))
                .collect();
            let mut graph = BTreeMap::new();
            for f in &files {
                let text = std::fs::read_to_string(f).unwrap();
                // Tests inside a file (`mod tests`) import their parent: not
                // part of the code's structure.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let module = module_of(&src, f);
                let edges: BTreeSet<PathBuf> = references(&module, code)
                    .iter()
                    .filter_map(|p| resolve(p, &modules))
                    .filter(|t| *t != f)
                    .cloned()
                    .collect();
                graph.insert(f.clone(), edges);
            }
            (src, graph)
        })
        .collect()
}

#[test]
fn no_file_is_over_500_lines() {
    let mut files = Vec::new();
    for dir in ["src", "crates", "tests", "benches"] {
        rust_files(&root().join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).ok()?.lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

/// A command only wires: options to a plan, one library call, an exporter.
#[test]
fn every_command_module_is_under_100_lines() {
    let mut files = Vec::new();
    rust_files(&root().join("src/cmd"), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n >= 100)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(
        long.is_empty(),
        "command modules of 100 lines or more: {long:#?}"
    );
}

/// The functions of `text` longer than `max` lines, as `(name, first line,
/// lines)`: a `fn` line and the `}` at its own indentation, test modules
/// (from a `#[cfg(test)]` line on) left out.
fn long_functions(text: &str, max: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.trim() == "#[cfg(test)]")
        .unwrap_or(lines.len());
    let mut long = Vec::new();
    for (i, line) in lines[..end].iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let head = [
            "pub ",
            "pub(crate) ",
            "pub(super) ",
            "async ",
            "const ",
            "unsafe ",
        ]
        .iter()
        .fold(body, |b, p| b.strip_prefix(p).unwrap_or(b));
        let head = ["async ", "unsafe "]
            .iter()
            .fold(head, |b, p| b.strip_prefix(p).unwrap_or(b));
        let Some(rest) = head.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // A declaration without a body (in a trait) ends at its `;`, a
        // one-line function at its `}`.
        let signature_end = lines[i..end]
            .iter()
            .map(|l| l.trim_end())
            .find(|l| l.ends_with('{') || l.ends_with(';') || l.ends_with('}'));
        if signature_end.is_none_or(|l| !l.ends_with('{')) {
            continue;
        }
        let close = format!("{indent}}}");
        let Some(j) = lines[i + 1..end].iter().position(|l| *l == close) else {
            continue;
        };
        if j + 2 > max {
            long.push((name, i + 1, j + 2));
        }
    }
    long
}

#[test]
fn no_function_of_the_product_is_over_80_lines() {
    let mut files = Vec::new();
    for root in source_roots() {
        rust_files(&root, &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            long_functions(&text, MAX_FN_LINES)
                .into_iter()
                .map(move |(name, at, n)| format!("{}:{at} {name} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines: {long:#?}"
    );
}

#[test]
fn the_function_finder_measures_bodies_and_skips_tests() {
    let body = |n: usize| "    x();\n".repeat(n);
    let text = format!(
        "fn short() {{\n{}}}\n\npub async fn long() {{\n{}}}\ntrait T {{\n    fn f(&self);\n}}\n#[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{}    }}\n}}\n",
        body(3),
        body(90),
        body(200)
    );
    assert_eq!(long_functions(&text, 80), vec![("long".to_string(), 7, 92)]);
}

#[test]
fn no_import_cycle_between_files_of_any_crate() {
    let mut cycles = Vec::new();
    for (src, graph) in graphs() {
        for scc in tarjan(&graph) {
            let names: Vec<String> = scc
                .iter()
                .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
                .collect();
            cycles.push(format!("{}: {}", src.display(), names.join(" ↔ ")));
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn cli_imports_no_command_and_commands_import_no_other_command() {
    let (_, graph) = graphs().remove(0);
    let src = root().join("src");
    let mut bad = Vec::new();
    for (from, to) in &graph {
        let from_mod = module_of(&src, from);
        for t in to {
            let to_mod = module_of(&src, t);
            let top = |m: &[String]| m.first().cloned().unwrap_or_default();
            if top(&from_mod) == "cli" && top(&to_mod) == "cmd" {
                bad.push(format!("{} imports {}", from.display(), t.display()));
            }
            let command = |m: &[String]| (top(m) == "cmd").then(|| m.get(1).cloned()).flatten();
            if let (Some(a), Some(b)) = (command(&from_mod), command(&to_mod)) {
                if a != b {
                    bad.push(format!("command {a} imports command {b} ({})", t.display()));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn the_checker_finds_a_cycle_and_a_cross_import() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let graph = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone()])),
    ]);
    assert_eq!(tarjan(&graph).len(), 1);
    let refs = references(
        &["cmd".into(), "capacity".into()],
        "use crate::cmd::bench::options::plan;\nlet x = super::grade::render();\nuse crate::{input, output::{run, grade::G}};",
    );
    let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(
        refs.contains(&p(&["cmd", "bench", "options", "plan"])),
        "{refs:?}"
    );
    assert!(refs.contains(&p(&["cmd", "grade", "render"])), "{refs:?}");
    assert!(refs.contains(&p(&["input"])), "{refs:?}");
    assert!(refs.contains(&p(&["output", "run"])), "{refs:?}");
    assert!(refs.contains(&p(&["output", "grade", "G"])), "{refs:?}");
}

/// The public types `text` defines (`pub struct|enum|trait|type Name`),
/// test modules (from a `#[cfg(test)]` line on) left out.
fn public_types(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        if line.trim() == "#[cfg(test)]" {
            break;
        }
        let Some(rest) = line.trim_start().strip_prefix("pub ") else {
            continue;
        };
        let Some(rest) = ["struct ", "enum ", "trait ", "type "]
            .iter()
            .find_map(|k| rest.strip_prefix(k))
        else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
    }
    names
}

/// One name per thing: two public types with one name (`Level` in three
/// crates) make a reader, and every `use`, ask which is meant.
#[test]
fn no_two_public_types_share_a_name() {
    let mut defined: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for src in source_roots() {
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let at = f.strip_prefix(root()).unwrap().display().to_string();
            for name in public_types(&text) {
                defined.entry(name).or_default().push(at.clone());
            }
        }
    }
    let shared: Vec<String> = defined
        .iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(name, at)| format!("{name}: {}", at.join(", ")))
        .collect();
    assert!(
        shared.is_empty(),
        "public types sharing a name: {shared:#?}"
    );
}

#[test]
fn the_type_finder_reads_definitions_not_uses_or_tests() {
    let text = "pub struct Run {\n}\n    pub enum Kind { A }\npub(crate) struct Hidden;\n\
                pub use other::Level;\npub type Nanos = u64;\npub trait Sink {}\n\
                #[cfg(test)]\nmod tests { pub struct Fixture; }\n";
    assert_eq!(public_types(text), ["Run", "Kind", "Nanos", "Sink"]);
}

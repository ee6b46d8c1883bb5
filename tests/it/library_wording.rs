//! Library crates never name a command-line flag: an error refers to a
//! setting by `tokenpace_core::setting::Setting`, and the binary renders it
//! (`src/cli/flags.rs`, whose own test checks each flag is declared). Here
//! every string literal of every `crates/*/src` file outside its tests is
//! read, and any `--flag` in one is a failure, unless it is another
//! program's flag that tokenpace passes on or quotes.

use std::path::{Path, PathBuf};

/// Flags of other programs: pip's (the model fetch runs it) and `vllm bench
/// serve`'s (an import error says how to rerun it).
const FOREIGN: &[&str] = &[
    "--dest",
    "--no-deps",
    "--disable-pip-version-check",
    "--version",
    "--save-result",
    "--save-detailed",
];

/// Files whose `--name`s are not flags: the report's CSS custom properties.
const NOT_FLAGS: &[&str] = &["crates/report/src/style.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

/// The string literals of `text` before its `#[cfg(test)]`, with the line
/// each starts on. A small lexer: comments, char literals and raw strings
/// are skipped or read whole, so a quote inside them starts nothing.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    let b = &text.as_bytes()[..end];
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\'' if b.get(i + 1) == Some(&b'\\') => {
                i += 2;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') => i += 2,
            b'r' if matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
                if b.get(i + 1 + hashes) == Some(&b'"') {
                    let close = format!("\"{}", "#".repeat(hashes));
                    let start = i + 2 + hashes;
                    let len = text[start..end].find(&close).unwrap_or(end - start);
                    out.push((line, text[start..start + len].to_string()));
                    line += text[start..start + len].matches('\n').count();
                    i = start + len + close.len();
                    continue;
                }
            }
            b'"' => {
                let (start, at) = (i + 1, line);
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if b.get(i) == Some(&b'\n') {
                        line += 1;
                    }
                    i += 1;
                }
                out.push((at, text[start..i.min(end)].to_string()));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The `--flag`s in `s` (`--{name}` too: a flag built from a variable).
fn flags_in(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(2) {
        let starts = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-');
        if starts && &b[i..i + 2] == b"--" && (b[i + 2].is_ascii_lowercase() || b[i + 2] == b'{') {
            let len = b[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'{' | b'}'))
                .count();
            out.push(s[i..i + 2 + len].to_string());
        }
    }
    out
}

#[test]
fn no_library_string_names_a_flag() {
    let mut files = Vec::new();
    rust_files(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crates"),
        &mut files,
    );
    files.retain(|f| {
        f.components().any(|c| c.as_os_str() == "src") && !NOT_FLAGS.iter().any(|n| f.ends_with(n))
    });
    files.sort();
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, s) in string_literals(&text) {
            for flag in flags_in(&s) {
                if !FOREIGN.contains(&flag.as_str()) {
                    found.push(format!("{}:{line} {flag}", f.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} flags named in library strings (name a Setting instead): {found:#?}",
        found.len()
    );
}

#[test]
fn the_scanner_reads_strings_not_comments_chars_or_tests() {
    let text = "// \"--comment\"\nlet c = '\"'; let d = '\\''; let s = \"give --max-tokens\";\nlet r = r#\"a \"--raw\" b\"#;\nlet e = \"--{field} x\";\nlet m = \"a\n--multi\";\n#[cfg(test)]\nlet t = \"--test\";\n";
    let lits = string_literals(text);
    let flags: Vec<(usize, String)> = lits
        .into_iter()
        .flat_map(|(l, s)| flags_in(&s).into_iter().map(move |f| (l, f)))
        .collect();
    let want = [
        (2, "--max-tokens"),
        (3, "--raw"),
        (4, "--{field}"),
        (5, "--multi"),
    ];
    assert_eq!(
        flags,
        want.iter()
            .map(|(l, f)| (*l, f.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(flags_in("a-b --x-y").contains(&"--x-y".to_string()));
    assert!(flags_in("not--this").is_empty());
}

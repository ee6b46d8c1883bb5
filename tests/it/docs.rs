//! Every console example in README.md and docs/*.md runs here, so a changed
//! flag or output breaks the build, not the reader.
//!
//! For each fenced ```` ```console ```` block, each `$ …` line runs in
//! order, in one temporary directory per document (so `--out run1` then
//! `report run1` work; `docs/` is linked into it for the example files):
//! - `tokenpace sim …` starts an in-process simulator with that line's flags
//!   (parsed by `tokenpace sim`'s own `SimArgs`) on a free port; every
//!   `http://127.0.0.1:PORT` of the document naming that port is rewritten
//!   to it, and any other loopback URL to a port where nothing listens;
//! - `tokenpace …` runs the built binary (English locale); its stdout (and
//!   stderr, when it fails) is compared with the lines printed under it in the document,
//!   both masked by `tests/it/common/mask.rs` (measured numbers, durations,
//!   temporary paths, dates; see its docs). The simulator's URL is compared
//!   as the document's URL, not masked. Deterministic commands (`plan`,
//!   `grade`) are compared exactly. A `…` line in the document stands for
//!   any number of lines. `time tokenpace …` adds bash's `real` line; `&`
//!   runs it in the foreground with its output unshown; `echo $?` prints
//!   the last exit status;
//! - commands that need the embedded engine (`bench`/`capacity` without a
//!   URL, `serve`) run only with the `engine` feature (the default), and
//!   fail if the model is missing; without it they and the rest of their
//!   block are not run. Their output, and what later lines of the document
//!   print from it, is compared with tiers and targets masked too
//!   (`mask::machine`: the engine's speed is the machine's);
//! - what cannot run here is skipped by a rule in [`SKIPS`] or
//!   [`SKIP_PROGRAMS`], each with its reason; any other program fails the
//!   test.
//!
//! Update mode: `TOKENPACE_UPDATE_DOCS=1 cargo test --test it docs::` rewrites
//! the output of each example that does not match in place with the real
//! output (numbers as actually printed; the document's `…` kept where the
//! rest still matches), so after a change to the output the docs are
//! regenerated and the diff reviewed. `TOKENPACE_UPDATE_DOCS=all` rewrites
//! every example, also those that match (fresh numbers everywhere: check
//! the prose that quotes them). The engine's examples are only updated in a
//! build with the `engine` feature (the default).

use crate::common::{mask, Sim};
use crate::doc_examples;
use crate::doc_examples::{align, parse, updated, words, Step};
use clap::Parser;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Steps that cannot run here: (document, start of the command, reason).
/// A skipped step's output is left as written. None: an example that
/// cannot run here (a real GPU, a hand-built server, minutes of search) is
/// a ```` ```text ```` transcript, not a ```` ```console ```` example.
const SKIPS: &[(&str, &str, &str)] = &[];

/// Programs whose lines (and blocks) are not run: (program, reason). None:
/// a block that runs `cargo`, `pip` or `curl` is a ```` ```text ```` transcript.
const SKIP_PROGRAMS: &[(&str, &str)] = &[];

/// The simulator's flags, as `tokenpace sim` parses them.
#[derive(Parser)]
struct SimCli {
    #[command(flatten)]
    sim: tokenpace::cli::SimArgs,
}

/// One document's run: its simulators (by the port the document names) and
/// its working directory.
struct Doc {
    name: &'static str,
    dir: tempfile::TempDir,
    sims: HashMap<u16, Sim>,
    /// Ports the document names with no simulator on them → a port where
    /// nothing listens.
    closed: HashMap<u16, u16>,
    /// An engine example ran: what follows reads its measurements.
    engine_ran: bool,
    status: i32,
}

/// What a step printed, with the simulators' URLs as the document's.
struct Ran {
    output: Vec<String>,
    how: Compare,
}

/// How a step's output is compared.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Verbatim: deterministic output.
    Exact,
    /// Measured numbers masked (`mask::text`).
    Masked,
    /// Measured on the engine: tiers and targets masked too (`mask::machine`).
    Machine,
}

impl Doc {
    fn new(name: &'static str) -> Doc {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::os::unix::fs::symlink(root.join("docs"), dir.path().join("docs")).unwrap();
        // Recorded runs the documents calibrate on.
        std::os::unix::fs::symlink(root.join("tests"), dir.path().join("tests")).unwrap();
        Doc {
            name,
            dir,
            sims: HashMap::new(),
            closed: HashMap::new(),
            engine_ran: false,
            status: 0,
        }
    }

    /// Runs one step; `None` when it is skipped.
    fn run(&mut self, step: &Step) -> Option<Ran> {
        if let Some((_, _, why)) = SKIPS
            .iter()
            .find(|(doc, start, _)| *doc == self.name && step.command.starts_with(start))
        {
            eprintln!("{}:{}: skipped ({why})", self.name, step.line);
            return None;
        }
        let cmd = words(&step.command);
        let program = cmd.words[0].as_str();
        if let Some((_, why)) = SKIP_PROGRAMS.iter().find(|(p, _)| *p == program) {
            eprintln!("{}:{}: skipped ({why})", self.name, step.line);
            return None;
        }
        if cmd.words == ["echo", "$?"] {
            return Some(Ran {
                output: vec![self.status.to_string()],
                how: Compare::Exact,
            });
        }
        assert_eq!(
            program, "tokenpace",
            "{}:{}: no rule runs '{program}': add one to SKIP_PROGRAMS or SKIPS",
            self.name, step.line
        );
        let args = &cmd.words[1..];
        if args[0] == "sim" {
            self.start_sim(step, args);
            return Some(Ran {
                output: Vec::new(),
                how: Compare::Exact,
            });
        }
        if needs_engine(args) && !cfg!(feature = "engine") {
            eprintln!(
                "{}:{}: not run (needs the engine feature)",
                self.name, step.line
            );
            return None;
        }
        let args: Vec<String> = args.iter().map(|a| self.url_in(a)).collect();
        // Plans and grades of given numbers are deterministic; what the
        // engine measured (and plans calibrated on it) depends on the machine.
        let how = match args[0].as_str() {
            "grade" if !args.iter().any(|a| a == "--summary") => Compare::Exact,
            "plan" if args.get(1).is_some_and(|a| a != "calibrate") => Compare::Exact,
            _ if needs_engine(&args) || self.engine_ran => Compare::Machine,
            _ => Compare::Masked,
        };
        self.engine_ran |= needs_engine(&args);
        let started = Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpace"))
            .args(&args)
            .current_dir(self.dir.path())
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .output()
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        self.status = output.status.code().unwrap_or(-1);
        let stdout = String::from_utf8(output.stdout).unwrap();
        let mut text = match &cmd.redirect {
            Some(file) if file == "/dev/null" => String::new(),
            Some(file) => {
                std::fs::write(self.dir.path().join(file), &stdout).unwrap();
                String::new()
            }
            None => stdout,
        };
        // stderr holds progress lines (no terminal: plain lines) and, when
        // the command fails, the error: only the error is shown.
        if !output.status.success() {
            text.push_str(&String::from_utf8(output.stderr).unwrap());
        }
        if cmd.timed {
            let minutes = (took / 60.0).floor();
            let seconds = took - 60.0 * minutes;
            text.push_str(&format!("\nreal    {minutes}m{seconds:.3}s\n"));
        }
        if cmd.background {
            text.clear();
        }
        let mut text = self.doc_urls(&text);
        let dir = self.dir.path().to_str().unwrap().to_string();
        text = text.replace(&(dir + "/"), "");
        Some(Ran {
            output: text.lines().map(String::from).collect(),
            how,
        })
    }

    fn start_sim(&mut self, step: &Step, args: &[String]) {
        let cli = SimCli::try_parse_from(args)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", self.name, step.line));
        let port = cli.sim.port.unwrap_or(8000);
        let base = match &cli.sim.config {
            Some(path) => tokenpace_sim::SimConfig::from_toml_file(path).unwrap(),
            None => tokenpace_sim::SimConfig::default(),
        };
        let config = cli.sim.apply(base).unwrap();
        if let Some(old) = self.sims.insert(port, Sim::start(config)) {
            old.stop();
        }
    }

    /// `arg` with a loopback URL pointed at the document's simulator on
    /// that port, or at a closed port.
    fn url_in(&mut self, arg: &str) -> String {
        let Some(rest) = arg.strip_prefix("http://127.0.0.1:") else {
            return arg.to_string();
        };
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let port: u16 = digits.parse().unwrap();
        let tail = &rest[digits.len()..];
        if let Some(sim) = self.sims.get(&port) {
            return format!("{}{tail}", sim.url());
        }
        let closed = *self.closed.entry(port).or_insert_with(|| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        });
        format!("http://127.0.0.1:{closed}{tail}")
    }

    /// `text` with each simulator's real URL written as the document's.
    fn doc_urls(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (port, sim) in &self.sims {
            text = text.replace(&sim.url(), &format!("http://127.0.0.1:{port}"));
        }
        for (port, closed) in &self.closed {
            text = text.replace(&format!("127.0.0.1:{closed}"), &format!("127.0.0.1:{port}"));
        }
        text
    }

    /// The ports the document names, whose URLs are compared as written.
    fn ports(&self) -> Vec<u16> {
        self.sims
            .keys()
            .chain(self.closed.keys())
            .copied()
            .collect()
    }
}

/// `bench`/`capacity` without a URL, and `serve`, run the embedded engine.
fn needs_engine(args: &[String]) -> bool {
    let has_url = args.iter().any(|a| a.starts_with("http"));
    match args[0].as_str() {
        "bench" | "capacity" => !has_url,
        "serve" => true,
        _ => false,
    }
}

/// The document's URLs of its simulators, as the masking sees them: a
/// simulator's port is part of what the document promises.
fn keep_ports(text: &str, ports: &[u16]) -> String {
    let mut text = text.to_string();
    for port in ports {
        text = text.replace(
            &format!("http://127.0.0.1:{port}"),
            &format!("⟨sim:{port}⟩"),
        );
    }
    text
}

fn masked(lines: &[String], how: Compare, ports: &[u16]) -> Vec<String> {
    let text = keep_ports(&lines.join("\n"), ports);
    let text = match how {
        Compare::Exact => return lines.to_vec(),
        Compare::Masked => mask::text(&text),
        Compare::Machine => mask::machine(&text),
    };
    text.lines().map(String::from).collect()
}

/// Runs every console example of `name`, compares (or, in update mode,
/// rewrites) their output; panics listing every mismatch.
fn check(name: &'static str) {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let update = std::env::var("TOKENPACE_UPDATE_DOCS").unwrap_or_default();
    let (update, update_all) = (update == "1" || update == "all", update == "all");
    let mut doc = Doc::new(name);
    let mut steps = Vec::new();
    let mut outputs = Vec::new();
    let mut failures = Vec::new();
    for block in parse(&text) {
        let mut rest_skipped = false;
        for step in block.steps {
            let ran = if rest_skipped { None } else { doc.run(&step) };
            rest_skipped |= ran.is_none() && needs_engine_step(&step);
            let new = ran.map(|ran| {
                let ports = doc.ports();
                let expected = masked(&step.output, ran.how, &ports);
                let actual = masked(&ran.output, ran.how, &ports);
                let alignment = align(&expected, &actual);
                if alignment.is_none() {
                    failures.push(format!(
                        "{name}:{} `{}`\n--- the document (as compared)\n{}\n--- printed (as compared)\n{}\n",
                        step.line,
                        step.command,
                        expected.join("\n"),
                        actual.join("\n")
                    ));
                }
                let stale = alignment.is_none() || update_all;
                stale.then(|| updated(alignment.as_deref(), &ran.output))
            });
            outputs.push(new.flatten());
            steps.push(step);
        }
    }
    for (_, sim) in doc.sims.drain() {
        sim.stop();
    }
    if update {
        let new_text = doc_examples::rewrite(&text, &steps, &outputs);
        if new_text != text {
            std::fs::write(&path, new_text).unwrap();
            eprintln!("rewrote {name}");
        }
        return;
    }
    assert!(
        failures.is_empty(),
        "{} example(s) in {name} do not match what tokenpace prints \
         (TOKENPACE_UPDATE_DOCS=1 cargo test --test it docs:: rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn needs_engine_step(step: &Step) -> bool {
    let cmd = words(&step.command);
    cmd.words.first().is_some_and(|p| p == "tokenpace") && needs_engine(&cmd.words[1..])
}

#[test]
fn readme() {
    check("README.md");
}

#[test]
fn docs_capacity() {
    check("docs/capacity.md");
}

#[test]
fn docs_reports() {
    check("docs/reports.md");
}

#[test]
fn docs_plan() {
    check("docs/plan.md");
}

#[test]
fn docs_benchmarks() {
    check("docs/benchmarks.md");
}

#[test]
fn docs_engine() {
    check("docs/engine.md");
}

#[test]
fn docs_dialects() {
    check("docs/dialects.md");
}

#[test]
fn docs_workloads() {
    check("docs/workloads.md");
}

#[test]
fn docs_traces() {
    check("docs/traces.md");
}

#[test]
fn docs_repeats() {
    check("docs/repeats.md");
}

/// Every document with console examples is checked by a test above.
#[test]
fn every_document_is_checked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checked = [
        "README.md",
        "docs/capacity.md",
        "docs/reports.md",
        "docs/plan.md",
        "docs/benchmarks.md",
        "docs/engine.md",
        "docs/workloads.md",
        "docs/traces.md",
        "docs/repeats.md",
        "docs/dialects.md",
    ];
    let mut docs = vec!["README.md".to_string()];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    for doc in docs {
        let text = std::fs::read_to_string(root.join(&doc)).unwrap();
        if !parse(&text).is_empty() {
            assert!(checked.contains(&doc.as_str()), "{doc} is not checked");
        }
    }
}

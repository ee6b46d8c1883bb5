//! What the plan tests share: running a command line in-process or
//! through the binary, a temporary directory, and the usual command lines.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use clap::Parser;
use serde_json::Value;
use std::process::{Command, Output};
use tokenpace::cli::Cli;

pub fn run(args: &[&str]) -> String {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} did not parse: {e}"));
    let mut out = Vec::new();
    tokenpace::run(cli, &mut out).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    String::from_utf8(out).unwrap()
}

pub fn run_err(args: &[&str]) -> String {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} did not parse: {e}"));
    let mut out = Vec::new();
    format!("{:#}", tokenpace::run(cli, &mut out).unwrap_err())
}

/// A directory under the system's temporary directory, removed on drop
/// (kept free of dev-dependencies).
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("tokenpace-plan-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run(args)).unwrap()
}

/// The real binary (exit codes, stderr) in a clean English environment.
pub fn binary(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokenpace"));
    command.args(args).env_clear().env("LANG", "C.UTF-8");
    command.output().unwrap()
}

/// `plan bounds` of a 7B model that meets every target on an RTX 4090.
pub const DONE: &[&str] = &[
    "plan",
    "bounds",
    "--model",
    "qwen2.5-7b",
    "--hardware",
    "rtx-4090",
    "--quant",
    "int4",
];

/// `plan COMMAND --preset long-summary` with `extra` flags (the seed's
/// worked example: both targets missed at the given rates).
pub fn long_summary(command: &str, extra: &[&str]) -> String {
    run(&[&["plan", command, "--preset", "long-summary"], extra].concat())
}

/// [`long_summary`] as JSON.
pub fn long_summary_json(command: &str, extra: &[&str]) -> Value {
    serde_json::from_str(&long_summary(
        command,
        &[extra, &["--format", "json"]].concat(),
    ))
    .unwrap()
}

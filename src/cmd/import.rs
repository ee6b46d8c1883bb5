//! `tokenpace import FILE [--out DIR]`: another tool's result file read
//! into a tokenpace run (run.json and requests.jsonl), graded, with what
//! its format lacks named.

use crate::cli::ImportArgs;
use crate::output::import::ImportOutput;
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_import::ImportOptions;
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;

/// Runs `tokenpace import`.
pub fn run(args: ImportArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let options = ImportOptions {
        format: args.from.format(),
        benchmark: args.benchmark,
    };
    // Where the run came from, not where it is read: only the version of
    // the tool that stores it is known.
    let environment = tokenpace_core::summary::Environment {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    };
    let run = tokenpace_import::import(&args.result, options, environment)?;
    let dir = RunDir::new(args.out.unwrap_or_else(|| args.result.with_extension("")));
    if dir.summary_path().exists() {
        bail!(
            "'{}' already holds a run: remove it, or give another --out DIR",
            dir.path().display()
        );
    }
    dir.create()?;
    dir.write_records(&run.records)?;
    dir.write_summary(&run.summary)?;
    let grade = profile.grade_run(|m, st| run.summary.get(m, st), None)?;
    let result = ImportOutput {
        out: dir.path().display().to_string(),
        summary: run.summary,
        grade,
        profile,
    };
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

//! `tokenpace report RUN_DIR --html FILE`: one self-contained HTML page of a
//! run. The page itself is built by `tokenpace-report`; this module reads
//! the run and writes the file.

use crate::cli::ReportArgs;
use crate::{input, rundir, Status};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use tokenpace_core::profile::Profile;
use tokenpace_present::Lang;
use tokenpace_report::report::{render, ReportInput};
use tokenpace_report::Run;

/// Runs `tokenpace report`.
pub fn run(args: ReportArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let dir = rundir::load(&args.run)?;
    let path = args.html.unwrap_or_else(|| dir.path.join("report.html"));
    let bytes = write_html(&path, &dir.name, &dir.levels, &profile, lang)?;
    writeln!(
        out,
        "{} {} ({} kB, {} {})",
        lang.pick("wrote", "已写入"),
        path.display(),
        bytes.div_ceil(1000),
        dir.levels.len(),
        lang.pick("level(s)", "个档位")
    )?;
    Ok(Status::Ok)
}

/// Builds the report of `runs` and writes it to `path`; returns its size.
pub fn write_html(
    path: &Path,
    title: &str,
    runs: &[Run],
    profile: &Profile,
    lang: Lang,
) -> anyhow::Result<usize> {
    let html = render(&ReportInput {
        title,
        runs,
        profile,
        lang,
        tool_version: env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(path, &html)
        .with_context(|| format!("could not write the report to '{}'", path.display()))?;
    Ok(html.len())
}

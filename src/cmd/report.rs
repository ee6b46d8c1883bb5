//! `tokenpace report RUN_DIR --html FILE`: one self-contained HTML page of a
//! run. The page itself is built by `tokenpace-report`; this module reads
//! the run and writes the file.

use crate::cli::ReportArgs;
use crate::output::report as page;
use crate::{input, Status};
use std::io::Write;
use tokenpace_present::Lang;
use tokenpace_report::{Html, Level};
use tokenpace_rundir::RunDir;

/// Runs `tokenpace report`.
pub fn run(args: ReportArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    page::check_format(args.output.format)?;
    let profile = input::profile(args.profile.file.as_deref())?;
    let dir = RunDir::open(&args.run)?;
    let levels = dir.read_levels()?;
    for l in &levels {
        input::warn(&l.warnings);
    }
    let levels: Vec<Level> = levels.into_iter().map(Level::from).collect();
    let path = args.html.unwrap_or_else(|| dir.report_path());
    let html = Html {
        lang,
        title: &dir.name(),
        profile: &profile,
    };
    let result = page::write_html(&path, &html, &levels)?;
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

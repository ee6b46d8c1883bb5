//! `tokenpace report RUN_DIR --html FILE`: one self-contained HTML page of a
//! run. The page itself is built by `tokenpace-report`; this module reads
//! the run and writes the file.

use crate::lang::Lang;
use crate::{input, rundir, Status};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokenpace_core::profile::Profile;
use tokenpace_report::report::{render, ReportInput};
use tokenpace_report::Run;

/// Options of `tokenpace report`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 4 --requests 40 --out run1
  tokenpace report run1 --html run1.html
  tokenpace report sweep1 --html sweep1.html --lang zh
  tokenpace report run1/run.json --profile strict.toml

The page needs no network to view or print: styles are inline and charts are
inline SVG. RUN_DIR is what `bench --out` wrote (run.json and requests.jsonl,
or one sub-directory per level of a sweep).")]
pub struct ReportArgs {
    /// The run directory (or its run.json).
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Where to write the page [default: RUN_DIR/report.html].
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

impl From<Lang> for tokenpace_report::Lang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::En => tokenpace_report::Lang::En,
            Lang::Zh => tokenpace_report::Lang::Zh,
        }
    }
}

/// Runs `tokenpace report`.
pub fn run(args: ReportArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.as_deref())?;
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
        lang: lang.into(),
        tool_version: env!("CARGO_PKG_VERSION"),
    });
    std::fs::write(path, &html)
        .with_context(|| format!("could not write the report to '{}'", path.display()))?;
    Ok(html.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::metric::Metric;

    #[test]
    fn report_labels_match_the_terminals() {
        for lang in [Lang::En, Lang::Zh] {
            let r: tokenpace_report::Lang = lang.into();
            for m in Metric::ALL {
                assert_eq!(lang.metric(m), r.metric(m), "{m}");
            }
        }
    }
}

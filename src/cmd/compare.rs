//! `tokenpace compare A B [C…]`: runs side by side against the first, each
//! change with a Mann-Whitney p-value, tier changes, and a regression gate.

use crate::cli::CompareArgs;
use crate::output::compare::{CompareOutput, RunLine};
use crate::{input, Status};
use anyhow::{bail, Context};
use std::io::Write;
use tokenpace_present::{Exporter, Lang};
use tokenpace_report::compare::{
    compare, unique_name, workload_differences, CompareOptions, Comparison,
};
use tokenpace_report::compare_page::CompareHtml;
use tokenpace_report::Level;

/// Runs `tokenpace compare`.
pub fn run(args: CompareArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let mut runs: Vec<Level> = Vec::new();
    for name in &args.runs {
        let mut levels = tokenpace_rundir::resolve(name, &args.dir)?.read_levels()?;
        for l in &levels {
            input::warn(&l.warnings);
        }
        if levels.len() > 1 {
            let labels: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
            bail!(
                "'{name}' is a sweep with levels {}: compare one level, e.g. {}/{}",
                labels.join(", "),
                name.trim_end_matches('/'),
                labels[0]
            );
        }
        let mut run = Level::from(levels.remove(0));
        run.name = unique_name(name, &runs);
        runs.push(run);
    }
    let opts = CompareOptions {
        min_change_pct: args.min_change,
        ..CompareOptions::default()
    };
    let comparisons: Vec<Comparison> = runs[1..]
        .iter()
        .map(|r| compare(&runs[0], r, &profile, &opts))
        .collect();
    if let Some(path) = &args.html {
        let page = CompareHtml {
            lang,
            profile: &profile,
            options: opts,
        };
        let html = page.export(&(runs.as_slice(), comparisons.as_slice()))?;
        std::fs::write(path, html)
            .with_context(|| format!("could not write '{}'", path.display()))?;
    }
    let regressions = args
        .fail_on_regression
        .map(|pct| CompareOutput::regressions(&comparisons, pct))
        .unwrap_or_default();
    let result = CompareOutput {
        options: opts,
        comparisons,
        regressions,
        fail_on_regression: args.fail_on_regression,
        runs: runs.iter().map(RunLine::of).collect(),
        workload_differences: workload_differences(&runs),
    };
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(if result.regressions.is_empty() {
        Status::Ok
    } else {
        Status::BelowTier
    })
}

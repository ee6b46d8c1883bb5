//! `tokenpace bench URL`: turn the flags into a [`BenchPlan`] (`options`),
//! measure it with [`tokenpace_runner::measure()`], and export the typed
//! result (`export`, [`crate::output::run`]). Without a URL, `local` starts
//! the embedded engine first.

mod export;
mod local;
mod self_test;

use crate::cli::BenchArgs;
use crate::progress::TerminalProgress;
use crate::{input, Status};
use std::io::Write;
use tokenpace_present::Lang;
use tokenpace_runner::BenchPlan;

/// Runs `tokenpace bench`: against the URL given, or, without one, against
/// the embedded engine.
pub fn run(args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.self_test {
        return self_test::run(&args, lang, out);
    }
    let Some(url) = args.url.as_deref() else {
        return local::run(args, lang, out);
    };
    let plan = crate::cli::bench_plan::plan(&args, url)?;
    run_plan(&plan, &args, lang, out)
}

/// Measures `plan` and exports the result as `args` ask (`--format`,
/// `--html`, `--fail-below`).
fn run_plan(
    plan: &BenchPlan,
    args: &BenchArgs,
    lang: Lang,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let m = tokenpace_runner::measure(plan, profile, &TerminalProgress(lang))?;
    let output = crate::output::bench::bench_output(&m, lang);
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    if let Some(path) = &args.html {
        let title = plan.out.as_ref().and_then(|d| d.file_name()).map_or_else(
            || export::target_name(&plan.target_label),
            |n| n.to_string_lossy().into_owned(),
        );
        let levels = m.results.iter().map(|r| (r.label.clone(), r));
        export::write_report(path, &title, levels, &m.profile, lang)?;
    }
    let below = args
        .fail_below
        .is_some_and(|t| m.results.iter().any(|r| r.grade.any_below(t.into())));
    Ok(export::status(m.partial(), below))
}

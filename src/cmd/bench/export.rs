//! A measurement as `bench` hands it on: the typed output
//! ([`crate::output::run`], its caveats in words), the HTML report, and
//! the exit status.

use crate::output::caveats;
use crate::output::run::{BenchOutput, FitOutput, LevelOutput, RunOutput, SweepOutput};
use crate::Status;
use std::path::Path;
use tokenpace_core::profile::Profile;
use tokenpace_present::Lang;
use tokenpace_runner::{LevelResult, Measurement};

/// How a run ended: interrupted (Ctrl-C) before a missed `--fail-below`,
/// so a script can tell a cut-short run from a slow one.
pub(super) fn status(partial: bool, below: bool) -> Status {
    if partial {
        Status::Interrupted
    } else if below {
        Status::BelowTier
    } else {
        Status::Ok
    }
}

/// The caveats of `m` in words: first any level the client limited, the
/// self-check's last.
pub(super) fn notes(m: &Measurement, lang: Lang) -> Vec<String> {
    let several = m.results.len() > 1;
    let mut notes: Vec<String> = m
        .results
        .iter()
        .filter_map(|r| {
            let label = several.then_some(r.label.as_str());
            crate::output::ceiling::client_limited(r.summary.client.as_ref()?, label, lang)
        })
        .collect();
    notes.extend(m.caveats.iter().map(|&c| caveats::text(c, lang)));
    if let Some(e) = &m.self_check {
        notes.push(caveats::self_check(e, lang));
    }
    notes
}

/// The typed result of a run: one level, or a sweep; each level's goodput
/// when the run had an SLO (a sweep's as notes, one per level).
pub(super) fn bench_output(m: &Measurement, lang: Lang) -> BenchOutput {
    let mut notes = notes(m, lang);
    if let [_, _, ..] = m.results.as_slice() {
        for r in &m.results {
            if let Some(a) = &r.summary.goodput {
                notes.push(format!(
                    "{}: {}",
                    r.label,
                    crate::output::goodput::line(a, lang)
                ));
            }
        }
    }
    match m.results.as_slice() {
        [one] => BenchOutput::Run(Box::new(RunOutput {
            summary: one.summary.clone(),
            grade: one.grade.clone(),
            self_check: m.self_check,
            server_metrics: one.server.clone(),
            tier_spans: one.tier_spans.clone(),
            notes,
            model_grades: crate::output::model_mix::grades(&one.summary, &m.profile),
            profile: m.profile.clone(),
        })),
        results => BenchOutput::Sweep(sweep_output(results, m, notes)),
    }
}

/// The levels of `m` as a sweep's output.
pub(super) fn sweep_output(
    results: &[LevelResult],
    m: &Measurement,
    notes: Vec<String>,
) -> SweepOutput {
    SweepOutput {
        levels: results.iter().map(LevelOutput::from).collect(),
        prefill_fit: m.fit.as_ref().map(FitOutput::from),
        self_check: m.self_check,
        notes,
    }
}

/// Writes the HTML report of `levels`, each with its name, to `path`.
pub(super) fn write_report<'a>(
    path: &Path,
    title: &str,
    levels: impl IntoIterator<Item = (String, &'a LevelResult)>,
    profile: &Profile,
    lang: Lang,
) -> anyhow::Result<()> {
    let levels: Vec<tokenpace_report::Level> = levels
        .into_iter()
        .map(|(name, r)| tokenpace_report::Level {
            name,
            summary: r.summary.clone(),
            records: r.records.clone(),
        })
        .collect();
    let html = tokenpace_report::Html {
        lang,
        title,
        profile,
    };
    crate::output::report::write_html(path, &html, &levels)?;
    crate::progress::note(format_args!(
        "{} {}",
        lang.pick("report written to", "报告已写入"),
        path.display()
    ));
    Ok(())
}

/// A run's title from its URL: host and path, without the scheme.
pub(super) fn target_name(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}

//! A measurement as `bench` prints and stores it: the typed output of one
//! level or a sweep, with the run's caveats in words.

use crate::output::caveats;
use crate::output::run::{BenchOutput, FitOutput, LevelOutput, RunOutput, SweepOutput};
use tokenpace_present::Lang;
use tokenpace_runner::{LevelResult, Measurement};

/// The caveats of `m` in words: first any level the client limited, the
/// self-check's last.
pub fn notes(m: &Measurement, lang: Lang) -> Vec<String> {
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
pub fn bench_output(m: &Measurement, lang: Lang) -> BenchOutput {
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
pub fn sweep_output(results: &[LevelResult], m: &Measurement, notes: Vec<String>) -> SweepOutput {
    SweepOutput {
        levels: results.iter().map(LevelOutput::from).collect(),
        prefill_fit: m.fit.as_ref().map(FitOutput::from),
        self_check: m.self_check,
        notes,
    }
}

//! `tokenpace grade`: grade numbers or a run summary on a profile.

use crate::cli::GradeArgs;
use crate::output::grade::GradeOutput;
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_core::metric::Metric;
use tokenpace_present::Lang;

/// Runs `tokenpace grade`.
pub fn run(args: GradeArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let (grade, unmeasured) = match &args.summary {
        Some(path) => {
            let summary = input::run_summary(path)?;
            let mut grade = profile.grade_run(|m, st| summary.get(m, st), None)?;
            tokenpace_core::ceiling::cap(&mut grade, summary.client.as_ref());
            let unmeasured: Vec<Metric> = profile
                .metrics
                .iter()
                .filter(|(&m, rule)| summary.get(m, rule.statistic).is_none())
                // A prefill too short to measure has its own line.
                .filter(|(&m, _)| {
                    m != Metric::PrefillTokS || grade.prefill_not_measurable.is_none()
                })
                .map(|(&m, _)| m)
                .collect();
            (grade, unmeasured)
        }
        None => {
            let values: Vec<(Metric, f64)> = [
                (Metric::TtftS, args.ttft),
                (Metric::PrefillTokS, args.prefill),
                (Metric::DecodeTokS, args.decode),
                (Metric::OutputCharsS, args.chars_per_s),
            ]
            .into_iter()
            .filter_map(|(m, v)| v.map(|v| (m, v)))
            .collect();
            if values.is_empty() {
                bail!("nothing to grade: give at least one of --ttft, --prefill, --decode, --chars-per-s, or --summary FILE (see tokenpace grade --help)");
            }
            let ungraded: Vec<&str> = values
                .iter()
                .filter(|(m, _)| !profile.metrics.contains_key(m))
                .map(|(m, _)| m.id())
                .collect();
            if !ungraded.is_empty() {
                bail!(
                    "profile '{}' does not grade {}: add [metrics.<id>] tables for them or drop those flags",
                    profile.name,
                    ungraded.join(", ")
                );
            }
            (profile.grade_values(&values)?, Vec::new())
        }
    };

    let below = args
        .fail_below
        .is_some_and(|tier| grade.any_below(tier.into()));
    let result = GradeOutput {
        grade,
        profile,
        unmeasured,
    };
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;

    Ok(if below { Status::BelowTier } else { Status::Ok })
}

//! `tokenpace merge DIR... --out DIR`: join the result directories of a run
//! split with `bench --shard I/N` into one run. Statistics come from the
//! union of the raw records, so percentiles are exact, not averaged.

use crate::cli::MergeArgs;
use crate::output::merge::{MergeOutput, MergedLevel};
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_core::merge::{merge, ShardResult};
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;

/// Runs `tokenpace merge`.
pub fn run(args: MergeArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    // Level label (`None` for a plain run) → one directory per shard, in
    // the order the first shard ran its levels.
    let mut levels: Vec<(Option<String>, Vec<RunDir>)> = Vec::new();
    for dir in &args.dirs {
        for level in RunDir::open(dir)?.levels()? {
            match levels.iter_mut().find(|(l, _)| *l == level.label) {
                Some((_, dirs)) => dirs.push(level.dir),
                None => levels.push((level.label, vec![level.dir])),
            }
        }
    }
    if let Some((label, dirs)) = levels.iter().find(|(_, d)| d.len() != args.dirs.len()) {
        bail!(
            "{} is in {} of the {} directories: merge results of one run with the same levels",
            label
                .as_ref()
                .map_or("the run".to_string(), |l| format!("level '{l}'")),
            dirs.len(),
            args.dirs.len()
        );
    }
    let out_dir = RunDir::new(&args.out);
    out_dir.create()?;
    let mut merged_levels = Vec::new();
    for (label, dirs) in levels {
        let parts = dirs
            .iter()
            .map(read_shard)
            .collect::<anyhow::Result<Vec<_>>>()?;
        let merged = merge(parts)?;
        let dest = match &label {
            Some(l) => out_dir.level(l),
            None => out_dir.clone(),
        };
        dest.create()?;
        dest.write_records(&merged.records)?;
        dest.write_summary(&merged.summary)?;
        // Not errors: the requests are measured right; the run is not
        // the one asked for, and the output says so.
        let notes = merged.problems();
        let level = label
            .as_ref()
            .map_or(String::new(), |l| format!("level '{l}': "));
        for note in &notes {
            input::warning(&format!("{level}{note}"));
        }
        let grade = profile.grade_run(|m, st| merged.summary.get(m, st), None)?;
        merged_levels.push(MergedLevel {
            level: label.unwrap_or_default(),
            summary: merged.summary,
            grade,
            notes,
        });
    }
    let result = MergeOutput {
        levels: merged_levels,
        shards: args.dirs.len(),
        profile,
    };
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// One shard's level; reading it checks that its records are the requests
/// its run.json counts.
fn read_shard(dir: &RunDir) -> anyhow::Result<ShardResult> {
    let level = dir.read_level(dir.name())?;
    input::warn(&level.warnings);
    let (summary, records) = (level.summary, level.records);
    Ok(ShardResult {
        source: dir.path().display().to_string(),
        summary,
        records,
    })
}

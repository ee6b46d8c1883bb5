//! `tokenpace merge DIR... --out DIR`: join the result directories of a run
//! split with `bench --shard I/N` into one run. Statistics come from the
//! union of the raw records, so percentiles are exact, not averaged.

use crate::cli::{Format, MergeArgs};
use crate::cmd::bench::render_run;
use crate::runfiles::write_json;
use crate::table::{Markdown, Terminal};
use crate::{input, Status};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokenpace_client::sink::{read_jsonl, JsonlSink};
use tokenpace_core::merge::{merge, Merged, ShardResult};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::Lang;

/// Runs `tokenpace merge`.
pub fn run(args: MergeArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    // Level label ("" for a single-level run) → one directory per shard.
    let mut levels: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in &args.dirs {
        let found = level_dirs(dir)?;
        for (label, d) in found {
            levels.entry(label).or_default().push(d);
        }
    }
    if let Some((label, dirs)) = levels.iter().find(|(_, d)| d.len() != args.dirs.len()) {
        bail!(
            "level '{label}' is in {} of the {} directories: merge results of one run with the same levels",
            dirs.len(),
            args.dirs.len()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("could not create '{}'", args.out.display()))?;
    let mut merged_levels = Vec::new();
    for (label, dirs) in &levels {
        let parts = dirs
            .iter()
            .map(|d| read_shard(d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let merged = merge(parts)?;
        let dest = if label.is_empty() {
            args.out.clone()
        } else {
            args.out.join(label)
        };
        write(&dest, &merged)?;
        if !merged.missing.is_empty() {
            let split = merged.records.len();
            eprintln!(
                "warning: level '{label}': shards {:?} were not given; the merged run holds {split} requests, not the whole run's",
                merged.missing
            );
        }
        merged_levels.push((label.clone(), merged));
    }
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => {
            let v: Vec<_> = merged_levels
                .iter()
                .map(|(label, m)| serde_json::json!({"level": label, "summary": m.summary}))
                .collect();
            serde_json::to_string_pretty(&v)? + "\n"
        }
        Format::Table | Format::Markdown => {
            let markdown = args.output.format == Format::Markdown;
            let note = format!(
                "merged from {} shard directories: statistics over the union of their requests; throughput summed over shards",
                args.dirs.len()
            );
            let mut text = String::new();
            for (label, m) in &merged_levels {
                if !label.is_empty() {
                    text.push_str(&format!("── {label} ──\n"));
                }
                let grade = profile.grade(|metric, st| m.summary.get(metric, st), false)?;
                let format: &dyn crate::table::TableFormat =
                    if markdown { &Markdown } else { &Terminal };
                text.push_str(&render_run(
                    &m.summary,
                    &grade,
                    &profile,
                    std::slice::from_ref(&note),
                    lang,
                    format,
                    markdown,
                ));
            }
            text
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// The levels in a `bench --out` directory: the directory itself when it
/// holds `run.json`, else its sub-directories that do (a sweep).
fn level_dirs(dir: &Path) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    if dir.join("run.json").is_file() {
        return Ok(BTreeMap::from([(String::new(), dir.to_path_buf())]));
    }
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "could not read '{}': give directories written by `bench --shard I/N --out DIR`",
            dir.display()
        )
    })?;
    let mut found = BTreeMap::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.join("run.json").is_file() {
            found.insert(e.file_name().to_string_lossy().into_owned(), path);
        }
    }
    if found.is_empty() {
        bail!(
            "'{}' holds no run.json: give directories written by `bench --shard I/N --out DIR`",
            dir.display()
        );
    }
    Ok(found)
}

fn read_shard(dir: &Path) -> anyhow::Result<ShardResult> {
    let path = dir.join("run.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("could not read '{}'", path.display()))?;
    let summary: RunSummary = serde_json::from_str(&text)
        .with_context(|| format!("'{}' is not a tokenpace run summary", path.display()))?;
    let records = read_jsonl(&dir.join("requests.jsonl"))?;
    if records.len() as u64 != summary.counts.sent {
        bail!(
            "'{}' holds {} requests but its run.json counts {} sent: the directory is incomplete",
            dir.display(),
            records.len(),
            summary.counts.sent
        );
    }
    Ok(ShardResult {
        source: dir.display().to_string(),
        summary,
        records,
    })
}

fn write(dir: &Path, merged: &Merged) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    let mut sink = JsonlSink::create(&dir.join("requests.jsonl"))?;
    for r in &merged.records {
        sink.write(r)
            .with_context(|| format!("could not write '{}'", dir.display()))?;
    }
    write_json(&dir.join("run.json"), &merged.summary)
}

//! `tokenpace history`: the runs found under a directory, one row per
//! level, newest last. Nothing is indexed on disk: the scan reads each
//! `run.json` (never the records), so the list is always current.

use crate::cli::{Format, HistoryArgs};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::bail;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::number;
use tokenpace_present::Lang;

/// Directory levels searched below the root.
const MAX_DEPTH: usize = 5;

/// One run (or one level of a sweep) found under the root.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Path relative to the root, with `/` separators: what `compare` takes.
    pub name: String,
    /// When it started (RFC 3339 UTC), if recorded.
    pub started_at: Option<String>,
    /// What was measured.
    pub target: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// Closed-loop concurrency.
    pub concurrency: Option<u32>,
    /// Open-loop rate, requests/s.
    pub rate: Option<f64>,
    /// Requests sent and succeeded.
    pub sent: u64,
    /// Requests that succeeded.
    pub ok: u64,
    /// Mean TTFT, seconds.
    pub ttft_s: Option<f64>,
    /// Mean per-stream decode, tokens/s.
    pub decode_tok_s: Option<f64>,
    /// Mean output speed, characters/s.
    pub output_chars_s: Option<f64>,
    /// Overall tier under the profile.
    pub tier: Option<String>,
    /// Whether the run was interrupted.
    pub partial: bool,
}

impl Entry {
    fn of(name: String, s: &RunSummary, profile: &Profile) -> Entry {
        let tier = profile
            .grade(|m, st| s.get(m, st), false)
            .ok()
            .and_then(|g| g.overall)
            .map(|t| t.to_string());
        Entry {
            name,
            started_at: s.environment.started_at.clone(),
            target: s.settings.target.clone(),
            model: s.settings.model.clone(),
            concurrency: s.settings.concurrency,
            rate: s.settings.rate,
            sent: s.counts.sent,
            ok: s.counts.ok,
            ttft_s: s.get(Metric::TtftS, Statistic::Mean),
            decode_tok_s: s.get(Metric::DecodeTokS, Statistic::Mean),
            output_chars_s: s.get(Metric::OutputCharsS, Statistic::Mean),
            tier,
            partial: s.partial,
        }
    }
}

/// Every run under `root`, oldest first (by start time, then name), and
/// the files that could not be read.
pub fn scan(root: &Path, profile: &Profile) -> anyhow::Result<(Vec<Entry>, Vec<String>)> {
    if !root.is_dir() {
        bail!(
            "'{}' is not a directory: give --dir the directory your `bench --out` runs are in",
            root.display()
        );
    }
    let (mut entries, mut skipped) = (Vec::new(), Vec::new());
    walk(root, root, 0, profile, &mut entries, &mut skipped);
    entries.sort_by(|a, b| (&a.started_at, &a.name).cmp(&(&b.started_at, &b.name)));
    Ok((entries, skipped))
}

fn walk(
    root: &Path,
    dir: &Path,
    depth: usize,
    profile: &Profile,
    entries: &mut Vec<Entry>,
    skipped: &mut Vec<String>,
) {
    if dir.join("run.json").is_file() {
        match input::run_summary(dir) {
            Ok(s) => entries.push(Entry::of(relative(root, dir), &s, profile)),
            Err(e) => skipped.push(format!("{e:#}")),
        }
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.') && n != "target" && n != "node_modules"
        })
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        walk(root, &d, depth + 1, profile, entries, skipped);
    }
}

fn relative(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Runs `tokenpace history`.
pub fn run(args: HistoryArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let (entries, skipped) = scan(&args.dir, &profile)?;
    for s in &skipped {
        eprintln!("warning: skipped {s}");
    }
    let text = match args.output.format {
        Format::Json => serde_json::to_string_pretty(&entries)? + "\n",
        Format::Csv => crate::table::Csv.render(&csv_table(&entries)),
        Format::Table | Format::Markdown if entries.is_empty() => format!(
            "{} '{}' ({})\n",
            lang.pick("no runs under", "未找到运行："),
            args.dir.display(),
            lang.pick(
                "`tokenpace bench URL --out DIR` writes one",
                "用 `tokenpace bench URL --out DIR` 生成"
            )
        ),
        Format::Table => Terminal.render(&table(&entries, lang)),
        Format::Markdown => Markdown.render(&table(&entries, lang)),
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// CSV: the JSON field names as headers, numbers at full precision.
fn csv_table(entries: &[Entry]) -> Table {
    let mut t = Table::new(
        &[
            "name",
            "started_at",
            "target",
            "model",
            "concurrency",
            "rate",
            "sent",
            "ok",
            "ttft_s",
            "decode_tok_s",
            "output_chars_s",
            "tier",
            "partial",
        ]
        .map(|h| (h, Align::Left)),
    );
    let opt = |v: Option<String>| v.unwrap_or_default();
    for e in entries {
        t.row(vec![
            e.name.clone(),
            opt(e.started_at.clone()),
            opt(e.target.clone()),
            opt(e.model.clone()),
            opt(e.concurrency.map(|v| v.to_string())),
            opt(e.rate.map(|v| v.to_string())),
            e.sent.to_string(),
            e.ok.to_string(),
            opt(e.ttft_s.map(|v| v.to_string())),
            opt(e.decode_tok_s.map(|v| v.to_string())),
            opt(e.output_chars_s.map(|v| v.to_string())),
            opt(e.tier.clone()),
            e.partial.to_string(),
        ]);
    }
    t
}

fn table(entries: &[Entry], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("name", "名称"), Align::Left),
        (lang.pick("started", "开始时间"), Align::Left),
        (lang.pick("target", "目标"), Align::Left),
        (lang.pick("model", "模型"), Align::Left),
        (lang.pick("load", "负载"), Align::Right),
        ("ok", Align::Right),
        ("TTFT (s)", Align::Right),
        (lang.pick("decode (tok/s)", "解码 (tok/s)"), Align::Right),
        (lang.pick("chars/s", "字/秒"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let num = |m: Metric, v: Option<f64>| v.map_or("-".into(), |v| number::value(m, v));
    for e in entries {
        let load = match (e.concurrency, e.rate) {
            (Some(c), _) => format!("c{c}"),
            (_, Some(r)) => format!("{r}/s"),
            _ => "-".into(),
        };
        t.row(vec![
            e.name.clone(),
            e.started_at.clone().unwrap_or_else(|| "-".into()),
            e.target.clone().unwrap_or_else(|| "-".into()),
            e.model.clone().unwrap_or_else(|| "-".into()),
            load,
            format!("{}/{}{}", e.ok, e.sent, if e.partial { "*" } else { "" }),
            num(Metric::TtftS, e.ttft_s),
            num(Metric::DecodeTokS, e.decode_tok_s),
            num(Metric::OutputCharsS, e.output_chars_s),
            e.tier.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t
}

/// Where a run named on the command line is: the path itself when it
/// exists, else the name under `root` (a name `history` listed).
pub fn resolve(name: &str, root: &Path) -> anyhow::Result<PathBuf> {
    let direct = PathBuf::from(name);
    if direct.exists() {
        return Ok(direct);
    }
    let under = root.join(name);
    if under.exists() {
        return Ok(under);
    }
    bail!(
        "'{name}' is neither a run directory nor a run name under '{}': see `tokenpace history --dir {}` for the names",
        root.display(),
        root.display()
    )
}

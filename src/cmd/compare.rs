//! `tokenpace compare A B [C…]`: runs side by side against the first, each
//! change with a Mann-Whitney p-value, tier changes, and a regression gate.

use super::history::resolve;
use crate::cli::{CompareArgs, Format};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, rundir, Status};
use anyhow::{bail, Context};
use std::io::Write;
use tokenpace_present::number;
use tokenpace_present::Lang;
use tokenpace_report::compare::{compare, CompareOptions, Comparison};
use tokenpace_report::compare_page::{change_text, p_text, verdict_text};
use tokenpace_report::Run;

/// Runs `tokenpace compare`.
pub fn run(args: CompareArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let mut runs: Vec<Run> = Vec::new();
    for name in &args.runs {
        let dir = rundir::load(&resolve(name, &args.dir)?)?;
        let mut levels = dir.levels;
        if levels.len() > 1 {
            let labels: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
            bail!(
                "'{name}' is a sweep with levels {}: compare one level, e.g. {}/{}",
                labels.join(", "),
                name.trim_end_matches('/'),
                labels[0]
            );
        }
        let mut run = levels.remove(0);
        run.name = unique(name, &runs);
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
    let regressions: Vec<(String, String, f64)> = args
        .fail_on_regression
        .map(|pct| {
            comparisons
                .iter()
                .flat_map(|c| {
                    c.regressions(pct).into_iter().map(|ch| {
                        (
                            c.run.clone(),
                            ch.metric.id().to_string(),
                            ch.worse_pct.unwrap_or(0.0),
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(path) = &args.html {
        let html = tokenpace_report::compare_page::render(
            &runs,
            &comparisons,
            &profile,
            lang,
            env!("CARGO_PKG_VERSION"),
            opts.alpha,
            opts.min_change_pct,
        );
        std::fs::write(path, html)
            .with_context(|| format!("could not write '{}'", path.display()))?;
    }
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        crate::cli::Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "options": opts,
                "comparisons": comparisons,
                "regressions": regressions.iter().map(|(r, m, w)| serde_json::json!({"run": r, "metric": m, "worse_pct": w})).collect::<Vec<_>>(),
            }))? + "\n"
        }
        crate::cli::Format::Table => render(&runs, &comparisons, &opts, lang, &Terminal, false),
        crate::cli::Format::Markdown => render(&runs, &comparisons, &opts, lang, &Markdown, true),
    };
    out.write_all(text.as_bytes())?;
    let Some(pct) = args.fail_on_regression.filter(|_| !regressions.is_empty()) else {
        return Ok(Status::Ok);
    };
    if args.output.format != crate::cli::Format::Json {
        let list: Vec<String> = regressions
            .iter()
            .map(|(r, m, w)| format!("{r} {m} {w:+.1} %"))
            .collect();
        writeln!(
            out,
            "{} {pct} %: {}",
            lang.pick("regression beyond", "退化超过"),
            list.join(", ")
        )?;
    }
    Ok(Status::BelowTier)
}

/// The workload settings that differ between the runs ("concurrency 4 / 8"):
/// their changes are then not the server's alone.
fn workload_differences(runs: &[Run]) -> Vec<String> {
    type Field = (&'static str, fn(&Run) -> Option<String>);
    let fields: [Field; 4] = [
        ("concurrency", |r| {
            r.summary.settings.concurrency.map(|v| v.to_string())
        }),
        ("rate", |r| r.summary.settings.rate.map(|v| v.to_string())),
        ("prompt_tokens", |r| {
            r.summary.settings.prompt_tokens.map(|v| v.to_string())
        }),
        ("max_tokens", |r| {
            r.summary.settings.max_tokens.map(|v| v.to_string())
        }),
    ];
    fields
        .iter()
        .filter_map(|(name, get)| {
            let values: Vec<String> = runs
                .iter()
                .map(|r| get(r).unwrap_or_else(|| "-".into()))
                .collect();
            values
                .iter()
                .any(|v| *v != values[0])
                .then(|| format!("{name} {}", values.join(" / ")))
        })
        .collect()
}

/// The name as given, made unique among the runs so far.
fn unique(name: &str, runs: &[Run]) -> String {
    let base = name.trim_end_matches('/').to_string();
    if runs.iter().any(|r| r.name == base) {
        format!("{base}#{}", runs.len() + 1)
    } else {
        base
    }
}

fn render(
    runs: &[Run],
    comparisons: &[Comparison],
    opts: &CompareOptions,
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let mut out = String::new();
    for r in runs {
        let s = &r.summary.settings;
        out.push_str(&format!(
            "{}{}: {} · {} · {} · {}/{} ok\n",
            if markdown { "- " } else { "" },
            r.name,
            s.target.as_deref().unwrap_or("-"),
            s.model.as_deref().unwrap_or("-"),
            r.summary.environment.started_at.as_deref().unwrap_or("-"),
            r.summary.counts.ok,
            r.summary.counts.sent,
        ));
    }
    for note in workload_differences(runs) {
        out.push_str(&format!(
            "{}{}: {note}\n",
            if markdown { "> " } else { "" },
            lang.pick("note: the workloads differ", "注意：负载设置不同")
        ));
    }
    for c in comparisons {
        let mut t = Table::new(&[
            (lang.pick("metric", "指标"), Align::Left),
            (&c.base, Align::Right),
            (&c.run, Align::Right),
            (lang.pick("change", "变化"), Align::Right),
            ("p", Align::Right),
            (lang.pick("verdict", "结论"), Align::Left),
            (lang.pick("tier", "等级"), Align::Left),
        ]);
        for ch in &c.changes {
            let tier = match (ch.base_tier, ch.tier) {
                (Some(a), Some(b)) if a != b => format!("{a} → {b} !"),
                (Some(a), Some(_)) => a.to_string(),
                _ => String::new(),
            };
            let unit = match ch.metric.unit() {
                "" => String::new(),
                u => format!(", {u}"),
            };
            t.row(vec![
                format!("{} ({}{unit})", lang.metric(ch.metric), ch.statistic),
                number::value(ch.metric, ch.base),
                number::value(ch.metric, ch.value),
                change_text(ch.change_pct),
                p_text(ch.test.map(|t| t.p_value)),
                verdict_text(ch.verdict, lang).to_string(),
                tier,
            ]);
        }
        out.push('\n');
        out.push_str(&format.render(&t));
    }
    out.push_str(&format!(
        "\n{}\n",
        match lang {
            Lang::En => format!(
                "significant: Mann-Whitney U on per-request values, two-sided, p < {} and |change| > {} %",
                opts.alpha, opts.min_change_pct
            ),
            Lang::Zh => format!(
                "显著：逐请求数值的 Mann-Whitney U 检验（双侧），p < {} 且 |变化| > {} %",
                opts.alpha, opts.min_change_pct
            ),
        }
    ));
    out
}

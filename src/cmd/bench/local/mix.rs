//! The default mix against the embedded engine: (1) the prefill line from a
//! prompt-length sweep, (2) the built-in scenarios at a quarter of their size,
//! measured and graded, (3) the full-size scenarios predicted from the
//! measured rates, and remedies for the one that falls shortest.

use crate::cli::{BenchArgs, Format};
use crate::cmd::bench::render::render_sweep;
use crate::cmd::bench::{measure, write_report, LevelResult};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_core::grade::{Grade, MetricGrade};
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::{preset_named, ScenarioPlan, ScenarioSpec, PRESETS};
use tokenpace_core::stats::Statistic;
use tokenpace_plan::quant::Quant;
use tokenpace_present::number;
use tokenpace_present::Lang;

/// Scenarios measured, scaled by [`SCALE`]: one per kind of product.
const MEASURED: [&str; 5] = [
    "customer-service",
    "code-paste",
    "writing-assistant",
    "smart-speaker",
    "long-summary",
];
/// Prompt and answer lengths are scaled by this to fit the time budget.
const SCALE: f64 = 0.25;
/// Requests per measured scenario and per sweep point.
const REQUESTS: u64 = 3;

struct Measured {
    name: &'static str,
    prompt: u32,
    answer: u32,
    result: LevelResult,
}

/// Runs the mix; `args.url` points at the engine's server.
/// `weights`: how the model's weights are stored, for the remedies.
pub(super) fn run(
    args: BenchArgs,
    lang: Lang,
    out: &mut dyn Write,
    weights: Option<Quant>,
) -> anyhow::Result<Status> {
    let (format, markdown): (&dyn TableFormat, bool) = match args.output.format {
        Format::Table => (&Terminal, false),
        Format::Markdown => (&Markdown, true),
        Format::Json | Format::Csv => bail!(
            "the default mix prints tables (--format table or markdown); for JSON or CSV give the load yourself, e.g. --concurrency 1 --prompt-tokens 256"
        ),
    };
    let profile = input::profile(args.profile.file.as_deref())?;
    let heading = |n: usize, en: &str, zh: &str| {
        let t = format!("{n}. {}", lang.pick(en, zh));
        if markdown {
            format!("\n### {t}\n\n")
        } else {
            format!("\n{t}\n{}\n", "─".repeat(t.chars().count().min(72)))
        }
    };
    // The longest prompt must leave room for the answer in the context.
    let room = args.engine.ctx_size.saturating_sub(64);

    eprintln!(
        "[1/3] {}",
        lang.pick(
            "prefill line: prompt-length sweep",
            "prefill 直线：提示长度扫描"
        )
    );
    let mut sweep = args.clone();
    sweep.prompt_tokens = [64, 256, 512].into_iter().filter(|&p| p <= room).collect();
    sweep.max_tokens = Some(16);
    sweep.concurrency = vec![1];
    sweep.requests = REQUESTS;
    sweep.out = args.out.as_ref().map(|d| d.join("sweep"));
    let swept = measure(sweep, lang)?;
    out.write_all(
        heading(
            1,
            "Prefill: time to first token against prompt length (1 stream)",
            "Prefill：首字时间与提示长度（单流）",
        )
        .as_bytes(),
    )?;
    out.write_all(
        render_sweep(
            &swept.results,
            swept.fit.as_ref(),
            &swept.notes,
            lang,
            format,
        )
        .as_bytes(),
    )?;

    let mut measured = Vec::new();
    for (i, name) in MEASURED.iter().enumerate() {
        let Some(preset) = preset_named(name) else {
            continue;
        };
        let spec = preset.spec();
        let prompt =
            ((spec.prompt_tokens.unwrap_or(256.0) * SCALE).round() as u32).clamp(8, room / 2);
        let answer = ((spec.output_tokens.unwrap_or(128.0) * SCALE).round() as u32).max(8);
        eprintln!(
            "[2/3] {} {}/{}: {name} ({prompt} → {answer} tokens)",
            lang.pick("scenario", "场景"),
            i + 1,
            MEASURED.len()
        );
        let mut a = args.clone();
        a.prompt_tokens = vec![prompt];
        a.max_tokens = Some(answer);
        a.concurrency = vec![1];
        a.requests = REQUESTS;
        a.out = args.out.as_ref().map(|d| d.join(name));
        let mut m = measure(a, lang)?;
        measured.push(Measured {
            name,
            prompt,
            answer,
            result: m.results.remove(0),
        });
    }
    out.write_all(
        heading(
            2,
            "The built-in scenarios at ¼ size, measured (1 stream, p50)",
            "种子场景（缩小到 ¼，实测，单流，p50）",
        )
        .as_bytes(),
    )?;
    out.write_all(format.render(&measured_table(&measured, lang)).as_bytes())?;
    if let Some(path) = &args.html {
        // One page: the sweep's levels (the prefill line) and each scenario.
        let levels = swept
            .results
            .iter()
            .map(|r| (r.label.clone(), r))
            .chain(measured.iter().map(|m| (m.name.to_string(), &m.result)));
        let title = lang.pick("embedded engine, default mix", "内置引擎，默认测试组合");
        write_report(path, title, levels, &profile, lang)?;
    }

    let fit = swept.fit.as_ref().and_then(|f| f.as_ref().ok());
    let decode = median(
        measured
            .iter()
            .filter_map(|m| m.result.summary.get(Metric::DecodeTokS, Statistic::P50)),
    );
    let chars_per_token = median(
        measured
            .iter()
            .filter_map(|m| m.result.summary.get(Metric::CharsPerToken, Statistic::P50)),
    );
    let (Some(fit), Some(decode), Some(cpt)) = (fit, decode, chars_per_token) else {
        out.write_all(
            lang.pick(
                "\nNo prediction: the sweep gave no prefill line or no request decoded.\n",
                "\n无法预测：扫描未得出 prefill 直线，或没有请求完成解码。\n",
            )
            .as_bytes(),
        )?;
        return Ok(Status::Ok);
    };
    let plans: Vec<(&str, ScenarioPlan)> = PRESETS
        .iter()
        .filter_map(|p| {
            let spec = p.spec().overlay(ScenarioSpec {
                rtt_s: Some(fit.overhead_s.max(0.0)),
                prefill_tok_s: Some(fit.prefill_tok_s),
                decode_tok_s: Some(decode),
                chars_per_token: Some((cpt, "measured on this model".into())),
                ..ScenarioSpec::default()
            });
            Some((p.name, spec.resolve(&profile).ok()?.plan(&profile)))
        })
        .collect();
    out.write_all(
        heading(
            3,
            "Full-size scenarios predicted from the measured rates",
            "按实测速率预测的完整场景",
        )
        .as_bytes(),
    )?;
    let basis = format!(
        "{}: prefill {} · decode {} · {} {:.2} · {} {}\n\n",
        lang.pick("measured", "实测"),
        number::with_unit(Metric::PrefillTokS, fit.prefill_tok_s),
        number::with_unit(Metric::DecodeTokS, decode),
        lang.pick("chars/token", "字符/token"),
        cpt,
        lang.pick("fixed TTFT part", "TTFT 固定部分"),
        number::with_unit(Metric::TtftS, fit.overhead_s.max(0.0)),
    );
    out.write_all(basis.as_bytes())?;
    out.write_all(format.render(&predicted_table(&plans, lang)).as_bytes())?;
    // Remedies for the worked example if it misses, else the first miss.
    let missing =
        |p: &ScenarioPlan| !(p.predicted.meets_ttft_target && p.predicted.meets_chars_target);
    let pick = plans
        .iter()
        .find(|(n, p)| *n == "long-summary" && missing(p))
        .or_else(|| plans.iter().find(|(_, p)| missing(p)));
    if let Some((name, plan)) = pick {
        if let Some((s, list)) = crate::cmd::plan_remedies::for_scenario(plan, &profile, weights) {
            out.write_all(
                format!("\n{}: {name}", lang.pick("What would fix", "如何改进")).as_bytes(),
            )?;
            out.write_all(
                crate::cmd::plan_remedies::scenario_section(
                    &s,
                    &list,
                    lang,
                    format,
                    markdown,
                    weights.is_none(),
                )
                .as_bytes(),
            )?;
        }
    }
    let below = args
        .fail_below
        .is_some_and(|t| measured.iter().any(|m| m.result.grade.any_below(t.into())));
    Ok(if below { Status::BelowTier } else { Status::Ok })
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn tier(grade: &Grade, metric: Metric, lang: Lang) -> String {
    grade
        .metrics
        .iter()
        .find(|g| g.metric == metric)
        .map_or(String::new(), |g: &MetricGrade| match g.pass {
            Some(true) => lang.pick("pass", "达标").into(),
            Some(false) => lang.pick("fail", "未达标").into(),
            None => g.tier.to_string(),
        })
}

fn measured_table(rows: &[Measured], lang: Lang) -> Table {
    let metrics = [
        (Metric::TtftS, lang.pick("TTFT", "首字")),
        (Metric::PrefillTokS, "prefill"),
        (Metric::DecodeTokS, "decode"),
        (Metric::OutputCharsS, lang.pick("chars/s", "字/s")),
    ];
    let mut columns = vec![
        (lang.pick("scenario", "场景"), Align::Left),
        (
            lang.pick("tokens in → out", "输入 → 输出 token"),
            Align::Right,
        ),
    ];
    for (_, label) in &metrics {
        columns.push((label, Align::Right));
        columns.push(("", Align::Left));
    }
    columns.push((lang.pick("overall", "总评"), Align::Left));
    let mut t = Table::new(&columns);
    for m in rows {
        let s = &m.result.summary;
        let mut cells = vec![m.name.to_string(), format!("{} → {}", m.prompt, m.answer)];
        for (metric, _) in &metrics {
            cells.push(
                s.get(*metric, Statistic::P50)
                    .map_or("-".into(), |v| number::with_unit(*metric, v)),
            );
            cells.push(tier(&m.result.grade, *metric, lang));
        }
        cells.push(m.result.grade.overall.map_or("-".into(), |t| t.to_string()));
        t.row(cells);
    }
    t
}

fn predicted_table(plans: &[(&str, ScenarioPlan)], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("scenario", "场景"), Align::Left),
        (
            lang.pick("tokens in → out", "输入 → 输出 token"),
            Align::Right,
        ),
        (lang.pick("TTFT", "首字"), Align::Right),
        (lang.pick("target", "目标"), Align::Right),
        (lang.pick("chars/s", "字/s"), Align::Right),
        (lang.pick("target", "目标"), Align::Right),
        (lang.pick("answer done", "回答完成"), Align::Right),
        (lang.pick("meets both", "两项达标"), Align::Left),
    ]);
    for (name, plan) in plans {
        let (s, p) = (&plan.scenario, &plan.predicted);
        let yes = p.meets_ttft_target && p.meets_chars_target;
        t.row(vec![
            name.to_string(),
            format!("{:.0} → {:.0}", s.prompt_tokens, s.output_tokens),
            number::with_unit(Metric::TtftS, p.ttft_s),
            format!("< {}", number::with_unit(Metric::TtftS, s.ttft_target_s)),
            number::with_unit(Metric::OutputCharsS, p.output_chars_s),
            format!(
                "≥ {}",
                number::value(Metric::OutputCharsS, s.chars_per_s_target)
            ),
            number::with_unit(Metric::E2eS, p.total_s),
            if yes {
                lang.pick("yes", "是")
            } else {
                lang.pick("no", "否")
            }
            .into(),
        ]);
    }
    t
}

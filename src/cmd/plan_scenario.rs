//! `tokenpace plan scenario`: the design method as a calculator.

use crate::cli::{Format, ScenarioArgs, ScenarioFlags};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::{anyhow, Context};
use serde::Serialize;
use std::io::Write;
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::{
    preset_named, preset_names, Preset, RateSource, ScenarioPlan, ScenarioSpec,
    DEFAULT_RATIO_SOURCE, PRESETS,
};
use tokenpace_core::stats::Statistic;
use tokenpace_core::tokenizer_family::{family, family_ids};
use tokenpace_present::number;
use tokenpace_present::Lang;

/// Runs `tokenpace plan scenario`.
pub fn run(args: ScenarioArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.list {
        let text = match args.output.format {
            Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
            Format::Json => serde_json::to_string_pretty(&preset_list())? + "\n",
            Format::Table => Terminal.render(&preset_table(lang)),
            Format::Markdown => Markdown.render(&preset_table(lang)),
        };
        out.write_all(text.as_bytes())?;
        return Ok(Status::Ok);
    }
    let profile = input::profile(args.profile.file.as_deref())?;
    let (preset, spec) = scenario_spec(&args.scenario)?;
    let plan = spec.resolve(&profile)?.plan(&profile);
    let remedies = super::plan_remedies::for_scenario(&plan, &profile, None);
    let section = |format: &dyn TableFormat, markdown: bool| {
        remedies.as_ref().map_or(String::new(), |(s, list)| {
            super::plan_remedies::scenario_section(s, list, lang, format, markdown, true)
        })
    };
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => {
            serde_json::to_string_pretty(&WithRemedies {
                plan: &plan,
                remedies: remedies.as_ref().map(|r| &r.1),
            })? + "\n"
        }
        Format::Table => render(&plan, preset, lang, &Terminal, false) + &section(&Terminal, false),
        Format::Markdown => {
            render(&plan, preset, lang, &Markdown, true) + &section(&Markdown, true)
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// The plan's JSON with the remedies appended when a target is missed.
#[derive(Serialize)]
struct WithRemedies<'a> {
    #[serde(flatten)]
    plan: &'a ScenarioPlan,
    #[serde(skip_serializing_if = "Option::is_none")]
    remedies: Option<&'a Vec<tokenpace_plan::remedies::Remedy>>,
}

/// The preset the flags name (if any) and the scenario they describe: the
/// preset's values, overridden by every flag given.
pub fn scenario_spec(
    flags: &ScenarioFlags,
) -> anyhow::Result<(Option<&'static Preset>, ScenarioSpec)> {
    let preset = match &flags.preset {
        Some(name) => Some(preset_named(name).ok_or_else(|| {
            anyhow!("unknown preset '{name}': use one of {} (tokenpace plan scenario --list shows them)", preset_names())
        })?),
        None => None,
    };
    let given = ScenarioSpec {
        prompt_tokens: flags.prompt_tokens,
        output_tokens: flags.output_tokens,
        rtt_s: flags.rtt,
        ttft_target_s: flags.ttft_target,
        chars_per_s_target: flags.chars_per_s,
        chars_per_token: chars_per_token(flags)?,
        prefill_tok_s: flags.prefill,
        decode_tok_s: flags.decode,
    };
    Ok((
        preset,
        preset.map(Preset::spec).unwrap_or_default().overlay(given),
    ))
}

/// The characters-per-token ratio the flags ask for, with its source.
fn chars_per_token(args: &ScenarioFlags) -> anyhow::Result<Option<(f64, String)>> {
    if let Some(r) = args.chars_per_token {
        return Ok(Some((r, format!("--chars-per-token {r}"))));
    }
    if let Some(id) = &args.tokenizer_family {
        let f = family(id).ok_or_else(|| {
            anyhow!(
                "unknown tokenizer family '{id}': use one of {}, or give --chars-per-token",
                family_ids()
            )
        })?;
        return Ok(Some((
            f.zh_chars_per_token,
            format!(
                "{} tokenizer family ({}); source: {}",
                f.id, f.models, f.source
            ),
        )));
    }
    if let Some(path) = &args.tokenizer {
        let t = tokenpace_client::tokenizer::ModelTokenizer::from_file(path)?;
        let sample = tokenpace_corpus::text(tokenpace_corpus::Lang::Zh);
        let chars = tokenpace_core::text::CharCount::of(sample).chars;
        let tokens = t.count(sample)?.max(1);
        return Ok(Some((
            f64::from(chars) / f64::from(tokens),
            format!(
                "measured with '{}' on tokenpace's Chinese sample text ({chars} characters, {tokens} tokens)",
                path.display()
            ),
        )));
    }
    if let Some(path) = &args.from_run {
        let summary = input::run_summary(path)?;
        let stats = summary.metrics.get(&Metric::CharsPerToken).with_context(|| {
            format!("run '{}' has no characters-per-token measurement (it needs output token counts from the server or a tokenizer); give --chars-per-token instead", path.display())
        })?;
        return Ok(Some((
            stats.get(Statistic::Mean),
            format!(
                "measured in run '{}' (mean over {} requests)",
                path.display(),
                stats.n
            ),
        )));
    }
    Ok(None)
}

#[derive(Serialize)]
struct PresetView {
    name: &'static str,
    summary: &'static str,
    summary_zh: &'static str,
    scenario: ScenarioSpec,
}

fn preset_list() -> Vec<PresetView> {
    PRESETS
        .iter()
        .map(|p| PresetView {
            name: p.name,
            summary: p.summary_en,
            summary_zh: p.summary_zh,
            scenario: p.spec(),
        })
        .collect()
}

fn preset_table(lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("preset", "场景"), Align::Left),
        (lang.pick("what it models", "说明"), Align::Left),
    ]);
    for p in PRESETS {
        t.row(vec![
            p.name.to_string(),
            lang.pick(p.summary_en, p.summary_zh).to_string(),
        ]);
    }
    t
}

fn render(
    plan: &ScenarioPlan,
    preset: Option<&Preset>,
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let s = &plan.scenario;
    let mut out = String::new();
    let heading = |out: &mut String, text: &str| {
        out.push_str(&if markdown {
            format!("\n**{text}**\n\n")
        } else {
            format!("\n{text}\n")
        })
    };
    if let Some(p) = preset {
        out.push_str(&format!(
            "{} — {}\n",
            p.name,
            lang.pick(p.summary_en, p.summary_zh)
        ));
    }
    heading(&mut out, lang.pick("Scenario", "场景参数"));
    let bullet = if markdown { "- " } else { "  " };
    out.push_str(&format!(
        "{bullet}{} {:.0} tok · {} {:.0} tok · {} {:.0} ms\n",
        lang.pick("prompt", "提示"),
        s.prompt_tokens,
        lang.pick("answer", "回答"),
        s.output_tokens,
        lang.pick("network round trip", "网络往返"),
        s.rtt_s * 1000.0
    ));
    out.push_str(&format!(
        "{bullet}{}: TTFT < {}, {} ≥ {}\n",
        lang.pick("targets", "目标"),
        number::with_unit(Metric::TtftS, s.ttft_target_s),
        lang.pick("reading speed", "阅读速度"),
        number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
    ));
    let source = if s.chars_per_token_source == DEFAULT_RATIO_SOURCE {
        lang.pick(
            DEFAULT_RATIO_SOURCE,
            "默认的 0.7 字/token（32k 词表分词器处理中文）",
        )
    } else {
        &s.chars_per_token_source
    };
    out.push_str(&format!(
        "{bullet}{:.2} {} — {source}\n",
        s.chars_per_token,
        lang.pick("characters per token", "字/token"),
    ));

    heading(
        &mut out,
        lang.pick("Required to meet the targets", "达标所需速度"),
    );
    let r = &plan.required;
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        (lang.pick("required", "需要"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
        (lang.pick("because", "依据"), Align::Left),
    ]);
    let tier = |t: Option<tokenpace_core::grade::Tier>| t.map_or("-".into(), |t| t.to_string());
    t.row(vec![
        lang.metric(Metric::PrefillTokS).into(),
        format!(
            "> {}",
            number::with_unit(Metric::PrefillTokS, r.prefill_tok_s)
        ),
        tier(r.prefill_tier),
        match lang {
            Lang::En => format!(
                "{:.0} tok in < {} after the round trip",
                s.prompt_tokens,
                number::with_unit(Metric::TtftS, s.ttft_target_s - s.rtt_s)
            ),
            Lang::Zh => format!(
                "扣除往返后 {} 内处理 {:.0} tok",
                number::with_unit(Metric::TtftS, s.ttft_target_s - s.rtt_s),
                s.prompt_tokens
            ),
        },
    ]);
    t.row(vec![
        lang.metric(Metric::DecodeTokS).into(),
        format!(
            "≥ {}",
            number::with_unit(Metric::DecodeTokS, r.decode_tok_s)
        ),
        tier(r.decode_tier),
        format!(
            "{} ÷ {:.2} {}",
            number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
            s.chars_per_token,
            lang.pick("chars/token", "字/token")
        ),
    ]);
    out.push_str(&format.render(&t));

    let p = &plan.predicted;
    let from = |src: RateSource| match src {
        RateSource::Given => lang.pick("given", "给定"),
        RateSource::Required => lang.pick("the required rate", "按所需速度"),
    };
    heading(
        &mut out,
        &format!(
            "{} ({} {}: {}, {} {}: {})",
            lang.pick("Predicted", "预测体验"),
            lang.metric(Metric::PrefillTokS),
            number::with_unit(Metric::PrefillTokS, p.prefill_tok_s),
            from(p.prefill_from),
            lang.metric(Metric::DecodeTokS),
            number::with_unit(Metric::DecodeTokS, p.decode_tok_s),
            from(p.decode_from),
        ),
    );
    out.push_str(&super::grade::render_body(
        &p.grade,
        &[],
        lang,
        format,
        markdown,
    ));
    out.push_str(&match lang {
        Lang::En => format!(
            "{bullet}first token after {}, the answer streams for {}, complete after {}\n",
            number::with_unit(Metric::TtftS, p.ttft_s),
            number::with_unit(Metric::TtftS, p.stream_s),
            number::with_unit(Metric::TtftS, p.total_s)
        ),
        Lang::Zh => format!(
            "{bullet}{} 后出现首字，回答持续输出 {}，共 {} 完成\n",
            number::with_unit(Metric::TtftS, p.ttft_s),
            number::with_unit(Metric::TtftS, p.stream_s),
            number::with_unit(Metric::TtftS, p.total_s)
        ),
    });
    let mark = |ok: bool| if ok { "✓" } else { "✗" };
    let target = lang.pick("target", "目标");
    out.push_str(&format!(
        "{bullet}{} TTFT {} ({target} < {}); {} {} {} ({target} ≥ {})\n",
        mark(p.meets_ttft_target),
        number::with_unit(Metric::TtftS, p.ttft_s),
        number::with_unit(Metric::TtftS, s.ttft_target_s),
        mark(p.meets_chars_target),
        lang.pick("reading speed", "阅读速度"),
        number::with_unit(Metric::OutputCharsS, p.output_chars_s),
        number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
    ));
    if p.prefill_from == RateSource::Required && !p.meets_ttft_target {
        out.push_str(&format!(
            "{bullet}{}\n",
            lang.pick(
                "(at exactly the required prefill rate TTFT equals the target; TTFT must stay strictly below it, so any faster rate meets it)",
                "（恰好等于所需 prefill 速度时首字延迟等于目标值；目标要求严格小于，所以任何更快的速度都能达标）"
            )
        ));
    }
    out
}

//! `tokenpace plan remedies`: what int4/int8 weights, speculative decoding,
//! a prefix KV cache, split prefill or another card would make of the four
//! metrics, ranked by what reaches the target. Also the remedies section
//! `plan scenario` appends when a target is missed.

use crate::cli::{RemediesArgs, RemedyArgs};

use crate::cli::Format;
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::Scenario;
use tokenpace_plan::quant::Quant;
use tokenpace_plan::remedies::{
    remedies, Kind, Needed, Params, Remedy, RooflineContext, Situation,
};
use tokenpace_plan::roofline::{estimate, Deployment, Workload};
use tokenpace_present::number;
use tokenpace_present::Lang;

impl RemedyArgs {
    fn params(&self) -> Params {
        Params {
            cache_hit: self.cache_hit,
            split_devices: self.split_devices,
            split_efficiency: self.split_efficiency,
            spec_acceptance: self.spec_acceptance,
            spec_draft_tokens: self.spec_draft_tokens,
            spec_draft_cost: self.spec_draft_cost,
        }
    }
}

/// Runs `tokenpace plan remedies`.
pub fn run(args: RemediesArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let (_, spec) = super::plan_scenario::scenario_spec(&args.scenario)?;
    if args.deployment.has_model()
        && (args.scenario.prefill.is_some() || args.scenario.decode.is_some())
    {
        bail!("--prefill and --decode give the rates reached now; with --model they come from the roofline estimate: drop one or the other");
    }
    let scenario = spec.resolve(&profile)?;
    let quant: Quant = args.deployment.quant.into();
    let params = args.remedy.params();

    let list = if args.deployment.has_model() || args.deployment.hardware.is_some() {
        let r = args.deployment.resolve("plan remedies with a model")?;
        let d = Deployment {
            model: &r.model,
            hardware: r.hardware(),
            quant,
            devices: args.deployment.gpus,
        };
        let w = Workload {
            prompt_tokens: scenario.prompt_tokens,
            output_tokens: scenario.output_tokens,
            concurrency: args.concurrency,
            chars_per_token: scenario.chars_per_token,
            rtt_s: scenario.rtt_s,
        };
        let e = estimate(&d, &w, &r.efficiency, &profile)?;
        let s = situation(&scenario, e.prefill_tok_s, e.decode_tok_s, quant);
        let ctx = RooflineContext {
            catalog: &r.catalog,
            deployment: d,
            workload: w,
            efficiency: &r.efficiency,
        };
        let list = remedies(&s, &params, &profile, Some(&ctx))?;
        let head = format!("{}\n", super::plan_bounds::title(&e, &d, lang));
        (s, list, head)
    } else {
        let (Some(prefill), Some(decode)) = (scenario.prefill_tok_s, scenario.decode_tok_s) else {
            bail!("plan remedies needs the rates reached now: give --prefill and --decode, a --preset that has them (long-summary), or --model and --hardware to estimate them");
        };
        let s = situation(&scenario, prefill, decode, quant);
        let list = remedies(&s, &params, &profile, None)?;
        (s, list, String::new())
    };
    let (s, list, head) = list;
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "situation": s,
                "required": { "prefill_tok_s": s.required_prefill(), "decode_tok_s": s.required_decode() },
                "remedies": list,
            }))? + "\n"
        }
        Format::Table => {
            head.clone() + &render(&s, &list, !head.is_empty(), lang, &Terminal, false)
        }
        Format::Markdown => {
            head.clone() + &render(&s, &list, !head.is_empty(), lang, &Markdown, true)
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// The situation of a scenario at the given rates.
pub fn situation(sc: &Scenario, prefill: f64, decode: f64, quant: Quant) -> Situation {
    Situation {
        prompt_tokens: sc.prompt_tokens,
        rtt_s: sc.rtt_s,
        ttft_target_s: sc.ttft_target_s,
        chars_per_s_target: sc.chars_per_s_target,
        chars_per_token: sc.chars_per_token,
        prefill_tok_s: prefill,
        decode_tok_s: decode,
        quant,
    }
}

/// The remedies of a `plan scenario` whose given rates miss a target, with
/// default assumptions and fp16 weights; `None` when the targets are met or
/// a rate was not given.
pub fn for_scenario(
    plan: &tokenpace_core::scenario::ScenarioPlan,
    profile: &tokenpace_core::profile::Profile,
    weights: Option<Quant>,
) -> Option<(Situation, Vec<Remedy>)> {
    let (sc, p) = (&plan.scenario, &plan.predicted);
    if (p.meets_ttft_target && p.meets_chars_target)
        || sc.prefill_tok_s.is_none()
        || sc.decode_tok_s.is_none()
    {
        return None;
    }
    let s = situation(
        sc,
        p.prefill_tok_s,
        p.decode_tok_s,
        weights.unwrap_or(crate::cli::QuantArg::Fp16.into()),
    );
    remedies(&s, &Params::default(), profile, None)
        .ok()
        .map(|list| (s, list))
}

/// The remedies section `plan scenario` appends.
pub fn scenario_section(
    s: &Situation,
    list: &[Remedy],
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
    assumed: bool,
) -> String {
    let weights = match (lang, assumed) {
        (Lang::En, true) => format!("{} weights assumed", s.quant),
        (Lang::En, false) => format!("the model's {} weights", s.quant),
        (Lang::Zh, true) => format!("假设 {} 权重", s.quant),
        (Lang::Zh, false) => format!("模型为 {} 权重", s.quant),
    };
    let title = match lang {
        Lang::En => {
            format!("Remedies ({weights}; tokenpace plan remedies takes the assumptions as flags)")
        }
        Lang::Zh => format!("改进措施（{weights}；tokenpace plan remedies 可用参数调整假设）"),
    };
    let mut out = if markdown {
        format!("\n**{title}**\n\n")
    } else {
        format!("\n{title}\n")
    };
    out.push_str(&render(s, list, false, lang, format, markdown));
    out
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn label(k: &Kind, lang: Lang) -> String {
    match (k, lang) {
        (Kind::Quantize { from, to }, Lang::En) => format!("{to} weights (from {from})"),
        (Kind::Quantize { from, to }, Lang::Zh) => format!("{to} 权重（原 {from}）"),
        (
            Kind::Speculative {
                acceptance,
                draft_tokens,
                ..
            },
            Lang::En,
        ) => {
            format!("speculative decoding (α {acceptance:.2}, k {draft_tokens})")
        }
        (
            Kind::Speculative {
                acceptance,
                draft_tokens,
                ..
            },
            Lang::Zh,
        ) => {
            format!("投机解码（α {acceptance:.2}，k {draft_tokens}）")
        }
        (Kind::PrefixCache { hit_ratio }, Lang::En) => {
            format!("prefix KV cache ({} hit)", pct(*hit_ratio))
        }
        (Kind::PrefixCache { hit_ratio }, Lang::Zh) => {
            format!("前缀 KV 缓存（命中 {}）", pct(*hit_ratio))
        }
        (Kind::SplitPrefill { devices, .. }, Lang::En) => {
            format!("split prefill over {devices} devices")
        }
        (Kind::SplitPrefill { devices, .. }, Lang::Zh) => format!("预填充拆分到 {devices} 个设备"),
        (Kind::Hardware { id, devices, .. }, _) => format!("{devices} × {id}"),
    }
}

fn assumption(k: &Kind, s: &Situation, roofline: bool, lang: Lang) -> String {
    match (k, lang) {
        (Kind::Quantize { from, to }, Lang::En) if roofline => format!(
            "recomputed by the roofline with {} bits per weight instead of {}",
            to.bits_per_weight(), from.bits_per_weight()
        ),
        (Kind::Quantize { from, to }, Lang::Zh) if roofline => format!(
            "按屋顶线模型重算：每个权重 {} 位（原 {} 位）",
            to.bits_per_weight(), from.bits_per_weight()
        ),
        (Kind::Quantize { from, to }, Lang::En) => format!(
            "decode is memory-bound, so it speeds up by the bytes moved: {} → {} bits per weight (×{:.2}); prefill is compute-bound and stays",
            from.bits_per_weight(), to.bits_per_weight(), from.bits_per_weight() / to.bits_per_weight()
        ),
        (Kind::Quantize { from, to }, Lang::Zh) => format!(
            "解码受带宽限制，速度按搬运字节数提升：每个权重 {} → {} 位（×{:.2}）；预填充受算力限制，不变",
            from.bits_per_weight(), to.bits_per_weight(), from.bits_per_weight() / to.bits_per_weight()
        ),
        (Kind::Speculative { acceptance, draft_tokens, draft_cost, tokens_per_step }, Lang::En) => format!(
            "a draft model proposes {draft_tokens} tokens, each accepted with probability {acceptance:.2}: (1 − α^(k+1)) / (1 − α) = {tokens_per_step:.2} tokens per verify step; a draft token costs {} of a target step",
            pct(*draft_cost)
        ),
        (Kind::Speculative { acceptance, draft_tokens, draft_cost, tokens_per_step }, Lang::Zh) => format!(
            "草稿模型每步提出 {draft_tokens} 个 token，每个以 {acceptance:.2} 的概率被接受：(1 − α^(k+1)) / (1 − α) = 每次验证 {tokens_per_step:.2} 个 token；每个草稿 token 耗时为目标模型一步的 {}",
            pct(*draft_cost)
        ),
        (Kind::PrefixCache { hit_ratio }, Lang::En) => format!(
            "the KV of {} of the prompt (a shared system prompt or document) is cached: only {:.0} of {:.0} tokens are prefilled",
            pct(*hit_ratio), s.prompt_tokens * (1.0 - hit_ratio), s.prompt_tokens
        ),
        (Kind::PrefixCache { hit_ratio }, Lang::Zh) => format!(
            "提示中 {} 的 KV 已缓存（共享的系统提示或文档）：{:.0} 个 token 中只需预填充 {:.0} 个",
            pct(*hit_ratio), s.prompt_tokens, s.prompt_tokens * (1.0 - hit_ratio)
        ),
        (Kind::SplitPrefill { devices, efficiency }, Lang::En) => format!(
            "the prompt is split across {devices} devices prefilling in parallel, scaling at {}",
            pct(*efficiency)
        ),
        (Kind::SplitPrefill { devices, efficiency }, Lang::Zh) => format!(
            "提示拆分到 {devices} 个设备并行预填充，扩展效率 {}",
            pct(*efficiency)
        ),
        (Kind::Hardware { name, devices, .. }, Lang::En) => format!(
            "same model and weights on {devices} × {name}, roofline at the same efficiency"
        ),
        (Kind::Hardware { name, devices, .. }, Lang::Zh) => format!(
            "同一模型与权重运行在 {devices} × {name} 上，屋顶线模型、效率不变"
        ),
    }
}

fn needed(n: &Needed, lang: Lang) -> String {
    match (n, lang) {
        (Needed::AlreadyMet, _) => lang.pick("already met", "已达标").into(),
        (Needed::Unreachable, _) => lang.pick("cannot reach it", "无法达标").into(),
        (Needed::HitRatioAbove(h), Lang::En) => format!("hit ratio > {}", pct(*h)),
        (Needed::HitRatioAbove(h), Lang::Zh) => format!("命中率需 > {}", pct(*h)),
        (Needed::DevicesAtLeast(n), Lang::En) => format!("≥ {n} devices"),
        (Needed::DevicesAtLeast(n), Lang::Zh) => format!("至少 {n} 个设备"),
        (Needed::AcceptanceAtLeast(a), Lang::En) => format!("acceptance ≥ {a:.2}"),
        (Needed::AcceptanceAtLeast(a), Lang::Zh) => format!("接受率 ≥ {a:.2}"),
    }
}

/// The remedies as a ranked table with the assumption behind each.
pub fn render(
    s: &Situation,
    list: &[Remedy],
    roofline: bool,
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let bullet = if markdown { "- " } else { "  " };
    let mut out = match lang {
        Lang::En => format!(
            "{bullet}now: prefill {}, decode {}, {} weights → TTFT {}, reading speed {}\n{bullet}targets: TTFT < {} (prefill > {}), reading speed ≥ {} (decode ≥ {})\n\n",
            number::with_unit(Metric::PrefillTokS, s.prefill_tok_s),
            number::with_unit(Metric::DecodeTokS, s.decode_tok_s),
            s.quant,
            number::with_unit(Metric::TtftS, s.rtt_s + s.prompt_tokens / s.prefill_tok_s),
            number::with_unit(Metric::OutputCharsS, s.decode_tok_s * s.chars_per_token),
            number::with_unit(Metric::TtftS, s.ttft_target_s),
            number::with_unit(Metric::PrefillTokS, s.required_prefill()),
            number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
            number::with_unit(Metric::DecodeTokS, s.required_decode()),
        ),
        Lang::Zh => format!(
            "{bullet}现状：预填充 {}，解码 {}，{} 权重 → 首字延迟 {}，阅读速度 {}\n{bullet}目标：首字延迟 < {}（预填充 > {}），阅读速度 ≥ {}（解码 ≥ {}）\n\n",
            number::with_unit(Metric::PrefillTokS, s.prefill_tok_s),
            number::with_unit(Metric::DecodeTokS, s.decode_tok_s),
            s.quant,
            number::with_unit(Metric::TtftS, s.rtt_s + s.prompt_tokens / s.prefill_tok_s),
            number::with_unit(Metric::OutputCharsS, s.decode_tok_s * s.chars_per_token),
            number::with_unit(Metric::TtftS, s.ttft_target_s),
            number::with_unit(Metric::PrefillTokS, s.required_prefill()),
            number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
            number::with_unit(Metric::DecodeTokS, s.required_decode()),
        ),
    };
    let mut t = Table::new(&[
        ("#", Align::Right),
        (lang.pick("remedy", "措施"), Align::Left),
        (lang.metric(Metric::PrefillTokS), Align::Right),
        (lang.metric(Metric::DecodeTokS), Align::Right),
        ("TTFT", Align::Right),
        (lang.metric(Metric::OutputCharsS), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
        (lang.pick("targets", "目标"), Align::Left),
        (lang.pick("to reach the target", "达标条件"), Align::Left),
    ]);
    let mark = |ok: bool| if ok { "✓" } else { "✗" };
    for (i, r) in list.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            label(&r.kind, lang),
            number::with_unit(Metric::PrefillTokS, r.prefill_tok_s),
            number::with_unit(Metric::DecodeTokS, r.decode_tok_s),
            number::with_unit(Metric::TtftS, r.ttft_s),
            number::with_unit(Metric::OutputCharsS, r.output_chars_s),
            r.grade.overall.map_or("-".into(), |t| t.to_string()),
            format!(
                "{} TTFT {} {}",
                mark(r.meets_ttft),
                mark(r.meets_chars),
                lang.pick("speed", "速度")
            ),
            r.needed.as_ref().map_or(String::new(), |n| needed(n, lang)),
        ]);
    }
    out.push_str(&format.render(&t));
    let title = lang.pick("Assumptions", "假设");
    out.push_str(&if markdown {
        format!("\n**{title}**\n\n")
    } else {
        format!("\n{title}\n")
    });
    for (i, r) in list.iter().enumerate() {
        out.push_str(&format!(
            "{}{}. {}\n",
            if markdown { "" } else { "  " },
            i + 1,
            assumption(&r.kind, s, roofline, lang)
        ));
    }
    out
}

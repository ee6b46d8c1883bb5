//! `tokenpace plan remedies`'s result, and the remedies section `plan
//! scenario` and `bench` append when a target is missed.

use super::{
    arrivals_line, aside, comma, labelled, load, mark, pct, ratio_line, say, title, words, Names,
};
use serde::Serialize;
use tokenpace_core::metric::Metric;
use tokenpace_plan::remedies::{Needed, Remedy, RemedyKind, Situation};
use tokenpace_plan::roofline::Estimate;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};

/// The rates a situation needs.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Required")]
pub struct RequiredRates {
    /// Prefill rate at which TTFT equals the target (any faster meets it).
    pub prefill_tok_s: f64,
    /// Decode rate at which the reader sees the target speed.
    pub decode_tok_s: f64,
}

/// The remedies of a situation, ranked.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RemediesOutput {
    /// The rates reached now and the targets.
    pub situation: Situation,
    /// The rates the targets need.
    pub required: RequiredRates,
    /// The remedies, best first.
    pub remedies: Vec<Remedy>,
    /// Where the situation's characters per token come from.
    pub chars_per_token_source: String,
    /// The roofline estimate the rates come from (with --model and
    /// --hardware), and its names, for the title.
    #[serde(skip)]
    pub roofline: Option<(Estimate, Names)>,
}

impl RemediesOutput {
    /// The remedies `list` of `situation`, whose characters per token come
    /// from `ratio_source`.
    pub fn new(
        situation: Situation,
        remedies: Vec<Remedy>,
        ratio_source: String,
        roofline: Option<(Estimate, Names)>,
    ) -> RemediesOutput {
        RemediesOutput {
            required: RequiredRates {
                prefill_tok_s: situation.required_prefill(),
                decode_tok_s: situation.required_decode(),
            },
            situation,
            remedies,
            chars_per_token_source: ratio_source,
            roofline,
        }
    }
}

impl Output for RemediesOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        if let Some((e, names)) = &self.roofline {
            d.title(title(e, names, lang));
            if e.concurrency > 1.0 {
                d.item(load(lang, &e.workload));
                d.item(arrivals_line(lang, &e.workload, true));
            }
        }
        d.item(ratio_line(
            lang,
            self.situation.chars_per_token,
            &self.chars_per_token_source,
        ));
        d.append(body(
            &self.situation,
            &self.remedies,
            self.roofline.is_some(),
            lang,
        ));
        d
    }
}

/// The remedies section `plan scenario` (and `bench`'s default mix)
/// appends: a heading saying which weights were assumed (`assumed`) or
/// known, then the remedies.
pub fn scenario_section(s: &Situation, list: &[Remedy], assumed: bool, lang: Lang) -> Document {
    let weights = match (lang, assumed) {
        (Lang::En, true) => format!("{} weights assumed", s.quant),
        (Lang::En, false) => format!("the model's {} weights", s.quant),
        (Lang::Zh, true) => format!("假设 {} 权重", s.quant),
        (Lang::Zh, false) => format!("模型为 {} 权重", s.quant),
    };
    let how = lang.pick(
        "tokenpace plan remedies takes the assumptions as flags",
        "tokenpace plan remedies 可用参数调整假设",
    );
    let mut d = Document::new();
    d.blank().heading(format!(
        "{}{}",
        lang.pick("Remedies", "改进措施"),
        aside(lang, &format!("{weights}{}{how}", lang.pick("; ", "；")))
    ));
    d.append(body(s, list, false, lang));
    d
}

/// Now and the targets, the remedies as a ranked table, and the assumption
/// behind each (recomputed by the roofline when `roofline`).
fn body(s: &Situation, list: &[Remedy], roofline: bool, lang: Lang) -> Document {
    let w = |p| say(lang, p);
    // The metrics' own labels (TTFT by its short name, as the table heads it).
    let (prefill, decode) = (
        lang.metric(Metric::PrefillTokS),
        lang.metric(Metric::DecodeTokS),
    );
    let (ttft, speed) = (
        labels::short(lang, Metric::TtftS),
        lang.metric(Metric::OutputCharsS),
    );
    let c = comma(lang);
    let mut d = Document::new();
    d.item(labelled(
        lang,
        ("now", "现状"),
        &format!(
            "{prefill} {}{c}{decode} {}{c}{} {} → {ttft} {}{c}{speed} {}",
            number::with_unit(Metric::PrefillTokS, s.prefill_tok_s),
            number::with_unit(Metric::DecodeTokS, s.decode_tok_s),
            s.quant,
            w(words::WEIGHTS),
            number::with_unit(Metric::TtftS, s.ttft_s()),
            number::with_unit(Metric::OutputCharsS, s.output_chars_s()),
        ),
    ));
    if !list
        .iter()
        .any(|r| matches!(r.kind, RemedyKind::Quantize { .. }))
    {
        d.item(no_narrower(s, lang));
    }
    let need = |m: Metric, cmp: &str, v: f64| {
        aside(
            lang,
            &format!("{} {cmp} {}", lang.metric(m), number::with_unit(m, v)),
        )
    };
    d.item(labelled(
        lang,
        words::TARGETS,
        &format!(
            "{ttft} < {}{}{c}{speed} ≥ {}{}",
            number::with_unit(Metric::TtftS, s.ttft_target_s),
            need(Metric::PrefillTokS, ">", s.required_prefill()),
            number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
            need(Metric::DecodeTokS, "≥", s.required_decode()),
        ),
    ));
    d.blank().table(table(list, lang));
    d.blank().heading(lang.pick("Assumptions", "假设"));
    for (i, r) in list.iter().enumerate() {
        d.item(format!(
            "{}. {}",
            i + 1,
            assumption(&r.kind, s, roofline, lang)
        ));
    }
    d
}

fn table(list: &[Remedy], lang: Lang) -> Table {
    let mut t = Table::new(&[
        ("#", Align::Right),
        (lang.pick("remedy", "措施"), Align::Left),
        (lang.metric(Metric::PrefillTokS), Align::Right),
        (lang.metric(Metric::DecodeTokS), Align::Right),
        (labels::short(lang, Metric::TtftS), Align::Right),
        (lang.metric(Metric::OutputCharsS), Align::Right),
        (say(lang, words::TIER), Align::Left),
        (say(lang, words::TARGETS), Align::Left),
        (lang.pick("to reach the target", "达标条件"), Align::Left),
    ]);
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
    t
}

/// Why no narrower weights are listed: the current ones are as narrow as
/// any offered format.
fn no_narrower(s: &Situation, lang: Lang) -> String {
    let (q, bits) = (s.quant, s.quant.bits_per_weight());
    match lang {
        Lang::En => format!(
            "narrower weights: none, {q} weights are already {bits} bits per weight (no gain to claim)"
        ),
        Lang::Zh => format!("更窄的权重：无，{q} 权重已是每个 {bits} 位（无可再省）"),
    }
}

fn label(k: &RemedyKind, lang: Lang) -> String {
    let weights = say(lang, words::WEIGHTS);
    match k {
        RemedyKind::Quantize { from, to } => {
            let from = format!("{} {from}", lang.pick("from", "原"));
            format!("{to} {weights}{}", aside(lang, &from))
        }
        RemedyKind::Speculative {
            acceptance,
            draft_tokens,
            ..
        } => format!(
            "{}{}",
            lang.pick("speculative decoding", "投机解码"),
            aside(
                lang,
                &format!("α {acceptance:.2}{}k {draft_tokens}", comma(lang))
            )
        ),
        RemedyKind::PrefixCache { hit_ratio } => {
            let hit = match lang {
                Lang::En => format!("{} hit", pct(*hit_ratio)),
                Lang::Zh => format!("命中 {}", pct(*hit_ratio)),
            };
            format!(
                "{}{}",
                lang.pick("prefix KV cache", "前缀 KV 缓存"),
                aside(lang, &hit)
            )
        }
        RemedyKind::SplitPrefill { devices, .. } => match lang {
            Lang::En => format!("split prefill over {devices} devices"),
            Lang::Zh => format!("预填充拆分到 {devices} 个设备"),
        },
        RemedyKind::Hardware { id, devices, .. } => format!("{devices} × {id}"),
    }
}

fn assumption(k: &RemedyKind, s: &Situation, roofline: bool, lang: Lang) -> String {
    match (k, lang) {
        (RemedyKind::Quantize { from, to }, Lang::En) if roofline => format!(
            "recomputed by the roofline with {} bits per weight instead of {}",
            to.bits_per_weight(), from.bits_per_weight()
        ),
        (RemedyKind::Quantize { from, to }, Lang::Zh) if roofline => format!(
            "按屋顶线模型重算：每个权重 {} 位（原 {} 位）",
            to.bits_per_weight(), from.bits_per_weight()
        ),
        (RemedyKind::Quantize { from, to }, Lang::En) => format!(
            "decode is memory-bound, so it speeds up by the bytes moved: {} → {} bits per weight (×{:.2}); prefill is compute-bound and stays",
            from.bits_per_weight(), to.bits_per_weight(), from.bits_per_weight() / to.bits_per_weight()
        ),
        (RemedyKind::Quantize { from, to }, Lang::Zh) => format!(
            "解码受带宽限制，速度按搬运字节数提升：每个权重 {} → {} 位（×{:.2}）；预填充受算力限制，不变",
            from.bits_per_weight(), to.bits_per_weight(), from.bits_per_weight() / to.bits_per_weight()
        ),
        (RemedyKind::Speculative { acceptance, draft_tokens, draft_cost, tokens_per_step }, Lang::En) => format!(
            "a draft model proposes {draft_tokens} tokens, each accepted with probability {acceptance:.2}: (1 − α^(k+1)) / (1 − α) = {tokens_per_step:.2} tokens per verify step; a draft token costs {} of a target step",
            pct(*draft_cost)
        ),
        (RemedyKind::Speculative { acceptance, draft_tokens, draft_cost, tokens_per_step }, Lang::Zh) => format!(
            "草稿模型每步提出 {draft_tokens} 个 token，每个以 {acceptance:.2} 的概率被接受：(1 − α^(k+1)) / (1 − α) = 每次验证 {tokens_per_step:.2} 个 token；每个草稿 token 耗时为目标模型一步的 {}",
            pct(*draft_cost)
        ),
        (RemedyKind::PrefixCache { hit_ratio }, Lang::En) => format!(
            "the KV of {} of the prompt (a shared system prompt or document) is cached: only {:.0} of {:.0} tokens are prefilled",
            pct(*hit_ratio), s.prompt_tokens * (1.0 - hit_ratio), s.prompt_tokens
        ),
        (RemedyKind::PrefixCache { hit_ratio }, Lang::Zh) => format!(
            "提示中 {} 的 KV 已缓存（共享的系统提示或文档）：{:.0} 个 token 中只需预填充 {:.0} 个",
            pct(*hit_ratio), s.prompt_tokens, s.prompt_tokens * (1.0 - hit_ratio)
        ),
        (RemedyKind::SplitPrefill { devices, efficiency }, Lang::En) => format!(
            "the prompt is split across {devices} devices prefilling in parallel, scaling at {}",
            pct(*efficiency)
        ),
        (RemedyKind::SplitPrefill { devices, efficiency }, Lang::Zh) => format!(
            "提示拆分到 {devices} 个设备并行预填充，扩展效率 {}",
            pct(*efficiency)
        ),
        (RemedyKind::Hardware { name, devices, .. }, Lang::En) => format!(
            "same model and weights on {devices} × {name}, roofline at the same efficiency"
        ),
        (RemedyKind::Hardware { name, devices, .. }, Lang::Zh) => format!(
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

//! `tokenpace plan scenario`'s results: a scenario's required rates and
//! predicted experience (with the remedies when a given rate misses a
//! target), and the built-in scenarios (`--list`).

use super::remedies::scenario_section;
use super::{mark, ratio_line, say, table, words};
use crate::output::grade::grade_section;
use serde::Serialize;
use tokenpace_core::grade::Tier;
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::{
    Preset, RateSource, ScenarioPlan, ScenarioSpec, DEFAULT_RATIO_SOURCE, PRESETS,
};
use tokenpace_plan::remedies::{Remedy, Situation};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{number, Document, Lang, Output};

/// A scenario planned: its inputs, the rates it requires, the predicted
/// experience, and the remedies when a given rate misses a target.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ScenarioOutput {
    /// Inputs, required rates and prediction.
    #[serde(flatten)]
    pub plan: ScenarioPlan,
    /// The remedies (default assumptions), when a given rate misses a
    /// target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedies: Option<Vec<Remedy>>,
    /// The situation the remedies start from.
    #[serde(skip)]
    pub situation: Option<Situation>,
    /// The preset the scenario started from (for the title).
    #[serde(skip)]
    pub preset: Option<&'static Preset>,
}

impl ScenarioOutput {
    /// The plan, with the remedies [`tokenpace_plan::remedies::for_scenario`]
    /// gives when it misses a target.
    pub fn new(
        plan: ScenarioPlan,
        remedies: Option<(Situation, Vec<Remedy>)>,
        preset: Option<&'static Preset>,
    ) -> ScenarioOutput {
        let (situation, remedies) = remedies.unzip();
        ScenarioOutput {
            plan,
            remedies,
            situation,
            preset,
        }
    }
}

impl Output for ScenarioOutput {
    fn document(&self, lang: Lang) -> Document {
        let (plan, s) = (&self.plan, &self.plan.scenario);
        let w = |p| say(lang, p);
        let mut d = Document::new();
        if let Some(p) = self.preset {
            d.title(format!(
                "{} — {}",
                p.name,
                lang.pick(p.summary_en, p.summary_zh)
            ));
        }
        d.blank().heading(lang.pick("Scenario", "场景参数"));
        d.item(format!(
            "{} {:.0} tok · {} {:.0} tok · {} {:.0} ms",
            w(words::PROMPT),
            s.prompt_tokens,
            w(words::ANSWER),
            s.output_tokens,
            lang.pick("network round trip", "网络往返"),
            s.rtt_s * 1000.0
        ));
        d.item(format!(
            "{}: TTFT < {}, {} ≥ {}",
            w(words::TARGETS),
            number::with_unit(Metric::TtftS, s.ttft_target_s),
            lang.metric(Metric::OutputCharsS),
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
        d.item(ratio_line(lang, s.chars_per_token, source));
        d.blank()
            .heading(lang.pick("Required to meet the targets", "达标所需速度"));
        d.table(required_table(plan, lang));
        predicted(&mut d, plan, lang);
        if let (Some(situation), Some(list)) = (&self.situation, &self.remedies) {
            d.append(scenario_section(situation, list, true, lang));
        }
        d
    }
}

fn required_table(plan: &ScenarioPlan, lang: Lang) -> Table {
    let (s, r) = (&plan.scenario, &plan.required);
    let mut t = table(
        lang,
        &[
            (words::METRIC, Align::Left),
            (("required", "需要"), Align::Right),
            (words::TIER, Align::Left),
            (("because", "依据"), Align::Left),
        ],
    );
    let mut row = |m: Metric, cmp: &str, v: f64, tier: Option<Tier>, because: String| {
        t.row(vec![
            lang.metric(m).into(),
            format!("{cmp} {}", number::with_unit(m, v)),
            tier.map_or("-".into(), |t| t.to_string()),
            because,
        ])
    };
    let budget = number::with_unit(Metric::TtftS, s.ttft_target_s - s.rtt_s);
    let prompt = s.prompt_tokens;
    row(
        Metric::PrefillTokS,
        ">",
        r.prefill_tok_s,
        r.prefill_tier,
        match lang {
            Lang::En => format!("{prompt:.0} tok in < {budget} after the round trip"),
            Lang::Zh => format!("扣除往返后 {budget} 内处理 {prompt:.0} tok"),
        },
    );
    row(
        Metric::DecodeTokS,
        "≥",
        r.decode_tok_s,
        r.decode_tier,
        format!(
            "{} ÷ {:.2} {}",
            number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
            s.chars_per_token,
            say(lang, words::CHARS_PER_TOKEN)
        ),
    );
    t
}

/// The predicted experience: the grade, the timeline and the targets.
fn predicted(d: &mut Document, plan: &ScenarioPlan, lang: Lang) {
    let (s, p) = (&plan.scenario, &plan.predicted);
    let from = |src: RateSource| match src {
        RateSource::Given => lang.pick("given", "给定"),
        RateSource::Required => lang.pick("the required rate", "按所需速度"),
    };
    d.blank().heading(format!(
        "{} ({} {}: {}, {} {}: {})",
        lang.pick("Predicted", "预测体验"),
        lang.metric(Metric::PrefillTokS),
        number::with_unit(Metric::PrefillTokS, p.prefill_tok_s),
        from(p.prefill_from),
        lang.metric(Metric::DecodeTokS),
        number::with_unit(Metric::DecodeTokS, p.decode_tok_s),
        from(p.decode_from),
    ));
    d.append(grade_section(&p.grade, &[], lang));
    let secs = |v| number::with_unit(Metric::TtftS, v);
    d.item(match lang {
        Lang::En => format!(
            "first token after {}, the answer streams for {}, complete after {}",
            secs(p.ttft_s),
            secs(p.stream_s),
            secs(p.total_s)
        ),
        Lang::Zh => format!(
            "{} 后出现首字，回答持续输出 {}，共 {} 完成",
            secs(p.ttft_s),
            secs(p.stream_s),
            secs(p.total_s)
        ),
    });
    let target = say(lang, words::TARGET);
    d.item(format!(
        "{} TTFT {} ({target} < {}); {} {} {} ({target} ≥ {})",
        mark(p.meets_ttft_target),
        secs(p.ttft_s),
        secs(s.ttft_target_s),
        mark(p.meets_chars_target),
        lang.metric(Metric::OutputCharsS),
        number::with_unit(Metric::OutputCharsS, p.output_chars_s),
        number::with_unit(Metric::OutputCharsS, s.chars_per_s_target),
    ));
    if p.prefill_from == RateSource::Required && !p.meets_ttft_target {
        d.item(lang.pick(
            "(at exactly the required prefill rate TTFT equals the target; TTFT must stay strictly below it, so any faster rate meets it)",
            "（恰好等于所需 prefill 速度时首字延迟等于目标值；目标要求严格小于，所以任何更快的速度都能达标）",
        ));
    }
}

/// One built-in scenario.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PresetView {
    /// The name used with `--preset`.
    pub name: &'static str,
    /// What it models, in English.
    pub summary: &'static str,
    /// The same in Chinese.
    pub summary_zh: &'static str,
    /// Its values (flags override them).
    pub scenario: ScenarioSpec,
}

/// The built-in scenarios (`plan scenario --list`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct PresetList(pub Vec<PresetView>);

impl PresetList {
    /// Every built-in scenario.
    pub fn builtin() -> PresetList {
        PresetList(
            PRESETS
                .iter()
                .map(|p| PresetView {
                    name: p.name,
                    summary: p.summary_en,
                    summary_zh: p.summary_zh,
                    scenario: p.spec(),
                })
                .collect(),
        )
    }
}

impl Output for PresetList {
    fn document(&self, lang: Lang) -> Document {
        let mut t = table(
            lang,
            &[
                (("preset", "场景"), Align::Left),
                (("what it models", "说明"), Align::Left),
            ],
        );
        for p in &self.0 {
            t.row(vec![
                p.name.to_string(),
                lang.pick(p.summary, p.summary_zh).to_string(),
            ]);
        }
        let mut d = Document::new();
        d.table(t);
        d
    }
}

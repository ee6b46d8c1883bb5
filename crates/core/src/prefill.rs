//! Which prefill rate a grade may use, and when there is none to grade.
//!
//! Client-side prefill (prompt tokens ÷ TTFT) is a lower bound: TTFT also
//! holds fixed costs (network, queueing, the first decode step). With a
//! 100-token prompt and a 0.17 s TTFT it reads 590 tok/s, tier B, whatever
//! the server's real rate. So prefill is graded only from a figure that
//! measures it: the prefill line of a prompt-length sweep, the server's own
//! timings, prompts long enough that fixed costs are a small share of TTFT,
//! or a lower bound that already reaches tier A (which proves A). Otherwise
//! the grade says prefill was not measurable rather than grading it C.

use crate::metric::Metric;
use crate::regression::PrefillFit;
use crate::stats::Statistic;
use serde::{Deserialize, Serialize};

/// Prompts at least this long (mean prompt tokens) make prompt ÷ TTFT a
/// fair measure: at the tier-A rate of 1000 tok/s they take ≥ 1 s to
/// prefill, so a typical 0.1 s of fixed costs is ≤ 10 % of TTFT.
pub const LONG_PROMPT_TOKENS: f64 = 1000.0;

/// Where a graded prefill rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrefillSource {
    /// The slope of TTFT over prompt length in a `--prompt-tokens` sweep.
    PrefillLine,
    /// The server's own timings (llama.cpp `timings`, Ollama durations).
    ServerTimings,
    /// Prompt tokens ÷ TTFT over prompts of at least
    /// [`LONG_PROMPT_TOKENS`].
    LongPrompts,
    /// Prompt tokens ÷ TTFT, a lower bound that already reaches tier A.
    LowerBoundInTierA,
}

impl PrefillSource {
    /// The snake_case id used in files.
    pub fn id(self) -> &'static str {
        match self {
            PrefillSource::PrefillLine => "prefill_line",
            PrefillSource::ServerTimings => "server_timings",
            PrefillSource::LongPrompts => "long_prompts",
            PrefillSource::LowerBoundInTierA => "lower_bound_in_tier_a",
        }
    }
}

/// Why a run's prefill was not graded: its prompts were too short for
/// prompt ÷ TTFT to tell prefill from fixed costs, and nothing else measured
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrefillNotMeasurable {
    /// Mean prompt tokens of the run.
    pub prompt_tokens: f64,
    /// The client-side lower bound (prompt ÷ TTFT, the graded statistic),
    /// tok/s.
    pub lower_bound_tok_s: f64,
}

/// The prefill rate to grade, or why there is none.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PrefillBasis {
    /// Grade this value.
    Graded {
        /// Tokens per second.
        value: f64,
        /// Where it came from.
        source: PrefillSource,
    },
    /// Do not grade prefill; say why.
    NotMeasurable(PrefillNotMeasurable),
}

/// The prefill figure a run can be graded on, as the `statistic` of its
/// requests (`get(metric, statistic)` reads the run's statistics), given
/// the run's prefill `line` (a prompt-length sweep's) and the tier-A
/// boundary `tier_a`. `None` when the run has no prefill figure at all (no
/// prompt token counts).
pub fn basis(
    get: impl Fn(Metric, Statistic) -> Option<f64>,
    statistic: Statistic,
    line: Option<&PrefillFit>,
    tier_a: f64,
) -> Option<PrefillBasis> {
    let graded = |value, source| Some(PrefillBasis::Graded { value, source });
    if let Some(fit) = line.filter(|f| f.prefill_tok_s.is_finite() && f.prefill_tok_s > 0.0) {
        return graded(fit.prefill_tok_s, PrefillSource::PrefillLine);
    }
    if let Some(v) = get(Metric::ServerPrefillTokS, statistic) {
        return graded(v, PrefillSource::ServerTimings);
    }
    let lower = get(Metric::PrefillTokS, statistic)?;
    let prompt = get(Metric::PromptTokens, Statistic::Mean).unwrap_or(0.0);
    if prompt >= LONG_PROMPT_TOKENS {
        graded(lower, PrefillSource::LongPrompts)
    } else if lower >= tier_a {
        graded(lower, PrefillSource::LowerBoundInTierA)
    } else {
        Some(PrefillBasis::NotMeasurable(PrefillNotMeasurable {
            prompt_tokens: prompt,
            lower_bound_tok_s: lower,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Tier;
    use crate::profile::Profile;
    use crate::record::{Chunk, CountSource, RequestRecord, ServerTimings, TokenCount};
    use crate::summary::{Environment, RunSettings, RunSummary};

    const MS: u64 = 1_000_000;

    /// A run of requests with `prompt` tokens, the first token `ttft_ms`
    /// after sending, then 40 tok/s.
    fn run(prompt: u32, ttft_ms: u64, server_prefill: Option<f64>) -> RunSummary {
        let records: Vec<RequestRecord> = (0..5)
            .map(|id| {
                let mut r = RequestRecord::new(id, 0, 0);
                for i in 0..10 {
                    r.chunks.push(Chunk {
                        at_ns: (ttft_ms + 25 * i) * MS,
                        tokens: 1,
                        chars: 3,
                    });
                }
                r.output_chars = 30;
                r.prompt_tokens = Some(TokenCount {
                    count: prompt,
                    source: CountSource::ServerUsage,
                });
                r.output_tokens = Some(TokenCount {
                    count: 10,
                    source: CountSource::ServerUsage,
                });
                r.server_timings = server_prefill.map(|p| ServerTimings {
                    prefill_tok_s: Some(p),
                    decode_tok_s: None,
                });
                r.end_ns = Some((ttft_ms + 250) * MS);
                r
            })
            .collect();
        RunSummary::from_records(&records, RunSettings::default(), Environment::default())
    }

    fn prefill_grade(s: &RunSummary, line: Option<&PrefillFit>) -> crate::grade::Grade {
        Profile::builtin()
            .grade_run(|m, st| s.get(m, st), line)
            .unwrap()
    }

    #[test]
    fn a_short_prompt_is_not_graded_on_its_lower_bound() {
        // 100 tokens in 0.17 s reads 588 tok/s: tier B on a lower bound.
        let s = run(100, 170, None);
        let g = prefill_grade(&s, None);
        assert!(g.metrics.iter().all(|m| m.metric != Metric::PrefillTokS));
        let why = g.prefill_not_measurable.expect("says why");
        assert_eq!(why.prompt_tokens, 100.0);
        assert!((why.lower_bound_tok_s - 100.0 / 0.17).abs() < 1e-6);
        // The rest of the grade stands: TTFT 0.17 s and 40 tok/s are A.
        assert_eq!(g.overall, Some(Tier::A));
    }

    #[test]
    fn each_measured_source_is_graded_and_named() {
        let p = |g: &crate::grade::Grade| {
            let m = g
                .metrics
                .iter()
                .find(|m| m.metric == Metric::PrefillTokS)
                .expect("prefill graded");
            (m.value.round(), m.source, m.tier)
        };
        // Long prompts: 2000 tokens in 2.5 s is a fair 800 tok/s, B.
        let g = prefill_grade(&run(2000, 2500, None), None);
        assert_eq!(p(&g), (800.0, Some(PrefillSource::LongPrompts), Tier::B));
        // A lower bound already in A proves A.
        let g = prefill_grade(&run(300, 150, None), None);
        assert_eq!(
            p(&g),
            (2000.0, Some(PrefillSource::LowerBoundInTierA), Tier::A)
        );
        // The server's own figure beats the client's bound.
        let g = prefill_grade(&run(100, 170, Some(4200.0)), None);
        assert_eq!(p(&g), (4200.0, Some(PrefillSource::ServerTimings), Tier::A));
        // A sweep's line beats them all.
        let line = PrefillFit {
            overhead_s: 0.15,
            prefill_tok_s: 650.0,
            r2: 0.99,
            n: 30,
            through_origin: false,
        };
        let g = prefill_grade(&run(100, 170, Some(4200.0)), Some(&line));
        assert_eq!(p(&g), (650.0, Some(PrefillSource::PrefillLine), Tier::B));
        assert_eq!(g.prefill_not_measurable, None);
    }

    #[test]
    fn a_profile_without_prefill_never_mentions_it() {
        let mut profile = Profile::builtin();
        profile.metrics.remove(&Metric::PrefillTokS);
        let s = run(100, 170, None);
        let g = profile.grade_run(|m, st| s.get(m, st), None).unwrap();
        assert_eq!(g.prefill_not_measurable, None);
    }
}

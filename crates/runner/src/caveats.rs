//! What a reader must know to trust a run's numbers, found in its records:
//! typed here, put into words by the output layer.

use crate::plan::BenchPlan;
use serde::Serialize;
use tokenpace_core::prefill::LONG_PROMPT_TOKENS;
use tokenpace_core::record::{CountSource, RequestRecord, TokenCount};

/// Something about a run that qualifies its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Caveat {
    /// Ctrl-C: the results cover the requests that finished before it.
    Interrupted,
    /// Responses without usage: output tokens counted as streamed events.
    TokensCountedAsEvents {
        /// How many responses.
        responses: usize,
    },
    /// Responses whose server counted more tokens than their chunks
    /// carried (tool calls, text held back, speculative decoding): decode
    /// runs on the server's count, inter-token latency is per chunk.
    SeveralTokensPerChunk {
        /// How many responses.
        responses: usize,
        /// The tokens the server counted in them.
        tokens: u64,
        /// The chunks that carried them.
        chunks: u64,
    },
    /// Agent tasks that ended before their last step because the model
    /// answered in text instead of calling a tool.
    AgentAnsweredInText {
        /// How many tasks.
        tasks: usize,
        /// Of how many.
        of: usize,
        /// The steps a task may take (`--agent-steps`).
        steps: u32,
        /// Whether `--tool-choice required` asked for a call every step.
        required: bool,
    },
    /// Responses that stopped before `max_tokens` although `ignore_eos`
    /// was asked for.
    StoppedEarly {
        /// How many responses.
        responses: usize,
    },
    /// Client-side prefill (prompt tokens ÷ TTFT) is a lower bound.
    PrefillIsALowerBound,
    /// The server reported its own prefill rate, which is higher than the
    /// client's by the network, queue and fixed costs.
    ServerPrefillBeside,
    /// Responses without prompt token counts: lengths are estimates.
    PromptTokensEstimated {
        /// How many responses.
        responses: usize,
    },
    /// The server's prefix cache served a large share of prompts that
    /// this run made unique: they were sent before (`--reuse-prompts` with
    /// the same seed), so TTFT and prefill look better than a cold cache.
    PrimedCache {
        /// Percent of prompt tokens reported as cached.
        percent: u32,
    },
}

/// Responses whose server counted more tokens than their chunks carried
/// (one more is a stop token, which never streams), when over the run the
/// chunks fall short of the tokens by a tenth or more.
fn several_per_chunk(ok: &[&RequestRecord]) -> Option<Caveat> {
    let (mut responses, mut tokens, mut chunks) = (0usize, 0u64, 0u64);
    for r in ok {
        let Some(n) = r
            .output_tokens
            .filter(|t| t.source == CountSource::ServerUsage)
        else {
            continue;
        };
        let streamed = r.streamed_tokens();
        if r.left_ns.is_none() && n.count > streamed.saturating_add(1) {
            responses += 1;
            tokens += u64::from(n.count);
            chunks += (r.chunks.len() + r.reasoning_chunks.len() + r.tool_chunks.len()) as u64;
        }
    }
    (responses > 0 && tokens * 10 > chunks * 11).then_some(Caveat::SeveralTokensPerChunk {
        responses,
        tokens,
        chunks,
    })
}

/// Agent tasks whose last step succeeded without a tool call before the
/// last step allowed: the model answered in text, so the task ended early.
fn answered_in_text(records: &[&RequestRecord], agent: &crate::plan::AgentSpec) -> Option<Caveat> {
    // The last step of each task: its record and whether it was the last.
    let mut last: std::collections::BTreeMap<u64, &RequestRecord> = Default::default();
    for r in records {
        let Some(t) = r.turn else { continue };
        let keep = last
            .get(&t.session)
            .is_none_or(|k| k.turn.is_some_and(|k| k.turn < t.turn));
        if keep {
            last.insert(t.session, r);
        }
    }
    let early = last
        .values()
        .filter(|r| {
            r.is_ok() && r.tool_calls == 0 && r.turn.is_some_and(|t| t.turn + 1 < agent.steps)
        })
        .count();
    (early > 0).then_some(Caveat::AgentAnsweredInText {
        tasks: early,
        of: last.len(),
        steps: agent.steps,
        required: agent.tool_choice == "required",
    })
}

/// Above this share of cached prompt tokens, unique prompts were primed by
/// something before the run (a chat template's fixed head stays below it).
const PRIMED_SHARE: f64 = 0.2;

/// The caveats of `records` (every level of a run), measured under `plan`.
pub fn caveats(records: &[&RequestRecord], partial: bool, plan: &BenchPlan) -> Vec<Caveat> {
    let mut out = Vec::new();
    if partial {
        out.push(Caveat::Interrupted);
    }
    let ok: Vec<&RequestRecord> = records.iter().copied().filter(|r| r.is_ok()).collect();
    // A stream the client closed by design (--cancel-after) never got its
    // usage block or its last tokens: neither is a caveat about the server.
    let by_events = counted_from(&ok, |r| r.output_tokens.as_ref(), CountSource::ChunkCount);
    if by_events > 0 {
        out.push(Caveat::TokensCountedAsEvents {
            responses: by_events,
        });
    }
    out.extend(several_per_chunk(&ok));
    if let Some(agent) = plan.sessions.as_ref().and_then(|s| s.agent.as_ref()) {
        out.extend(answered_in_text(records, agent));
    }
    out.extend(stopped_early(&ok, plan));
    out.extend(prefill(&ok, plan));
    let estimated = counted_from(&ok, |r| r.prompt_tokens.as_ref(), CountSource::Estimate);
    if estimated > 0 {
        out.push(Caveat::PromptTokensEstimated {
            responses: estimated,
        });
    }
    out.extend(primed_cache(&ok, plan));
    out
}

/// How many of `ok` satisfy `f`.
fn count(ok: &[&RequestRecord], f: impl Fn(&RequestRecord) -> bool) -> usize {
    ok.iter().filter(|r| f(r)).count()
}

/// Responses read to the end whose count `which` came from `source`.
fn counted_from(
    ok: &[&RequestRecord],
    which: impl Fn(&RequestRecord) -> Option<&TokenCount>,
    source: CountSource,
) -> usize {
    count(ok, |r| {
        r.left_ns.is_none() && which(r).is_some_and(|t| t.source == source)
    })
}

/// Responses that stopped before `max_tokens` although `ignore_eos` was
/// asked for (a trace asks each request for its own answer length).
fn stopped_early(ok: &[&RequestRecord], plan: &BenchPlan) -> Option<Caveat> {
    if !plan.workload.ignore_eos || plan.workload.trace.is_some() {
        return None;
    }
    // A mix's entry may ask for its own answer length.
    let max = |r: &RequestRecord| {
        let mix = plan.workload.model_mix.as_ref();
        mix.and_then(|m| {
            m.entries()
                .iter()
                .find(|e| Some(e.model.as_str()) == r.model.as_deref())
        })
        .and_then(|e| e.max_tokens)
        .unwrap_or(plan.workload.max_tokens)
    };
    let short = count(ok, |r| {
        r.left_ns.is_none() && r.output_tokens.is_some_and(|t| t.count < max(r))
    });
    (short > 0).then_some(Caveat::StoppedEarly { responses: short })
}

/// What the prefill figures are: a lower bound (long prompts, no sweep, no
/// server timings, no network overhead given: a prompt-length sweep has
/// measured prefill by its line already, and short prompts leave prefill
/// ungraded, which the grade says), and the server's own rate beside it.
fn prefill(ok: &[&RequestRecord], plan: &BenchPlan) -> Vec<Caveat> {
    let mut out = Vec::new();
    let prompts: Vec<u32> = ok
        .iter()
        .filter_map(|r| r.prompt_tokens.map(|t| t.count))
        .collect();
    let mean_prompt =
        prompts.iter().map(|&p| f64::from(p)).sum::<f64>() / prompts.len().max(1) as f64;
    if ok.iter().any(|r| r.server_timings.is_none())
        && plan.network_overhead_s == 0.0
        && !plan.sweeps_prompts()
        && mean_prompt >= LONG_PROMPT_TOKENS
    {
        out.push(Caveat::PrefillIsALowerBound);
    }
    if ok
        .iter()
        .any(|r| r.server_timings.and_then(|t| t.prefill_tok_s).is_some())
    {
        out.push(Caveat::ServerPrefillBeside);
    }
    out
}

/// A large share of cached prompt tokens in a run whose prompts were each
/// its own.
fn primed_cache(ok: &[&RequestRecord], plan: &BenchPlan) -> Option<Caveat> {
    let unique = plan.sessions.is_none()
        && plan.workload.shared_prefix == 0
        && plan.workload.dataset.is_none()
        && plan.workload.trace.is_none();
    let (prompt, cached) = ok
        .iter()
        .filter_map(|r| Some((r.prompt_tokens?.count, r.cached_tokens?)))
        .fold((0u64, 0u64), |(p, c), (rp, rc)| {
            (p + u64::from(rp), c + u64::from(rc.min(rp)))
        });
    (unique && prompt > 0 && cached as f64 / prompt as f64 > PRIMED_SHARE).then(|| {
        Caveat::PrimedCache {
            percent: (100 * cached / prompt) as u32,
        }
    })
}

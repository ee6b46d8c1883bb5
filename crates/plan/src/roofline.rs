//! The roofline estimate: how fast a model can run on a device, from the
//! device's peaks and the model's shape.
//!
//! - **Prefill** of one prompt of P tokens needs 2 × active parameters × P
//!   FLOPs for the matrix multiplications plus 2 × layers × heads × head_dim
//!   × P² for causal attention, and must read the weights once: its time is
//!   the larger of compute time and memory time.
//! - **Decode** produces one token for each of B concurrent streams per
//!   step. A step reads the weights once for the whole batch (for an MoE
//!   model the experts the batch touches) plus every stream's KV cache, and
//!   computes 2 × active parameters + attention FLOPs per stream: at small
//!   batches memory traffic binds, at large ones compute.
//! - **Time to first token** under concurrency: a prompt also waits for
//!   the prefills of prompts that arrived with it ([`Arrivals`]).
//! - **Memory capacity**: the weights and one KV cache per concurrent
//!   context must fit in the usable memory; fewer fitting contexts than the
//!   asked concurrency caps the batch.
//!
//! Peaks times [`Efficiency`] factors give the expected values. Devices are
//! combined by tensor parallelism with perfect scaling (no communication
//! cost), which is optimistic; see `docs/plan.md` for every simplification.

use crate::arrivals::Arrivals;
use crate::chars_per_token::CharsPerToken;
use crate::efficiency::Efficiency;
use crate::error::{non_negative, positive, PlanError};
use crate::hardware::Hardware;
use crate::kv_cache::KvCache;
use crate::model::Model;
use crate::quant::{Quant, Support};
use serde::{Deserialize, Serialize};
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::scenario::{chars_per_s, ttft};
use tokenpace_core::setting::Setting;
use tokenpace_corpus::TextLang;

/// The design notes' characters per token on Chinese (LLaMA-2's 32k vocabulary),
/// the stated default for reading speed when nothing is known of the model.
pub const DEFAULT_CHARS_PER_TOKEN: f64 = 0.7;

/// A model on some number of identical devices.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// The model.
    pub model: &'a Model,
    /// The device.
    pub hardware: &'a Hardware,
    /// How the weights are stored.
    pub quant: Quant,
    /// How the KV cache is stored.
    pub kv_cache: KvCache,
    /// Devices, combined by tensor parallelism.
    pub devices: u32,
}

/// What the deployment serves: request sizes and how many at once (the
/// planner's traffic; the measuring client's prompts are
/// `tokenpace_client::workload::Workload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Traffic {
    /// Prompt tokens per request.
    pub prompt_tokens: f64,
    /// Output tokens per request.
    pub output_tokens: f64,
    /// Requests served at once (decode batch).
    pub concurrency: f64,
    /// Visible characters per output token.
    pub chars_per_token: f64,
    /// Where `chars_per_token` comes from, and for which language.
    pub chars_per_token_source: String,
    /// Network round trip included in TTFT, seconds.
    pub rtt_s: f64,
    /// How the concurrent prompts arrive (how long a prompt waits behind
    /// the others' prefills).
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Prompt tokens the engine prefills per step (vLLM's
    /// `max_num_batched_tokens`, llama.cpp's `n_batch`): prompts arriving
    /// together that share a step get their first tokens together.
    #[serde(default = "default_prefill_batch")]
    pub prefill_batch_tokens: f64,
}

/// The default prompt tokens per prefill step: llama.cpp server's `n_batch`
/// and vLLM's chunked-prefill budget on most GPUs.
pub const DEFAULT_PREFILL_BATCH: f64 = 2048.0;

fn default_prefill_batch() -> f64 {
    DEFAULT_PREFILL_BATCH
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            prompt_tokens: 1000.0,
            output_tokens: 256.0,
            concurrency: 1.0,
            chars_per_token: DEFAULT_CHARS_PER_TOKEN,
            chars_per_token_source: CharsPerToken::default_for(TextLang::Zh).describe(),
            rtt_s: 0.0,
            arrivals: Arrivals::default(),
            prefill_batch_tokens: DEFAULT_PREFILL_BATCH,
        }
    }
}

impl Traffic {
    /// This traffic with its characters per token replaced by `ratio`.
    pub fn with_ratio(self, ratio: &CharsPerToken) -> Traffic {
        Traffic {
            chars_per_token: ratio.value,
            chars_per_token_source: ratio.describe(),
            ..self
        }
    }

    /// Checks every value, naming the flag of a bad one.
    pub fn validate(&self) -> Result<(), PlanError> {
        positive(Setting::PromptTokens, self.prompt_tokens)?;
        positive(Setting::OutputTokens, self.output_tokens)?;
        positive(Setting::Concurrency, self.concurrency)?;
        positive(Setting::CharsPerToken, self.chars_per_token)?;
        non_negative(Setting::Rtt, self.rtt_s)?;
        positive(Setting::PrefillBatch, self.prefill_batch_tokens)?;
        Ok(())
    }
}

/// A resource that limits speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    /// Matrix throughput.
    Compute,
    /// Memory bandwidth.
    MemoryBandwidth,
    /// Memory size (caps the concurrent contexts).
    MemoryCapacity,
}

impl Resource {
    /// The id used in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Resource::Compute => "compute",
            Resource::MemoryBandwidth => "memory_bandwidth",
            Resource::MemoryCapacity => "memory_capacity",
        }
    }
}

/// The time of one phase (one prompt's prefill, or one decode step).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Phase {
    /// FLOPs of the phase.
    pub flops: f64,
    /// Bytes moved from memory in the phase.
    pub bytes: f64,
    /// Expected time if compute were the only limit, seconds.
    pub compute_s: f64,
    /// Expected time if memory bandwidth were the only limit, seconds.
    pub memory_s: f64,
    /// Expected time: the larger of the two, seconds.
    pub seconds: f64,
    /// The roofline bound at peak (efficiency 1), seconds.
    pub bound_s: f64,
    /// Which resource sets `seconds`.
    pub binding: Resource,
}

impl Phase {
    /// The phase's time at compute efficiency `compute` and the bandwidth
    /// efficiency of `eff`.
    fn new(flops: f64, bytes: f64, d: &Deployment, eff: &Efficiency, compute: f64) -> Phase {
        let n = f64::from(d.devices);
        let peak_flops = d.hardware.peak_flops(d.quant) * n;
        let peak_bw = d.hardware.bandwidth_bytes_s() * n;
        let compute_s = flops / (peak_flops * compute);
        let memory_s = bytes / (peak_bw * eff.bandwidth);
        Phase {
            flops,
            bytes,
            compute_s,
            memory_s,
            seconds: compute_s.max(memory_s),
            bound_s: (flops / peak_flops).max(bytes / peak_bw),
            binding: if compute_s >= memory_s {
                Resource::Compute
            } else {
                Resource::MemoryBandwidth
            },
        }
    }
}

/// Where the memory goes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Memory {
    /// Bytes of the weights.
    pub weight_bytes: f64,
    /// KV-cache bytes per token.
    pub kv_bytes_per_token: f64,
    /// KV-cache bytes of one context (prompt + output tokens).
    pub context_bytes: f64,
    /// Memory of all devices, bytes.
    pub total_bytes: f64,
    /// Usable memory of all devices, bytes.
    pub usable_bytes: f64,
    /// Whole contexts that fit after the weights.
    pub contexts_fit: f64,
    /// Whether the asked concurrency was cut to `contexts_fit`.
    pub concurrency_capped: bool,
}

/// The estimate for one deployment and workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    /// The model id.
    pub model: String,
    /// The hardware id.
    pub hardware: String,
    /// The weight format.
    pub quant: Quant,
    /// Whether the device multiplies the weights in their format or
    /// dequantises them to 16 bits first.
    #[serde(default)]
    pub support: Support,
    /// The KV cache's format.
    #[serde(default)]
    pub kv_cache: KvCache,
    /// Devices.
    pub devices: u32,
    /// The workload estimated.
    pub workload: Traffic,
    /// The efficiency factors used.
    pub efficiency: Efficiency,
    /// Memory use.
    pub memory: Memory,
    /// The decode batch: the asked concurrency, or fewer when memory caps it.
    pub concurrency: f64,
    /// One prompt's prefill.
    pub prefill: Phase,
    /// One decode step of the whole batch.
    pub decode: Phase,
    /// Prefills a prompt waits for on average, its own included (1 for one
    /// stream; see [`Arrivals`]).
    pub prefill_wait: f64,
    /// Expected prefill rate a request sees, prompt tokens ÷ (its wait and
    /// prefill), tokens/s.
    pub prefill_tok_s: f64,
    /// Prefill rate a request sees at the roofline bound (peak), with the
    /// same wait, tokens/s.
    pub prefill_bound_tok_s: f64,
    /// Expected decode rate of one stream, tokens/s.
    pub decode_tok_s: f64,
    /// Decode rate of one stream at the roofline bound, tokens/s.
    pub decode_bound_tok_s: f64,
    /// Expected output tokens/s of all streams together.
    pub aggregate_decode_tok_s: f64,
    /// Expected time to first token: round trip + the wait behind other
    /// prompts + prefill, seconds.
    pub ttft_s: f64,
    /// Expected reading speed, characters/s.
    pub output_chars_s: f64,
    /// The four graded metrics graded on the profile.
    pub grade: Grade,
}

impl Estimate {
    /// The four graded metrics as (metric, expected value).
    pub fn values(&self) -> [(Metric, f64); 4] {
        [
            (Metric::PrefillTokS, self.prefill_tok_s),
            (Metric::DecodeTokS, self.decode_tok_s),
            (Metric::TtftS, self.ttft_s),
            (Metric::OutputCharsS, self.output_chars_s),
        ]
    }
}

/// Bytes of weights read when `tokens` tokens pass through the model at
/// once: all of a dense model; for an MoE model, the expected share of
/// experts at least one token is routed to, treating every parameter as
/// routed with probability active/total (1 token reads the active share).
pub fn weight_bytes_touched(model: &Model, quant: Quant, tokens: f64) -> f64 {
    let total = model.weight_bytes(quant);
    let a = (model.active_params() / model.params()).clamp(0.0, 1.0);
    if a >= 1.0 {
        return total;
    }
    total * (1.0 - (1.0 - a).powf(tokens.max(1.0)))
}

/// Estimates the four graded metrics of `workload` on `deployment`.
pub fn estimate(
    d: &Deployment,
    w: &Traffic,
    eff: &Efficiency,
    profile: &Profile,
) -> Result<Estimate, PlanError> {
    w.validate()?;
    eff.validate()?;
    positive(Setting::Gpus, f64::from(d.devices))?;
    let m = d.model;
    let memory = Memory::of(d, w, eff)?;
    let batch = w.concurrency.min(memory.contexts_fit);
    let kv = memory.kv_bytes_per_token;

    // Prefill of one prompt.
    let p = w.prompt_tokens;
    let attn = m.attention_flops_per_context_token();
    let prefill_flops = 2.0 * m.active_params() * p + attn * p * p / 2.0;
    let prefill_bytes = weight_bytes_touched(m, d.quant, p) + kv * p;
    let prefill = Phase::new(prefill_flops, prefill_bytes, d, eff, eff.compute);

    // One decode step of the batch, at the average context length.
    let ctx = p + w.output_tokens / 2.0;
    let step_flops = batch * (2.0 * m.active_params() + attn * ctx);
    let step_bytes = weight_bytes_touched(m, d.quant, batch) + batch * kv * ctx;
    let decode = Phase::new(step_flops, step_bytes, d, eff, eff.decode_compute());

    let decode_tok_s = 1.0 / decode.seconds;
    let wait = w.arrivals.prefill_wait(
        batch,
        p,
        w.prefill_batch_tokens,
        prefill.seconds,
        w.output_tokens * decode.seconds,
    );
    let prefill_tok_s = p / (prefill.seconds * wait);
    let ttft_s = ttft(w.rtt_s, p, prefill_tok_s);
    let output_chars_s = chars_per_s(decode_tok_s, w.chars_per_token);
    let values = [
        (Metric::PrefillTokS, prefill_tok_s),
        (Metric::DecodeTokS, decode_tok_s),
        (Metric::TtftS, ttft_s),
        (Metric::OutputCharsS, output_chars_s),
    ];
    let grade = profile
        .grade_values(&values)
        .map_err(|e| PlanError::InvalidNumber {
            name: e.metric.id().to_string(),
            expected: "a finite number ≥ 0 (the inputs are out of range)",
            value: e.value,
        })?;
    Ok(Estimate {
        model: m.id.clone(),
        hardware: d.hardware.id.clone(),
        quant: d.quant,
        support: d.hardware.support(d.quant),
        kv_cache: d.kv_cache,
        devices: d.devices,
        workload: w.clone(),
        efficiency: eff.clone(),
        memory,
        concurrency: batch,
        prefill,
        decode,
        prefill_tok_s,
        prefill_wait: wait,
        prefill_bound_tok_s: p / (prefill.bound_s * wait),
        decode_tok_s,
        decode_bound_tok_s: 1.0 / decode.bound_s,
        aggregate_decode_tok_s: batch * decode_tok_s,
        ttft_s,
        output_chars_s,
        grade,
    })
}

impl Memory {
    /// Where the memory of `d` goes under `w`: an error when the weights do
    /// not fit, or leave no room for one context.
    fn of(d: &Deployment, w: &Traffic, eff: &Efficiency) -> Result<Memory, PlanError> {
        let m = d.model;
        let n = f64::from(d.devices);
        let weight_bytes = m.weight_bytes(d.quant);
        let kv = m.kv_bytes_per_token(d.kv_cache);
        let context_tokens = w.prompt_tokens + w.output_tokens;
        let context_bytes = kv * context_tokens;
        let per_device_usable = d.hardware.memory_bytes() * eff.memory_usable;
        let usable = per_device_usable * n;
        if weight_bytes > usable {
            let min = ((weight_bytes + context_bytes) / per_device_usable).ceil();
            return Err(PlanError::TooLarge {
                model: m.id.clone(),
                hardware: d.hardware.id.clone(),
                quant: d.quant.id(),
                weights_gb: weight_bytes / 1e9,
                usable_gb: usable / 1e9,
                total_gb: d.hardware.memory_bytes() * n / 1e9,
                memory_usable_pct: eff.memory_usable * 100.0,
                devices: d.devices,
                narrower: if m.weights.bytes_per_weight() < d.quant.bytes_per_weight() {
                    m.weights.id()
                } else {
                    Quant::Int4.id()
                },
                min_devices: if min.is_finite() && min < f64::from(u32::MAX) {
                    min as u32
                } else {
                    u32::MAX
                },
            });
        }
        let free = usable - weight_bytes;
        if free < context_bytes {
            return Err(PlanError::NoRoomForContext {
                model: m.id.clone(),
                hardware: d.hardware.id.clone(),
                devices: d.devices,
                free_gb: free / 1e9,
                context_tokens,
                context_gb: context_bytes / 1e9,
            });
        }
        let contexts_fit = (free / context_bytes).floor();
        Ok(Memory {
            weight_bytes,
            kv_bytes_per_token: kv,
            context_bytes,
            total_bytes: d.hardware.memory_bytes() * n,
            usable_bytes: usable,
            contexts_fit,
            concurrency_capped: w.concurrency > contexts_fit,
        })
    }
}

#[cfg(test)]
mod tests;

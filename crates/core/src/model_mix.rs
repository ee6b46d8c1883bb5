//! Mixed traffic: several models (or LoRA adapters) behind one endpoint,
//! each with a weight and optionally its own prompt and answer lengths
//! (`bench --model-mix`), and the run reported per model.
//!
//! Requests are assigned by smooth weighted round-robin over one cycle of
//! `sum(weights)` slots, rotated by the seed: every `sum(weights)`
//! consecutive request ids hold each model exactly `weight` times, the
//! models are interleaved rather than in runs, and the assignment depends
//! on the id alone, so shards and repeats agree on it.

use crate::aggregate::Aggregate;
use crate::record::RequestRecord;
use crate::request_metrics::MetricOptions;
use serde::{Deserialize, Serialize};

/// Largest sum of weights: the cycle is kept in memory.
pub const MAX_TOTAL_WEIGHT: u32 = 100_000;

/// One model of a mix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MixEntry {
    /// The model (or adapter) name sent in the request.
    pub model: String,
    /// Its share of the requests, relative to the other entries' weights.
    pub weight: u32,
    /// Its prompt length in tokens (default: the run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    /// Its answer length, `max_tokens` (default: the run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// The TOML file's shape: `[[model]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MixFile {
    model: Vec<MixEntry>,
}

/// A checked mix and its assignment cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMix {
    entries: Vec<MixEntry>,
    cycle: Vec<u32>,
}

impl ModelMix {
    /// A mix of `entries`, checked: at least one, names unique and not
    /// empty, weights positive and summing to at most [`MAX_TOTAL_WEIGHT`].
    pub fn new(entries: Vec<MixEntry>) -> Result<ModelMix, String> {
        if entries.is_empty() {
            return Err("the model mix is empty: give at least one NAME=WEIGHT".into());
        }
        let mut total: u64 = 0;
        for (i, e) in entries.iter().enumerate() {
            if e.model.trim().is_empty() {
                return Err(format!("model mix entry {} has no model name", i + 1));
            }
            if entries[..i].iter().any(|o| o.model == e.model) {
                return Err(format!(
                    "model '{}' appears twice in the mix: give each model once, with the sum of its weights",
                    e.model
                ));
            }
            if e.weight == 0 {
                return Err(format!(
                    "model '{}' has weight 0: leave it out of the mix, or give it a positive weight",
                    e.model
                ));
            }
            if e.max_tokens == Some(0) {
                return Err(format!(
                    "model '{}' asks for max_tokens 0: give at least 1",
                    e.model
                ));
            }
            total += u64::from(e.weight);
        }
        if total > u64::from(MAX_TOTAL_WEIGHT) {
            return Err(format!(
                "the mix's weights sum to {total}, more than {MAX_TOTAL_WEIGHT}: divide them by a common factor"
            ));
        }
        let cycle = smooth_round_robin(&entries);
        Ok(ModelMix { entries, cycle })
    }

    /// The compact form: `NAME=WEIGHT[:PROMPT_TOKENS[:MAX_TOKENS]]`,
    /// comma-separated (`llama-8b=3,lora-a=1:2048:64`, `b=1::64`). A name is split
    /// from its weight at its last `=`, so names may hold `/` and `:`.
    pub fn parse(spec: &str) -> Result<ModelMix, String> {
        let entries = spec
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(parse_entry)
            .collect::<Result<Vec<_>, _>>()?;
        ModelMix::new(entries)
    }

    /// The TOML form: one `[[model]]` table per entry with `model`,
    /// `weight` and optional `prompt_tokens` and `max_tokens`.
    pub fn from_toml(text: &str) -> Result<ModelMix, String> {
        let file: MixFile = toml::from_str(text).map_err(|e| {
            format!("the model mix file is not valid: {e} (expected [[model]] tables with model = \"NAME\", weight = N and optional prompt_tokens, max_tokens)")
        })?;
        ModelMix::new(file.model)
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[MixEntry] {
        &self.entries
    }

    /// The entry request `id` goes to, with the run's `seed` rotating the
    /// cycle.
    pub fn entry(&self, id: u64, seed: u64) -> &MixEntry {
        &self.entries[self.index(id, seed)]
    }

    /// Which entry (its place in [`ModelMix::entries`]) request `id` goes to.
    pub fn index(&self, id: u64, seed: u64) -> usize {
        let n = self.cycle.len() as u64;
        let slot = (id % n + seed % n) % n;
        self.cycle[slot as usize] as usize
    }
}

/// `NAME=WEIGHT[:PROMPT[:MAX]]`.
fn parse_entry(s: &str) -> Result<MixEntry, String> {
    let s = s.trim();
    let (name, rest) = s.rsplit_once('=').ok_or_else(|| {
        format!("model mix entry '{s}' has no weight: write NAME=WEIGHT, e.g. {s}=1")
    })?;
    let mut parts = rest.split(':');
    let number = |what: &str, v: Option<&str>| -> Result<Option<u32>, String> {
        // An empty part keeps the run's value: `a=1::64`.
        v.filter(|v| !v.trim().is_empty()).map(|v| {
            v.trim().parse::<u32>().map_err(|_| {
                format!("model mix entry '{s}': {what} '{v}' is not a whole number (NAME=WEIGHT[:PROMPT_TOKENS[:MAX_TOKENS]])")
            })
        })
        .transpose()
    };
    let weight = number("weight", parts.next())?.unwrap_or(0);
    let prompt_tokens = number("prompt tokens", parts.next())?;
    let max_tokens = number("max tokens", parts.next())?;
    if parts.next().is_some() {
        return Err(format!(
            "model mix entry '{s}' has too many parts: NAME=WEIGHT[:PROMPT_TOKENS[:MAX_TOKENS]]"
        ));
    }
    Ok(MixEntry {
        model: name.trim().to_string(),
        weight,
        prompt_tokens,
        max_tokens,
    })
}

/// One cycle of smooth weighted round-robin (nginx's): each step every
/// entry gains its weight, the one with the most is picked and loses the
/// total. Over the cycle each entry is picked exactly `weight` times.
fn smooth_round_robin(entries: &[MixEntry]) -> Vec<u32> {
    let total: i64 = entries.iter().map(|e| i64::from(e.weight)).sum();
    let mut current = vec![0i64; entries.len()];
    let mut cycle = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, e) in current.iter_mut().zip(entries) {
            *c += i64::from(e.weight);
        }
        // The first of equals wins, so the order given breaks ties.
        let best = (0..current.len())
            .max_by_key(|&i| (current[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        current[best] -= total;
        cycle.push(best as u32);
    }
    cycle
}

/// One model's share of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ModelShare {
    /// The model the requests asked for.
    pub model: String,
    /// Its requests summarised (throughput over their own wall time).
    #[serde(flatten)]
    pub aggregate: Aggregate,
}

/// Each model's share of `records`: the mix's `entries` in their order
/// (those that sent any), then any other model in order of first
/// appearance; empty unless some record names its model (a mixed run).
pub fn per_model(
    records: &[RequestRecord],
    entries: &[MixEntry],
    opts: &MetricOptions,
) -> Vec<ModelShare> {
    let mut models: Vec<&str> = entries
        .iter()
        .map(|e| e.model.as_str())
        .filter(|m| records.iter().any(|r| r.model.as_deref() == Some(m)))
        .collect();
    for r in records {
        if let Some(m) = r.model.as_deref() {
            if !models.contains(&m) {
                models.push(m);
            }
        }
    }
    models
        .into_iter()
        .map(|m| ModelShare {
            model: m.to_string(),
            aggregate: Aggregate::of(
                records.iter().filter(|r| r.model.as_deref() == Some(m)),
                opts,
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests;

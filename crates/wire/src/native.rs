//! The native streaming shapes of llama.cpp (`/completion`), Ollama
//! (`/api/generate`, `/api/chat`, NDJSON) and TGI (`/generate_stream`).
//!
//! Every event also carries `"id"` (the simulator's response id), which the
//! real servers do not send, so a client's record can be matched with the
//! ground truth. The final event reports the server's own timings, derived
//! from the simulator's truth: prompt processing takes prompt tokens ÷
//! `prefill` (the model's prefill term, without the fixed `ttft_ms` and the
//! queue), and generation spans the first to the last content write, stated
//! as n tokens at the measured per-token interval, so count ÷ duration =
//! (n − 1) ÷ (last write − first write).

use crate::request::Endpoint;

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// What the last event of a native stream reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeEnd<'a> {
    /// `stop` or `length`.
    pub finish_reason: &'a str,
    /// Prompt tokens (estimated).
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Prompt processing time, seconds.
    pub prompt_s: f64,
    /// Generation time of `completion_tokens`, seconds.
    pub eval_s: f64,
}

impl NativeEnd<'_> {
    /// Generation time as the servers state it: n tokens at the interval
    /// between the first and the last write.
    pub fn eval_s_from_writes(first_ns: u64, last_ns: u64, tokens: u64) -> f64 {
        if tokens < 2 {
            return 0.0;
        }
        last_ns.saturating_sub(first_ns) as f64 / 1e9 * tokens as f64 / (tokens - 1) as f64
    }
}

/// One content event.
pub fn content(endpoint: Endpoint, id: &str, model: &str, text: &str, nl: &str) -> Vec<u8> {
    let (id, text) = (quote(id), quote(text));
    match endpoint {
        Endpoint::LlamaCpp => format!(
            "data: {{\"id\":{id},\"content\":{text},\"stop\":false,\"id_slot\":0}}{nl}{nl}"
        ),
        Endpoint::OllamaGenerate => format!(
            "{{\"id\":{id},\"model\":{},\"response\":{text},\"done\":false}}\n",
            quote(model)
        ),
        Endpoint::OllamaChat => format!(
            "{{\"id\":{id},\"model\":{},\"message\":{{\"role\":\"assistant\",\"content\":{text}}},\"done\":false}}\n",
            quote(model)
        ),
        Endpoint::Tgi => format!(
            "data:{{\"id\":{id},\"index\":0,\"token\":{{\"id\":0,\"text\":{text},\"logprob\":0.0,\"special\":false}},\"generated_text\":null,\"details\":null}}{nl}{nl}"
        ),
        Endpoint::Chat | Endpoint::Completions | Endpoint::Messages | Endpoint::Responses => {
            String::new()
        }
    }
    .into_bytes()
}

/// The last event, with counts and timings.
pub fn end(
    endpoint: Endpoint,
    id: &str,
    model: &str,
    full_text: &str,
    e: &NativeEnd<'_>,
    nl: &str,
) -> Vec<u8> {
    let id = quote(id);
    let (p, n) = (e.prompt_tokens, e.completion_tokens);
    let per_s = |count: u64, s: f64| if s > 0.0 { count as f64 / s } else { 0.0 };
    let reason = e.finish_reason;
    match endpoint {
        Endpoint::LlamaCpp => {
            let stop_type = if reason == "length" { "limit" } else { "eos" };
            format!(
                "data: {{\"id\":{id},\"content\":\"\",\"stop\":true,\"stop_type\":\"{stop_type}\",\"model\":{},\
                 \"tokens_evaluated\":{p},\"tokens_predicted\":{n},\"timings\":{{\"prompt_n\":{p},\"prompt_ms\":{},\
                 \"prompt_per_second\":{},\"predicted_n\":{n},\"predicted_ms\":{},\"predicted_per_second\":{}}}}}{nl}{nl}",
                quote(model),
                e.prompt_s * 1e3,
                per_s(p, e.prompt_s),
                e.eval_s * 1e3,
                per_s(n, e.eval_s)
            )
        }
        Endpoint::OllamaGenerate | Endpoint::OllamaChat => {
            let body = if endpoint == Endpoint::OllamaChat {
                "\"message\":{\"role\":\"assistant\",\"content\":\"\"}"
            } else {
                "\"response\":\"\""
            };
            format!(
                "{{\"id\":{id},\"model\":{},{body},\"done\":true,\"done_reason\":\"{reason}\",\
                 \"total_duration\":{},\"prompt_eval_count\":{p},\"prompt_eval_duration\":{},\
                 \"eval_count\":{n},\"eval_duration\":{}}}\n",
                quote(model),
                ((e.prompt_s + e.eval_s) * 1e9).round() as u64,
                (e.prompt_s * 1e9).round() as u64,
                (e.eval_s * 1e9).round() as u64
            )
        }
        Endpoint::Tgi => format!(
            "data:{{\"id\":{id},\"index\":0,\"token\":{{\"id\":2,\"text\":\"</s>\",\"logprob\":0.0,\"special\":true}},\
             \"generated_text\":{},\"details\":{{\"finish_reason\":\"{reason}\",\"generated_tokens\":{n},\"seed\":null}}}}{nl}{nl}",
            quote(full_text)
        ),
        Endpoint::Chat | Endpoint::Completions | Endpoint::Messages | Endpoint::Responses => {
            String::new()
        }
    }
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn json(bytes: &[u8]) -> Value {
        let s = std::str::from_utf8(bytes).unwrap().trim();
        let s = s.strip_prefix("data:").unwrap_or(s).trim();
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn every_shape_is_valid_json_with_consistent_timings() {
        let e = NativeEnd {
            finish_reason: "length",
            prompt_tokens: 100,
            completion_tokens: 11,
            prompt_s: 0.02,
            eval_s: NativeEnd::eval_s_from_writes(0, 100_000_000, 11),
        };
        for ep in [
            Endpoint::LlamaCpp,
            Endpoint::OllamaGenerate,
            Endpoint::OllamaChat,
            Endpoint::Tgi,
        ] {
            json(&content(ep, "x", "m", "你\"好", "\n"));
            let v = json(&end(ep, "x", "m", "all", &e, "\n"));
            assert_eq!(v["id"], "x");
            match ep {
                Endpoint::LlamaCpp => {
                    assert!(
                        (v["timings"]["prompt_per_second"].as_f64().unwrap() - 5000.0).abs() < 1e-6
                    );
                    // 10 intervals of 10 ms: 100 tokens/s.
                    assert!(
                        (v["timings"]["predicted_per_second"].as_f64().unwrap() - 100.0).abs()
                            < 1e-6
                    );
                }
                Endpoint::OllamaGenerate | Endpoint::OllamaChat => {
                    assert_eq!(v["prompt_eval_duration"], 20_000_000);
                    assert_eq!(v["eval_duration"], 110_000_000);
                }
                _ => assert_eq!(v["details"]["generated_tokens"], 11),
            }
        }
    }
}

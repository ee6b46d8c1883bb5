//! What this server adds to the wire crate's OpenAI bodies: llama.cpp's
//! `timings` object (the engine's own prefill and decode speeds, which a
//! client can show beside its own figures) and usage from the generator's
//! counts.

use crate::generate::Finished;
use serde_json::json;
use tokenpace_wire::Usage;

/// Token counts of a finished generation, for `usage`.
pub fn usage(done: &Finished) -> Usage {
    let usage = Usage::new(
        u64::from(done.prompt_tokens),
        u64::from(done.completion_tokens),
    );
    match done.cached_tokens {
        Some(cached) => usage.with_cached(u64::from(cached)),
        None => usage,
    }
}

/// `,"timings":{…}` with llama.cpp server's field names, so clients that
/// read those read these; spliced into the last chunk or the whole body.
pub fn timings(done: &Finished) -> String {
    let rate = |n: u32, ms: f64| {
        if ms > 0.0 {
            f64::from(n) * 1e3 / ms
        } else {
            0.0
        }
    };
    // The first generated token comes out of the prompt's pass, so decode
    // speed counts the tokens after it.
    let decoded = done.completion_tokens.saturating_sub(1);
    // As llama.cpp: `prompt_n` counts the prompt tokens computed, `cache_n`
    // those reused from the prefix cache.
    let cached = done.cached_tokens.unwrap_or(0).min(done.prompt_tokens);
    let computed = done.prompt_tokens - cached;
    let timings = json!({
        "queue_ms": done.queue_ms,
        "cache_n": cached,
        "prompt_n": computed,
        "prompt_ms": done.prompt_ms,
        "prompt_per_second": rate(computed, done.prompt_ms),
        "predicted_n": decoded,
        "predicted_ms": done.predicted_ms,
        "predicted_per_second": rate(decoded, done.predicted_ms),
    });
    format!(",\"timings\":{timings}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::FinishReason;
    use serde_json::Value;
    use tokenpace_wire::{Endpoint, Events};

    fn done() -> Finished {
        Finished {
            reason: FinishReason::Length,
            prompt_tokens: 100,
            cached_tokens: None,
            completion_tokens: 11,
            queue_ms: 0.5,
            prompt_ms: 50.0,
            predicted_ms: 200.0,
        }
    }

    fn events(bytes: &[u8]) -> Vec<Value> {
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn stream_end_has_timings_usage_and_done() {
        let r = Events::new(Endpoint::Chat, "chatcmpl-1", "m", 7, false);
        let d = done();
        let bytes = r.finish_with(d.reason.as_str(), Some(usage(&d)), &timings(&d));
        assert!(bytes.ends_with(b"data: [DONE]\n\n"));
        let ev = events(&bytes);
        assert_eq!(ev[0]["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[0]["timings"]["prompt_per_second"], 2000.0);
        assert_eq!(ev[0]["timings"]["predicted_per_second"], 50.0);
        assert_eq!(ev[1]["usage"]["total_tokens"], 111);
        assert!(ev[1]["usage"].get("prompt_tokens_details").is_none());
        assert_eq!(ev[1]["choices"], json!([]));
    }

    #[test]
    fn cached_prompt_tokens_show_in_usage_and_timings() {
        let r = Events::new(Endpoint::Chat, "chatcmpl-1", "m", 7, false);
        let d = Finished {
            cached_tokens: Some(80),
            ..done()
        };
        let ev = events(&r.finish_with(d.reason.as_str(), Some(usage(&d)), &timings(&d)));
        assert_eq!(ev[1]["usage"]["prompt_tokens_details"]["cached_tokens"], 80);
        assert_eq!(ev[1]["usage"]["prompt_tokens"], 100);
        // Only the 20 computed tokens count towards prefill speed.
        assert_eq!(ev[0]["timings"]["prompt_n"], 20);
        assert_eq!(ev[0]["timings"]["cache_n"], 80);
        assert_eq!(ev[0]["timings"]["prompt_per_second"], 400.0);
    }

    #[test]
    fn whole_body_has_usage_and_timings() {
        let r = Events::new(Endpoint::Completions, "cmpl-1", "m", 7, false);
        let d = done();
        let body: Value =
            serde_json::from_slice(&r.body_with("x", d.reason.as_str(), usage(&d), &timings(&d)))
                .unwrap();
        assert_eq!(body["choices"][0]["text"], "x");
        assert_eq!(body["usage"]["completion_tokens"], 11);
        assert_eq!(body["timings"]["predicted_n"], 10);
    }
}

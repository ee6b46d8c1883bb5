//! Response bodies in the OpenAI shapes, streamed or whole, with llama.cpp's
//! `timings` object in the last chunk (the engine's own prefill and decode
//! speeds, which a client can show beside its own figures).

use crate::generate::Finished;
use crate::request::Endpoint;
use serde_json::{json, Value};

/// Builds the chunks of one response.
#[derive(Debug, Clone)]
pub struct Response {
    endpoint: Endpoint,
    id: String,
    model: String,
    created: u64,
}

impl Response {
    /// A response `id` from `model`, created at unix second `created`.
    pub fn new(endpoint: Endpoint, id: String, model: String, created: u64) -> Self {
        Response {
            endpoint,
            id,
            model,
            created,
        }
    }

    fn envelope(&self, object: &str, choices: Value) -> Value {
        json!({
            "id": self.id,
            "object": object,
            "created": self.created,
            "model": self.model,
            "choices": choices,
        })
    }

    fn chunk_object(&self) -> &'static str {
        match self.endpoint {
            Endpoint::Chat => "chat.completion.chunk",
            Endpoint::Completions => "text_completion",
        }
    }

    /// One streamed piece of text; the first chat chunk carries the role.
    pub fn delta(&self, text: &str, first: bool) -> Vec<u8> {
        let choice = match self.endpoint {
            Endpoint::Chat if first => {
                json!({"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": null})
            }
            Endpoint::Chat => {
                json!({"index": 0, "delta": {"content": text}, "finish_reason": null})
            }
            Endpoint::Completions => json!({"index": 0, "text": text, "finish_reason": null}),
        };
        event(&self.envelope(self.chunk_object(), json!([choice])))
    }

    /// The finish chunk with `timings`, the usage chunk if asked, `[DONE]`.
    pub fn end(&self, done: &Finished, include_usage: bool) -> Vec<u8> {
        let choice = match self.endpoint {
            Endpoint::Chat => {
                json!({"index": 0, "delta": {}, "finish_reason": done.reason.as_str()})
            }
            Endpoint::Completions => {
                json!({"index": 0, "text": "", "finish_reason": done.reason.as_str()})
            }
        };
        let mut last = self.envelope(self.chunk_object(), json!([choice]));
        last["timings"] = timings(done);
        let mut out = event(&last);
        if include_usage {
            let mut usage = self.envelope(self.chunk_object(), json!([]));
            usage["usage"] = usage_json(done);
            out.extend(event(&usage));
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        out
    }

    /// A whole (not streamed) response.
    pub fn whole(&self, text: &str, done: &Finished) -> Vec<u8> {
        let reason = done.reason.as_str();
        let mut body = match self.endpoint {
            Endpoint::Chat => self.envelope(
                "chat.completion",
                json!([{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": reason}]),
            ),
            Endpoint::Completions => self.envelope(
                "text_completion",
                json!([{"index": 0, "text": text, "finish_reason": reason}]),
            ),
        };
        body["usage"] = usage_json(done);
        body["timings"] = timings(done);
        let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// An error after the stream has started (OpenAI's in-stream shape).
    pub fn error(&self, message: &str) -> Vec<u8> {
        let mut out = event(
            &json!({"error": {"message": message, "type": "server_error", "code": "generation_failed"}}),
        );
        out.extend_from_slice(b"data: [DONE]\n\n");
        out
    }
}

fn event(v: &Value) -> Vec<u8> {
    let mut out = b"data: ".to_vec();
    out.extend(serde_json::to_vec(v).unwrap_or_default());
    out.extend_from_slice(b"\n\n");
    out
}

fn usage_json(done: &Finished) -> Value {
    json!({
        "prompt_tokens": done.prompt_tokens,
        "completion_tokens": done.completion_tokens,
        "total_tokens": u64::from(done.prompt_tokens) + u64::from(done.completion_tokens),
    })
}

/// llama.cpp server's field names, so clients that read those read these.
fn timings(done: &Finished) -> Value {
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
    json!({
        "queue_ms": done.queue_ms,
        "prompt_n": done.prompt_tokens,
        "prompt_ms": done.prompt_ms,
        "prompt_per_second": rate(done.prompt_tokens, done.prompt_ms),
        "predicted_n": decoded,
        "predicted_ms": done.predicted_ms,
        "predicted_per_second": rate(decoded, done.predicted_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::FinishReason;

    fn done() -> Finished {
        Finished {
            reason: FinishReason::Length,
            prompt_tokens: 100,
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
        let r = Response::new(Endpoint::Chat, "chatcmpl-1".into(), "m".into(), 7);
        let bytes = r.end(&done(), true);
        assert!(bytes.ends_with(b"data: [DONE]\n\n"));
        let ev = events(&bytes);
        assert_eq!(ev[0]["choices"][0]["finish_reason"], "length");
        assert_eq!(ev[0]["timings"]["prompt_per_second"], 2000.0);
        assert_eq!(ev[0]["timings"]["predicted_per_second"], 50.0);
        assert_eq!(ev[1]["usage"]["total_tokens"], 111);
        assert_eq!(ev[1]["choices"], json!([]));
    }

    #[test]
    fn first_chat_delta_has_the_role_and_text_is_escaped() {
        let r = Response::new(Endpoint::Chat, "c".into(), "m".into(), 7);
        let ev = events(&r.delta("\"速\"\n", true));
        assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(ev[0]["choices"][0]["delta"]["content"], "\"速\"\n");
        let r = Response::new(Endpoint::Completions, "c".into(), "m".into(), 7);
        let ev = events(&r.delta("x", true));
        assert_eq!(ev[0]["choices"][0]["text"], "x");
    }
}

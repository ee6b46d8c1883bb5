//! Ollama's native API: `POST /api/generate` and `POST /api/chat`, streamed
//! as newline-delimited JSON.
//!
//! Each line is `{"response": "…", "done": false}` (generate) or
//! `{"message": {"role": "assistant", "content": "…"}, "done": false}` (chat).
//! The last line has `"done": true`, `done_reason`, and the server's counts
//! and durations in nanoseconds: `prompt_eval_count`, `prompt_eval_duration`,
//! `eval_count`, `eval_duration` (rates are count ÷ duration, as Ollama's own
//! `--verbose` output computes them).

use super::{rate, Backend, Delta, Event, EventFraming, Prompt, ReportedUsage};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use tokenpace_core::record::ServerTimings;

/// `/api/generate` (`chat: false`) or `/api/chat` (`chat: true`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ollama {
    /// Use `/api/chat` with messages.
    pub chat: bool,
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    response: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    #[serde(default)]
    done: bool,
    #[serde(borrow, default)]
    done_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    prompt_eval_count: Option<u32>,
    #[serde(default)]
    prompt_eval_duration: Option<f64>,
    #[serde(default)]
    eval_count: Option<u32>,
    #[serde(default)]
    eval_duration: Option<f64>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    /// Not sent by Ollama; the simulator adds it to match its truth.
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    /// Reasoning models (`think`).
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

impl Backend for Ollama {
    fn id(&self) -> &'static str {
        if self.chat {
            "ollama-chat"
        } else {
            "ollama"
        }
    }

    fn path(&self) -> &'static str {
        if self.chat {
            "/api/chat"
        } else {
            "/api/generate"
        }
    }

    fn framing(&self) -> EventFraming {
        EventFraming::Ndjson
    }

    fn body(&self, model: &str, prompt: &Prompt) -> serde_json::Value {
        // Ollama has no ignore_eos; a run warns when answers stop short.
        let mut body = json!({
            "model": model,
            "stream": true,
            "options": {"num_predict": prompt.max_tokens},
        });
        if self.chat {
            body["messages"] = match &prompt.messages {
                Some(m) => m.clone(),
                None => json!([{"role": "user", "content": prompt.text}]),
            };
        } else {
            body["prompt"] = json!(prompt.text);
        }
        body
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        let line: Line<'_> = serde_json::from_slice(data.trim_ascii())
            .map_err(|err| format!("malformed event ({err})"))?;
        let mut delta = Delta {
            id: line.id,
            error: line.error.map(|v| match v.as_str() {
                Some(m) => m.to_string(),
                None => v.to_string(),
            }),
            ..Delta::default()
        };
        if let Some(r) = line.response {
            delta.answer = r;
        }
        if let Some(m) = line.message {
            if let Some(c) = m.content {
                delta.answer = c;
            }
            if let Some(t) = m.thinking {
                delta.reasoning = t;
            }
        }
        if line.done {
            delta.finish_reason = Some(line.done_reason.unwrap_or(Cow::Borrowed("stop")));
            delta.usage = Some(ReportedUsage {
                prompt_tokens: line.prompt_eval_count,
                completion_tokens: line.eval_count,
                reasoning_tokens: None,
                cached_tokens: None,
            });
            let secs = |ns: Option<f64>| ns.map(|ns| ns / 1e9);
            delta.timings = Some(ServerTimings {
                prefill_tok_s: rate(
                    line.prompt_eval_count.map(f64::from),
                    secs(line.prompt_eval_duration),
                ),
                decode_tok_s: rate(line.eval_count.map(f64::from), secs(line.eval_duration)),
            });
        }
        Ok(Event::Delta(delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(chat: bool, s: &str) -> Delta<'_> {
        match (Ollama { chat }).parse_event(s.as_bytes()).unwrap() {
            Event::Delta(d) => d,
            Event::Done => panic!(),
        }
    }

    #[test]
    fn generate_and_chat_lines() {
        let d = delta(
            false,
            r#"{"model":"m","created_at":"2024-01-01T00:00:00Z","response":"The","done":false}"#,
        );
        assert_eq!(d.answer, "The");
        let d = delta(
            true,
            r#"{"model":"m","message":{"role":"assistant","content":"好","thinking":"hm"},"done":false}"#,
        );
        assert_eq!((d.answer.as_ref(), d.reasoning.as_ref()), ("好", "hm"));
        let last = r#"{"model":"m","response":"","done":true,"done_reason":"length","context":[1,2],
            "total_duration":5000000000,"load_duration":1000000,"prompt_eval_count":26,
            "prompt_eval_duration":130000000,"eval_count":290,"eval_duration":4709213000}"#;
        let d = delta(false, last);
        assert_eq!(d.finish_reason.as_deref(), Some("length"));
        assert_eq!(d.usage.unwrap().prompt_tokens, Some(26));
        let t = d.timings.unwrap();
        assert!((t.prefill_tok_s.unwrap() - 200.0).abs() < 1e-9);
        assert!((t.decode_tok_s.unwrap() - 290.0 / 4.709213).abs() < 1e-9);
    }

    #[test]
    fn errors_bodies_and_garbage() {
        let d = delta(false, r#"{"error":"model 'x' not found"}"#);
        assert_eq!(d.error.as_deref(), Some("model 'x' not found"));
        assert!(Ollama { chat: false }
            .parse_event(b"{\"response\":")
            .is_err());
        // A cached prompt reports no prompt evaluation: no rate, no panic.
        let d = delta(
            false,
            r#"{"done":true,"prompt_eval_count":0,"eval_count":3}"#,
        );
        assert_eq!(d.timings.unwrap().prefill_tok_s, None);
        let p = Prompt {
            text: "hi".into(),
            messages: None,
            tokens: None,
            max_tokens: 9,
            ignore_eos: false,
            ..Prompt::default()
        };
        let b = Ollama { chat: true }.body("m", &p);
        assert_eq!(b["messages"][0]["content"], "hi");
        assert_eq!(b["options"]["num_predict"], 9);
        assert_eq!(Ollama { chat: false }.body("m", &p)["prompt"], "hi");
    }
}

//! llama.cpp's native server API: `POST /completion` with `stream: true`.
//!
//! Each SSE event is `{"content": "…", "stop": false, …}`; the last has
//! `"stop": true`, the counts `tokens_evaluated` / `tokens_predicted`, the
//! reason (`stop_type`: `eos`, `limit`, `word`) and the server's own
//! `timings` (`prompt_n`, `prompt_ms`, `prompt_per_second`, `predicted_n`,
//! `predicted_ms`, `predicted_per_second`). No `[DONE]` follows.

use super::{rate, Backend, Delta, Event, Prompt, ReportedUsage};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;
use tokenpace_core::record::ServerTimings;

/// `POST /completion`, streamed.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlamaCpp;

#[derive(Deserialize)]
struct EventJson<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(default)]
    stop: bool,
    #[serde(borrow, default)]
    stop_type: Option<Cow<'a, str>>,
    #[serde(default)]
    tokens_evaluated: Option<u32>,
    #[serde(default)]
    tokens_predicted: Option<u32>,
    #[serde(default)]
    timings: Option<Timings>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    /// Not sent by llama.cpp; the simulator adds it to match its truth.
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Timings {
    #[serde(default)]
    prompt_n: Option<f64>,
    #[serde(default)]
    prompt_ms: Option<f64>,
    #[serde(default)]
    prompt_per_second: Option<f64>,
    #[serde(default)]
    predicted_n: Option<f64>,
    #[serde(default)]
    predicted_ms: Option<f64>,
    #[serde(default)]
    predicted_per_second: Option<f64>,
}

impl Backend for LlamaCpp {
    fn id(&self) -> &'static str {
        "llamacpp"
    }

    fn path(&self) -> &'static str {
        "/completion"
    }

    fn body(&self, _model: &str, prompt: &Prompt) -> serde_json::Value {
        json!({
            "prompt": prompt.text,
            "n_predict": prompt.max_tokens,
            "stream": true,
            "ignore_eos": prompt.ignore_eos,
        })
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        let e: EventJson<'_> = serde_json::from_slice(data.trim_ascii())
            .map_err(|err| format!("malformed event ({err})"))?;
        let mut delta = Delta {
            id: e.id,
            answer: e.content.unwrap_or_default(),
            error: e
                .error
                .map(|v| match v.get("message").and_then(|m| m.as_str()) {
                    Some(m) => m.to_string(),
                    None => v.to_string(),
                }),
            ..Delta::default()
        };
        if e.stop {
            delta.finish_reason = Some(match e.stop_type.as_deref() {
                Some("limit") => "length".into(),
                Some(other) => Cow::Owned(other.to_string()),
                None => "stop".into(),
            });
            let t = e.timings;
            let (pn, pn_t) = (
                e.tokens_evaluated,
                t.as_ref().and_then(|t| t.prompt_n).map(|n| n as u32),
            );
            delta.usage = Some(ReportedUsage {
                prompt_tokens: pn.or(pn_t),
                completion_tokens: e
                    .tokens_predicted
                    .or_else(|| t.as_ref().and_then(|t| t.predicted_n).map(|n| n as u32)),
                reasoning_tokens: None,
                cached_tokens: None,
            });
            delta.timings = t.map(|t| ServerTimings {
                prefill_tok_s: t
                    .prompt_per_second
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .or_else(|| rate(t.prompt_n, t.prompt_ms.map(|ms| ms / 1e3))),
                decode_tok_s: t
                    .predicted_per_second
                    .filter(|v| v.is_finite() && *v > 0.0)
                    .or_else(|| rate(t.predicted_n, t.predicted_ms.map(|ms| ms / 1e3))),
            });
        }
        Ok(Event::Delta(delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(s: &str) -> Delta<'_> {
        match LlamaCpp.parse_event(s.as_bytes()).unwrap() {
            Event::Delta(d) => d,
            Event::Done => panic!(),
        }
    }

    #[test]
    fn reads_tokens_and_the_final_timings() {
        let d = delta(r#"{"content":"你好","stop":false,"id_slot":0,"tokens":[1]}"#);
        assert_eq!((d.answer.as_ref(), d.finish_reason), ("你好", None));
        let last = r#"{"content":"","stop":true,"stop_type":"limit","tokens_evaluated":12,"tokens_predicted":8,
            "timings":{"prompt_n":12,"prompt_ms":24.0,"prompt_per_token_ms":2.0,"prompt_per_second":500.0,
                       "predicted_n":8,"predicted_ms":160.0,"predicted_per_token_ms":20.0,"predicted_per_second":50.0}}"#;
        let d = delta(last);
        assert_eq!(d.finish_reason.as_deref(), Some("length"));
        assert_eq!(d.usage.unwrap().prompt_tokens, Some(12));
        assert_eq!(d.usage.unwrap().completion_tokens, Some(8));
        let t = d.timings.unwrap();
        assert_eq!((t.prefill_tok_s, t.decode_tok_s), (Some(500.0), Some(50.0)));
        // Rates from counts and durations when the rate itself is missing.
        let d = delta(r#"{"stop":true,"timings":{"prompt_n":10,"prompt_ms":5}}"#);
        assert_eq!(d.timings.unwrap().prefill_tok_s, Some(2000.0));
        assert_eq!(d.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn errors_and_garbage() {
        let d =
            delta(r#"{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}"#);
        assert_eq!(d.error.as_deref(), Some("slot unavailable"));
        assert!(LlamaCpp.parse_event(b"{\"content\":").is_err());
        // Zero or non-finite figures are not rates.
        let d =
            delta(r#"{"stop":true,"timings":{"prompt_n":0,"prompt_ms":0,"prompt_per_second":0}}"#);
        assert_eq!(d.timings.unwrap().prefill_tok_s, None);
        let b = LlamaCpp.body(
            "m",
            &Prompt {
                text: "hi".into(),
                messages: None,
                tokens: None,
                max_tokens: 7,
                ignore_eos: true,
                ..Prompt::default()
            },
        );
        assert_eq!(
            (b["n_predict"].as_u64(), b["stream"].as_bool()),
            (Some(7), Some(true))
        );
    }
}

//! Text Generation Inference's native API: `POST /generate_stream`.
//!
//! Each SSE event is `{"index": n, "token": {"id", "text", "logprob",
//! "special"}, "generated_text": null, "details": null}`; the last carries
//! the last token as well, `generated_text` (the whole answer) and, with
//! `details: true`, `details.finish_reason` and `details.generated_tokens`.
//! Special tokens (end of sequence) carry no visible text. Errors arrive as
//! `{"error": "…", "error_type": "…"}`. TGI reports no timings in the stream.

use super::{Backend, Delta, Event, Prompt, ReportedUsage};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;

/// `POST /generate_stream`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tgi;

#[derive(Deserialize)]
struct EventJson<'a> {
    #[serde(borrow, default)]
    token: Option<Token<'a>>,
    #[serde(borrow, default)]
    generated_text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    details: Option<Details<'a>>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    /// Not sent by TGI; the simulator adds it to match its truth.
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Token<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
struct Details<'a> {
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    generated_tokens: Option<u32>,
}

impl Backend for Tgi {
    fn id(&self) -> &'static str {
        "tgi"
    }

    fn path(&self) -> &'static str {
        "/generate_stream"
    }

    fn body(&self, _model: &str, prompt: &Prompt) -> serde_json::Value {
        json!({
            "inputs": prompt.text,
            "parameters": {"max_new_tokens": prompt.max_tokens, "details": true},
        })
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        let e: EventJson<'_> = serde_json::from_slice(data.trim_ascii())
            .map_err(|err| format!("malformed event ({err})"))?;
        let mut delta = Delta {
            id: e.id,
            error: e.error.map(|v| match v.as_str() {
                Some(m) => m.to_string(),
                None => v.to_string(),
            }),
            ..Delta::default()
        };
        if let Some(t) = e.token.filter(|t| !t.special) {
            delta.answer = t.text.unwrap_or_default();
        }
        let generated = e.details.as_ref().and_then(|d| d.generated_tokens);
        if let Some(d) = e.details {
            delta.finish_reason = d.finish_reason;
        }
        if e.generated_text.is_some() {
            delta.finish_reason.get_or_insert(Cow::Borrowed("stop"));
            delta.usage = Some(ReportedUsage {
                prompt_tokens: None,
                completion_tokens: generated,
                reasoning_tokens: None,
                cached_tokens: None,
            });
        }
        Ok(Event::Delta(delta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(s: &str) -> Delta<'_> {
        match Tgi.parse_event(s.as_bytes()).unwrap() {
            Event::Delta(d) => d,
            Event::Done => panic!(),
        }
    }

    #[test]
    fn tokens_then_the_last_event_with_details() {
        let d = delta(
            r#"{"index":1,"token":{"id":3,"text":" deep","logprob":-0.3,"special":false},"generated_text":null,"details":null}"#,
        );
        assert_eq!((d.answer.as_ref(), d.finish_reason), (" deep", None));
        let d = delta(
            r#"{"index":8,"token":{"id":9,"text":"学","logprob":-0.1,"special":false},"generated_text":"… 学","details":{"finish_reason":"length","generated_tokens":8,"seed":null}}"#,
        );
        assert_eq!(d.answer, "学");
        assert_eq!(d.finish_reason.as_deref(), Some("length"));
        assert_eq!(d.usage.unwrap().completion_tokens, Some(8));
        // An end-of-sequence token is not text.
        let d = delta(
            r#"{"token":{"id":2,"text":"</s>","special":true},"generated_text":"x","details":null}"#,
        );
        assert_eq!(
            (d.answer.as_ref(), d.finish_reason.as_deref()),
            ("", Some("stop"))
        );
    }

    #[test]
    fn errors_and_garbage() {
        let d = delta(r#"{"error":"Request failed during generation","error_type":"generation"}"#);
        assert_eq!(d.error.as_deref(), Some("Request failed during generation"));
        assert!(Tgi.parse_event(b"{\"token\":").is_err());
        let b = Tgi.body(
            "m",
            &Prompt {
                text: "hi".into(),
                messages: None,
                tokens: None,
                max_tokens: 5,
                ignore_eos: true,
                ..Prompt::default()
            },
        );
        assert_eq!(b["parameters"]["max_new_tokens"], 5);
    }
}

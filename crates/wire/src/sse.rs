//! Response bodies in the OpenAI shapes: server-sent events of a stream,
//! or one whole body. Written by hand in a fixed field order (`id`,
//! `object`, `created`, `model`, `choices`) like OpenAI's own, so a
//! byte-level record of a response is stable. The APIs whose events name
//! their type ([`Endpoint::typed_events`]) have their own shapes:
//! Anthropic Messages (`anthropic`) and OpenAI Responses (`responses`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

use crate::error::ApiError;
use crate::request::Endpoint;

mod anthropic;
mod chunk;
mod dialect;
mod hosted;
mod responses;
mod tools;
mod usage;
mod whole;

pub use chunk::{ChunkExtras, StreamTail};
pub use dialect::{Dialect, DialectShape, ModelCard, UsageStyle, VLLM_FINGERPRINT};

/// What a response said, for the APIs whose closing events repeat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputItem<'a> {
    /// The answer text.
    Text(&'a str),
    /// One tool call.
    ToolCall {
        /// The call's id.
        id: &'a str,
        /// The function called.
        name: &'a str,
        /// Its JSON arguments as streamed.
        arguments: &'a str,
    },
}

/// Token counts reported in `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Estimated prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Their sum.
    pub total_tokens: u64,
    /// Prompt tokens served from the prefix cache, when the server has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Of the generated tokens, those the answer reasoned with, for the
    /// dialects that reason ([`DialectShape::reasoning`]); written by the usage
    /// styles that report it.
    #[serde(skip)]
    pub reasoning_tokens: Option<u64>,
}

/// `usage.prompt_tokens_details`, as OpenAI, vLLM and SGLang report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PromptTokensDetails {
    /// Prompt tokens taken from the prefix cache.
    pub cached_tokens: u64,
    /// Prompt tokens this request's prefill wrote to the prefix cache,
    /// where the server knows them. Not serialized here: the APIs and
    /// dialects that report it write it themselves (Anthropic's
    /// `cache_creation_input_tokens`, vLLM's `created_cache_tokens`).
    #[serde(skip)]
    pub created_cache_tokens: Option<u64>,
}

impl Usage {
    /// Usage for `prompt` and `completion` tokens.
    pub fn new(prompt: u64, completion: u64) -> Self {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt + completion,
            prompt_tokens_details: None,
            reasoning_tokens: None,
        }
    }

    /// The same usage, `reasoning` of its generated tokens reasoning.
    pub fn with_reasoning(self, reasoning: u64) -> Self {
        Usage {
            reasoning_tokens: Some(reasoning),
            ..self
        }
    }

    /// The same usage, reporting `cached` prompt tokens from a prefix cache.
    pub fn with_cached(self, cached: u64) -> Self {
        Usage {
            prompt_tokens_details: Some(PromptTokensDetails {
                cached_tokens: cached,
                created_cache_tokens: None,
            }),
            ..self
        }
    }

    /// The same usage, reporting `created` prompt tokens written to the
    /// prefix cache (kept only beside cached tokens: see
    /// [`Usage::with_cached`]).
    pub fn with_created(self, created: u64) -> Self {
        Usage {
            prompt_tokens_details: self.prompt_tokens_details.map(|d| PromptTokensDetails {
                created_cache_tokens: Some(created),
                ..d
            }),
            ..self
        }
    }
}

/// Builds the events of one response.
#[derive(Debug, Clone)]
pub struct Events {
    endpoint: Endpoint,
    id: String,
    model: String,
    /// `"id":…,"object":…,"created":…,"model":…` ready to splice in.
    prefix: String,
    crlf: bool,
    created: u64,
    /// Whose bytes these are.
    dialect: Dialect,
    /// The Responses API numbers its events.
    sequence: Arc<AtomicU64>,
    /// The reasoning the answer opened with ([`Events::with_reasoning`]).
    reasoning: Option<String>,
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Pads `json` (an object not yet closed) with a filler field to at least
/// `pad_to` bytes, for tests of events that large.
pub(crate) fn pad(json: &mut String, pad_to: Option<usize>) {
    if let Some(n) = pad_to {
        let fill = n.saturating_sub(json.len());
        json.push_str(",\"tokenpace_padding\":\"");
        json.extend(std::iter::repeat_n(' ', fill));
        json.push('"');
    }
}

impl Events {
    /// Events for response `id` of `model`, created at unix second `created`.
    pub fn new(endpoint: Endpoint, id: &str, model: &str, created: u64, crlf: bool) -> Self {
        let object = match endpoint {
            Endpoint::Chat => "chat.completion.chunk",
            Endpoint::Completions => "text_completion",
            _ => "native",
        };
        let prefix = format!(
            "\"id\":{},\"object\":\"{object}\",\"created\":{created},\"model\":{}",
            quote(id),
            quote(model)
        );
        Events {
            endpoint,
            id: id.to_string(),
            model: model.to_string(),
            prefix,
            crlf,
            created,
            dialect: Dialect::Tokenpace,
            sequence: Arc::new(AtomicU64::new(0)),
            reasoning: None,
        }
    }

    /// The same events written in `dialect`.
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Whose bytes these are.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn shape(&self) -> &'static DialectShape {
        self.dialect.shape()
    }

    /// The events that open a response before its first token (the id and
    /// the prompt's usage), for the APIs that have them.
    pub fn start(&self, usage: Usage) -> Option<Vec<u8>> {
        match self.endpoint {
            Endpoint::Messages => Some(self.messages_start(usage)),
            Endpoint::Responses => Some(self.responses_start()),
            _ => None,
        }
    }

    /// The end of a stream of an API with typed events, which repeat the
    /// `output`; the other APIs end with [`Events::finish`].
    pub fn finish_output(
        &self,
        finish_reason: &str,
        usage: Usage,
        output: OutputItem<'_>,
    ) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => self.messages_finish(finish_reason, usage),
            Endpoint::Responses => self.responses_finish(finish_reason, usage, output),
            _ => self.finish(finish_reason, Some(usage)),
        }
    }

    /// An event of a typed API: its `event:` line and its JSON, whose
    /// `type` comes first and `fields` after; padded like
    /// [`Events::content`].
    fn typed(&self, kind: &str, fields: &str, pad_to: Option<usize>) -> Vec<u8> {
        let nl = self.nl();
        let mut json = format!("{{\"type\":\"{kind}\"");
        if !fields.is_empty() {
            json.push(',');
            json.push_str(fields);
        }
        if self.endpoint == Endpoint::Responses {
            let n = self.sequence.fetch_add(1, Ordering::Relaxed);
            json.push_str(&format!(",\"sequence_number\":{n}"));
        }
        pad(&mut json, pad_to);
        format!("event: {kind}{nl}data: {json}}}{nl}{nl}").into_bytes()
    }

    /// The API these events are for.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    fn nl(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// The last event of a native API's stream.
    pub fn native_end(&self, full_text: &str, end: &crate::native::NativeEnd<'_>) -> Vec<u8> {
        crate::native::end(
            self.endpoint,
            &self.id,
            &self.model,
            full_text,
            end,
            self.nl(),
        )
    }

    fn event(&self, data: &str) -> Vec<u8> {
        let nl = if self.crlf { "\r\n" } else { "\n" };
        format!("data: {data}{nl}{nl}").into_bytes()
    }

    /// A content chunk; the first chat chunk also carries the role.
    /// `pad_to` pads the JSON with a filler field to at least that many bytes.
    pub fn content(&self, text: &str, first: bool, pad_to: Option<usize>) -> Vec<u8> {
        if self.endpoint.is_native() {
            return crate::native::content(self.endpoint, &self.id, &self.model, text, self.nl());
        }
        match self.endpoint {
            Endpoint::Messages => return self.messages_content(text, first, pad_to),
            Endpoint::Responses => return self.responses_content(text, first, pad_to),
            _ => {}
        }
        let text = quote(text);
        let choice = match self.endpoint {
            Endpoint::Chat if first => {
                format!("{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":{text}}},\"logprobs\":null,\"finish_reason\":null}}")
            }
            Endpoint::Chat => {
                format!("{{\"index\":0,\"delta\":{{\"content\":{text}}},\"logprobs\":null,\"finish_reason\":null}}")
            }
            _ => {
                format!("{{\"index\":0,\"text\":{text},\"logprobs\":null,\"finish_reason\":null}}")
            }
        };
        let mut json = format!("{{{},\"choices\":[{choice}]", self.prefix);
        pad(&mut json, pad_to);
        json.push('}');
        self.event(&json)
    }

    /// The end of the stream: a finish chunk, usage if asked, and `[DONE]`.
    pub fn finish(&self, finish_reason: &str, usage: Option<Usage>) -> Vec<u8> {
        self.finish_with(finish_reason, usage, "")
    }

    /// [`Events::finish`] with `extra` (`,"name":value…`) spliced into the
    /// finish chunk after `choices`, for a server's own fields such as
    /// llama.cpp's `timings`.
    pub fn finish_with(&self, finish_reason: &str, usage: Option<Usage>, extra: &str) -> Vec<u8> {
        let choice = match self.endpoint {
            Endpoint::Chat => format!("{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"{finish_reason}\"}}"),
            _ => format!("{{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"{finish_reason}\"}}"),
        };
        let mut out = self.event(&format!(
            "{{{},\"choices\":[{choice}]{extra}}}",
            self.prefix
        ));
        if let Some(u) = usage {
            let usage = self.usage_json(&u);
            out.extend(self.event(&format!(
                "{{{},\"choices\":[],\"usage\":{usage}}}",
                self.prefix
            )));
        }
        out.extend(self.event("[DONE]"));
        out
    }

    /// An error after the stream has started (OpenAI's in-stream shape:
    /// the error object as an event), then `[DONE]`.
    pub fn error(&self, e: &ApiError) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => return self.messages_error(e),
            Endpoint::Responses => return self.responses_error(e),
            _ => {}
        }
        let mut out = self.event(&String::from_utf8_lossy(&e.body()));
        out.extend(self.event("[DONE]"));
        out
    }

    /// An SSE comment, which clients must ignore.
    pub fn keep_alive(&self) -> Vec<u8> {
        if self.endpoint == Endpoint::Messages {
            // Anthropic keeps streams alive with ping events.
            return self.typed("ping", "", None);
        }
        if self.crlf {
            b": keep-alive\r\n\r\n".to_vec()
        } else {
            b": keep-alive\n\n".to_vec()
        }
    }

    /// An event whose JSON stops in the middle.
    pub fn malformed(&self) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => return self.messages_malformed(),
            Endpoint::Responses => return self.responses_malformed(),
            _ => {}
        }
        self.event(&format!(
            "{{{},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":",
            self.prefix
        ))
    }

    /// A whole non-streamed response body.
    pub fn body(&self, text: &str, finish_reason: &str, usage: Usage) -> Vec<u8> {
        self.body_with(text, finish_reason, usage, "")
    }

    /// [`Events::body`] with `extra` (`,"name":value…`) spliced in after
    /// `usage` (the OpenAI shapes only: an Anthropic message and a
    /// Responses object have their own, without it).
    pub fn body_with(&self, text: &str, finish_reason: &str, usage: Usage, extra: &str) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => {
                return self.messages_body(OutputItem::Text(text), finish_reason, usage)
            }
            Endpoint::Responses => {
                return self.responses_body(OutputItem::Text(text), finish_reason, usage)
            }
            _ => {}
        }
        let text = quote(text);
        let (prefix, choice) = match self.endpoint {
            Endpoint::Chat => (
                self.prefix.replace("chat.completion.chunk", "chat.completion"),
                format!("{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{text}}},\"logprobs\":null,\"finish_reason\":\"{finish_reason}\"}}"),
            ),
            _ => (
                self.prefix.clone(),
                format!("{{\"index\":0,\"text\":{text},\"logprobs\":null,\"finish_reason\":\"{finish_reason}\"}}"),
            ),
        };
        let usage = self.usage_json(&usage);
        format!("{{{prefix},\"choices\":[{choice}],\"usage\":{usage}{extra}}}").into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn data(event: &[u8]) -> Value {
        let s = std::str::from_utf8(event).unwrap();
        serde_json::from_str(s.strip_prefix("data: ").unwrap().trim_end()).unwrap()
    }

    #[test]
    fn chat_events_are_valid_openai_json() {
        let e = Events::new(Endpoint::Chat, "chatcmpl-1", "m\"x", 5, false);
        let first = data(&e.content("你\n\"好", true, None));
        assert_eq!(first["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(first["choices"][0]["delta"]["content"], "你\n\"好");
        assert_eq!(first["model"], "m\"x");
        let later = data(&e.content("a", false, None));
        assert!(later["choices"][0]["delta"].get("role").is_none());
        let end = String::from_utf8(e.finish("stop", Some(Usage::new(3, 4)))).unwrap();
        let events: Vec<&str> = end.split("\n\n").filter(|s| !s.is_empty()).collect();
        assert_eq!(events.len(), 3);
        assert_eq!(events[2], "data: [DONE]");
        let usage = data(events[1].as_bytes());
        assert_eq!(usage["usage"]["total_tokens"], 7);
        assert_eq!(usage["choices"], Value::Array(vec![]));
        let body: Value =
            serde_json::from_slice(&e.body("hi", "length", Usage::new(1, 1))).unwrap();
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["choices"][0]["message"]["content"], "hi");
    }

    #[test]
    fn padding_crlf_and_malformed() {
        let e = Events::new(Endpoint::Completions, "cmpl-1", "m", 5, true);
        let long = e.content("x", false, Some(65_536));
        assert!(long.len() > 65_536);
        assert!(long.ends_with(b"}\r\n\r\n"));
        assert_eq!(data(&long)["choices"][0]["text"], "x");
        let bad = e.malformed();
        let s = std::str::from_utf8(&bad).unwrap();
        assert!(
            serde_json::from_str::<Value>(s.strip_prefix("data: ").unwrap().trim_end()).is_err()
        );
    }

    #[test]
    fn extra_fields_and_in_stream_errors() {
        let e = Events::new(Endpoint::Chat, "c", "m", 5, false);
        let end = e.finish_with("stop", None, ",\"timings\":{\"prompt_n\":3}");
        let first = end.split(|b| *b == b'\n').next().unwrap();
        let first = data(first);
        assert_eq!(first["timings"]["prompt_n"], 3);
        assert_eq!(first["choices"][0]["finish_reason"], "stop");
        assert_eq!(
            e.finish("stop", None),
            e.finish_with("stop", None, ""),
            "no extra, no change"
        );
        let body: Value =
            serde_json::from_slice(&e.body_with("x", "stop", Usage::new(1, 2), ",\"t\":1"))
                .unwrap();
        assert_eq!(
            (body["usage"]["total_tokens"].clone(), body["t"].clone()),
            (3.into(), 1.into())
        );
        let err = ApiError::new(500, "server_error", "generation_failed", "boom");
        let text = String::from_utf8(e.error(&err)).unwrap();
        let (event, done) = text.split_once("\n\n").unwrap();
        assert_eq!(data(event.as_bytes())["error"]["message"], "boom");
        assert_eq!(done, "data: [DONE]\n\n");
    }
}

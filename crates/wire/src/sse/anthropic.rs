//! Anthropic Messages events: `message_start` (with a `ping`) before the
//! first token, one content block (text or `tool_use`) streamed as
//! `content_block_delta`s, then `content_block_stop`, `message_delta`
//! (stop reason, output tokens) and `message_stop`.
//!
//! Usage as Anthropic defines it: `input_tokens` excludes both the prompt
//! tokens read from the cache (`cache_read_input_tokens`) and those written
//! to it (`cache_creation_input_tokens`), so the prompt is the three added.
//! tokenpace's dialect puts that split in `message_start` and, with a
//! cache, again in `message_delta` (the counts there are cumulative);
//! vLLM's `message_start` has the whole prompt and no cache fields, its
//! `message_delta` always the split.

use super::{quote, Events, Usage};
use crate::error::ApiError;

/// OpenAI's finish reasons in Anthropic's words.
pub(super) fn stop_reason(finish_reason: &str) -> &str {
    match finish_reason {
        "stop" => "end_turn",
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        other => other,
    }
}

/// A prompt as Anthropic counts it: `input_tokens` excludes the tokens
/// read from the cache and those written to it.
pub(super) struct Split {
    input: u64,
    /// Read from the cache (`None` without one).
    read: Option<u64>,
    /// Written to the cache (`None` where the server does not say).
    created: Option<u64>,
}

impl Split {
    pub(super) fn of(usage: &Usage) -> Split {
        let details = usage.prompt_tokens_details;
        let read = details.map(|d| d.cached_tokens);
        let created = details.and_then(|d| d.created_cache_tokens);
        let cached = read.unwrap_or(0).saturating_add(created.unwrap_or(0));
        Split {
            input: usage.prompt_tokens.saturating_sub(cached),
            read,
            created,
        }
    }

    /// `"input_tokens":…` and the cache fields known, in Anthropic's order.
    pub(super) fn anthropic(&self) -> String {
        let mut out = format!("\"input_tokens\":{}", self.input);
        if let Some(c) = self.created {
            out.push_str(&format!(",\"cache_creation_input_tokens\":{c}"));
        }
        if let Some(r) = self.read {
            out.push_str(&format!(",\"cache_read_input_tokens\":{r}"));
        }
        out
    }
}

impl Events {
    pub(super) fn messages_start(&self, usage: Usage) -> Vec<u8> {
        let split = if self.shape().messages_start_whole_prompt {
            format!("\"input_tokens\":{}", usage.prompt_tokens)
        } else {
            Split::of(&usage).anthropic()
        };
        let message = format!(
            "\"message\":{{\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":{},\
             \"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{{split},\"output_tokens\":0}}}}",
            quote(&self.id),
            quote(&self.model)
        );
        let mut out = self.typed("message_start", &message, None);
        if self.shape().messages_ping {
            out.extend(self.typed("ping", "", None));
        }
        out
    }

    pub(super) fn messages_content(
        &self,
        text: &str,
        first: bool,
        pad_to: Option<usize>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let index = self.text_index();
        if first {
            if self.reasoning.is_some() {
                out = self.thinking_end();
            }
            let block =
                format!("\"index\":{index},\"content_block\":{{\"type\":\"text\",\"text\":\"\"}}");
            out.extend(self.typed("content_block_start", &block, None));
        }
        let delta = format!(
            "\"index\":{index},\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}",
            quote(text)
        );
        out.extend(self.typed("content_block_delta", &delta, pad_to));
        out
    }

    pub(super) fn messages_tool_start(&self, id: &str, name: &str) -> Vec<u8> {
        let block = format!(
            "\"index\":0,\"content_block\":{{\"type\":\"tool_use\",\"id\":{},\"name\":{},\"input\":{{}}}}",
            quote(id),
            quote(name)
        );
        self.typed("content_block_start", &block, None)
    }

    pub(super) fn messages_tool_arguments(&self, piece: &str) -> Vec<u8> {
        let delta = format!(
            "\"index\":0,\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":{}}}",
            quote(piece)
        );
        self.typed("content_block_delta", &delta, None)
    }

    pub(super) fn messages_finish(&self, finish_reason: &str, usage: Usage) -> Vec<u8> {
        let stop = format!("\"index\":{}", self.text_index());
        let mut out = self.typed("content_block_stop", &stop, None);
        let n = usage.completion_tokens;
        let split = Split::of(&usage);
        let usage = if self.shape().messages_delta_always_split {
            format!(
                "\"input_tokens\":{},\"output_tokens\":{n},\"cache_creation_input_tokens\":{},\"cache_read_input_tokens\":{}",
                split.input,
                split.created.unwrap_or(0),
                split.read.unwrap_or(0)
            )
        } else if split.read.is_some() {
            format!("{},\"output_tokens\":{n}", split.anthropic())
        } else {
            format!("\"output_tokens\":{n}")
        };
        let delta = format!(
            "\"delta\":{{\"stop_reason\":{},\"stop_sequence\":null}},\"usage\":{{{usage}}}",
            quote(stop_reason(finish_reason))
        );
        out.extend(self.typed("message_delta", &delta, None));
        out.extend(self.typed("message_stop", "", None));
        out
    }

    pub(super) fn messages_error(&self, e: &ApiError) -> Vec<u8> {
        let kind = match e.status {
            400 => "invalid_request_error",
            401 => "authentication_error",
            429 => "rate_limit_error",
            503 | 529 => "overloaded_error",
            _ => "api_error",
        };
        let error = format!(
            "\"error\":{{\"type\":\"{kind}\",\"message\":{}}}",
            quote(&e.message)
        );
        self.typed("error", &error, None)
    }

    pub(super) fn messages_malformed(&self) -> Vec<u8> {
        let nl = self.nl();
        format!(
            "event: content_block_delta{nl}data: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{nl}{nl}"
        )
        .into_bytes()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::OutputItem;
    use super::*;
    use crate::request::Endpoint;
    use serde_json::Value;

    /// The events of `bytes`: (`event:` name, data).
    pub(crate) fn events(bytes: &[u8]) -> Vec<(String, Value)> {
        let text = std::str::from_utf8(bytes).unwrap().replace("\r\n", "\n");
        text.split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|e| {
                let (head, data) = e.split_once('\n').unwrap();
                let name = head.strip_prefix("event: ").unwrap().to_string();
                let data: Value =
                    serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
                assert_eq!(
                    data["type"],
                    name.as_str(),
                    "the event line names the data's type"
                );
                (name, data)
            })
            .collect()
    }

    #[test]
    fn a_text_stream_has_anthropic_shapes() {
        let e = Events::new(Endpoint::Messages, "msg_1", "m\"x", 5, false);
        let start = events(&e.start(Usage::new(30, 0).with_cached(16)).unwrap());
        assert_eq!(start[0].0, "message_start");
        assert_eq!(start[0].1["message"]["id"], "msg_1");
        assert_eq!(start[0].1["message"]["model"], "m\"x");
        assert_eq!(start[0].1["message"]["usage"]["input_tokens"], 14);
        assert_eq!(
            start[0].1["message"]["usage"]["cache_read_input_tokens"],
            16
        );
        assert_eq!(start[1].0, "ping");
        let first = events(&e.content("你\n\"好", true, None));
        assert_eq!(first[0].1["content_block"]["type"], "text");
        assert_eq!(
            first[1].1["delta"],
            serde_json::json!({"type":"text_delta","text":"你\n\"好"})
        );
        assert_eq!(events(&e.content("a", false, None)).len(), 1);
        let end = events(&e.finish_output("length", Usage::new(30, 7), OutputItem::Text("")));
        let names: Vec<&str> = end.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["content_block_stop", "message_delta", "message_stop"]
        );
        assert_eq!(end[1].1["delta"]["stop_reason"], "max_tokens");
        assert_eq!(end[1].1["usage"]["output_tokens"], 7);
        assert_eq!(events(&e.keep_alive())[0].0, "ping");
        let long = e.content("x", false, Some(65_536));
        assert!(long.len() > 65_536);
        assert_eq!(events(&long)[0].1["delta"]["text"], "x");
    }

    #[test]
    fn tool_calls_errors_crlf_and_malformed() {
        let e = Events::new(Endpoint::Messages, "msg_1", "m", 5, true);
        let start = events(&e.tool_call_start("toolu_1", "search"));
        assert_eq!(start[0].1["content_block"]["type"], "tool_use");
        assert_eq!(start[0].1["content_block"]["name"], "search");
        let piece = events(&e.tool_call_arguments("{\"q\":"));
        assert_eq!(piece[0].1["delta"]["partial_json"], "{\"q\":");
        let end = events(&e.finish_output("tool_calls", Usage::new(1, 2), OutputItem::Text("")));
        assert_eq!(end[1].1["delta"]["stop_reason"], "tool_use");
        let err = events(&e.error(&ApiError::new(503, "server_error", "x", "busy")));
        assert_eq!(
            err[0].1["error"],
            serde_json::json!({"type":"overloaded_error","message":"busy"})
        );
        assert!(e.content("a", false, None).ends_with(b"}\r\n\r\n"));
        let bad = e.malformed();
        let data = std::str::from_utf8(&bad)
            .unwrap()
            .split("data: ")
            .nth(1)
            .unwrap()
            .to_string();
        assert!(serde_json::from_str::<Value>(data.trim_end()).is_err());
    }

    #[test]
    fn input_tokens_exclude_tokens_read_from_and_written_to_the_cache() {
        let created = Usage::new(420, 8).with_cached(0).with_created(384);
        let read = Usage::new(451, 8).with_cached(384).with_created(0);
        let e = Events::new(Endpoint::Messages, "msg_1", "m", 5, false);
        let start = events(
            &e.start(Usage::new(420, 0).with_cached(0).with_created(384))
                .unwrap(),
        );
        assert_eq!(
            start[0].1["message"]["usage"],
            serde_json::json!({"input_tokens":36,"cache_creation_input_tokens":384,"cache_read_input_tokens":0,"output_tokens":0})
        );
        let end = events(&e.finish_output("length", created, OutputItem::Text("")));
        assert_eq!(
            end[1].1["usage"],
            serde_json::json!({"input_tokens":36,"cache_creation_input_tokens":384,"cache_read_input_tokens":0,"output_tokens":8})
        );
        // vLLM: the whole prompt at the start, no ping, the split at the end.
        let v = e.clone().with_dialect(super::super::Dialect::Vllm);
        let start = events(
            &v.start(Usage::new(451, 0).with_cached(384).with_created(0))
                .unwrap(),
        );
        assert_eq!(start.len(), 1);
        assert_eq!(
            start[0].1["message"]["usage"],
            serde_json::json!({"input_tokens":451,"output_tokens":0})
        );
        let end = events(&v.finish_output("length", read, OutputItem::Text("")));
        assert_eq!(
            end[1].1["usage"],
            serde_json::json!({"input_tokens":67,"output_tokens":8,"cache_creation_input_tokens":0,"cache_read_input_tokens":384})
        );
        let end = events(&v.finish_output("stop", Usage::new(37, 16), OutputItem::Text("")));
        assert_eq!(end[1].1["usage"]["input_tokens"], 37);
        assert_eq!(end[1].1["usage"]["cache_read_input_tokens"], 0);
    }
}

//! A tool call in OpenAI's chat shapes: streamed as a first delta naming
//! the function, then pieces of its JSON arguments; or one whole message.

use super::{quote, ChunkExtras, Events, OutputItem, Usage};
use crate::request::Endpoint;

impl Events {
    /// The first event of a streamed tool call: the role, the call's `id`
    /// and function `name`, and empty arguments (in a dialect with a
    /// role-only chunk, that chunk and then the call's id and name).
    pub fn tool_call_start(&self, id: &str, name: &str) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => return self.messages_tool_start(id, name),
            Endpoint::Responses => return self.responses_tool_start(id, name),
            _ => {}
        }
        let mut out = self.role_chunk(None);
        out.extend(self.openai_event(&self.tool_start_delta(id, name), &ChunkExtras::default()));
        out
    }

    /// A later event carrying the next piece of the call's arguments.
    pub fn tool_call_arguments(&self, piece: &str) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Messages => return self.messages_tool_arguments(piece),
            Endpoint::Responses => return self.responses_tool_arguments(piece),
            _ => {}
        }
        self.openai_event(&self.tool_arguments_delta(piece), &ChunkExtras::default())
    }

    /// The delta naming the call.
    pub(super) fn tool_start_delta(&self, id: &str, name: &str) -> String {
        let (id, name) = (quote(id), quote(name));
        if self.shape().tool_delta_content_null {
            format!(
                "\"delta\":{{\"content\":null,\"tool_calls\":[{{\"id\":{id},\"type\":\"function\",\"index\":0,\"function\":{{\"name\":{name}}}}}]}}"
            )
        } else {
            format!(
                "\"delta\":{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{{\"index\":0,\"id\":{id},\"type\":\"function\",\"function\":{{\"name\":{name},\"arguments\":\"\"}}}}]}}"
            )
        }
    }

    /// The delta carrying a piece of the arguments.
    pub(super) fn tool_arguments_delta(&self, piece: &str) -> String {
        let null = if self.shape().tool_delta_content_null {
            "\"content\":null,"
        } else {
            ""
        };
        format!(
            "\"delta\":{{{null}\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":{}}}}}]}}",
            quote(piece)
        )
    }

    /// A whole non-streamed chat response whose message is one tool call
    /// (`content` null, `finish_reason` `tool_calls`); for Anthropic
    /// Messages a `tool_use` block, for Responses a `function_call` item.
    pub fn tool_call_body(&self, id: &str, name: &str, arguments: &str, usage: Usage) -> Vec<u8> {
        let call = OutputItem::ToolCall {
            id,
            name,
            arguments,
        };
        match self.endpoint {
            Endpoint::Messages => return self.messages_body(call, "tool_calls", usage),
            Endpoint::Responses => return self.responses_body(call, "tool_calls", usage),
            _ => {}
        }
        let prefix = self
            .prefix
            .replace("chat.completion.chunk", "chat.completion");
        let usage = self.usage_json(&usage);
        format!(
            "{{{prefix},\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":null,\
             \"tool_calls\":[{{\"id\":{},\"type\":\"function\",\"function\":{{\"name\":{},\"arguments\":{}}}}}]}},\
             \"logprobs\":null,\"finish_reason\":\"tool_calls\"}}],\"usage\":{usage}}}",
            quote(id),
            quote(name),
            quote(arguments)
        )
        .into_bytes()
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
    fn tool_call_events_have_openai_shapes() {
        let e = Events::new(Endpoint::Chat, "chatcmpl-1", "m", 5, false);
        let first = data(&e.tool_call_start("call_1", "search"));
        let delta = &first["choices"][0]["delta"];
        assert_eq!(delta["role"], "assistant");
        assert_eq!(delta["content"], Value::Null);
        let call = &delta["tool_calls"][0];
        assert_eq!(
            (&call["index"], &call["id"], &call["type"]),
            (&0.into(), &"call_1".into(), &"function".into())
        );
        assert_eq!(call["function"]["name"], "search");
        assert_eq!(call["function"]["arguments"], "");
        let pieces = ["{\"query\":\"", "a\\\"b", "\"}"];
        let args: String = pieces
            .iter()
            .map(|p| data(&e.tool_call_arguments(p)))
            .map(|v| {
                let call = &v["choices"][0]["delta"]["tool_calls"][0];
                assert_eq!(call["index"], 0);
                assert!(call.get("id").is_none());
                call["function"]["arguments"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(args, pieces.concat());
        let body: Value = serde_json::from_slice(&e.tool_call_body(
            "call_1",
            "search",
            "{\"query\":\"x\"}",
            Usage::new(1, 2).with_cached(0),
        ))
        .unwrap();
        assert_eq!(body["object"], "chat.completion");
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        let call = &choice["message"]["tool_calls"][0];
        assert_eq!(call["function"]["arguments"], "{\"query\":\"x\"}");
        assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    }
}

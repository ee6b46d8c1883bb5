//! Whole (non-streamed) bodies of the APIs with typed events: Anthropic's
//! `message` object and OpenAI's `response` object, the objects their
//! streams build up event by event, with one output (text, or one tool
//! call) and usage. [`Events::body`] and [`Events::tool_call_body`] answer
//! with them on those APIs.

use super::anthropic::{stop_reason, Split};
use super::{quote, Events, OutputItem, Usage};

impl Events {
    /// A whole Anthropic message. Its `input_tokens` exclude the prompt
    /// tokens read from the cache and those written to it, as Anthropic
    /// counts them.
    pub(super) fn messages_body(
        &self,
        output: OutputItem<'_>,
        finish_reason: &str,
        usage: Usage,
    ) -> Vec<u8> {
        let block = match output {
            OutputItem::Text(text) => format!("{{\"type\":\"text\",\"text\":{}}}", quote(text)),
            OutputItem::ToolCall {
                id,
                name,
                arguments,
            } => {
                // `input` is an object: a server sends arguments that are not
                // one as text, never as a call.
                let input = serde_json::from_str::<serde_json::Value>(arguments)
                    .ok()
                    .filter(serde_json::Value::is_object)
                    .map_or_else(|| "{}".to_owned(), |v| v.to_string());
                format!(
                    "{{\"type\":\"tool_use\",\"id\":{},\"name\":{},\"input\":{input}}}",
                    quote(id),
                    quote(name)
                )
            }
        };
        let counts = Split::of(&usage).anthropic();
        format!(
            "{{\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"model\":{},\"content\":[{block}],\
             \"stop_reason\":{},\"stop_sequence\":null,\"usage\":{{{counts},\"output_tokens\":{}}}}}",
            quote(&self.id),
            quote(&self.model),
            quote(stop_reason(finish_reason)),
            usage.completion_tokens
        )
        .into_bytes()
    }

    /// A whole Responses object: `completed`, or `incomplete` when
    /// `max_output_tokens` cut it short. Its output item's id is the
    /// streamed one's (`msg_…` or `fc_…` after the response id's `resp_`).
    pub(super) fn responses_body(
        &self,
        output: OutputItem<'_>,
        finish_reason: &str,
        usage: Usage,
    ) -> Vec<u8> {
        let tail = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        let item = match output {
            OutputItem::Text(text) => format!(
                "{{\"id\":{},\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\
                 \"content\":[{{\"type\":\"output_text\",\"text\":{},\"annotations\":[]}}]}}",
                quote(&format!("msg_{tail}")),
                quote(text)
            ),
            OutputItem::ToolCall {
                id,
                name,
                arguments,
            } => format!(
                "{{\"id\":{},\"type\":\"function_call\",\"status\":\"completed\",\"call_id\":{},\
                 \"name\":{},\"arguments\":{}}}",
                quote(&format!("fc_{tail}")),
                quote(id),
                quote(name),
                quote(arguments)
            ),
        };
        let (status, details) = match finish_reason {
            "length" => (
                "incomplete",
                ",\"incomplete_details\":{\"reason\":\"max_output_tokens\"}",
            ),
            _ => ("completed", ""),
        };
        let cached = usage.prompt_tokens_details.map_or(0, |d| d.cached_tokens);
        format!(
            "{{\"id\":{},\"object\":\"response\",\"created_at\":{},\"status\":\"{status}\",\"model\":{},\
             \"output\":[{item}]{details},\"usage\":{{\"input_tokens\":{},\"input_tokens_details\":\
             {{\"cached_tokens\":{cached}}},\"output_tokens\":{},\"output_tokens_details\":\
             {{\"reasoning_tokens\":0}},\"total_tokens\":{}}}}}",
            quote(&self.id),
            self.created,
            quote(&self.model),
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Endpoint;
    use serde_json::Value;

    fn json(bytes: Vec<u8>) -> Value {
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn whole_messages_in_anthropic_shapes() {
        let e = Events::new(Endpoint::Messages, "msg_1", "m", 5, false);
        let v = json(e.body("你好", "length", Usage::new(30, 7).with_cached(16)));
        assert_eq!(
            (v["id"].as_str(), v["type"].as_str()),
            (Some("msg_1"), Some("message"))
        );
        assert_eq!(
            v["content"][0],
            serde_json::json!({"type": "text", "text": "你好"})
        );
        assert_eq!(v["stop_reason"], "max_tokens");
        assert_eq!(v["usage"]["input_tokens"], 14);
        assert_eq!(v["usage"]["cache_read_input_tokens"], 16);
        assert_eq!(v["usage"]["output_tokens"], 7);
        let v = json(e.tool_call_body("toolu_1", "search", "{\"q\": 1}", Usage::new(3, 2)));
        assert_eq!(v["content"][0]["input"]["q"], 1);
        assert_eq!(v["stop_reason"], "tool_use");
        assert!(v["usage"].get("cache_read_input_tokens").is_none());
    }

    #[test]
    fn whole_responses_in_openai_shapes() {
        let e = Events::new(Endpoint::Responses, "resp_7", "m", 5, false);
        let v = json(e.body("hi", "stop", Usage::new(3, 2).with_cached(1)));
        assert_eq!(
            (v["object"].as_str(), v["status"].as_str()),
            (Some("response"), Some("completed"))
        );
        assert_eq!(v["output"][0]["id"], "msg_7");
        assert_eq!(v["output"][0]["content"][0]["text"], "hi");
        assert_eq!(v["usage"]["input_tokens_details"]["cached_tokens"], 1);
        assert_eq!(v["usage"]["total_tokens"], 5);
        let v = json(e.body("h", "length", Usage::new(3, 1)));
        assert_eq!(v["status"], "incomplete");
        assert_eq!(v["incomplete_details"]["reason"], "max_output_tokens");
        let v = json(e.tool_call_body("call_1", "search", "{}", Usage::new(3, 1)));
        assert_eq!(v["output"][0]["type"], "function_call");
        assert_eq!(v["output"][0]["call_id"], "call_1");
        assert_eq!(v["output"][0]["arguments"], "{}");
    }
}

//! OpenAI Responses events: `response.created` and `response.in_progress`
//! before the first token; one output item (a message streamed as
//! `response.output_text.delta`s, or a function call streamed as
//! `response.function_call_arguments.delta`s); its `.done` events repeating
//! the whole output; then `response.completed` with usage
//! (`response.incomplete` when `max_output_tokens` cut it short; vLLM's
//! dialect ends that with `response.completed` whose status is
//! `incomplete`). Every event carries its `sequence_number`.

use super::{quote, Events, OutputItem, Usage};
use crate::error::ApiError;

impl Events {
    /// The id of the response's one output item.
    fn item_id(&self, prefix: &str) -> String {
        let tail = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{tail}")
    }

    /// The response object, with `status`, `output` items, why it is
    /// incomplete (`incomplete_details`, written `null` only by dialects
    /// that always have it) and `usage` (its JSON).
    fn response(
        &self,
        status: &str,
        output: &str,
        incomplete: Option<&str>,
        usage: &str,
    ) -> String {
        let vllm = self.shape().responses_vllm_fields;
        let details = match incomplete {
            Some(reason) => format!(",\"incomplete_details\":{{\"reason\":{}}}", quote(reason)),
            None if vllm.is_some() => ",\"incomplete_details\":null".to_owned(),
            None => String::new(),
        };
        format!(
            "\"response\":{{\"id\":{},\"object\":\"response\",\"created_at\":{},\"status\":\"{status}\",\"model\":{},\"output\":[{output}]{details},\"usage\":{usage}{}}}",
            quote(&self.id),
            self.created,
            quote(&self.model),
            vllm.unwrap_or("")
        )
    }

    /// A usage object in the dialect's words.
    fn responses_usage(&self, usage: &Usage) -> String {
        let details = usage.prompt_tokens_details;
        let cached = details.map_or(0, |d| d.cached_tokens);
        let (input_extra, output_extra) = match self.shape().responses_vllm_fields {
            Some(_) => (
                format!(
                    ",\"cache_write_tokens\":{},\"input_tokens_per_turn\":[],\"cached_tokens_per_turn\":[]",
                    details.and_then(|d| d.created_cache_tokens).unwrap_or(0)
                ),
                ",\"tool_output_tokens\":0,\"output_tokens_per_turn\":[],\"tool_output_tokens_per_turn\":[]",
            ),
            None => (String::new(), ""),
        };
        format!(
            "{{\"input_tokens\":{},\"input_tokens_details\":{{\"cached_tokens\":{cached}{input_extra}}},\"output_tokens\":{},\
             \"output_tokens_details\":{{\"reasoning_tokens\":{}{output_extra}}},\"total_tokens\":{}}}",
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.reasoning_tokens.unwrap_or(0),
            usage.total_tokens
        )
    }

    pub(super) fn responses_start(&self) -> Vec<u8> {
        let response = self.response("in_progress", "", None, "null");
        let mut out = self.typed("response.created", &response, None);
        out.extend(self.typed("response.in_progress", &response, None));
        out
    }

    fn message_item(&self, status: &str, content: &str) -> String {
        let phase = match self.shape().responses_vllm_fields {
            Some(_) => ",\"phase\":null",
            None => "",
        };
        format!(
            "{{\"id\":{},\"type\":\"message\",\"status\":\"{status}\",\"role\":\"assistant\",\"content\":[{content}]{phase}}}",
            quote(&self.item_id("msg"))
        )
    }

    /// A text part; `done` when it repeats the whole text.
    fn text_part(&self, text: &str, done: bool) -> String {
        let logprobs = match (self.shape().responses_vllm_fields, done) {
            (None, _) => "",
            (Some(_), false) => ",\"logprobs\":[]",
            (Some(_), true) => ",\"logprobs\":null",
        };
        format!(
            "{{\"type\":\"output_text\",\"text\":{},\"annotations\":[]{logprobs}}}",
            quote(text)
        )
    }

    fn call_item(&self, status: &str, id: &str, name: &str, arguments: &str) -> String {
        format!(
            "{{\"id\":{},\"type\":\"function_call\",\"status\":\"{status}\",\"call_id\":{},\"name\":{},\"arguments\":{}}}",
            quote(&self.item_id("fc")),
            quote(id),
            quote(name),
            quote(arguments)
        )
    }

    pub(super) fn responses_content(
        &self,
        text: &str,
        first: bool,
        pad_to: Option<usize>,
    ) -> Vec<u8> {
        let item_id = quote(&self.item_id("msg"));
        let index = self.text_index();
        let mut out = Vec::new();
        if first {
            out = self.summary_end();
            let item = format!(
                "\"output_index\":{index},\"item\":{}",
                self.message_item("in_progress", "")
            );
            out.extend(self.typed("response.output_item.added", &item, None));
            let part = format!(
                "\"item_id\":{item_id},\"output_index\":{index},\"content_index\":0,\"part\":{}",
                self.text_part("", false)
            );
            out.extend(self.typed("response.content_part.added", &part, None));
        }
        let delta = format!(
            "\"item_id\":{item_id},\"output_index\":{index},\"content_index\":0,\"delta\":{},\"logprobs\":[]",
            quote(text)
        );
        out.extend(self.typed("response.output_text.delta", &delta, pad_to));
        out
    }

    pub(super) fn responses_tool_start(&self, id: &str, name: &str) -> Vec<u8> {
        let item = format!(
            "\"output_index\":0,\"item\":{}",
            self.call_item("in_progress", id, name, "")
        );
        self.typed("response.output_item.added", &item, None)
    }

    pub(super) fn responses_tool_arguments(&self, piece: &str) -> Vec<u8> {
        let delta = format!(
            "\"item_id\":{},\"output_index\":0,\"delta\":{}",
            quote(&self.item_id("fc")),
            quote(piece)
        );
        self.typed("response.function_call_arguments.delta", &delta, None)
    }

    pub(super) fn responses_finish(
        &self,
        finish_reason: &str,
        usage: Usage,
        output: OutputItem<'_>,
    ) -> Vec<u8> {
        let (mut out, item) = match output {
            OutputItem::Text(text) => {
                let item_id = quote(&self.item_id("msg"));
                let index = self.text_index();
                let mut out = self.typed(
                    "response.output_text.done",
                    &format!("\"item_id\":{item_id},\"output_index\":{index},\"content_index\":0,\"text\":{},\"logprobs\":[]", quote(text)),
                    None,
                );
                out.extend(self.typed(
                    "response.content_part.done",
                    &format!(
                        "\"item_id\":{item_id},\"output_index\":{index},\"content_index\":0,\"part\":{}",
                        self.text_part(text, true)
                    ),
                    None,
                ));
                (
                    out,
                    self.message_item("completed", &self.text_part(text, true)),
                )
            }
            OutputItem::ToolCall {
                id,
                name,
                arguments,
            } => {
                let out = self.typed(
                    "response.function_call_arguments.done",
                    &format!(
                        "\"item_id\":{},\"output_index\":0,\"arguments\":{}",
                        quote(&self.item_id("fc")),
                        quote(arguments)
                    ),
                    None,
                );
                (out, self.call_item("completed", id, name, arguments))
            }
        };
        let index = match output {
            OutputItem::Text(_) => self.text_index(),
            OutputItem::ToolCall { .. } => 0,
        };
        out.extend(self.typed(
            "response.output_item.done",
            &format!("\"output_index\":{index},\"item\":{item}"),
            None,
        ));
        // The response's output: the reasoning item first, when there is one.
        let item = match (output, self.summary_item()) {
            (OutputItem::Text(_), Some(reasoning)) => format!("{reasoning},{item}"),
            _ => item,
        };
        let usage = self.responses_usage(&usage);
        let completes = self.shape().responses_length_completes;
        let (kind, status, incomplete) = match finish_reason {
            "length" if completes => (
                "response.completed",
                "incomplete",
                Some("max_output_tokens"),
            ),
            "length" => (
                "response.incomplete",
                "incomplete",
                Some("max_output_tokens"),
            ),
            _ => ("response.completed", "completed", None),
        };
        let response = self.response(status, &item, incomplete, &usage);
        out.extend(self.typed(kind, &response, None));
        out
    }

    /// The reasoning item, with its summary when it is complete
    /// (`summary_item` is `None` without reasoning).
    fn reasoning_item(&self, status: &str, summary: &str) -> String {
        format!(
            "{{\"id\":{},\"type\":\"reasoning\",\"status\":\"{status}\",\"summary\":[{summary}]}}",
            quote(&self.item_id("rs"))
        )
    }

    fn summary_part(text: &str) -> String {
        format!("{{\"type\":\"summary_text\",\"text\":{}}}", quote(text))
    }

    fn summary_item(&self) -> Option<String> {
        let text = self.reasoning.as_deref()?;
        Some(self.reasoning_item("completed", &Self::summary_part(text)))
    }

    /// A piece of the reasoning's summary, the item and its part opened
    /// before the first (output item 0).
    pub(super) fn summary_chunk(&self, text: &str, c: &super::ChunkExtras<'_>) -> Vec<u8> {
        let item_id = quote(&self.item_id("rs"));
        let mut out = Vec::new();
        if c.first {
            let item = format!(
                "\"output_index\":0,\"item\":{}",
                self.reasoning_item("in_progress", "")
            );
            out = self.typed("response.output_item.added", &item, None);
            let part = format!(
                "\"item_id\":{item_id},\"output_index\":0,\"summary_index\":0,\"part\":{}",
                Self::summary_part("")
            );
            out.extend(self.typed("response.reasoning_summary_part.added", &part, None));
        }
        let delta = format!(
            "\"item_id\":{item_id},\"output_index\":0,\"summary_index\":0,\"delta\":{}",
            quote(text)
        );
        out.extend(self.typed("response.reasoning_summary_text.delta", &delta, c.pad_to));
        out
    }

    /// The `.done` events of the reasoning's summary and item, before the
    /// answer's item opens; nothing without reasoning.
    fn summary_end(&self) -> Vec<u8> {
        let (Some(text), Some(item)) = (self.reasoning.as_deref(), self.summary_item()) else {
            return Vec::new();
        };
        let item_id = quote(&self.item_id("rs"));
        let at = format!("\"item_id\":{item_id},\"output_index\":0,\"summary_index\":0");
        let mut out = self.typed(
            "response.reasoning_summary_text.done",
            &format!("{at},\"text\":{}", quote(text)),
            None,
        );
        out.extend(self.typed(
            "response.reasoning_summary_part.done",
            &format!("{at},\"part\":{}", Self::summary_part(text)),
            None,
        ));
        out.extend(self.typed(
            "response.output_item.done",
            &format!("\"output_index\":0,\"item\":{item}"),
            None,
        ));
        out
    }

    pub(super) fn responses_error(&self, e: &ApiError) -> Vec<u8> {
        let param = e.param.map_or("null".into(), quote);
        let fields = format!(
            "\"code\":{},\"message\":{},\"param\":{param}",
            quote(e.code),
            quote(&e.message)
        );
        self.typed("error", &fields, None)
    }

    pub(super) fn responses_malformed(&self) -> Vec<u8> {
        let nl = self.nl();
        format!(
            "event: response.output_text.delta{nl}data: {{\"type\":\"response.output_text.delta\",\"item_id\":{},\"output_index\":0,\"delta\":{nl}{nl}",
            quote(&self.item_id("msg"))
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::anthropic::tests::events;
    use super::*;
    use crate::request::Endpoint;

    #[test]
    fn a_text_stream_has_responses_shapes_and_numbered_events() {
        let e = Events::new(Endpoint::Responses, "resp_tp1", "m", 5, false);
        let mut all = events(&e.start(Usage::new(3, 0)).unwrap());
        assert_eq!(all[0].1["response"]["id"], "resp_tp1");
        assert_eq!(all[1].0, "response.in_progress");
        let first = events(&e.content("你好", true, None));
        assert_eq!(first[0].1["item"]["id"], "msg_tp1");
        assert_eq!(first[2].1["delta"], "你好");
        all.extend(first);
        all.extend(events(&e.content("!", false, None)));
        let end = events(&e.finish_output(
            "stop",
            Usage::new(3, 2).with_cached(1),
            super::OutputItem::Text("你好!"),
        ));
        assert_eq!(end[0].1["text"], "你好!");
        let done = &end.last().unwrap().1;
        assert_eq!(end.last().unwrap().0, "response.completed");
        assert_eq!(done["response"]["status"], "completed");
        assert_eq!(done["response"]["output"][0]["content"][0]["text"], "你好!");
        assert_eq!(
            done["response"]["usage"]["input_tokens_details"]["cached_tokens"],
            1
        );
        assert_eq!(done["response"]["usage"]["total_tokens"], 5);
        all.extend(end);
        let numbers: Vec<u64> = all
            .iter()
            .map(|(_, d)| d["sequence_number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..all.len() as u64).collect::<Vec<_>>());
        let cut =
            events(&e.finish_output("length", Usage::new(3, 2), super::OutputItem::Text("x")));
        assert_eq!(
            cut.last().unwrap().1["response"]["incomplete_details"]["reason"],
            "max_output_tokens"
        );
    }

    #[test]
    fn function_calls_and_errors() {
        let e = Events::new(Endpoint::Responses, "resp_1", "m", 5, false);
        let start = events(&e.tool_call_start("call_1", "search"));
        assert_eq!(start[0].1["item"]["type"], "function_call");
        assert_eq!(start[0].1["item"]["call_id"], "call_1");
        assert_eq!(events(&e.tool_call_arguments("{}"))[0].1["delta"], "{}");
        let output = super::OutputItem::ToolCall {
            id: "call_1",
            name: "search",
            arguments: "{}",
        };
        let end = events(&e.finish_output("tool_calls", Usage::new(1, 1), output));
        assert_eq!(end[0].1["arguments"], "{}");
        assert_eq!(
            end.last().unwrap().1["response"]["output"][0]["name"],
            "search"
        );
        let err = events(&e.error(&ApiError::invalid("bad", Some("input"))));
        assert_eq!(
            (err[0].1["message"].as_str(), err[0].1["param"].as_str()),
            (Some("bad"), Some("input"))
        );
        assert!(e.keep_alive().starts_with(b":"));
    }

    #[test]
    fn vllm_completes_a_cut_answer_with_its_fields() {
        let e = Events::new(Endpoint::Responses, "resp_1", "m", 5, false)
            .with_dialect(super::super::Dialect::Vllm);
        let start = events(&e.start(Usage::new(3, 0)).unwrap());
        let response = &start[0].1["response"];
        assert_eq!(response["incomplete_details"], serde_json::Value::Null);
        assert_eq!(response["truncation"], "disabled");
        let first = events(&e.content("a", true, None));
        assert!(first[0].1["item"].get("phase").is_some());
        assert_eq!(first[1].1["part"]["logprobs"], serde_json::json!([]));
        let usage = Usage::new(451, 8).with_cached(384).with_created(0);
        let end = events(&e.finish_output("length", usage, super::OutputItem::Text("a")));
        let (kind, last) = end.last().unwrap();
        assert_eq!(kind, "response.completed");
        assert_eq!(last["response"]["status"], "incomplete");
        assert_eq!(
            last["response"]["incomplete_details"]["reason"],
            "max_output_tokens"
        );
        assert_eq!(
            last["response"]["usage"]["input_tokens_details"],
            serde_json::json!({"cached_tokens":384,"cache_write_tokens":0,"input_tokens_per_turn":[],"cached_tokens_per_turn":[]})
        );
        assert_eq!(
            last["response"]["usage"]["output_tokens_details"]["output_tokens_per_turn"],
            serde_json::json!([])
        );
        assert_eq!(end[1].1["part"]["logprobs"], serde_json::Value::Null);
        let done = events(&e.finish_output("stop", Usage::new(3, 1), super::OutputItem::Text("a")));
        assert_eq!(done.last().unwrap().1["response"]["status"], "completed");
    }
}

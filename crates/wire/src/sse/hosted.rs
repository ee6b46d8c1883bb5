//! What hosted providers add to OpenAI's and Anthropic's streams
//! ([`super::Dialect`]'s provider dialects): reasoning before the answer
//! (DeepSeek's `reasoning_content`, Anthropic's `thinking` block and its
//! `signature_delta`), comment lines (OpenRouter's), and usage inside
//! `x_groq` (Groq's). The shapes come from the providers' own published
//! streams: tests/data/dialects/README.md lists them.

use super::{quote, ChunkExtras, Events, Usage};
use crate::request::Endpoint;

impl Events {
    /// Whether an answer in this dialect and API opens with reasoning
    /// ([`super::DialectShape::reasoning`]).
    pub fn reasons(&self) -> bool {
        self.shape().reasoning == Some(self.endpoint)
    }

    /// The same events for an answer that opened with `reasoning` (none:
    /// it did not): its text then follows in a block (Messages) or an
    /// output item (Responses) of its own, without a second role (chat).
    pub fn with_reasoning(mut self, reasoning: Option<String>) -> Self {
        self.reasoning = reasoning;
        self
    }

    /// The Messages content block, or the Responses output item, the
    /// answer's text is in.
    pub(super) fn text_index(&self) -> u32 {
        u32::from(self.reasoning.is_some())
    }

    /// A chunk of reasoning, `first` the reasoning's first: chat's
    /// `delta.reasoning_content` (the role on the first, `content` null
    /// as DeepSeek writes it), Messages' `thinking_delta` in block 0.
    pub fn reasoning_chunk(&self, text: &str, c: &ChunkExtras<'_>) -> Vec<u8> {
        if self.endpoint == Endpoint::Responses {
            return self.summary_chunk(text, c);
        }
        let text = quote(text);
        if self.endpoint == Endpoint::Messages {
            let mut out = Vec::new();
            if c.first {
                out = self.typed(
                    "content_block_start",
                    "\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}",
                    None,
                );
            }
            let delta = format!(
                "\"index\":0,\"delta\":{{\"type\":\"thinking_delta\",\"thinking\":{text}}}"
            );
            out.extend(self.typed("content_block_delta", &delta, c.pad_to));
            return out;
        }
        let role = if c.first {
            "\"role\":\"assistant\","
        } else {
            ""
        };
        let delta = format!("\"delta\":{{{role}\"content\":null,\"reasoning_content\":{text}}}");
        self.openai_event(&delta, c)
    }

    /// The end of Messages' thinking block: its signature (opaque, never
    /// text) and its `content_block_stop`.
    pub(super) fn thinking_end(&self) -> Vec<u8> {
        let signature: String = self.id.bytes().map(|b| format!("{b:02x}")).collect();
        let delta = format!(
            "\"index\":0,\"delta\":{{\"type\":\"signature_delta\",\"signature\":\"EqQB{signature}\"}}"
        );
        let mut out = self.typed("content_block_delta", &delta, None);
        out.extend(self.typed("content_block_stop", "\"index\":0", None));
        out
    }

    /// The dialect's comment line, if it sends one
    /// ([`super::DialectShape::comment`]): no event, which clients ignore.
    pub fn comment(&self) -> Option<Vec<u8>> {
        let text = self.shape().comment?;
        let nl = self.nl();
        Some(format!(": {text}{nl}{nl}").into_bytes())
    }

    /// Whether the stream reports usage even when the client did not ask
    /// (Groq's `x_groq.usage`).
    pub fn usage_unasked(&self) -> bool {
        self.endpoint == Endpoint::Chat && self.shape().x_groq_usage
    }

    /// Groq's `x_groq` of the finish chunk: the request's id and its usage
    /// (the counts; Groq's queue and compute times are not modelled).
    pub(super) fn x_groq(&self, u: &Usage) -> String {
        format!(
            ",\"x_groq\":{{\"id\":{},\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}}}}",
            quote(&format!("req_{}", self.id)),
            u.prompt_tokens,
            u.completion_tokens,
            u.total_tokens
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::anthropic::tests::events;
    use super::super::{Dialect, OutputItem, StreamTail};
    use super::*;
    use serde_json::{json, Value};

    fn data(bytes: &[u8]) -> Vec<Value> {
        std::str::from_utf8(bytes)
            .unwrap()
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn deepseek_reasons_in_reasoning_content_before_the_answer() {
        let e = Events::new(Endpoint::Chat, "c", "deepseek-reasoner", 1, false)
            .with_dialect(Dialect::Deepseek);
        assert!(e.reasons());
        let e = e.with_reasoning(Some("Hmm".into()));
        let first = data(&e.reasoning_chunk(
            "Hmm",
            &ChunkExtras {
                first: true,
                ..ChunkExtras::default()
            },
        ));
        assert_eq!(
            first[0]["choices"][0]["delta"],
            json!({"role":"assistant","content":null,"reasoning_content":"Hmm"})
        );
        // The answer's first chunk has no second role.
        let text = data(&e.text_chunk(
            "9.8",
            &ChunkExtras {
                first: true,
                ..ChunkExtras::default()
            },
        ));
        assert_eq!(text[0]["choices"][0]["delta"], json!({"content":"9.8"}));
        let plain =
            Events::new(Endpoint::Completions, "c", "m", 1, false).with_dialect(Dialect::Deepseek);
        assert!(!plain.reasons(), "completions have no reasoning field");
        let messages =
            Events::new(Endpoint::Messages, "c", "m", 1, false).with_dialect(Dialect::Deepseek);
        assert!(!messages.reasons(), "DeepSeek's reasoning is chat's");
    }

    #[test]
    fn anthropic_thinks_in_block_0_signs_it_and_answers_in_block_1() {
        let e = Events::new(Endpoint::Messages, "msg_1", "m", 1, false)
            .with_dialect(Dialect::Anthropic)
            .with_reasoning(Some("Hmm".into()));
        let first = ChunkExtras {
            first: true,
            ..ChunkExtras::default()
        };
        let think = events(&e.reasoning_chunk("Let me", &first));
        assert_eq!(think[0].1["content_block"]["type"], "thinking");
        assert_eq!(
            think[1].1["delta"],
            json!({"type":"thinking_delta","thinking":"Let me"})
        );
        let text = events(&e.text_chunk("27", &first));
        let kinds: Vec<&str> = text
            .iter()
            .map(|(_, d)| {
                d["delta"]["type"]
                    .as_str()
                    .unwrap_or(d["type"].as_str().unwrap())
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "signature_delta",
                "content_block_stop",
                "content_block_start",
                "text_delta"
            ]
        );
        assert_eq!(text[3].1["index"], 1);
        let end = events(&e.finish_output("stop", Usage::new(3, 4), OutputItem::Text("")));
        assert_eq!(end[0].1, json!({"type":"content_block_stop","index":1}));
    }

    #[test]
    fn openai_reasoning_summarises_in_output_item_0_and_answers_in_1() {
        let e = Events::new(Endpoint::Responses, "resp_1", "o4-mini", 1, false)
            .with_dialect(Dialect::OpenaiReasoning);
        assert!(e.reasons());
        let e = e.with_reasoning(Some("Let me think.".into()));
        let first = ChunkExtras {
            first: true,
            ..ChunkExtras::default()
        };
        let names =
            |bytes: &[u8]| -> Vec<String> { events(bytes).into_iter().map(|(n, _)| n).collect() };
        let think = e.reasoning_chunk("Let me", &first);
        assert_eq!(
            names(&think),
            [
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta"
            ]
        );
        assert_eq!(events(&think)[2].1["delta"], "Let me");
        let text = events(&e.text_chunk("Hi", &first));
        assert_eq!(text[0].0, "response.reasoning_summary_text.done");
        assert_eq!(text[0].1["text"], "Let me think.");
        assert_eq!(text[2].1["item"]["summary"][0]["text"], "Let me think.");
        let delta = text.last().unwrap();
        assert_eq!(
            (delta.0.as_str(), delta.1["output_index"].clone()),
            ("response.output_text.delta", json!(1))
        );
        let usage = Usage::new(8, 6).with_reasoning(3);
        let end = events(&e.finish_output("stop", usage, OutputItem::Text("Hi")));
        let done = &end.last().unwrap().1["response"];
        assert_eq!(done["output"][0]["type"], "reasoning");
        assert_eq!(done["output"][1]["type"], "message");
        assert_eq!(
            done["usage"]["output_tokens_details"]["reasoning_tokens"],
            3
        );
    }

    #[test]
    fn openrouter_comments_and_groq_usage_in_x_groq() {
        let o = Events::new(Endpoint::Chat, "c", "m", 1, false).with_dialect(Dialect::Openrouter);
        assert_eq!(o.comment().unwrap(), b": OPENROUTER PROCESSING\n\n");
        assert_eq!(
            Events::new(Endpoint::Chat, "c", "m", 1, false).comment(),
            None
        );
        let g = Events::new(Endpoint::Chat, "c", "m", 1, false).with_dialect(Dialect::Groq);
        assert!(g.usage_unasked());
        let end = data(&g.stream_end(&StreamTail {
            finish_reason: Some("stop"),
            usage: Some(Usage::new(18, 439)),
            running: None,
        }));
        assert_eq!(end.len(), 1, "no usage chunk: {end:?}");
        assert_eq!(end[0]["choices"][0]["finish_reason"], "stop");
        assert_eq!(end[0]["x_groq"]["usage"]["completion_tokens"], 439);
        assert!(end[0].get("usage").is_none());
    }
}

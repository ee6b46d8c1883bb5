//! The OpenAI-compatible API (vLLM, SGLang, TGI, llama.cpp, Ollama, …):
//! `/v1/chat/completions` and `/v1/completions`, streamed.

use super::{Backend, Delta, Event, Prompt, ReportedUsage, ToolCallDelta};
use serde::Deserialize;
use serde_json::json;
use std::borrow::Cow;

/// Chat completions.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiChat;

/// Text completions.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiCompletions;

fn common(model: &str, prompt: &Prompt) -> serde_json::Value {
    let mut body = json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": prompt.max_tokens,
    });
    if prompt.per_chunk_usage {
        body["stream_options"]["continuous_usage_stats"] = json!(true);
    }
    if prompt.ignore_eos {
        // vLLM, SGLang and the simulator honour it; others ignore it, and a
        // run warns when answers stop short of max_tokens.
        body["ignore_eos"] = json!(true);
    }
    body
}

impl Backend for OpenAiChat {
    fn id(&self) -> &'static str {
        "openai-chat"
    }

    fn path(&self) -> &'static str {
        "/v1/chat/completions"
    }

    fn streams_tool_calls(&self) -> bool {
        true
    }

    fn body(&self, model: &str, prompt: &Prompt) -> serde_json::Value {
        let mut body = common(model, prompt);
        body["messages"] = match &prompt.messages {
            Some(m) => m.clone(),
            None => json!([{"role": "user", "content": prompt.text}]),
        };
        if let Some(tools) = &prompt.tools {
            body["tools"] = tools.clone();
            if let Some(choice) = prompt.tool_choice {
                body["tool_choice"] = json!(choice);
            }
        }
        body
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        parse(data)
    }
}

impl Backend for OpenAiCompletions {
    fn id(&self) -> &'static str {
        "openai-completions"
    }

    fn path(&self) -> &'static str {
        "/v1/completions"
    }

    fn body(&self, model: &str, prompt: &Prompt) -> serde_json::Value {
        let mut body = common(model, prompt);
        body["prompt"] = json!(prompt.text);
        body
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        parse(data)
    }
}

#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    /// Servers send one choice (n = 1); more would be ignored, not merged.
    #[serde(borrow, default, deserialize_with = "first_choice")]
    choices: Option<Choice<'a>>,
    #[serde(default)]
    usage: Option<UsageJson>,
    /// Groq's extension: its final chunk has the usage here, not at the
    /// top level (groq-python's `XGroq`).
    #[serde(default)]
    x_groq: Option<XGroq>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct XGroq {
    #[serde(default)]
    usage: Option<UsageJson>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    delta: Option<DeltaJson<'a>>,
    /// Completions put the text on the choice itself.
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct DeltaJson<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    /// DeepSeek and vLLM's reasoning parsers.
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    /// OpenRouter, newer vLLM and others.
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallJson<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallJson<'a> {
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<FunctionJson<'a>>,
}

#[derive(Deserialize)]
struct FunctionJson<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UsageJson {
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    completion_tokens: Option<u32>,
    #[serde(default)]
    completion_tokens_details: Option<Details>,
    #[serde(default)]
    prompt_tokens_details: Option<Details>,
}

#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    reasoning_tokens: Option<u32>,
    #[serde(default)]
    cached_tokens: Option<u32>,
}

fn parse(data: &[u8]) -> Result<Event<'_>, String> {
    let trimmed = data.trim_ascii();
    if trimmed == b"[DONE]" {
        return Ok(Event::Done);
    }
    let chunk: Chunk<'_> =
        serde_json::from_slice(trimmed).map_err(|e| format!("malformed event ({e})"))?;
    let mut delta = Delta {
        id: chunk.id,
        usage: chunk
            .usage
            .or(chunk.x_groq.and_then(|x| x.usage))
            .map(|u| ReportedUsage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                reasoning_tokens: u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
                cached_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
            }),
        error: chunk
            .error
            .map(|e| match e.get("message").and_then(|m| m.as_str()) {
                Some(m) => m.to_string(),
                None => e.to_string(),
            }),
        ..Delta::default()
    };
    if let Some(choice) = chunk.choices {
        delta.finish_reason = choice.finish_reason;
        if let Some(text) = choice.text {
            delta.answer = text;
        }
        if let Some(d) = choice.delta {
            if let Some(c) = d.content {
                delta.answer = c;
            }
            if let Some(r) = d.reasoning_content.or(d.reasoning) {
                delta.reasoning = r;
            }
            for (i, call) in d.tool_calls.into_iter().flatten().enumerate() {
                let (name, arguments) = match call.function {
                    Some(f) => (f.name, f.arguments.unwrap_or_default()),
                    None => (None, Cow::Borrowed("")),
                };
                delta.tool_calls.push(ToolCallDelta {
                    index: call.index.unwrap_or(i as u32),
                    id: call.id,
                    name,
                    arguments,
                });
            }
        }
    }
    Ok(Event::Delta(delta))
}

/// The first element of the `choices` array (null or empty: none), read
/// without collecting the array: one allocation less per streamed event.
fn first_choice<'de, D>(d: D) -> Result<Option<Choice<'de>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Option<Choice<'de>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of choices")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let first = seq.next_element()?;
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    d.deserialize_any(First)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(data: &str) -> Delta<'_> {
        match parse(data.as_bytes()).unwrap() {
            Event::Delta(d) => d,
            Event::Done => panic!("done"),
        }
    }

    #[test]
    fn reads_chat_content_with_escapes() {
        let d = delta(r#"{"choices":[{"index":0,"delta":{"content":"\u4f60\n好"}}]}"#);
        assert_eq!(d.answer, "你\n好");
        assert_eq!(d.reasoning, "");
    }

    #[test]
    fn reads_reasoning_usage_and_finish() {
        let d =
            delta(r#"{"choices":[{"delta":{"reasoning_content":"think"},"finish_reason":null}]}"#);
        assert_eq!(d.reasoning, "think");
        let d = delta(r#"{"choices":[{"delta":{"reasoning":"alt"}}]}"#);
        assert_eq!(d.reasoning, "alt");
        let d = delta(
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"completion_tokens_details":{"reasoning_tokens":5}}}"#,
        );
        assert_eq!(
            d.usage,
            Some(ReportedUsage {
                prompt_tokens: Some(12),
                completion_tokens: Some(34),
                reasoning_tokens: Some(5),
                cached_tokens: None,
            })
        );
        let d = delta(
            r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":8}}}"#,
        );
        assert_eq!(d.usage.unwrap().cached_tokens, Some(8));
        let d = delta(r#"{"choices":[{"text":"","finish_reason":"length"}]}"#);
        assert_eq!(d.finish_reason.as_deref(), Some("length"));
    }

    #[test]
    fn reads_streamed_tool_calls() {
        let d = delta(
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#,
        );
        assert_eq!(d.tool_calls.len(), 1);
        assert_eq!(d.tool_calls[0].id.as_deref(), Some("call_1"));
        assert_eq!(d.tool_calls[0].name.as_deref(), Some("get_weather"));
        let d = delta(
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{\"city\":"}}]}}]}"#,
        );
        assert_eq!(d.tool_calls[0].index, 1);
        assert_eq!(d.tool_calls[0].arguments, "{\"city\":");
        assert_eq!(d.tool_calls[0].name, None);
        // A call without a function object is kept, empty.
        let d = delta(r#"{"choices":[{"delta":{"tool_calls":[{}]}}]}"#);
        assert_eq!(d.tool_calls[0].arguments, "");
    }

    #[test]
    fn the_first_choice_counts_and_no_choice_is_an_empty_delta() {
        let two = r#"{"choices":[{"text":"a","x":[1,{"y":2}]},{"text":"b"}],"usage":null}"#;
        assert_eq!(delta(two).answer, "a");
        for none in [r#"{"choices":[]}"#, r#"{"choices":null}"#, r#"{"id":"x"}"#] {
            let d = delta(none);
            assert_eq!((d.answer.as_ref(), d.finish_reason), ("", None), "{none}");
        }
        assert!(parse(br#"{"choices":{"text":"a"}}"#).is_err());
        assert!(parse(br#"{"choices":[{"text":"a"},]}"#).is_err());
    }

    #[test]
    fn completions_text_and_done() {
        assert_eq!(delta(r#"{"choices":[{"text":"abc"}]}"#).answer, "abc");
        assert_eq!(parse(b" [DONE] ").unwrap(), Event::Done);
    }

    #[test]
    fn errors_inside_the_stream_and_malformed_events() {
        let d = delta(r#"{"error":{"message":"overloaded","type":"server_error"}}"#);
        assert_eq!(d.error.as_deref(), Some("overloaded"));
        let e = parse(b"{\"choices\":[{\"delta\":").unwrap_err();
        assert!(e.starts_with("malformed event"), "{e}");
        // Odd but valid shapes do not fail.
        assert_eq!(delta(r#"{"choices":[{}]}"#).answer, "");
        assert_eq!(delta(r#"{"choices":[{"delta":null}]}"#).answer, "");
        assert_eq!(delta("{}").answer, "");
    }

    #[test]
    fn request_bodies() {
        let p = Prompt {
            text: "hi".into(),
            messages: None,
            tokens: None,
            max_tokens: 64,
            ignore_eos: true,
            ..Prompt::default()
        };
        let b = OpenAiChat.body("m", &p);
        assert_eq!(b["messages"][0]["content"], "hi");
        assert_eq!(b["stream_options"]["include_usage"], true);
        assert_eq!(b["ignore_eos"], true);
        assert_eq!(b["max_tokens"], 64);
        let b = OpenAiCompletions.body(
            "m",
            &Prompt {
                ignore_eos: false,
                ..p
            },
        );
        assert_eq!(b["prompt"], "hi");
        assert!(b.get("ignore_eos").is_none());
    }
}

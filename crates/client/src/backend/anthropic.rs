//! Anthropic's Messages API: `POST /v1/messages`, streamed.
//!
//! Every event names its type in its data (`{"type": …}`), so the SSE
//! `event:` line is not needed: `message_start` (the id, input tokens),
//! `content_block_start` (a tool call's id and name), `content_block_delta`
//! (`text_delta`, `thinking_delta`, `input_json_delta`), `message_delta`
//! (`stop_reason`, output tokens), `message_stop`, `ping` and `error`.
//! Thinking goes to the record's reasoning and tool input to its tool
//! calls, as OpenAI chat's `reasoning_content` and `tool_calls` do, so the
//! first visible answer character means the same on every API.

use super::{content_text, Backend, Delta, Event, Prompt, ReportedUsage, ToolCallDelta};
use serde::Deserialize;
use serde_json::{json, Value};
use std::borrow::Cow;

/// The `anthropic-version` header sent with every request.
pub const VERSION: &str = "2023-06-01";

/// `POST /v1/messages`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

#[derive(Deserialize)]
struct EventJson<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(default)]
    index: Option<u32>,
    #[serde(borrow, default)]
    message: Option<MessageJson<'a>>,
    #[serde(borrow, default)]
    content_block: Option<BlockJson<'a>>,
    #[serde(borrow, default)]
    delta: Option<DeltaJson<'a>>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct MessageJson<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<UsageJson>,
}

#[derive(Deserialize)]
struct BlockJson<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    /// A block may start with text already (servers send it empty).
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DeltaJson<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stop_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct UsageJson {
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
}

impl UsageJson {
    fn usage(self) -> ReportedUsage {
        ReportedUsage {
            // Anthropic's `input_tokens` excludes both the tokens read from
            // the cache and those written to it (vLLM too: 36 + 384 created
            // for a 420-token prompt): the prompt is all three.
            prompt_tokens: self.input_tokens.map(|n| {
                n.saturating_add(self.cache_read_input_tokens.unwrap_or(0))
                    .saturating_add(self.cache_creation_input_tokens.unwrap_or(0))
            }),
            completion_tokens: self.output_tokens,
            reasoning_tokens: None,
            cached_tokens: self.cache_read_input_tokens,
        }
    }
}

/// Anthropic's stop reasons in OpenAI's words, as the other backends report.
fn finish_reason(reason: Cow<'_, str>) -> Cow<'_, str> {
    match reason.as_ref() {
        "end_turn" | "stop_sequence" => Cow::Borrowed("stop"),
        "max_tokens" => Cow::Borrowed("length"),
        "tool_use" => Cow::Borrowed("tool_calls"),
        _ => reason,
    }
}

impl Backend for Anthropic {
    fn id(&self) -> &'static str {
        "anthropic"
    }

    fn path(&self) -> &'static str {
        "/v1/messages"
    }

    fn auth_headers(&self, api_key: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = vec![("anthropic-version", VERSION.to_string())];
        if let Some(key) = api_key {
            headers.push(("x-api-key", key.to_string()));
        }
        headers
    }

    fn streams_tool_calls(&self) -> bool {
        true
    }

    fn body(&self, model: &str, prompt: &Prompt) -> Value {
        let (system, messages) = match &prompt.messages {
            Some(Value::Array(m)) => messages(m),
            _ => (
                Vec::new(),
                vec![json!({"role": "user", "content": prompt.text})],
            ),
        };
        let mut body = json!({
            "model": model,
            "max_tokens": prompt.max_tokens,
            "messages": messages,
            "stream": true,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if prompt.ignore_eos {
            // Not Anthropic's; the simulator and some gateways honour it.
            body["ignore_eos"] = json!(true);
        }
        if let Some(Value::Array(tools)) = &prompt.tools {
            body["tools"] = tools.iter().map(tool).collect();
            if let Some(choice) = prompt.tool_choice {
                body["tool_choice"] = json!({"type": match choice {
                    "required" => "any",
                    other => other,
                }});
            }
        }
        body
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        let e: EventJson<'_> = serde_json::from_slice(data.trim_ascii())
            .map_err(|err| format!("malformed event ({err})"))?;
        let mut delta = Delta::default();
        match e.kind.as_ref() {
            "message_start" => {
                if let Some(m) = e.message {
                    delta.id = m.id;
                    delta.usage = m.usage.map(UsageJson::usage);
                }
            }
            "content_block_start" => match e.content_block {
                Some(b) if b.kind == "tool_use" => delta.tool_calls.push(ToolCallDelta {
                    index: e.index.unwrap_or(0),
                    id: b.id,
                    name: b.name,
                    arguments: Cow::Borrowed(""),
                }),
                Some(b) => {
                    delta.answer = b.text.unwrap_or_default();
                    delta.reasoning = b.thinking.unwrap_or_default();
                }
                None => {}
            },
            "content_block_delta" => {
                let Some(d) = e.delta else {
                    return Ok(Event::Delta(delta));
                };
                match d.kind.as_deref() {
                    Some("text_delta") => delta.answer = d.text.unwrap_or_default(),
                    Some("thinking_delta") => delta.reasoning = d.thinking.unwrap_or_default(),
                    Some("input_json_delta") => delta.tool_calls.push(ToolCallDelta {
                        index: e.index.unwrap_or(0),
                        id: None,
                        name: None,
                        arguments: d.partial_json.unwrap_or_default(),
                    }),
                    // `signature_delta` and later kinds carry no text.
                    _ => {}
                }
            }
            "message_delta" => {
                delta.finish_reason = e.delta.and_then(|d| d.stop_reason).map(finish_reason);
                delta.usage = e.usage.map(UsageJson::usage);
            }
            "message_stop" => return Ok(Event::Done),
            "error" => {
                let e = e.error.unwrap_or(Value::Null);
                delta.error = Some(match e.get("message").and_then(Value::as_str) {
                    Some(m) => m.to_string(),
                    None => e.to_string(),
                });
            }
            // `ping`, `content_block_stop` and types added later.
            _ => {}
        }
        Ok(Event::Delta(delta))
    }
}

/// An OpenAI tool (`{"type":"function","function":{…}}`) in Anthropic's shape.
fn tool(t: &Value) -> Value {
    let f = t.get("function").unwrap_or(t);
    let mut out = json!({
        "name": f.get("name").cloned().unwrap_or(Value::Null),
        "input_schema": f.get("parameters").cloned().unwrap_or(json!({"type": "object"})),
    });
    if let Some(d) = f.get("description") {
        out["description"] = d.clone();
    }
    out
}

/// An OpenAI chat conversation in Anthropic's shape: system messages apart,
/// an assistant's tool calls as `tool_use` blocks, tool results as
/// `tool_result` blocks of a user message.
fn messages(list: &[Value]) -> (Vec<String>, Vec<Value>) {
    let mut system = Vec::new();
    let mut out: Vec<Value> = Vec::new();
    for m in list {
        let text = content_text(m.get("content"));
        match m.get("role").and_then(Value::as_str).unwrap_or("user") {
            "system" | "developer" => system.push(text),
            "tool" => {
                let block = json!({
                    "type": "tool_result",
                    "tool_use_id": m.get("tool_call_id").cloned().unwrap_or(Value::Null),
                    "content": text,
                });
                // Results of one turn's calls go in one user message.
                match out.last_mut() {
                    Some(last) if last["role"] == "user" && last["content"].is_array() => {
                        if let Some(blocks) = last["content"].as_array_mut() {
                            blocks.push(block);
                        }
                    }
                    _ => out.push(json!({"role": "user", "content": [block]})),
                }
            }
            "assistant" => {
                let calls = m.get("tool_calls").and_then(Value::as_array);
                let Some(calls) = calls.filter(|c| !c.is_empty()) else {
                    out.push(json!({"role": "assistant", "content": text}));
                    continue;
                };
                let mut blocks = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                for c in calls {
                    let f = c.get("function").unwrap_or(&Value::Null);
                    let args = f.get("arguments").and_then(Value::as_str).unwrap_or("{}");
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": c.get("id").cloned().unwrap_or(Value::Null),
                        "name": f.get("name").cloned().unwrap_or(Value::Null),
                        "input": serde_json::from_str::<Value>(args).unwrap_or(json!({})),
                    }));
                }
                out.push(json!({"role": "assistant", "content": blocks}));
            }
            _ => out.push(json!({"role": "user", "content": text})),
        }
    }
    (system, out)
}

#[cfg(test)]
mod tests;

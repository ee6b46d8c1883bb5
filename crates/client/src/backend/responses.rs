//! OpenAI's Responses API: `POST /v1/responses`, streamed (vLLM, SGLang
//! and OpenAI serve it).
//!
//! Every event names its type in its data: `response.created` (the id),
//! `response.output_text.delta`, `response.reasoning_text.delta` and
//! `response.reasoning_summary_text.delta`, `response.output_item.added`
//! (a function call's id and name), `response.function_call_arguments.delta`,
//! then `response.completed` (or `response.incomplete`) with usage, or
//! `response.failed` / `error`. Reasoning goes to the record's reasoning and
//! function calls to its tool calls, as OpenAI chat's `reasoning_content`
//! and `tool_calls` do.

use super::{content_text, Backend, Delta, Event, Prompt, ReportedUsage, ToolCallDelta};
use serde::Deserialize;
use serde_json::{json, Value};
use std::borrow::Cow;

/// `POST /v1/responses`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Responses;

#[derive(Deserialize)]
struct EventJson<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    delta: Option<Cow<'a, str>>,
    #[serde(default)]
    output_index: Option<u32>,
    #[serde(borrow, default)]
    item: Option<ItemJson<'a>>,
    #[serde(borrow, default)]
    response: Option<ResponseJson<'a>>,
    /// The `error` event's message.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<Value>,
}

#[derive(Deserialize)]
struct ItemJson<'a> {
    #[serde(borrow, rename = "type", default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ResponseJson<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    incomplete_details: Option<Value>,
    /// `incomplete` on a `response.completed` too (vLLM ends a truncated
    /// answer so, never with `response.incomplete`).
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(default)]
    output: Vec<Value>,
}

#[derive(Deserialize)]
struct UsageJson {
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    input_tokens_details: Option<Details>,
    #[serde(default)]
    output_tokens_details: Option<Details>,
}

#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    cached_tokens: Option<u32>,
    #[serde(default)]
    reasoning_tokens: Option<u32>,
}

impl Backend for Responses {
    fn id(&self) -> &'static str {
        "responses"
    }

    fn path(&self) -> &'static str {
        "/v1/responses"
    }

    fn streams_tool_calls(&self) -> bool {
        true
    }

    fn body(&self, model: &str, prompt: &Prompt) -> Value {
        let mut body = json!({
            "model": model,
            "input": match &prompt.messages {
                Some(Value::Array(m)) => Value::Array(input(m)),
                _ => json!(prompt.text),
            },
            "max_output_tokens": prompt.max_tokens,
            "stream": true,
            // A benchmark's requests are not conversations to keep.
            "store": false,
        });
        if prompt.ignore_eos {
            // vLLM and the simulator honour it; others ignore it.
            body["ignore_eos"] = json!(true);
        }
        if let Some(Value::Array(tools)) = &prompt.tools {
            body["tools"] = tools.iter().map(tool).collect();
            if let Some(choice) = prompt.tool_choice {
                body["tool_choice"] = json!(choice);
            }
        }
        body
    }

    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String> {
        let e: EventJson<'_> = serde_json::from_slice(data.trim_ascii())
            .map_err(|err| format!("malformed event ({err})"))?;
        let mut delta = Delta::default();
        match e.kind.as_ref() {
            "response.output_text.delta" => delta.answer = e.delta.unwrap_or_default(),
            "response.reasoning_text.delta" | "response.reasoning_summary_text.delta" => {
                delta.reasoning = e.delta.unwrap_or_default()
            }
            "response.output_item.added" => match e.item {
                Some(item) if item.kind.as_deref() == Some("function_call") => {
                    delta.tool_calls.push(ToolCallDelta {
                        index: e.output_index.unwrap_or(0),
                        id: item.call_id,
                        name: item.name,
                        arguments: item.arguments.unwrap_or_default(),
                    })
                }
                _ => {}
            },
            "response.function_call_arguments.delta" => delta.tool_calls.push(ToolCallDelta {
                index: e.output_index.unwrap_or(0),
                id: None,
                name: None,
                arguments: e.delta.unwrap_or_default(),
            }),
            kind @ ("response.created"
            | "response.in_progress"
            | "response.completed"
            | "response.incomplete"
            | "response.failed") => {
                let Some(r) = e.response else {
                    return Ok(Event::Delta(delta));
                };
                delta.id = r.id;
                match kind {
                    "response.completed" | "response.incomplete" => {
                        delta.usage = r.usage.map(|u| ReportedUsage {
                            prompt_tokens: u.input_tokens,
                            completion_tokens: u.output_tokens,
                            reasoning_tokens: u
                                .output_tokens_details
                                .and_then(|d| d.reasoning_tokens),
                            cached_tokens: u.input_tokens_details.and_then(|d| d.cached_tokens),
                        });
                        let incomplete = kind == "response.incomplete"
                            || r.status.as_deref() == Some("incomplete");
                        delta.finish_reason = Some(Cow::Borrowed(finish_reason(
                            incomplete,
                            r.incomplete_details.as_ref(),
                            &r.output,
                        )));
                    }
                    "response.failed" => {
                        delta.error = Some(match r.error {
                            Some(e) => message(&e),
                            None => "the response failed".into(),
                        })
                    }
                    _ => {}
                }
            }
            "error" => {
                delta.error = Some(match (e.message, e.code) {
                    (Some(m), _) => m,
                    (None, Some(code)) => format!("error {code}"),
                    (None, None) => "the server reported an error".into(),
                })
            }
            // `.done` events repeat what the deltas said; others carry no text.
            _ => {}
        }
        Ok(Event::Delta(delta))
    }
}

/// Why the response ended, in OpenAI chat's words.
fn finish_reason(incomplete: bool, details: Option<&Value>, output: &[Value]) -> &'static str {
    if incomplete {
        let reason = details
            .and_then(|d| d.get("reason"))
            .and_then(Value::as_str);
        return match reason {
            Some("content_filter") => "content_filter",
            _ => "length",
        };
    }
    if output.iter().any(|o| o["type"] == "function_call") {
        "tool_calls"
    } else {
        "stop"
    }
}

/// An error object's message, or the object itself.
fn message(e: &Value) -> String {
    match e.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => e.to_string(),
    }
}

/// An OpenAI chat tool in the Responses shape (the function's fields at
/// the top).
fn tool(t: &Value) -> Value {
    let f = t.get("function").unwrap_or(t);
    let mut out =
        json!({"type": "function", "name": f.get("name").cloned().unwrap_or(Value::Null)});
    for key in ["description", "parameters"] {
        if let Some(v) = f.get(key) {
            out[key] = v.clone();
        }
    }
    out
}

/// An OpenAI chat conversation as Responses input items: messages, an
/// assistant's tool calls as `function_call` items and tool results as
/// `function_call_output` items.
fn input(list: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for m in list {
        let text = content_text(m.get("content"));
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        match role {
            "tool" => out.push(json!({
                "type": "function_call_output",
                "call_id": m.get("tool_call_id").cloned().unwrap_or(Value::Null),
                "output": text,
            })),
            _ => {
                if !text.is_empty() || role != "assistant" {
                    out.push(json!({"type": "message", "role": role, "content": text}));
                }
                let calls = m.get("tool_calls").and_then(Value::as_array);
                for c in calls.into_iter().flatten() {
                    let f = c.get("function").unwrap_or(&Value::Null);
                    out.push(json!({
                        "type": "function_call",
                        "call_id": c.get("id").cloned().unwrap_or(Value::Null),
                        "name": f.get("name").cloned().unwrap_or(Value::Null),
                        "arguments": f.get("arguments").cloned().unwrap_or(json!("{}")),
                    }));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! OpenAI's Responses request (`POST /v1/responses`) read into the same
//! [`CompletionRequest`]: `instructions` becomes the first message, `input`
//! (a string, or message, `function_call` and `function_call_output`
//! items) the conversation.

use serde_json::{Map, Value};

use super::{bool_field, length_controls, token_limit, CompletionRequest, Message, RequestPrompt};
use crate::error::ApiError;
use crate::tools::{named_tools, Tool, ToolCall, ToolChoice};

/// Parses a Responses body (already a JSON object).
pub(super) fn parse(
    mut obj: Map<String, Value>,
    limit: u64,
) -> Result<CompletionRequest, ApiError> {
    let mut messages = Vec::new();
    match obj.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => messages.push(message("system", s.clone())),
        Some(_) => {
            return Err(ApiError::invalid(
                "'instructions' must be a string",
                Some("instructions"),
            ))
        }
    }
    messages.extend(input(obj.get("input"))?);
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("'model' must be a string", Some("model"))),
    };
    let max_tokens = match obj.get("max_output_tokens").filter(|v| !v.is_null()) {
        Some(v) => Some(token_limit(v, "max_output_tokens", limit)?),
        None => None,
    };
    let tools = tools(obj.get("tools"))?;
    let tool_choice = tool_choice(obj.get("tool_choice"), &tools)?;
    let stream = bool_field(obj.get("stream"), "stream")?;
    let (ignore_eos, min_tokens) = length_controls(&obj, max_tokens)?;
    for known in [
        "input",
        "instructions",
        "model",
        "max_output_tokens",
        "stream",
        "tools",
        "tool_choice",
        "ignore_eos",
        "min_tokens",
    ] {
        obj.remove(known);
    }
    Ok(CompletionRequest {
        prompt: RequestPrompt::Chat(messages),
        model,
        stream,
        // `response.completed` always carries usage.
        include_usage: true,
        continuous_usage: false,
        max_tokens,
        ignore_eos,
        min_tokens,
        stop: Vec::new(),
        seed: None,
        tools,
        tool_choice,
        rest: obj,
    })
}

fn message(role: &str, text: String) -> Message {
    Message {
        role: role.to_owned(),
        parts: vec![text],
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// `input`: a string (one user message) or a non-empty array of items.
fn input(v: Option<&Value>) -> Result<Vec<Message>, ApiError> {
    let missing = || {
        ApiError::missing(
            "'input' is required: a string or a non-empty array of items",
            "input",
        )
    };
    let items = match v {
        Some(Value::String(s)) => return Ok(vec![message("user", s.clone())]),
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(missing()),
    };
    let mut out: Vec<Message> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let bad = |what: &str| ApiError::invalid(format!("input[{i}]: {what}"), Some("input"));
        let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
        match item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message")
        {
            "message" => {
                let Some(role) = item.get("role").and_then(Value::as_str) else {
                    return Err(bad("a message needs its 'role'"));
                };
                let parts = match item.get("content") {
                    Some(Value::String(s)) => vec![s.clone()],
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
                        .collect(),
                    _ => return Err(bad("'content' must be a string or an array of parts")),
                };
                out.push(Message {
                    role: role.to_owned(),
                    parts,
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                });
            }
            "function_call" => {
                let (Some(id), Some(name)) = (text("call_id"), text("name")) else {
                    return Err(bad("a function_call needs its 'call_id' and 'name'"));
                };
                let call = ToolCall {
                    id,
                    name,
                    arguments: text("arguments").unwrap_or_default(),
                };
                // Calls of one turn belong to one assistant message.
                match out.last_mut() {
                    Some(m) if m.role == "assistant" => m.tool_calls.push(call),
                    _ => out.push(Message {
                        role: "assistant".into(),
                        parts: Vec::new(),
                        tool_calls: vec![call],
                        tool_call_id: None,
                    }),
                }
            }
            "function_call_output" => {
                let Some(id) = text("call_id") else {
                    return Err(bad("a function_call_output needs its 'call_id'"));
                };
                let mut m = message("tool", text("output").unwrap_or_default());
                m.tool_call_id = Some(id);
                out.push(m);
            }
            // Reasoning items and others carry nothing to count.
            _ => {}
        }
    }
    Ok(out)
}

/// `tools`: function tools (`{"type":"function","name",…}`); built-in
/// tools (web search, file search) are not functions the model calls here.
fn tools(v: Option<&Value>) -> Result<Vec<Tool>, ApiError> {
    named_tools(v, |t| {
        t.get("type").and_then(Value::as_str) == Some("function")
    })
}

/// `tool_choice`: `"none" | "auto" | "required"` or
/// `{"type":"function","name":…}`.
fn tool_choice(v: Option<&Value>, tools: &[Tool]) -> Result<ToolChoice, ApiError> {
    let bad = |what: &str| ApiError::invalid(what, Some("tool_choice"));
    let choice = match v {
        None | Some(Value::Null) if tools.is_empty() => ToolChoice::None,
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "none" => ToolChoice::None,
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            _ => return Err(bad("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\":\"function\",\"name\":…}")),
        },
        Some(c) => match (c.get("type").and_then(Value::as_str), c.get("name").and_then(Value::as_str)) {
            (Some("function"), Some(n)) if tools.iter().any(|t| t.name == n) => ToolChoice::Function(n.to_owned()),
            _ => return Err(bad("'tool_choice' must name a function of 'tools': {\"type\":\"function\",\"name\":…}")),
        },
    };
    if tools.is_empty() && matches!(choice, ToolChoice::Required) {
        return Err(bad("'tool_choice' requires 'tools' to be given"));
    }
    Ok(choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse as parse_body, Endpoint};

    fn parse(body: &str) -> Result<CompletionRequest, ApiError> {
        parse_body(Endpoint::Responses, body.as_bytes(), 100)
    }

    #[test]
    fn a_responses_request() {
        let r = parse(
            r#"{"model":"m","input":"你好","max_output_tokens":9,"stream":true,"store":false}"#,
        )
        .unwrap();
        assert_eq!(
            r.prompt,
            RequestPrompt::Chat(vec![message("user", "你好".into())])
        );
        assert_eq!(
            (r.max_tokens, r.stream, r.include_usage),
            (Some(9), true, true)
        );
        let r = parse(
            r#"{"instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]},
                {"type":"reasoning","id":"rs_1"},
                {"type":"function_call","call_id":"call_1","name":"search","arguments":"{}"},
                {"type":"function_call_output","call_id":"call_1","output":"found"}],
                "tools":[{"type":"function","name":"search"},{"type":"web_search"}],"tool_choice":"required"}"#,
        )
        .unwrap();
        let RequestPrompt::Chat(m) = &r.prompt else {
            panic!()
        };
        assert_eq!(m.len(), 4);
        assert_eq!((m[0].role.as_str(), m[1].text()), ("system", "hi".into()));
        assert_eq!(m[2].tool_calls[0].name, "search");
        assert_eq!(m[3].tool_call_id.as_deref(), Some("call_1"));
        assert_eq!(r.tools.len(), 1);
        assert_eq!(r.tool_choice, ToolChoice::Required);
        assert_eq!(r.max_tokens, None);
    }

    #[test]
    fn bad_requests_name_the_field() {
        for (body, param) in [
            (r#"{}"#, "input"),
            (r#"{"input":[]}"#, "input"),
            (r#"{"input":[{"content":"x"}]}"#, "input"),
            (
                r#"{"input":"x","max_output_tokens":0}"#,
                "max_output_tokens",
            ),
            (r#"{"input":"x","instructions":1}"#, "instructions"),
            (r#"{"input":"x","tool_choice":"required"}"#, "tool_choice"),
            (r#"{"input":"x","tools":[{"type":"function"}]}"#, "tools"),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(
                (e.status, e.param),
                (400, Some(param)),
                "{body}: {}",
                e.message
            );
        }
    }
}

//! Anthropic's Messages request (`POST /v1/messages`) read into the same
//! [`CompletionRequest`]: `system` becomes the first message, `tool_use`
//! blocks an assistant's tool calls, `tool_result` blocks `tool` messages.

use serde_json::{Map, Value};

use super::{bool_field, length_controls, token_limit, CompletionRequest, Message, RequestPrompt};
use crate::error::ApiError;
use crate::tools::{named_tools, Tool, ToolCall, ToolChoice};

/// Parses a Messages body (already a JSON object).
pub(super) fn parse(
    mut obj: Map<String, Value>,
    limit: u64,
) -> Result<CompletionRequest, ApiError> {
    let max_tokens = match obj.get("max_tokens").filter(|v| !v.is_null()) {
        Some(v) => token_limit(v, "max_tokens", limit)?,
        None => {
            return Err(ApiError::missing(
                "'max_tokens' is required: the most tokens to generate",
                "max_tokens",
            ))
        }
    };
    let mut messages = system(obj.get("system"))?;
    messages.extend(conversation(obj.get("messages"))?);
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("'model' must be a string", Some("model"))),
    };
    let stop = match obj.get("stop_sequences") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|s| match s.as_str() {
                Some(s) => Ok(s.to_owned()),
                None => Err(ApiError::invalid(
                    "'stop_sequences' must be an array of strings",
                    Some("stop_sequences"),
                )),
            })
            .filter(|s| !matches!(s, Ok(s) if s.is_empty()))
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ApiError::invalid(
                "'stop_sequences' must be an array of strings",
                Some("stop_sequences"),
            ))
        }
    };
    let tools = tools(obj.get("tools"))?;
    let tool_choice = tool_choice(obj.get("tool_choice"), &tools)?;
    let stream = bool_field(obj.get("stream"), "stream")?;
    let (ignore_eos, min_tokens) = length_controls(&obj, Some(max_tokens))?;
    for known in [
        "messages",
        "system",
        "model",
        "max_tokens",
        "stream",
        "stop_sequences",
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
        // Anthropic always reports usage.
        include_usage: true,
        continuous_usage: false,
        max_tokens: Some(max_tokens),
        ignore_eos,
        min_tokens,
        stop,
        seed: None,
        tools,
        tool_choice,
        rest: obj,
    })
}

fn message(role: &str, parts: Vec<String>) -> Message {
    Message {
        role: role.to_owned(),
        parts,
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// `system`: absent, a string, or text blocks.
fn system(v: Option<&Value>) -> Result<Vec<Message>, ApiError> {
    let bad = || {
        ApiError::invalid(
            "'system' must be a string or an array of text blocks",
            Some("system"),
        )
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![message("system", vec![s.clone()])]),
        Some(Value::Array(blocks)) => {
            let parts = blocks
                .iter()
                .map(|b| {
                    b.get("text")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(bad)
                })
                .collect::<Result<_, _>>()?;
            Ok(vec![message("system", parts)])
        }
        Some(_) => Err(bad()),
    }
}

/// `messages`: user and assistant turns, content a string or blocks.
fn conversation(v: Option<&Value>) -> Result<Vec<Message>, ApiError> {
    let missing = || {
        ApiError::missing(
            "'messages' is required: a non-empty array of messages",
            "messages",
        )
    };
    let list = v
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(missing)?;
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let bad =
            |what: &str| ApiError::invalid(format!("messages[{i}]: {what}"), Some("messages"));
        let role = match m.get("role").and_then(Value::as_str) {
            Some(r @ ("user" | "assistant")) => r,
            _ => return Err(bad("'role' must be \"user\" or \"assistant\"")),
        };
        let mut msg = message(role, Vec::new());
        match m.get("content") {
            Some(Value::String(s)) => msg.parts.push(s.clone()),
            Some(Value::Array(blocks)) => {
                for b in blocks {
                    match b.get("type").and_then(Value::as_str) {
                        Some("text") => match b.get("text").and_then(Value::as_str) {
                            Some(t) => msg.parts.push(t.to_owned()),
                            None => return Err(bad("a text block needs its 'text'")),
                        },
                        Some("tool_use") if role == "assistant" => msg.tool_calls.push(ToolCall {
                            id: b
                                .get("id")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            name: b
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            arguments: b.get("input").map(Value::to_string).unwrap_or_default(),
                        }),
                        Some("tool_result") => {
                            let Some(id) = b.get("tool_use_id").and_then(Value::as_str) else {
                                return Err(bad("a tool_result block needs its 'tool_use_id'"));
                            };
                            let mut result = message("tool", Vec::new());
                            result.tool_call_id = Some(id.to_owned());
                            match b.get("content") {
                                Some(Value::String(s)) => result.parts.push(s.clone()),
                                Some(Value::Array(parts)) => result.parts.extend(
                                    parts
                                        .iter()
                                        .filter_map(|p| p.get("text")?.as_str().map(str::to_owned)),
                                ),
                                _ => {}
                            }
                            out.push(result);
                        }
                        // Images, documents, thinking: no text to count.
                        Some(_) => {}
                        None => return Err(bad("content blocks must be objects with a 'type'")),
                    }
                }
            }
            _ => return Err(bad("'content' must be a string or an array of blocks")),
        }
        if !msg.parts.is_empty() || !msg.tool_calls.is_empty() {
            out.push(msg);
        }
    }
    Ok(out)
}

/// `tools`: client tools (`name`, `input_schema`); server tools (with a
/// `type`, such as web search) are not functions the model calls here.
fn tools(v: Option<&Value>) -> Result<Vec<Tool>, ApiError> {
    named_tools(v, |t| t.get("type").is_none_or(|k| k == "custom"))
}

/// `tool_choice`: `{"type": "auto" | "any" | "none" | "tool", "name"}`.
fn tool_choice(v: Option<&Value>, tools: &[Tool]) -> Result<ToolChoice, ApiError> {
    let bad = |what: String| ApiError::invalid(what, Some("tool_choice"));
    let choice = match v {
        None | Some(Value::Null) if tools.is_empty() => return Ok(ToolChoice::None),
        None | Some(Value::Null) => return Ok(ToolChoice::Auto),
        Some(c) => c,
    };
    let name = choice.get("name").and_then(Value::as_str);
    let choice = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => ToolChoice::Auto,
        Some("none") => ToolChoice::None,
        Some("any") => ToolChoice::Required,
        Some("tool") => match name {
            Some(n) if tools.iter().any(|t| t.name == n) => ToolChoice::Function(n.to_owned()),
            _ => {
                return Err(bad(
                    "'tool_choice' of type \"tool\" must name one of 'tools'".into(),
                ))
            }
        },
        _ => {
            return Err(bad(
                "'tool_choice' must be {\"type\": \"auto\" | \"any\" | \"none\" | \"tool\"}".into(),
            ))
        }
    };
    if tools.is_empty() && choice != ToolChoice::None && choice != ToolChoice::Auto {
        return Err(bad("'tool_choice' requires 'tools' to be given".into()));
    }
    Ok(choice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::{parse as parse_body, Endpoint};

    fn parse(body: &str) -> Result<CompletionRequest, ApiError> {
        parse_body(Endpoint::Messages, body.as_bytes(), 100)
    }

    #[test]
    fn a_messages_request() {
        let r = parse(
            r#"{"model":"claude","max_tokens":12,"stream":true,"system":[{"type":"text","text":"be brief"}],
                "messages":[{"role":"user","content":"你好"},
                  {"role":"assistant","content":[{"type":"text","text":"let me look"},{"type":"tool_use","id":"toolu_1","name":"search","input":{"q":"x"}}]},
                  {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"found"},{"type":"image","source":{}}]}],
                "tools":[{"name":"search","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],
                "tool_choice":{"type":"tool","name":"search"},"temperature":0.3,"stop_sequences":["END",""]}"#,
        )
        .unwrap();
        let RequestPrompt::Chat(m) = &r.prompt else {
            panic!("{:?}", r.prompt)
        };
        assert_eq!(m.len(), 4);
        assert_eq!(
            (m[0].role.as_str(), m[0].text()),
            ("system", "be brief".into())
        );
        assert_eq!(m[1].text(), "你好");
        assert_eq!(m[2].tool_calls[0].arguments, r#"{"q":"x"}"#);
        assert_eq!(
            (m[3].role.as_str(), m[3].tool_call_id.as_deref()),
            ("tool", Some("toolu_1"))
        );
        assert_eq!(
            (r.max_tokens, r.stream, r.include_usage),
            (Some(12), true, true)
        );
        assert_eq!(
            r.tools,
            vec![Tool {
                name: "search".into()
            }]
        );
        assert_eq!(r.tool_choice, ToolChoice::Function("search".into()));
        assert_eq!(r.stop, vec!["END"]);
        assert_eq!(r.number("temperature").unwrap(), Some(0.3));
    }

    #[test]
    fn bad_requests_name_the_field() {
        let msgs = r#""messages":[{"role":"user","content":"x"}]"#;
        for (body, param) in [
            (format!("{{{msgs}}}"), "max_tokens"),
            (r#"{"max_tokens":1}"#.to_string(), "messages"),
            (
                r#"{"max_tokens":1,"messages":[{"role":"system","content":"x"}]}"#.to_string(),
                "messages",
            ),
            (format!(r#"{{"max_tokens":1000,{msgs}}}"#), "max_tokens"),
            (format!(r#"{{"max_tokens":1,{msgs},"system":5}}"#), "system"),
            (
                format!(r#"{{"max_tokens":1,{msgs},"tool_choice":{{"type":"any"}}}}"#),
                "tool_choice",
            ),
            (
                format!(r#"{{"max_tokens":1,{msgs},"tools":[{{"name":"a b"}}]}}"#),
                "tools",
            ),
            (
                format!(r#"{{"max_tokens":1,{msgs},"stream":"yes"}}"#),
                "stream",
            ),
        ] {
            let e = parse(&body).unwrap_err();
            assert_eq!(
                (e.status, e.param),
                (400, Some(param)),
                "{body}: {}",
                e.message
            );
        }
    }
}

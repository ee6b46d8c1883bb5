//! The prompt of a request: chat `messages`, or a completions `prompt`
//! (text, token ids, or several of them).

use serde_json::Value;

use super::{Message, PromptPart, RequestPrompt};
use crate::error::ApiError;
use crate::tools;

/// `messages`; `openai` also reads and checks OpenAI's tool calls and
/// results (Ollama shapes them differently and they are left out there).
pub(crate) fn chat_prompt(
    messages: Option<&Value>,
    openai: bool,
) -> Result<RequestPrompt, ApiError> {
    let missing = || {
        ApiError::missing(
            "'messages' is required: a non-empty array of messages",
            "messages",
        )
    };
    let list = messages.and_then(Value::as_array).ok_or_else(missing)?;
    if list.is_empty() {
        return Err(missing());
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let bad =
            |what: &str| ApiError::invalid(format!("messages[{i}]: {what}"), Some("messages"));
        let m = m.as_object().ok_or_else(|| bad("must be an object"))?;
        let Some(role) = m.get("role").and_then(Value::as_str) else {
            return Err(bad("'role' is required and must be a string"));
        };
        let mut parts = Vec::new();
        match m.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => parts.push(s.clone()),
            Some(Value::Array(items)) => {
                for p in items {
                    match p.get("text").and_then(Value::as_str) {
                        Some(t) => parts.push(t.to_owned()),
                        None if p.get("type").is_some() => {}
                        None => return Err(bad("content parts must be objects with a 'type'")),
                    }
                }
            }
            Some(_) => return Err(bad("'content' must be a string or an array of parts")),
        }
        let (tool_calls, tool_call_id) = if openai {
            let calls = tools::tool_calls(m.get("tool_calls"), i)?;
            if !calls.is_empty() && role != "assistant" {
                return Err(bad("only an assistant message may carry 'tool_calls'"));
            }
            (calls, tools::tool_call_id(m, role, i)?)
        } else {
            (Vec::new(), None)
        };
        out.push(Message {
            role: role.to_owned(),
            parts,
            tool_calls,
            tool_call_id,
        });
    }
    Ok(RequestPrompt::Chat(out))
}

pub(super) fn completion_prompt(prompt: Option<&Value>) -> Result<RequestPrompt, ApiError> {
    let bad = || {
        ApiError::missing(
            "'prompt' is required: a string, an array of strings or an array of token ids",
            "prompt",
        )
    };
    let id = |v: &Value| v.as_u64().unwrap_or(u64::MAX);
    match prompt {
        Some(Value::String(s)) => Ok(RequestPrompt::Completion(vec![PromptPart::Text(s.clone())])),
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_number) => Ok(
            RequestPrompt::Completion(vec![PromptPart::Tokens(items.iter().map(id).collect())]),
        ),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(PromptPart::Text(s.clone())),
                Value::Number(_) => Ok(PromptPart::Tokens(vec![id(item)])),
                Value::Array(ids) if ids.iter().all(Value::is_number) => {
                    Ok(PromptPart::Tokens(ids.iter().map(id).collect()))
                }
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()
            .map(RequestPrompt::Completion),
        _ => Err(bad()),
    }
}

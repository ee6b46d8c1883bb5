//! Function calling in the OpenAI chat format: the `tools` a request
//! offers, its `tool_choice`, and the tool calls and results carried in
//! the conversation, checked with errors that name the field.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// Most tools a request may offer (OpenAI's limit).
pub const MAX_TOOLS: usize = 128;

/// Longest function name (OpenAI's limit).
const MAX_NAME_CHARS: usize = 64;

/// A function the model may call (`tools[i]`, `"type": "function"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// `function.name`: 1–64 of `a-z A-Z 0-9 _ -`.
    pub name: String,
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// Answer with text (the default without tools).
    #[default]
    None,
    /// The model decides (the default with tools).
    Auto,
    /// Call some tool.
    Required,
    /// Call this function (`{"type":"function","function":{"name":…}}`).
    Function(String),
}

/// A call an assistant message made (`messages[i].tool_calls[j]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The call's id, which a later `tool` message answers.
    pub id: String,
    /// The function called.
    pub name: String,
    /// Its arguments as the model wrote them (JSON text, unchecked).
    pub arguments: String,
}

fn bad(param: &'static str, what: String) -> ApiError {
    ApiError::invalid(what, Some(param))
}

/// `tools` in the APIs whose tools carry their `name` at the top level
/// (Responses, Anthropic Messages): absent, null or an array of up to
/// [`MAX_TOOLS`] objects; those `is_function` keeps (the functions the model
/// may call, not a provider's built-in tools) are read, the rest skipped.
pub(crate) fn named_tools(
    v: Option<&Value>,
    is_function: impl Fn(&Map<String, Value>) -> bool,
) -> Result<Vec<Tool>, ApiError> {
    let bad = |what: String| bad("tools", what);
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= MAX_TOOLS => list,
        Some(_) => {
            return Err(bad(format!(
                "'tools' must be an array of up to {MAX_TOOLS} tools"
            )))
        }
    };
    let mut out = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let t = t
            .as_object()
            .ok_or_else(|| bad(format!("tools[{i}]: must be an object")))?;
        if !is_function(t) {
            continue;
        }
        let name = function_name(t).map_err(|m| {
            bad(format!(
                "tools[{i}]: {}",
                m.replace("function.name", "name")
            ))
        })?;
        out.push(Tool { name });
    }
    Ok(out)
}

/// `tools`: absent, null or an array of up to [`MAX_TOOLS`] function tools.
pub(crate) fn tools(v: Option<&Value>) -> Result<Vec<Tool>, ApiError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) if list.len() <= MAX_TOOLS => list,
        Some(_) => {
            return Err(bad(
                "tools",
                format!("'tools' must be an array of up to {MAX_TOOLS} function tools"),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            let at = |what: &str| bad("tools", format!("tools[{i}]: {what}"));
            let t = t.as_object().ok_or_else(|| at("must be an object"))?;
            if t.get("type").and_then(Value::as_str) != Some("function") {
                return Err(at("'type' must be \"function\""));
            }
            let f = t
                .get("function")
                .and_then(Value::as_object)
                .ok_or_else(|| at("'function' must be an object"))?;
            let name = function_name(f).map_err(|m| at(&m))?;
            Ok(Tool { name })
        })
        .collect()
}

/// `function.name`, checked as OpenAI does.
pub(crate) fn function_name(f: &Map<String, Value>) -> Result<String, String> {
    let name = f
        .get("name")
        .and_then(Value::as_str)
        .ok_or("'function.name' is required and must be a string")?;
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || !name.chars().all(ok_char) {
        return Err(format!(
            "function name '{}' must be 1 to {MAX_NAME_CHARS} of a-z, A-Z, 0-9, _ and -",
            name.chars().take(MAX_NAME_CHARS + 1).collect::<String>()
        ));
    }
    Ok(name.to_owned())
}

/// `tool_choice`, checked against the `tools` offered. Absent means
/// `auto` with tools and `none` without, as in OpenAI's API.
pub(crate) fn tool_choice(v: Option<&Value>, tools: &[Tool]) -> Result<ToolChoice, ApiError> {
    let shape = || {
        bad(
            "tool_choice",
            "'tool_choice' must be \"none\", \"auto\", \"required\" or \
             {\"type\":\"function\",\"function\":{\"name\":…}}"
                .into(),
        )
    };
    let choice = match v {
        None | Some(Value::Null) if tools.is_empty() => ToolChoice::None,
        None | Some(Value::Null) => ToolChoice::Auto,
        Some(Value::String(s)) => match s.as_str() {
            "none" => ToolChoice::None,
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            _ => return Err(shape()),
        },
        Some(Value::Object(o)) => {
            let f = o
                .get("function")
                .and_then(Value::as_object)
                .filter(|_| o.get("type").and_then(Value::as_str) == Some("function"))
                .ok_or_else(shape)?;
            let name = function_name(f).map_err(|m| bad("tool_choice", m))?;
            if !tools.iter().any(|t| t.name == name) {
                return Err(bad(
                    "tool_choice",
                    format!("'tool_choice' names '{name}', which is not in 'tools'"),
                ));
            }
            ToolChoice::Function(name)
        }
        Some(_) => return Err(shape()),
    };
    if tools.is_empty() && matches!(choice, ToolChoice::Required | ToolChoice::Function(_)) {
        return Err(bad(
            "tool_choice",
            "'tool_choice' requires 'tools' to be given".into(),
        ));
    }
    Ok(choice)
}

/// An assistant message's `tool_calls`.
pub(crate) fn tool_calls(v: Option<&Value>, i: usize) -> Result<Vec<ToolCall>, ApiError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => {
            return Err(bad(
                "messages",
                format!("messages[{i}]: 'tool_calls' must be an array"),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(j, c)| {
            let at = |what: &str| bad("messages", format!("messages[{i}].tool_calls[{j}]: {what}"));
            let c = c.as_object().ok_or_else(|| at("must be an object"))?;
            let id = c
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| at("'id' is required and must be a string"))?;
            let f = c
                .get("function")
                .and_then(Value::as_object)
                .ok_or_else(|| at("'function' must be an object"))?;
            let name = function_name(f).map_err(|m| at(&m))?;
            let arguments = match f.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                _ => return Err(at("'function.arguments' must be a string of JSON")),
            };
            Ok(ToolCall {
                id: id.to_owned(),
                name,
                arguments,
            })
        })
        .collect()
}

/// A `tool` message's `tool_call_id` (required there), or `None` for
/// other roles.
pub(crate) fn tool_call_id(
    m: &Map<String, Value>,
    role: &str,
    i: usize,
) -> Result<Option<String>, ApiError> {
    match (role, m.get("tool_call_id")) {
        ("tool", Some(Value::String(id))) => Ok(Some(id.clone())),
        ("tool", _) => Err(bad(
            "messages",
            format!("messages[{i}]: a 'tool' message needs 'tool_call_id' (a string)"),
        )),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> Value {
        json!({"type": "function", "function": {"name": name, "parameters": {}}})
    }

    #[test]
    fn tools_and_choices() {
        let t = tools(Some(&json!([tool("search"), tool("get-weather")]))).unwrap();
        assert_eq!(t[1].name, "get-weather");
        assert_eq!(tool_choice(None, &t).unwrap(), ToolChoice::Auto);
        assert_eq!(tool_choice(None, &[]).unwrap(), ToolChoice::None);
        assert_eq!(
            tool_choice(Some(&json!("required")), &t).unwrap(),
            ToolChoice::Required
        );
        let named = json!({"type": "function", "function": {"name": "search"}});
        assert_eq!(
            tool_choice(Some(&named), &t).unwrap(),
            ToolChoice::Function("search".into())
        );
        assert_eq!(
            tool_choice(Some(&json!("none")), &t).unwrap(),
            ToolChoice::None
        );
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        for v in [
            json!({}),
            json!([1]),
            json!([{"type": "code_interpreter"}]),
            json!([{"type": "function", "function": {"name": "a b"}}]),
            json!([{"type": "function", "function": {"name": ""}}]),
            json!([{"type": "function"}]),
            Value::Array(vec![tool("x"); MAX_TOOLS + 1]),
        ] {
            assert_eq!(tools(Some(&v)).unwrap_err().param, Some("tools"), "{v}");
        }
        let t = tools(Some(&json!([tool("search")]))).unwrap();
        for v in [
            json!("sometimes"),
            json!(3),
            json!({"type": "function", "function": {"name": "other"}}),
            json!({"type": "function"}),
        ] {
            let e = tool_choice(Some(&v), &t).unwrap_err();
            assert_eq!((e.status, e.param), (400, Some("tool_choice")), "{v}");
        }
        assert!(tool_choice(Some(&json!("required")), &[]).is_err());
    }

    #[test]
    fn calls_and_results_in_the_conversation() {
        let calls = tool_calls(
            Some(&json!([{"id": "call_1", "type": "function",
                          "function": {"name": "search", "arguments": "{\"q\":1}"}}])),
            2,
        )
        .unwrap();
        assert_eq!(
            calls,
            vec![ToolCall {
                id: "call_1".into(),
                name: "search".into(),
                arguments: "{\"q\":1}".into()
            }]
        );
        let e = tool_calls(
            Some(&json!([{"id": "c", "function": {"name": "s", "arguments": {}}}])),
            2,
        )
        .unwrap_err();
        assert!(
            e.message.contains("messages[2].tool_calls[0]"),
            "{}",
            e.message
        );
        assert!(tool_calls(Some(&json!("x")), 0).is_err());
        let m = json!({"role": "tool", "content": "r"});
        assert!(tool_call_id(m.as_object().unwrap(), "tool", 1).is_err());
        let m = json!({"role": "tool", "tool_call_id": "call_1"});
        assert_eq!(
            tool_call_id(m.as_object().unwrap(), "tool", 1).unwrap(),
            Some("call_1".into())
        );
    }
}

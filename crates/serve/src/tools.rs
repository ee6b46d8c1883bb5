//! Tools in the prompt, the way a ChatML model trained on hermes-style
//! function calling expects them (and vLLM's `hermes` parser reads back):
//! the functions' JSON signatures inside `<tools></tools>` in the system
//! message, with the instruction to answer
//! `<tool_call>{"name": …, "arguments": …}</tool_call>`; earlier calls in
//! that shape in the assistant's turns, and their results as
//! `<tool_response>` blocks in a user turn.

use crate::generate::ChatMessage;
use serde_json::{json, Value};
use tokenpace_wire::{Endpoint, Message, ToolCall, ToolChoice};

/// A function as the prompt shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Its name.
    pub name: String,
    /// What it does, when the request says.
    pub description: Option<String>,
    /// Its arguments' JSON schema.
    pub parameters: Value,
}

/// The functions a request body offers, in its API's shape (the wire
/// crate has checked them; other kinds of tool are refused before this).
pub fn specs(endpoint: Endpoint, body: &Value) -> Vec<ToolSpec> {
    let Some(list) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|t| {
            let (f, schema) = match endpoint {
                Endpoint::Chat => (t.get("function")?, "parameters"),
                Endpoint::Messages => (t, "input_schema"),
                _ => (t, "parameters"),
            };
            Some(ToolSpec {
                name: f.get("name")?.as_str()?.to_owned(),
                description: f
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                parameters: f
                    .get(schema)
                    .cloned()
                    .filter(|p| !p.is_null())
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            })
        })
        .collect()
}

/// The system prompt's part that offers `tools`, and says whether one
/// must be called.
pub fn system_text(tools: &[ToolSpec], choice: &ToolChoice) -> String {
    let signatures: Vec<String> = tools
        .iter()
        .map(|t| {
            // In this order, as chat templates write them.
            let description = t
                .description
                .as_ref()
                .map_or(String::new(), |d| format!(", \"description\": {}", json!(d)));
            format!(
                "{{\"type\": \"function\", \"function\": {{\"name\": {}{description}, \"parameters\": {}}}}}",
                json!(t.name),
                t.parameters
            )
        })
        .collect();
    let must = match choice {
        ToolChoice::Required => "\n\nYou must call one of these functions now.".to_owned(),
        ToolChoice::Function(name) => format!("\n\nYou must call the function \"{name}\" now."),
        ToolChoice::None | ToolChoice::Auto => String::new(),
    };
    format!(
        "# Tools\n\nYou may call a function to assist with the user query.\n\n\
         You are provided with function signatures within <tools></tools> XML tags:\n\
         <tools>\n{}\n</tools>\n\n\
         To call a function, return a json object with the function name and arguments \
         within <tool_call></tool_call> XML tags:\n\
         <tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call>{must}",
        signatures.join("\n")
    )
}

/// A call as the model would have written it.
fn call_text(call: &ToolCall) -> String {
    // Arguments that are not JSON are shown as the string they are.
    let arguments = serde_json::from_str::<Value>(&call.arguments)
        .unwrap_or_else(|_| Value::String(call.arguments.clone()));
    // The name first, as the model is asked to write it.
    format!(
        "<tool_call>\n{{\"name\": {}, \"arguments\": {arguments}}}\n</tool_call>",
        json!(call.name)
    )
}

/// The conversation for the chat template: tools offered in the system
/// message, calls in the assistant's text, results in user turns
/// (consecutive results in one).
pub fn render(messages: &[Message], tools: &[ToolSpec], choice: &ToolChoice) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len() + 1);
    let mut previous_was_result = false;
    for m in messages {
        let text = m.text();
        let is_result = m.role == "tool";
        if is_result {
            let block = format!("<tool_response>\n{text}\n</tool_response>");
            match out.last_mut() {
                Some(last) if previous_was_result => {
                    last.content.push('\n');
                    last.content.push_str(&block);
                }
                _ => out.push(ChatMessage {
                    role: "user".into(),
                    content: block,
                }),
            }
        } else {
            let calls: Vec<String> = m.tool_calls.iter().map(call_text).collect();
            let content = [text]
                .into_iter()
                .chain(calls)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            out.push(ChatMessage {
                role: m.role.clone(),
                content,
            });
        }
        previous_was_result = is_result;
    }
    if !tools.is_empty() {
        let offer = system_text(tools, choice);
        match out.first_mut() {
            Some(first) if first.role == "system" => {
                first.content = format!("{}\n\n{offer}", first.content);
            }
            _ => out.insert(
                0,
                ChatMessage {
                    role: "system".into(),
                    content: offer,
                },
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_wire::{request, RequestPrompt};

    fn messages(endpoint: Endpoint, body: &str) -> (Vec<Message>, Vec<ToolSpec>, ToolChoice) {
        let r = request::parse(endpoint, body.as_bytes(), 100).unwrap();
        let RequestPrompt::Chat(m) = r.prompt else {
            panic!()
        };
        let raw: Value = serde_json::from_str(body).unwrap();
        (m, specs(endpoint, &raw), r.tool_choice)
    }

    #[test]
    fn the_three_apis_offer_the_same_function() {
        let want = ToolSpec {
            name: "search".into(),
            description: Some("Find".into()),
            parameters: json!({"type": "object"}),
        };
        for (endpoint, body) in [
            (
                Endpoint::Chat,
                r#"{"messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"search","description":"Find","parameters":{"type":"object"}}}]}"#,
            ),
            (
                Endpoint::Responses,
                r#"{"input":"q","tools":[{"type":"function","name":"search","description":"Find","parameters":{"type":"object"}}]}"#,
            ),
            (
                Endpoint::Messages,
                r#"{"max_tokens":5,"messages":[{"role":"user","content":"q"}],"tools":[{"name":"search","description":"Find","input_schema":{"type":"object"}}]}"#,
            ),
        ] {
            let (_, specs, choice) = messages(endpoint, body);
            assert_eq!(specs, vec![want.clone()], "{endpoint:?}");
            assert_eq!(choice, ToolChoice::Auto);
        }
    }

    #[test]
    fn tools_calls_and_results_render_hermes_style() {
        let body = r#"{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"q"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"query\":\"x\"}"}},
               {"id":"c2","type":"function","function":{"name":"search","arguments":"not json"}}]},
            {"role":"tool","tool_call_id":"c1","content":"r1"},{"role":"tool","tool_call_id":"c2","content":"r2"}],
            "tools":[{"type":"function","function":{"name":"search"}}],"tool_choice":"required"}"#;
        let (m, specs, choice) = messages(Endpoint::Chat, body);
        let out = render(&m, &specs, &choice);
        let roles: Vec<&str> = out.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert!(
            out[0].content.starts_with("Be brief.\n\n# Tools"),
            "{}",
            out[0].content
        );
        assert!(
            out[0]
                .content
                .contains(r#"{"type": "function", "function": {"name": "search", "parameters": {"#),
            "{}",
            out[0].content
        );
        assert!(out[0]
            .content
            .ends_with("You must call one of these functions now."));
        assert_eq!(
            out[2].content,
            "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\":\"x\"}}\n</tool_call>\n\
             <tool_call>\n{\"name\": \"search\", \"arguments\": \"not json\"}\n</tool_call>"
        );
        assert_eq!(
            out[3].content,
            "<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response>"
        );
    }

    #[test]
    fn without_tools_the_conversation_is_unchanged_and_a_named_choice_is_said() {
        let (m, specs, choice) = messages(
            Endpoint::Chat,
            r#"{"messages":[{"role":"user","content":"hi"}]}"#,
        );
        let out = render(&m, &specs, &choice);
        assert_eq!(
            out,
            vec![ChatMessage {
                role: "user".into(),
                content: "hi".into()
            }]
        );
        let named = system_text(&[], &ToolChoice::Function("search".into()));
        assert!(named.ends_with("You must call the function \"search\" now."));
        // Tools but no system message: one is added first.
        let (m, specs, choice) = messages(
            Endpoint::Responses,
            r#"{"input":"hi","tools":[{"type":"function","name":"search"}],"tool_choice":"none"}"#,
        );
        let out = render(&m, &specs, &choice);
        assert_eq!((out[0].role.as_str(), out.len()), ("system", 2));
        assert!(!out[0].content.contains("You must"));
    }
}

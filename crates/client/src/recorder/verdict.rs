//! Why a finished response is not a success: what it sent instead of
//! visible text, or tool calls a client could not act on.

use crate::guard::Guard;
use crate::transcript::Transcript;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::setting::Setting;

/// What a response with tokens but no answer text and no tool call sent
/// instead: reasoning only, and why it stopped.
pub(super) fn no_visible_text(r: &RequestRecord, finish_reason: &Option<String>) -> String {
    let n = r.reasoning_chunks.len();
    let why = match finish_reason.as_deref() {
        Some("length") => format!(
            ", stopped at max_tokens while reasoning: raise {}, or lower the reasoning effort",
            Setting::MaxTokens
        ),
        _ => String::new(),
    };
    format!("the response has no visible text: reasoning only ({n} reasoning chunks{why})")
}

/// Why a response's tool calls cannot be acted on, if they cannot.
pub(super) fn bad_tool_call(
    t: &Transcript,
    finish_reason: &Option<String>,
    guard: &Guard,
) -> Option<String> {
    t.tool_calls.iter().enumerate().find_map(|(i, call)| {
        if call.name.is_empty() {
            return Some(format!("tool call {i} has no function name"));
        }
        let args = call.arguments.trim();
        let parsed = if args.is_empty() {
            Ok(serde_json::Value::Object(Default::default()))
        } else {
            serde_json::from_str::<serde_json::Value>(args)
        };
        match parsed {
            Ok(_) => None,
            Err(e) => {
                // Joined from many events: redacted whole, then cut.
                let shown = guard.keep(args, Guard::ARGUMENT_CHARS);
                // Cut short by the token cap: the request's limit, not the server.
                let cut = e.is_eof() && finish_reason.as_deref() == Some("length");
                let why = if cut {
                    format!(", cut off at max_tokens: raise {}", Setting::MaxTokens)
                } else {
                    String::new()
                };
                Some(format!(
                    "tool call {i} ({}) has arguments that are not JSON ({e}{why}): {shown}",
                    call.name
                ))
            }
        }
    })
}

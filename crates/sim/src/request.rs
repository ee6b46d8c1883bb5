//! A request as the simulator acts on it: the body as the wire crate
//! parsed it, and its prompt length by the simulator's estimate.

use tokenpace_corpus::estimate_tokens;
use tokenpace_wire::{request, ApiError, CompletionRequest, Endpoint, PromptPart, RequestPrompt};

/// The parts of a request that shape the response.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    /// The parsed body.
    pub api: CompletionRequest,
    /// Estimated prompt tokens (see [`tokenpace_corpus::estimate_tokens`];
    /// a prompt given as token ids counts one per id).
    pub prompt_tokens: u64,
}

/// Parses and checks a request body; `max_tokens_limit` plays the part of
/// the context length. The native APIs are answered only as a stream;
/// Anthropic's and the Responses API also whole.
pub fn parse(
    endpoint: Endpoint,
    body: &[u8],
    max_tokens_limit: u64,
) -> Result<GenRequest, ApiError> {
    let api = request::parse(endpoint, body, max_tokens_limit)?;
    if endpoint.is_native() && !api.stream {
        return Err(ApiError::invalid(
            "the simulator answers this API only as a stream: send \"stream\": true",
            Some("stream"),
        ));
    }
    Ok(GenRequest {
        prompt_tokens: prompt_tokens(&api.prompt),
        api,
    })
}

/// The estimated length of a prompt: every text part (and an assistant's
/// tool calls' names and arguments) estimated on its own, as the
/// [`crate::prefix_cache`] cuts them.
pub(crate) fn prompt_tokens(prompt: &RequestPrompt) -> u64 {
    match prompt {
        RequestPrompt::Chat(messages) => messages
            .iter()
            .flat_map(|m| {
                let calls = m.tool_calls.iter();
                let calls = calls.flat_map(|c| [c.name.as_str(), c.arguments.as_str()]);
                m.parts.iter().map(String::as_str).chain(calls)
            })
            .map(estimate_tokens)
            .sum(),
        RequestPrompt::Completion(parts) => parts
            .iter()
            .map(|p| match p {
                PromptPart::Text(t) => estimate_tokens(t),
                PromptPart::Tokens(ids) => ids.len() as u64,
            })
            .sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_lengths_are_estimated_part_by_part() {
        let r = parse(
            Endpoint::Chat,
            r#"{"messages":[{"role":"user","content":"abcdefgh"},{"role":"user","content":[{"type":"text","text":"你好你"}]}]}"#
                .as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(r.prompt_tokens, 2 + 2);
        let r = parse(Endpoint::Completions, br#"{"prompt":[[1,2,3],"abcd"]}"#, 10).unwrap();
        assert_eq!(r.prompt_tokens, 4);
        let r = parse(
            Endpoint::LlamaCpp,
            br#"{"prompt":"abcdefgh","stream":true}"#,
            10,
        )
        .unwrap();
        assert_eq!(r.prompt_tokens, 2);
        let r = parse(
            Endpoint::OllamaChat,
            br#"{"messages":[{"role":"user","content":"abcd"}]}"#,
            10,
        )
        .unwrap();
        assert_eq!(r.prompt_tokens, 1);
    }

    #[test]
    fn tool_calls_count_and_the_cache_cuts_the_same_tokens() {
        let r = parse(
            Endpoint::Chat,
            r#"{"messages":[{"role":"user","content":"你好, find abcdefgh"},
                {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"search","arguments":"{\"q\":\"你\"}"}}]},
                {"role":"tool","tool_call_id":"c1","content":"found it"}]}"#
                .as_bytes(),
            100,
        )
        .unwrap();
        let parts = [
            "你好, find abcdefgh",
            "search",
            "{\"q\":\"你\"}",
            "found it",
        ];
        let want: u64 = parts.iter().map(|p| estimate_tokens(p)).sum();
        assert_eq!(r.prompt_tokens, want);
        assert_eq!(crate::prefix_cache::token_count(&r.api.prompt), want);
    }

    #[test]
    fn native_apis_only_stream() {
        let e = parse(Endpoint::LlamaCpp, br#"{"prompt":"a"}"#, 10).unwrap_err();
        assert!(e.message.contains("stream"), "{}", e.message);
        assert!(parse(Endpoint::Tgi, br#"{"inputs":"a","stream":false}"#, 10).is_err());
    }
}

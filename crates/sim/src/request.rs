//! A request as the simulator acts on it: the body as the wire crate
//! parsed it, and its prompt length by the simulator's estimate.

use tokenpace_corpus::estimate_tokens;
use tokenpace_wire::{request, ApiError, CompletionRequest, Endpoint, Prompt, PromptPart};

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
/// the context length. The native APIs are answered only as a stream.
pub fn parse(
    endpoint: Endpoint,
    body: &[u8],
    max_tokens_limit: u64,
) -> Result<GenRequest, ApiError> {
    let api = request::parse(endpoint, body, max_tokens_limit)?;
    if endpoint.is_native() && !api.stream {
        return Err(ApiError::invalid(
            "the simulator answers native APIs only as a stream: send \"stream\": true",
            Some("stream"),
        ));
    }
    Ok(GenRequest {
        prompt_tokens: prompt_tokens(&api.prompt),
        api,
    })
}

/// The estimated length of a prompt: every text part estimated on its own.
fn prompt_tokens(prompt: &Prompt) -> u64 {
    match prompt {
        Prompt::Chat(messages) => messages
            .iter()
            .flat_map(|m| &m.parts)
            .map(|t| estimate_tokens(t))
            .sum(),
        Prompt::Completion(parts) => parts
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
    fn native_apis_only_stream() {
        let e = parse(Endpoint::LlamaCpp, br#"{"prompt":"a"}"#, 10).unwrap_err();
        assert!(e.message.contains("stream"), "{}", e.message);
        assert!(parse(Endpoint::Tgi, br#"{"inputs":"a","stream":false}"#, 10).is_err());
    }
}

//! A request body, parsed by the wire crate, turned into a
//! [`GenerationRequest`]: the prompt in the generator's terms and the
//! sampling settings only the engine acts on.

use crate::generate::{GenerationRequest, PromptInput, Sampling};
use crate::{support, toolcall, tools};
use serde_json::Value;
use tokenpace_wire::{
    request, ApiError, CompletionRequest, Endpoint, PromptPart, RequestPrompt, ToolChoice,
};

/// A parsed request: how to answer and what to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// The body as the client sent it (stream, usage, model, …).
    pub api: CompletionRequest,
    /// What to generate.
    pub generation: GenerationRequest,
    /// Whether and which tools the answer may call.
    pub tools: Option<ToolUse>,
}

/// The answer may be a tool call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolUse {
    /// The functions it may call.
    pub names: Vec<String>,
    /// `tool_choice` demands a call (`required`, `any` or a named function).
    pub required: bool,
}

impl ToolUse {
    /// Tool use of a request: none under `tool_choice: none` or without tools.
    fn of(api: &CompletionRequest) -> Option<Self> {
        let all = || api.tools.iter().map(|t| t.name.clone()).collect();
        match &api.tool_choice {
            _ if api.tools.is_empty() => None,
            ToolChoice::None => None,
            ToolChoice::Auto => Some(ToolUse {
                names: all(),
                required: false,
            }),
            ToolChoice::Required => Some(ToolUse {
                names: all(),
                required: true,
            }),
            ToolChoice::Function(name) => Some(ToolUse {
                names: vec![name.clone()],
                required: true,
            }),
        }
    }
}

/// Answers stop here unless the request says otherwise.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

fn invalid(message: impl Into<String>, param: &'static str) -> ApiError {
    ApiError::invalid(message, Some(param))
}

/// Parses and checks a request body. `seed_fallback` seeds sampling when
/// the request gives no `seed`.
pub fn parse(endpoint: Endpoint, body: &[u8], seed_fallback: u32) -> Result<ApiRequest, ApiError> {
    // The generator takes at most u32::MAX tokens; its context bounds them
    // further when it runs.
    let api = request::parse(endpoint, body, u64::from(u32::MAX))?;
    // The wire crate has read it as JSON; what it leaves out is read here.
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    support::check(endpoint, &raw)?;
    let prompt =
        match &api.prompt {
            RequestPrompt::Chat(messages) => PromptInput::Chat(tools::render(
                messages,
                &tools::specs(endpoint, &raw),
                &api.tool_choice,
            )),
            RequestPrompt::Completion(parts) => match parts.as_slice() {
                [PromptPart::Text(t)] => PromptInput::Text(t.clone()),
                [PromptPart::Tokens(ids)] => PromptInput::Tokens(
                    ids.iter()
                        .map(|&t| u32::try_from(t))
                        .collect::<Result<_, _>>()
                        .map_err(|_| {
                            invalid("token ids must be integers from 0 to 4294967295", "prompt")
                        })?,
                ),
                _ => return Err(invalid(
                    "'prompt' must be a string, or an array of token ids (one prompt per request)",
                    "prompt",
                )),
            },
        };
    let temperature = api.number("temperature")?.unwrap_or(1.0);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(invalid(
            format!("temperature {temperature} must be between 0 and 2"),
            "temperature",
        ));
    }
    let top_p = api.number("top_p")?.unwrap_or(1.0);
    if !(top_p > 0.0 && top_p <= 1.0) {
        return Err(invalid(format!("top_p {top_p} must be in (0, 1]"), "top_p"));
    }
    let tools = ToolUse::of(&api);
    let mut stop = api.stop.clone();
    if tools.is_some() {
        // One call per answer: generation ends with it.
        stop.push(toolcall::CLOSE.to_owned());
    }
    let max_tokens = api
        .max_tokens
        .map_or(DEFAULT_MAX_TOKENS, |n| u32::try_from(n).unwrap_or(u32::MAX));
    support::min_tokens(&api, max_tokens)?;
    let generation = GenerationRequest {
        prompt,
        max_tokens,
        sampling: Sampling {
            temperature: temperature as f32,
            top_p: top_p as f32,
            // Seeds wrap around into u32.
            seed: api.seed.map_or(seed_fallback, |s| s as u32),
        },
        ignore_eos: api.ignore_eos,
        stop,
    };
    Ok(ApiRequest {
        api,
        generation,
        tools,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::ChatMessage;

    #[test]
    fn chat_request_with_every_option() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,
            "stream_options":{"include_usage":true},"max_tokens":7,"temperature":0.5,"top_p":0.9,
            "seed":42,"ignore_eos":true,"stop":["\n\n"]}"#;
        let r = parse(Endpoint::Chat, body, 1).unwrap();
        assert!(r.api.stream && r.api.include_usage);
        assert_eq!(r.generation.max_tokens, 7);
        assert_eq!(
            r.generation.sampling,
            Sampling {
                temperature: 0.5,
                top_p: 0.9,
                seed: 42
            }
        );
        assert!(r.generation.ignore_eos);
        assert_eq!(r.generation.stop, vec!["\n\n".to_string()]);
        assert_eq!(
            r.generation.prompt,
            PromptInput::Chat(vec![ChatMessage {
                role: "user".into(),
                content: "hi".into()
            }])
        );
    }

    #[test]
    fn completions_take_text_or_token_ids() {
        let r = parse(Endpoint::Completions, br#"{"prompt":"abc"}"#, 3).unwrap();
        assert_eq!(r.generation.prompt, PromptInput::Text("abc".into()));
        assert_eq!(r.generation.max_tokens, DEFAULT_MAX_TOKENS);
        assert_eq!(r.generation.sampling.seed, 3);
        let r = parse(Endpoint::Completions, br#"{"prompt":[1,2,3]}"#, 0).unwrap();
        assert_eq!(r.generation.prompt, PromptInput::Tokens(vec![1, 2, 3]));
    }

    #[test]
    fn messages_and_responses_requests_generate_the_same_way() {
        let r = parse(
            Endpoint::Messages,
            br#"{"max_tokens":9,"system":"s","messages":[{"role":"user","content":"hi"}],
                "stop_sequences":["END"],"temperature":0.2,"tools":[{"name":"search","input_schema":{}}],
                "tool_choice":{"type":"any"}}"#,
            1,
        )
        .unwrap();
        assert_eq!(r.generation.max_tokens, 9);
        assert_eq!(r.generation.stop, vec!["END", toolcall::CLOSE]);
        assert_eq!(r.generation.sampling.temperature, 0.2);
        assert_eq!(
            r.tools,
            Some(ToolUse {
                names: vec!["search".into()],
                required: true
            })
        );
        let PromptInput::Chat(m) = &r.generation.prompt else {
            panic!()
        };
        assert!(m[0].content.starts_with("s\n\n# Tools"), "{}", m[0].content);
        let r = parse(
            Endpoint::Responses,
            br#"{"input":"hi","instructions":"s","max_output_tokens":5,
                "tools":[{"type":"function","name":"search"}],"tool_choice":"none"}"#,
            1,
        )
        .unwrap();
        assert_eq!((r.generation.max_tokens, r.tools.is_none()), (5, true));
        assert!(r.generation.stop.is_empty(), "no call to stop at");
        let r = parse(Endpoint::Responses, br#"{"input":"hi"}"#, 1).unwrap();
        assert_eq!(r.generation.max_tokens, DEFAULT_MAX_TOKENS);
        let e = parse(
            Endpoint::Responses,
            br#"{"input":"hi","background":true}"#,
            1,
        )
        .unwrap_err();
        assert_eq!((e.status, e.param), (400, Some("background")));
    }

    #[test]
    fn bad_requests_name_the_field() {
        for (endpoint, body, field) in [
            (Endpoint::Chat, &br#"{"messages":[]}"#[..], "messages"),
            (
                Endpoint::Chat,
                br#"{"messages":[{"content":"x"}]}"#,
                "messages",
            ),
            (Endpoint::Completions, br#"{"prompt":{}}"#, "prompt"),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","max_tokens":0}"#,
                "max_tokens",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","temperature":3}"#,
                "temperature",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","top_p":0}"#,
                "top_p",
            ),
            (Endpoint::Completions, br#"{"prompt":"x","n":2}"#, "n"),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","stop":[1]}"#,
                "stop",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","stream":"yes"}"#,
                "stream",
            ),
        ] {
            let e = parse(endpoint, body, 0).unwrap_err();
            assert_eq!(
                (e.status, e.param),
                (400, Some(field)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            parse(Endpoint::Chat, b"{", 0).unwrap_err().code,
            "invalid_json"
        );
    }
}

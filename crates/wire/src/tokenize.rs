//! `POST /tokenize` in vLLM's shape: a prompt's tokens as the server
//! counts them, so a client can cut prompts to an exact length on the
//! server's own tokenizer.
//!
//! Request: `{"model": …, "prompt": "text", "add_special_tokens": bool}`
//! or `{"model": …, "messages": [chat messages], "add_generation_prompt":
//! bool, "add_special_tokens": bool}`; both flags default to true (the
//! special-token handling of the server's own completions and chat routes).
//! Response: `{"count": N, "max_model_len": L, "tokens": [ids…],
//! "token_strs": null}`, where `count` is what `usage.prompt_tokens` says
//! for the same prompt sent to `/v1/completions` (prompt form) or the same
//! messages sent to `/v1/chat/completions` (messages form). The body is
//! also read as that route's request ([`TokenizeRequest::endpoint`]), so a
//! server counts it with the very code that counts the route's prompts.

use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::request::{bool_field, chat_prompt, object, Endpoint, PromptPart, RequestPrompt};

/// A `/tokenize` request, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizeRequest {
    /// Model name, when given.
    pub model: Option<String>,
    /// The text (one [`PromptPart::Text`]) or the chat messages.
    pub prompt: RequestPrompt,
    /// Add the special tokens (BOS) the server's own routes add.
    pub add_special_tokens: bool,
    /// Messages: end with the opening of the assistant's turn, as the chat
    /// route does (vLLM's `add_generation_prompt`).
    pub add_generation_prompt: bool,
}

impl TokenizeRequest {
    /// The route whose prompts this one is counted as: chat for messages,
    /// completions for a prompt.
    pub fn endpoint(&self) -> Endpoint {
        match self.prompt {
            RequestPrompt::Chat(_) => Endpoint::Chat,
            RequestPrompt::Completion(_) => Endpoint::Completions,
        }
    }
}

/// Parses and checks a `/tokenize` body; errors name the field.
pub fn parse(body: &[u8]) -> Result<TokenizeRequest, ApiError> {
    let obj = object(body)?;
    let prompt = match (obj.get("prompt"), obj.get("messages")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give either 'prompt' or 'messages', not both",
                Some("messages"),
            ))
        }
        (Some(Value::String(text)), None) => {
            RequestPrompt::Completion(vec![PromptPart::Text(text.clone())])
        }
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "'prompt' must be a string",
                Some("prompt"),
            ))
        }
        (None, Some(_)) => chat_prompt(obj.get("messages"), true)?,
        (None, None) => {
            return Err(ApiError::missing(
                "'prompt' (a string) or 'messages' (chat messages) is required",
                "prompt",
            ))
        }
    };
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("'model' must be a string", Some("model"))),
    };
    let flag = |name: &'static str| match obj.get(name) {
        None | Some(Value::Null) => Ok(true),
        v => bool_field(v, name),
    };
    Ok(TokenizeRequest {
        model,
        prompt,
        add_special_tokens: flag("add_special_tokens")?,
        add_generation_prompt: flag("add_generation_prompt")?,
    })
}

#[derive(Serialize)]
struct Body<'a> {
    count: usize,
    max_model_len: u64,
    tokens: &'a [u64],
    token_strs: Option<()>,
}

/// The response body: the prompt's `tokens` and the context length.
pub fn body(tokens: &[u64], max_model_len: u64) -> Vec<u8> {
    serde_json::to_vec(&Body {
        count: tokens.len(),
        max_model_len,
        tokens,
        token_strs: None,
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_and_messages_forms() {
        let t = parse(br#"{"model":"m","prompt":"hello"}"#).unwrap();
        assert_eq!(t.model.as_deref(), Some("m"));
        assert_eq!(
            t.prompt,
            RequestPrompt::Completion(vec![PromptPart::Text("hello".into())])
        );
        assert!(t.add_special_tokens && t.add_generation_prompt);
        assert_eq!(t.endpoint(), Endpoint::Completions);
        let t = parse(
            br#"{"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":false,
                "add_special_tokens":false}"#,
        )
        .unwrap();
        assert_eq!(t.endpoint(), Endpoint::Chat);
        assert!(!t.add_special_tokens && !t.add_generation_prompt);
        let RequestPrompt::Chat(m) = &t.prompt else {
            panic!()
        };
        assert_eq!((m[0].role.as_str(), m[0].text()), ("user", "hi".into()));
    }

    #[test]
    fn errors_name_the_field() {
        for (body, field) in [
            (&br#"{}"#[..], Some("prompt")),
            (br#"{"prompt":[1,2]}"#, Some("prompt")),
            (br#"{"prompt":"x","messages":[]}"#, Some("messages")),
            (br#"{"messages":[]}"#, Some("messages")),
            (br#"{"messages":[{"content":"x"}]}"#, Some("messages")),
            (br#"{"prompt":"x","model":1}"#, Some("model")),
            (
                br#"{"prompt":"x","add_special_tokens":"no"}"#,
                Some("add_special_tokens"),
            ),
            (
                br#"{"prompt":"x","add_generation_prompt":1}"#,
                Some("add_generation_prompt"),
            ),
            (br#"[1]"#, None),
        ] {
            let e = parse(body).unwrap_err();
            assert_eq!(
                (e.status, e.param),
                (400, field),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(parse(b"{").unwrap_err().code, "invalid_json");
    }

    #[test]
    fn body_has_vllms_shape() {
        assert_eq!(
            String::from_utf8(body(&[0, 1, 2], 2048)).unwrap(),
            r#"{"count":3,"max_model_len":2048,"tokens":[0,1,2],"token_strs":null}"#
        );
    }
}

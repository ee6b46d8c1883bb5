//! `POST /tokenize` (vLLM's shape, [`tokenpace_wire::tokenize`]) on the
//! generator's own tokenizer. The body is read as the request of the route
//! it stands for (chat for `messages`, completions for `prompt`) by the
//! same parser those routes use, so the prompt is built exactly as theirs
//! (chat template input, tools offered), and `count` is the
//! `usage.prompt_tokens` they report for it.

use tokenpace_wire::{tokenize as wire, ApiError};

use crate::generate::TokenizeOptions;
use crate::request::parse;
use crate::respond::{submit_error, State};

/// The response body for a `/tokenize` request.
pub(crate) fn tokenize(state: &State, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request = wire::parse(body)?;
    let prompt = parse(request.endpoint(), body, 0)?.generation.prompt;
    let options = TokenizeOptions {
        add_special_tokens: request.add_special_tokens,
        add_generation_prompt: request.add_generation_prompt,
    };
    let tokens = state
        .generator
        .tokenize_prompt(&prompt, options)
        .map_err(submit_error)?;
    let ids: Vec<u64> = tokens.ids.iter().map(|&id| u64::from(id)).collect();
    Ok(wire::body(&ids, u64::from(tokens.max_model_len)))
}

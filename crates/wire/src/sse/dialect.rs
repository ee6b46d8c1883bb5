//! Server dialects: the same API as different servers write it. tokenpace's
//! own shapes are the default; another dialect reproduces a real server's
//! bytes (its extra fields, where its usage goes, how it ends a stream) so
//! a client can be tested against them without that server.
//!
//! Every difference between dialects is one field of [`DialectShape`], and
//! [`Dialect::shape`] is the one place that chooses it: the bodies read
//! the shape, never the dialect. A new dialect is a new variant and its
//! `DialectShape`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::request::Endpoint;

/// Whose bytes a server writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// tokenpace's own shapes: OpenAI's and Anthropic's documented fields
    /// and nothing else.
    #[default]
    Tokenpace,
    /// vLLM 0.32's OpenAI-compatible server, as captured in
    /// `tests/data/captures/vllm-0.32-cpu/`.
    Vllm,
    /// OpenAI's hosted API: tokenpace's byte shapes, but a request carrying
    /// an argument the API does not define is refused as OpenAI (and, on
    /// the Messages route, Anthropic) refuses it (see
    /// [`crate::request::strict`]), and there is no `/tokenize`.
    Openai,
    /// DeepSeek's API: OpenAI's chat chunks with the reasoning first, as
    /// `delta.reasoning_content`, and its count in usage.
    Deepseek,
    /// OpenRouter: OpenAI's chunks, with `: OPENROUTER PROCESSING` comment
    /// lines while the answer is prepared and among its chunks.
    Openrouter,
    /// Groq: the usage inside `x_groq` on the finish chunk, never a usage
    /// chunk of its own.
    Groq,
    /// Gemini's OpenAI-compatible API: the finish reason, and usage when
    /// asked, on the last token's chunk; no chunk of their own.
    Gemini,
    /// Anthropic's Messages API: the answer opens with a `thinking` block
    /// closed by its `signature_delta`, and `ping` events.
    Anthropic,
    /// OpenAI's API with a reasoning model asked for its summary: a
    /// Responses answer opens with a reasoning item streamed as
    /// `response.reasoning_summary_text.delta`s.
    #[serde(rename = "openai-reasoning")]
    OpenaiReasoning,
}

/// The `system_fingerprint` of the vLLM dialect.
pub const VLLM_FINGERPRINT: &str = "vllm-0.32.0-tokenpace-sim";

const VLLM_RESPONSE_FIELDS: &str = ",\"instructions\":null,\"metadata\":null,\"parallel_tool_calls\":true,\
\"temperature\":1.0,\"tool_choice\":\"none\",\"tools\":[],\"top_p\":1.0,\"background\":false,\
\"max_output_tokens\":null,\"max_tool_calls\":null,\"previous_response_id\":null,\"prompt\":null,\
\"reasoning\":null,\"service_tier\":\"auto\",\"text\":null,\"top_logprobs\":null,\"truncation\":\"disabled\",\
\"user\":null,\"presence_penalty\":0.0,\"frequency_penalty\":0.0,\"kv_transfer_params\":null,\
\"ec_transfer_params\":null,\"input_messages\":null,\"output_messages\":null";

impl Dialect {
    /// Every dialect, in the order help text lists them.
    pub const ALL: [Dialect; 9] = [
        Dialect::Tokenpace,
        Dialect::Vllm,
        Dialect::Openai,
        Dialect::Deepseek,
        Dialect::Openrouter,
        Dialect::Groq,
        Dialect::Gemini,
        Dialect::Anthropic,
        Dialect::OpenaiReasoning,
    ];

    /// Its name in flags and config files.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Tokenpace => "tokenpace",
            Dialect::Vllm => "vllm",
            Dialect::Openai => "openai",
            Dialect::Deepseek => "deepseek",
            Dialect::Openrouter => "openrouter",
            Dialect::Groq => "groq",
            Dialect::Gemini => "gemini",
            Dialect::Anthropic => "anthropic",
            Dialect::OpenaiReasoning => "openai-reasoning",
        }
    }

    /// What its bodies look like: the one place dialects differ.
    pub fn shape(self) -> &'static DialectShape {
        match self {
            Dialect::Tokenpace => &TOKENPACE,
            Dialect::Vllm => &VLLM,
            Dialect::Openai => &OPENAI,
            Dialect::Deepseek => &DEEPSEEK,
            Dialect::Openrouter => &OPENROUTER,
            Dialect::Groq => &GROQ,
            Dialect::Gemini => &GEMINI,
            Dialect::Anthropic => &ANTHROPIC,
            Dialect::OpenaiReasoning => &OPENAI_REASONING,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown dialect '{s}': use one of {}", names.join(", "))
            })
    }
}

/// How a usage object is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageStyle {
    /// OpenAI's fields: prompt, completion and total tokens, then
    /// `prompt_tokens_details.cached_tokens` when there is a cache; the
    /// usage sent on every chunk is the same object.
    OpenAi,
    /// vLLM's: prompt, total, completion; chat adds
    /// `prompt_tokens_details.created_cache_tokens`; the usage on every
    /// chunk has `completion_tokens_details: null` instead of the details.
    Vllm,
    /// DeepSeek's: OpenAI's fields, `completion_tokens_details.reasoning_tokens`
    /// when the answer reasoned, and `prompt_cache_hit_tokens` /
    /// `prompt_cache_miss_tokens`.
    DeepSeek,
}

/// Whose model list `GET /v1/models` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelCard {
    /// tokenpace's: `owned_by: "tokenpace"`, with `max_model_len`.
    Tokenpace,
    /// vLLM's: `owned_by: "vllm"`, `root`, `parent`, `max_model_len` and
    /// `permission`, as captured.
    Vllm,
    /// OpenAI's: `id`, `object`, `created` and `owned_by: "system"` only.
    OpenAi,
}

impl ModelCard {
    /// Its `owned_by`.
    pub fn owned_by(self) -> &'static str {
        match self {
            ModelCard::Tokenpace => "tokenpace",
            ModelCard::Vllm => "vllm",
            ModelCard::OpenAi => "system",
        }
    }
}

/// Every way the dialects' bodies differ (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialectShape {
    /// Chat: a role-only first chunk (`"content":""`) before the first
    /// token's, with these top-level fields; `None`: the role rides on the
    /// first token's chunk.
    pub role_chunk: Option<&'static str>,
    /// Fields after `finish_reason` in a chat choice that does not finish.
    pub chat_tail: &'static str,
    /// Fields after `finish_reason` in a chat choice that finishes.
    pub chat_finish_tail: &'static str,
    /// Fields after `finish_reason` in every completions choice.
    pub completion_tail: &'static str,
    /// A text answer's finish reason rides on its last token's chunk
    /// rather than a chunk of its own.
    pub finish_on_last_chunk: bool,
    /// Top-level fields of the last event before `[DONE]`.
    pub last_event_fields: &'static str,
    /// How usage objects are written.
    pub usage: UsageStyle,
    /// Chat tool-call deltas say `"content":null`, and the first names the
    /// function without empty `arguments` (its role came in the role chunk).
    pub tool_delta_content_null: bool,
    /// Anthropic's `message_start` reports the whole prompt as
    /// `input_tokens`, without cache fields (the split comes in
    /// `message_delta`); otherwise it has the split, as Anthropic does.
    pub messages_start_whole_prompt: bool,
    /// Anthropic's `message_start` is followed by a `ping`.
    pub messages_ping: bool,
    /// Anthropic's `message_delta` always has the prompt's split (zeros
    /// without a cache), vLLM's field order; otherwise only with a cache.
    pub messages_delta_always_split: bool,
    /// Responses: an answer cut by `max_output_tokens` ends with
    /// `response.completed` (status `incomplete`) rather than
    /// `response.incomplete`.
    pub responses_length_completes: bool,
    /// Responses: the server's extra fields (the response object's echo
    /// of settings, `phase`, parts' `logprobs`, usage's `cache_write_tokens`
    /// and `*_per_turn` arrays, `incomplete_details` always present).
    pub responses_vllm_fields: Option<&'static str>,
    /// What `GET /v1/models` lists.
    pub models: ModelCard,
    /// `GET /version`'s version, where the server has that route (vLLM).
    pub version: Option<&'static str>,
    /// `POST /tokenize` is served (vLLM's shape; hosted APIs have none).
    pub tokenize: bool,
    /// Request arguments the hosted API does not define are refused
    /// ([`crate::request::strict`]); otherwise they are ignored.
    pub strict_arguments: bool,
    /// The API whose answers open with reasoning (half their tokens,
    /// rounded down), streamed as it says reasoning: chat as DeepSeek's
    /// `reasoning_content`, Messages as a `thinking` block closed by its
    /// `signature_delta`, Responses as a reasoning item's summary. Tool
    /// calls do not reason.
    pub reasoning: Option<Endpoint>,
    /// An SSE comment line written before the first token and halfway
    /// through (OpenRouter's, without its leading `: `).
    pub comment: Option<&'static str>,
    /// Chat: the finish chunk carries usage in `x_groq.usage` (Groq's), and
    /// no usage chunk follows, asked or not.
    pub x_groq_usage: bool,
    /// Chat: usage, when asked, rides on the last token's chunk with the
    /// finish reason (Gemini's) rather than a chunk of its own.
    pub usage_on_last_chunk: bool,
}

const TOKENPACE: DialectShape = DialectShape {
    role_chunk: None,
    chat_tail: "",
    chat_finish_tail: "",
    completion_tail: "",
    finish_on_last_chunk: false,
    last_event_fields: "",
    usage: UsageStyle::OpenAi,
    tool_delta_content_null: false,
    messages_start_whole_prompt: false,
    messages_ping: true,
    messages_delta_always_split: false,
    responses_length_completes: false,
    responses_vllm_fields: None,
    models: ModelCard::Tokenpace,
    version: None,
    tokenize: true,
    strict_arguments: false,
    reasoning: None,
    comment: None,
    x_groq_usage: false,
    usage_on_last_chunk: false,
};

const OPENAI: DialectShape = DialectShape {
    models: ModelCard::OpenAi,
    tokenize: false,
    strict_arguments: true,
    ..TOKENPACE
};

// The hosted providers' shapes, from their own published streams (sources
// in tests/data/dialects/README.md); each refuses what OpenAI's API
// refuses, and has no `/tokenize`.

const DEEPSEEK: DialectShape = DialectShape {
    reasoning: Some(Endpoint::Chat),
    usage: UsageStyle::DeepSeek,
    ..OPENAI
};

const OPENROUTER: DialectShape = DialectShape {
    comment: Some("OPENROUTER PROCESSING"),
    ..OPENAI
};

const GROQ: DialectShape = DialectShape {
    x_groq_usage: true,
    ..OPENAI
};

const GEMINI: DialectShape = DialectShape {
    finish_on_last_chunk: true,
    usage_on_last_chunk: true,
    ..OPENAI
};

const OPENAI_REASONING: DialectShape = DialectShape {
    reasoning: Some(Endpoint::Responses),
    ..OPENAI
};

const ANTHROPIC: DialectShape = DialectShape {
    reasoning: Some(Endpoint::Messages),
    messages_ping: true,
    ..OPENAI
};

const VLLM: DialectShape = DialectShape {
    role_chunk: Some(",\"prompt_token_ids\":null,\"prompt_text\":null"),
    chat_tail: ",\"token_ids\":null",
    chat_finish_tail: ",\"stop_reason\":null,\"token_ids\":null",
    completion_tail: ",\"stop_reason\":null,\"prompt_token_ids\":null,\"token_ids\":null",
    finish_on_last_chunk: true,
    last_event_fields: concat!(
        ",\"system_fingerprint\":\"",
        "vllm-0.32.0-tokenpace-sim",
        "\""
    ),
    usage: UsageStyle::Vllm,
    tool_delta_content_null: true,
    messages_start_whole_prompt: true,
    messages_ping: false,
    messages_delta_always_split: true,
    responses_length_completes: true,
    responses_vllm_fields: Some(VLLM_RESPONSE_FIELDS),
    models: ModelCard::Vllm,
    version: Some("0.32.0"),
    tokenize: true,
    strict_arguments: false,
    ..TOKENPACE
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_default_is_tokenpace() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
            assert_eq!(d.to_string(), d.name());
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.name()));
        }
        assert_eq!(Dialect::default(), Dialect::Tokenpace);
        assert!("VLLM".parse::<Dialect>().is_ok());
        let err = "sglang".parse::<Dialect>().unwrap_err();
        assert!(
            err.contains("tokenpace, vllm, openai, deepseek, openrouter, groq, gemini, anthropic, openai-reasoning"),
            "{err}"
        );
        assert_eq!("OpenAI".parse::<Dialect>().unwrap(), Dialect::Openai);
        assert!(VLLM.last_event_fields.contains(VLLM_FINGERPRINT));
    }
}

//! Whose server a target is, and so what it accepts: a benchmark asks for
//! fixed-length answers (`ignore_eos`, `min_tokens`) and per-chunk usage
//! only where the server takes them, and counts prompt tokens on the
//! server's own tokenizer where it has an endpoint for it. Hosted APIs
//! (OpenAI, Anthropic, DeepSeek, …) reject arguments they do not define
//! with an HTTP 400, so an unknown server is sent none of them.

use serde::{Deserialize, Serialize};

/// The kind of server, discovered from `GET /v1/models` (`owned_by`) or
/// given with `--server-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    /// vLLM.
    Vllm,
    /// SGLang.
    Sglang,
    /// llama.cpp's `llama-server`.
    Llamacpp,
    /// Hugging Face TGI.
    Tgi,
    /// Ollama.
    Ollama,
    /// tokenpace's own `sim` and `serve`.
    Tokenpace,
    /// Anything else: a hosted API or a gateway; sent only what OpenAI's
    /// and Anthropic's APIs define.
    Other,
}

/// The names `--server-kind` takes.
pub const KIND_IDS: [&str; 7] = [
    "vllm",
    "sglang",
    "llamacpp",
    "tgi",
    "ollama",
    "tokenpace",
    "other",
];

impl ServerKind {
    /// The kind `--server-kind` names.
    pub fn from_id(id: &str) -> Option<ServerKind> {
        Some(match id {
            "vllm" => ServerKind::Vllm,
            "sglang" => ServerKind::Sglang,
            "llamacpp" | "llama.cpp" => ServerKind::Llamacpp,
            "tgi" => ServerKind::Tgi,
            "ollama" => ServerKind::Ollama,
            "tokenpace" => ServerKind::Tokenpace,
            "other" | "hosted" => ServerKind::Other,
            _ => return None,
        })
    }

    /// The id, as `--server-kind` takes it and `run.json` keeps it.
    pub fn id(self) -> &'static str {
        match self {
            ServerKind::Vllm => "vllm",
            ServerKind::Sglang => "sglang",
            ServerKind::Llamacpp => "llamacpp",
            ServerKind::Tgi => "tgi",
            ServerKind::Ollama => "ollama",
            ServerKind::Tokenpace => "tokenpace",
            ServerKind::Other => "other",
        }
    }

    /// The kind a model list's `owned_by` names (vLLM writes `vllm`,
    /// SGLang `sglang`, llama.cpp `llamacpp`, Ollama `library`, tokenpace
    /// `tokenpace`); anything else is [`ServerKind::Other`].
    pub fn from_owner(owned_by: &str) -> ServerKind {
        match owned_by {
            "vllm" => ServerKind::Vllm,
            "sglang" => ServerKind::Sglang,
            "llamacpp" | "llama.cpp" => ServerKind::Llamacpp,
            "library" | "ollama" => ServerKind::Ollama,
            "tgi" | "text-generation-inference" => ServerKind::Tgi,
            "tokenpace" => ServerKind::Tokenpace,
            _ => ServerKind::Other,
        }
    }

    /// Whether it honours `ignore_eos` (and vLLM's `min_tokens`), so
    /// answers can be asked for at a fixed length.
    pub fn takes_ignore_eos(self) -> bool {
        !matches!(self, ServerKind::Other | ServerKind::Ollama)
    }

    /// Whether it sends usage on every chunk when asked
    /// (`stream_options.continuous_usage_stats`, vLLM's).
    pub fn takes_continuous_usage(self) -> bool {
        matches!(self, ServerKind::Vllm)
    }

    /// Its tokenizer endpoint, if it has one: the path and the shape of
    /// its request and answer.
    pub fn tokenize(self) -> Option<TokenizeApi> {
        match self {
            ServerKind::Vllm | ServerKind::Sglang | ServerKind::Tokenpace => {
                Some(TokenizeApi::Vllm)
            }
            ServerKind::Llamacpp => Some(TokenizeApi::Llamacpp),
            ServerKind::Tgi => Some(TokenizeApi::Tgi),
            ServerKind::Ollama | ServerKind::Other => None,
        }
    }
}

/// The shapes of servers' tokenizer endpoints (`POST /tokenize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizeApi {
    /// vLLM, SGLang, tokenpace: `{"prompt"}` or `{"messages"}` in,
    /// `{"count"}` out; the messages form applies the chat template.
    Vllm,
    /// llama.cpp: `{"content"}` in, `{"tokens": […]}` out; no template.
    Llamacpp,
    /// TGI: `{"inputs"}` in, a list of tokens out; no template.
    Tgi,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_owners_map() {
        for id in KIND_IDS {
            assert_eq!(ServerKind::from_id(id).unwrap().id(), id);
        }
        assert_eq!(ServerKind::from_owner("vllm"), ServerKind::Vllm);
        assert_eq!(ServerKind::from_owner("system"), ServerKind::Other);
        assert_eq!(ServerKind::from_owner("openai"), ServerKind::Other);
        assert!(!ServerKind::Other.takes_ignore_eos());
        assert!(ServerKind::Vllm.takes_continuous_usage());
        assert!(!ServerKind::Tokenpace.takes_continuous_usage());
        assert_eq!(ServerKind::Other.tokenize(), None);
    }
}

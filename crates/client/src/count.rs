//! Counting a prompt's tokens with the tokenizer that counts: the server's
//! own (`POST /tokenize`: vLLM, SGLang, llama.cpp, TGI and tokenpace's
//! `serve`, whose tokenizer is the embedded engine's), or a
//! `tokenizer.json` given with `--tokenizer`. A prompt cut by these has the
//! length the server will bill and prefill; without one, lengths are
//! estimates, and the run says so.

use crate::call::{status_text, Call};
use crate::request::{HttpClient, Target};
use crate::server_kind::TokenizeApi;
use crate::tokenizer::ModelTokenizer;
use anyhow::{anyhow, bail, Context};
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How the server will see a prompt's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// As the one user message of a chat: the chat template's tokens
    /// count too, as they do in the server's `usage.prompt_tokens`.
    Chat,
    /// As a completions prompt, the text alone.
    Text,
}

/// Counts tokens of text as a particular tokenizer does.
pub trait TokenCounter: Send + Sync {
    /// Tokens of `text` seen as `shape`.
    fn count<'a>(&'a self, shape: Shape, text: &'a str) -> BoxFuture<'a, anyhow::Result<u32>>;
    /// What counts, for the run's first line and `run.json`
    /// ("the server's /tokenize", "tokenizer.json at …").
    fn describe(&self) -> String;
    /// Whether the chat template's tokens are counted for [`Shape::Chat`]
    /// (a `tokenizer.json` alone does not know the template).
    fn counts_template(&self) -> bool;
}

/// A `tokenizer.json`, in process. It has no chat template: a chat prompt
/// is counted as its text, so the server's count is higher by the
/// template's few tokens.
pub struct FileCounter(pub Arc<ModelTokenizer>);

impl TokenCounter for FileCounter {
    fn count<'a>(&'a self, _: Shape, text: &'a str) -> BoxFuture<'a, anyhow::Result<u32>> {
        Box::pin(std::future::ready(self.0.count(text)))
    }

    fn describe(&self) -> String {
        format!("tokenizer.json at {}", self.0.path().display())
    }

    fn counts_template(&self) -> bool {
        false
    }
}

/// A server's `POST /tokenize`.
pub struct RemoteCounter {
    client: HttpClient,
    target: Target,
    api: TokenizeApi,
    timeout: Duration,
}

/// Bytes a tokenizer's answer may hold (its token list is ~8 bytes a token).
const MAX_ANSWER_BYTES: usize = 64 << 20;

impl RemoteCounter {
    /// The tokenizer of `target`, spoken as `api`, each call bounded by
    /// `timeout`.
    pub fn new(
        client: HttpClient,
        target: Target,
        api: TokenizeApi,
        timeout: Duration,
    ) -> RemoteCounter {
        RemoteCounter {
            client,
            target,
            api,
            timeout,
        }
    }

    fn url(&self) -> String {
        self.target.url("/tokenize")
    }

    /// The URL as messages show it: without credentials.
    fn shown_url(&self) -> String {
        crate::url::shown(&self.url())
    }

    fn body(&self, shape: Shape, text: &str) -> Value {
        match (self.api, shape) {
            (TokenizeApi::Vllm, Shape::Chat) => json!({
                "model": self.target.model,
                "messages": [{"role": "user", "content": text}],
                "add_generation_prompt": true,
            }),
            (TokenizeApi::Vllm, Shape::Text) => json!({
                "model": self.target.model, "prompt": text,
            }),
            (TokenizeApi::Llamacpp, _) => json!({"content": text, "add_special": true}),
            (TokenizeApi::Tgi, _) => json!({"inputs": text}),
        }
    }

    async fn ask(&self, shape: Shape, text: &str) -> anyhow::Result<u32> {
        let full = self.url();
        let body = self.body(shape, text).to_string();
        let bearer = self.target.api_key.as_ref().map(|k| format!("Bearer {k}"));
        let mut headers = vec![("content-type", "application/json")];
        headers.extend(bearer.as_deref().map(|b| ("authorization", b)));
        headers.extend(
            self.target
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let call = Call {
            method: "POST",
            url: &full,
            headers: &headers,
            body: Some(body.as_bytes()),
            cap: MAX_ANSWER_BYTES,
            timeout: self.timeout,
        };
        let url = self.shown_url();
        let secrets = self.target.secrets();
        let reply = self.client.call(call).await.map_err(|e| {
            let why = secrets.redact(&e.to_string()).into_owned();
            anyhow::Error::msg(why).context(format!("could not ask {url}"))
        })?;
        let body = reply.body;
        if !(200..300).contains(&reply.status) {
            let text = secrets.redact(&String::from_utf8_lossy(&body)).into_owned();
            let shown: String = text.chars().take(200).collect();
            bail!("{url} answered {}: {shown}", status_text(reply.status));
        }
        // Counted as read: a long prompt's token list (one JSON value per
        // token) is never held.
        let n = match self.api {
            TokenizeApi::Vllm | TokenizeApi::Llamacpp => {
                let a: Answer = serde_json::from_slice(&body)
                    .map_err(|e| {
                        let why = self.target.secrets().redact(&e.to_string()).into_owned();
                        anyhow::Error::msg(why)
                    })
                    .with_context(|| format!("{url} did not answer a token count"))?;
                a.count.or(a.tokens.map(|t| t.0))
            }
            TokenizeApi::Tgi => serde_json::from_slice::<Length>(&body).ok().map(|t| t.0),
        };
        let n = n.ok_or_else(|| anyhow!("{url} answered without a token count"))?;
        u32::try_from(n).map_err(|_| anyhow!("{url} counted {n} tokens"))
    }

    /// Whether the endpoint answers (a server that lists itself as vLLM
    /// but is a gateway may not pass `/tokenize` through).
    pub async fn works(&self) -> anyhow::Result<()> {
        let n = self.ask(Shape::Text, "tokenpace").await?;
        if n == 0 {
            bail!("{} counted 0 tokens for a word", self.shown_url());
        }
        Ok(())
    }
}

impl TokenCounter for RemoteCounter {
    fn count<'a>(&'a self, shape: Shape, text: &'a str) -> BoxFuture<'a, anyhow::Result<u32>> {
        Box::pin(self.ask(shape, text))
    }

    fn describe(&self) -> String {
        format!("the server's tokenizer ({})", self.shown_url())
    }

    fn counts_template(&self) -> bool {
        self.api == TokenizeApi::Vllm
    }
}

/// A tokenizer's answer: vLLM's `count` (and `tokens`), llama.cpp's
/// `tokens`.
#[derive(serde::Deserialize)]
struct Answer {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    tokens: Option<Length>,
}

/// The length of a JSON array, its elements read past and dropped.
struct Length(u64);

impl<'de> serde::Deserialize<'de> for Length {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Length, D::Error> {
        struct Counter;
        impl<'de> serde::de::Visitor<'de> for Counter {
            type Value = Length;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of tokens")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Length, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Length(n))
            }
        }
        d.deserialize_seq(Counter)
    }
}

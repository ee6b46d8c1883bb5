//! `POST /tokenize` (vLLM's shape) against a scripted generator with a
//! tokenizer of its own (one token per character of the rendered prompt,
//! plus a BOS): `count` equals the `usage.prompt_tokens` the chat and
//! completions routes report for the same prompt, the options reach the
//! generator, and a generator without a tokenizer answers 501.

use std::sync::{Arc, Mutex};
use tokenpace_serve::{
    FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput, ServeConfig,
    SubmitError, TokenizeOptions, Tokenized,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Counts one token per character of `role: content` turns (then
/// `assistant:` for the generation prompt), or of the text, plus a BOS;
/// answers "ok" in two tokens. Keeps the options it was last asked with.
#[derive(Default)]
struct Scripted {
    options: Arc<Mutex<Option<TokenizeOptions>>>,
}

fn render(prompt: &PromptInput, options: TokenizeOptions) -> Vec<u32> {
    let text = match prompt {
        PromptInput::Chat(messages) => {
            let mut t: String = messages
                .iter()
                .map(|m| format!("{}: {}\n", m.role, m.content))
                .collect();
            if options.add_generation_prompt {
                t.push_str("assistant:");
            }
            t
        }
        PromptInput::Text(t) => t.clone(),
        PromptInput::Tokens(ids) => return ids.clone(),
    };
    let bos = options.add_special_tokens.then_some(1);
    bos.into_iter().chain(text.chars().map(u32::from)).collect()
}

impl Generator for Scripted {
    fn model_name(&self) -> &str {
        "scripted"
    }

    fn submit(&self, r: GenerationRequest) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        let prompt_tokens = render(&r.prompt, TokenizeOptions::default()).len() as u32;
        let (tx, rx) = unbounded_channel();
        let _ = tx.send(GenEvent::Started { prompt_tokens });
        for t in ["o", "k"] {
            let _ = tx.send(GenEvent::Token(t.into()));
        }
        let _ = tx.send(GenEvent::Done(Finished {
            reason: FinishReason::Stop,
            prompt_tokens,
            cached_tokens: None,
            completion_tokens: 2,
            queue_ms: 0.0,
            prompt_ms: 1.0,
            predicted_ms: 1.0,
        }));
        Ok(rx)
    }

    fn load(&self) -> (usize, usize) {
        (0, 0)
    }

    fn tokenize_prompt(
        &self,
        prompt: &PromptInput,
        options: TokenizeOptions,
    ) -> Result<Tokenized, SubmitError> {
        *self.options.lock().unwrap() = Some(options);
        Ok(Tokenized {
            ids: render(prompt, options),
            max_model_len: 777,
        })
    }
}

/// A generator that keeps the default: no tokenizer.
struct Plain;

impl Generator for Plain {
    fn model_name(&self) -> &str {
        "plain"
    }

    fn submit(&self, _: GenerationRequest) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        Err(SubmitError::Unavailable("no".into()))
    }

    fn load(&self) -> (usize, usize) {
        (0, 0)
    }
}

async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    (
        head[9..12].parse().unwrap(),
        serde_json::from_str(rest).unwrap(),
    )
}

#[tokio::test]
async fn counts_equal_the_routes_usage() {
    let g = Scripted::default();
    let options = Arc::clone(&g.options);
    let h = tokenpace_serve::start(Arc::new(g), ServeConfig::default())
        .await
        .unwrap();
    let messages =
        r#"[{"role":"system","content":"Be brief."},{"role":"user","content":"你好 there"}]"#;
    let tools = r#","tools":[{"type":"function","function":{"name":"search","parameters":{}}}]"#;
    for (route, prompt) in [
        (
            "/v1/completions",
            r#""prompt":"The quick brown fox""#.to_owned(),
        ),
        ("/v1/chat/completions", format!(r#""messages":{messages}"#)),
        // Tools offered are rendered into the prompt as the chat route does.
        (
            "/v1/chat/completions",
            format!(r#""messages":{messages}{tools}"#),
        ),
    ] {
        let (status, answer) = post(h.addr(), route, &format!("{{{prompt}}}")).await;
        assert_eq!(status, 200, "{answer}");
        let (status, t) = post(
            h.addr(),
            "/tokenize",
            &format!(r#"{{"model":"m",{prompt}}}"#),
        )
        .await;
        assert_eq!(status, 200, "{t}");
        assert_eq!(
            t["count"], answer["usage"]["prompt_tokens"],
            "{route} {prompt}"
        );
        assert_eq!(
            t["tokens"].as_array().unwrap().len() as u64,
            t["count"].as_u64().unwrap()
        );
        assert_eq!(
            (t["max_model_len"].as_u64(), t["token_strs"].is_null()),
            (Some(777), true)
        );
        assert_eq!(*options.lock().unwrap(), Some(TokenizeOptions::default()));
    }
    let body = format!(
        r#"{{"messages":{messages},"add_generation_prompt":false,"add_special_tokens":false}}"#
    );
    let (_, t) = post(h.addr(), "/tokenize", &body).await;
    assert_eq!(
        *options.lock().unwrap(),
        Some(TokenizeOptions {
            add_special_tokens: false,
            add_generation_prompt: false
        })
    );
    let (_, full) = post(
        h.addr(),
        "/tokenize",
        &format!(r#"{{"messages":{messages}}}"#),
    )
    .await;
    let fewer = "assistant:".len() as u64 + 1;
    assert_eq!(
        t["count"].as_u64().unwrap() + fewer,
        full["count"].as_u64().unwrap()
    );
    let (status, e) = post(h.addr(), "/tokenize", r#"{"prompt":["x"]}"#).await;
    assert_eq!(
        (status, e["error"]["param"].as_str()),
        (400, Some("prompt"))
    );
    let (status, e) = post(h.addr(), "/tokenize", r#"{"messages":[{"content":"x"}]}"#).await;
    assert_eq!(
        (status, e["error"]["param"].as_str()),
        (400, Some("messages"))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_generator_without_a_tokenizer_answers_501() {
    let h = tokenpace_serve::start(Arc::new(Plain), ServeConfig::default())
        .await
        .unwrap();
    let (status, e) = post(h.addr(), "/tokenize", r#"{"prompt":"x"}"#).await;
    assert_eq!(status, 501);
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("/tokenize is not available"), "{message}");
    h.shutdown().await;
}

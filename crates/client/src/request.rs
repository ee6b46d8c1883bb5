//! Sending one request and timing its stream.
//!
//! Every timestamp is taken where the bytes arrive: the body is read frame by
//! frame, the clock is read as soon as a frame is in hand, and only then is
//! it parsed. JSON is never parsed before the arrival time is recorded.

use crate::backend::{Backend, Framing, Prompt};
use crate::clock::RunClock;
use crate::recorder::{Guard, Recorder, StreamEnd, Transcript};
use crate::redact::Secrets;
use crate::sse::{SseItem, SseParser};
use crate::tokenizer::ModelTokenizer;
use futures_util::StreamExt;
use std::error::Error as _;
use std::time::Duration;
use tokenpace_core::record::{ErrorKind, Nanos, RequestRecord};
use tokio::sync::watch;

/// The HTTP client every request shares (cheap to clone).
pub type HttpClient = reqwest::Client;

/// Where and how to send requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL without the API path (`http://127.0.0.1:8000`).
    pub base_url: String,
    /// The model name to ask for.
    pub model: String,
    /// Sent as `Authorization: Bearer …`; never printed or stored.
    pub api_key: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

/// Limits of one request: time, and the size of one streamed event.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To the first token.
    pub first_token: Duration,
    /// For the whole request.
    pub total: Duration,
    /// Bytes one streamed event (or line) may hold
    /// ([`crate::sse::DEFAULT_MAX_EVENT_BYTES`] by default).
    pub max_event_bytes: usize,
}

/// Builds the HTTP client shared by all requests: connection reuse, HTTP/1.1
/// and HTTP/2, TLS through rustls, no proxy (measurements must not silently
/// go through one), TCP_NODELAY.
pub fn http_client(
    connect_timeout: Duration,
    max_connections: usize,
) -> anyhow::Result<reqwest::Client> {
    // Several crypto providers may be compiled in; pick ring explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(max_connections)
        .tcp_nodelay(true)
        .no_proxy()
        .build()?)
}

/// Sends `prompt` as request `id` and records its stream. Never fails: every
/// outcome is a record. `tokenizer`, if given, counts the output when the
/// server reports no usage. `abort` turning true ends the request as
/// cancelled.
#[allow(clippy::too_many_arguments)] // each is one independent input of a request
pub async fn execute(
    client: &reqwest::Client,
    target: &Target,
    backend: &dyn Backend,
    prompt: &Prompt,
    id: u64,
    scheduled_ns: Nanos,
    clock: &RunClock,
    timeouts: Timeouts,
    tokenizer: Option<&ModelTokenizer>,
    abort: watch::Receiver<bool>,
) -> RequestRecord {
    let at = Stamp { id, scheduled_ns };
    let how = How {
        client,
        target,
        backend,
        clock,
        timeouts,
        tokenizer,
        transcript: false,
    };
    execute_with(how, prompt, at, abort).await.0
}

/// Which request this is, and when the load wanted it sent.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// The record's id.
    pub id: u64,
    /// The schedule (open loop) or when the slot freed (closed loop).
    pub scheduled_ns: Nanos,
}

/// How requests are sent: shared by every request of a run.
#[derive(Clone, Copy)]
pub struct How<'a> {
    /// The HTTP client.
    pub client: &'a reqwest::Client,
    /// Where to.
    pub target: &'a Target,
    /// The protocol.
    pub backend: &'a dyn Backend,
    /// The run clock.
    pub clock: &'a RunClock,
    /// Per-request limits.
    pub timeouts: Timeouts,
    /// Counts output when the server reports no usage.
    pub tokenizer: Option<&'a ModelTokenizer>,
    /// Keep the answer and tool calls (conversations continue from them).
    pub transcript: bool,
}

/// Sends `prompt` and records its stream, keeping what the response said
/// when `how.transcript` is set. Never fails: every outcome is a record.
pub async fn execute_with(
    how: How<'_>,
    prompt: &Prompt,
    at: Stamp,
    mut abort: watch::Receiver<bool>,
) -> (RequestRecord, Option<Transcript>) {
    let How {
        client,
        target,
        backend,
        clock,
        timeouts,
        tokenizer,
        transcript,
    } = how;
    let Stamp { id, scheduled_ns } = at;
    let url = format!(
        "{}{}",
        target.base_url.trim_end_matches('/'),
        backend.path()
    );
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(backend.body(&target.model, prompt).to_string());
    if let Some(key) = &target.api_key {
        req = req.bearer_auth(key);
    }
    for (k, v) in target.headers.iter().chain(&prompt.headers) {
        req = req.header(k, v);
    }
    let sent = clock.now();
    let mut rec = Recorder::new(id, scheduled_ns, sent, prompt.tokens);
    rec.guard(Guard {
        max_tokens: prompt.max_tokens,
        max_event_bytes: timeouts.max_event_bytes,
        secrets: Secrets::new(target.api_key.as_deref(), &target.headers),
    });
    if let Some(t) = tokenizer {
        rec.count_output_with(t);
    }
    if transcript {
        rec.keep_transcript();
    }
    let deadline = tokio::time::Instant::from_std(clock.instant_at(sent)) + timeouts.total;
    let first_deadline =
        tokio::time::Instant::from_std(clock.instant_at(sent)) + timeouts.first_token;

    let work = stream(req, backend, clock, &mut rec, first_deadline);
    let end = tokio::select! {
        end = work => end,
        _ = tokio::time::sleep_until(deadline) => StreamEnd::Failed(
            ErrorKind::Timeout, None, format!("no complete response within {:?}", timeouts.total)),
        _ = abort.wait_for(|a| *a) => StreamEnd::Failed(
            ErrorKind::Cancelled, None, "the run was interrupted".into()),
    };
    rec.finish_with_transcript(clock.now(), end)
}

async fn stream(
    req: reqwest::RequestBuilder,
    backend: &dyn Backend,
    clock: &RunClock,
    rec: &mut Recorder<'_>,
    first_deadline: tokio::time::Instant,
) -> StreamEnd {
    let retry = req.try_clone();
    let response = match tokio::time::timeout_at(first_deadline, req.send()).await {
        Err(_) => return timeout_first(),
        Ok(Ok(r)) => r,
        // A kept-alive connection the server had already closed (llama.cpp's
        // server advertises keep-alive, then closes after each stream): not
        // a byte of the answer came back, so send it again, once, on a fresh
        // connection, as curl does. The time it cost stays in the record.
        Ok(Err(e)) => match retry {
            Some(again) if closed_before_answer(&e) => {
                match tokio::time::timeout_at(first_deadline, again.send()).await {
                    Err(_) => return timeout_first(),
                    Ok(Err(e)) => return classify(&e),
                    Ok(Ok(r)) => r,
                }
            }
            _ => return classify(&e),
        },
    };
    rec.headers(clock.now());
    let status = response.status();
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        return StreamEnd::Failed(
            ErrorKind::HttpStatus,
            Some(status.as_u16()),
            server_message(status.as_u16(), &body),
        );
    }
    let mut body = response.bytes_stream();
    let mut parser = match backend.framing() {
        Framing::Sse => SseParser::new(),
        Framing::Ndjson => SseParser::ndjson(),
    };
    parser.set_max_event_bytes(rec.max_event_bytes());
    loop {
        let next = if rec.has_token() {
            body.next().await
        } else {
            match tokio::time::timeout_at(first_deadline, body.next()).await {
                Ok(n) => n,
                Err(_) => return timeout_first(),
            }
        };
        let bytes = match next {
            None => break,
            Some(Err(e)) => {
                return StreamEnd::Failed(
                    ErrorKind::StreamCut,
                    None,
                    format!("the stream broke: {}", chain(&e)),
                )
            }
            Some(Ok(b)) => b,
        };
        let at = clock.now();
        let mut failure = None;
        parser.feed(&bytes, |item| {
            if let (SseItem::Data(data), None) = (item, &failure) {
                failure = rec.event(at, data, backend);
            }
        });
        if let Some(end) = failure.or_else(|| parser.too_large().map(StreamEnd::from)) {
            return end;
        }
    }
    let at = clock.now();
    let mut failure = None;
    parser.finish(|item| {
        if let (SseItem::Data(data), None) = (item, &failure) {
            failure = rec.event(at, data, backend);
        }
    });
    failure
        .or_else(|| parser.too_large().map(StreamEnd::from))
        .unwrap_or(StreamEnd::Complete)
}

fn timeout_first() -> StreamEnd {
    StreamEnd::Failed(
        ErrorKind::Timeout,
        None,
        "no first token within the first-token timeout".into(),
    )
}

/// The message of an OpenAI-style error body, or the start of the body.
fn server_message(status: u16, body: &[u8]) -> String {
    let parsed: Option<String> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let m = v
                .pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))?;
            Some(m.as_str().map_or_else(|| m.to_string(), str::to_string))
        });
    let text = parsed.unwrap_or_else(|| {
        let s = String::from_utf8_lossy(&body[..body.len().min(200)]);
        s.trim().to_string()
    });
    format!("HTTP {status}: {text}")
}

/// The error and its causes on one line.
fn chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// How hyper says a connection closed before the response was complete.
const CLOSED_EARLY: &str = "connection closed before message completed";

/// The connection closed before any of the response arrived.
fn closed_before_answer(e: &reqwest::Error) -> bool {
    !e.is_timeout() && !e.is_connect() && chain(e).to_ascii_lowercase().contains(CLOSED_EARLY)
}

fn classify(e: &reqwest::Error) -> StreamEnd {
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        ErrorKind::Dns
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ErrorKind::Tls
    } else if e.is_connect() {
        ErrorKind::Connect
    } else if e.is_body() || e.is_decode() || lower.contains(CLOSED_EARLY) {
        // The exchange was cut short (a kept-alive connection the server
        // closed counts here: the request may or may not have been seen).
        ErrorKind::StreamCut
    } else {
        ErrorKind::Other
    };
    StreamEnd::Failed(kind, None, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::openai::OpenAiCompletions;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reads one HTTP request (headers and a Content-Length body).
    async fn read_request(s: &mut tokio::net::TcpStream) -> bool {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    return true;
                }
            }
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Like llama.cpp's server: each connection answers one streamed
    /// request with `Keep-Alive`, then closes when the next request arrives.
    async fn one_answer_per_connection() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if !read_request(&mut s).await {
                        return;
                    }
                    let events = "data: {\"choices\":[{\"index\":0,\"text\":\"hi\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";
                    let body = format!("{:x}\r\n{events}\r\n0\r\n\r\n", events.len());
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5, max=100\r\n\r\n";
                    let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
                    // The next request on this connection is read, never answered.
                    let _ = read_request(&mut s).await;
                });
            }
        });
        url
    }

    #[tokio::test]
    async fn a_kept_alive_connection_closed_by_the_server_is_retried_once() {
        let base_url = one_answer_per_connection().await;
        let client = http_client(Duration::from_secs(2), 4).unwrap();
        let target = Target {
            base_url,
            model: "m".into(),
            api_key: None,
            headers: Vec::new(),
        };
        let prompt = Prompt {
            text: "hello".into(),
            messages: None,
            tokens: None,
            max_tokens: 1,
            ignore_eos: false,
            ..Prompt::default()
        };
        let clock = RunClock::start();
        let timeouts = Timeouts {
            first_token: Duration::from_secs(5),
            total: Duration::from_secs(5),
            max_event_bytes: crate::sse::DEFAULT_MAX_EVENT_BYTES,
        };
        let (_tx, abort) = watch::channel(false);
        for id in 0..4 {
            let r = execute(
                &client,
                &target,
                &OpenAiCompletions,
                &prompt,
                id,
                clock.now(),
                &clock,
                timeouts,
                None,
                abort.clone(),
            )
            .await;
            assert!(r.is_ok(), "request {id}: {:?}", r.error);
            assert_eq!(r.output_chars, 2);
        }
    }

    #[test]
    fn server_messages_are_extracted() {
        assert_eq!(
            server_message(
                429,
                br#"{"error":{"message":"slow down","type":"rate_limit"}}"#
            ),
            "HTTP 429: slow down"
        );
        assert_eq!(server_message(500, b"  oops \n"), "HTTP 500: oops");
        assert_eq!(
            server_message(404, br#"{"error":"no such model"}"#),
            "HTTP 404: no such model"
        );
    }
}

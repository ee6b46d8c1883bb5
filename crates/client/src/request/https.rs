//! Requests to `https://` targets, through reqwest (TLS by rustls, HTTP/1.1
//! or HTTP/2): the same recording as the timed transport, without its
//! connection timeline, which reqwest does not expose.

use super::{feed, finish, server_message, timeout_first, HttpClient, Target};
use crate::backend::{Backend, Framing, Prompt};
use crate::clock::RunClock;
use crate::recorder::{Recorder, StreamEnd};
use crate::sse::SseParser;
use futures_util::StreamExt;
use std::error::Error as _;
use tokenpace_core::record::ErrorKind;

/// The most of an error response's body read (its message).
pub(super) const MAX_ERROR_BODY: usize = 64 * 1024;

/// The request for reqwest.
pub(super) fn reqwest_request(
    client: &HttpClient,
    target: &Target,
    (api_path, auth): (&str, &[(&str, String)]),
    prompt: &Prompt,
    extra: Option<(&str, &str)>,
    body: String,
) -> reqwest::RequestBuilder {
    let url = format!("{}{api_path}", target.base_url.trim_end_matches('/'));
    let mut req = client
        .api()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(body);
    for (k, v) in auth {
        req = req.header(*k, v);
    }
    for (k, v) in target.headers.iter().chain(&prompt.headers) {
        req = req.header(k, v);
    }
    if let Some((k, v)) = extra {
        req = req.header(k, v);
    }
    req
}

/// Sends `req` and records its stream.
pub(super) async fn stream(
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
        // At most 64 KiB of an error body: a hostile server's is endless.
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(Ok(b)) = chunks.next().await {
            body.extend_from_slice(&b[..b.len().min(MAX_ERROR_BODY - body.len())]);
            if body.len() >= MAX_ERROR_BODY {
                break;
            }
        }
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
        if let Some(end) = feed(&mut parser, &bytes, clock.now(), rec, backend) {
            return end;
        }
    }
    finish(&mut parser, clock.now(), rec, backend)
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

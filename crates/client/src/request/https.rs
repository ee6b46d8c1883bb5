//! Requests to `https://` targets, through reqwest (TLS by rustls, HTTP/1.1
//! or HTTP/2): the same recording as the timed transport, without its
//! connection timeline, which reqwest does not expose.

use super::error_body::{server_message, ERROR_BODY_TIME, MAX_ERROR_BODY};
use super::stream::{feed, finish, parser_for, timeout_first, Deadlines};
use super::{HttpClient, Target};
use crate::backend::{Backend, Prompt};
use crate::clock::RunClock;
use crate::recorder::{Recorder, StreamEnd};
use futures_util::StreamExt;
use std::error::Error as _;
use tokenpace_core::record::ErrorKind;
use tokio::time::Instant;

/// The request for reqwest.
pub(super) fn reqwest_request(
    client: &HttpClient,
    target: &Target,
    (api_path, auth): (&str, &[(&str, String)]),
    prompt: &Prompt,
    extra: Option<(&str, &str)>,
    body: String,
) -> reqwest::RequestBuilder {
    let url = target.url(api_path);
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
    deadlines: Deadlines,
) -> StreamEnd {
    let first_deadline = deadlines.first;
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
        let body = error_body(response).await;
        let message = server_message(status.as_u16(), &body, rec.secrets());
        return StreamEnd::Failed(ErrorKind::HttpStatus, Some(status.as_u16()), message);
    }
    let mut body = response.bytes_stream();
    let mut parser = parser_for(backend, rec);
    loop {
        let by = deadlines.next(rec, clock);
        if Instant::now() >= by {
            return deadlines.missed(rec);
        }
        let next = match tokio::time::timeout_at(by, body.next()).await {
            Ok(n) => n,
            Err(_) => return deadlines.missed(rec),
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

/// At most [`MAX_ERROR_BODY`] of an error response's body, read for at
/// most [`ERROR_BODY_TIME`]: a hostile server's may be endless or never end.
async fn error_body(response: reqwest::Response) -> Vec<u8> {
    let by = Instant::now() + ERROR_BODY_TIME;
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Ok(Some(Ok(b))) = tokio::time::timeout_at(by, chunks.next()).await {
        body.extend_from_slice(&b[..b.len().min(MAX_ERROR_BODY - body.len())]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
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

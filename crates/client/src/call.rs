//! Untimed calls over the same transport as the measured requests: the
//! model list, a tokenizer, server metrics, a reachability probe. Each is
//! bounded in time and size (a hostile or broken server's answer may never
//! end, or never come) and runs on connections of its own, so the load's
//! connections still start cold.

use crate::clock::RunClock;
use crate::transport::{Failure, HostPool};
use std::time::Duration;
use tokenpace_core::setting::Setting;

/// A complete answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The body (at most the call's cap).
    pub body: Vec<u8>,
}

impl Reply {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a call got no complete answer (never naming the URL, which may carry
/// a credential: the caller names it as it may be shown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The body passed the cap; what came was dropped.
    #[error("it sent more than {} KiB: the answer was cut there and not used", .0 >> 10)]
    TooLarge(usize),
    /// No complete answer within the deadline.
    #[error("no complete answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The TLS handshake failed.
    #[error("{0}")]
    Tls(String),
    /// No connection, or it broke, or the answer was not HTTP.
    #[error("{0}")]
    Failed(String),
}

/// A request to make.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The whole URL (`https://host:port/path?query`).
    pub url: &'a str,
    /// Headers besides `host` and `content-length`.
    pub headers: &'a [(&'a str, &'a str)],
    /// The body, if any.
    pub body: Option<&'a [u8]>,
    /// The most bytes of body accepted.
    pub cap: usize,
    /// For the whole call: connection, request and the answer's last byte.
    pub timeout: Duration,
}

impl<'a> Call<'a> {
    /// A `GET url` without headers, its answer bounded to `cap` bytes
    /// and `timeout`.
    pub fn get(url: &'a str, cap: usize, timeout: Duration) -> Call<'a> {
        Call {
            method: "GET",
            url,
            headers: &[],
            body: None,
            cap,
            timeout,
        }
    }
}

/// A status as `404 Not Found` (the reason phrase when it is a common
/// one), as messages show it.
pub fn status_text(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    format!("{status} {reason}").trim_end().to_string()
}

/// Sends `call` to `endpoint` (the endpoint of its URL) and reads the whole
/// answer.
pub(crate) async fn send(endpoint: &HostPool, call: Call<'_>) -> Result<Reply, CallError> {
    let bytes = request_bytes(endpoint, &call).map_err(CallError::Failed)?;
    let work = async {
        let clock = RunClock::start();
        let mut response = endpoint
            .send(&bytes, &clock)
            .await
            .map_err(|(f, _)| match f {
                Failure::Tls(m) => CallError::Tls(m),
                Failure::Dns(m) | Failure::Connect(m) | Failure::Broken(m) => CallError::Failed(m),
            })?;
        let mut body = Vec::new();
        while let Some((piece, _)) = response.next(&clock).await.map_err(CallError::Failed)? {
            if body.len() + piece.len() > call.cap {
                return Err(CallError::TooLarge(call.cap));
            }
            body.extend_from_slice(piece);
        }
        Ok(Reply {
            status: response.status,
            body,
        })
    };
    tokio::time::timeout(call.timeout, work)
        .await
        .unwrap_or(Err(CallError::Timeout(call.timeout)))
}

/// The HTTP/1.1 request of `call`: its URL's path and query after the
/// endpoint's authority.
fn request_bytes(endpoint: &HostPool, call: &Call<'_>) -> Result<Vec<u8>, String> {
    let after_scheme = call.url.split_once("://").map_or(call.url, |(_, r)| r);
    // The path starts where the authority (userinfo and all) ends.
    let path = after_scheme
        .find(['/', '?', '#'])
        .map_or("/", |i| &after_scheme[i..]);
    let path = path.split('#').next().unwrap_or("/");
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nhost: {}\r\n",
        call.method,
        endpoint.authority()
    );
    let bad = |t: &str| t.bytes().any(|b| b == b'\r' || b == b'\n');
    if bad(&path) {
        return Err("the URL has a line break in it".into());
    }
    for (k, v) in call.headers {
        if k.is_empty() || bad(k) || bad(v) || k.contains(':') {
            return Err(format!(
                "the header '{}' has a line break or a colon in its name: fix {}",
                k.escape_debug(),
                Setting::Header
            ));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let named = call
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    if let Some(basic) = crate::url::basic_auth(call.url).filter(|_| !named) {
        head.push_str(&format!("authorization: {basic}\r\n"));
    }
    let body = call.body.unwrap_or_default();
    if call.body.is_some() || call.method != "GET" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn endpoint(url: &str) -> HostPool {
        let tls = crate::transport::tls::client_config(&Default::default()).unwrap();
        HostPool::of(url, 1, Duration::from_secs(1), &Arc::clone(&tls)).unwrap()
    }

    fn text(call: Call<'_>) -> String {
        let e = endpoint(call.url);
        String::from_utf8(request_bytes(&e, &call).unwrap()).unwrap()
    }

    fn get(url: &str) -> Call<'_> {
        Call::get(url, 10, Duration::from_secs(1))
    }

    #[test]
    fn a_request_names_its_path_query_and_host() {
        assert_eq!(
            text(get("https://h.example:8443/v1/models?key=1#frag")),
            "GET /v1/models?key=1 HTTP/1.1\r\nhost: h.example:8443\r\n\r\n"
        );
        assert_eq!(
            text(get("http://127.0.0.1:9")),
            "GET / HTTP/1.1\r\nhost: 127.0.0.1:9\r\n\r\n"
        );
        let post = Call {
            method: "POST",
            headers: &[("content-type", "application/json")],
            body: Some(b"{}"),
            ..get("http://127.0.0.1:9/tokenize")
        };
        assert_eq!(
            text(post),
            "POST /tokenize HTTP/1.1\r\nhost: 127.0.0.1:9\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn a_header_that_would_split_the_request_is_refused() {
        let call = Call {
            headers: &[("x-a", "1\r\nx-b: 2")],
            ..get("http://127.0.0.1:9/")
        };
        let e = endpoint(call.url);
        assert!(request_bytes(&e, &call)
            .unwrap_err()
            .contains(&Setting::Header.to_string()));
    }
}

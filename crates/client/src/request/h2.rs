//! HTTP/2, without TLS (`--h2c`, prior knowledge, as gateways speak it) or
//! over TLS when the server picks `h2` by ALPN (`super::negotiate`): the
//! streams of a run share one connection per target, through the h2 crate.
//! A frame is dated when it is handed over (h2 reads the socket on its own
//! task), so there is no connection timeline and no arrival stamp here.

use super::error_body::{server_message, ERROR_BODY_TIME, MAX_ERROR_BODY};
use super::stream::{feed, finish, parser_for, timeout_first, Deadlines, TokenTimer};
use crate::backend::Backend;
use crate::call::{Call, CallError, Reply};
use crate::clock::RunClock;
use crate::recorder::{Recorder, StreamEnd};
use crate::throttle::RateLimitHeaders;
use bytes::Bytes;
use h2::client::SendRequest;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_core::record::ErrorKind;
use tokio::sync::Mutex;
use tokio::time::Instant;

mod open;

/// One target's shared HTTP/2 connection, opened on first use and again
/// after it breaks: in the clear (`--h2c`) or over TLS.
#[derive(Debug)]
pub(crate) struct H2Endpoint {
    /// `host:port`.
    authority: String,
    /// Under TLS: the client configuration (ALPN `h2`) and the name the
    /// server's certificate must hold.
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    connect_timeout: Duration,
    conn: Mutex<Option<SendRequest<Bytes>>>,
}

/// A request made ready for [`stream`].
#[derive(Debug)]
pub(crate) struct H2Request {
    /// Path and query.
    pub path: String,
    /// Headers (names lower-case for HTTP/2).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Bytes,
}

impl H2Endpoint {
    /// The endpoint of an `http://` base URL, or of an `https://` one
    /// when `tls` is given (what its connections are made with).
    pub fn of(
        base_url: &str,
        connect_timeout: Duration,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Option<H2Endpoint> {
        let (scheme, port) = match tls {
            Some(_) => ("https://", 443),
            None => ("http://", 80),
        };
        let rest = base_url.trim().strip_prefix(scheme)?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        let (host, authority) = match authority.rsplit_once(':') {
            Some((host, p)) if p.parse::<u16>().is_ok() => (host, authority.to_string()),
            _ => (authority, format!("{authority}:{port}")),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let tls = match tls {
            Some(config) => Some((config, ServerName::try_from(host.to_string()).ok()?)),
            None => None,
        };
        Some(H2Endpoint {
            authority,
            tls,
            connect_timeout,
            conn: Mutex::new(None),
        })
    }

    /// The URI of `path` on this endpoint (HTTP/2 sends its scheme and
    /// authority as pseudo-headers).
    fn uri(&self, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.authority)
    }

    /// The protocol the server picks by ALPN on a TLS connection made and
    /// closed for the purpose (`None`: no connection, or no pick).
    pub async fn alpn(&self) -> Option<Vec<u8>> {
        let (config, name) = self.tls.as_ref()?;
        let tcp = open::tcp(&self.authority, self.connect_timeout)
            .await
            .ok()?;
        let tls = open::tls(tcp, config, name, self.connect_timeout).await;
        tls.ok()?.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// A handle on the shared connection, opened if there is none.
    async fn sender(&self) -> Result<SendRequest<Bytes>, open::Failed> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Ok(c.clone());
        }
        let send = open::connection(&self.authority, self.tls.as_ref(), self.connect_timeout);
        let send = send.await?;
        *conn = Some(send.clone());
        Ok(send)
    }

    /// An untimed call over the shared connection: the status and at most
    /// `call.cap` bytes of body (the caller bounds it in time).
    pub async fn call(&self, call: Call<'_>) -> Result<Reply, CallError> {
        let failed = |e: &dyn std::fmt::Display| CallError::Failed(e.to_string());
        let sender = self.sender().await.map_err(|(kind, why)| match kind {
            ErrorKind::Tls => CallError::Tls(why),
            _ => CallError::Failed(why),
        })?;
        let mut sender = sender.ready().await.map_err(|e| failed(&e))?;
        let after = call.url.split_once("://").map_or(call.url, |(_, r)| r);
        let path = after.find(['/', '?']).map_or("/", |i| &after[i..]);
        let mut head = http::Request::builder()
            .method(call.method)
            .uri(self.uri(path));
        for (k, v) in call.headers {
            head = head.header(k.to_ascii_lowercase(), *v);
        }
        let head = head.body(()).map_err(|e| failed(&e))?;
        let (response, mut send) = sender
            .send_request(head, call.body.is_none())
            .map_err(|e| failed(&e))?;
        if let Some(body) = call.body {
            send.send_data(Bytes::copy_from_slice(body), true)
                .map_err(|e| failed(&e))?;
        }
        let response = match response.await {
            Ok(r) => r,
            Err(e) => {
                self.forget().await;
                return Err(failed(&e));
            }
        };
        let status = response.status().as_u16();
        let mut recv = response.into_body();
        let mut body = Vec::new();
        while let Some(piece) = recv.data().await {
            let piece = piece.map_err(|e| failed(&e))?;
            let _ = recv.flow_control().release_capacity(piece.len());
            if body.len() + piece.len() > call.cap {
                return Err(CallError::TooLarge(call.cap));
            }
            body.extend_from_slice(&piece);
        }
        Ok(Reply { status, body })
    }

    /// Sends `req` on the shared connection: its response head, or the
    /// kind of failure and why.
    async fn send(&self, req: H2Request) -> Result<http::Response<h2::RecvStream>, open::Failed> {
        let sender = self.sender().await?;
        let cut = |e: h2::Error| (ErrorKind::StreamCut, e.to_string());
        let mut sender = sender
            .ready()
            .await
            .map_err(|e| (ErrorKind::Connect, e.to_string()))?;
        let mut head = http::Request::post(self.uri(&req.path));
        for (k, v) in &req.headers {
            head = head.header(k.as_str(), v.as_str());
        }
        let head = head
            .body(())
            .map_err(|e| (ErrorKind::Other, format!("the request: {e}")))?;
        let (response, mut body) = sender.send_request(head, false).map_err(cut)?;
        body.send_data(req.body, true).map_err(cut)?;
        response.await.map_err(cut)
    }

    /// Forgets a broken connection, so the next request opens a new one.
    async fn forget(&self) {
        *self.conn.lock().await = None;
    }
}

/// Sends `req` over `endpoint`'s connection and records its stream.
pub(super) async fn stream(
    endpoint: &H2Endpoint,
    req: H2Request,
    backend: &dyn Backend,
    clock: &RunClock,
    rec: &mut Recorder<'_>,
    deadlines: Deadlines,
) -> StreamEnd {
    let send = endpoint.send(req);
    let response = match tokio::time::timeout_at(deadlines.first, send).await {
        Err(_) => return timeout_first(),
        Ok(Err((kind, why))) => {
            if kind != ErrorKind::Other {
                endpoint.forget().await;
            }
            return StreamEnd::Failed(kind, None, why);
        }
        Ok(Ok(r)) => r,
    };
    rec.headers(clock.now());
    let status = response.status().as_u16();
    let now = std::time::SystemTime::now();
    let headers = response.headers().iter();
    let limits = RateLimitHeaders::of(headers.map(|(k, v)| (k.as_str(), v.as_bytes())));
    rec.rate_limits(&limits, now);
    let mut body = response.into_body();
    if !(200..300).contains(&status) {
        let by = Instant::now() + ERROR_BODY_TIME;
        let mut text = Vec::new();
        while let Ok(Some(Ok(b))) = tokio::time::timeout_at(by, body.data()).await {
            text.extend_from_slice(&b[..b.len().min(MAX_ERROR_BODY - text.len())]);
            if text.len() >= MAX_ERROR_BODY {
                break;
            }
        }
        let message = server_message(status, &text, rec.secrets());
        return StreamEnd::Failed(limits.kind(status, now), Some(status), message);
    }
    let mut parser = parser_for(backend, rec);
    let mut timer = TokenTimer::new(deadlines, rec, clock);
    loop {
        if let Some(end) = timer.check(rec, clock) {
            return end;
        }
        let next = tokio::select! {
            biased;
            next = body.data() => next,
            () = timer.wait() => match timer.fired(rec, clock) {
                Some(end) => return end,
                None => continue,
            },
        };
        let bytes = match next {
            None => break,
            Some(Err(e)) => {
                let why = format!("the stream broke: {e}");
                return StreamEnd::Failed(ErrorKind::StreamCut, None, why);
            }
            Some(Ok(b)) => b,
        };
        let at = clock.now();
        // Let the server send as much again.
        let _ = body.flow_control().release_capacity(bytes.len());
        if let Some(end) = feed(&mut parser, &bytes, at, rec, backend) {
            return end;
        }
    }
    finish(&mut parser, clock.now(), rec, backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_takes_its_scheme_default_port_and_certificate_name() {
        let t = Duration::from_secs(1);
        let tls = crate::transport::tls::client_config(&Default::default()).unwrap();
        let e = H2Endpoint::of("https://h.example/v1?k=1", t, Some(Arc::clone(&tls))).unwrap();
        assert_eq!(e.authority, "h.example:443");
        assert_eq!(e.uri("/v1/x"), "https://h.example:443/v1/x");
        let e = H2Endpoint::of("https://[::1]:8443", t, Some(Arc::clone(&tls))).unwrap();
        assert_eq!(e.authority, "[::1]:8443");
        assert_eq!(e.tls.as_ref().unwrap().1.to_str(), "::1");
        let e = H2Endpoint::of("http://127.0.0.1", t, None).unwrap();
        assert_eq!(e.uri("/"), "http://127.0.0.1:80/");
        // Each scheme only with its layer; userinfo is refused.
        assert!(H2Endpoint::of("http://h.example", t, Some(tls)).is_none());
        assert!(H2Endpoint::of("https://h.example", t, None).is_none());
        assert!(H2Endpoint::of("http://u:p@h.example", t, None).is_none());
    }
}

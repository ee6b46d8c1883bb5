//! Sending one request and timing its stream.
//!
//! Every timestamp is taken where the bytes arrive: the body is read frame by
//! frame, the clock is read as soon as a frame is in hand, and only then is
//! it parsed. JSON is never parsed before the arrival time is recorded.

use crate::backend::{Backend, Prompt};
use crate::clock::RunClock;
use crate::leave::{LeavePoint, Leaving};
use crate::recorder::{Guard, Recorder, StreamEnd, Transcript};
use crate::redact::Secrets;
use crate::tokenizer::ModelTokenizer;
use crate::transport::Endpoint;

mod error_body;
mod https;
mod retry;
mod stream;
pub use retry::{execute_prepared, RetryThrottled};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::{stream_raw, Deadlines};
use tokenpace_core::record::{ErrorKind, Nanos, RequestRecord};
use tokio::sync::watch;

/// The HTTP clients every request shares (cheap to clone): the timed
/// transport for `http://` targets ([`crate::transport`]), reqwest for
/// `https://` ones, for HTTP/2 without TLS ([`h2c_client`]) and for the
/// calls that are not timed (model discovery, probes, metrics).
#[derive(Debug, Clone)]
pub struct HttpClient {
    api: reqwest::Client,
    connect_timeout: Duration,
    max_idle: usize,
    endpoints: Arc<Mutex<HashMap<String, Arc<Endpoint>>>>,
    /// Every request through reqwest, as HTTP/2 with prior knowledge.
    h2c: bool,
}

impl HttpClient {
    /// The client for calls that are not timed, and for `https://`.
    pub fn api(&self) -> &reqwest::Client {
        &self.api
    }

    /// How long a connection may take to open.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The timed endpoint of `base_url`, when it is plain `http://`.
    fn endpoint(&self, base_url: &str) -> Option<Arc<Endpoint>> {
        if self.h2c {
            return None;
        }
        let mut map = self.endpoints.lock().ok()?;
        if let Some(e) = map.get(base_url) {
            return Some(Arc::clone(e));
        }
        let e = Arc::new(Endpoint::of(base_url, self.max_idle, self.connect_timeout)?);
        map.insert(base_url.to_string(), Arc::clone(&e));
        Some(e)
    }
}

/// Where and how to send requests.
#[derive(Debug, Clone)]
pub struct Target {
    /// Base URL without the API path (`http://127.0.0.1:8000`); it may
    /// carry credentials (userinfo, `?api_key=…`), sent but never shown:
    /// [`Target::shown_url`].
    pub base_url: String,
    /// The model name to ask for.
    pub model: String,
    /// Sent as `Authorization: Bearer …`; never printed or stored.
    pub api_key: Option<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The per-request id header, when one is sent.
    pub request_id: Option<RequestIdHeader>,
    /// Speak HTTP/2 without TLS to an `http://` target (prior knowledge,
    /// as gateways do), through [`h2c_client`].
    pub h2c: bool,
}

impl Target {
    /// The URL of the API path `path` (`/v1/models`): the base URL's path
    /// and then `path`, the base URL's query after them.
    pub fn url(&self, path: &str) -> String {
        crate::url::join(&self.base_url, path)
    }

    /// The base URL as it may be shown or stored (no credentials).
    pub fn shown_url(&self) -> String {
        crate::url::shown(&self.base_url)
    }

    /// What no server text kept or shown may hold: the API key, the
    /// credential headers and the credentials the URL carries.
    pub fn secrets(&self) -> Secrets {
        Secrets::new(self.api_key.as_deref(), &self.headers).with_url(&self.base_url)
    }
}

/// A header carrying a per-request id (`X-Request-ID` by default), so a
/// record can be joined with the server's logs and traces. The id is the
/// run's `prefix`, a dash and the record's id; the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestIdHeader {
    /// The header's name.
    pub name: String,
    /// Unique to the run (and shard), so ids of two runs never collide in
    /// one server log.
    pub prefix: String,
}

impl RequestIdHeader {
    /// `name` with a prefix made from the wall clock now (milliseconds
    /// since 1970, in hex): `tp-19aee1f2c40`.
    pub fn new(name: impl Into<String>) -> RequestIdHeader {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        RequestIdHeader {
            name: name.into(),
            prefix: format!("tp-{ms:x}"),
        }
    }

    /// The value sent with record `id`.
    pub fn value(&self, id: u64) -> String {
        format!("{}-{id}", self.prefix)
    }
}

/// Limits of one request: time, and the size of one streamed event.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To the first token.
    pub first_token: Duration,
    /// For the whole request.
    pub total: Duration,
    /// Between two token-carrying events once the first came (pings,
    /// comments and empty events do not count): a stream silent longer
    /// fails as a timeout.
    pub idle: Duration,
    /// Bytes one streamed event (or line) may hold
    /// ([`crate::sse::DEFAULT_MAX_EVENT_BYTES`] by default).
    pub max_event_bytes: usize,
    /// Users who stop reading (`--cancel-after`): the client closes their
    /// streams by design.
    pub leaving: Option<Leaving>,
    /// Retry throttled requests (`--retry-throttled`); `None`: never.
    pub retry_throttled: Option<RetryThrottled>,
}

/// Builds the HTTP clients shared by all requests: connection reuse, TLS
/// through rustls (HTTP/1.1 or HTTP/2), no proxy (measurements must not
/// silently go through one), TCP_NODELAY.
pub fn http_client(
    connect_timeout: Duration,
    max_connections: usize,
) -> anyhow::Result<HttpClient> {
    // Several crypto providers may be compiled in; pick ring explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = builder(connect_timeout, max_connections).build()?;
    Ok(HttpClient {
        api,
        connect_timeout,
        max_idle: max_connections,
        endpoints: Arc::default(),
        h2c: false,
    })
}

/// Like [`http_client`], but every request, `http://` ones too, goes
/// through reqwest as HTTP/2 with prior knowledge (h2c): many streams over
/// few connections, as a gateway speaks it. reqwest does not expose the
/// connection timeline, so `connected_ns` and `written_ns` stay empty.
pub fn h2c_client(connect_timeout: Duration, max_connections: usize) -> anyhow::Result<HttpClient> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let api = builder(connect_timeout, max_connections)
        .http2_prior_knowledge()
        .build()?;
    Ok(HttpClient {
        api,
        connect_timeout,
        max_idle: max_connections,
        endpoints: Arc::default(),
        h2c: true,
    })
}

/// What both clients share: connection reuse, no proxy, TCP_NODELAY.
fn builder(connect_timeout: Duration, max_connections: usize) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(max_connections)
        .tcp_nodelay(true)
        .no_proxy()
}

/// Sends `prompt` as request `id` and records its stream. Never fails: every
/// outcome is a record. `tokenizer`, if given, counts the output when the
/// server reports no usage. `abort` turning true ends the request as
/// cancelled.
#[allow(clippy::too_many_arguments)] // each is one independent input of a request
pub async fn execute(
    client: &HttpClient,
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
    pub client: &'a HttpClient,
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
    abort: watch::Receiver<bool>,
) -> (RequestRecord, Option<Transcript>) {
    let ready = Prepared::new(&how, prompt, at.id);
    execute_prepared(how, prompt, ready, at, abort).await
}

/// A request made ready to go: its body, headers and bytes built and the
/// secrets to hide in what comes back collected, so that sending it costs
/// only the clock, the connection and the write. A cold burst's first wave
/// is prepared before the clock starts.
pub struct Prepared {
    request: Outgoing,
    request_id: Option<String>,
    secrets: Secrets,
}

impl Prepared {
    /// `prompt` as request `id`, for the target and protocol of `how`.
    pub fn new(how: &How<'_>, prompt: &Prompt, id: u64) -> Prepared {
        let How {
            client,
            target,
            backend,
            ..
        } = *how;
        let body = backend.body(&target.model, prompt).to_string();
        let request_id = target
            .request_id
            .as_ref()
            .map(|h| (h.name.as_str(), h.value(id)));
        let extra = request_id.as_ref().map(|(k, v)| (*k, v.as_str()));
        let auth = backend.auth_headers(target.api_key.as_deref());
        let request = match client.endpoint(&target.base_url) {
            Some(e) => Outgoing::Raw(
                e,
                raw_request(target, backend.path(), &auth, prompt, extra, &body),
            ),
            None => Outgoing::Reqwest(Box::new(https::reqwest_request(
                client,
                target,
                (backend.path(), auth.as_slice()),
                prompt,
                extra,
                body,
            ))),
        };
        Prepared {
            request,
            request_id: request_id.map(|(_, v)| v),
            secrets: target.secrets(),
        }
    }
}

/// Sends `ready` (made from `prompt`) once and records its stream: what
/// [`execute_prepared`] does for each attempt.
async fn attempt(
    how: How<'_>,
    prompt: &Prompt,
    ready: Prepared,
    at: Stamp,
    mut abort: watch::Receiver<bool>,
) -> (RequestRecord, Option<Transcript>) {
    let How {
        backend,
        clock,
        timeouts,
        tokenizer,
        transcript,
        ..
    } = how;
    let Stamp { id, scheduled_ns } = at;
    let Prepared {
        request,
        request_id,
        secrets,
    } = ready;
    let sent = clock.now();
    let leave = timeouts.leaving.and_then(|l| l.point(id));
    let mut rec = Recorder::new(id, scheduled_ns, sent, prompt.tokens);
    if let Some(v) = request_id {
        rec.request_id(v.into());
    }
    rec.guard(Guard {
        max_tokens: prompt.max_tokens,
        max_event_bytes: timeouts.max_event_bytes,
        secrets,
        leave_after_tokens: match leave {
            Some(LeavePoint::Tokens(n)) => Some(n),
            _ => None,
        },
    });
    if let Some(t) = tokenizer {
        rec.count_output_with(t);
    }
    if transcript {
        rec.keep_transcript();
    }
    let start = tokio::time::Instant::from_std(clock.instant_at(sent));
    let deadline = start + timeouts.total;
    let deadlines = Deadlines {
        first: start + timeouts.first_token,
        idle: timeouts.idle,
    };
    let user_leaves = async {
        match leave {
            Some(LeavePoint::After(d)) => tokio::time::sleep_until(start + d).await,
            _ => std::future::pending().await,
        }
    };
    let end = {
        let work = async {
            match request {
                Outgoing::Raw(e, Ok(bytes)) => {
                    stream_raw(&e, &bytes, backend, clock, &mut rec, deadlines).await
                }
                Outgoing::Raw(_, Err(why)) => StreamEnd::Failed(ErrorKind::Other, None, why),
                Outgoing::Reqwest(req) => {
                    https::stream(*req, backend, clock, &mut rec, deadlines).await
                }
            }
        };
        // The stream first: its branch is the one woken per chunk.
        tokio::select! {
            biased;
            end = work => end,
            _ = tokio::time::sleep_until(deadline) => StreamEnd::Failed(
                ErrorKind::Timeout, None, format!("no complete response within {:?}", timeouts.total)),
            _ = abort.wait_for(|a| *a) => StreamEnd::Failed(
                ErrorKind::Cancelled, None, "the run was interrupted".into()),
            () = user_leaves => StreamEnd::Left,
        }
    };
    rec.finish_with_transcript(clock.now(), end)
}

/// A request ready to send.
enum Outgoing {
    /// Its bytes for the timed transport (or why it cannot be sent).
    Raw(Arc<Endpoint>, Result<Vec<u8>, String>),
    /// For reqwest (`https://`). Boxed: one per request, not per chunk.
    Reqwest(Box<reqwest::RequestBuilder>),
}

/// The complete HTTP/1.1 request: head (with the `extra` per-request header)
/// and body.
fn raw_request(
    target: &Target,
    api_path: &str,
    auth: &[(&str, String)],
    prompt: &Prompt,
    extra: Option<(&str, &str)>,
    body: &str,
) -> Result<Vec<u8>, String> {
    let (base, query) = crate::url::split_query(target.base_url.trim());
    let after_scheme = base.strip_prefix("http://").unwrap_or(base);
    let (authority, prefix) = match after_scheme.find('/') {
        Some(i) => after_scheme.split_at(i),
        None => (after_scheme, ""),
    };
    let mut head = format!(
        "POST {}{api_path}{query} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: {}\r\n",
        prefix.trim_end_matches('/'),
        body.len()
    );
    for (k, v) in auth {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let headers = target.headers.iter().chain(&prompt.headers);
    let headers = headers.map(|(k, v)| (k.as_str(), v.as_str())).chain(extra);
    for (k, v) in headers {
        let bad = |t: &str| t.bytes().any(|b| b == b'\r' || b == b'\n');
        if k.is_empty() || bad(k) || bad(v) || k.contains(':') {
            return Err(format!(
                "the header '{}' has a line break or a colon in its name: fix --header",
                k.escape_debug()
            ));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Ok(bytes)
}

#[cfg(test)]
mod tests;

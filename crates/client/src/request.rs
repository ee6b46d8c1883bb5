//! Sending one request and timing its stream.
//!
//! Every timestamp is taken where the bytes arrive: the body is read frame by
//! frame, the clock is read as soon as a frame is in hand, and only then is
//! it parsed. JSON is never parsed before the arrival time is recorded.

use crate::backend::{Backend, Prompt};
use crate::call::{Call, CallError, Reply};
use crate::clock::RunClock;
use crate::leave::{LeavePoint, Leaving};
use crate::recorder::{Guard, Recorder, StreamEnd, Transcript};
use crate::redact::Secrets;
use crate::tokenizer::ModelTokenizer;
use crate::transport::tls::TlsOptions;
use crate::transport::HostPool;
use tokenpace_core::setting::Setting;

mod build;
mod error_body;
mod h2;
mod negotiate;
mod retry;
mod stream;
use build::{h2_request, raw_request};
use h2::{H2Endpoint, H2Request};
pub use negotiate::{client_for, HttpVersion};
pub use retry::{execute_prepared, RetryThrottled};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream::{stream_raw, Deadlines};
use tokenpace_core::record::{ErrorKind, Nanos, RequestRecord};
use tokio::sync::watch;

/// The HTTP client every request shares (cheap to clone): tokenpace's own
/// transport for `http://` and `https://` targets ([`crate::transport`]),
/// for the calls that are not timed ([`HttpClient::call`]: model list,
/// tokenizer, probes, metrics), and HTTP/2: without TLS with `--h2c`, over
/// TLS when the server picks it ([`client_for`]).
#[derive(Debug, Clone)]
pub struct HttpClient {
    connect_timeout: Duration,
    max_idle: usize,
    /// What `https://` connections are made with.
    tls: Arc<rustls::ClientConfig>,
    endpoints: Shared<HostPool>,
    /// The untimed calls' endpoints: connections and TLS sessions of their
    /// own, so the load's start cold.
    untimed: Shared<HostPool>,
    untimed_tls: Arc<rustls::ClientConfig>,
    /// HTTP/2 for the requests, when set.
    h2: Option<negotiate::H2Use>,
}

/// Endpoints by base URL, shared by every clone of a client.
type Shared<E> = Arc<Mutex<HashMap<String, Arc<E>>>>;

impl HttpClient {
    /// An untimed call (model list, tokenizer, metrics, probe): the
    /// whole answer, within the call's time and size limits.
    pub async fn call(&self, call: Call<'_>) -> Result<Reply, CallError> {
        let origin = crate::url::origin(call.url);
        if let Some(e) = self.h2_endpoint(origin, false) {
            let timeout = call.timeout;
            return tokio::time::timeout(timeout, e.call(call))
                .await
                .unwrap_or(Err(CallError::Timeout(timeout)));
        }
        let endpoint = {
            let mut map = self
                .untimed
                .lock()
                .map_err(|_| CallError::Failed("poisoned".into()))?;
            match map.get(origin) {
                Some(e) => Arc::clone(e),
                None => {
                    let e = HostPool::of(origin, 4, self.connect_timeout, &self.untimed_tls)
                        .ok_or_else(|| {
                            CallError::Failed("not an http:// or https:// URL".into())
                        })?;
                    let e = Arc::new(e);
                    map.insert(origin.to_string(), Arc::clone(&e));
                    e
                }
            }
        };
        crate::call::send(&endpoint, call).await
    }

    /// How long a connection may take to open.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The timed endpoint of `base_url` (`http://` or `https://`).
    fn endpoint(&self, base_url: &str) -> Option<Arc<HostPool>> {
        let mut map = self.endpoints.lock().ok()?;
        if let Some(e) = map.get(base_url) {
            return Some(Arc::clone(e));
        }
        let e = HostPool::of(base_url, self.max_idle, self.connect_timeout, &self.tls)?;
        let e = Arc::new(e);
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
    /// How an `https://` server's certificate is checked.
    pub tls: TlsOptions,
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

/// Builds the HTTP client shared by all requests: connection reuse, TLS
/// through rustls with the system's roots, no proxy (measurements must not
/// silently go through one), TCP_NODELAY.
pub fn http_client(
    connect_timeout: Duration,
    max_connections: usize,
) -> anyhow::Result<HttpClient> {
    http_client_with(connect_timeout, max_connections, &TlsOptions::default())
}

/// [`http_client`] trusting what `tls` says (`--ca-cert`, `--insecure`).
pub fn http_client_with(
    connect_timeout: Duration,
    max_connections: usize,
    tls: &TlsOptions,
) -> anyhow::Result<HttpClient> {
    let config = crate::transport::tls::client_config(tls)?;
    // The untimed calls before a run (model list, tokenizer) keep their
    // sessions apart: the measured connections start cold, as a user's do.
    let mut untimed = rustls::ClientConfig::clone(&config);
    untimed.resumption = rustls::client::Resumption::default();
    Ok(HttpClient {
        connect_timeout,
        max_idle: max_connections,
        tls: config,
        endpoints: Arc::default(),
        untimed: Arc::default(),
        untimed_tls: Arc::new(untimed),
        h2: None,
    })
}

/// Like [`http_client`], but every timed request goes as HTTP/2 with prior
/// knowledge (h2c) to an `http://` target: many streams over one
/// connection, as a gateway speaks it. Frames are dated when h2 hands them
/// over, and `connected_ns` and `written_ns` stay empty.
pub fn h2c_client(connect_timeout: Duration, max_connections: usize) -> anyhow::Result<HttpClient> {
    let mut client = http_client(connect_timeout, max_connections)?;
    client.h2 = Some(negotiate::H2Use::cleartext());
    Ok(client)
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
        let model = prompt.model.as_deref().unwrap_or(&target.model);
        let body = backend.body(model, prompt).to_string();
        let request_id = target
            .request_id
            .as_ref()
            .map(|h| (h.name.as_str(), h.value(id)));
        let extra = request_id.as_ref().map(|(k, v)| (*k, v.as_str()));
        let auth = backend.auth_headers(target.api_key.as_deref());
        let request = match (
            client.h2_endpoint(&target.base_url, true),
            client.endpoint(&target.base_url),
        ) {
            (Some(e), _) => Outgoing::H2(
                e,
                h2_request(target, backend.path(), &auth, prompt, extra, body),
            ),
            (None, Some(e)) if !client.is_h2c() => {
                match raw_request(target, backend.path(), &auth, prompt, extra, &body) {
                    Ok(bytes) => Outgoing::Raw(e, bytes),
                    Err(why) => Outgoing::Invalid(why),
                }
            }
            _ => Outgoing::Invalid(format!(
                "'{}' is not an http:// or https:// URL ({}: http:// only)",
                target.shown_url(),
                Setting::H2c
            )),
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
                Outgoing::Raw(e, bytes) => {
                    stream_raw(&e, &bytes, backend, clock, &mut rec, deadlines).await
                }
                Outgoing::Invalid(why) => StreamEnd::Failed(ErrorKind::Other, None, why),
                Outgoing::H2(e, req) => {
                    h2::stream(&e, req, backend, clock, &mut rec, deadlines).await
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
    /// Its bytes for the timed transport.
    Raw(Arc<HostPool>, Vec<u8>),
    /// For HTTP/2 (`--h2c`, or `h2` picked by ALPN).
    H2(Arc<H2Endpoint>, H2Request),
    /// Why it cannot be sent.
    Invalid(String),
}

#[cfg(test)]
mod tests;

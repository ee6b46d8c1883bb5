//! Starting, routes and shutdown. The HTTP/1.1 layer, the accept and
//! connection loops and the response bodies are the wire crate's, so this
//! server and the simulator write bytes the same way.

use crate::events::{timings, usage};
use crate::generate::{GenEvent, Generator, SubmitError};
use crate::metrics::Metrics;
use crate::request::parse;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokenpace_wire::http::{chunk, head, LAST_CHUNK};
use tokenpace_wire::server::serve;
use tokenpace_wire::{
    prom, ApiError, Conn, Endpoint, Events, Framing, Handler, HttpRequest, LimitsConfig, Next,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long in-flight requests get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to bind (`127.0.0.1` keeps it on this machine).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Request size limits.
    pub limits: LimitsConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            limits: LimitsConfig::default(),
        }
    }
}

struct State {
    generator: Arc<dyn Generator>,
    config: ServeConfig,
    metrics: Metrics,
    seq: AtomicU64,
    seed_base: u64,
    shutdown: watch::Receiver<bool>,
}

/// A running server.
pub struct ServeHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for ServeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ServeHandle {
    /// The base URL (`http://` and the bound address).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and lets requests in flight finish (10 s at most).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds and starts serving `generator` on the current tokio runtime.
pub async fn start(
    generator: Arc<dyn Generator>,
    config: ServeConfig,
) -> anyhow::Result<ServeHandle> {
    let listener = tokenpace_wire::server::bind(&config.host, config.port).await?;
    let addr = listener.local_addr()?;
    let (stop, shutdown) = watch::channel(false);
    let state = Arc::new(State {
        generator,
        config,
        metrics: Metrics::default(),
        seq: AtomicU64::new(0),
        seed_base: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        shutdown,
    });
    let (limits, shutdown) = (state.config.limits.clone(), state.shutdown.clone());
    let task = tokio::spawn(serve(listener, state, limits, shutdown, SHUTDOWN_GRACE));
    Ok(ServeHandle { addr, stop, task })
}

impl Handler for State {
    /// Answers one request.
    async fn handle(&self, conn: &mut Conn, req: &HttpRequest) -> Next {
        if route(self, conn, req).await {
            Next::KeepAlive
        } else {
            Next::Close
        }
    }

    fn count(&self, status: u16) {
        self.metrics.request(status);
    }
}

/// Answers one request; false when the connection must close.
async fn route(state: &State, conn: &mut Conn, req: &HttpRequest) -> bool {
    let json = "application/json";
    let (status, body) = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/chat/completions") => {
            return generate(state, conn, req, Endpoint::Chat).await
        }
        ("POST", "/v1/completions") => {
            return generate(state, conn, req, Endpoint::Completions).await
        }
        ("GET", "/health") => (200, b"{\"status\":\"ok\"}\n".to_vec()),
        ("GET", "/v1/models") => {
            let body = serde_json::json!({"object": "list", "data": [{
                "id": state.generator.model_name(), "object": "model", "created": 0, "owned_by": "tokenpace"}]});
            (200, serde_json::to_vec(&body).unwrap_or_default())
        }
        ("GET", "/metrics") => {
            let (running, waiting) = state.generator.load();
            let text = state.metrics.render(running, waiting);
            state.metrics.request(200);
            return conn
                .respond(200, prom::CONTENT_TYPE, text.as_bytes(), req.keep_alive, "")
                .await
                .is_ok();
        }
        (method, path) => {
            let e = ApiError::no_route(method, path);
            (e.status, e.body())
        }
    };
    state.metrics.request(status);
    conn.respond(status, json, &body, req.keep_alive, "")
        .await
        .is_ok()
}

async fn generate(state: &State, conn: &mut Conn, req: &HttpRequest, endpoint: Endpoint) -> bool {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let seed = (state.seed_base ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15)) as u32;
    let parsed = parse(endpoint, &req.body, seed).and_then(|api| {
        state
            .generator
            .submit(api.generation.clone())
            .map(|rx| (api, rx))
            .map_err(|e| match e {
                SubmitError::Invalid(m) => ApiError::invalid(m, Some("prompt")),
                SubmitError::Unavailable(m) => ApiError::new(503, "server_error", "unavailable", m),
            })
    });
    let (parsed, mut rx) = match parsed {
        Ok(p) => p,
        Err(e) => {
            state.metrics.request(e.status);
            return conn
                .respond(e.status, "application/json", &e.body(), req.keep_alive, "")
                .await
                .is_ok();
        }
    };
    let api = &parsed.api;
    let prefix = match endpoint {
        Endpoint::Chat => "chatcmpl",
        _ => "cmpl",
    };
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let model = api
        .model
        .clone()
        .unwrap_or_else(|| state.generator.model_name().to_owned());
    let events = Events::new(endpoint, &format!("{prefix}-{seq}"), &model, created, false);
    state.metrics.request(200);
    if !api.stream {
        let mut text = String::new();
        while let Some(ev) = rx.recv().await {
            match ev {
                GenEvent::Started { .. } => {}
                GenEvent::Token(t) => text.push_str(&t),
                GenEvent::Done(done) => {
                    state.metrics.finished(&done);
                    let mut body = events.body_with(
                        &text,
                        done.reason.as_str(),
                        usage(&done),
                        &timings(&done),
                    );
                    body.push(b'\n');
                    return conn
                        .respond(200, "application/json", &body, req.keep_alive, "")
                        .await
                        .is_ok();
                }
                GenEvent::Failed(m) => {
                    let e = ApiError::new(500, "server_error", "generation_failed", m);
                    return conn
                        .respond(500, "application/json", &e.body(), false, "")
                        .await
                        .is_ok();
                }
            }
        }
        return false;
    }
    let framing = if req.http10 {
        Framing::UntilClose
    } else {
        Framing::Chunked
    };
    let frame = |data: Vec<u8>| {
        if framing == Framing::Chunked {
            chunk(&data)
        } else {
            data
        }
    };
    if conn
        .write(&head(
            200,
            "text/event-stream",
            framing,
            req.keep_alive,
            "Cache-Control: no-cache\r\n",
        ))
        .await
        .is_err()
    {
        return false;
    }
    let mut first = true;
    while let Some(ev) = rx.recv().await {
        let bytes = match ev {
            GenEvent::Started { .. } => continue,
            GenEvent::Token(t) if t.is_empty() => continue,
            GenEvent::Token(t) => {
                let b = events.content(&t, first, None);
                first = false;
                b
            }
            GenEvent::Done(done) => {
                state.metrics.finished(&done);
                let usage = api.include_usage.then(|| usage(&done));
                let end = events.finish_with(done.reason.as_str(), usage, &timings(&done));
                let mut b = frame(end);
                if framing == Framing::Chunked {
                    b.extend_from_slice(LAST_CHUNK);
                }
                return conn.write(&b).await.is_ok() && framing == Framing::Chunked;
            }
            GenEvent::Failed(m) => {
                let e = ApiError::new(500, "server_error", "generation_failed", m);
                let mut b = frame(events.error(&e));
                if framing == Framing::Chunked {
                    b.extend_from_slice(LAST_CHUNK);
                }
                let _ = conn.write(&b).await;
                return false;
            }
        };
        // A write error means the client left: dropping `rx` cancels.
        if conn.write(&frame(bytes)).await.is_err() {
            return false;
        }
    }
    false
}

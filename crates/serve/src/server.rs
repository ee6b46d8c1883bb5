//! Starting, routes and shutdown. The HTTP/1.1 layer, the accept and
//! connection loops and the response bodies are the wire crate's, so this
//! server and the simulator write bytes the same way.

use crate::generate::Generator;
use crate::metrics::ServeMetrics;
use crate::respond::{generate, State};
use crate::tokenize::tokenize;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokenpace_wire::server::serve;
use tokenpace_wire::{
    auth, prom, ApiError, Conn, Endpoint, ErrorShape, Handler, HttpRequest, LimitsConfig, Next,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long in-flight requests get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Where and how to serve.
#[derive(Clone)]
pub struct ServeConfig {
    /// Address to bind (`127.0.0.1` keeps it on this machine).
    pub host: String,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Request size limits and the read timeout.
    pub limits: LimitsConfig,
    /// When set, every route but `/health` (`/metrics` included) needs this
    /// key, as `Authorization: Bearer KEY` or `x-api-key: KEY` (401
    /// otherwise). Never shown: `Debug` writes `<redacted>`.
    pub api_key: Option<String>,
    /// Seeds sampling for requests that give no `seed`: the same requests
    /// in the same order then get the same answers. `None` seeds from the
    /// clock (each start answers differently, as a real server does).
    pub seed: Option<u64>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("limits", &self.limits)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("seed", &self.seed)
            .finish()
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            host: "127.0.0.1".into(),
            port: 0,
            limits: LimitsConfig::default(),
            api_key: None,
            seed: None,
        }
    }
}

/// A running server.
pub struct ServeHandle {
    addr: SocketAddr,
    keyed: bool,
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

    /// Whether machines other than this one can reach it and no key is
    /// asked for: it listens on an address that is not loopback (such as
    /// `0.0.0.0`) without [`ServeConfig::api_key`].
    pub fn open_to_others(&self) -> bool {
        open_to_others(self.addr, self.keyed)
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
    let keyed = config.api_key.is_some();
    let state = Arc::new(State {
        api_key: config.api_key,
        generator,
        metrics: ServeMetrics::default(),
        seq: AtomicU64::new(0),
        seed_base: config.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }),
    });
    let task = tokio::spawn(serve(
        listener,
        state,
        config.limits,
        None,
        shutdown,
        SHUTDOWN_GRACE,
    ));
    Ok(ServeHandle {
        addr,
        keyed,
        stop,
        task,
    })
}

/// Whether a server listening on `addr` is open to other machines without
/// a key: the address is not loopback and `keyed` is false.
pub fn open_to_others(addr: SocketAddr, keyed: bool) -> bool {
    !keyed && !addr.ip().is_loopback()
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
    if let Err(e) = authorize(state, req) {
        state.metrics.request(e.status);
        return conn
            .respond(e.status, json, &e.body(), req.keep_alive, "")
            .await
            .is_ok();
    }
    let (status, body) = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/chat/completions") => {
            return generate(state, conn, req, Endpoint::Chat).await
        }
        ("POST", "/v1/completions") => {
            return generate(state, conn, req, Endpoint::Completions).await
        }
        ("POST", "/v1/messages") => return generate(state, conn, req, Endpoint::Messages).await,
        ("POST", "/v1/responses") => return generate(state, conn, req, Endpoint::Responses).await,
        ("POST", "/tokenize") => match tokenize(state, &req.body) {
            Ok(body) => (200, body),
            Err(e) => (e.status, e.body()),
        },
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

/// Checks the key, when one is set, on every route but `/health`: a 401 in
/// Anthropic's shape on its Messages route, OpenAI's elsewhere.
fn authorize(state: &State, req: &HttpRequest) -> Result<(), ApiError> {
    let Some(key) = &state.api_key else {
        return Ok(());
    };
    if req.path == "/health" {
        return Ok(());
    }
    let shape = if req.path == "/v1/messages" {
        ErrorShape::Anthropic
    } else {
        ErrorShape::OpenAi
    };
    auth::check_either(req, key, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_loopback_address_or_a_key_keeps_others_out() {
        let at = |a: &str| a.parse::<SocketAddr>().unwrap();
        assert!(!open_to_others(at("127.0.0.1:8080"), false));
        assert!(!open_to_others(at("[::1]:8080"), false));
        assert!(open_to_others(at("0.0.0.0:8080"), false));
        assert!(open_to_others(at("[::]:8080"), false));
        assert!(open_to_others(at("192.168.1.5:8080"), false));
        assert!(!open_to_others(at("0.0.0.0:8080"), true));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = ServeConfig {
            api_key: Some("sk-serve-secret".into()),
            ..ServeConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("sk-serve-secret") && shown.contains("<redacted>"),
            "{shown}"
        );
    }
}

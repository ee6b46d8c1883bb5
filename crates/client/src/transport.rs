//! A streaming HTTP/1.1 client for `http://` and `https://` targets,
//! written for timing: each request runs on its caller's task (no
//! connection task to hop through per chunk), bytes are read straight from
//! the socket into a buffer the caller borrows (no allocation per chunk),
//! and every step of the exchange is stamped on the run clock: connect, TLS
//! handshake, request written, response head, each read. Reads are dated by
//! when their bytes reached this host (the kernel's arrival stamp, through
//! TLS too: [`tokenpace_wire::stream`]), so a client busy elsewhere does not
//! add its own delay to the server's timings.
//!
//! Only what a streamed completion needs: requests with a `Content-Length`
//! body; responses with chunked, `Content-Length` or close-delimited bodies;
//! keep-alive through a shared stack of idle connections.

mod response;
mod socket;
pub mod tls;

use crate::clock::RunClock;
use rustls::pki_types::ServerName;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokenpace_core::record::Nanos;
use tokenpace_wire::arrival;
use tokenpace_wire::stream::Stream;
use tokio::sync::OnceCell;

pub use response::Response;

/// Where requests go: one host and port, resolved once, and the idle
/// connections to it.
#[derive(Debug)]
pub struct HostPool {
    host: String,
    port: u16,
    /// Under TLS: the client configuration and the name the server's
    /// certificate must hold.
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    addr: OnceCell<SocketAddr>,
    /// Idle connections with the worker runtime they were last used on.
    idle: Mutex<Vec<(Option<usize>, Stream)>>,
    max_idle: usize,
    connect_timeout: Duration,
}

/// When each step of sending a request happened (run-clock ns).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timeline {
    /// The host name was resolved (only the request that resolved it).
    pub dns_ns: Option<Nanos>,
    /// A new connection was established (absent when one was reused).
    pub connected_ns: Option<Nanos>,
    /// The new connection's TLS handshake was complete (`https://`).
    pub tls_ns: Option<Nanos>,
    /// That handshake resumed an earlier session (no certificate sent).
    pub tls_resumed: Option<bool>,
    /// The request's last byte was written to the socket.
    pub written_ns: Option<Nanos>,
    /// The response head was complete.
    pub head_ns: Option<Nanos>,
}

/// Why an exchange failed, by the step it failed at.
#[derive(Debug)]
pub enum Failure {
    /// The host name did not resolve.
    Dns(String),
    /// No connection could be made.
    Connect(String),
    /// The TLS handshake failed (an untrusted certificate, no common
    /// protocol).
    Tls(String),
    /// The connection broke or the server sent something that is not
    /// HTTP/1.1.
    Broken(String),
}

impl HostPool {
    /// The endpoint of `base_url` (`http://` or `https://`, host, optional
    /// port, optional path), or `None` when it is neither. `tls` is what
    /// an `https://` endpoint's connections are made with.
    pub fn of(
        base_url: &str,
        max_idle: usize,
        connect_timeout: Duration,
        tls: &Arc<rustls::ClientConfig>,
    ) -> Option<HostPool> {
        let base = base_url.trim();
        let (rest, secure) = match base.strip_prefix("https://") {
            Some(rest) => (rest, true),
            None => (base.strip_prefix("http://")?, false),
        };
        let default_port = if secure { 443 } else { 80 };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        // Userinfo is sent as a header (`crate::url::basic_auth`), not here.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if authority.is_empty() {
            return None;
        }
        // `[v6]:port`, `[v6]`, `host:port` or `host`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, rest) = v6.split_once(']')?;
                match rest.strip_prefix(':') {
                    Some(p) => (h, p.parse().ok()?),
                    None if rest.is_empty() => (h, default_port),
                    None => return None,
                }
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, p.parse().ok()?),
                None => (authority, default_port),
            },
        };
        let tls = match secure {
            true => Some((
                Arc::clone(tls),
                ServerName::try_from(host.to_string()).ok()?,
            )),
            false => None,
        };
        arrival::arm();
        Some(HostPool {
            host: host.to_string(),
            port,
            tls,
            addr: OnceCell::new(),
            idle: Mutex::new(Vec::new()),
            max_idle,
            connect_timeout,
        })
    }

    /// Whether the endpoint's connections are under TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The `Host` header's value.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Sends `request` (a complete HTTP/1.1 request: head and body) and
    /// reads the response head. A kept-alive connection the server closed
    /// before answering is replaced by a new one, once.
    pub async fn send(
        &self,
        request: &[u8],
        clock: &RunClock,
    ) -> Result<Response<'_>, (Failure, Timeline)> {
        let mut timeline = Timeline::default();
        let idle = self
            .idle
            .lock()
            .map(|mut v| take_idle(&mut v))
            .unwrap_or(None);
        if let Some(stream) = idle {
            match self.exchange(stream, request, clock, timeline).await {
                Ok(r) => return Ok(r),
                // Not a byte of an answer came back: send it again on a new
                // connection (as curl does); the time it cost stays in.
                Err((Failure::Broken(_), t, false)) => timeline = t,
                Err((f, t, _)) => return Err((f, t)),
            }
        }
        let stream = self.connect(clock, &mut timeline).await?;
        self.exchange(stream, request, clock, timeline)
            .await
            .map_err(|(f, t, _)| (f, t))
    }

    async fn connect(
        &self,
        clock: &RunClock,
        timeline: &mut Timeline,
    ) -> Result<Stream, (Failure, Timeline)> {
        // Resolved once: a cold burst's other streams wait for the one
        // lookup instead of each asking the resolver.
        let mut resolved = false;
        let addr = self
            .addr
            .get_or_try_init(|| async {
                resolved = true;
                tokio::net::lookup_host((self.host.as_str(), self.port))
                    .await
                    .ok()
                    .and_then(|mut a| a.next())
                    .ok_or(())
            })
            .await;
        let Ok(&addr) = addr else {
            let why = format!("could not resolve '{}'", self.host);
            return Err((Failure::Dns(why), *timeline));
        };
        if resolved {
            timeline.dns_ns = Some(clock.now());
        }
        let connected = tokio::time::timeout(self.connect_timeout, socket::open(addr)).await;
        let stream = match connected {
            Err(_) => {
                let why = format!("no connection to {addr} within {:?}", self.connect_timeout);
                return Err((Failure::Connect(why), *timeline));
            }
            Ok(Err(e)) => {
                let why = format!("could not connect to {addr}: {e}");
                return Err((Failure::Connect(why), *timeline));
            }
            Ok(Ok(s)) => s,
        };
        timeline.connected_ns = Some(clock.now());
        // Each request leaves in one write; Nagle would only delay it.
        let _ = stream.set_nodelay(true);
        arrival::enable(&stream);
        let Some((config, name)) = &self.tls else {
            return Ok(Stream::plain(stream));
        };
        let session = rustls::ClientConnection::new(Arc::clone(config), name.clone())
            .map_err(|e| (Failure::Connect(format!("TLS: {e}")), *timeline))?;
        let mut stream = Stream::tls(stream, session);
        let handshake = tokio::time::timeout(self.connect_timeout, stream.handshake()).await;
        let why = match handshake {
            Ok(Ok(())) => {
                timeline.tls_ns = Some(clock.now());
                timeline.tls_resumed = stream
                    .session()
                    .map(|s| s.handshake_kind() == Some(rustls::HandshakeKind::Resumed));
                return Ok(stream);
            }
            Err(_) => format!(
                "no TLS handshake with {addr} within {:?}",
                self.connect_timeout
            ),
            Ok(Err(e)) => tls::explain(&self.host, &e),
        };
        Err((Failure::Tls(why), *timeline))
    }

    /// Writes `request` and reads the head. The flag on failure: whether
    /// any byte of a response arrived.
    async fn exchange(
        &self,
        mut stream: Stream,
        request: &[u8],
        clock: &RunClock,
        mut timeline: Timeline,
    ) -> Result<Response<'_>, (Failure, Timeline, bool)> {
        let written = match stream.session() {
            None => socket::write_request(stream.tcp_mut(), request).await,
            Some(_) => match stream.seal(request) {
                Ok(sealed) => socket::write_request(stream.tcp_mut(), &sealed).await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = written {
            return Err(broken(e, timeline, false));
        }
        timeline.written_ns = Some(clock.now());
        Response::read(self, stream, clock, timeline).await
    }

    fn put_back(&self, stream: Stream) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push((crate::workers::current(), stream));
            }
        }
    }
}

/// A broken connection as the step's failure, with the timeline so far and
/// whether any byte of a response arrived.
fn broken(e: io::Error, t: Timeline, answered: bool) -> (Failure, Timeline, bool) {
    (
        Failure::Broken(format!("the connection broke: {e}")),
        t,
        answered,
    )
}

/// The idle connection to reuse: the newest one last used on this thread's
/// worker runtime (its socket events then wake this thread, no other), else
/// the newest of any.
fn take_idle(idle: &mut Vec<(Option<usize>, Stream)>) -> Option<Stream> {
    let here = crate::workers::current();
    let i = idle
        .iter()
        .rposition(|(w, _)| *w == here)
        .or(idle.len().checked_sub(1))?;
    Some(idle.remove(i).1)
}

#[cfg(test)]
mod tests;

//! A streaming HTTP/1.1 client for plain `http://` targets, written for
//! timing: each request runs on its caller's task (no connection task to hop
//! through per chunk), bytes are read straight from the socket into a buffer
//! the caller borrows (no allocation per chunk), and every step of the
//! exchange is stamped on the run clock: connect, request written, response
//! head, each read. Reads are dated by when their bytes reached this host
//! (the kernel's arrival stamp, [`tokenpace_wire::arrival`]), so a client busy elsewhere
//! does not add its own delay to the server's timings. `https://` targets go through reqwest (see
//! [`crate::request`]).
//!
//! Only what a streamed completion needs: `POST` with a `Content-Length`
//! body; responses with chunked, `Content-Length` or close-delimited bodies;
//! keep-alive through a shared stack of idle connections.

mod response;
mod socket;

use crate::clock::RunClock;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokenpace_core::record::Nanos;
use tokenpace_wire::arrival;
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

pub use response::Response;

/// Where requests go: one host and port, resolved once, and the idle
/// connections to it.
#[derive(Debug)]
pub struct Endpoint {
    host: String,
    port: u16,
    addr: OnceCell<SocketAddr>,
    /// Idle connections with the worker runtime they were last used on.
    idle: Mutex<Vec<(Option<usize>, TcpStream)>>,
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
    /// The connection broke or the server sent something that is not
    /// HTTP/1.1.
    Broken(String),
}

impl Endpoint {
    /// The endpoint of `base_url` (`http://host[:port][/...]`), or `None`
    /// when it is not plain HTTP.
    pub fn of(base_url: &str, max_idle: usize, connect_timeout: Duration) -> Option<Endpoint> {
        let rest = base_url.trim().strip_prefix("http://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return None;
        }
        // `[v6]:port`, `[v6]`, `host:port` or `host`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (h, rest) = v6.split_once(']')?;
                match rest.strip_prefix(':') {
                    Some(p) => (h, p.parse().ok()?),
                    None if rest.is_empty() => (h, 80),
                    None => return None,
                }
            }
            None => match authority.split_once(':') {
                Some((h, p)) => (h, p.parse().ok()?),
                None => (authority, 80),
            },
        };
        let host = host.to_string();
        arrival::arm();
        Some(Endpoint {
            host,
            port,
            addr: OnceCell::new(),
            idle: Mutex::new(Vec::new()),
            max_idle,
            connect_timeout,
        })
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
    ) -> Result<TcpStream, (Failure, Timeline)> {
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
        Ok(stream)
    }

    /// Writes `request` and reads the head. The flag on failure: whether
    /// any byte of a response arrived.
    async fn exchange(
        &self,
        mut stream: TcpStream,
        request: &[u8],
        clock: &RunClock,
        mut timeline: Timeline,
    ) -> Result<Response<'_>, (Failure, Timeline, bool)> {
        if let Err(e) = socket::write_request(&mut stream, request).await {
            return Err(broken(e, timeline, false));
        }
        timeline.written_ns = Some(clock.now());
        Response::read(self, stream, clock, timeline).await
    }

    fn put_back(&self, stream: TcpStream) {
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
fn take_idle(idle: &mut Vec<(Option<usize>, TcpStream)>) -> Option<TcpStream> {
    let here = crate::workers::current();
    let i = idle
        .iter()
        .rposition(|(w, _)| *w == here)
        .or(idle.len().checked_sub(1))?;
    Some(idle.remove(i).1)
}

#[cfg(test)]
mod tests;

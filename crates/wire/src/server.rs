//! The accept loop and the per-connection request loop both servers run:
//! read a request within the limits, answer a bad one with its error and
//! close, hand a good one to the server's [`Handler`], keep the connection
//! alive while both sides want to, and stop cleanly on shutdown.

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::http::{Conn, HttpRequest, LimitsConfig};
use crate::stream::Stream;
use crate::tls::ServerTls;

/// What the connection does after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Read the next request (if the client keeps the connection alive).
    KeepAlive,
    /// Close the connection.
    Close,
    /// Reset the connection (RST).
    Reset,
}

/// A server's routes: what [`serve`] hands each request to.
pub trait Handler: Send + Sync + 'static {
    /// Counts a response the connection loop sent itself (a request that
    /// could not be read), for `/metrics`.
    fn count(&self, status: u16);

    /// Answers one request.
    fn handle<'a>(
        &'a self,
        conn: &'a mut Conn,
        req: &'a HttpRequest,
    ) -> impl Future<Output = Next> + Send + 'a;
}

/// Resolves once shutdown has been asked for (or the sender is gone).
pub async fn shutdown_signal(mut rx: watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Connections the kernel may hold for `accept`. Tokio's default (1024)
/// overflows when a client opens a thousand connections at once: the SYNs it
/// drops are retransmitted a second later, and that second lands in the
/// first wave's TTFT. The kernel caps this at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 8192;

/// An address that could not be listened on. It says what failed; the
/// program that chose the address adds how to choose another
/// ([`ListenError::advise`]).
#[derive(Debug)]
pub struct ListenError {
    /// The host asked for.
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// How to choose another address, from the caller (in parentheses).
    pub advice: Option<String>,
    /// Why (in the message, not a chained source: said once).
    pub reason: io::Error,
}

impl ListenError {
    /// The same error, saying how to choose another address.
    pub fn advise(mut self, advice: impl Into<String>) -> Self {
        self.advice = Some(advice.into());
        self
    }
}

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not listen on {}:{}", self.host, self.port)?;
        if let Some(advice) = &self.advice {
            write!(f, " ({advice})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ListenError {}

/// Binds `host:port` with a backlog deep enough for a cold burst.
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, ListenError> {
    let fail = |reason: io::Error| ListenError {
        host: host.to_string(),
        port,
        advice: None,
        reason,
    };
    let addr = tokio::net::lookup_host((host, port))
        .await
        .map_err(fail)?
        .next()
        .ok_or_else(|| fail(io::Error::new(io::ErrorKind::NotFound, "no address")))?;
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(fail)?;
    socket.set_reuseaddr(true).map_err(fail)?;
    socket.bind(addr).map_err(fail)?;
    socket.listen(ACCEPT_BACKLOG).map_err(fail)
}

/// Accepts connections and serves each on its own task (under `tls` when
/// given: its handshake first, within the read timeout), reading requests
/// under `limits`, until `shutdown` turns true; then stops accepting and
/// gives the connections in flight `grace` to finish before it aborts them.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    limits: LimitsConfig,
    tls: Option<Arc<ServerTls>>,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let limits = Arc::new(limits);
    crate::arrival::arm();
    let mut conns = JoinSet::new();
    let stop = shutdown_signal(shutdown.clone());
    tokio::pin!(stop);
    // Out of tokio's cooperative budget, so a burst is accepted as fast as
    // it comes: with the budget this loop yields after about 128 accepts
    // and waits its turn behind every connection's task, while the kernel's
    // accept queue (`somaxconn`, 4096 on the test machine) holds the rest.
    // A full queue drops SYNs, which clients resend a second later: seen in
    // two cold bursts of 10 000 streams, not reproduced since, with this
    // or without it, so this is a precaution rather than a measured fix.
    tokio::task::unconstrained(async {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let (handler, limits) = (Arc::clone(&handler), Arc::clone(&limits));
                        let tls = tls.clone();
                        conns.spawn(connection(handler, limits, stream, tls, shutdown.clone()));
                    }
                    // Out of descriptors or similar: back off instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                _ = &mut stop => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
    })
    .await;
    drop(listener);
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} });
    if drained.await.is_err() {
        conns.abort_all();
    }
}

async fn connection<H: Handler>(
    handler: Arc<H>,
    limits: Arc<LimitsConfig>,
    stream: TcpStream,
    tls: Option<Arc<ServerTls>>,
    shutdown: watch::Receiver<bool>,
) {
    let Ok(tcp) = Conn::prepare(stream) else {
        return;
    };
    let stream = match tls {
        None => Stream::plain(tcp),
        Some(tls) => {
            let Ok(session) = tls.session() else {
                return;
            };
            let mut stream = Stream::tls(tcp, session);
            // A client that never finishes its handshake holds no connection
            // longer than one slow request would.
            let handshake = tokio::time::timeout(limits.read_timeout(), stream.handshake());
            if !matches!(handshake.await, Ok(Ok(()))) {
                return;
            }
            stream
        }
    };
    let mut conn = Conn::over(stream);
    loop {
        let read = tokio::select! {
            r = conn.read_request(&limits) => r,
            _ = shutdown_signal(shutdown.clone()) => return,
        };
        let req = match read {
            Ok(req) => req,
            Err(e) => {
                if let Some(err) = e.api_error(&limits) {
                    handler.count(err.status);
                    let _ = conn
                        .respond(err.status, "application/json", &err.body(), false, "")
                        .await;
                    conn.discard_and_close().await;
                }
                return;
            }
        };
        match handler.handle(&mut conn, &req).await {
            Next::KeepAlive if req.keep_alive => {}
            Next::Reset => return conn.reset(),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_says_where_and_why_and_the_callers_advice() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = bind("127.0.0.1", port).await.unwrap_err();
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", port));
        let plain = e.to_string();
        assert!(
            plain.starts_with(&format!("could not listen on 127.0.0.1:{port}: ")),
            "{plain}"
        );
        let advised = e.advise("choose another").to_string();
        assert!(
            advised.starts_with(&format!(
                "could not listen on 127.0.0.1:{port} (choose another): "
            )),
            "{advised}"
        );
    }
}

//! The accept loop and the per-connection request loop both servers run:
//! read a request within the limits, answer a bad one with its error and
//! close, hand a good one to the server's [`Handler`], keep the connection
//! alive while both sides want to, and stop cleanly on shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::http::{Conn, HttpRequest, LimitsConfig};

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
    /// The limits requests are read under.
    fn limits(&self) -> &LimitsConfig;

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

/// Accepts connections and serves each on its own task until `shutdown`
/// turns true; then stops accepting and gives the connections in flight
/// `grace` to finish before it aborts them.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    handler: Arc<H>,
    shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut conns = JoinSet::new();
    let stop = shutdown_signal(shutdown.clone());
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(connection(Arc::clone(&handler), stream, shutdown.clone()));
                }
                // Out of descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = &mut stop => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} });
    if drained.await.is_err() {
        conns.abort_all();
    }
}

async fn connection<H: Handler>(
    handler: Arc<H>,
    stream: TcpStream,
    shutdown: watch::Receiver<bool>,
) {
    let Ok(mut conn) = Conn::new(stream) else {
        return;
    };
    loop {
        let read = tokio::select! {
            r = conn.read_request(handler.limits()) => r,
            _ = shutdown_signal(shutdown.clone()) => return,
        };
        let req = match read {
            Ok(req) => req,
            Err(e) => {
                if let Some(err) = e.api_error(handler.limits()) {
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

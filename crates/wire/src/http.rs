//! A minimal HTTP/1.1 server side, written over the socket directly so the
//! simulator controls every write: when it happens, how it is split, and
//! when it completes (the ground truth records that instant). Requests need
//! `Content-Length` bodies (one length: `http/head.rs` refuses any other framing);
//! each request must arrive whole within [`LimitsConfig::read_timeout_ms`]
//! (408, then close); responses use `Content-Length` or chunked transfer
//! encoding; connections are kept alive unless asked otherwise.

mod head;

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use crate::stream::Stream;

use crate::error::ApiError;

/// Limits on what clients may send, so one client cannot make a server
/// buffer without bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers) accepted (431 beyond).
    pub max_header_bytes: usize,
    /// Largest `max_tokens` accepted (400 beyond), like a context length.
    pub max_tokens: u64,
    /// Milliseconds a request may take to arrive, head and body (408 and
    /// the connection closed beyond, so slow clients cannot hold
    /// connections): counted from the accept for a connection's first
    /// request and from the first byte for a later one (a kept-alive
    /// connection may idle between requests). At least 1.
    pub read_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 4 << 20,
            max_header_bytes: 32 << 10,
            max_tokens: 32_768,
            read_timeout_ms: 10_000,
        }
    }
}

impl LimitsConfig {
    /// [`LimitsConfig::read_timeout_ms`] as a duration.
    pub fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_timeout_ms.max(1))
    }
}

/// A clock to pace trickled writes with, so a server with a finer timer
/// than tokio's (the simulator's) keeps its byte gaps exact.
pub trait Pacer: Debug + Send + Sync {
    /// A future that completes at `at` or just after, never before.
    fn sleep_until(&self, at: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// A request as read from the wire.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// Header names (lowercased) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the client wants to keep the connection open.
    pub keep_alive: bool,
    /// An HTTP/1.0 request: no chunked encoding, the body ends at close.
    pub http10: bool,
    /// When its last byte reached this host (the kernel's stamp of the read
    /// that completed it), when the kernel stamped it: earlier than the
    /// moment the server got round to reading it if the server was busy.
    pub arrived: Option<Instant>,
}

impl HttpRequest {
    /// The first header called `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    /// A socket error.
    Io,
    /// The request line and headers exceed the limit (431).
    HeadTooLarge,
    /// `Content-Length` exceeds the limit (413).
    BodyTooLarge(u64),
    /// A chunked request body (411: send `Content-Length`).
    LengthRequired,
    /// Not HTTP/1.x, or a body length that is not one number (400).
    Malformed(String),
    /// The request did not arrive whole within the read timeout (408).
    Timeout,
}

impl ReadError {
    /// The error response to send, if any (none when the client left).
    pub fn api_error(&self, limits: &LimitsConfig) -> Option<ApiError> {
        Some(match self {
            ReadError::Closed | ReadError::Io => return None,
            ReadError::HeadTooLarge => ApiError::new(
                431,
                "invalid_request_error",
                "headers_too_large",
                format!(
                    "request line and headers exceed {} bytes",
                    limits.max_header_bytes
                ),
            ),
            ReadError::BodyTooLarge(n) => ApiError::new(
                413,
                "invalid_request_error",
                "request_too_large",
                format!(
                    "request body of {n} bytes exceeds the limit of {} bytes",
                    limits.max_body_bytes
                ),
            ),
            ReadError::LengthRequired => ApiError::new(
                411,
                "invalid_request_error",
                "length_required",
                "send the body with Content-Length, not chunked",
            ),
            ReadError::Malformed(m) => {
                ApiError::new(400, "invalid_request_error", "bad_http", m.clone())
            }
            ReadError::Timeout => ApiError::new(
                408,
                "invalid_request_error",
                "request_timeout",
                format!(
                    "the request did not arrive whole within {} ms",
                    limits.read_timeout().as_millis()
                ),
            ),
        })
    }
}

/// One client connection.
#[derive(Debug)]
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    trickle: Option<(Duration, Arc<dyn Pacer>)>,
    /// When the bytes of the last read arrived, if the kernel stamped them.
    arrived: Option<Instant>,
    /// When the connection was accepted.
    opened: Instant,
    /// Requests read whole so far.
    requests: u64,
}

impl Conn {
    /// Wraps an accepted socket, turning Nagle's algorithm off so each
    /// chunk leaves at once.
    pub fn new(stream: TcpStream) -> io::Result<Self> {
        Ok(Conn::over(Stream::plain(Conn::prepare(stream)?)))
    }

    /// Readies an accepted socket: Nagle's algorithm off, arrival stamps on.
    pub fn prepare(stream: TcpStream) -> io::Result<TcpStream> {
        stream.set_nodelay(true)?;
        crate::arrival::enable(&stream);
        Ok(stream)
    }

    /// A connection over `stream` (in the clear or under TLS, its
    /// handshake done), its socket [`Conn::prepare`]d.
    pub fn over(stream: Stream) -> Self {
        Conn {
            stream,
            buf: Vec::with_capacity(8192),
            trickle: None,
            arrived: None,
            opened: Instant::now(),
            requests: 0,
        }
    }

    /// Reads the next request, within the read timeout: from the accept
    /// for the first request, from its first byte for a later one.
    pub async fn read_request(&mut self, limits: &LimitsConfig) -> Result<HttpRequest, ReadError> {
        let start = if self.requests == 0 {
            self.opened
        } else {
            // A kept-alive connection idles until the next request starts.
            if self.buf.is_empty() && self.fill().await? == 0 {
                return Err(ReadError::Closed);
            }
            Instant::now()
        };
        let deadline = tokio::time::Instant::from_std(start + limits.read_timeout());
        let req = tokio::time::timeout_at(deadline, self.read_whole(limits))
            .await
            .map_err(|_| ReadError::Timeout)??;
        self.requests += 1;
        Ok(req)
    }

    /// Reads a request's head and body, however long they take.
    async fn read_whole(&mut self, limits: &LimitsConfig) -> Result<HttpRequest, ReadError> {
        let (head_len, mut req, content_length) = loop {
            if let Some(parsed) = head::parse_head(&self.buf)? {
                break parsed;
            }
            if self.buf.len() > limits.max_header_bytes {
                return Err(ReadError::HeadTooLarge);
            }
            if self.fill().await? == 0 {
                return Err(if self.buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Malformed("connection closed inside the request head".into())
                });
            }
        };
        if head_len > limits.max_header_bytes {
            return Err(ReadError::HeadTooLarge);
        }
        if content_length > limits.max_body_bytes as u64 {
            return Err(ReadError::BodyTooLarge(content_length));
        }
        let total = head_len + content_length as usize;
        let expects_continue = req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects_continue && self.buf.len() < total {
            // curl and others wait (curl: 1 s) for this before sending a body.
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| ReadError::Io)?;
        }
        while self.buf.len() < total {
            if self.fill().await? == 0 {
                return Err(ReadError::Malformed(
                    "connection closed inside the body".into(),
                ));
            }
        }
        req.body = self.buf[head_len..total].to_vec();
        self.buf.drain(..total);
        // A request already in the buffer (pipelined) arrived with the read
        // that brought it, which is the last one.
        req.arrived = self.arrived;
        Ok(req)
    }

    async fn fill(&mut self) -> Result<usize, ReadError> {
        self.buf.reserve(8192);
        let (n, at) = self
            .stream
            .read(&mut self.buf)
            .await
            .map_err(|_| ReadError::Io)?;
        self.arrived = at;
        Ok(n)
    }

    /// From now on write every byte alone, `gap` apart on `pacer`
    /// (slow-loris); `None` goes back to normal writes.
    pub fn set_trickle(&mut self, trickle: Option<(Duration, Arc<dyn Pacer>)>) {
        self.trickle = trickle;
    }

    /// Writes `bytes` (byte by byte when trickling) and flushes; returns the
    /// number of writes.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<u32> {
        match &self.trickle {
            None => {
                self.stream.write_all(bytes).await?;
                Ok(1)
            }
            Some((gap, timer)) => {
                let (gap, timer) = (*gap, Arc::clone(timer));
                for (i, b) in bytes.iter().enumerate() {
                    if i > 0 {
                        timer.sleep_until(Instant::now() + gap).await;
                    }
                    self.stream.write_all(std::slice::from_ref(b)).await?;
                }
                Ok(bytes.len() as u32)
            }
        }
    }

    /// Writes a complete response with a `Content-Length` body.
    pub async fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
        keep_alive: bool,
        extra_headers: &str,
    ) -> io::Result<u32> {
        let mut out = head(
            status,
            content_type,
            Framing::Length(body.len()),
            keep_alive,
            extra_headers,
        );
        out.extend_from_slice(body);
        self.write(&out).await
    }

    /// Closes after an error response without losing it: stops writing,
    /// then reads and drops what the client still sends (briefly), because
    /// closing with unread data would send RST and could destroy the response.
    pub async fn discard_and_close(mut self) {
        let _ = self.stream.shutdown().await;
        let mut sink = Vec::with_capacity(16 * 1024);
        let drain = async {
            while let Ok((n, _)) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
                sink.clear();
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }

    /// Resets the connection: with a zero linger, closing sends RST.
    pub fn reset(self) {
        let _ = socket2::SockRef::from(self.stream.tcp()).set_linger(Some(Duration::ZERO));
        drop(self.stream);
    }
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked` (HTTP/1.1).
    Chunked,
    /// Neither: the body ends when the connection closes (HTTP/1.0).
    UntilClose,
}

/// A response head.
pub fn head(
    status: u16,
    content_type: &str,
    framing: Framing,
    keep_alive: bool,
    extra_headers: &str,
) -> Vec<u8> {
    let keep_alive = keep_alive && framing != Framing::UntilClose;
    let framing = match framing {
        Framing::Length(n) => format!("Content-Length: {n}\r\n"),
        Framing::Chunked => "Transfer-Encoding: chunked\r\n".to_owned(),
        Framing::UntilClose => String::new(),
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n{framing}Connection: {connection}\r\nServer: tokenpace\r\n{extra_headers}\r\n",
        reason(status)
    )
    .into_bytes()
}

/// One chunk of a chunked body (must not be empty: that ends the body).
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The zero-length chunk that ends a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_framing() {
        assert_eq!(chunk(b"hello"), b"5\r\nhello\r\n");
        let h = String::from_utf8(head(
            429,
            "application/json",
            Framing::Length(2),
            false,
            "Retry-After: 1\r\n",
        ))
        .unwrap();
        assert!(h.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(h.contains("Connection: close\r\n") && h.ends_with("Retry-After: 1\r\n\r\n"));
    }
}

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

use crate::clock::RunClock;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokenpace_core::record::Nanos;
use tokenpace_wire::arrival;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

/// The longest response head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 4 * 1024;
/// Bytes asked of the socket per read.
const READ_SIZE: usize = 16 * 1024;

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

/// A response whose body is being read.
#[derive(Debug)]
pub struct Response<'e> {
    /// The status code.
    pub status: u16,
    /// What the steps up to the head took.
    pub timeline: Timeline,
    endpoint: &'e Endpoint,
    /// Taken back to the idle stack once the body is complete.
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    pos: usize,
    body: BodyState,
    keep_alive: bool,
    /// When the last read returned: the arrival time of what it brought.
    read_at: Nanos,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum BodyState {
    /// Chunked: before a chunk-size line.
    ChunkSize,
    /// Chunked: this many bytes of the current chunk are left.
    ChunkData(u64),
    /// Chunked: the CRLF after a chunk's data.
    ChunkEnd,
    /// Chunked: trailer lines up to the empty one.
    Trailers,
    /// This many bytes of a `Content-Length` body are left.
    Length(u64),
    /// Read until the server closes.
    UntilClose,
    /// The body is complete.
    Done,
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
        let connected = tokio::time::timeout(self.connect_timeout, open(addr)).await;
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
        let broken = |e: io::Error, t: Timeline, answered: bool| {
            (
                Failure::Broken(format!("the connection broke: {e}")),
                t,
                answered,
            )
        };
        // Written straight away: a socket just opened has no readiness yet
        // in tokio's eyes, and waiting for the reactor to grant it would
        // queue this write behind every other stream's on the thread.
        let sent = match socket2::SockRef::from(&stream).send_with_flags(request, SEND_FLAGS) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => return Err(broken(e, timeline, false)),
        };
        if let Err(e) = stream.write_all(&request[sent..]).await {
            return Err(broken(e, timeline, false));
        }
        timeline.written_ns = Some(clock.now());
        let mut buf = Vec::with_capacity(READ_SIZE);
        let mut read_at = 0;
        let head = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&buf) {
                Ok(httparse::Status::Complete(len)) => {
                    break Head::of(&parsed, len).map_err(|m| (m, !buf.is_empty()));
                }
                Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
                Ok(httparse::Status::Partial) => {
                    break Err(("the response head is over 64 KiB".into(), true));
                }
                Err(e) => break Err((format!("the response is not HTTP/1.1: {e}"), true)),
            }
            buf.reserve(READ_SIZE);
            match arrival::read(&stream, &mut buf).await {
                Ok((0, _)) => {
                    let e =
                        io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a response");
                    return Err(broken(e, timeline, !buf.is_empty()));
                }
                Ok((_, age)) => {
                    let written = timeline.written_ns.unwrap_or(0);
                    read_at = arrived(clock, age).max(written);
                }
                Err(e) => return Err(broken(e, timeline, !buf.is_empty())),
            }
        };
        let head = head.map_err(|(m, answered)| (Failure::Broken(m), timeline, answered))?;
        timeline.head_ns = Some(read_at);
        Ok(Response {
            status: head.status,
            timeline,
            endpoint: self,
            stream: Some(stream),
            buf,
            pos: head.len,
            body: head.body,
            keep_alive: head.keep_alive,
            read_at,
        })
    }

    fn put_back(&self, stream: TcpStream) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push((crate::workers::current(), stream));
            }
        }
    }
}

/// Connects to `addr`. A handshake that is complete when `connect`
/// returns (loopback, where the kernel answers within the call) is used at
/// once; otherwise the socket is awaited as tokio does. Waiting for the
/// reactor to report an already open socket would put every request of a
/// cold burst behind every other stream's connect on the same thread.
async fn open(addr: SocketAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    // Made non-blocking by `socket` itself where it can (two system calls
    // less per connection of a cold burst), else just after.
    let kind = Type::STREAM;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let kind = kind.nonblocking();
    let socket = Socket::new(Domain::for_address(addr), kind, Some(Protocol::TCP))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    let open_now = socket.peer_addr().is_ok();
    let stream = TcpStream::from_std(socket.into())?;
    if !open_now {
        stream.writable().await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
    }
    Ok(stream)
}

/// Flags of the direct first write: a connection the server closed is an
/// error to report, never a SIGPIPE that ends the process (tokio's own
/// writes pass the same flag).
#[cfg(target_os = "linux")]
const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL;
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: i32 = 0;

/// Whether a non-blocking `connect` is under way rather than failed.
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
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

/// What the response head says about the body.
struct Head {
    status: u16,
    len: usize,
    body: BodyState,
    keep_alive: bool,
}

impl Head {
    fn of(r: &httparse::Response<'_, '_>, len: usize) -> Result<Head, String> {
        let status = r.code.unwrap_or(0);
        let value = |name: &str| {
            r.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
        };
        let close = value("connection").is_some_and(|v| v.contains("close"));
        let chunked = value("transfer-encoding").is_some_and(|v| v.contains("chunked"));
        let body = if chunked {
            BodyState::ChunkSize
        } else if let Some(v) = value("content-length") {
            let n = v
                .trim()
                .parse()
                .map_err(|_| format!("the response's Content-Length '{v}' is not a number"))?;
            if n == 0 {
                BodyState::Done
            } else {
                BodyState::Length(n)
            }
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            BodyState::Done
        } else {
            BodyState::UntilClose
        };
        Ok(Head {
            status,
            len,
            keep_alive: !close && r.version == Some(1) && body != BodyState::UntilClose,
            body,
        })
    }
}

impl Response<'_> {
    /// The next piece of the body as it is in hand, with when the read that
    /// brought it returned; `None` at the end of the body. On a complete
    /// body the connection goes back to the idle stack.
    pub async fn next(&mut self, clock: &RunClock) -> Result<Option<(&[u8], Nanos)>, String> {
        // Buffered bytes carry the time of the read that brought them: the
        // arrival of its last segment (two events in one read are dated
        // together), or the read's return where the kernel has no stamp.
        loop {
            if let Some((start, end)) = self.step()? {
                return Ok(Some((&self.buf[start..end], self.read_at)));
            }
            if self.body == BodyState::Done {
                return Ok(None);
            }
            if self.pos > 0 && self.pos == self.buf.len() {
                self.buf.clear();
                self.pos = 0;
            } else if self.pos > READ_SIZE {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.reserve(READ_SIZE);
            let Some(stream) = self.stream.as_mut() else {
                return Ok(None);
            };
            let (n, age) = arrival::read(stream, &mut self.buf)
                .await
                .map_err(|e| format!("the stream broke: {e}"))?;
            // Later bytes never arrived before earlier ones.
            self.read_at = arrived(clock, age).max(self.read_at);
            if n == 0 {
                if self.body == BodyState::UntilClose {
                    self.body = BodyState::Done;
                    return Ok(None);
                }
                return Err("the stream broke: the server closed the connection mid-body".into());
            }
        }
    }

    /// Advances the body's state over the buffered bytes: the range of
    /// payload bytes ready to hand out, if any.
    fn step(&mut self) -> Result<Option<(usize, usize)>, String> {
        loop {
            let avail = self.buf.len() - self.pos;
            match self.body {
                BodyState::Done => return Ok(None),
                BodyState::UntilClose | BodyState::Length(_) | BodyState::ChunkData(_)
                    if avail == 0 =>
                {
                    return Ok(None)
                }
                BodyState::UntilClose => {
                    let start = self.pos;
                    self.pos = self.buf.len();
                    return Ok(Some((start, self.pos)));
                }
                BodyState::Length(left) | BodyState::ChunkData(left) => {
                    let take = (avail as u64).min(left) as usize;
                    let start = self.pos;
                    self.pos += take;
                    let rest = left - take as u64;
                    self.body = match (self.body, rest) {
                        (BodyState::Length(_), 0) => {
                            self.finish();
                            BodyState::Done
                        }
                        (BodyState::Length(_), r) => BodyState::Length(r),
                        (_, 0) => BodyState::ChunkEnd,
                        (_, r) => BodyState::ChunkData(r),
                    };
                    return Ok(Some((start, self.pos)));
                }
                BodyState::ChunkSize | BodyState::ChunkEnd | BodyState::Trailers => {
                    let Some(line) = self.line()? else {
                        return Ok(None);
                    };
                    let empty = line.is_empty();
                    self.body = match self.body {
                        BodyState::ChunkEnd if empty => BodyState::ChunkSize,
                        BodyState::ChunkEnd => {
                            return Err("a chunk of the response ran past its size".into())
                        }
                        BodyState::Trailers if empty => {
                            self.finish();
                            BodyState::Done
                        }
                        BodyState::Trailers => BodyState::Trailers,
                        _ => match chunk_size(&self.buf[line])? {
                            0 => BodyState::Trailers,
                            n => BodyState::ChunkData(n),
                        },
                    };
                }
            }
        }
    }

    /// Where the next CRLF-ended line of the buffer is (without it), if it
    /// is complete: read in place, with no allocation per chunk.
    fn line(&mut self) -> Result<Option<std::ops::Range<usize>>, String> {
        let rest = &self.buf[self.pos..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                let start = self.pos;
                let mut end = start + i;
                while end > start && self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                self.pos += i + 1;
                Ok(Some(start..end))
            }
            None if rest.len() > MAX_LINE => {
                Err("a chunk-size line of the response is over 4 KiB".into())
            }
            None => Ok(None),
        }
    }

    /// The body is complete: keep the connection when the server allows
    /// (and sent nothing past the body).
    fn finish(&mut self) {
        if self.keep_alive && self.pos == self.buf.len() {
            if let Some(stream) = self.stream.take() {
                self.endpoint.put_back(stream);
            }
        }
    }

    /// Up to `max` bytes of the rest of the body (an error's message), until `by`.
    pub async fn text(mut self, clock: &RunClock, max: usize, by: tokio::time::Instant) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < max {
            match tokio::time::timeout_at(by, self.next(clock)).await {
                Ok(Ok(Some((b, _)))) => out.extend_from_slice(&b[..b.len().min(max - out.len())]),
                _ => break,
            }
        }
        out
    }
}

/// When a read's bytes arrived on the run clock: `age` before now when the
/// kernel stamped them, else now.
fn arrived(clock: &RunClock, age: Option<Duration>) -> Nanos {
    let now = clock.now();
    age.map_or(now, |a| now.saturating_sub(a.as_nanos() as Nanos))
}

/// A chunk-size line's size (extensions after `;` ignored).
fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let hex = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    std::str::from_utf8(hex)
        .ok()
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or_else(|| {
            format!(
                "the response's chunk-size line '{}' is not hex",
                String::from_utf8_lossy(hex).escape_debug()
            )
        })
}

#[cfg(test)]
mod tests;

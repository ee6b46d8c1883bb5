//! A response on the timed transport: its head read from the socket, then
//! its body handed out piece by piece as it arrives (chunked,
//! `Content-Length` or close-delimited), read in place with no allocation
//! per chunk, each piece dated by when its bytes reached this host.

use super::{broken, Failure, HostPool, Timeline};
use crate::clock::RunClock;
use crate::throttle::RateLimitHeaders;
use std::io;
use std::time::Instant;
use tokenpace_core::record::Nanos;
use tokenpace_wire::stream::Stream;

/// The longest response head read (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// The longest chunk-size line (with extensions) or trailer line.
const MAX_LINE: usize = 4 * 1024;
/// Bytes asked of the socket per read.
const READ_SIZE: usize = 16 * 1024;

/// A response whose body is being read.
#[derive(Debug)]
pub struct Response<'e> {
    /// The status code.
    pub status: u16,
    /// What the steps up to the head took.
    pub timeline: Timeline,
    /// Its `Retry-After` and rate-limit headers.
    pub rate_limits: RateLimitHeaders,
    endpoint: &'e HostPool,
    /// Taken back to the idle stack once the body is complete.
    stream: Option<Stream>,
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

/// What the response head says about the body.
struct Head {
    status: u16,
    len: usize,
    body: BodyState,
    keep_alive: bool,
    rate_limits: RateLimitHeaders,
}

impl Head {
    /// The head at the start of `buf`: `None` while it is incomplete, an
    /// error (and whether anything arrived) when it is not one. Its own
    /// function, so the header array is not held across the read that
    /// follows (it would be kilobytes in every request's future, copied
    /// as that future moves).
    fn parse(buf: &[u8]) -> Option<Result<Head, (String, bool)>> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                Some(Head::of(&parsed, len).map_err(|m| (m, !buf.is_empty())))
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => None,
            Ok(httparse::Status::Partial) => {
                Some(Err(("the response head is over 64 KiB".into(), true)))
            }
            Err(e) => Some(Err((format!("the response is not HTTP/1.1: {e}"), true))),
        }
    }

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
            rate_limits: RateLimitHeaders::of(r.headers.iter().map(|h| (h.name, h.value))),
        })
    }
}

impl<'e> Response<'e> {
    /// Reads the head of the response to the request written on `stream`
    /// (at `timeline.written_ns`): the response, its body still to read.
    /// The flag on failure: whether any byte of a response arrived.
    pub(super) async fn read(
        endpoint: &'e HostPool,
        mut stream: Stream,
        clock: &RunClock,
        mut timeline: Timeline,
    ) -> Result<Response<'e>, (Failure, Timeline, bool)> {
        let mut buf = Vec::with_capacity(READ_SIZE);
        let mut read_at = 0;
        let head = loop {
            if let Some(head) = Head::parse(&buf) {
                break head;
            }
            buf.reserve(READ_SIZE);
            match stream.read(&mut buf).await {
                Ok((0, _)) => {
                    let e =
                        io::Error::new(io::ErrorKind::UnexpectedEof, "closed before a response");
                    return Err(broken(e, timeline, !buf.is_empty()));
                }
                Ok((_, at)) => {
                    let written = timeline.written_ns.unwrap_or(0);
                    read_at = arrived(clock, at).max(written);
                }
                Err(e) => return Err(broken(e, timeline, !buf.is_empty())),
            }
        };
        let head = head.map_err(|(m, answered)| (Failure::Broken(m), timeline, answered))?;
        timeline.head_ns = Some(read_at);
        Ok(Response {
            status: head.status,
            timeline,
            rate_limits: head.rate_limits,
            endpoint,
            stream: Some(stream),
            buf,
            pos: head.len,
            body: head.body,
            keep_alive: head.keep_alive,
            read_at,
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
            let (n, at) = stream
                .read(&mut self.buf)
                .await
                .map_err(|e| format!("the stream broke: {e}"))?;
            // Later bytes never arrived before earlier ones.
            self.read_at = arrived(clock, at).max(self.read_at);
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

/// When a read's bytes arrived on the run clock: `at` when the kernel
/// stamped them, else now.
fn arrived(clock: &RunClock, at: Option<Instant>) -> Nanos {
    at.map_or_else(|| clock.now(), |at| clock.at(at))
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

//! Reading a response's stream: over the timed transport, event by event
//! into the recorder, each read within its deadline (the first token's,
//! then the idle gap allowed between tokens).

use super::error_body::{server_message, ERROR_BODY_TIME, MAX_ERROR_BODY};
use crate::backend::{Backend, EventFraming};
use crate::clock::RunClock;
use crate::recorder::{Recorder, StreamEnd};
use crate::sse::{SseItem, SseParser};
use crate::transport::{Failure, HostPool, Response};
use std::time::Duration;
use tokenpace_core::record::{ErrorKind, Nanos};
use tokenpace_core::setting::Setting;
use tokio::time::Instant;

/// By when a stream must bring its next token.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadlines {
    /// The first token's.
    pub first: Instant,
    /// The longest gap allowed between token-carrying events once the
    /// first came: pings, comments and empty events do not count.
    pub idle: Duration,
}

impl Deadlines {
    /// The next token's deadline: the first token's, or `idle` after the
    /// last token arrived.
    pub fn next(&self, rec: &Recorder<'_>, clock: &RunClock) -> Instant {
        match rec.last_token_ns() {
            None => self.first,
            Some(at) => Instant::from_std(clock.instant_at(at)) + self.idle,
        }
    }

    /// The end of a stream whose next token did not come in time.
    pub fn missed(&self, rec: &Recorder<'_>) -> StreamEnd {
        if !rec.has_token() {
            return timeout_first();
        }
        StreamEnd::Failed(
            ErrorKind::Timeout,
            None,
            format!(
                "idle: no token for {:?} after the last one ({}); the server held the stream open without sending one (pings, comments or empty events)",
                self.idle,
                Setting::IdleTimeout
            ),
        )
    }
}

/// Sends `request` over the timed transport and records its stream.
pub(super) async fn stream_raw(
    endpoint: &HostPool,
    request: &[u8],
    backend: &dyn Backend,
    clock: &RunClock,
    rec: &mut Recorder<'_>,
    deadlines: Deadlines,
) -> StreamEnd {
    let sent = tokio::time::timeout_at(deadlines.first, endpoint.send(request, clock)).await;
    let mut response = match sent {
        Err(_) => return timeout_first(),
        Ok(Ok(r)) => r,
        Ok(Err((failure, timeline))) => {
            rec.timeline(&timeline);
            return match failure {
                Failure::Dns(m) => StreamEnd::Failed(ErrorKind::Dns, None, m),
                Failure::Connect(m) => StreamEnd::Failed(ErrorKind::Connect, None, m),
                Failure::Tls(m) => StreamEnd::Failed(ErrorKind::Tls, None, m),
                Failure::Broken(m) => StreamEnd::Failed(ErrorKind::StreamCut, None, m),
            };
        }
    };
    rec.timeline(&response.timeline);
    if let Some(at) = response.timeline.head_ns {
        rec.headers(at);
    }
    let now = std::time::SystemTime::now();
    rec.rate_limits(&response.rate_limits, now);
    let status = response.status;
    if !(200..300).contains(&status) {
        let kind = response.rate_limits.kind(status, now);
        let by = Instant::now() + ERROR_BODY_TIME;
        let body = response.text(clock, MAX_ERROR_BODY, by).await;
        let message = server_message(status, &body, rec.secrets());
        return StreamEnd::Failed(kind, Some(status), message);
    }
    read_body(&mut response, backend, clock, rec, deadlines).await
}

/// Reads the body of a successful `response` event by event into `rec`,
/// each token within its deadline.
async fn read_body(
    response: &mut Response<'_>,
    backend: &dyn Backend,
    clock: &RunClock,
    rec: &mut Recorder<'_>,
    deadlines: Deadlines,
) -> StreamEnd {
    let mut parser = parser_for(backend, rec);
    let mut timer = TokenTimer::new(deadlines, rec, clock);
    loop {
        if let Some(end) = timer.check(rec, clock) {
            return end;
        }
        let next = tokio::select! {
            biased;
            next = response.next(clock) => next,
            () = timer.wait() => match timer.fired(rec, clock) {
                Some(end) => return end,
                None => continue,
            },
        };
        match next {
            Ok(None) => break,
            Err(m) => return StreamEnd::Failed(ErrorKind::StreamCut, None, m),
            Ok(Some((bytes, at))) => {
                if let Some(end) = feed(&mut parser, bytes, at, rec, backend) {
                    return end;
                }
            }
        }
    }
    finish(&mut parser, clock.now(), rec, backend)
}

/// One timer for a whole stream's token deadlines, moved only when it
/// fires early or must fire earlier: a timer set afresh for every read was
/// put into and taken out of the runtime's timer wheel once a chunk (a lock
/// each).
pub(super) struct TokenTimer {
    deadlines: Deadlines,
    at: Instant,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl TokenTimer {
    /// Set at the next token's deadline.
    pub fn new(deadlines: Deadlines, rec: &Recorder<'_>, clock: &RunClock) -> Self {
        let at = deadlines.next(rec, clock);
        TokenTimer {
            deadlines,
            at,
            sleep: Box::pin(tokio::time::sleep_until(at)),
        }
    }

    /// Before each read: the end when the deadline has passed (bytes that
    /// are always ready, a flood of comments, never let a timer fire).
    /// Before the first token the deadline is the first token's, which an
    /// idle gap may undercut; after it, it only moves later.
    pub fn check(&mut self, rec: &Recorder<'_>, clock: &RunClock) -> Option<StreamEnd> {
        let by = self.deadlines.next(rec, clock);
        if Instant::now() >= by {
            return Some(self.deadlines.missed(rec));
        }
        if by < self.at {
            self.at = by;
            self.sleep.as_mut().reset(by);
        }
        None
    }

    /// Until the timer fires.
    pub async fn wait(&mut self) {
        self.sleep.as_mut().await;
    }

    /// The timer fired: the end when the deadline passed, or none when a
    /// later token has moved it on (the timer is then set there).
    pub fn fired(&mut self, rec: &Recorder<'_>, clock: &RunClock) -> Option<StreamEnd> {
        let by = self.deadlines.next(rec, clock);
        if Instant::now() >= by {
            return Some(self.deadlines.missed(rec));
        }
        self.at = by;
        self.sleep.as_mut().reset(by);
        None
    }
}

/// The event parser for `backend`'s framing, with the recorder's cap.
pub(super) fn parser_for(backend: &dyn Backend, rec: &Recorder<'_>) -> SseParser {
    let mut parser = match backend.framing() {
        EventFraming::Sse => SseParser::new(),
        EventFraming::Ndjson => SseParser::ndjson(),
    };
    parser.set_max_event_bytes(rec.max_event_bytes());
    parser
}

/// Parses `bytes` that arrived at `at`: the error to end with, if any.
pub(super) fn feed(
    parser: &mut SseParser,
    bytes: &[u8],
    at: Nanos,
    rec: &mut Recorder<'_>,
    backend: &dyn Backend,
) -> Option<StreamEnd> {
    let mut failure = None;
    parser.feed(bytes, |item| {
        if let (SseItem::Data(data), None) = (item, &failure) {
            failure = rec.event(at, data, backend);
        }
    });
    failure.or_else(|| parser.too_large().map(StreamEnd::from))
}

/// The stream ended at `at`: the last event without a blank line after it.
pub(super) fn finish(
    parser: &mut SseParser,
    at: Nanos,
    rec: &mut Recorder<'_>,
    backend: &dyn Backend,
) -> StreamEnd {
    let mut failure = None;
    parser.finish(|item| {
        if let (SseItem::Data(data), None) = (item, &failure) {
            failure = rec.event(at, data, backend);
        }
    });
    failure
        .or_else(|| parser.too_large().map(StreamEnd::from))
        .unwrap_or(StreamEnd::Complete)
}

/// No first token within the first-token timeout.
pub(super) fn timeout_first() -> StreamEnd {
    StreamEnd::Failed(
        ErrorKind::Timeout,
        None,
        "no first token within the first-token timeout".into(),
    )
}

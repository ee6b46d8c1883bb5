//! What the parser tests of the event-typed APIs share: a whole stream fed
//! through the SSE parser and the recorder in any pieces, and the checks
//! that any split gives the same record and that garbage never panics.

use super::Backend;
use crate::recorder::{Recorder, StreamEnd};
use crate::sse::{SseItem, SseParser};
use tokenpace_core::record::RequestRecord;

/// The record of `stream` read in `pieces` (byte offsets where reads end),
/// each event stamped with the number of the read that completed it.
pub fn record(backend: &dyn Backend, stream: &[u8], cuts: &[usize]) -> RequestRecord {
    let mut parser = SseParser::new();
    let mut rec = Recorder::new(0, 0, 0, None);
    rec.keep_transcript();
    let mut failure = None;
    let mut from = 0;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c.min(stream.len())).collect();
    points.sort_unstable();
    points.push(stream.len());
    for &to in &points {
        parser.feed(&stream[from..to], |item| {
            if let (SseItem::Data(data), None) = (item, &failure) {
                // One stamp for every read: a split changes when an event
                // completes, never what it says.
                failure = rec.event(1, data, backend);
            }
        });
        from = to;
    }
    parser.finish(|item| {
        if let (SseItem::Data(data), None) = (item, &failure) {
            failure = rec.event(1, data, backend);
        }
    });
    // With the transcript: a tool call whose pieces do not join into JSON
    // fails the record.
    rec.finish_with_transcript(2, failure.unwrap_or(StreamEnd::Complete))
        .0
}

/// `stream` written as SSE: `event:` and `data:` lines for each JSON event,
/// with `\r\n` line ends when `crlf`.
pub fn sse(events: &[serde_json::Value], crlf: bool) -> Vec<u8> {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    for e in events {
        let kind = e["type"].as_str().unwrap_or("message");
        out.push_str(&format!("event: {kind}{nl}data: {e}{nl}{nl}"));
    }
    out.into_bytes()
}

/// Pieces of `stream` cut at `cuts` give the same record as one read.
pub fn any_split_gives_the_same_record(backend: &dyn Backend, stream: &[u8], cuts: &[usize]) {
    let whole = record(backend, stream, &[]);
    let split = record(backend, stream, cuts);
    assert_eq!(split, whole, "cut at {cuts:?}");
}

/// Bytes that are no stream, and streams cut short or with a byte changed,
/// end as a record (an error or not), never a panic.
pub fn never_panics(backend: &dyn Backend, stream: &[u8], flip: usize, garbage: &[u8]) {
    let _ = record(backend, garbage, &[garbage.len() / 2]);
    let _ = record(backend, &stream[..flip.min(stream.len())], &[]);
    let mut changed = stream.to_vec();
    if let Some(b) = changed.get_mut(flip) {
        *b = b.wrapping_add(0x41);
    }
    let _ = record(backend, &changed, &[flip]);
    for e in serde_json::Deserializer::from_slice(garbage)
        .into_iter::<serde_json::Value>()
        .take(64)
        .flatten()
    {
        let _ = backend.parse_event(e.to_string().as_bytes());
    }
    let _ = backend.parse_event(garbage);
}

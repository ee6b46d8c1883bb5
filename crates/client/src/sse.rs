//! An incremental Server-Sent Events parser.
//!
//! Bytes are fed as they arrive, split anywhere: inside a line, inside a
//! `\r\n`, inside a multi-byte UTF-8 character. Lines end with `\n` or
//! `\r\n`; a line starting with `:` is a comment (servers send them as
//! keep-alives); `data:` lines accumulate into one event, dispatched at the
//! blank line that ends it. Bytes are never decoded here, so a character
//! split across reads is only ever seen whole, by the JSON parser, once its
//! event is complete.
//!
//! The parser copies only what it must: a line that is complete within one
//! read is scanned in place; only an incomplete tail is carried to the next
//! read.
//!
//! Every byte comes from a server and is treated as hostile: an event (or a
//! line) longer than the cap ([`DEFAULT_MAX_EVENT_BYTES`], or
//! [`SseParser::set_max_event_bytes`]) stops the parser before it buffers
//! more than the cap, and [`SseParser::too_large`] says so.

use tokenpace_core::setting::Setting;

/// Bytes one event (or one line) may hold by default: 1 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// Bytes a line may hold beyond the event cap: its field name and `\r`.
const LINE_SLACK: usize = 16;

/// An event or a line passed the parser's cap; nothing more was parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The cap, in bytes.
    pub limit: usize,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an event passed {} bytes without ending ({}); the rest of the stream was not read",
            self.limit,
            Setting::MaxEventBytes
        )
    }
}

/// One parsed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseItem<'a> {
    /// A complete event's data (its `data:` lines joined with `\n`).
    Data(&'a [u8]),
    /// A comment line (`: keep-alive`), without the colon.
    Comment(&'a [u8]),
}

/// Incremental SSE parser. Feed it with [`SseParser::feed`], and call
/// [`SseParser::finish`] when the stream ends.
#[derive(Debug)]
pub struct SseParser {
    /// An incomplete line carried over from the previous read.
    partial: Vec<u8>,
    /// Data of the event being assembled.
    data: Vec<u8>,
    /// Whether the current event has at least one `data:` line.
    has_data: bool,
    /// The longest line seen, for diagnostics.
    longest_line: usize,
    /// Newline-delimited JSON instead of SSE: every non-empty line is one
    /// event's data (Ollama's native API).
    ndjson: bool,
    /// Bytes an event's data, or a line, may hold at most.
    max_event: usize,
    /// Set once the cap was passed: nothing is parsed after it.
    too_large: bool,
}

impl Default for SseParser {
    fn default() -> Self {
        SseParser {
            partial: Vec::new(),
            data: Vec::new(),
            has_data: false,
            longest_line: 0,
            ndjson: false,
            max_event: DEFAULT_MAX_EVENT_BYTES,
            too_large: false,
        }
    }
}

impl SseParser {
    /// A parser with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser for newline-delimited JSON: each non-empty line is an event.
    pub fn ndjson() -> Self {
        SseParser {
            ndjson: true,
            ..Self::default()
        }
    }

    /// Caps the bytes one event's data (or one line) may hold; at least 1.
    pub fn set_max_event_bytes(&mut self, limit: usize) {
        self.max_event = limit.max(1);
    }

    /// Whether an event or a line passed the cap. Once it did, the parser
    /// ignores everything fed to it: the caller should stop reading.
    pub fn too_large(&self) -> Option<TooLarge> {
        self.too_large.then_some(TooLarge {
            limit: self.max_event,
        })
    }

    /// Gives up on the stream: the cap was passed. Buffers are freed.
    fn overflow(&mut self) {
        self.too_large = true;
        self.partial = Vec::new();
        self.data = Vec::new();
        self.has_data = false;
    }

    /// Bytes a line may hold: an event's cap, and room for its field name
    /// (`data: `) and its `\r`.
    fn line_limit(&self) -> usize {
        // An ndjson line is the event itself, with at most a `\r`.
        let slack = if self.ndjson { 1 } else { LINE_SLACK };
        self.max_event.saturating_add(slack)
    }

    /// Carries `bytes` (a line without its end yet) to the next read,
    /// unless that would pass the cap.
    fn carry(&mut self, bytes: &[u8]) {
        if self.partial.len() + bytes.len() > self.line_limit() {
            self.overflow();
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    /// Parses `bytes`, calling `on_item` for every complete event or
    /// comment, in order. Does nothing once [`SseParser::too_large`].
    pub fn feed(&mut self, mut bytes: &[u8], mut on_item: impl FnMut(SseItem<'_>)) {
        if self.too_large {
            return;
        }
        if !self.partial.is_empty() {
            match memchr::memchr(b'\n', bytes) {
                None => {
                    self.carry(bytes);
                    return;
                }
                Some(i) => {
                    if self.partial.len() + i > self.line_limit() {
                        self.overflow();
                        return;
                    }
                    let mut line = std::mem::take(&mut self.partial);
                    line.extend_from_slice(&bytes[..i]);
                    self.line(&line, &mut on_item);
                    // Keep the allocation for the next carried line.
                    line.clear();
                    if !self.too_large {
                        self.partial = line;
                    }
                    bytes = &bytes[i + 1..];
                }
            }
        }
        while let Some(i) = memchr::memchr(b'\n', bytes) {
            if self.too_large {
                return;
            }
            self.line(&bytes[..i], &mut on_item);
            bytes = &bytes[i + 1..];
        }
        if !self.too_large {
            self.carry(bytes);
        }
    }

    /// Ends the stream: a last event that lacked its blank line (or its final
    /// newline) is dispatched, since servers that cut the stream short still
    /// sent it whole.
    pub fn finish(&mut self, mut on_item: impl FnMut(SseItem<'_>)) {
        if self.too_large {
            return;
        }
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, &mut on_item);
        }
        self.dispatch(&mut on_item);
    }

    /// The longest line seen so far, in bytes.
    pub fn longest_line(&self) -> usize {
        self.longest_line
    }

    fn line(&mut self, line: &[u8], on_item: &mut impl FnMut(SseItem<'_>)) {
        if line.len() > self.line_limit() {
            self.overflow();
            return;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.longest_line = self.longest_line.max(line.len());
        if self.ndjson {
            if !line.trim_ascii().is_empty() {
                on_item(SseItem::Data(line));
            }
            return;
        }
        if line.is_empty() {
            self.dispatch(on_item);
            return;
        }
        if let Some(comment) = line.strip_prefix(b":") {
            on_item(SseItem::Comment(comment));
            return;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            if self.data.len() + usize::from(self.has_data) + value.len() > self.max_event {
                self.overflow();
                return;
            }
            if self.has_data {
                self.data.push(b'\n');
            }
            self.data.extend_from_slice(value);
            self.has_data = true;
        }
        // `event`, `id` and `retry` do not matter to LLM streams; unknown
        // fields are ignored, as the SSE specification asks.
    }

    fn dispatch(&mut self, on_item: &mut impl FnMut(SseItem<'_>)) {
        if self.has_data {
            on_item(SseItem::Data(&self.data));
            self.data.clear();
            self.has_data = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ndjson_lines_are_events_wherever_the_reads_split() {
        let body = b"{\"a\":1}\n\n{\"b\":\"\xe4\xbd\xa0\"}\r\n{\"c\":3}";
        for cut in 0..body.len() {
            let mut p = SseParser::ndjson();
            let mut out: Vec<Vec<u8>> = Vec::new();
            let mut push = |item: SseItem<'_>| {
                if let SseItem::Data(d) = item {
                    out.push(d.to_vec());
                }
            };
            p.feed(&body[..cut], &mut push);
            p.feed(&body[cut..], &mut push);
            p.finish(&mut push);
            assert_eq!(out.len(), 3, "cut at {cut}");
            assert_eq!(out[1], "{\"b\":\"你\"}".as_bytes());
        }
    }

    #[derive(Debug, PartialEq)]
    enum Owned {
        Data(Vec<u8>),
        Comment(Vec<u8>),
    }

    fn parse_in(pieces: &[&[u8]]) -> Vec<Owned> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let mut push = |item: SseItem<'_>| {
            out.push(match item {
                SseItem::Data(d) => Owned::Data(d.to_vec()),
                SseItem::Comment(c) => Owned::Comment(c.to_vec()),
            })
        };
        for piece in pieces {
            p.feed(piece, &mut push);
        }
        p.finish(&mut push);
        out
    }

    fn data(s: &str) -> Owned {
        Owned::Data(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_events_comments_and_done() {
        let stream = b": keep-alive\n\ndata: {\"a\":1}\n\ndata: [DONE]\n\n";
        assert_eq!(
            parse_in(&[stream]),
            vec![
                Owned::Comment(b" keep-alive".to_vec()),
                data("{\"a\":1}"),
                data("[DONE]")
            ]
        );
    }

    #[test]
    fn crlf_and_multiline_data() {
        let stream = b"event: x\r\ndata: a\r\ndata:b\r\nid: 7\r\n\r\n";
        assert_eq!(parse_in(&[stream]), vec![data("a\nb")]);
    }

    #[test]
    fn split_inside_crlf_and_inside_a_character() {
        let stream = "data: {\"c\":\"你好\"}\r\n\r\n".as_bytes();
        // Split between \r and \n, and in the middle of 你 (3 bytes).
        let cut_char = stream.iter().position(|&b| b >= 0x80).unwrap() + 1;
        let cut_crlf = stream.len() - 3;
        let out = parse_in(&[
            &stream[..cut_char],
            &stream[cut_char..cut_crlf],
            &stream[cut_crlf..],
        ]);
        assert_eq!(out, vec![data("{\"c\":\"你好\"}")]);
    }

    #[test]
    fn missing_final_blank_line_still_dispatches() {
        assert_eq!(parse_in(&[b"data: last"]), vec![data("last")]);
        assert_eq!(parse_in(&[b"data: last\n"]), vec![data("last")]);
        assert!(parse_in(&[b": only a comment"]).len() == 1);
        assert!(parse_in(&[b""]).is_empty());
    }

    #[test]
    fn very_long_event_across_many_reads() {
        let body = "x".repeat(64 * 1024);
        let stream = format!("data: {body}\n\n");
        let pieces: Vec<&[u8]> = stream.as_bytes().chunks(1000).collect();
        assert_eq!(parse_in(&pieces), vec![data(&body)]);
    }

    fn capped(limit: usize, pieces: &[&[u8]]) -> (Vec<Owned>, Option<TooLarge>, usize) {
        let mut p = SseParser::new();
        p.set_max_event_bytes(limit);
        let mut out = Vec::new();
        let mut held = 0;
        for piece in pieces {
            p.feed(piece, |item| {
                if let SseItem::Data(d) = item {
                    out.push(Owned::Data(d.to_vec()));
                }
            });
            held = held.max(p.partial.capacity() + p.data.capacity());
        }
        p.finish(|item| {
            if let SseItem::Data(d) = item {
                out.push(Owned::Data(d.to_vec()));
            }
        });
        (out, p.too_large(), held)
    }

    #[test]
    fn an_event_without_end_stops_at_the_cap_without_buffering_past_it() {
        // 64 KiB of one endless line, fed 1000 bytes at a time, cap 4 KiB.
        let mut stream = b"data: {\"a\":1}\n\ndata: ".to_vec();
        stream.extend(std::iter::repeat_n(b'x', 64 * 1024));
        let pieces: Vec<&[u8]> = stream.chunks(1000).collect();
        let (out, too_large, held) = capped(4096, &pieces);
        assert_eq!(out, vec![data("{\"a\":1}")]);
        assert_eq!(too_large, Some(TooLarge { limit: 4096 }));
        assert!(held <= 2 * 4096 + 2000, "held {held} bytes");
        assert!(too_large.unwrap().to_string().contains("4096 bytes"));
        // The same in one read, and with the line ended.
        let (out, too_large, _) = capped(4096, &[&stream]);
        assert_eq!((out.len(), too_large.is_some()), (1, true));
        stream.extend_from_slice(b"\n\ndata: after\n\n");
        let (out, too_large, _) = capped(4096, &[&stream]);
        assert_eq!((out.len(), too_large.is_some()), (1, true));
    }

    #[test]
    fn many_short_data_lines_are_one_event_and_capped_as_one() {
        let line = b"data: 0123456789\n".repeat(100);
        let (out, too_large, _) = capped(500, &[&line, b"\n"]);
        assert!(out.is_empty());
        assert!(too_large.is_some());
        // Under the cap: whole, and an event exactly at the cap passes.
        let (out, too_large, _) = capped(4096, &[&line, b"\n"]);
        assert_eq!((out.len(), too_large), (1, None));
        let (out, too_large, _) = capped(10, &[b"data: 0123456789\r\n\r\n"]);
        assert_eq!((out, too_large), (vec![data("0123456789")], None));
        // An endless comment line, and ndjson, are capped too.
        let (_, too_large, _) = capped(100, &[b": ", &[b'k'; 200]]);
        assert!(too_large.is_some());
        let mut p = SseParser::ndjson();
        p.set_max_event_bytes(100);
        p.feed(&[b'{'; 150], |_| panic!("no event"));
        assert!(p.too_large().is_some());
    }

    fn arb_stream() -> impl Strategy<Value = String> {
        let line = prop_oneof![
            "[a-z{}\":,你好世界😀 ]{0,20}".prop_map(|s| format!("data: {s}\n")),
            Just("\n".to_string()),
            Just(": ping\n".to_string()),
            "[a-z ]{0,10}".prop_map(|s| format!("data:{s}\r\n")),
            Just("\r\n".to_string()),
            Just("id: 3\n".to_string()),
        ];
        prop::collection::vec(line, 0..30).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(stream in arb_stream(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
            let bytes = stream.as_bytes();
            let whole = parse_in(&[bytes]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut pieces = Vec::new();
            let mut last = 0;
            for p in points {
                pieces.push(&bytes[last..p]);
                last = p;
            }
            pieces.push(&bytes[last..]);
            prop_assert_eq!(parse_in(&pieces), whole);
        }

        #[test]
        fn a_cap_either_keeps_every_event_or_stops(stream in arb_stream(), limit in 1usize..40, cut in any::<prop::sample::Index>()) {
            let bytes = stream.as_bytes();
            let whole = parse_in(&[bytes]);
            let at = cut.index(bytes.len() + 1);
            let (out, too_large, _) = capped(limit, &[&bytes[..at], &bytes[at..]]);
            match too_large {
                None => prop_assert_eq!(out, whole.into_iter().filter(|o| matches!(o, Owned::Data(_))).collect::<Vec<_>>()),
                Some(_) => {
                let whole: Vec<Owned> = whole.into_iter().filter(|o| matches!(o, Owned::Data(_))).collect();
                prop_assert!(out.len() <= whole.len() && out[..] == whole[..out.len()]);
            }
            }
        }

        #[test]
        fn never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_in(&[&bytes]);
        }
    }
}

//! Why a request did not succeed: one [`ErrorKind`] per way a request can
//! fail, so that every request sent ends as success or as exactly one of
//! them.

use serde::{Deserialize, Serialize};

/// Why a request did not succeed. Every request sent ends as success or as
/// exactly one of these, so `sent = ok + Σ failed` always holds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// No response (or no first token) within the configured time.
    Timeout,
    /// The server answered with an HTTP status other than 2xx (and did not
    /// throttle the request).
    HttpStatus,
    /// The server turned the request away for now: 429 Too Many Requests,
    /// or 503 / 529 (Anthropic's "overloaded") with a `Retry-After`. A 503
    /// or 529 without one is an [`ErrorKind::HttpStatus`]: nothing says
    /// the server will take the request later.
    Throttled,
    /// The stream ended (or the connection dropped) before it was complete.
    StreamCut,
    /// An event could not be parsed.
    MalformedEvent,
    /// The server reported an error inside an otherwise valid stream.
    ServerError,
    /// The run was interrupted (Ctrl-C, time limit) while this request was in
    /// flight.
    Cancelled,
    /// A tool call whose arguments were not valid JSON (agent runs, where
    /// the client must read them to answer).
    BadToolCall,
    /// A 200 response that carried no token at all: only `[DONE]`, empty
    /// deltas or role-only chunks (a tool call counts as a token).
    EmptyResponse,
    /// A 2xx response whose tokens held no answer text and no tool call
    /// (reasoning only): the user saw nothing, so it is not an answer.
    NoVisibleText,
    /// One streamed event (or line) passed the size cap
    /// (`bench --max-event-bytes`); the rest of the stream was not read.
    EventTooLarge,
    /// The server streamed far more tokens than `max_tokens` asked for; the
    /// rest of the stream was not read.
    Overrun,
    /// The user left (`--cancel-after`) before the first token: by design,
    /// but they got no answer.
    Abandoned,
    /// Anything else; the message says what.
    Other,
}

impl ErrorKind {
    /// The kind of a response with a status other than 2xx, given whether
    /// it carried a `Retry-After` ([`ErrorKind::Throttled`] says which
    /// count as throttled). Every transport classifies through this.
    pub fn of_status(status: u16, retry_after: bool) -> ErrorKind {
        match status {
            429 => ErrorKind::Throttled,
            503 | 529 if retry_after => ErrorKind::Throttled,
            _ => ErrorKind::HttpStatus,
        }
    }

    /// Every kind, in a stable order (for tables).
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::Connect,
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::HttpStatus,
        ErrorKind::Throttled,
        ErrorKind::StreamCut,
        ErrorKind::MalformedEvent,
        ErrorKind::ServerError,
        ErrorKind::Cancelled,
        ErrorKind::BadToolCall,
        ErrorKind::EmptyResponse,
        ErrorKind::NoVisibleText,
        ErrorKind::EventTooLarge,
        ErrorKind::Overrun,
        ErrorKind::Abandoned,
        ErrorKind::Other,
    ];

    /// The snake_case id used in files and tables.
    pub fn id(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::Throttled => "throttled",
            ErrorKind::StreamCut => "stream_cut",
            ErrorKind::MalformedEvent => "malformed_event",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::BadToolCall => "bad_tool_call",
            ErrorKind::EmptyResponse => "empty_response",
            ErrorKind::NoVisibleText => "no_visible_text",
            ErrorKind::EventTooLarge => "event_too_large",
            ErrorKind::Overrun => "overrun",
            ErrorKind::Abandoned => "abandoned",
            ErrorKind::Other => "other",
        }
    }
}

/// A failed request's error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The HTTP status, when the server sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// A short human-readable message (the server's, where it gave one).
    pub message: Box<str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified() {
        for (status, retry_after, kind) in [
            (429, false, ErrorKind::Throttled),
            (429, true, ErrorKind::Throttled),
            (503, true, ErrorKind::Throttled),
            (529, true, ErrorKind::Throttled),
            (503, false, ErrorKind::HttpStatus),
            (529, false, ErrorKind::HttpStatus),
            (500, true, ErrorKind::HttpStatus),
            (401, false, ErrorKind::HttpStatus),
        ] {
            assert_eq!(ErrorKind::of_status(status, retry_after), kind, "{status}");
        }
    }

    #[test]
    fn error_kind_ids_match_serde() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.id()));
        }
    }
}

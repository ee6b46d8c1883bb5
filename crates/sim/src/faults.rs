//! Fault injection: which faults exist, the rules that pick them, and the
//! set chosen for one request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tokenpace_corpus::SplitMix64;

/// A misbehaviour the simulator can inject. The names (snake_case) are used
/// in flags, TOML, the `x-tokenpace-fault` header and the truth file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer 429 Too Many Requests with an OpenAI-style error body.
    #[serde(rename = "http_429")]
    Http429,
    /// Answer 500 Internal Server Error with an error body.
    #[serde(rename = "http_500")]
    Http500,
    /// Answer 503 Service Unavailable with an error body.
    #[serde(rename = "http_503")]
    Http503,
    /// Wait `stall_ms` longer before the first token.
    StallFirst,
    /// Pause `stall_ms` halfway through the tokens.
    StallMid,
    /// Reset the TCP connection (RST) halfway through.
    Reset,
    /// End the HTTP response cleanly halfway, without a finish chunk or `[DONE]`.
    Truncate,
    /// Send one event whose JSON is cut off, halfway through.
    MalformedJson,
    /// Send `: keep-alive` SSE comment lines before the first token and halfway.
    KeepAlive,
    /// Write every event in several pieces, split at arbitrary byte positions
    /// (including inside a multi-byte UTF-8 character), each flushed alone.
    Split,
    /// End SSE lines with CRLF instead of LF.
    Crlf,
    /// Pad the event halfway through to over 64 KiB.
    LongEvent,
    /// Write the whole response one byte at a time, `trickle_ms` apart.
    SlowLoris,
    /// Leave a tool call's arguments without their closing brace (invalid
    /// JSON); no effect on a text answer.
    BadToolArgs,
    /// Halfway, send the API's in-stream error for an overloaded server
    /// (Anthropic's `overloaded_error` event; an error object elsewhere)
    /// and end the stream there.
    Overloaded,
}

impl FaultKind {
    /// Every fault, in a fixed order.
    pub const ALL: [FaultKind; 15] = [
        FaultKind::Http429,
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::StallFirst,
        FaultKind::StallMid,
        FaultKind::Reset,
        FaultKind::Truncate,
        FaultKind::MalformedJson,
        FaultKind::KeepAlive,
        FaultKind::Split,
        FaultKind::Crlf,
        FaultKind::LongEvent,
        FaultKind::SlowLoris,
        FaultKind::BadToolArgs,
        FaultKind::Overloaded,
    ];

    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Http429 => "http_429",
            FaultKind::Http500 => "http_500",
            FaultKind::Http503 => "http_503",
            FaultKind::StallFirst => "stall_first",
            FaultKind::StallMid => "stall_mid",
            FaultKind::Reset => "reset",
            FaultKind::Truncate => "truncate",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::KeepAlive => "keep_alive",
            FaultKind::Split => "split",
            FaultKind::Crlf => "crlf",
            FaultKind::LongEvent => "long_event",
            FaultKind::SlowLoris => "slow_loris",
            FaultKind::BadToolArgs => "bad_tool_args",
            FaultKind::Overloaded => "overloaded",
        }
    }

    /// The HTTP status this fault answers with, if it is an error response.
    pub fn http_status(self) -> Option<u16> {
        match self {
            FaultKind::Http429 => Some(429),
            FaultKind::Http500 => Some(500),
            FaultKind::Http503 => Some(503),
            _ => None,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown fault '{s}': use one of {}", names.join(", "))
            })
    }
}

/// When a fault is injected: with a probability per request, or on every
/// Nth request (the Nth, 2Nth, … request the server receives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The fault.
    pub kind: FaultKind,
    /// Probability in `[0, 1]` that a request gets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Inject on every Nth request (N ≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
}

impl FaultRule {
    /// Checks the rule has exactly one of `probability` and `every`, in range.
    pub fn validate(&self) -> Result<(), String> {
        match (self.probability, self.every) {
            (Some(p), None) if (0.0..=1.0).contains(&p) => Ok(()),
            (Some(p), None) => Err(format!("{}: probability {p} is not in [0, 1]", self.kind)),
            (None, Some(n)) if n >= 1 => Ok(()),
            (None, Some(_)) => Err(format!("{}: every must be at least 1", self.kind)),
            _ => Err(format!(
                "{}: give exactly one of probability and every",
                self.kind
            )),
        }
    }

    fn fires(&self, request_seq: u64, rng: &mut SplitMix64) -> bool {
        match (self.probability, self.every) {
            (Some(p), _) => rng.next_f64() < p,
            (None, Some(n)) if n > 0 => request_seq % n == 0,
            _ => false,
        }
    }
}

/// Parses the `--fault` flag: `KIND` (always), `KIND:P` (probability P) or
/// `KIND:every=N`.
impl FromStr for FaultRule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, rule) = s.split_once(':').unwrap_or((s, "every=1"));
        let kind: FaultKind = kind.parse()?;
        let rule = rule.trim();
        let parsed = if let Some(n) = rule.strip_prefix("every=") {
            let n = n
                .parse::<u64>()
                .map_err(|_| format!("'{s}': every=N needs a whole number"))?;
            FaultRule {
                kind,
                probability: None,
                every: Some(n),
            }
        } else {
            let p = rule
                .parse::<f64>()
                .map_err(|_| format!("'{s}': use KIND, KIND:PROBABILITY or KIND:every=N"))?;
            FaultRule {
                kind,
                probability: Some(p),
                every: None,
            }
        };
        parsed.validate()?;
        Ok(parsed)
    }
}

/// The faults chosen for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultSet(u16);

impl FaultSet {
    /// Picks faults for the request with 1-based sequence number `seq`, from
    /// the rules and from a header value listing fault names (unknown names
    /// are an error the client sees).
    pub fn choose(
        rules: &[FaultRule],
        seq: u64,
        rng: &mut SplitMix64,
        header: Option<&str>,
    ) -> Result<Self, String> {
        let mut set = FaultSet::default();
        for rule in rules {
            if rule.fires(seq, rng) {
                set.insert(rule.kind);
            }
        }
        if let Some(list) = header {
            for name in list.split(',').filter(|n| !n.trim().is_empty()) {
                set.insert(name.parse()?);
            }
        }
        Ok(set)
    }

    /// Adds a fault.
    pub fn insert(&mut self, kind: FaultKind) {
        self.0 |= kind.bit();
    }

    /// Whether the set has `kind`.
    pub fn has(self, kind: FaultKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The first error-response fault in the set, if any.
    pub fn http_error(self) -> Option<FaultKind> {
        [FaultKind::Http429, FaultKind::Http500, FaultKind::Http503]
            .into_iter()
            .find(|k| self.has(*k))
    }
}

/// A fault as injected, for the truth file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FaultRecord {
    /// Which fault.
    pub kind: FaultKind,
    /// When it took effect (ns since server start).
    pub at_ns: u64,
    /// Details: split positions, stall length, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The headers an injected throttling error (`http_429`, `http_503`) is
/// sent with: `Retry-After`, and for a 429 the rate-limit headers of the
/// API (`anthropic-ratelimit-*` on Anthropic's route, OpenAI's
/// `x-ratelimit-*` elsewhere) saying no request is left until the retry.
/// Each line ends with CRLF; empty for other faults.
pub fn throttle_headers(kind: FaultKind, retry_after_s: u64, anthropic: bool) -> String {
    let retry = format!("Retry-After: {retry_after_s}\r\n");
    let (limit_requests, limit_tokens) = (THROTTLE_LIMIT_REQUESTS, THROTTLE_LIMIT_TOKENS);
    match kind {
        FaultKind::Http503 => retry,
        FaultKind::Http429 if anthropic => format!(
            "{retry}anthropic-ratelimit-requests-limit: {limit_requests}\r\n\
             anthropic-ratelimit-requests-remaining: 0\r\n\
             anthropic-ratelimit-tokens-limit: {limit_tokens}\r\n\
             anthropic-ratelimit-tokens-remaining: {limit_tokens}\r\n"
        ),
        FaultKind::Http429 => format!(
            "{retry}x-ratelimit-limit-requests: {limit_requests}\r\n\
             x-ratelimit-remaining-requests: 0\r\n\
             x-ratelimit-reset-requests: {retry_after_s}s\r\n\
             x-ratelimit-limit-tokens: {limit_tokens}\r\n\
             x-ratelimit-remaining-tokens: {limit_tokens}\r\n\
             x-ratelimit-reset-tokens: 0s\r\n"
        ),
        _ => String::new(),
    }
}

/// The request limit an injected 429 says the client has (per minute).
pub const THROTTLE_LIMIT_REQUESTS: u64 = 60;
/// The token limit an injected 429 says the client has, all of it left:
/// requests, not tokens, ran out.
pub const THROTTLE_LIMIT_TOKENS: u64 = 150_000;

/// Byte positions at which to split `bytes` into 2–4 pieces; when the bytes
/// hold a multi-byte UTF-8 character, one cut falls inside it.
pub fn split_points(bytes: &[u8], rng: &mut SplitMix64) -> Vec<usize> {
    if bytes.len() < 2 {
        return Vec::new();
    }
    let mut cuts = Vec::new();
    // A continuation byte (10xxxxxx) is inside a multi-byte character.
    let inner: Vec<usize> = (1..bytes.len())
        .filter(|&i| bytes[i] & 0xC0 == 0x80)
        .collect();
    if !inner.is_empty() {
        cuts.push(inner[rng.range(0, inner.len() as u64 - 1) as usize]);
    }
    let extra = rng.range(1, 2);
    for _ in 0..extra {
        cuts.push(rng.range(1, bytes.len() as u64 - 1) as usize);
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_syntax() {
        let r: FaultRule = "http_429:0.5".parse().unwrap();
        assert_eq!(r.probability, Some(0.5));
        let r: FaultRule = "split:every=3".parse().unwrap();
        assert_eq!(r.every, Some(3));
        let r: FaultRule = "reset".parse().unwrap();
        assert_eq!(r.every, Some(1));
        assert!("nope:0.1".parse::<FaultRule>().is_err());
        assert!("split:1.5".parse::<FaultRule>().is_err());
        assert!("split:every=0".parse::<FaultRule>().is_err());
    }

    #[test]
    fn every_nth_and_probability() {
        let rules = [
            "crlf:every=3".parse().unwrap(),
            "split:0.5".parse().unwrap(),
        ];
        let mut rng = SplitMix64::new(1);
        let mut crlf = 0;
        let mut split = 0;
        for seq in 1..=3000 {
            let set = FaultSet::choose(&rules, seq, &mut rng, None).unwrap();
            crlf += u32::from(set.has(FaultKind::Crlf));
            split += u32::from(set.has(FaultKind::Split));
        }
        assert_eq!(crlf, 1000);
        assert!((1350..1650).contains(&split), "{split}");
    }

    #[test]
    fn header_names_faults() {
        let set =
            FaultSet::choose(&[], 1, &mut SplitMix64::new(0), Some("reset, http_503")).unwrap();
        assert!(set.has(FaultKind::Reset));
        assert_eq!(set.http_error(), Some(FaultKind::Http503));
        assert!(FaultSet::choose(&[], 1, &mut SplitMix64::new(0), Some("bogus")).is_err());
    }

    #[test]
    fn split_cuts_inside_a_multibyte_char() {
        let text = "data: {\"c\":\"你好\"}\n\n".as_bytes();
        for seed in 0..50 {
            let cuts = split_points(text, &mut SplitMix64::new(seed));
            assert!(!cuts.is_empty());
            assert!(cuts
                .iter()
                .any(|&c| std::str::from_utf8(&text[..c]).is_err()));
            assert!(cuts.iter().all(|&c| c > 0 && c < text.len()));
        }
    }
}

//! What one response may hold, and what must never be kept from it.

use crate::redact::Secrets;
use crate::sse::DEFAULT_MAX_EVENT_BYTES;

/// What one response may hold, and the secrets no kept server text may
/// contain: every byte a server sends is treated as hostile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    /// The `max_tokens` asked for (0: no limit). A stream that runs past
    /// [`Guard::overrun_after`] tokens fails as `ErrorKind::Overrun`.
    pub max_tokens: u32,
    /// Bytes one streamed event (or line) may hold.
    pub max_event_bytes: usize,
    /// Replaced in every error message and response id kept.
    pub secrets: Secrets,
    /// The user stops reading after this many tokens (`--cancel-after`).
    pub leave_after_tokens: Option<u64>,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            max_tokens: 0,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            secrets: Secrets::default(),
            leave_after_tokens: None,
        }
    }
}

impl Guard {
    /// Characters of a server's error message kept at most.
    pub const MESSAGE_CHARS: usize = 1000;
    /// Characters of a response id kept at most.
    pub const ID_CHARS: usize = 200;
    /// Characters of a malformed event shown in its error.
    pub const EVENT_CHARS: usize = 80;
    /// Characters of a tool call's arguments shown in its error.
    pub const ARGUMENT_CHARS: usize = 60;

    /// Server `text` as it may be kept: secrets replaced first (so no key
    /// is cut in half and missed), then at most `max_chars` characters,
    /// `…` marking a cut.
    pub fn keep(&self, text: &str, max_chars: usize) -> String {
        let clean = self.secrets.redact(text);
        match clean.char_indices().nth(max_chars) {
            Some((cut, _)) => format!("{}…", &clean[..cut]),
            None => clean.into_owned(),
        }
    }

    /// Tokens (counted as events that carried one) past which a stream is
    /// an overrun: twice `max_tokens` and 16 more, for servers that count
    /// differently. `None` without a limit.
    pub fn overrun_after(&self) -> Option<u64> {
        (self.max_tokens > 0).then(|| u64::from(self.max_tokens) * 2 + 16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_text_is_redacted_then_bounded() {
        let guard = Guard {
            secrets: Secrets::new(Some("sk-0123456789"), &[]),
            ..Guard::default()
        };
        let long = format!("{}sk-0123456789", "你".repeat(5));
        assert_eq!(guard.keep(&long, 8), "你你你你你[re…");
        assert_eq!(guard.keep("ok", 8), "ok");
        let huge = "x".repeat(10 * Guard::MESSAGE_CHARS);
        assert_eq!(
            guard.keep(&huge, Guard::MESSAGE_CHARS).chars().count(),
            Guard::MESSAGE_CHARS + 1
        );
    }
}

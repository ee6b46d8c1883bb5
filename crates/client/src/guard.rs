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
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            max_tokens: 0,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            secrets: Secrets::default(),
        }
    }
}

impl Guard {
    /// Tokens (counted as events that carried one) past which a stream is
    /// an overrun: twice `max_tokens` and 16 more, for servers that count
    /// differently. `None` without a limit.
    pub fn overrun_after(&self) -> Option<u64> {
        (self.max_tokens > 0).then(|| u64::from(self.max_tokens) * 2 + 16)
    }
}

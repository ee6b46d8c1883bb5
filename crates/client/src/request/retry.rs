//! Retrying throttled requests (`bench --retry-throttled`, for soak runs):
//! after the server's `Retry-After` (capped), a bounded number of times,
//! never past the run's end. Without it a throttled request is never
//! retried: the measurement shows what the server did.

use super::{attempt, How, Prepared, Stamp};
use crate::backend::Prompt;
use crate::recorder::Transcript;
use std::time::Duration;
use tokenpace_core::record::{ErrorKind, Nanos, RequestRecord, Retries};
use tokio::sync::watch;

/// How throttled requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryThrottled {
    /// The most retries of one request.
    pub max_retries: u32,
    /// The longest wait before one retry, whatever `Retry-After` says.
    pub max_wait: Duration,
    /// The end of the run (`--duration`, on the run clock): no retry is
    /// sent after it. Set by the load loop.
    pub until: Option<Nanos>,
}

impl RetryThrottled {
    /// The wait before a retry when the server gave no `Retry-After`.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);
    /// The longest wait before a retry `bench --retry-throttled` allows.
    pub const MAX_WAIT: Duration = Duration::from_secs(60);

    /// The wait before retrying `rec` at `now` (run clock): its
    /// `Retry-After`, capped; `None` when the retry would go out after the
    /// end of the run.
    fn wait(&self, rec: &RequestRecord, now: Nanos) -> Option<Duration> {
        let wait = rec
            .retry_after_ms
            .map_or(Self::DEFAULT_WAIT, Duration::from_millis)
            .min(self.max_wait);
        let at = now.saturating_add(wait.as_nanos() as Nanos);
        match self.until {
            Some(end) if at >= end => None,
            _ => Some(wait),
        }
    }
}

/// Sends `ready` (made from `prompt`) and records its stream; a throttled
/// request is sent again (rebuilt) after its `Retry-After` while
/// `how.timeouts.retry_throttled` allows and the run is not interrupted.
/// The record is the last attempt's, with [`Retries`] saying what came
/// before.
pub async fn execute_prepared(
    how: How<'_>,
    prompt: &Prompt,
    ready: Prepared,
    at: Stamp,
    mut abort: watch::Receiver<bool>,
) -> (RequestRecord, Option<Transcript>) {
    let (mut rec, mut transcript) = attempt(how, prompt, ready, at, abort.clone()).await;
    // Kept only when the prompt chose its model: a mixed run.
    rec.model = prompt.model.as_deref().map(Into::into);
    let Some(policy) = how.timeouts.retry_throttled else {
        return (rec, transcript);
    };
    let mut retries = Retries {
        throttled: 0,
        waited_ns: 0,
        first_sent_ns: rec.sent_ns,
    };
    while throttled(&rec) && retries.throttled < policy.max_retries {
        let before = how.clock.now();
        let Some(wait) = policy.wait(&rec, before) else {
            break;
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = abort.wait_for(|a| *a) => break,
        }
        retries.throttled += 1;
        retries.waited_ns += how.clock.now().saturating_sub(before);
        let ready = Prepared::new(&how, prompt, at.id);
        (rec, transcript) = attempt(how, prompt, ready, at, abort.clone()).await;
        rec.model = prompt.model.as_deref().map(Into::into);
    }
    if retries.throttled > 0 {
        rec.retries = Some(retries);
    }
    (rec, transcript)
}

fn throttled(rec: &RequestRecord) -> bool {
    rec.error.as_ref().map(|e| e.kind) == Some(ErrorKind::Throttled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_the_retry_after_capped_and_never_past_the_end() {
        let policy = RetryThrottled {
            max_retries: 3,
            max_wait: Duration::from_secs(60),
            until: None,
        };
        let mut rec = RequestRecord::new(0, 0, 0);
        assert_eq!(policy.wait(&rec, 0), Some(RetryThrottled::DEFAULT_WAIT));
        rec.retry_after_ms = Some(2500);
        assert_eq!(policy.wait(&rec, 0), Some(Duration::from_millis(2500)));
        rec.retry_after_ms = Some(7 * 86_400 * 1000);
        assert_eq!(policy.wait(&rec, 0), Some(Duration::from_secs(60)));
        let ending = RetryThrottled {
            until: Some(10_000_000_000),
            ..policy
        };
        rec.retry_after_ms = Some(2000);
        assert_eq!(
            ending.wait(&rec, 7_000_000_000),
            Some(Duration::from_secs(2))
        );
        assert_eq!(ending.wait(&rec, 8_000_000_000), None);
        assert_eq!(ending.wait(&rec, u64::MAX), None);
    }
}

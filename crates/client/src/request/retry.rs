//! Retrying throttled requests (`bench --retry-throttled`, for soak runs):
//! after the server's `Retry-After` (capped), a bounded number of times,
//! never past the run's end. Without it a throttled request is never
//! retried: the measurement shows what the server did.

use super::{attempt, How, Prepared, Stamp};
use crate::backend::Prompt;
use crate::recorder::Transcript;
use std::time::Duration;
use tokenpace_core::record::{ErrorKind, RequestRecord, Retries};
use tokio::sync::watch;

/// How throttled requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryThrottled {
    /// The most retries of one request.
    pub max_retries: u32,
    /// The longest wait before one retry, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl RetryThrottled {
    /// The wait before a retry when the server gave no `Retry-After`.
    pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);
    /// The longest wait before a retry `bench --retry-throttled` allows.
    pub const MAX_WAIT: Duration = Duration::from_secs(60);

    /// The wait before retrying `rec`: its `Retry-After`, capped.
    fn wait(&self, rec: &RequestRecord) -> Duration {
        rec.retry_after_ms
            .map_or(Self::DEFAULT_WAIT, Duration::from_millis)
            .min(self.max_wait)
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
        tokio::select! {
            () = tokio::time::sleep(policy.wait(&rec)) => {}
            _ = abort.wait_for(|a| *a) => break,
        }
        retries.throttled += 1;
        retries.waited_ns += how.clock.now().saturating_sub(before);
        let ready = Prepared::new(&how, prompt, at.id);
        (rec, transcript) = attempt(how, prompt, ready, at, abort.clone()).await;
    }
    if retries.throttled > 0 {
        rec.retries = Some(retries);
    }
    (rec, transcript)
}

fn throttled(rec: &RequestRecord) -> bool {
    rec.error.as_ref().map(|e| e.kind) == Some(ErrorKind::Throttled)
}

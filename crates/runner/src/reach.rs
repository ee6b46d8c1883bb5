//! Why a target could not be reached, or nothing it answered succeeded, in
//! words that say what to do.

use std::time::Duration;
use tokenpace_client::call::{Call, CallError};
use tokenpace_client::request::{http_client, HttpClient, Target};
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_core::setting::Setting;

/// How long the checks behind an explanation may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// `err` (the target could not be reached or asked) explained: with
/// `--h2c`, a server that answers plain HTTP/1.1 does not speak HTTP/2
/// without TLS, which "is the server running?" would hide.
pub(crate) fn explain(
    err: anyhow::Error,
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    connect: Duration,
) -> anyhow::Error {
    if target.h2c && answers_http1(runtime, &target.base_url, connect) {
        return anyhow::anyhow!(
            "{} answers HTTP/1.1 but not HTTP/2 without TLS ({h2c}, prior knowledge): drop {h2c}, or point it at a server or gateway that speaks h2c",
            target.shown_url(),
            h2c = Setting::H2c
        );
    }
    err
}

/// Whether `url` answers a plain HTTP/1.1 GET at all (any status).
fn answers_http1(runtime: &tokio::runtime::Runtime, url: &str, connect: Duration) -> bool {
    let Ok(client) = http_client(connect, 1) else {
        return false;
    };
    runtime.block_on(async move { client.call(get(url)).await.is_ok() })
}

/// A bounded `GET url` whose answer only has to come.
fn get(url: &str) -> Call<'_> {
    Call::get(url, 1 << 20, CHECK_TIMEOUT)
}

/// Fails, saying why, when nothing answers at the target.
pub(crate) fn probe(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    target: &Target,
) -> anyhow::Result<()> {
    let url = target.base_url.as_str();
    let e = match runtime.block_on(async move { client.call(get(url)).await }) {
        // Any answer, whatever its status or size, is a server there.
        Ok(_) | Err(CallError::TooLarge(_)) => return Ok(()),
        Err(e) => anyhow::anyhow!(
            "cannot reach {} ({}): is the server running? nothing was sent",
            target.shown_url(),
            target.secrets().redact(&e.to_string())
        ),
    };
    Err(explain(e, runtime, target, client.connect_timeout()))
}

/// One line saying why nothing succeeded, and what to try.
pub(crate) fn all_failed(records: &[RequestRecord], url: &str) -> String {
    let Some(first) = records.iter().find_map(|r| r.error.as_ref()) else {
        return "no request was sent (the run was interrupted before the first one)".into();
    };
    let hint = match (first.kind, first.status) {
        (ErrorKind::Connect, _) => format!("is the server running at {url}?"),
        (ErrorKind::Dns, _) => "is the host name right?".into(),
        (ErrorKind::Tls, _) => "does the server speak TLS (https) on that port?".into(),
        (ErrorKind::HttpStatus, Some(401 | 403)) => format!(
            "the API key is missing or wrong ({}, TOKENPACE_API_KEY or the provider's variable, e.g. OPENAI_API_KEY)",
            Setting::ApiKey
        ),
        (ErrorKind::HttpStatus, Some(404)) => {
            format!("wrong URL or model name? ({}, {})", Setting::Model, Setting::Api)
        }
        (ErrorKind::Timeout, _) => format!(
            "the server did not answer in time ({}, {})",
            Setting::FirstTokenTimeout,
            Setting::Timeout
        ),
        (ErrorKind::EmptyResponse, _) => format!(
            "the server answered without generating anything: is the model loaded, and is it the right one ({})?",
            Setting::Model
        ),
        (ErrorKind::EventTooLarge, _) => format!(
            "raise {} if the server's events really are that large",
            Setting::MaxEventBytes
        ),
        (ErrorKind::Overrun, _) => {
            format!("the server ignores max_tokens ({})", Setting::MaxTokens)
        }
        (ErrorKind::Throttled, _) => format!(
            "the server's rate limit turned the requests away: lower {} or {}, or for a soak run retry them ({})",
            Setting::Concurrency,
            Setting::Rate,
            Setting::RetryThrottled
        ),
        _ => format!("see requests.jsonl ({}) for every error", Setting::Out),
    };
    format!(
        "all {} requests failed; the first with {}: {} — {hint}",
        records.len(),
        first.kind.id(),
        first.message
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::record::RequestError;

    #[test]
    fn all_failed_says_what_to_try() {
        let mut r = RequestRecord::new(0, 0, 0);
        r.error = Some(RequestError {
            kind: ErrorKind::HttpStatus,
            status: Some(401),
            message: "unauthorized".into(),
        });
        let text = all_failed(&[r], "http://127.0.0.1:9");
        assert!(text.contains("API key"), "{text}");
        assert!(all_failed(&[], "http://127.0.0.1:9").contains("interrupted"));
    }
}

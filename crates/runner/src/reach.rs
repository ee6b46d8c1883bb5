//! Why a target could not be reached, in words that say what to do.

use std::time::Duration;
use tokenpace_client::request::{http_client, HttpClient, Target};

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
            "{} answers HTTP/1.1 but not HTTP/2 without TLS (--h2c, prior knowledge): drop --h2c, or point it at a server or gateway that speaks h2c",
            target.base_url
        );
    }
    err
}

/// Whether `url` answers a plain HTTP/1.1 GET at all (any status).
fn answers_http1(runtime: &tokio::runtime::Runtime, url: &str, connect: Duration) -> bool {
    let Ok(client) = http_client(connect, 1) else {
        return false;
    };
    let request = client.api().get(url).timeout(CHECK_TIMEOUT);
    runtime.block_on(async move { request.send().await.is_ok() })
}

/// Fails, saying why, when nothing answers at the target.
pub(crate) fn probe(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    target: &Target,
) -> anyhow::Result<()> {
    let request = client.api().get(&target.base_url).timeout(CHECK_TIMEOUT);
    let e = match runtime.block_on(async move { request.send().await }) {
        Ok(_) => return Ok(()),
        Err(e) => anyhow::anyhow!(
            "cannot reach {} ({e}): is the server running? nothing was sent",
            target.base_url
        ),
    };
    Err(explain(e, runtime, target, client.connect_timeout()))
}

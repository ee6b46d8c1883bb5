//! Asking a server what it serves, before any load: a target that is down or
//! misconfigured gets one clear error instead of a run of failures.

use crate::call::{status_text, Call, CallError};
use crate::request::{HttpClient, Target};
use anyhow::{bail, Context};
use serde::Deserialize;
use tokenpace_core::setting::Setting;

#[derive(Deserialize)]
struct Models {
    #[serde(default)]
    data: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    id: String,
    #[serde(default)]
    owned_by: Option<String>,
}

/// What `GET /v1/models` said: the first model and whose server it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The first model's name (never holding the key).
    pub model: String,
    /// Its `owned_by`, which names the server (`vllm`, `sglang`, …).
    pub owned_by: Option<String>,
}

/// How long `GET /v1/models` may take: a server that never answers is an
/// error, not a hang.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The first model of `GET /v1/models`, asked with a bearer key.
pub async fn first_model(client: &HttpClient, target: &Target) -> anyhow::Result<String> {
    first_model_as(client, target, &crate::backend::openai::OpenAiChat).await
}

/// The first model of `GET /v1/models`, authenticated as `backend`'s API
/// does (Anthropic's with `x-api-key`).
pub async fn first_model_as(
    client: &HttpClient,
    target: &Target,
    backend: &dyn crate::backend::Backend,
) -> anyhow::Result<String> {
    Ok(listing(client, target, backend, DEFAULT_TIMEOUT)
        .await?
        .model)
}

/// `GET /v1/models`, authenticated as `backend`'s API does, within
/// `timeout`.
pub async fn listing(
    client: &HttpClient,
    target: &Target,
    backend: &dyn crate::backend::Backend,
    timeout: std::time::Duration,
) -> anyhow::Result<Listing> {
    let full = target.url("/v1/models");
    // Shown in errors: without the URL's credentials.
    let url = crate::url::shown(&full);
    let model = Setting::Model;
    let auth = backend.auth_headers(target.api_key.as_deref());
    let headers: Vec<(&str, &str)> = auth
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(target.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    let call = Call {
        method: "GET",
        url: &full,
        headers: &headers,
        body: None,
        cap: MAX_LIST_BYTES,
        timeout,
    };
    let secrets = target.secrets();
    let reply = client.call(call).await.map_err(|e| match e {
        CallError::Timeout(_) => anyhow::anyhow!(
            "{url} did not answer within {} s: is the server overloaded, or is something else listening there? (give the model name with {model} to skip this)",
            timeout.as_secs_f64()
        ),
        CallError::TooLarge(_) => anyhow::anyhow!(
            "{url} sent more than {MAX_LIST_BYTES} bytes for its model list; give the model name with {model}"
        ),
        CallError::Tls(why) => anyhow::anyhow!(
            "could not reach {}: its TLS certificate is not trusted or the handshake failed: give it with {} FILE, or pass {} for a test server ({})",
            target.shown_url(),
            Setting::CaCert,
            Setting::Insecure,
            secrets.redact(&why)
        ),
        CallError::Failed(why) => anyhow::anyhow!(
            "could not reach {}: is the server running, and is the URL right? ({})",
            target.shown_url(),
            secrets.redact(&why)
        ),
    })?;
    let status = status_text(reply.status);
    if reply.status == 401 || reply.status == 403 {
        bail!("{url} answered {status}: the API key is missing or wrong (give {}, or set TOKENPACE_API_KEY or the provider's variable: OPENAI_API_KEY, ANTHROPIC_API_KEY, DEEPSEEK_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY or GEMINI_API_KEY by the URL's host)", Setting::ApiKey);
    }
    if !reply.is_success() {
        bail!("{url} answered {status}: give the model name with {model}");
    }
    let body = reply.body;
    // Server text (the name, a parse error quoting it) kept in run.json and
    // printed: never the key.
    let models: Models = serde_json::from_slice(&body)
        .map_err(|e| anyhow::Error::msg(secrets.redact(&e.to_string()).into_owned()))
        .with_context(|| {
            format!("{url} did not return a model list; give the model name with {model}")
        })?;
    let Some(m) = models.data.into_iter().next() else {
        bail!("{url} lists no models; give the model name with {model}")
    };
    let id = secrets.redact(&m.id).into_owned();
    if id.is_empty() || id.len() > MAX_NAME_BYTES {
        bail!(
            "{url} lists a model name of {} bytes; give the model name with {model}",
            id.len()
        );
    }
    let owned_by = m
        .owned_by
        .map(|o| secrets.redact(&o).chars().take(64).collect());
    Ok(Listing {
        model: id,
        owned_by,
    })
}

/// Bytes a `/v1/models` answer may hold (16 MiB).
const MAX_LIST_BYTES: usize = 16 << 20;

/// Bytes a discovered model name may hold.
const MAX_NAME_BYTES: usize = 1024;

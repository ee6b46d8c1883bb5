//! Asking a server what it serves, before any load: a target that is down or
//! misconfigured gets one clear error instead of a run of failures.

use crate::request::Target;
use anyhow::{bail, Context};
use serde::Deserialize;

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
pub async fn first_model(client: &reqwest::Client, target: &Target) -> anyhow::Result<String> {
    first_model_as(client, target, &crate::backend::openai::OpenAiChat).await
}

/// The first model of `GET /v1/models`, authenticated as `backend`'s API
/// does (Anthropic's with `x-api-key`).
pub async fn first_model_as(
    client: &reqwest::Client,
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
    client: &reqwest::Client,
    target: &Target,
    backend: &dyn crate::backend::Backend,
    timeout: std::time::Duration,
) -> anyhow::Result<Listing> {
    let mut req = client.get(target.url("/v1/models")).timeout(timeout);
    // Shown in errors: without the URL's credentials.
    let url = crate::url::shown(&target.url("/v1/models"));
    for (k, v) in backend.auth_headers(target.api_key.as_deref()) {
        req = req.header(k, v);
    }
    for (k, v) in &target.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.map_err(|e| match e.is_timeout() {
        true => anyhow::anyhow!(
            "{url} did not answer within {} s: is the server overloaded, or is something else listening there? (give the model name with --model to skip this)",
            timeout.as_secs_f64()
        ),
        false => anyhow::Error::new(crate::url::clean_error(e)).context(format!(
            "could not reach {}: is the server running, and is the URL right?",
            target.shown_url()
        )),
    })?;
    let status = resp.status();
    if status.as_u16() == 401 || status.as_u16() == 403 {
        bail!("{url} answered {status}: the API key is missing or wrong (give --api-key, or set TOKENPACE_API_KEY or the provider's variable: OPENAI_API_KEY, ANTHROPIC_API_KEY, DEEPSEEK_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY or GEMINI_API_KEY by the URL's host)");
    }
    if !status.is_success() {
        bail!("{url} answered {status}: give the model name with --model");
    }
    // A model list is small; a server sending more is not listing models.
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(crate::url::clean_error)
        .with_context(|| format!("could not read the answer of {url}"))?
    {
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            bail!("{url} sent more than {MAX_LIST_BYTES} bytes for its model list; give the model name with --model");
        }
        body.extend_from_slice(&chunk);
    }
    // Server text (the name, a parse error quoting it) kept in run.json and
    // printed: never the key.
    let secrets = target.secrets();
    let models: Models = serde_json::from_slice(&body)
        .map_err(|e| anyhow::Error::msg(secrets.redact(&e.to_string()).into_owned()))
        .with_context(|| {
            format!("{url} did not return a model list; give the model name with --model")
        })?;
    let Some(m) = models.data.into_iter().next() else {
        bail!("{url} lists no models; give the model name with --model")
    };
    let id = secrets.redact(&m.id).into_owned();
    if id.is_empty() || id.len() > MAX_NAME_BYTES {
        bail!(
            "{url} lists a model name of {} bytes; give the model name with --model",
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

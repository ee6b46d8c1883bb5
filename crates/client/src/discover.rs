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
}

/// The first model of `GET /v1/models`.
pub async fn first_model(client: &reqwest::Client, target: &Target) -> anyhow::Result<String> {
    let url = format!("{}/v1/models", target.base_url.trim_end_matches('/'));
    let mut req = client.get(&url);
    if let Some(key) = &target.api_key {
        req = req.bearer_auth(key);
    }
    for (k, v) in &target.headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.with_context(|| {
        format!(
            "could not reach {}: is the server running, and is the URL right?",
            target.base_url
        )
    })?;
    let status = resp.status();
    if status.as_u16() == 401 || status.as_u16() == 403 {
        bail!("{url} answered {status}: the API key is missing or wrong (give --api-key, or set TOKENPACE_API_KEY or OPENAI_API_KEY)");
    }
    if !status.is_success() {
        bail!("{url} answered {status}: give the model name with --model");
    }
    let body = resp
        .bytes()
        .await
        .with_context(|| format!("could not read the answer of {url}"))?;
    let models: Models = serde_json::from_slice(&body).with_context(|| {
        format!("{url} did not return a model list; give the model name with --model")
    })?;
    match models.data.into_iter().next() {
        Some(m) => Ok(m.id),
        None => bail!("{url} lists no models; give the model name with --model"),
    }
}

//! Where a run's requests go: the target of a base URL, its key, its
//! headers, and the URL as it may be shown (without credentials).

use anyhow::bail;
use tokenpace_client::request::{RequestIdHeader, Target};

/// The API key: `--api-key`, else TOKENPACE_API_KEY, else OPENAI_API_KEY.
pub fn api_key(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var("TOKENPACE_API_KEY").ok())
        .or_else(|| std::env::var("OPENAI_API_KEY").ok())
}

/// The target of a base URL: checked, `/v1` and trailing slashes removed.
pub fn target(
    url: &str,
    model: Option<String>,
    api_key: Option<String>,
    headers: &[String],
    request_id: Option<&str>,
) -> anyhow::Result<Target> {
    let trimmed = url.trim();
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
        let url = redact(trimmed);
        bail!("'{url}' is not an http:// or https:// URL; give the server's base URL, e.g. http://127.0.0.1:8000");
    }
    let headers = headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                let (k, v) = (k.trim(), v.trim());
                crate::header::check(h, k, v)?;
                Ok((k.to_string(), v.to_string()))
            }
            _ => bail!(
                "--header '{}' is not NAME:VALUE; write e.g. --header 'X-Request-Source: bench'",
                h.escape_debug()
            ),
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(key) = &api_key {
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            bail!("the API key holds a space or a control character; give it alone, without 'Bearer ' (--api-key, TOKENPACE_API_KEY or OPENAI_API_KEY)");
        }
    }
    // The query (credentials, `api-version`) goes after every API path.
    let (base, query) = tokenpace_client::url::split_query(trimmed);
    Ok(Target {
        base_url: base
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .to_owned()
            + query,
        model: model.unwrap_or_default(),
        api_key: api_key.filter(|k| !k.is_empty()),
        headers,
        h2c: false,
        tls: Default::default(),
        request_id: match request_id {
            Some(name) => Some(request_id_header(name)?),
            None => None,
        },
    })
}

/// The request-id header named `name`, checked as a header name.
fn request_id_header(name: &str) -> anyhow::Result<RequestIdHeader> {
    let name = name.trim();
    crate::header::check(&format!("{name}: x"), name, "x").map_err(|_| {
        anyhow::anyhow!(
            "--request-id-header '{}' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only); e.g. --request-id-header X-Request-ID, or --no-request-id",
            name.escape_debug()
        )
    })?;
    Ok(RequestIdHeader::new(name))
}

/// The URL as files and output show it: without userinfo or query
/// parameters that carry credentials.
pub use tokenpace_client::url::shown as redact;

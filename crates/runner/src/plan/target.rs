//! Where a run's requests go: the target of a base URL, its key, its
//! headers, and the URL as it may be shown (without credentials).

use anyhow::bail;
use tokenpace_client::request::{RequestIdHeader, Target};
use tokenpace_core::setting::Setting;

/// A hosted API a base URL's host names: the environment variable its
/// keys are read from, and the protocol it speaks when not OpenAI's.
struct Provider {
    /// The domain its API hosts are in.
    domain: &'static str,
    key_env: &'static str,
    protocol: Option<&'static str>,
}

/// The providers whose keys are read from their own variables (each
/// provider's documented name).
const PROVIDERS: [Provider; 6] = [
    Provider {
        domain: "anthropic.com",
        key_env: "ANTHROPIC_API_KEY",
        protocol: Some("anthropic"),
    },
    Provider {
        domain: "deepseek.com",
        key_env: "DEEPSEEK_API_KEY",
        protocol: None,
    },
    Provider {
        domain: "groq.com",
        key_env: "GROQ_API_KEY",
        protocol: None,
    },
    Provider {
        domain: "openrouter.ai",
        key_env: "OPENROUTER_API_KEY",
        protocol: None,
    },
    Provider {
        domain: "generativelanguage.googleapis.com",
        key_env: "GEMINI_API_KEY",
        protocol: None,
    },
    Provider {
        domain: "openai.com",
        key_env: "OPENAI_API_KEY",
        protocol: None,
    },
];

/// The host of `url` (no userinfo, no port), lowercase.
fn host(url: &str) -> String {
    let rest = url.trim().split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host.split(':').next().unwrap_or("").to_ascii_lowercase()
}

fn provider(url: &str) -> Option<&'static Provider> {
    let host = host(url);
    PROVIDERS
        .iter()
        .find(|p| host == p.domain || host.ends_with(&format!(".{}", p.domain)))
}

/// The environment variable the key for `url` spoken with `protocol` is
/// read from: the provider's own, by the URL's host; elsewhere (a
/// self-hosted server, a gateway) ANTHROPIC_API_KEY for the Anthropic
/// protocol and OPENAI_API_KEY for the others. A provider's key is so
/// never sent to another host.
pub fn key_env(url: &str, protocol: &str) -> &'static str {
    match provider(url) {
        Some(p) => p.key_env,
        None if protocol == "anthropic" => "ANTHROPIC_API_KEY",
        None => "OPENAI_API_KEY",
    }
}

/// The protocol a hosted API's URL speaks when `--backend` does not say
/// (`anthropic` for Anthropic's); `None`: OpenAI's.
pub fn default_protocol(url: &str) -> Option<&'static str> {
    provider(url).and_then(|p| p.protocol)
}

/// The API key: `--api-key`, else TOKENPACE_API_KEY, else the variable
/// [`key_env`] names for `url` and `protocol`.
pub fn api_key(flag: Option<String>, url: &str, protocol: &str) -> Option<String> {
    flag.or_else(|| std::env::var("TOKENPACE_API_KEY").ok())
        .or_else(|| std::env::var(key_env(url, protocol)).ok())
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
                "{hf} '{}' is not NAME:VALUE; write e.g. {hf} 'X-Request-Source: bench'",
                h.escape_debug(),
                hf = Setting::Header
            ),
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(key) = &api_key {
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            bail!(
                "the API key holds a space or a control character; give it alone, without 'Bearer ' ({}, TOKENPACE_API_KEY or the provider's variable, e.g. OPENAI_API_KEY)",
                Setting::ApiKey
            );
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
            "{r} '{}' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only); e.g. {r} X-Request-ID, or {}",
            name.escape_debug(),
            Setting::NoRequestId,
            r = Setting::RequestIdHeader
        )
    })?;
    Ok(RequestIdHeader::new(name))
}

/// The URL as files and output show it: without userinfo or query
/// parameters that carry credentials.
pub use tokenpace_client::url::shown as redact;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_has_its_own_key_variable() {
        let cases = [
            (
                "https://api.anthropic.com",
                "openai-chat",
                "ANTHROPIC_API_KEY",
            ),
            (
                "https://api.deepseek.com",
                "openai-chat",
                "DEEPSEEK_API_KEY",
            ),
            (
                "https://api.groq.com/openai/v1",
                "openai-chat",
                "GROQ_API_KEY",
            ),
            (
                "https://openrouter.ai/api/v1",
                "openai-chat",
                "OPENROUTER_API_KEY",
            ),
            (
                "https://generativelanguage.googleapis.com/v1beta/openai/",
                "openai-chat",
                "GEMINI_API_KEY",
            ),
            ("https://API.OpenAI.com/v1", "responses", "OPENAI_API_KEY"),
            ("http://127.0.0.1:8000", "anthropic", "ANTHROPIC_API_KEY"),
            ("http://127.0.0.1:8000", "openai-chat", "OPENAI_API_KEY"),
            // Only the host decides: a path or a look-alike host does not.
            (
                "http://evil.example/api.deepseek.com",
                "openai-chat",
                "OPENAI_API_KEY",
            ),
            (
                "http://api.deepseek.com.evil.example",
                "openai-chat",
                "OPENAI_API_KEY",
            ),
            (
                "http://u:p@api.groq.com:443/openai",
                "openai-chat",
                "GROQ_API_KEY",
            ),
        ];
        for (url, protocol, want) in cases {
            assert_eq!(key_env(url, protocol), want, "{url} {protocol}");
        }
        assert_eq!(
            default_protocol("https://api.anthropic.com/v1"),
            Some("anthropic")
        );
        assert_eq!(default_protocol("https://api.deepseek.com"), None);
        assert_eq!(default_protocol("http://127.0.0.1:1"), None);
    }
}

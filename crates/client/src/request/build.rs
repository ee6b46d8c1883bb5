//! A request's bytes: the HTTP/1.1 head and body for tokenpace's own
//! transport, or the parts HTTP/2 takes.

use super::h2::H2Request;
use super::Target;
use crate::backend::Prompt;
use tokenpace_core::setting::Setting;

/// The request for HTTP/2: path, lower-case headers, body.
pub(super) fn h2_request(
    target: &Target,
    api_path: &str,
    auth: &[(&str, String)],
    prompt: &Prompt,
    extra: Option<(&str, &str)>,
    body: String,
) -> H2Request {
    let (base, query) = crate::url::split_query(target.base_url.trim());
    let after_scheme = base.split_once("://").map_or(base, |(_, r)| r);
    let prefix = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("accept".into(), "text/event-stream".into()),
    ];
    let more = target.headers.iter().chain(&prompt.headers);
    let more = more.map(|(k, v)| (k.as_str(), v.as_str())).chain(extra);
    let auth = auth.iter().map(|(k, v)| (*k, v.as_str()));
    headers.extend(
        auth.chain(more)
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())),
    );
    H2Request {
        path: format!("{}{api_path}{query}", prefix.trim_end_matches('/')),
        headers,
        body: body.into(),
    }
}

/// The complete HTTP/1.1 request: head (with the `extra` per-request header)
/// and body.
pub(super) fn raw_request(
    target: &Target,
    api_path: &str,
    auth: &[(&str, String)],
    prompt: &Prompt,
    extra: Option<(&str, &str)>,
    body: &str,
) -> Result<Vec<u8>, String> {
    let (base, query) = crate::url::split_query(target.base_url.trim());
    let after_scheme = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .unwrap_or(base);
    let (authority, prefix) = match after_scheme.find('/') {
        Some(i) => after_scheme.split_at(i),
        None => (after_scheme, ""),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let mut head = format!(
        "POST {}{api_path}{query} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: {}\r\n",
        prefix.trim_end_matches('/'),
        body.len()
    );
    for (k, v) in auth {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let named = |name: &str| {
        auth.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
            || target
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
    };
    if let Some(basic) =
        crate::url::basic_auth(&target.base_url).filter(|_| !named("authorization"))
    {
        head.push_str(&format!("authorization: {basic}\r\n"));
    }
    let headers = target.headers.iter().chain(&prompt.headers);
    let headers = headers.map(|(k, v)| (k.as_str(), v.as_str())).chain(extra);
    for (k, v) in headers {
        let bad = |t: &str| t.bytes().any(|b| b == b'\r' || b == b'\n');
        if k.is_empty() || bad(k) || bad(v) || k.contains(':') {
            return Err(format!(
                "the header '{}' has a line break or a colon in its name: fix {}",
                k.escape_debug(),
                Setting::Header
            ));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    Ok(bytes)
}

//! A target's URL: the API URLs made from it, the URL as it may be shown or
//! stored, and the credentials it carries.
//!
//! A base URL may carry credentials: userinfo (`http://user:pass@host`,
//! sent as Basic auth) or a query parameter (`?api_key=…`, kept on every
//! API URL). Those are sent as given, but never shown or stored:
//! [`shown`] drops them, and [`credentials`] lists them for
//! [`crate::redact::Secrets`] to hide from server text.

/// Query parameters whose values are credentials, compared without case,
/// `-` or `_` (`api_key`, `API-Key`, `apikey`).
const SECRET_PARAMS: [&str; 8] = [
    "apikey",
    "key",
    "token",
    "accesstoken",
    "password",
    "secret",
    "sig",
    "signature",
];

/// Endings of parameter names that are credentials too
/// (`x-amz-security-token`, `x-amz-signature`, `client_secret`).
const SECRET_ENDINGS: [&str; 5] = ["apikey", "token", "secret", "password", "signature"];

/// A URL in parts: `scheme://`, userinfo, host (with port), path, query.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

/// Splits `url`; `None` without `scheme://`. A fragment is dropped.
fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split('#').next().unwrap_or("");
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    Some(Parts {
        scheme,
        userinfo,
        host,
        path,
        query,
    })
}

/// Whether a query parameter named `name` carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    let plain: String = percent_decode(name)
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_PARAMS.contains(&plain.as_str()) || SECRET_ENDINGS.iter().any(|e| plain.ends_with(e))
}

/// `url` as it may be shown or stored: without userinfo, without query
/// parameters that carry credentials ([`is_secret_param`]) and without a
/// fragment; other parameters (`api-version=…`) are kept.
pub fn shown(url: &str) -> String {
    let Some(p) = parts(url) else {
        return url.to_string();
    };
    let mut out = format!("{}://{}{}", p.scheme, p.host, p.path);
    let kept: Vec<&str> = p
        .query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !is_secret_param(kv.split('=').next().unwrap_or("")))
        .collect();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out
}

/// The API URL of `path` (`/v1/chat/completions`) on the base URL `base`:
/// the path joined to the base's path, the base's query after it. A base
/// that is an API root of its own version (Gemini's OpenAI-compatible
/// `…/v1beta/openai`) takes the path without its `/v1`.
pub fn join(base: &str, path: &str) -> String {
    let (base, query) = split_query(base.trim());
    let base = base.trim_end_matches('/');
    let path = match base.ends_with("/v1beta/openai") {
        true => path.strip_prefix("/v1").unwrap_or(path),
        false => path,
    };
    format!("{base}{path}{query}")
}

/// The base URL without the query, and the query (with its `?`, or empty).
pub fn split_query(base: &str) -> (&str, &str) {
    match base.find('?') {
        Some(i) => base.split_at(i),
        None => (base, ""),
    }
}

/// The credentials `url` carries, as a server might echo them: the
/// userinfo's password (or a lone user name), `user:password`, its Basic
/// auth encoding, and the values of credential query parameters, each as
/// written and percent-decoded.
pub fn credentials(url: &str) -> Vec<String> {
    let Some(p) = parts(url) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(info) = p.userinfo {
        let (user, password) = info.split_once(':').unwrap_or((info, ""));
        let secret = if password.is_empty() { user } else { password };
        out.extend([secret.to_string(), percent_decode(secret), info.to_string()]);
        let decoded = format!("{}:{}", percent_decode(user), percent_decode(password));
        out.push(base64(decoded.as_bytes()));
        out.push(decoded);
    }
    for kv in p.query.unwrap_or("").split('&') {
        if let Some((name, value)) = kv.split_once('=') {
            if is_secret_param(name) {
                out.extend([value.to_string(), percent_decode(value)]);
            }
        }
    }
    out
}

/// The `Authorization` value of `url`'s userinfo (`Basic …` of the
/// percent-decoded `user:password`), as browsers and curl send it.
pub fn basic_auth(url: &str) -> Option<String> {
    let info = parts(url.trim())?.userinfo?;
    let (user, password) = info.split_once(':').unwrap_or((info, ""));
    let pair = format!("{}:{}", percent_decode(user), percent_decode(password));
    Some(format!("Basic {}", base64(pair.as_bytes())))
}

/// The scheme and authority of `url` (`https://host:8443` of
/// `https://host:8443/v1/models?x=1`): what one endpoint serves.
pub fn origin(url: &str) -> &str {
    let url = url.trim();
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
}

/// `s` with `%XX` escapes decoded (`+` kept), lossily as UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64 with padding, as Basic auth sends `user:password`.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(match i <= group.len() {
                true => ABC[(n >> (18 - 6 * i)) as usize & 63] as char,
                false => '=',
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_carry_no_credentials() {
        let cases = [
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
            (
                "https://u:p@example.com/v1?key=abc",
                "https://example.com/v1",
            ),
            ("http://h:1?api_key=S", "http://h:1"),
            (
                "http://h:1?API-KEY=S&api-version=2&Token=T",
                "http://h:1?api-version=2",
            ),
            ("http://h/v1?x-amz-signature=S&sig=T#frag", "http://h/v1"),
            ("http://tok@h/?monkey=1", "http://h/?monkey=1"),
        ];
        for (url, want) in cases {
            assert_eq!(shown(url), want, "{url}");
        }
        assert_eq!(shown("not a url"), "not a url");
    }

    #[test]
    fn credentials_are_listed_as_sent() {
        let c = credentials("http://me:pa%40ss@h:1/v1?api_key=k%2Fey&api-version=2");
        for s in [
            "pa%40ss",
            "pa@ss",
            "me:pa@ss",
            "bWU6cGFAc3M=",
            "k%2Fey",
            "k/ey",
        ] {
            assert!(c.iter().any(|x| x == s), "{s}: {c:?}");
        }
        assert!(!c.iter().any(|x| x == "2"), "{c:?}");
        assert_eq!(credentials("http://tok@h")[0], "tok");
        assert!(credentials("http://h:1/v1").is_empty());
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn api_urls_keep_the_query_after_the_path() {
        assert_eq!(join("http://h:1", "/v1/models"), "http://h:1/v1/models");
        assert_eq!(join("http://h:1/x/", "/v1/m"), "http://h:1/x/v1/m");
        assert_eq!(join("http://h:1?k=v", "/v1/m"), "http://h:1/v1/m?k=v");
        // Gemini's OpenAI-compatible root replaces `/v1`.
        let gemini = "https://generativelanguage.googleapis.com/v1beta/openai/";
        assert_eq!(
            join(gemini, "/v1/chat/completions"),
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"
        );
        assert_eq!(
            join("https://api.groq.com/openai", "/v1/models"),
            "https://api.groq.com/openai/v1/models"
        );
        assert_eq!(split_query("http://h/p?k=v"), ("http://h/p", "?k=v"));
    }
}

//! Secrets the client sent, kept out of everything a server sends back.
//!
//! A server may echo the request's `Authorization` header (a 401 page, a
//! debugging proxy, a hostile endpoint). Every server text the client keeps
//! or prints (error messages, response ids, model names) passes through
//! [`Secrets::redact`] first, whole, before it is cut to length, so no part
//! of the API key (or of the URL's credentials) reaches a terminal or a
//! file.

use std::borrow::Cow;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not looked for: replacing every `a` of a
/// message would hide more than it protects.
const MIN_LEN: usize = 4;

/// Header names whose values are credentials.
const SECRET_HEADERS: [&str; 6] = [
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "x-auth-token",
];

/// The secrets of one target: its API key and its credential headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// The API key, and the values of headers that carry credentials
    /// (`Authorization`, `X-Api-Key`, …, and `Bearer <token>` values' token).
    pub fn new(api_key: Option<&str>, headers: &[(String, String)]) -> Self {
        let mut all: Vec<String> = Vec::new();
        let mut add = |s: &str| {
            let s = s.trim();
            if s.len() >= MIN_LEN && !all.iter().any(|a| a == s) {
                all.push(s.to_string());
            }
        };
        if let Some(key) = api_key {
            add(key);
        }
        for (name, value) in headers {
            if SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
                add(value);
                if let Some((_, token)) = value.split_once(' ') {
                    add(token);
                }
            }
        }
        // Longest first, so a key that contains another is replaced whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Secrets(all)
    }

    /// These secrets and the credentials `url` carries
    /// ([`crate::url::credentials`]: userinfo, `?api_key=…`).
    pub fn with_url(mut self, url: &str) -> Self {
        for c in crate::url::credentials(url) {
            if c.len() >= MIN_LEN && !self.0.contains(&c) {
                self.0.push(c);
            }
        }
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self
    }

    /// Whether there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
            }
        }
        out
    }

    /// `text` cut by a read cap, redacted: every secret, and a secret's
    /// start (at least 4 characters of it) left at the very end by the cut.
    pub fn redact_cut<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let whole = self.redact(text);
        let cut = self.0.iter().find_map(|secret| {
            (MIN_LEN..secret.len())
                .rev()
                .filter(|&n| secret.is_char_boundary(n))
                .find(|&n| whole.ends_with(&secret[..n]))
        });
        match cut {
            Some(n) => Cow::Owned(format!("{}{REDACTED}", &whole[..whole.len() - n])),
            None => whole,
        }
    }

    /// Redacts `text` in place.
    pub fn redact_in(&self, text: &mut String) {
        if let Cow::Owned(clean) = self.redact(text) {
            *text = clean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_and_credential_headers_are_replaced() {
        let headers = vec![
            ("X-Api-Key".to_string(), "hdr-secret-1".to_string()),
            ("Proxy-Authorization".into(), "Basic dXNlcjpwYXNz".into()),
            ("X-Trace".into(), "not-a-secret".into()),
        ];
        let s = Secrets::new(Some("sk-live-123"), &headers);
        let text =
            "bad key: Bearer sk-live-123 (x-api-key hdr-secret-1, dXNlcjpwYXNz) not-a-secret";
        let clean = s.redact(text);
        assert!(!clean.contains("sk-live-123"), "{clean}");
        assert!(!clean.contains("hdr-secret-1"), "{clean}");
        assert!(!clean.contains("dXNlcjpwYXNz"), "{clean}");
        assert!(clean.contains("Bearer [redacted]"), "{clean}");
        assert!(clean.contains("not-a-secret"));
        assert!(matches!(s.redact("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_secret_cut_at_the_end_is_hidden_too() {
        let s = Secrets::new(Some("sk-live-123456"), &[]);
        assert_eq!(s.redact_cut("denied sk-live-12"), "denied [redacted]");
        assert_eq!(s.redact_cut("sk-live-123456 sk-l"), "[redacted] [redacted]");
        assert_eq!(s.redact_cut("denied sk-"), "denied sk-");
        assert_eq!(s.redact_cut("clean"), "clean");
    }

    #[test]
    fn the_urls_credentials_are_secrets() {
        let s = Secrets::new(None, &[]).with_url("http://me:hunter22@h:1?api_key=qk-123456");
        let text = "Basic bWU6aHVudGVyMjI= hunter22 GET /v1/m?api_key=qk-123456";
        assert_eq!(
            s.redact(text),
            "Basic [redacted] [redacted] GET /v1/m?api_key=[redacted]"
        );
    }

    #[test]
    fn short_or_missing_keys_hide_nothing() {
        assert!(Secrets::new(Some("ab"), &[]).is_empty());
        assert!(Secrets::new(None, &[]).is_empty());
        assert_eq!(Secrets::new(Some("ab"), &[]).redact("abc"), "abc");
    }
}

//! What an error response said: its message, with every secret redacted
//! before it is cut to length (a key cut in half would be missed).

use crate::redact::Secrets;
use std::time::Duration;

/// The most of an error response's body read (its message).
pub(super) const MAX_ERROR_BODY: usize = 64 * 1024;

/// How long an error response's body is read: what came by then is its
/// message (a hostile server's may never end).
pub(super) const ERROR_BODY_TIME: Duration = Duration::from_secs(5);

/// Bytes of a body that is not JSON shown in the message.
const PLAIN_CHARS: usize = 200;

/// The message of an error `body` (at most [`MAX_ERROR_BODY`] of it):
/// an OpenAI-style error's message, else the start of the body; `secrets`
/// redacted first, whole (and a secret's start cut off by the read cap).
pub(super) fn server_message(status: u16, body: &[u8], secrets: &Secrets) -> String {
    let parsed: Option<String> = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            let m = v
                .pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))?;
            Some(m.as_str().map_or_else(|| m.to_string(), str::to_string))
        });
    let text = match parsed.or_else(|| cut_message(body)) {
        Some(message) => secrets.redact_cut(&message).trim().to_string(),
        None => {
            let text = String::from_utf8_lossy(body);
            let clean = secrets.redact_cut(&text);
            let shown: String = clean.chars().take(PLAIN_CHARS).collect();
            shown.trim().to_string()
        }
    };
    format!("HTTP {status}: {text}")
}

/// The `"message": "…"` string of a JSON body too long to have been read
/// whole (only its first [`MAX_ERROR_BODY`] bytes are), unescaped, up to
/// its end or the cut. It is kept whole here: the record cuts it after
/// redacting it.
fn cut_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let after = &text[text.find("\"message\"")? + "\"message\"".len()..];
    let value = after
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let code = u32::from_str_radix(&hex, 16).ok();
                    out.push(code.and_then(char::from_u32).unwrap_or('\u{fffd}'));
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(status: u16, body: &[u8]) -> String {
        server_message(status, body, &Secrets::default())
    }

    #[test]
    fn server_messages_are_extracted() {
        assert_eq!(
            plain(
                429,
                br#"{"error":{"message":"slow down","type":"rate_limit"}}"#
            ),
            "HTTP 429: slow down"
        );
        assert_eq!(plain(500, b"  oops \n"), "HTTP 500: oops");
        assert_eq!(
            plain(404, br#"{"error":"no such model"}"#),
            "HTTP 404: no such model"
        );
        let long = format!(r#"{{"error":{{"message":"a\"b\u0041{}"#, "c".repeat(70_000));
        let m = plain(400, &long.as_bytes()[..MAX_ERROR_BODY]);
        assert!(m.starts_with("HTTP 400: a\"bAccc"), "{}", &m[..40]);
    }

    #[test]
    fn secrets_are_redacted_before_any_cut() {
        let key = "sk-0123456789abcdef";
        let secrets = Secrets::new(Some(key), &[]);
        for at in 170..210 {
            let body = format!("{}{key} tail", "x".repeat(at));
            let m = server_message(401, body.as_bytes(), &secrets);
            assert!(!m.contains("sk-0123"), "{at}: {m}");
            // Escaped in JSON, or cut by the read cap.
            let escaped = format!(r#"{{"message":"{}\u0073k-0123456789abcdef"#, "y".repeat(at));
            let m = server_message(401, escaped.as_bytes(), &secrets);
            assert!(!m.contains("0123456789"), "{at}: {m}");
            let m = server_message(401, &body.as_bytes()[..at + 8], &secrets);
            assert!(!m.contains("sk-0123"), "{at}: {m}");
        }
    }
}

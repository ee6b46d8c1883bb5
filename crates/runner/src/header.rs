//! Checking `--header` before any request is sent.

use anyhow::bail;
use tokenpace_core::setting::Setting;

/// Checks one `--header` (`given` as typed, `name` and `value` trimmed):
/// a name is an HTTP token, a value holds no control character (CR or LF
/// would end the header early), so a bad one is named before any request.
pub fn check(given: &str, name: &str, value: &str) -> anyhow::Result<()> {
    const TOKEN_PUNCT: &[u8] = b"!#$%&'*+-.^_`|~";
    let shown = given.escape_debug();
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || c.is_ascii() && TOKEN_PUNCT.contains(&(*c as u8))))
    {
        bail!(
            "{h} '{shown}': the name '{}' holds {:?}, which a header name may not (letters, digits and !#$%&'*+-.^_`|~ only); write NAME:VALUE, e.g. {h} 'X-Request-Source: bench'",
            name.escape_debug(),
            bad,
            h = Setting::Header
        );
    }
    if let Some(bad) = value.chars().find(|c| c.is_control() && *c != '\t') {
        bail!(
            "{} '{shown}': the value holds the control character {:?} (a CR or LF would end the header early); remove it",
            Setting::Header,
            bad
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_and_control_characters_are_named() {
        let err = |h: &str| {
            let (k, v) = h.split_once(':').unwrap();
            check(h, k.trim(), v.trim()).unwrap_err().to_string()
        };
        let e = err("bad name: x");
        assert!(e.contains("'bad name'") && e.contains("' '"), "{e}");
        assert!(!e.contains("could not reach"), "{e}");
        let e = err("X-A: one\r\nX-Injected: two");
        assert!(e.contains("control character '\\r'"), "{e}");
        assert!(!e.contains('\r'), "{e}");
        assert!(err("X-A: \u{1b}[31m").contains("'\\u{1b}'"));
        assert!(err("Caf\u{e9}: x").contains("may not"));
        assert!(check("X-A: b\tc", "X-A", "b\tc").is_ok());
    }
}

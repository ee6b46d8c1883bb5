//! API keys: where a request carries one (OpenAI's `Authorization: Bearer
//! KEY`, Anthropic's `x-api-key: KEY`), a comparison whose time does not
//! say how much of a guess was right, and the 401 in each API's error
//! shape. No message ever repeats the key given or the key expected.

use crate::error::{ApiError, ErrorShape};
use crate::http::HttpRequest;

/// The key of `Authorization: Bearer KEY`, if the request has one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.header("authorization").and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    })
}

/// The key of `x-api-key: KEY` (Anthropic's), if the request has one.
pub fn x_api_key(req: &HttpRequest) -> Option<&str> {
    req.header("x-api-key").map(str::trim)
}

/// Whether `given` is `key`, in a time that depends on their lengths only.
pub fn same_key(given: &str, key: &str) -> bool {
    let (a, b) = (given.as_bytes(), key.as_bytes());
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && diff == 0
}

/// Checks that `req` carries `key`, as a bearer token or as `x-api-key`
/// (either on any route); a 401 in `shape` otherwise.
pub fn check_either(req: &HttpRequest, key: &str, shape: ErrorShape) -> Result<(), ApiError> {
    let given = [bearer(req), x_api_key(req)];
    if given.iter().flatten().any(|g| same_key(g, key)) {
        return Ok(());
    }
    let missing = given.iter().all(Option::is_none);
    Err(unauthorized(shape, missing))
}

/// The 401 for a key that is `missing` or wrong, in `shape`: OpenAI's
/// `invalid_api_key`, or Anthropic's `authentication_error`.
pub fn unauthorized(shape: ErrorShape, missing: bool) -> ApiError {
    let message = match (shape, missing) {
        (ErrorShape::Anthropic, true) => "missing API key: send 'x-api-key: <key>'",
        (ErrorShape::OpenAi, true) => "missing API key: send 'Authorization: Bearer <key>'",
        (_, false) => "incorrect API key provided",
    };
    let kind = match shape {
        ErrorShape::Anthropic => "authentication_error",
        ErrorShape::OpenAi => "invalid_request_error",
    };
    ApiError {
        shape,
        ..ApiError::new(401, kind, "invalid_api_key", message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: "/metrics".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
            keep_alive: true,
            http10: false,
            arrived: None,
        }
    }

    #[test]
    fn either_header_carries_the_key() {
        let key = "sk-serve-1";
        for ok in [
            req(&[("authorization", "Bearer sk-serve-1")]),
            req(&[("authorization", "bearer  sk-serve-1 ")]),
            req(&[("x-api-key", "sk-serve-1")]),
            req(&[
                ("authorization", "Bearer wrong"),
                ("x-api-key", "sk-serve-1"),
            ]),
        ] {
            assert_eq!(check_either(&ok, key, ErrorShape::OpenAi), Ok(()));
        }
        let e = check_either(&req(&[]), key, ErrorShape::OpenAi).unwrap_err();
        assert_eq!((e.status, e.code), (401, "invalid_api_key"));
        assert!(e.message.starts_with("missing API key"), "{}", e.message);
        for bad in [
            req(&[("authorization", "Bearer sk-serve-")]),
            req(&[("authorization", "Basic sk-serve-1")]),
            req(&[("x-api-key", "sk-serve-12")]),
        ] {
            let e = check_either(&bad, key, ErrorShape::Anthropic).unwrap_err();
            let body = String::from_utf8(e.body()).unwrap();
            assert!(
                body.starts_with(r#"{"type":"error","error":{"type":"authentication_error""#),
                "{body}"
            );
            assert!(!body.contains("sk-serve"), "{body}");
        }
        assert!(same_key("", "") && !same_key("a", "") && !same_key("ab", "ac"));
    }
}

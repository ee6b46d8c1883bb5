//! OpenAI-style error responses: `{"error":{"message","type","param","code"}}`.

use serde::Serialize;

/// The paths every tokenpace server answers (the simulator also answers
/// the native APIs' paths, each with one method).
pub const PATHS: [&str; 5] = [
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/models",
    "/health",
    "/metrics",
];

/// An error the client is told about, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Human-readable message.
    pub message: String,
    /// OpenAI's `type` (`invalid_request_error`, `server_error`, …).
    pub kind: &'static str,
    /// OpenAI's `code`, machine-readable.
    pub code: &'static str,
    /// The request field at fault, if any.
    pub param: Option<&'static str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: &'a str,
}

impl ApiError {
    /// A 400 for a request that is not valid.
    pub fn invalid(message: impl Into<String>, param: Option<&'static str>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
            kind: "invalid_request_error",
            code: "invalid_value",
            param,
        }
    }

    /// A 400 for a required field that is missing (or empty).
    pub fn missing(message: impl Into<String>, param: &'static str) -> Self {
        ApiError {
            code: "missing_required_parameter",
            ..ApiError::invalid(message, Some(param))
        }
    }

    /// The answer for a request no route takes: 405 when `path` is one of
    /// the [`PATHS`] every server answers (the method is wrong), 404
    /// otherwise.
    pub fn no_route(method: &str, path: &str) -> Self {
        if PATHS.contains(&path) {
            ApiError::new(
                405,
                "invalid_request_error",
                "method_not_allowed",
                format!("{method} is not allowed on {path}"),
            )
        } else {
            ApiError::new(
                404,
                "invalid_request_error",
                "not_found",
                format!("unknown route {method} {path}"),
            )
        }
    }

    /// An error with every field given.
    pub fn new(
        status: u16,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            message: message.into(),
            kind,
            code,
            param: None,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Vec<u8> {
        let body = Body {
            error: Inner {
                message: &self.message,
                kind: self.kind,
                param: self.param,
                code: self.code,
            },
        };
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_openai_shape() {
        let v: serde_json::Value =
            serde_json::from_slice(&ApiError::invalid("bad \"x\"", Some("x")).body()).unwrap();
        assert_eq!(v["error"]["message"], "bad \"x\"");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "invalid_value");
        assert_eq!(v["error"]["param"], "x");
    }

    #[test]
    fn no_route_tells_a_wrong_method_from_a_wrong_path() {
        let e = ApiError::no_route("GET", "/v1/completions");
        assert_eq!((e.status, e.code), (405, "method_not_allowed"));
        assert_eq!(e.message, "GET is not allowed on /v1/completions");
        let e = ApiError::no_route("GET", "/nope");
        assert_eq!(
            (e.status, e.message.as_str()),
            (404, "unknown route GET /nope")
        );
    }
}

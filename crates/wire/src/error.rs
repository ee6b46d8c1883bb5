//! Error responses: OpenAI's `{"error":{"message","type","param","code"}}`,
//! or Anthropic's `{"type":"error","error":{"type","message"}}` where a
//! server answers as Anthropic's API does ([`ErrorShape`]).

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
    /// Whose JSON the body is.
    pub shape: ErrorShape,
}

/// Whose error JSON a body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorShape {
    /// OpenAI's: `{"error":{"message","type","param","code"}}`; an empty
    /// `code` is written as null (as OpenAI does for some errors).
    #[default]
    OpenAi,
    /// Anthropic's: `{"type":"error","error":{"type","message"}}`.
    Anthropic,
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
    code: Option<&'a str>,
}

#[derive(Serialize)]
struct AnthropicBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: AnthropicInner<'a>,
}

#[derive(Serialize)]
struct AnthropicInner<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
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
            shape: ErrorShape::OpenAi,
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
            shape: ErrorShape::OpenAi,
        }
    }

    /// The JSON body, in its [`ErrorShape`].
    pub fn body(&self) -> Vec<u8> {
        let json = match self.shape {
            ErrorShape::OpenAi => serde_json::to_vec(&Body {
                error: Inner {
                    message: &self.message,
                    kind: self.kind,
                    param: self.param,
                    code: Some(self.code).filter(|c| !c.is_empty()),
                },
            }),
            ErrorShape::Anthropic => serde_json::to_vec(&AnthropicBody {
                kind: "error",
                error: AnthropicInner {
                    kind: self.kind,
                    message: &self.message,
                },
            }),
        };
        json.unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
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
    fn empty_codes_are_null_and_anthropic_has_its_own_shape() {
        let e = ApiError {
            code: "",
            ..ApiError::invalid("no", None)
        };
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"message": "no", "type": "invalid_request_error", "param": null, "code": null}})
        );
        let e = ApiError {
            shape: ErrorShape::Anthropic,
            ..e
        };
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"no"}}"#
        );
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

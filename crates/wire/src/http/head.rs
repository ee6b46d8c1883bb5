//! A request head: the request line, the headers, and how long the body is.
//! A head whose body length two servers could read differently (two
//! `Content-Length`s that differ, `Content-Length` beside
//! `Transfer-Encoding`, a length that is not digits) is refused, as RFC 9112
//! §6.3 asks: a proxy in front could otherwise take the rest of the bytes
//! for another request than this server does (request smuggling).

use super::{HttpRequest, ReadError};

/// The head's length in bytes, the request without its body, and the body's
/// length.
pub(super) type Head = (usize, HttpRequest, u64);

/// Parses a complete head at the start of `buf`; `None` while it is partial.
pub(super) fn parse_head(buf: &[u8]) -> Result<Option<Head>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::HeadTooLarge),
        Err(e) => {
            return Err(ReadError::Malformed(format!(
                "not an HTTP/1.1 request: {e}"
            )))
        }
    };
    let http10 = parsed.version == Some(0);
    let mut keep_alive = !http10;
    let mut length = BodyLength::default();
    let mut out_headers = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).trim().to_owned();
        match name.as_str() {
            "content-length" => length.content_length(&value)?,
            "transfer-encoding" => length.transfer_encoding(&value),
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            _ => {}
        }
        out_headers.push((name, value));
    }
    let content_length = length.resolve()?;
    let target = parsed.path.unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let req = HttpRequest {
        method: parsed.method.unwrap_or("").to_owned(),
        path,
        headers: out_headers,
        body: Vec::new(),
        keep_alive,
        http10,
        arrived: None,
    };
    Ok(Some((head_len, req, content_length)))
}

/// What the headers say about the body's length, gathered over all of them.
#[derive(Debug, Default)]
struct BodyLength {
    /// The one `Content-Length` every value agreed on.
    length: Option<u64>,
    /// Every `Transfer-Encoding` value, comma-joined.
    codings: Option<String>,
}

/// A header value shown in an error, cut short.
fn shown(value: &str) -> String {
    value.chars().take(40).collect()
}

impl BodyLength {
    /// One `Content-Length` header: a number, or a list of equal numbers.
    fn content_length(&mut self, value: &str) -> Result<(), ReadError> {
        for part in value.split(',').map(str::trim) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReadError::Malformed(format!(
                    "invalid Content-Length '{}': it must be a number of bytes (digits only)",
                    shown(value)
                )));
            }
            let n: u64 = part.parse().map_err(|_| {
                ReadError::Malformed(format!("Content-Length '{}' is too large", shown(value)))
            })?;
            match self.length {
                Some(m) if m != n => {
                    return Err(ReadError::Malformed(format!(
                        "conflicting Content-Length headers ({m} and {n}): a request has one body length"
                    )))
                }
                _ => self.length = Some(n),
            }
        }
        Ok(())
    }

    /// One `Transfer-Encoding` header.
    fn transfer_encoding(&mut self, value: &str) {
        let all = self.codings.get_or_insert_with(String::new);
        if !all.is_empty() {
            all.push(',');
        }
        all.push_str(value);
    }

    /// The body's length: `Content-Length`, or 0 without one; a
    /// `Transfer-Encoding` is refused (chunked request bodies are not read,
    /// and with any other last coding the length cannot be known).
    fn resolve(self) -> Result<u64, ReadError> {
        let Some(codings) = self.codings else {
            return Ok(self.length.unwrap_or(0));
        };
        if self.length.is_some() {
            return Err(ReadError::Malformed(
                "Content-Length together with Transfer-Encoding: send one of them, not both (RFC 9112 section 6.3)".into(),
            ));
        }
        let last = codings.rsplit(',').next().unwrap_or("").trim();
        if last.eq_ignore_ascii_case("chunked") {
            return Err(ReadError::LengthRequired);
        }
        Err(ReadError::Malformed(format!(
            "Transfer-Encoding '{}' does not end with chunked: the body's length cannot be known",
            shown(&codings)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_head_and_detects_partial() {
        let raw = b"POST /v1/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
        assert!(parse_head(&raw[..20]).unwrap().is_none());
        let (n, req, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!(&raw[n..], b"abc");
        assert_eq!(len, 3);
        assert_eq!(req.path, "/v1/x");
        assert_eq!(req.header("host"), Some("a"));
        assert!(req.keep_alive);
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ReadError::LengthRequired)
        ));
        assert!(matches!(
            parse_head(b"\x00\x01 nonsense\r\n\r\n"),
            Err(ReadError::Malformed(_))
        ));
    }

    fn length(headers: &str) -> Result<u64, String> {
        let raw = format!("POST / HTTP/1.1\r\nHost: a\r\n{headers}\r\n");
        match parse_head(raw.as_bytes()) {
            Ok(Some((_, _, n))) => Ok(n),
            Ok(None) => panic!("partial: {raw}"),
            Err(ReadError::Malformed(m)) => Err(m),
            Err(e) => Err(format!("{e:?}")),
        }
    }

    #[test]
    fn one_body_length_or_none() {
        assert_eq!(length(""), Ok(0));
        assert_eq!(length("Content-Length: 7\r\n"), Ok(7));
        // The same length twice is one length.
        assert_eq!(length("Content-Length: 7\r\nContent-Length: 7\r\n"), Ok(7));
        assert_eq!(length("Content-Length: 7, 7\r\n"), Ok(7));
        let conflict = length("Content-Length: 0\r\nContent-Length: 30\r\n").unwrap_err();
        assert!(
            conflict.contains("conflicting Content-Length headers (0 and 30)"),
            "{conflict}"
        );
        assert!(length("Content-Length: 30, 0\r\n").is_err());
        for bad in [
            "+5",
            "-1",
            "0x10",
            "5a",
            "",
            "5 5",
            "99999999999999999999999",
        ] {
            let e = length(&format!("Content-Length: {bad}\r\n")).unwrap_err();
            assert!(e.contains("Content-Length"), "{bad}: {e}");
        }
        let both = length("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n").unwrap_err();
        assert!(both.contains("together with Transfer-Encoding"), "{both}");
        assert!(length("Transfer-Encoding: gzip\r\nContent-Length: 4\r\n").is_err());
        let gzip = length("Transfer-Encoding: gzip\r\n").unwrap_err();
        assert!(gzip.contains("cannot be known"), "{gzip}");
        assert_eq!(
            length("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
            Err("LengthRequired".into())
        );
    }
}

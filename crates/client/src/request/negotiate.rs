//! Which HTTP a run speaks. `--h2c` says HTTP/2 outright. For an
//! `https://` target it is decided once, before the run, on one untimed
//! probe connection offering `h2` and `http/1.1` by ALPN: when the server
//! picks `h2`, the run's requests go as HTTP/2 over TLS on one shared
//! connection; otherwise (`http/1.1`, no ALPN, or no answer at all) nothing
//! changes and the HTTP/1.1 transport, with its per-connection timelines
//! and arrival stamps, carries them (`--http1` forces it). The probe uses
//! the untimed calls' TLS session cache, so the measured connections still
//! start cold and resume nothing.

use super::h2::H2Endpoint;
use super::{h2c_client, http_client_with, HttpClient, Shared, Target};
use crate::transport::tls::with_alpn;
use std::sync::Arc;
use std::time::Duration;

/// The HTTP version a client's requests to the target speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1, through tokenpace's own transport.
    Http1,
    /// HTTP/2 through the h2 crate (`--h2c`, or `h2` picked by ALPN).
    Http2,
}

impl HttpVersion {
    /// As run settings record it: `1.1` or `2`.
    pub fn label(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "1.1",
            HttpVersion::Http2 => "2",
        }
    }
}

/// How a client speaks HTTP/2: in the clear to every `http://` URL
/// (`--h2c`), or over TLS to the one origin that picked `h2`.
#[derive(Debug, Clone)]
pub(super) struct H2Use {
    /// The `https://` origin and the timed and untimed TLS configurations
    /// (ALPN `h2`); `None` for `--h2c`.
    tls: Option<(String, Arc<rustls::ClientConfig>, Arc<rustls::ClientConfig>)>,
    /// The requests' endpoints.
    timed: Shared<H2Endpoint>,
    /// The untimed calls' endpoints: connections of their own, so the
    /// load's start cold.
    untimed: Shared<H2Endpoint>,
}

impl H2Use {
    /// HTTP/2 with prior knowledge (`--h2c`).
    pub(super) fn cleartext() -> H2Use {
        H2Use {
            tls: None,
            timed: Arc::default(),
            untimed: Arc::default(),
        }
    }
}

impl HttpClient {
    /// The HTTP/2 endpoint of `url` (a timed request's or an untimed
    /// call's), when HTTP/2 is spoken to its origin.
    pub(super) fn h2_endpoint(&self, url: &str, timed: bool) -> Option<Arc<H2Endpoint>> {
        let h2 = self.h2.as_ref()?;
        // One connection per server, whatever the path.
        let origin = crate::url::origin(url);
        let tls = match &h2.tls {
            None => None,
            Some((o, t, u)) if o == origin => Some(Arc::clone(if timed { t } else { u })),
            Some(_) => return None,
        };
        let mut map = if timed { &h2.timed } else { &h2.untimed }.lock().ok()?;
        if let Some(e) = map.get(origin) {
            return Some(Arc::clone(e));
        }
        let e = Arc::new(H2Endpoint::of(origin, self.connect_timeout, tls)?);
        map.insert(origin.to_string(), Arc::clone(&e));
        Some(e)
    }

    /// Whether every `http://` request goes as HTTP/2 (`--h2c`).
    pub(super) fn is_h2c(&self) -> bool {
        self.h2.as_ref().is_some_and(|h| h.tls.is_none())
    }

    /// The HTTP version the target's requests speak.
    pub fn http_version(&self) -> HttpVersion {
        match self.h2 {
            Some(_) => HttpVersion::Http2,
            None => HttpVersion::Http1,
        }
    }

    /// Whether the server at `origin` (`https://`) picks `h2` when offered
    /// `h2` and `http/1.1`, on one untimed connection (no answer: no).
    async fn picks_h2(&self, origin: &str) -> bool {
        let probe = with_alpn(&self.untimed_tls, &[b"h2", b"http/1.1"]);
        let Some(e) = H2Endpoint::of(origin, self.connect_timeout, Some(probe)) else {
            return false;
        };
        e.alpn().await.is_some_and(|p| p == b"h2")
    }

    /// This client with the requests to `origin` as HTTP/2 over TLS.
    fn over_h2(mut self, origin: &str) -> HttpClient {
        self.h2 = Some(H2Use {
            tls: Some((
                origin.to_string(),
                with_alpn(&self.tls, &[b"h2"]),
                with_alpn(&self.untimed_tls, &[b"h2"]),
            )),
            timed: Arc::default(),
            untimed: Arc::default(),
        });
        self
    }
}

/// The client for `target`'s run, with up to `max_connections`: HTTP/2
/// with `--h2c`; for an `https://` target without `--http1`, HTTP/2 over
/// TLS when the server picks `h2` by ALPN on an untimed probe connection
/// (see the module's doc); otherwise HTTP/1.1.
pub async fn client_for(
    target: &Target,
    connect_timeout: Duration,
    max_connections: usize,
) -> anyhow::Result<HttpClient> {
    if target.h2c {
        return h2c_client(connect_timeout, max_connections);
    }
    let client = http_client_with(connect_timeout, max_connections, &target.tls)?;
    let origin = crate::url::origin(&target.base_url);
    if target.tls.http1 || !origin.starts_with("https://") {
        return Ok(client);
    }
    Ok(match client.picks_h2(origin).await {
        true => client.over_h2(origin),
        false => client,
    })
}

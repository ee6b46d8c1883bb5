//! Synthetic runs for the integration tests.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod mask;
pub mod proxy;
pub mod sim_process;

use std::path::Path;
use tokenpace_core::record::{Chunk, CountSource, RequestRecord, TokenCount};
use tokenpace_core::summary::{Environment, RunSettings, RunSummary};

const MS: u64 = 1_000_000;

/// A successful streamed request sent at 0: first token at `ttft_ms`, then
/// one token every `gap_ms` until `tokens` tokens, `chars` characters each;
/// `prompt` prompt tokens as the server reported them, if any.
pub fn stream(
    id: u64,
    ttft_ms: u64,
    tokens: u32,
    gap_ms: u64,
    chars: u32,
    prompt: Option<u32>,
) -> RequestRecord {
    let mut r = RequestRecord::new(id, 0, 0);
    for k in 0..u64::from(tokens) {
        r.chunks.push(Chunk {
            at_ns: (ttft_ms + gap_ms * k) * MS,
            tokens: 1,
            chars,
        });
    }
    r.output_chars = chars * tokens;
    r.output_tokens = Some(TokenCount {
        count: tokens,
        source: CountSource::ServerUsage,
    });
    r.prompt_tokens = prompt.map(|count| TokenCount {
        count,
        source: CountSource::ServerUsage,
    });
    r.end_ns = Some((ttft_ms + gap_ms * u64::from(tokens)) * MS);
    r
}

/// Summarises `records` into `dir/run.json`, as `bench --out` does.
pub fn write_run(dir: &Path, records: &[RequestRecord], settings: RunSettings) {
    let summary = RunSummary::from_records(records, settings, Environment::default());
    std::fs::write(
        dir.join("run.json"),
        serde_json::to_string(&summary).unwrap(),
    )
    .unwrap();
}

/// A GGUF v3 header with string metadata and no tensors.
pub fn gguf_bytes(kv: &[(&str, &str)]) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend((kv.len() as u64).to_le_bytes());
    for (k, v) in kv {
        b.extend((k.len() as u64).to_le_bytes());
        b.extend(k.as_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend((v.len() as u64).to_le_bytes());
        b.extend(v.as_bytes());
    }
    b
}

/// The simulator on its own runtime, on 127.0.0.1 and a free port.
pub struct Sim {
    runtime: tokio::runtime::Runtime,
    handle: Option<tokenpace_sim::SimHandle>,
}

impl Sim {
    /// Starts `config` (its port is replaced by a free one).
    pub fn start(mut config: tokenpace_sim::config::SimConfig) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        config.host = "127.0.0.1".into();
        config.port = 0;
        let handle = runtime
            .block_on(tokenpace_sim::SimServer::start(config))
            .unwrap();
        Sim {
            runtime,
            handle: Some(handle),
        }
    }

    /// The base URL.
    pub fn url(&self) -> String {
        self.handle.as_ref().unwrap().url()
    }

    /// Stops the server.
    pub fn stop(mut self) {
        let handle = self.handle.take().unwrap();
        self.runtime.block_on(handle.shutdown()).unwrap();
    }
}

/// Runs a tokenpace command line in-process: its status and output.
pub fn tokenpace(args: &[&str]) -> anyhow::Result<(tokenpace::Status, String)> {
    use clap::Parser;
    let cli = tokenpace::cli::Cli::try_parse_from(
        std::iter::once("tokenpace").chain(args.iter().copied()),
    )?;
    let mut out = Vec::new();
    let status = tokenpace::run(cli, &mut out)?;
    Ok((status, String::from_utf8(out)?))
}

/// Panics unless `json` (a command's output) validates against
/// `schemas/NAME.schema.json`.
pub fn assert_valid(name: &str, json: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The schema files are draft 2020-12 (they carry no `$schema` URL).
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let instance: serde_json::Value = serde_json::from_str(json).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} output does not match {}:\n{}",
        path.display(),
        errors.join("\n")
    );
}

/// Runs a command line that must succeed; its output.
pub fn ok(args: &[&str]) -> String {
    match tokenpace(args) {
        Ok((tokenpace::Status::Ok, out)) => out,
        Ok((status, out)) => panic!("{args:?} ended {status:?}:\n{out}"),
        Err(e) => panic!("{args:?}: {e:#}"),
    }
}

/// Tests that measure time run one at a time, so they do not steal each
/// other's CPU on a small machine.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fast simulator whose every graded metric is far inside tier A: 30 ms
/// fixed TTFT, prefill 20000 tok/s, decode 250 tok/s, English text.
pub fn fast_sim() -> tokenpace_sim::config::SimConfig {
    let mut config = tokenpace_sim::config::SimConfig::default();
    config.timing.ttft_ms = 30.0;
    config.timing.prefill = 20_000.0;
    config.timing.decode = 250.0;
    config.text.lang = tokenpace_corpus::TextLang::En;
    config
}

/// The README's grading example: TTFT 1.8 s, prefill 1200, decode 28,
/// 24 chars/s (A, A, B, fail).
pub const GRADE_EXAMPLE: &[&str] = &[
    "grade",
    "--ttft",
    "1.8",
    "--prefill",
    "1200",
    "--decode",
    "28",
    "--chars-per-s",
    "24",
];

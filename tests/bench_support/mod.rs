//! What the `bench` integration tests share: one test at a time, a
//! simulator with the tests' timing and fault settings, running `bench`
//! in-process, and reading records and the simulator's truth.
#![allow(dead_code)]

use clap::Parser;
use std::collections::HashMap;
use std::path::Path;
use tokenpace::cli::Cli;
use tokenpace_core::record::RequestRecord;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::truth::RequestTruth;
use tokenpace_sim::{SimHandle, SimServer};

/// The tests here measure time; run them one at a time so they do not steal
/// each other's CPU on a small machine.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A simulator on its own runtime (the bench command runs its own).
pub struct Sim {
    runtime: tokio::runtime::Runtime,
    handle: Option<SimHandle>,
}

impl Sim {
    pub fn start(mut config: SimConfig) -> Sim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        config.port = 0;
        config.text.lang = tokenpace_corpus::Lang::Zh;
        config.timing.ttft_ms = 30.0;
        config.timing.decode = 200.0;
        config.faults.stall_ms = 300.0;
        config.faults.trickle_ms = 0.2;
        let handle = runtime.block_on(SimServer::start(config)).unwrap();
        Sim {
            runtime,
            handle: Some(handle),
        }
    }

    pub fn url(&self) -> String {
        self.handle.as_ref().unwrap().url()
    }

    /// Stops the server, flushing the truth file.
    pub fn stop(mut self) {
        let handle = self.handle.take().unwrap();
        self.runtime.block_on(handle.shutdown()).unwrap();
    }
}

pub fn bench(args: &[&str]) -> anyhow::Result<(tokenpace::Status, String)> {
    let cli = Cli::try_parse_from(["tokenpace", "bench"].iter().chain(args.iter()).copied())?;
    let mut out = Vec::new();
    let status = tokenpace::run(cli, &mut out)?;
    Ok((status, String::from_utf8(out)?))
}

pub fn records(dir: &Path) -> Vec<RequestRecord> {
    std::fs::read_to_string(dir.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn truth(path: &Path) -> HashMap<String, RequestTruth> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"request\""))
        .map(|l| {
            let t: RequestTruth = serde_json::from_str(l).unwrap();
            (t.id.clone(), t)
        })
        .collect()
}

//! Every integration test of the workspace's binary in one test binary, one
//! module per subject (as ripgrep's `tests/tests.rs`): each test binary
//! links the whole tool and llama.cpp, so 32 of them cost minutes of
//! linking and gigabytes of disk in CI. Tests that measure time hold
//! [`common::serial`], one lock for the whole binary, so they never share
//! the CPU with one another.

mod bench_support;
mod common;
mod doc_examples;
mod plan_support;
mod trace_support;

mod architecture;
mod backends;
mod bench;
mod bench_runs;
mod cancel;
mod capacity;
mod ceiling;
mod cli;
mod cli_conveniences;
mod conversation_views;
mod dialects;
mod docs;
mod engine;
mod goodput;
mod hostile;
mod http_versions;
mod imports;
mod library_wording;
mod model_mix;
mod plan_bounds;
mod plan_calibrate;
mod plan_capacity;
mod plan_errors;
mod plan_formats;
mod plan_ratio;
mod plan_remedies;
mod precision;
mod prompts;
mod protocols;
mod provider_dialects;
mod repeats;
mod report;
mod report_browser;
mod request_ids;
mod schemas;
mod server_metrics;
mod sessions;
mod shards;
mod shards_start_at;
mod sim_tools;
mod snapshot_bench;
mod snapshot_runs;
mod throttle;
mod trace;
mod until_precise;

//! `bench --server-metrics` against the simulator: the server's histogram
//! means over the run equal its ground truth, and split the client's TTFT.

use clap::Parser;
use tokenpace::cli::Cli;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::truth::RequestTruth;
use tokenpace_sim::SimServer;

fn bench(args: &[&str]) -> String {
    let argv = ["tokenpace", "bench"].iter().chain(args).copied();
    let mut out = Vec::new();
    tokenpace::run(Cli::try_parse_from(argv).unwrap(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_clients_ttft_splits_into_network_queue_and_prefill() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        port: 0,
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 30.0;
    config.timing.decode = 200.0;
    // Half the streams wait for a batch slot: a real queue.
    config.timing.max_batch = 2;
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let url = sim.url();
    let common = ["--concurrency", "4", "--requests", "8", "--max-tokens", "8"];
    let json = bench(
        &[
            &[url.as_str()][..],
            &common,
            &["--server-metrics", "--format", "json"],
        ]
        .concat(),
    );
    // A metrics URL that answers nothing is a warning, not a failed run.
    let table = bench(
        &[
            &[url.as_str()][..],
            &common,
            &[
                "--server-metrics",
                "http://127.0.0.1:9/metrics",
                "--lang",
                "en",
            ],
        ]
        .concat(),
    );
    runtime.block_on(sim.shutdown()).unwrap();
    assert!(table.contains("8 sent, 8 ok") && !table.contains("TTFT, client against"));

    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let d = &v["server_metrics"];
    assert_eq!(d["client_requests"], 8);
    let f = |k: &str| d[k]["mean_s"].as_f64().unwrap();
    assert_eq!(d["server_ttft"]["count"], 8.0);
    // The means equal the truth of the first run's 8 requests.
    let truth: Vec<RequestTruth> = std::fs::read_to_string(&truth_path)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"request\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .take(8)
        .collect();
    let mean = |g: &dyn Fn(&RequestTruth) -> u64| {
        truth.iter().map(|t| g(t) as f64 / 1e9).sum::<f64>() / truth.len() as f64
    };
    let queue = mean(&|t| t.admitted_ns.unwrap() - t.received_ns);
    assert!(queue > 0.01, "the queue was real: {queue}");
    assert!(
        (f("queue") - queue).abs() < 1e-6,
        "{} vs {queue}",
        f("queue")
    );
    let first = |t: &RequestTruth| {
        t.chunks
            .iter()
            .find(|c| c.kind == "content")
            .unwrap()
            .written_ns
    };
    let prefill = mean(&|t| first(t) - t.admitted_ns.unwrap());
    // The histogram stamps just after the write the truth stamps.
    assert!(
        (f("prefill") - prefill).abs() < 1e-3,
        "{} vs {prefill}",
        f("prefill")
    );
    // Parts add up: client = network + queue + prefill + other.
    let client = d["client_ttft_s"].as_f64().unwrap();
    let network = d["network_s"].as_f64().unwrap();
    let other = d["other_s"].as_f64().unwrap();
    assert!((client - (network + f("queue") + f("prefill") + other)).abs() < 1e-9);
    // Loopback; the server stamps after its write, so a hair below 0 is possible.
    assert!((-0.001..0.005).contains(&network), "loopback: {network}");
    assert!(other.abs() < 0.001, "{other}");
}

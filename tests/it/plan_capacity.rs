//! `plan capacity` against the simulator's own timing model: for a law the
//! simulator implements (`tokenpace sim --batch-slowdown`), the predicted
//! tier-A capacity is the largest concurrency at which the simulator's
//! `TimingModel` gives every graded metric tier A.

use crate::common;

use crate::plan_support::*;
use tokenpace_core::grade::Tier;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_corpus::SplitMix64;
use tokenpace_sim::config::TimingConfig;
use tokenpace_sim::timing::TimingModel;

/// The largest concurrency whose metrics, as the simulator times them, are
/// all in tier A (scanning every level).
fn simulated_capacity(cfg: &TimingConfig, prompt: u64, chars_per_token: f64) -> u64 {
    let model = TimingModel::new(cfg.clone());
    let profile = Profile::builtin();
    let mut rng = SplitMix64::new(1);
    let ttft = model.ttft(prompt, &mut rng).as_secs_f64();
    let mut last = 0;
    for c in 1..=cfg.max_batch {
        let decode = model.decode_rate(c);
        let values = [
            (Metric::PrefillTokS, prompt as f64 / ttft),
            (Metric::DecodeTokS, decode),
            (Metric::TtftS, ttft),
            (Metric::OutputCharsS, decode * chars_per_token),
        ];
        if profile.grade_values(&values).unwrap().any_below(Tier::A) {
            break;
        }
        last = c as u64;
    }
    last
}

#[test]
fn the_predicted_capacity_is_the_simulators() {
    let cases = [
        (300.0, 0.95, 20.0, 20_000.0, 256, 200),
        (50.0, 0.0, 200.0, 5000.0, 256, 1000),
        (120.0, 0.05, 200.0, 5000.0, 256, 1000),
        (120.0, 0.05, 200.0, 5000.0, 16, 1000),
        (1000.0, 0.01, 50.0, 2000.0, 512, 3000),
        (20.0, 0.1, 200.0, 5000.0, 256, 1000),
    ];
    for (decode, k, ttft_ms, prefill, max_batch, prompt) in cases {
        let cfg = TimingConfig {
            decode,
            batch_slowdown: k,
            ttft_ms,
            prefill,
            max_batch,
            ttft_jitter_ms: 0.0,
            ..TimingConfig::default()
        };
        let v = json(&[
            "plan",
            "capacity",
            "--decode",
            &decode.to_string(),
            "--batch-slowdown",
            &k.to_string(),
            "--ttft-ms",
            &ttft_ms.to_string(),
            "--prefill",
            &prefill.to_string(),
            "--max-batch",
            &max_batch.to_string(),
            "--prompt-tokens",
            &prompt.to_string(),
            "--chars-per-token",
            "1.5",
            "--format",
            "json",
        ]);
        let predicted = v["capacity"]["tier_a_max_concurrency"].as_u64().unwrap();
        let simulated = simulated_capacity(&cfg, prompt, 1.5);
        assert_eq!(
            predicted, simulated,
            "decode {decode}, k {k}, batch {max_batch}: {v}"
        );
    }
}

#[test]
fn capacity_json_validates_and_names_its_limit() {
    let v = run(&[
        "plan",
        "capacity",
        "--model",
        "qwen2.5-7b",
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    common::assert_valid("plan-capacity", &v);
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert!(
        v["capacity"]["tier_a_max_concurrency"].as_u64().unwrap() > 1,
        "{v}"
    );
    assert!(
        v["capacity"]["limit"].is_object() || v["capacity"]["limit"].is_string(),
        "{v}"
    );
    // A device too slow for one stream in tier A says 0 and why.
    let slow = json(&["plan", "capacity", "--decode", "10", "--format", "json"]);
    assert_eq!(slow["capacity"]["tier_a_max_concurrency"], 0);
    assert_eq!(slow["capacity"]["limit"]["metric"], "decode_tok_s");
}

/// The roofline's capacity of the embedded engine on the CI machine's Xeon
/// host, calibrated on its 1- and 2-stream runs, is within one doubling of
/// what `tokenpace capacity` measured there (recorded in
/// tests/data/engine-runs/xeon/capacity; docs/plan.md has the commands).
#[test]
fn the_engines_predicted_capacity_is_within_one_doubling_of_the_measured() {
    let root = env!("CARGO_MANIFEST_DIR");
    let data = format!("{root}/tests/data/engine-runs/xeon");
    let catalog = format!("{root}/docs/examples/catalog-ci-machine.toml");
    let profile = format!("{root}/docs/examples/profile-felt.toml");
    let dir = TempDir::new("capacity-engine");
    let saved = dir.path().join("cpu-xeon.toml");
    let deployment = [
        "--model",
        "smollm2-135m",
        "--hardware",
        "ci-xeon-2vcpu",
        "--catalog",
        &catalog,
        "--quant",
        "int4",
    ];
    let (one, two) = (format!("{data}/p256-c1"), format!("{data}/p128-c2"));
    let saved_arg = saved.to_str().unwrap();
    run(&[
        &["plan", "calibrate", &one, &two],
        &deployment[..],
        &["--save", saved_arg],
    ]
    .concat());
    let predicted = json(
        &[
            &["plan", "capacity"],
            &deployment[..],
            &[
                "--efficiency",
                saved_arg,
                "--prompt-tokens",
                "128",
                "--output-tokens",
                "128",
            ],
            &["--text", "en", "--profile", &profile, "--format", "json"],
        ]
        .concat(),
    )["capacity"]["tier_a_max_concurrency"]
        .as_u64()
        .unwrap();
    let text = std::fs::read_to_string(format!("{data}/capacity/capacity.json")).unwrap();
    let measured: serde_json::Value = serde_json::from_str(&text).unwrap();
    let measured = measured["tier_a_max_concurrency"].as_u64().unwrap();
    assert!(
        predicted >= 1 && predicted * 2 >= measured && predicted <= measured * 2,
        "predicted {predicted}, measured {measured}"
    );
}

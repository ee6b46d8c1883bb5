//! Repeated runs and their intervals, and the steady-state window, checked
//! against the simulator's timing model and truth.
//!
//! The interval test is statistical: a 95 % interval of the mean must
//! cover the simulator's true mean TTFT in at least 18 of 20 seeded
//! trials. It can fail: the same trials with a too-narrow interval (the
//! normal quantile instead of Student's t, or s/n instead of s/√n) are
//! shown to cover less, over enough trials to tell them apart.

use crate::common::{serial, tokenpace, Sim};
use serde_json::Value;
use tokenpace_core::confidence::{t_quantile, Interval};
use tokenpace_corpus::SplitMix64;
use tokenpace_sim::config::{JitterDist, SimConfig, TimingConfig};
use tokenpace_sim::timing::TimingModel;

/// TTFT 10 ms plus exponential jitter of scale 40 ms: a skewed
/// distribution with mean 50 ms, as a server's queueing makes.
fn jittered() -> TimingConfig {
    TimingConfig {
        ttft_ms: 10.0,
        ttft_jitter_ms: 40.0,
        jitter_dist: JitterDist::Exponential,
        prefill: 1e9,
        decode: 1000.0,
        ..TimingConfig::default()
    }
}

/// The true mean TTFT of [`jittered`], seconds: fixed part plus the
/// exponential's mean (its scale); prefill at 1e9 tok/s adds nothing
/// measurable.
const TRUE_TTFT_S: f64 = 0.050;

const REPEATS: usize = 5;
const PER_REPEAT: usize = 8;

/// One trial drawn from the simulator's timing model: `REPEATS` repeats
/// of `PER_REPEAT` requests, each repeat's mean TTFT.
fn repeat_means(model: &TimingModel, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..REPEATS)
        .map(|_| {
            let sum: f64 = (0..PER_REPEAT)
                .map(|_| model.ttft(0, &mut rng).as_secs_f64())
                .sum();
            sum / PER_REPEAT as f64
        })
        .collect()
}

/// Share of `trials` seeded trials whose interval (made by `interval`
/// from the repeat means) covers the true mean.
fn coverage(trials: u64, interval: impl Fn(&[f64]) -> (f64, f64)) -> f64 {
    let model = TimingModel::new(jittered());
    let covered = (0..trials)
        .filter(|&seed| {
            let (lo, hi) = interval(&repeat_means(&model, seed));
            lo <= TRUE_TTFT_S && TRUE_TTFT_S <= hi
        })
        .count();
    covered as f64 / trials as f64
}

fn ours(v: &[f64]) -> (f64, f64) {
    let i = Interval::of(v).unwrap();
    (i.low, i.high)
}

/// An interval built wrongly: mean ± q · s / d(n).
fn wrong(v: &[f64], q: f64, d: fn(f64) -> f64) -> (f64, f64) {
    let i = Interval::of(v).unwrap();
    let half = q * i.stddev / d(v.len() as f64);
    (i.mean - half, i.mean + half)
}

#[test]
fn the_interval_covers_the_models_true_mean_and_a_narrow_one_does_not() {
    // The criterion, on 20 seeded trials.
    assert!(coverage(20, ours) >= 0.9, "{}", coverage(20, ours));
    // Over 4000 trials the coverage is pinned near 95 % …
    let t = coverage(4000, ours);
    assert!((0.93..=0.97).contains(&t), "Student's t covers {t}");
    // … while z = 1.96 covers about 88 % and s/n about 72 %.
    let z = coverage(4000, |v| wrong(v, 1.96, f64::sqrt));
    assert!(z < 0.92, "z covers {z}");
    let by_n = coverage(4000, |v| wrong(v, t_quantile(0.975, 4.0), |n| n));
    assert!(by_n < 0.85, "s/n covers {by_n}");
    eprintln!(
        "coverage over 4000 trials: t {t}, z {z}, s/n {by_n}; over 20: {}",
        coverage(20, ours)
    );
    assert!(coverage(20, |v| wrong(v, t_quantile(0.975, 4.0), |n| n)) < 0.9);
}

fn json(args: &[&str]) -> Value {
    match tokenpace(args) {
        Ok((_, out)) => serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}")),
        Err(e) => panic!("{args:?}: {e:#}"),
    }
}

#[test]
fn bench_repeat_5_intervals_cover_the_simulators_true_mean() {
    let _guard = serial();
    // The simulator's draws follow its seed; with this one no trial's
    // interval ended within 2 ms of the true mean in our runs, so the client's
    // measuring noise (about 1 ms between runs) is unlikely to flip one.
    let config = SimConfig {
        timing: jittered(),
        seed: 1,
        ..SimConfig::default()
    };
    let sim = Sim::start(config);
    let url = sim.url();
    let dir = tempfile::tempdir().unwrap();
    let (mut covered, mut margins, mut narrow) = (0, Vec::new(), 0);
    for trial in 0..20u64 {
        let out = dir.path().join(format!("t{trial}"));
        let v = json(&[
            "bench",
            &url,
            "--model",
            "m",
            "--concurrency",
            "8",
            "--requests",
            &PER_REPEAT.to_string(),
            "--repeat",
            &REPEATS.to_string(),
            "--max-tokens",
            "2",
            "--prompt-tokens",
            "16",
            "--seed",
            &trial.to_string(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let r = &v["summary"]["repeats"];
        assert_eq!(r["runs"].as_array().unwrap().len(), REPEATS, "{r}");
        let i = &r["means"]["ttft_s"];
        let (lo, hi) = (i["low"].as_f64().unwrap(), i["high"].as_f64().unwrap());
        if lo <= TRUE_TTFT_S && TRUE_TTFT_S <= hi {
            covered += 1;
        }
        margins.push((TRUE_TTFT_S - lo).min(hi - TRUE_TTFT_S));
        // The same repeats with s/n instead of s/√n, for the log: 20
        // trials are too few to tell it apart reliably (the model test
        // above, over 4000, does).
        let means: Vec<f64> = r["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|run| run["metrics"]["ttft_s"]["mean"].as_f64().unwrap())
            .collect();
        let (lo, hi) = wrong(&means, t_quantile(0.975, 4.0), |n| n);
        if lo <= TRUE_TTFT_S && TRUE_TTFT_S <= hi {
            narrow += 1;
        }
        if trial == 0 {
            // Every raw record is kept, tagged with its repeat, ids unique.
            let text = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
            let records: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(records.len(), REPEATS * PER_REPEAT);
            let mut ids: Vec<u64> = records.iter().map(|r| r["id"].as_u64().unwrap()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), records.len());
            for k in 0..REPEATS as u64 {
                let n = records.iter().filter(|r| r["repeat"] == k).count();
                assert_eq!(n, PER_REPEAT, "repeat {k}");
            }
            // `report` and `compare` read the run back, with its repeats.
            let html = dir.path().join("r.html");
            json(&[
                "report",
                out.to_str().unwrap(),
                "--html",
                html.to_str().unwrap(),
                "--format",
                "json",
            ]);
            let page = std::fs::read_to_string(&html).unwrap();
            assert!(page.contains("The run second by second"));
            assert!(
                page.contains("5 repeats: mean ± 95 % interval"),
                "no repeats table"
            );
            let (_, text) =
                tokenpace(&["compare", out.to_str().unwrap(), out.to_str().unwrap()]).unwrap();
            assert!(text.contains("Welch"), "{text}");
        }
    }
    sim.stop();
    eprintln!("bench --repeat 5: the interval covered the true mean in {covered} of 20 trials (s/n: {narrow}); margins (s) {margins:.4?}");
    assert!(
        covered >= 18,
        "covered the true mean in {covered} of 20 trials"
    );
}

#[test]
fn a_slow_ramp_is_apart_from_the_steady_state() {
    let _guard = serial();
    // Each stream alone decodes 100 tok/s; with b streams 100 / b.
    let config = SimConfig {
        timing: TimingConfig {
            ttft_ms: 20.0,
            prefill: 1e9,
            decode: 100.0,
            batch_slowdown: 1.0,
            ..TimingConfig::default()
        },
        ..SimConfig::default()
    };
    let sim = Sim::start(config.clone());
    let v = json(&[
        "bench",
        &sim.url(),
        "--model",
        "m",
        "--concurrency",
        "4",
        "--ramp-up",
        "2",
        "--requests",
        "28",
        "--max-tokens",
        "12",
        "--prompt-tokens",
        "16",
        "--format",
        "json",
    ]);
    sim.stop();
    let s = &v["summary"]["steady_state"];
    assert_eq!(s["threshold"], 4, "{s}");
    let w = &s["windows"][0];
    // The fourth stream starts 1.5 s in (streams start at i · 2 s / 4).
    let start = w["start_s"].as_f64().unwrap();
    assert!((1.45..1.7).contains(&start), "{w}");
    let decode = |phase: &str| {
        s[phase]["metrics"]["decode_tok_s"]["mean"]
            .as_f64()
            .unwrap()
    };
    let sent = |phase: &str| s[phase]["counts"]["sent"].as_u64().unwrap();
    assert_eq!(sent("ramp_up") + sent("steady") + sent("drain"), 28, "{s}");
    assert!(sent("steady") >= 8, "{s}");
    // The truth in steady state: 4 streams at 100 / 4 tok/s each.
    let truth = config.timing.decode / (1.0 + config.timing.batch_slowdown * 3.0);
    let steady = decode("steady");
    eprintln!(
        "decode tok/s: ramp-up {:.1}, steady {steady:.1} (truth {truth}), drain {:.1}; requests {}/{}/{}",
        decode("ramp_up"),
        decode("drain"),
        sent("ramp_up"),
        sent("steady"),
        sent("drain")
    );
    assert!(
        (steady - truth).abs() / truth < 0.08,
        "steady {steady} vs {truth}"
    );
    // Fewer streams during the ramp and the drain: each decoded faster.
    assert!(
        decode("ramp_up") > 1.2 * truth,
        "ramp-up {}",
        decode("ramp_up")
    );
    assert!(decode("drain") > 1.1 * truth, "drain {}", decode("drain"));
    // The whole run's mean mixes the phases.
    let all = v["summary"]["metrics"]["decode_tok_s"]["mean"]
        .as_f64()
        .unwrap();
    assert!(all > steady, "{all} vs {steady}");
    // The timeline shows the ramp: few in flight in the first second,
    // the target in the middle.
    let t = v["summary"]["timeline"].as_array().unwrap();
    let in_flight = |k: usize| t[k]["in_flight"].as_f64().unwrap();
    assert!(in_flight(0) < 2.0 && in_flight(2) > 3.5, "{t:?}");
}

//! The seed's worked examples, with the seed's own figures, and properties
//! of the maths.

use super::*;
use crate::grade::Tier;
use proptest::prelude::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn seed_prefill_examples() {
    // Customer service: 2000 tokens at 1000 tok/s = 2 s; at 500 = 4 s.
    assert_eq!(time_for(2000.0, 1000.0), 2.0);
    assert_eq!(time_for(2000.0, 500.0), 4.0);
    // Office copilot: 8000 tokens at 500 tok/s = 16 s.
    assert_eq!(time_for(8000.0, 500.0), 16.0);
    // Phone: 10 tokens at 200 tok/s = 0.05 s.
    assert!(close(time_for(10.0, 200.0), 0.05, 1e-12));
}

#[test]
fn seed_decode_examples() {
    // Writing assistant: 300 tokens at 30 tok/s = 10 s, at 15 = 20 s.
    assert_eq!(time_for(300.0, 30.0), 10.0);
    assert_eq!(time_for(300.0, 15.0), 20.0);
    // Smart speaker: 150 at 20 = 7.5 s.
    assert_eq!(time_for(150.0, 20.0), 7.5);
    // CPU translation: 400 at 12 ≈ 33 s (the seed rounds to 30).
    assert!(close(time_for(400.0, 12.0), 33.33, 0.01));
}

#[test]
fn seed_ttft_and_reading_examples() {
    // Web chat: 200 ms + 1000 / 1500 ≈ 0.87 s, under 1 s.
    let t = ttft(0.2, 1000.0, 1500.0);
    assert!(close(t, 0.867, 0.001) && t < 1.0);
    // The prefill rate that makes TTFT exactly the target inverts it.
    let p = prefill_for_ttft(1000.0, 2.0, 0.2);
    assert!(close(ttft(0.2, 1000.0, p), 2.0, 1e-12));
    // 30 tok/s × 0.7 = 21 chars/s, which fails 25.
    let cps = chars_per_s(30.0, 0.7);
    assert!(close(cps, 21.0, 1e-12));
    let seed = Profile::builtin();
    let g = seed.metrics[&Metric::OutputCharsS]
        .grade(Metric::OutputCharsS, cps)
        .unwrap();
    assert_eq!(g.pass, Some(false));
    // 25 / 0.7 → 36 tok/s (35.7).
    assert!(close(decode_for(25.0, 0.7), 35.714, 0.001));
    // Long summary: 4000 tokens with TTFT < 2 s → ≥ 2000 tok/s prefill.
    assert_eq!(rate_for(4000.0, 2.0), 2000.0);
}

fn plan(name: &str) -> ScenarioPlan {
    let seed = Profile::builtin();
    preset_named(name)
        .unwrap()
        .spec()
        .resolve(&seed)
        .unwrap()
        .plan(&seed)
}

#[test]
fn long_summary_preset_reproduces_the_seeds_method() {
    let p = plan("long-summary");
    assert_eq!(p.required.prefill_tok_s, 2000.0);
    assert!(close(p.required.decode_tok_s, 25.0 / 0.7, 1e-9));
    assert_eq!(p.required.prefill_tier, Some(Tier::A));
    assert_eq!(p.required.decode_tier, Some(Tier::A));
    // On the seed's hardware (1000 tok/s prefill, 25 tok/s decode) it misses.
    assert_eq!(p.predicted.ttft_s, 4.0);
    assert!(!p.predicted.meets_ttft_target && !p.predicted.meets_chars_target);
    assert!(close(p.predicted.output_chars_s, 17.5, 1e-9));
    assert!(close(p.predicted.total_s, 4.0 + 599.0 / 25.0, 1e-9));
    assert_eq!(p.predicted.grade.overall, Some(Tier::C));
}

#[test]
fn presets_reproduce_the_seeds_figures() {
    assert!(close(plan("web-chat").predicted.ttft_s, 0.8667, 1e-4));
    assert!(close(plan("phone-offline").predicted.ttft_s, 0.05, 1e-12));
    assert_eq!(plan("code-paste").predicted.ttft_s, 5.0);
    assert_eq!(plan("office-copilot").predicted.ttft_s, 16.0);
    assert_eq!(plan("customer-service").required.prefill_tok_s, 1000.0);
    let w = plan("writing-assistant").predicted;
    assert!(close(w.stream_s, 299.0 / 30.0, 1e-12));
    let s = plan("smart-speaker").predicted;
    assert!(close(s.stream_s, 149.0 / 20.0, 1e-12));
    let t = plan("cpu-translation").predicted;
    assert!(close(t.stream_s, 399.0 / 12.0, 1e-12));
    assert_eq!(
        t.grade
            .metrics
            .iter()
            .find(|m| m.metric == Metric::DecodeTokS)
            .unwrap()
            .tier,
        Tier::C
    );
}

#[test]
fn every_preset_resolves() {
    let seed = Profile::builtin();
    for p in PRESETS {
        let plan = p.spec().resolve(&seed).unwrap().plan(&seed);
        assert!(plan.predicted.total_s.is_finite(), "{}", p.name);
    }
    assert!(preset_names().contains("long-summary"));
    assert!(preset_named("nope").is_none());
}

#[test]
fn flags_override_presets() {
    let seed = Profile::builtin();
    let over = ScenarioSpec {
        chars_per_token: Some((1.5, "qwen".into())),
        decode_tok_s: Some(30.0),
        ..Default::default()
    };
    let s = preset_named("long-summary")
        .unwrap()
        .spec()
        .overlay(over)
        .resolve(&seed)
        .unwrap();
    let p = s.plan(&seed);
    assert!(close(p.required.decode_tok_s, 25.0 / 1.5, 1e-12));
    assert!(close(p.predicted.output_chars_s, 45.0, 1e-12));
    assert_eq!(p.scenario.chars_per_token_source, "qwen");
}

#[test]
fn bad_inputs_are_named() {
    let seed = Profile::builtin();
    let base = preset_named("web-chat").unwrap().spec();
    let err = |over: ScenarioSpec| {
        base.clone()
            .overlay(over)
            .resolve(&seed)
            .unwrap_err()
            .to_string()
    };
    let e = err(ScenarioSpec {
        prompt_tokens: Some(0.0),
        ..Default::default()
    });
    assert!(
        e.starts_with(&format!("{} 0 is out of range", Setting::PromptTokens)),
        "{e}"
    );
    let e = err(ScenarioSpec {
        decode_tok_s: Some(f64::NAN),
        ..Default::default()
    });
    assert!(e.starts_with(&format!("{} NaN", Setting::Decode)), "{e}");
    let e = err(ScenarioSpec {
        prefill_tok_s: Some(-5.0),
        ..Default::default()
    });
    assert!(e.starts_with(&format!("{} -5", Setting::Prefill)), "{e}");
    let e = err(ScenarioSpec {
        output_tokens: Some(2.5),
        ..Default::default()
    });
    assert!(e.contains("whole number"), "{e}");
    let e = err(ScenarioSpec {
        rtt_s: Some(3.0),
        ..Default::default()
    });
    assert!(e.contains("uses up the whole TTFT target"), "{e}");
    let e = ScenarioSpec::default()
        .resolve(&seed)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("{} is missing", Setting::PromptTokens)),
        "{e}"
    );
}

#[allow(clippy::too_many_arguments)] // one argument per scenario input reads best here
fn spec(
    p: f64,
    o: f64,
    rtt: f64,
    target: f64,
    cps: f64,
    c: f64,
    pre: f64,
    dec: f64,
) -> ScenarioSpec {
    ScenarioSpec {
        prompt_tokens: Some(p),
        output_tokens: Some(o),
        rtt_s: Some(rtt),
        ttft_target_s: Some(target),
        chars_per_s_target: Some(cps),
        chars_per_token: Some((c, "test".into())),
        prefill_tok_s: Some(pre),
        decode_tok_s: Some(dec),
    }
}

proptest! {
    #[test]
    fn never_panics_or_yields_nan(
        p in prop_oneof![Just(f64::NAN), Just(-1.0), Just(0.0), 1.0f64..1e8, Just(f64::INFINITY)],
        o in prop_oneof![Just(0.0), 1.0f64..1e8],
        rtt in prop_oneof![Just(f64::NAN), -1.0f64..100.0],
        target in prop_oneof![Just(0.0), -1.0f64..5000.0],
        cps in -1.0f64..2e4,
        c in -1.0f64..200.0,
        pre in prop_oneof![Just(0.0), -1.0f64..2e9],
        dec in prop_oneof![Just(f64::NAN), -1.0f64..2e9],
    ) {
        let seed = Profile::builtin();
        if let Ok(s) = spec(p.round(), o.round(), rtt, target, cps, c, pre, dec).resolve(&seed) {
            let plan = s.plan(&seed);
            let pr = &plan.predicted;
            for v in [plan.required.prefill_tok_s, plan.required.decode_tok_s, pr.ttft_s, pr.stream_s, pr.total_s, pr.output_chars_s] {
                prop_assert!(v.is_finite() && v >= 0.0);
            }
            prop_assert_eq!(pr.grade.metrics.len(), 4);
        }
    }

    #[test]
    fn monotonic_in_every_input(
        p in 1u32..100_000, o in 1u32..10_000, rtt in 0.0f64..0.24,
        target in 1.0f64..10.0, cps in 1.0f64..100.0, c in 0.1f64..3.0,
        pre in 10.0f64..1e5, dec in 1.0f64..500.0,
        k in 1.01f64..4.0,
    ) {
        let seed = Profile::builtin();
        let (p, o) = (f64::from(p), f64::from(o));
        let run = |s: ScenarioSpec| s.resolve(&seed).unwrap().plan(&seed);
        let base = run(spec(p, o, rtt, target, cps, c, pre, dec));
        // More prompt: more required prefill, later first token.
        let more_p = run(spec((p * k).round(), o, rtt, target, cps, c, pre, dec));
        prop_assert!(more_p.required.prefill_tok_s >= base.required.prefill_tok_s);
        prop_assert!(more_p.predicted.ttft_s >= base.predicted.ttft_s);
        // Longer answer: longer total.
        let more_o = run(spec(p, (o * k).round(), rtt, target, cps, c, pre, dec));
        prop_assert!(more_o.predicted.total_s >= base.predicted.total_s);
        // Longer round trip: later first token, more prefill needed.
        let more_rtt = run(spec(p, o, rtt * k, target, cps, c, pre, dec));
        prop_assert!(more_rtt.predicted.ttft_s >= base.predicted.ttft_s);
        prop_assert!(more_rtt.required.prefill_tok_s >= base.required.prefill_tok_s);
        // Looser TTFT target: less prefill needed.
        let looser = run(spec(p, o, rtt, target * k, cps, c, pre, dec));
        prop_assert!(looser.required.prefill_tok_s <= base.required.prefill_tok_s);
        // Faster reading target: more decode needed.
        let faster = run(spec(p, o, rtt, target, cps * k, c, pre, dec));
        prop_assert!(faster.required.decode_tok_s >= base.required.decode_tok_s);
        // More characters per token: less decode needed, more chars/s seen.
        let denser = run(spec(p, o, rtt, target, cps, c * k, pre, dec));
        prop_assert!(denser.required.decode_tok_s <= base.required.decode_tok_s);
        prop_assert!(denser.predicted.output_chars_s >= base.predicted.output_chars_s);
        // Faster hardware: earlier first token, shorter total, more chars/s.
        let fast_pre = run(spec(p, o, rtt, target, cps, c, pre * k, dec));
        prop_assert!(fast_pre.predicted.ttft_s <= base.predicted.ttft_s);
        let fast_dec = run(spec(p, o, rtt, target, cps, c, pre, dec * k));
        prop_assert!(fast_dec.predicted.total_s <= base.predicted.total_s);
        prop_assert!(fast_dec.predicted.output_chars_s >= base.predicted.output_chars_s);
        // Tiers never get worse with faster hardware.
        prop_assert!(fast_pre.predicted.grade.overall <= base.predicted.grade.overall);
        prop_assert!(fast_dec.predicted.grade.overall <= base.predicted.grade.overall);
    }
}

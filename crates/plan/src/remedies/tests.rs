use super::*;
use proptest::prelude::*;
use tokenpace_core::setting::Setting;

/// The long-summary case: 4000 prompt tokens, TTFT < 2 s, 25
/// characters/s at 0.7 characters/token, on hardware doing 1000 tok/s
/// prefill and 25 tok/s decode.
fn seed_case(quant: Quant) -> Situation {
    Situation {
        prompt_tokens: 4000.0,
        rtt_s: 0.0,
        ttft_target_s: 2.0,
        chars_per_s_target: 25.0,
        chars_per_token: 0.7,
        prefill_tok_s: 1000.0,
        decode_tok_s: 25.0,
        quant,
    }
}

fn find(rs: &[Remedy], f: impl Fn(&RemedyKind) -> bool) -> &Remedy {
    rs.iter().find(|r| f(&r.kind)).expect("remedy present")
}

fn long_summary(prefill: Option<f64>, decode: Option<f64>) -> ScenarioPlan {
    use tokenpace_core::scenario::{preset_named, ScenarioSpec};
    let profile = Profile::builtin();
    let given = ScenarioSpec {
        prefill_tok_s: prefill,
        decode_tok_s: decode,
        ..ScenarioSpec::default()
    };
    preset_named("long-summary")
        .unwrap()
        .spec()
        .overlay(given)
        .resolve(&profile)
        .unwrap()
        .plan(&profile)
}

#[test]
fn a_scenario_missing_a_target_gets_remedies_on_assumed_fp16_weights() {
    let profile = Profile::builtin();
    let plan = long_summary(None, None);
    let (s, list) = for_scenario(&plan, &profile, None).unwrap();
    assert_eq!(s, seed_case(Quant::Fp16));
    assert_eq!(s.ttft_s(), 4.0);
    assert!((s.output_chars_s() - 17.5).abs() < 1e-9);
    assert_eq!(
        list,
        remedies(&s, &Params::default(), &profile, None).unwrap()
    );
    // Known weights: no narrower quantisation than int4 is offered.
    let (s, list) = for_scenario(&plan, &profile, Some(Quant::Int4)).unwrap();
    assert_eq!(s.quant, Quant::Int4);
    assert!(!list
        .iter()
        .any(|r| matches!(r.kind, RemedyKind::Quantize { .. })));
    // Targets met: nothing to remedy.
    assert!(for_scenario(&long_summary(Some(5000.0), Some(50.0)), &profile, None).is_none());
}

#[test]
fn without_given_rates_a_scenario_has_no_remedies() {
    use tokenpace_core::scenario::ScenarioSpec;
    let profile = Profile::builtin();
    let spec = ScenarioSpec {
        prompt_tokens: Some(4000.0),
        output_tokens: Some(600.0),
        decode_tok_s: Some(10.0),
        ..ScenarioSpec::default()
    };
    let plan = spec.resolve(&profile).unwrap().plan(&profile);
    assert!(!plan.predicted.meets_chars_target);
    assert!(for_scenario(&plan, &profile, None).is_none());
}

#[test]
fn seed_prefix_cache_needs_more_than_half_the_prompt_cached() {
    let s = seed_case(Quant::Fp16);
    assert_eq!(s.required_prefill(), 2000.0);
    match hit_ratio_needed(&s) {
        Needed::HitRatioAbove(h) => assert!((h - 0.5).abs() < 1e-12),
        other => panic!("{other:?}"),
    }
    // Exactly half cached gives TTFT = 2.0 s, which is not below 2 s.
    let p = Params {
        cache_hit: 0.5,
        ..Params::default()
    };
    let rs = remedies(&s, &p, &Profile::builtin(), None).unwrap();
    let r = find(&rs, |k| matches!(k, RemedyKind::PrefixCache { .. }));
    assert_eq!(r.ttft_s, 2.0);
    assert!(!r.meets_ttft);
    let p = Params {
        cache_hit: 0.51,
        ..Params::default()
    };
    let rs = remedies(&s, &p, &Profile::builtin(), None).unwrap();
    assert!(find(&rs, |k| matches!(k, RemedyKind::PrefixCache { .. })).meets_ttft);
}

#[test]
fn seed_split_prefill_needs_more_than_two_devices() {
    let s = seed_case(Quant::Fp16);
    // Even with perfect scaling, 2 devices give exactly 2000 tok/s: TTFT 2.0 s.
    assert_eq!(devices_needed(&s, 1.0), Needed::DevicesAtLeast(3));
    assert_eq!(devices_needed(&s, 0.9), Needed::DevicesAtLeast(3));
    assert_eq!(devices_needed(&s, 0.5), Needed::DevicesAtLeast(5));
    let p = Params {
        split_devices: 3,
        split_efficiency: 1.0,
        ..Params::default()
    };
    let rs = remedies(&s, &p, &Profile::builtin(), None).unwrap();
    let r = find(&rs, |k| matches!(k, RemedyKind::SplitPrefill { .. }));
    assert_eq!(r.prefill_tok_s, 3000.0);
    assert!(r.meets_ttft && !r.meets_chars);
}

#[test]
fn seed_decode_needs_35_7_and_int4_reaches_it_by_bytes_moved() {
    let s = seed_case(Quant::Fp16);
    assert!((s.required_decode() - 35.714).abs() < 1e-3);
    let rs = remedies(&s, &Params::default(), &Profile::builtin(), None).unwrap();
    // fp16 → int4: 16 / 4.5 bits per weight as many tokens per second.
    let r = find(&rs, |k| {
        matches!(
            k,
            RemedyKind::Quantize {
                to: Quant::Int4,
                ..
            }
        )
    });
    assert!((r.decode_tok_s - 25.0 * 16.0 / 4.5).abs() < 1e-9);
    assert!(r.meets_chars);
    assert_eq!(r.prefill_tok_s, 1000.0, "prefill is compute-bound");
    // fp16 → int8: 16 / 8.5 → 47.1 tok/s, also enough.
    let r = find(&rs, |k| {
        matches!(
            k,
            RemedyKind::Quantize {
                to: Quant::Int8,
                ..
            }
        )
    });
    assert!((r.decode_tok_s - 47.06).abs() < 0.01);
    assert!(r.meets_chars);
    // From int8, int4 still reaches it: 8.5 / 4.5 × 25 = 47.2 tok/s.
    let rs = remedies(
        &seed_case(Quant::Int8),
        &Params::default(),
        &Profile::builtin(),
        None,
    )
    .unwrap();
    let r = find(&rs, |k| {
        matches!(
            k,
            RemedyKind::Quantize {
                to: Quant::Int4,
                ..
            }
        )
    });
    assert!((r.decode_tok_s - 47.22).abs() < 0.01);
    assert!(r.output_chars_s >= 25.0);
    assert!(!rs.iter().any(|r| matches!(
        r.kind,
        RemedyKind::Quantize {
            to: Quant::Int8,
            ..
        }
    )));
    // Already int4: no quantisation row.
    let rs = remedies(
        &seed_case(Quant::Int4),
        &Params::default(),
        &Profile::builtin(),
        None,
    )
    .unwrap();
    assert!(!rs
        .iter()
        .any(|r| matches!(r.kind, RemedyKind::Quantize { .. })));
}

#[test]
fn seed_speculative_decoding() {
    // α = 0.7, k = 4: (1 − 0.7⁵) / 0.3 = 2.77 tokens per step; at 5 % draft
    // cost per token a step costs 1.2: 2.31× → 57.7 tok/s.
    assert!((tokens_per_verify_step(0.7, 4) - 2.7731).abs() < 1e-4);
    assert_eq!(tokens_per_verify_step(1.0, 4), 5.0);
    assert_eq!(tokens_per_verify_step(0.0, 4), 1.0);
    let s = seed_case(Quant::Fp16);
    let rs = remedies(&s, &Params::default(), &Profile::builtin(), None).unwrap();
    let r = find(&rs, |k| matches!(k, RemedyKind::Speculative { .. }));
    assert!((r.decode_tok_s - 57.77).abs() < 0.01, "{}", r.decode_tok_s);
    assert!(r.meets_chars);
    // The acceptance rate needed for 35.7 tok/s (a 1.43× speed-up).
    match r.needed {
        Some(Needed::AcceptanceAtLeast(a)) => {
            assert!(speculative_speedup(a, 4, 0.05) >= 35.714 / 25.0);
            assert!(speculative_speedup(a - 1e-3, 4, 0.05) < 35.714 / 25.0);
            assert!(a > 0.35 && a < 0.45, "{a}");
        }
        other => panic!("{other:?}"),
    }
    // Drafting too expensive: nothing reaches it.
    assert_eq!(acceptance_needed(&s, 1, 2.0), Needed::Unreachable);
}

#[test]
fn ranking_puts_what_reaches_the_target_first() {
    let s = seed_case(Quant::Fp16);
    let rs = remedies(&s, &Params::default(), &Profile::builtin(), None).unwrap();
    let met: Vec<usize> = rs.iter().map(Remedy::targets_met).collect();
    let mut sorted = met.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(met, sorted);
    // No single remedy fixes both TTFT and reading speed here.
    assert!(rs.iter().all(|r| r.targets_met() == 1));
}

#[test]
fn already_met_and_unreachable() {
    let mut s = seed_case(Quant::Fp16);
    s.prefill_tok_s = 5000.0;
    s.decode_tok_s = 50.0;
    assert_eq!(hit_ratio_needed(&s), Needed::AlreadyMet);
    assert_eq!(devices_needed(&s, 0.9), Needed::AlreadyMet);
    assert_eq!(acceptance_needed(&s, 4, 0.05), Needed::AlreadyMet);
    s.rtt_s = 2.5;
    assert_eq!(hit_ratio_needed(&s), Needed::Unreachable);
    assert_eq!(devices_needed(&s, 0.9), Needed::Unreachable);
}

#[test]
fn bad_parameters_name_the_flag() {
    let s = seed_case(Quant::Fp16);
    for (p, flag) in [
        (
            Params {
                cache_hit: 1.0,
                ..Params::default()
            },
            Setting::CacheHit,
        ),
        (
            Params {
                spec_acceptance: f64::NAN,
                ..Params::default()
            },
            Setting::SpecAcceptance,
        ),
        (
            Params {
                split_devices: 0,
                ..Params::default()
            },
            Setting::SplitDevices,
        ),
        (
            Params {
                spec_draft_cost: -1.0,
                ..Params::default()
            },
            Setting::SpecDraftCost,
        ),
    ] {
        let err = remedies(&s, &p, &Profile::builtin(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&flag.to_string()), "{err}");
    }
    let mut bad = s;
    bad.decode_tok_s = 0.0;
    let err = remedies(&bad, &Params::default(), &Profile::builtin(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains(&Setting::Decode.to_string()), "{err}");
}

#[test]
fn with_a_model_cards_and_quantisation_come_from_the_roofline() {
    let c = Catalog::builtin();
    let d = Deployment {
        model: c.model("qwen2.5-7b").unwrap(),
        hardware: c.hardware("l4").unwrap(),
        quant: Quant::Fp16,
        kv_cache: crate::kv_cache::KvCache::Fp16,
        devices: 1,
    };
    let w = Traffic {
        prompt_tokens: 4000.0,
        output_tokens: 600.0,
        ..Traffic::default()
    };
    let e = estimate(&d, &w, &Efficiency::DEFAULT, &Profile::builtin()).unwrap();
    let s = Situation {
        prompt_tokens: 4000.0,
        rtt_s: 0.0,
        ttft_target_s: 2.0,
        chars_per_s_target: 25.0,
        chars_per_token: 0.7,
        prefill_tok_s: e.prefill_tok_s,
        decode_tok_s: e.decode_tok_s,
        quant: Quant::Fp16,
    };
    let ctx = RooflineContext {
        catalog: &c,
        deployment: d,
        workload: w,
        efficiency: &Efficiency::DEFAULT,
    };
    let rs = remedies(&s, &Params::default(), &Profile::builtin(), Some(&ctx)).unwrap();
    let h100 = find(
        &rs,
        |k| matches!(k, RemedyKind::Hardware { id, .. } if id == "h100-sxm"),
    );
    assert!(h100.meets_ttft && h100.meets_chars);
    assert_eq!(rs[0].targets_met(), 2);
    assert!(!rs
        .iter()
        .any(|r| matches!(&r.kind, RemedyKind::Hardware { id, .. } if id == "l4")));
    let int4 = find(&rs, |k| {
        matches!(
            k,
            RemedyKind::Quantize {
                to: Quant::Int4,
                ..
            }
        )
    });
    assert!(int4.decode_tok_s > 2.5 * s.decode_tok_s);
}

/// The narrower formats the remedies offer for `model` stored as `quant`
/// on `hw`, recomputed by the roofline.
fn offered_formats(model: &str, hw: &str, quant: Quant) -> Vec<Quant> {
    let c = Catalog::builtin();
    let d = Deployment {
        model: c.model(model).unwrap(),
        hardware: c.hardware(hw).unwrap(),
        quant,
        kv_cache: crate::kv_cache::KvCache::Fp16,
        devices: 8,
    };
    let w = Traffic::default();
    let e = estimate(&d, &w, &Efficiency::DEFAULT, &Profile::builtin()).unwrap();
    let s = Situation {
        quant,
        prefill_tok_s: e.prefill_tok_s,
        decode_tok_s: e.decode_tok_s,
        ..seed_case(quant)
    };
    let ctx = RooflineContext {
        catalog: &c,
        deployment: d,
        workload: w,
        efficiency: &Efficiency::DEFAULT,
    };
    let rs = remedies(&s, &Params::default(), &Profile::builtin(), Some(&ctx)).unwrap();
    rs.iter()
        .filter_map(|r| match r.kind {
            RemedyKind::Quantize { to, .. } => Some(to),
            _ => None,
        })
        .collect()
}

#[test]
fn narrower_weights_are_only_offered_where_they_are_narrower_and_run() {
    // gpt-oss is already MXFP4 (4.25 bits): no int4 (4.5 bits) "gain".
    assert!(offered_formats("gpt-oss-120b", "h100-sxm", Quant::Mxfp4).is_empty());
    assert!(offered_formats("gpt-oss-120b", "b200", Quant::Mxfp4).is_empty());
    // From 16 bits: FP8 where the card has FP8, the FP4 formats where it
    // has FP4, INT8 and INT4 everywhere.
    let mut h100 = offered_formats("qwen2.5-72b", "h100-sxm", Quant::Fp16);
    h100.sort();
    assert_eq!(h100, [Quant::Fp8, Quant::Int8, Quant::Int4]);
    let b200 = offered_formats("qwen2.5-72b", "b200", Quant::Fp16);
    for q in [
        Quant::Fp8,
        Quant::Int8,
        Quant::Int4,
        Quant::Mxfp4,
        Quant::Nvfp4,
    ] {
        assert!(b200.contains(&q), "{q} missing from {b200:?}");
    }
    let a100 = offered_formats("qwen2.5-72b", "a100-80gb", Quant::Fp16);
    assert!(!a100.contains(&Quant::Fp8) && !a100.contains(&Quant::Mxfp4));
    // DeepSeek-V3 is FP8 already: int8 (8.5 bits) is not narrower.
    let ds = offered_formats("deepseek-v3", "b200", Quant::Fp8);
    assert!(
        !ds.contains(&Quant::Int8) && ds.contains(&Quant::Int4),
        "{ds:?}"
    );
}

proptest! {
    #[test]
    fn remedies_never_panic_or_produce_nan(
        p in 1.0..1e6f64, prefill in 1e-3..1e6f64, decode in 1e-3..1e4f64,
        target in 0.01..60f64, rtt in 0.0..5f64, hit in 0.0..0.999f64,
        alpha in 0.0..=1.0f64, k in 1u32..16, cost in 0.0..3f64,
    ) {
        let s = Situation {
            prompt_tokens: p, rtt_s: rtt, ttft_target_s: target,
            chars_per_s_target: 25.0, chars_per_token: 0.7,
            prefill_tok_s: prefill, decode_tok_s: decode, quant: Quant::Fp16,
        };
        let params = Params {
            cache_hit: hit, spec_acceptance: alpha, spec_draft_tokens: k,
            spec_draft_cost: cost, ..Params::default()
        };
        let rs = remedies(&s, &params, &Profile::builtin(), None).unwrap();
        for r in rs {
            prop_assert!(r.prefill_tok_s.is_finite() && r.decode_tok_s.is_finite());
            prop_assert!(r.ttft_s.is_finite() && r.output_chars_s.is_finite());
        }
    }

    #[test]
    fn higher_acceptance_never_slows_decoding(a in 0.0..1.0f64, b in 0.0..1.0f64, k in 1u32..12) {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        prop_assert!(tokens_per_verify_step(hi, k) >= tokens_per_verify_step(lo, k) - 1e-12);
    }
}

proptest! {
    #[test]
    fn any_numbers_give_finite_remedies_or_a_clear_error(
        p in prop::num::f64::ANY, prefill in prop::num::f64::ANY, decode in prop::num::f64::ANY,
        target in prop::num::f64::ANY, rtt in prop::num::f64::ANY, hit in prop::num::f64::ANY,
    ) {
        let s = Situation {
            prompt_tokens: p, rtt_s: rtt, ttft_target_s: target,
            chars_per_s_target: 25.0, chars_per_token: 0.7,
            prefill_tok_s: prefill, decode_tok_s: decode, quant: Quant::Int8,
        };
        let params = Params { cache_hit: hit, ..Params::default() };
        match remedies(&s, &params, &Profile::builtin(), None) {
            Ok(rs) => {
                for r in rs {
                    prop_assert!(r.decode_tok_s.is_finite() && r.ttft_s.is_finite());
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

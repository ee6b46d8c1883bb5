use super::*;
use crate::catalog::Catalog;
use crate::kv_cache::KvCache;
use proptest::prelude::*;
use tokenpace_core::grade::Tier;

fn est(model: &str, hw: &str, quant: Quant, w: Traffic) -> Result<Estimate, PlanError> {
    let c = Catalog::builtin();
    let d = Deployment {
        model: c.model(model).unwrap(),
        hardware: c.hardware(hw).unwrap(),
        quant,
        kv_cache: crate::kv_cache::KvCache::Fp16,
        devices: 1,
    };
    estimate(&d, &w, &Efficiency::DEFAULT, &Profile::builtin())
}

#[test]
fn qwen_7b_int4_on_a_4090_decode_is_bandwidth_bound_prefill_compute_bound() {
    let e = est("qwen2.5-7b", "rtx-4090", Quant::Int4, Traffic::default()).unwrap();
    assert_eq!(e.decode.binding, Resource::MemoryBandwidth);
    assert_eq!(e.prefill.binding, Resource::Compute);
    // Weights 7.62e9 × 4.5 / 8 = 4.29 GB; a step reads them plus ~1.1k
    // tokens of KV: 1008 GB/s × 0.7 / 4.35 GB ≈ 162 tok/s.
    assert!((e.memory.weight_bytes / 1e9 - 4.286).abs() < 0.01);
    assert!(
        e.decode_tok_s > 150.0 && e.decode_tok_s < 175.0,
        "{}",
        e.decode_tok_s
    );
    // 165.2 TFLOPS × 0.65 / (2 × 7.62e9 + attention) ≈ 6.9k tok/s.
    assert!(
        e.prefill_tok_s > 6000.0 && e.prefill_tok_s < 7500.0,
        "{}",
        e.prefill_tok_s
    );
    assert!(e.prefill_bound_tok_s > e.prefill_tok_s);
    assert!(e.decode_bound_tok_s > e.decode_tok_s);
    assert_eq!(e.grade.overall, Some(Tier::A));
    assert!((e.ttft_s - 1000.0 / e.prefill_tok_s).abs() < 1e-12);
    assert!((e.output_chars_s - 0.7 * e.decode_tok_s).abs() < 1e-9);
}

#[test]
fn large_batches_turn_decode_compute_bound() {
    let w = Traffic {
        concurrency: 1024.0,
        prompt_tokens: 50.0,
        output_tokens: 50.0,
        ..Traffic::default()
    };
    let e = est("llama-3.1-8b", "h100-sxm", Quant::Fp16, w).unwrap();
    assert_eq!(e.concurrency, 1024.0);
    assert_eq!(e.decode.binding, Resource::Compute);
    assert!(e.aggregate_decode_tok_s > 100.0 * e.decode_tok_s);
}

#[test]
fn memory_capacity_caps_concurrency() {
    // 70B int4 on one H100: 39.7 GB of weights, 72 GB usable, 327 KB of KV
    // per token × 8192 tokens = 2.68 GB per context: 12 contexts fit.
    let w = Traffic {
        prompt_tokens: 8000.0,
        output_tokens: 192.0,
        concurrency: 64.0,
        ..Traffic::default()
    };
    let e = est("llama-3.1-70b", "h100-sxm", Quant::Int4, w).unwrap();
    assert!(e.memory.concurrency_capped);
    assert_eq!(e.memory.contexts_fit, 12.0);
    assert_eq!(e.concurrency, 12.0);
}

#[test]
fn a_model_too_large_says_so_with_numbers() {
    let err = est("llama-3.1-70b", "rtx-4090", Quant::Fp16, Traffic::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("141.2 GB for its weights"), "{err}");
    assert!(err.contains("21.6 GB usable"), "{err}");
    assert!(err.contains(&format!("{} 7", Setting::Gpus)), "{err}");
    let err = est("deepseek-v3", "h100-sxm", Quant::Int4, Traffic::default()).unwrap_err();
    assert!(
        matches!(err, PlanError::TooLarge { min_devices: 6, .. }),
        "{err}"
    );
}

#[test]
fn no_room_for_one_context_is_an_error() {
    let w = Traffic {
        prompt_tokens: 100_000.0,
        ..Traffic::default()
    };
    let err = est("qwen2.5-32b", "l40s", Quant::Int4, w)
        .unwrap_err()
        .to_string();
    assert!(err.contains("KV cache"), "{err}");
}

#[test]
fn moe_decode_reads_only_the_touched_experts() {
    let c = Catalog::builtin();
    let m = c.model("qwen3-30b-a3b").unwrap();
    let one = weight_bytes_touched(m, Quant::Int4, 1.0);
    assert!((one / m.weight_bytes(Quant::Int4) - 3.3 / 30.5).abs() < 1e-9);
    let many = weight_bytes_touched(m, Quant::Int4, 64.0);
    assert!(many > 0.99 * m.weight_bytes(Quant::Int4));
    let dense = c.model("qwen2.5-7b").unwrap();
    assert_eq!(
        weight_bytes_touched(dense, Quant::Fp16, 1.0),
        dense.weight_bytes(Quant::Fp16)
    );
}

#[test]
fn more_devices_hold_a_larger_model() {
    let c = Catalog::builtin();
    let d = Deployment {
        model: c.model("llama-3.1-70b").unwrap(),
        hardware: c.hardware("h100-sxm").unwrap(),
        quant: Quant::Fp16,
        kv_cache: crate::kv_cache::KvCache::Fp16,
        devices: 2,
    };
    let e = estimate(
        &d,
        &Traffic::default(),
        &Efficiency::DEFAULT,
        &Profile::builtin(),
    )
    .unwrap();
    assert_eq!(e.decode.binding, Resource::MemoryBandwidth);
    assert!(
        e.decode_tok_s > 25.0 && e.decode_tok_s < 35.0,
        "{}",
        e.decode_tok_s
    );
}

#[test]
fn bad_workloads_name_the_flag() {
    for (w, flag) in [
        (
            Traffic {
                prompt_tokens: 0.0,
                ..Traffic::default()
            },
            Setting::PromptTokens,
        ),
        (
            Traffic {
                concurrency: f64::NAN,
                ..Traffic::default()
            },
            Setting::Concurrency,
        ),
        (
            Traffic {
                rtt_s: -1.0,
                ..Traffic::default()
            },
            Setting::Rtt,
        ),
    ] {
        let err = est("qwen2.5-7b", "rtx-4090", Quant::Int4, w)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&flag.to_string()), "{err}");
    }
}

fn any_hardware() -> impl Strategy<Value = Hardware> {
    (1e-3..1e4f64, 1e-2..1e5f64, 1.0..1e4f64).prop_map(|(tf, bw, mem)| Hardware {
        id: "x".into(),
        name: "x".into(),
        kind: crate::hardware::HardwareKind::Gpu,
        fp16_tflops: tf,
        int8_tops: None,
        fp8_tflops: None,
        fp4_tflops: None,
        memory_bandwidth_gb_s: bw,
        memory_gb: mem,
        source: "test".into(),
    })
}

fn any_workload() -> impl Strategy<Value = Traffic> {
    (1.0..2e5f64, 1.0..1e4f64, 1.0..512f64, 0.1..5f64, 0.0..2f64).prop_map(|(p, o, c, cpt, rtt)| {
        Traffic {
            prompt_tokens: p,
            output_tokens: o,
            concurrency: c,
            chars_per_token: cpt,
            rtt_s: rtt,
            ..Traffic::default()
        }
    })
}

fn any_model() -> impl Strategy<Value = Model> {
    let c = Catalog::builtin();
    prop::sample::select(c.models)
}

fn any_quant() -> impl Strategy<Value = Quant> {
    prop::sample::select(Quant::ALL.to_vec())
}

proptest! {
    #[test]
    fn more_bandwidth_never_slows_decode(
        model in any_model(), hw in any_hardware(), w in any_workload(),
        q in any_quant(), factor in 1.0..100f64,
    ) {
        let p = Profile::builtin();
        let d = Deployment { model: &model, hardware: &hw, quant: q, kv_cache: crate::kv_cache::KvCache::Fp16, devices: 1 };
        if let Ok(slow) = estimate(&d, &w, &Efficiency::DEFAULT, &p) {
            let faster = Hardware { memory_bandwidth_gb_s: hw.memory_bandwidth_gb_s * factor, ..hw.clone() };
            let d2 = Deployment { hardware: &faster, ..d };
            let fast = estimate(&d2, &w, &Efficiency::DEFAULT, &p).unwrap();
            prop_assert!(fast.decode_tok_s >= slow.decode_tok_s);
            prop_assert!(fast.prefill_tok_s >= slow.prefill_tok_s);
        }
    }

    #[test]
    fn more_compute_never_slows_prefill(
        model in any_model(), hw in any_hardware(), w in any_workload(),
        q in any_quant(), factor in 1.0..100f64,
    ) {
        let p = Profile::builtin();
        let d = Deployment { model: &model, hardware: &hw, quant: q, kv_cache: crate::kv_cache::KvCache::Fp16, devices: 1 };
        if let Ok(slow) = estimate(&d, &w, &Efficiency::DEFAULT, &p) {
            let faster = Hardware { fp16_tflops: hw.fp16_tflops * factor, ..hw.clone() };
            let d2 = Deployment { hardware: &faster, ..d };
            let fast = estimate(&d2, &w, &Efficiency::DEFAULT, &p).unwrap();
            prop_assert!(fast.prefill_tok_s >= slow.prefill_tok_s);
            prop_assert!(fast.ttft_s <= slow.ttft_s);
            prop_assert!(fast.decode_tok_s >= slow.decode_tok_s);
        }
    }

    #[test]
    fn estimates_are_finite_or_a_clear_error(
        model in any_model(), hw in any_hardware(),
        p in prop::num::f64::ANY, o in prop::num::f64::ANY, c in prop::num::f64::ANY,
        q in any_quant(), devices in 0u32..16,
    ) {
        let w = Traffic { prompt_tokens: p, output_tokens: o, concurrency: c, ..Traffic::default() };
        let d = Deployment { model: &model, hardware: &hw, quant: q, kv_cache: crate::kv_cache::KvCache::Fp16, devices };
        match estimate(&d, &w, &Efficiency::DEFAULT, &Profile::builtin()) {
            Ok(e) => {
                for (_, v) in e.values() {
                    prop_assert!(v.is_finite() && v >= 0.0);
                }
                prop_assert!(e.concurrency >= 1.0 || e.concurrency == w.concurrency);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn prompts_arriving_together_wait_for_their_prefill_batch_and_apart_for_less() {
    let at = |c: f64, arrivals: Arrivals, batch: f64| {
        let w = Traffic {
            prompt_tokens: 500.0,
            concurrency: c,
            arrivals,
            prefill_batch_tokens: batch,
            ..Traffic::default()
        };
        est("qwen2.5-7b", "rtx-4090", Quant::Int4, w).unwrap()
    };
    let one = at(1.0, Arrivals::Together, 2048.0);
    assert_eq!(one.prefill_wait, 1.0);
    // Four 500-token prompts fit one 2048-token step: each waits for all
    // four prefills, and sees a quarter of the prefill rate.
    let four = at(4.0, Arrivals::Together, 2048.0);
    assert_eq!(four.prefill_wait, 4.0);
    assert!((four.ttft_s - 4.0 * four.prefill.seconds).abs() < 1e-12);
    assert!((four.prefill_tok_s * 4.0 - one.prefill_tok_s).abs() < 1e-6);
    // One prompt per step: the i-th waits for i prefills, 2.5 on average.
    let in_turn = at(4.0, Arrivals::Together, 500.0);
    assert!((in_turn.prefill_wait - 2.5).abs() < 1e-12);
    // Users at random times wait for less than a wave, more than alone.
    let apart = at(4.0, Arrivals::Apart, 2048.0);
    assert!(
        apart.prefill_wait > 1.0 && apart.prefill_wait < 2.5,
        "{}",
        apart.prefill_wait
    );
    assert!(apart.ttft_s < in_turn.ttft_s && in_turn.ttft_s < four.ttft_s);
    // Decode is the same either way.
    assert_eq!(apart.decode_tok_s, four.decode_tok_s);
}

fn on_one(model: &str, hw: &str, quant: Option<Quant>, kv: KvCache) -> Result<Estimate, PlanError> {
    let c = Catalog::builtin();
    let m = c.model(model).unwrap();
    let d = Deployment {
        model: m,
        hardware: c.hardware(hw).unwrap(),
        quant: quant.unwrap_or(m.weights),
        kv_cache: kv,
        devices: 1,
    };
    estimate(
        &d,
        &Traffic::default(),
        &Efficiency::DEFAULT,
        &Profile::builtin(),
    )
}

#[test]
fn gpt_oss_120b_fits_one_h100_in_mxfp4_and_needs_four_at_fp16() {
    let e = on_one("gpt-oss-120b", "h100-sxm", None, KvCache::Fp16).unwrap();
    assert_eq!(e.quant, Quant::Mxfp4);
    assert_eq!(e.support, Support::WeightOnly);
    assert!(e.memory.weight_bytes < e.memory.usable_bytes);
    match on_one("gpt-oss-120b", "h100-sxm", Some(Quant::Fp16), KvCache::Fp16) {
        Err(e @ PlanError::TooLarge { min_devices: 4, .. }) => {
            // The fix it names is the model's own format.
            assert!(
                e.to_string()
                    .contains(&format!("{} mxfp4", Setting::Weights)),
                "{e}"
            );
        }
        other => panic!("expected TooLarge needing 4 devices, got {other:?}"),
    }
    // On a B200 the same weights run natively.
    let b200 = on_one("gpt-oss-120b", "b200", None, KvCache::Fp16).unwrap();
    assert_eq!(b200.support, Support::Native);
}

#[test]
fn an_fp8_kv_cache_holds_twice_the_tokens() {
    for (model, hw) in [("gpt-oss-120b", "h100-sxm"), ("llama-3.1-70b", "mi300x")] {
        let fp16 = on_one(model, hw, None, KvCache::Fp16).unwrap().memory;
        let fp8 = on_one(model, hw, None, KvCache::Fp8).unwrap().memory;
        let tokens = |m: &Memory| (m.usable_bytes - m.weight_bytes) / m.kv_bytes_per_token;
        assert!(
            (tokens(&fp8) / tokens(&fp16) - 2.0).abs() < 1e-12,
            "{model}"
        );
        let (a, b) = (fp16.contexts_fit, fp8.contexts_fit);
        assert!(b == 2.0 * a || b == 2.0 * a + 1.0, "{model}: {a} → {b}");
    }
}

use super::*;

fn counts(mix: &ModelMix, n: u64, seed: u64) -> Vec<u64> {
    let mut out = vec![0u64; mix.entries().len()];
    for id in 0..n {
        let m = &mix.entry(id, seed).model;
        let i = mix.entries().iter().position(|e| &e.model == m).unwrap();
        out[i] += 1;
    }
    out
}

#[test]
fn every_cycle_holds_each_model_exactly_its_weight() {
    let mix = ModelMix::parse("llama-8b=3,lora-a=1,lora-b=2").unwrap();
    for seed in [0, 1, 7, 12345] {
        // Any window of whole cycles, wherever it starts.
        for start in [0u64, 5, 17] {
            let mut c = [0u64; 3];
            for id in start..start + 6 * 4 {
                let m = &mix.entry(id, seed).model;
                c[mix.entries().iter().position(|e| &e.model == m).unwrap()] += 1;
            }
            assert_eq!(c, [12, 4, 8], "seed {seed}, start {start}");
        }
    }
}

#[test]
fn any_prefix_stays_within_two_requests_of_the_weights() {
    let mix = ModelMix::parse("a=5,b=3,c=1").unwrap();
    let total: u64 = 9;
    for seed in 0..9 {
        for n in 1..60u64 {
            for (c, e) in counts(&mix, n, seed).iter().zip(mix.entries()) {
                let exact = n as f64 * f64::from(e.weight) / total as f64;
                assert!(
                    (*c as f64 - exact).abs() < 2.0,
                    "seed {seed} n {n}: {} got {c}, exact {exact}",
                    e.model
                );
            }
        }
    }
}

#[test]
fn models_are_interleaved_not_in_runs() {
    let mix = ModelMix::parse("a=1,b=1").unwrap();
    let seq: Vec<&str> = (0..6).map(|id| mix.entry(id, 0).model.as_str()).collect();
    assert_eq!(seq, ["a", "b", "a", "b", "a", "b"]);
}

#[test]
fn the_assignment_is_deterministic_and_the_seed_rotates_it() {
    let a = ModelMix::parse("x=2,y=1").unwrap();
    let b = ModelMix::parse("x=2,y=1").unwrap();
    let seq = |m: &ModelMix, seed| -> Vec<String> {
        (0..12).map(|id| m.entry(id, seed).model.clone()).collect()
    };
    assert_eq!(seq(&a, 4), seq(&b, 4));
    assert_ne!(seq(&a, 0), seq(&a, 1));
}

#[test]
fn per_entry_lengths_and_names_with_slashes_and_colons() {
    let mix = ModelMix::parse("meta-llama/Llama-3-8B=3, llama3:8b=1:2048:64").unwrap();
    let e = mix.entries();
    assert_eq!(e[0].model, "meta-llama/Llama-3-8B");
    assert_eq!(
        (e[0].weight, e[0].prompt_tokens, e[0].max_tokens),
        (3, None, None)
    );
    assert_eq!(e[1].model, "llama3:8b");
    assert_eq!(
        (e[1].weight, e[1].prompt_tokens, e[1].max_tokens),
        (1, Some(2048), Some(64))
    );
    let only_max = ModelMix::parse("a=1::64").unwrap();
    assert_eq!(
        (
            only_max.entries()[0].prompt_tokens,
            only_max.entries()[0].max_tokens
        ),
        (None, Some(64))
    );
}

#[test]
fn the_toml_form_gives_the_same_mix() {
    let toml = r#"
[[model]]
model = "base"
weight = 3

[[model]]
model = "lora-a"
weight = 1
prompt_tokens = 2048
max_tokens = 64
"#;
    assert_eq!(
        ModelMix::from_toml(toml).unwrap(),
        ModelMix::parse("base=3,lora-a=1:2048:64").unwrap()
    );
}

#[test]
fn bad_mixes_are_refused_with_the_fix() {
    for (spec, says) in [
        ("", "empty"),
        ("a", "no weight"),
        ("a=0", "weight 0"),
        ("a=x", "not a whole number"),
        ("a=1,a=2", "twice"),
        ("=1", "no model name"),
        ("a=", "weight 0"),
        ("a=1:2:3:4", "too many parts"),
        ("a=1::0", "max_tokens 0"),
        ("a=99999,b=2", "divide them"),
    ] {
        let e = ModelMix::parse(spec).unwrap_err();
        assert!(e.contains(says), "{spec}: {e}");
    }
    assert!(ModelMix::from_toml("[[model]]\nname = \"a\"\n")
        .unwrap_err()
        .contains("[[model]]"));
}

#[test]
fn per_model_splits_the_records_and_skips_unmixed_runs() {
    let rec = |id, m: Option<&str>| {
        let mut r = RequestRecord::new(id, 0, id * 10);
        r.model = m.map(Into::into);
        r.end_ns = Some(id * 10 + 5);
        r
    };
    let opts = MetricOptions {
        stall_threshold_s: 1.0,
        network_overhead_s: 0.0,
    };
    assert!(per_model(&[rec(0, None), rec(1, None)], &[], &opts).is_empty());
    let records = [rec(0, Some("b")), rec(1, Some("a")), rec(2, Some("b"))];
    let shares = per_model(&records, &[], &opts);
    let names: Vec<&str> = shares.iter().map(|s| s.model.as_str()).collect();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(shares[0].aggregate.counts.sent, 2);
    assert_eq!(shares[1].aggregate.counts.sent, 1);
    // The mix's order first; an entry that sent nothing is left out.
    let mix = ModelMix::parse("a=1,c=1,b=1").unwrap();
    let shares = per_model(&records, mix.entries(), &opts);
    let names: Vec<&str> = shares.iter().map(|s| s.model.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

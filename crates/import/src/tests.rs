//! Each format's reader on small hand-made files: what it keeps, what it
//! says is missing, and one clear error for each kind of bad input.

use crate::{detect, guidellm, timed};
use tokenpace_core::imported::{ImportFormat, Missing};
use tokenpace_core::setting::Setting;

#[test]
fn detection_tells_the_three_formats_apart() {
    assert_eq!(
        detect(r#"{"ttfts": [], "start_times": []}"#),
        Some(ImportFormat::Vllm)
    );
    assert_eq!(
        detect(r#"{"benchmarks": [{"type_": "generative_request_stats"}]}"#),
        Some(ImportFormat::Guidellm)
    );
    assert_eq!(
        detect(r#"{"metadata": {"request_start_ns": 1}, "metrics": {}}"#),
        Some(ImportFormat::Aiperf)
    );
    assert_eq!(detect("[1, 2]"), None);
    assert_eq!(detect(""), None);
}

#[test]
fn vllm_lists_of_different_lengths_are_refused() {
    let text = r#"{"start_times": [1.0, 2.0], "ttfts": [0.1], "itls": [[], []]}"#;
    let err = crate::vllm::parse(text).err().unwrap();
    assert!(err.contains("'ttfts' has 1 entries"), "{err}");
}

#[test]
fn a_guidellm_sweep_needs_a_benchmark_named() {
    let one = r#"{"requests": {"successful": []}}"#;
    let text = format!(r#"{{"benchmarks": [{one}, {one}]}}"#);
    let err = guidellm::parse(&text, None).err().unwrap();
    assert!(
        err.contains(&format!("{} 0 to 1", Setting::Benchmark)),
        "{err}"
    );
    let err = guidellm::parse(&text, Some(5)).err().unwrap();
    assert!(err.contains("numbered 0 to 1"), "{err}");
    assert!(guidellm::parse(&text, Some(1)).is_ok());
}

#[test]
fn aiperf_units_are_read_and_an_unknown_one_refused() {
    let line = |unit: &str| {
        format!(
            r#"{{"metadata": {{"request_start_ns": 5000000000}}, "metrics": {{"time_to_first_token": {{"value": 250, "unit": "{unit}"}}, "inter_chunk_latency": {{"value": [10, 20], "unit": "{unit}"}}}}}}"#
        )
    };
    let parsed = crate::aiperf::parse(&line("ms"), None).unwrap();
    let r = &parsed.requests[0];
    assert_eq!(r.ttft_s, Some(0.25));
    assert_eq!(r.gaps_s.as_deref(), Some(&[0.01, 0.02][..]));
    let err = crate::aiperf::parse(&line("furlongs"), None).err().unwrap();
    assert!(err.contains("line 1 metrics.time_to_first_token"), "{err}");
}

#[test]
fn first_and_last_token_only_is_named_and_yields_no_visible_chunk() {
    let t = timed::Timed {
        start_s: 10.0,
        ttft_s: Some(0.2),
        last_s: Some(0.5),
        latency_s: Some(0.6),
        output_tokens: Some(timed::usage(4)),
        ..Default::default()
    };
    let (records, missing) = timed::records(vec![t]);
    let r = &records[0];
    assert_eq!(r.first_token_ns(), Some(200_000_000));
    assert_eq!(r.chunks.len(), 2);
    assert_eq!(r.chunks[1].tokens, 3, "the tokens after the first");
    assert!(r.first_visible_ns().is_none());
    assert_eq!(r.end_ns, Some(600_000_000));
    for m in [
        Missing::ChunkTimes,
        Missing::AnswerText,
        Missing::SendSchedule,
    ] {
        assert!(missing.contains(&m), "{m:?} in {missing:?}");
    }
}

#[test]
fn a_failed_request_keeps_the_tools_message_cut_short() {
    let t = timed::Timed {
        error: Some("x".repeat(10_000)),
        ..Default::default()
    };
    let (records, missing) = timed::records(vec![t]);
    let e = records[0].error.as_ref().unwrap();
    assert!(e.message.chars().count() <= 300);
    assert!(missing.contains(&Missing::ErrorKinds));
}

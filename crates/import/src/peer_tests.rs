//! inference-perf's and inference-benchmarker's readers on the hand-made
//! files in tests/data/imports (shaped as their writers write them, see
//! the README there) and on hostile input.

use crate::{detect, inference_benchmarker, inference_perf, timed};
use tokenpace_core::imported::{ImportFormat, Missing};
use tokenpace_core::record::{CountSource, ErrorKind};
use tokenpace_core::request_metrics::{MetricOptions, RequestMetrics};

fn sample(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/imports");
    std::fs::read_to_string(root.join(path)).unwrap()
}

const PER_REQUEST: &str = "inference-perf/per_request_lifecycle_metrics.json";
const SUMMARY: &str = "inference-perf/summary_lifecycle_metrics.json";
const BENCHMARKER: &str = "inference-benchmarker/results.json";

#[test]
fn detection_tells_the_new_formats_from_the_others() {
    assert_eq!(
        detect(&sample(PER_REQUEST)),
        Some(ImportFormat::InferencePerf)
    );
    assert_eq!(detect(&sample(SUMMARY)), Some(ImportFormat::InferencePerf));
    assert_eq!(
        detect(&sample(BENCHMARKER)),
        Some(ImportFormat::InferenceBenchmarker)
    );
    // Lists and objects that are not these formats stay unknown.
    assert_eq!(detect(r#"[{"start_time": 1.0}]"#), None);
    assert_eq!(detect(r#"{"results": [], "id": "x"}"#), None);
}

#[test]
fn inference_perf_chunk_times_become_ttft_and_gaps_in_seconds() {
    let parsed = inference_perf::parse(&sample(PER_REQUEST)).unwrap();
    assert_eq!(parsed.requests.len(), 3);
    let a = &parsed.requests[0];
    // chunk_times[0] 1000.15 − start_time 1000.0, perf_counter seconds.
    assert!((a.ttft_s.unwrap() - 0.15).abs() < 1e-9);
    let gaps = a.gaps_s.as_deref().unwrap();
    for (got, want) in gaps.iter().zip([0.01, 0.015, 0.01]) {
        assert!((got - want).abs() < 1e-9, "{gaps:?}");
    }
    assert!((a.latency_s.unwrap() - 0.19).abs() < 1e-9);
    let out = a.output_tokens.unwrap();
    assert_eq!((out.count, out.source), (4, CountSource::ServerUsage));
    assert_eq!(a.prompt_tokens.unwrap().source, CountSource::ServerUsage);
    // No usage from the server: the tool's tokenizer counted.
    let b = &parsed.requests[1];
    assert_eq!(b.prompt_tokens.unwrap().source, CountSource::Tokenizer);
    assert_eq!(b.output_tokens.unwrap().count, 3);
    let text = b.text.unwrap();
    assert_eq!((text.chars, text.cjk), (5, 5), "你好，世界 from the chunks");
    assert_eq!(b.chunk_chars.as_deref(), Some(&[2, 1, 2][..]));
    let c = &parsed.requests[2];
    assert!(c.error.as_deref().unwrap().starts_with("HTTP Error 500: "));
    assert_eq!(c.error_kind, Some((ErrorKind::HttpStatus, Some(500))));
    assert!(
        c.prompt_tokens.is_none(),
        "a failed request's 0 is no count"
    );
}

#[test]
fn inference_perf_decode_is_tokens_after_the_first_over_their_time() {
    let parsed = inference_perf::parse(&sample(PER_REQUEST)).unwrap();
    let (records, missing) = timed::records(parsed.requests);
    // Chunk texts and the failure's status are kept: only the schedule is
    // missing.
    assert_eq!(missing, [Missing::SendSchedule]);
    assert_eq!(records[2].error.as_ref().unwrap().status, Some(500));
    let m = RequestMetrics::of(&records[0], &MetricOptions::default());
    // 4 tokens, the first at 1000.15 and the last at 1000.185: 3 / 0.035 s.
    let decode = m.decode_tok_s.unwrap();
    assert!((decode - 3.0 / 0.035).abs() < 1e-6, "{decode}");
    assert_eq!(records[0].chunks.iter().map(|c| c.chars).sum::<u32>(), 12);
}

#[test]
fn inference_perf_error_types_give_kinds_where_they_say_one() {
    let kind = |t: &str| {
        let text = format!(
            r#"[{{"start_time": 1.0, "end_time": 2.0, "error": {{"error_type": "{t}", "error_msg": "m"}}}}]"#
        );
        inference_perf::parse(&text).unwrap().requests[0].error_kind
    };
    assert_eq!(
        kind("HTTP Error 429"),
        Some((ErrorKind::Throttled, Some(429)))
    );
    assert_eq!(kind("TimeoutError"), Some((ErrorKind::Timeout, None)));
    assert_eq!(kind("ClientConnectorError"), None);
    assert_eq!(kind("HTTP Error x"), None);
}

#[test]
fn inference_perf_summary_is_refused_naming_the_per_request_file() {
    let err = inference_perf::parse(&sample(SUMMARY)).err().unwrap();
    assert!(err.contains("per_request: true"), "{err}");
    assert!(err.contains("per_request_lifecycle_metrics.json"), "{err}");
}

#[test]
fn inference_perf_hostile_files_give_errors_not_panics() {
    for (text, says) in [
        ("[1]", "entry 0 is not a JSON object"),
        (r#"[{"start_time": 5.0}]"#, "entry 0 has no 'end_time'"),
        (
            r#"[{"start_time": 5.0, "end_time": 4.0}]"#,
            "a duration must be",
        ),
        (r#"[{"start_time": "x", "end_time": 4.0}]"#, "not a number"),
        (
            r#"[{"start_time": 1.0, "end_time": 2.0, "info": {"request_metrics": {"text": {"input_tokens": 1}}, "response_metrics": {"chunk_times": [1.5, 0.5], "response_chunks": ["{}", "{}"]}}}]"#,
            "chunk_times",
        ),
        (
            r#"[{"start_time": 1.0, "end_time": 2.0, "info": {"response_metrics": {"chunk_times": [1.5], "response_chunks": []}}}]"#,
            "1:1",
        ),
        ("[", "not JSON"),
    ] {
        let err = inference_perf::parse(text).err().unwrap();
        assert!(err.contains(says), "{text}: {err}");
    }
}

#[test]
fn inference_benchmarker_milliseconds_are_read_as_seconds() {
    let b = inference_benchmarker::benchmarks(&sample(BENCHMARKER)).unwrap();
    assert_eq!(b.len(), 2);
    let t = &b[1];
    assert_eq!(t.id, "throughput");
    assert_eq!((t.successful, t.failed), (248, 2));
    // time_to_first_token_ms.p50 180.25 ms, p99 275.125 ms.
    assert!((t.ttft.p50 - 0.18025).abs() < 1e-12);
    assert!((t.ttft.p99 - 0.275125).abs() < 1e-12);
    assert!((t.e2e.avg - 0.44075).abs() < 1e-12);
    // inter_token_latency_ms.p50 8.0 ms: 125 tokens/s after the first.
    assert!((1.0 / t.itl.p50 - 125.0).abs() < 1e-9);
}

#[test]
fn inference_benchmarker_is_refused_with_its_figures_and_no_records() {
    let err = inference_benchmarker::parse(&sample(BENCHMARKER))
        .err()
        .unwrap();
    assert!(err.contains("aggregates only"), "{err}");
    assert!(err.contains("throughput: 248 ok, 2 failed"), "{err}");
    assert!(err.contains("p50 0.180"), "{err}");
    assert!(err.contains("decode p50 ≈ 125.0 tok/s"), "{err}");
}

#[test]
fn inference_benchmarker_hostile_files_give_errors_not_panics() {
    for (text, says) in [
        (r#"{"results": 3}"#, "'results' is not a list"),
        (r#"{"results": []}"#, "'results' is empty"),
        (
            r#"{"results": [{"id": "x"}]}"#,
            "has no 'successful_requests'",
        ),
        (
            r#"{"results": [{"successful_requests": 1, "failed_requests": 0, "time_to_first_token_ms": {"p50": -1}}]}"#,
            "a duration must be",
        ),
        ("{", "not JSON"),
    ] {
        let err = inference_benchmarker::parse(text).err().unwrap();
        assert!(err.contains(says), "{text}: {err}");
    }
}

//! Every fault appears as specified, on the wire and in the truth file.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use tokenpace_sim::SimHandle;

const STREAM: &str = r#","stream":true,"max_tokens":8,"ignore_eos":true"#;

async fn with_fault(sim: &SimHandle, fault: &str, extra: &str) -> TimedResponse {
    request(
        sim,
        "POST",
        "/v1/chat/completions",
        &[("x-tokenpace-fault", fault)],
        chat(extra).as_bytes(),
    )
    .await
}

fn faults_of(line: &Value) -> Vec<String> {
    line["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn id_of(r: &TimedResponse) -> String {
    let first = r
        .events()
        .into_iter()
        .find_map(|e| serde_json::from_str::<Value>(&e).ok())
        .unwrap();
    first["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn http_error_faults() {
    let t = TestSim::start(|_| {}).await;
    for (fault, status, code) in [
        ("http_429", 429, "rate_limit_exceeded"),
        ("http_500", 500, "internal_error"),
        ("http_503", 503, "service_unavailable"),
    ] {
        let r = with_fault(&t.sim, fault, STREAM).await;
        assert_eq!(r.status, status);
        assert_eq!(r.json()["error"]["code"], code);
        // Throttling errors say when to come back; a 429 also says which
        // limit ran out, in OpenAI's headers on this route.
        let retry = (status != 500).then_some("1");
        assert_eq!(r.header("retry-after"), retry, "{fault}");
        let remaining = (status == 429).then_some("0");
        assert_eq!(r.header("x-ratelimit-remaining-requests"), remaining);
        assert_eq!(r.header("anthropic-ratelimit-requests-remaining"), None);
    }
    let lines = t.finish().await;
    let kinds: Vec<Vec<String>> = lines.iter().map(faults_of).collect();
    assert_eq!(kinds, [["http_429"], ["http_500"], ["http_503"]]);
    assert!(lines.iter().all(|l| l["outcome"] == "error"));
    let details: Vec<&Value> = lines.iter().map(|l| &l["faults"][0]["detail"]).collect();
    assert_eq!(details[0], "retry-after 1 s");
    assert!(details[1].is_null());
    assert_eq!(details[2], "retry-after 1 s");
}

#[tokio::test]
async fn a_429_on_anthropics_route_sends_anthropics_rate_limit_headers() {
    let t = TestSim::start(|c| c.faults.retry_after_s = 7).await;
    let body = r#"{"model":"m","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#;
    let fault = [("x-tokenpace-fault", "http_429")];
    let r = request(&t.sim, "POST", "/v1/messages", &fault, body.as_bytes()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    assert_eq!(
        r.header("anthropic-ratelimit-requests-remaining"),
        Some("0")
    );
    assert!(r.header("anthropic-ratelimit-tokens-limit").is_some());
    assert_eq!(r.header("x-ratelimit-remaining-requests"), None);
    let lines = t.finish().await;
    assert_eq!(lines[0]["faults"][0]["detail"], "retry-after 7 s");
}

#[tokio::test]
async fn stalls_delay_the_first_token_and_the_middle() {
    let t = TestSim::start(|c| c.faults.stall_ms = 60.0).await;
    let r = with_fault(&t.sim, "stall_first", STREAM).await;
    let first = r.pieces[0].0 - r.sent;
    assert!(
        first >= Duration::from_millis(65),
        "5 ms TTFT + 60 ms stall: {first:?}"
    );
    let r2 = with_fault(&t.sim, "stall_mid", STREAM).await;
    assert!(r2.pieces[0].0 - r2.sent < Duration::from_millis(40));
    let gaps: Vec<Duration> = r2.pieces.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert!(
        gaps[3] >= Duration::from_millis(60),
        "stall before chunk 4 of 8: {gaps:?}"
    );
    assert!(
        gaps.iter()
            .filter(|g| **g >= Duration::from_millis(60))
            .count()
            == 1
    );
    let lines = t.finish().await;
    assert_eq!(faults_of(&lines[0]), ["stall_first"]);
    assert_eq!(faults_of(&lines[1]), ["stall_mid"]);
    assert_eq!(lines[1]["completion_tokens"], 8);
}

#[tokio::test]
async fn reset_and_truncate_end_the_stream_halfway() {
    let t = TestSim::start(|_| {}).await;
    let r = with_fault(&t.sim, "reset", STREAM).await;
    assert!(matches!(r.end, End::Reset | End::Eof), "{:?}", r.end);
    assert!(!r.text().contains("[DONE]"));
    let r = with_fault(&t.sim, "truncate", STREAM).await;
    assert_eq!(r.end, End::Complete, "the HTTP body ends cleanly");
    assert!(!r.text().contains("[DONE]") && !r.text().contains("finish_reason\":\"length"));
    assert_eq!(r.events().len(), 4);
    let lines = t.finish().await;
    assert_eq!(
        (lines[0]["outcome"].as_str(), faults_of(&lines[0])),
        (Some("reset"), vec!["reset".to_owned()])
    );
    assert_eq!(lines[0]["completion_tokens"], 4);
    assert_eq!(lines[1]["outcome"], "truncated");
    assert_eq!(faults_of(&lines[1]), ["truncate"]);
}

#[tokio::test]
async fn malformed_keep_alive_crlf_and_long_events() {
    let t = TestSim::start(|_| {}).await;
    let r = with_fault(&t.sim, "malformed_json", STREAM).await;
    let events = r.events();
    let bad: Vec<&String> = events
        .iter()
        .filter(|e| *e != "[DONE]" && serde_json::from_str::<Value>(e).is_err())
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(events.last().unwrap(), "[DONE]");

    let r = with_fault(&t.sim, "keep_alive", STREAM).await;
    assert_eq!(r.text().matches(": keep-alive\n\n").count(), 2);
    assert!(r.text().starts_with(": keep-alive\n\n"));
    assert_eq!(r.events().len(), 8 + 2, "comments are not events");

    let r = with_fault(&t.sim, "crlf", STREAM).await;
    let text = r.text();
    assert!(text.contains("\r\n\r\n"));
    assert!(text
        .char_indices()
        .filter(|(_, c)| *c == '\n')
        .all(|(i, _)| text.as_bytes()[i - 1] == b'\r'));
    assert_eq!(r.events().last().unwrap(), "[DONE]");

    let r = with_fault(&t.sim, "long_event", STREAM).await;
    let long: Vec<String> = r
        .events()
        .into_iter()
        .filter(|e| e.len() > 64 * 1024)
        .collect();
    assert_eq!(long.len(), 1);
    assert!(serde_json::from_str::<Value>(&long[0]).is_ok());

    let lines = t.finish().await;
    let kinds: Vec<Vec<String>> = lines.iter().map(faults_of).collect();
    assert_eq!(kinds[0], ["malformed_json"]);
    assert_eq!(kinds[1], ["keep_alive"]);
    assert_eq!(kinds[2], ["crlf"]);
    assert_eq!(kinds[3], ["long_event"]);
}

#[tokio::test]
async fn split_events_arrive_in_pieces_cut_inside_characters() {
    let t = TestSim::start(|c| c.text.lang = tokenpace_corpus::TextLang::Zh).await;
    let r = with_fault(&t.sim, "split", STREAM).await;
    assert!(
        r.pieces.len() > 10,
        "8 content + finish events, each in 2+ pieces: {}",
        r.pieces.len()
    );
    let cut_inside_char = r
        .pieces
        .iter()
        .filter(|(_, p)| std::str::from_utf8(p).is_err())
        .count();
    assert!(
        cut_inside_char > 0,
        "some piece ends or starts inside a UTF-8 character"
    );
    assert_eq!(r.events().last().unwrap(), "[DONE]");
    assert_eq!(r.events().len(), 8 + 2);
    assert!(r
        .events()
        .iter()
        .rev()
        .skip(1)
        .all(|e| serde_json::from_str::<Value>(e).is_ok()));
    let id = id_of(&r);
    let lines = t.finish().await;
    let l = line(&lines, &id);
    assert_eq!(faults_of(l), ["split"]);
    assert!(l["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["writes"].as_u64().unwrap() >= 2));
}

#[tokio::test]
async fn slow_loris_trickles_byte_by_byte() {
    let t = TestSim::start(|c| c.faults.trickle_ms = 0.5).await;
    let r = with_fault(&t.sim, "slow_loris", r#","stream":true,"max_tokens":1"#).await;
    assert_eq!(r.events().last().unwrap(), "[DONE]");
    let took = r.pieces.last().unwrap().0 - r.sent;
    // Hundreds of bytes, at least 0.5 ms apart each.
    assert!(
        took >= Duration::from_millis(r.body.len() as u64 / 2),
        "{took:?} for {} bytes",
        r.body.len()
    );
    let lines = t.finish().await;
    assert_eq!(faults_of(&lines[0]), ["slow_loris"]);
    let writes: u64 = lines[0]["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["writes"].as_u64().unwrap())
        .sum();
    assert!(
        writes as usize > r.body.len(),
        "every byte (framing included) is its own write"
    );
}

#[tokio::test]
async fn non_streamed_bodies_take_faults_too() {
    let t = TestSim::start(|_| {}).await;
    let r = with_fault(&t.sim, "split", r#","max_tokens":4"#).await;
    assert_eq!(r.json()["usage"]["completion_tokens"], 4);
    // The head and the body's first piece may arrive in one read, so the
    // reads after the head number at least the writes less one.
    let split_reads = r.pieces.len();
    let r = with_fault(&t.sim, "truncate", r#","max_tokens":4"#).await;
    assert_eq!(r.end, End::Eof);
    let r = with_fault(&t.sim, "malformed_json", r#","max_tokens":4"#).await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    let lines = t.finish().await;
    let kinds: Vec<Vec<String>> = lines.iter().map(faults_of).collect();
    assert_eq!(kinds, [["split"], ["truncate"], ["malformed_json"]]);
    let writes = lines[0]["chunks"][0]["writes"].as_u64().unwrap() as usize;
    assert!(writes >= 2, "{writes} writes");
    assert!(
        split_reads + 1 >= writes,
        "{split_reads} reads of {writes} writes"
    );
}

#[tokio::test]
async fn rules_fire_every_nth_request_or_with_a_probability() {
    let t = TestSim::start(|c| {
        c.faults.inject = vec![
            "crlf:every=2".parse().unwrap(),
            "http_503:0.5".parse().unwrap(),
        ];
        c.seed = 11;
    })
    .await;
    let mut unavailable = 0;
    for i in 1..=40 {
        let r = post(
            &t.sim,
            "/v1/chat/completions",
            &chat(r#","stream":true,"max_tokens":1"#),
        )
        .await;
        if r.status == 503 {
            unavailable += 1;
        } else {
            assert_eq!(r.text().contains("\r\n"), i % 2 == 0, "request {i}");
        }
    }
    assert!((8..=32).contains(&unavailable), "{unavailable} of 40");
    let lines = t.finish().await;
    let recorded = lines
        .iter()
        .filter(|l| faults_of(l).contains(&"http_503".to_owned()))
        .count();
    assert_eq!(recorded, unavailable);
}

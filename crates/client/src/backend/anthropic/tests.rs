use super::*;
use crate::backend::stream_tests::{any_split_gives_the_same_record, never_panics, record, sse};
use proptest::prelude::*;
use tokenpace_core::record::{CountSource, ErrorKind};

/// A whole stream as Anthropic sends it: thinking, then text, then a tool
/// call, with pings between.
fn stream() -> Vec<serde_json::Value> {
    vec![
        json!({"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":21,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}),
        json!({"type":"ping"}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"想一想"}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"你好"}}),
        json!({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":", world"}}),
        json!({"type":"content_block_stop","index":1}),
        json!({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"search","input":{}}}),
        json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}),
        json!({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"天气\"}"}}),
        json!({"type":"content_block_stop","index":2}),
        json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}),
        json!({"type":"message_stop"}),
    ]
}

#[test]
fn a_whole_stream_becomes_one_record() {
    let r = record(&Anthropic, &sse(&stream(), false), &[]);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.response_id.as_deref(), Some("msg_01"));
    // Thinking is reasoning, text the answer, tool input the tool call:
    // the first visible answer character is the text's.
    assert_eq!(r.reasoning_chunks.len(), 1);
    assert_eq!(r.reasoning_chunks[0].chars, 3);
    assert_eq!(r.chunks.len(), 2);
    assert_eq!(r.output_chars, 2 + 7);
    assert_eq!(r.output_cjk_chars, 2);
    assert_eq!(r.tool_calls, 1);
    assert_eq!(r.tool_chunks.len(), 3);
    // Input tokens from message_start, output tokens from message_delta.
    let prompt = r.prompt_tokens.unwrap();
    assert_eq!(
        (prompt.count, prompt.source),
        (21, CountSource::ServerUsage)
    );
    assert_eq!(r.output_tokens.unwrap().count, 9);
    // The same with CRLF line ends.
    assert_eq!(record(&Anthropic, &sse(&stream(), true), &[]), r);
}

#[test]
fn stop_reasons_errors_and_cut_streams() {
    let d = |v: serde_json::Value| match Anthropic.parse_event(v.to_string().as_bytes()) {
        Ok(Event::Delta(d)) => (d.finish_reason.map(Cow::into_owned), d.error),
        other => panic!("{other:?}"),
    };
    for (reason, ours) in [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "refusal"),
    ] {
        let e = json!({"type":"message_delta","delta":{"stop_reason":reason},"usage":{"output_tokens":1}});
        assert_eq!(d(e).0.as_deref(), Some(ours));
    }
    let e = json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}});
    assert_eq!(d(e).1.as_deref(), Some("Overloaded"));
    // An error event ends the request as the server's error.
    let mut events = stream()[..8].to_vec();
    events.push(json!({"type":"error","error":{"type":"api_error","message":"boom"}}));
    let r = record(&Anthropic, &sse(&events, false), &[]);
    assert_eq!(
        r.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::ServerError)
    );
    // A stream cut before message_delta and message_stop was cut.
    let r = record(&Anthropic, &sse(&stream()[..9], false), &[]);
    assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::StreamCut));
    // A malformed event is one.
    let mut bytes = sse(&stream()[..8], false);
    bytes.extend_from_slice(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":\n\n");
    let r = record(&Anthropic, &bytes, &[]);
    assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::MalformedEvent));
    // Unknown event types and shapes are not errors.
    assert!(matches!(
        Anthropic.parse_event(br#"{"type":"future_event","x":1}"#),
        Ok(Event::Delta(_))
    ));
    assert!(Anthropic.parse_event(br#"{"no_type":1}"#).is_err());
}

#[test]
fn request_body_and_headers() {
    let p = Prompt {
        messages: Some(json!([
            {"role":"system","content":"be brief"},
            {"role":"user","content":"hi"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"search","arguments":"{\"q\":\"x\"}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"found"},
        ])),
        max_tokens: 64,
        ignore_eos: true,
        tools: Some(
            json!([{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}]),
        ),
        tool_choice: Some("required"),
        ..Prompt::default()
    };
    let b = Anthropic.body("claude", &p);
    assert_eq!(b["system"], "be brief");
    assert_eq!(
        (b["max_tokens"].clone(), b["stream"].clone()),
        (json!(64), json!(true))
    );
    assert_eq!(b["messages"][0], json!({"role":"user","content":"hi"}));
    assert_eq!(b["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(b["messages"][1]["content"][0]["input"], json!({"q":"x"}));
    assert_eq!(b["messages"][2]["content"][0]["tool_use_id"], "call_1");
    assert_eq!(b["tools"][0]["input_schema"], json!({"type":"object"}));
    assert_eq!(b["tool_choice"], json!({"type":"any"}));
    let plain = Anthropic.body(
        "m",
        &Prompt {
            text: "q".into(),
            max_tokens: 1,
            ..Prompt::default()
        },
    );
    assert_eq!(plain["messages"], json!([{"role":"user","content":"q"}]));
    assert!(plain.get("system").is_none());
    // The key goes in x-api-key, never as a bearer token.
    let h = Anthropic.auth_headers(Some("sk-ant-1"));
    assert!(h.contains(&("x-api-key", "sk-ant-1".to_string())));
    assert!(h.contains(&("anthropic-version", VERSION.to_string())));
    assert!(!h.iter().any(|(k, _)| *k == "authorization"));
    assert_eq!(Anthropic.auth_headers(None).len(), 1);
}

proptest! {
    #[test]
    fn any_split_gives_the_same(cuts in prop::collection::vec(0usize..4000, 0..12), crlf: bool) {
        any_split_gives_the_same_record(&Anthropic, &sse(&stream(), crlf), &cuts);
    }

    #[test]
    fn garbage_never_panics(flip in 0usize..4000, garbage in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&Anthropic, &sse(&stream(), false), flip, &garbage);
    }

    #[test]
    fn odd_json_never_panics(kind in prop_oneof![Just("message_start"), Just("content_block_start"), Just("content_block_delta"), Just("message_delta"), Just("error")], v in "[a-z{}\\[\\]\":,0-9 ]{0,40}") {
        for field in ["message", "content_block", "delta", "usage", "error", "index"] {
            let data = format!("{{\"type\":\"{kind}\",\"{field}\":{v}}}");
            let _ = Anthropic.parse_event(data.as_bytes());
        }
    }
}

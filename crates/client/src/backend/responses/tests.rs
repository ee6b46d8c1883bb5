use super::*;
use crate::backend::stream_tests::{any_split_gives_the_same_record, never_panics, record, sse};
use proptest::prelude::*;
use tokenpace_core::record::{CountSource, ErrorKind};

/// A whole stream as the Responses API sends it: reasoning, text, then a
/// function call.
fn stream() -> Vec<serde_json::Value> {
    let resp = |status: &str| json!({"id":"resp_1","object":"response","status":status,"model":"m","output":[]});
    let mut done = resp("completed");
    done["output"] = json!([{"type":"reasoning"},{"type":"message"},{"type":"function_call","call_id":"call_1","name":"search","arguments":"{\"q\":\"天气\"}"}]);
    done["usage"] = json!({"input_tokens":30,"input_tokens_details":{"cached_tokens":16},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":42});
    vec![
        json!({"type":"response.created","sequence_number":0,"response":resp("in_progress")}),
        json!({"type":"response.in_progress","sequence_number":1,"response":resp("in_progress")}),
        json!({"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_1"}}),
        json!({"type":"response.reasoning_text.delta","output_index":0,"item_id":"rs_1","delta":"想"}),
        json!({"type":"response.reasoning_summary_text.delta","output_index":0,"item_id":"rs_1","delta":"sum"}),
        json!({"type":"response.output_item.added","output_index":1,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}),
        json!({"type":"response.content_part.added","output_index":1,"content_index":0,"part":{"type":"output_text","text":""}}),
        json!({"type":"response.output_text.delta","output_index":1,"content_index":0,"item_id":"msg_1","delta":"你好"}),
        json!({"type":"response.output_text.delta","output_index":1,"content_index":0,"item_id":"msg_1","delta":"!"}),
        json!({"type":"response.output_text.done","output_index":1,"content_index":0,"item_id":"msg_1","text":"你好!"}),
        json!({"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"search","arguments":""}}),
        json!({"type":"response.function_call_arguments.delta","output_index":2,"item_id":"fc_1","delta":"{\"q\":"}),
        json!({"type":"response.function_call_arguments.delta","output_index":2,"item_id":"fc_1","delta":"\"天气\"}"}),
        json!({"type":"response.function_call_arguments.done","output_index":2,"item_id":"fc_1","arguments":"{\"q\":\"天气\"}"}),
        json!({"type":"response.completed","sequence_number":14,"response":done}),
    ]
}

#[test]
fn a_whole_stream_becomes_one_record() {
    let r = record(&Responses, &sse(&stream(), false), &[]);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.response_id.as_deref(), Some("resp_1"));
    assert_eq!(r.reasoning_chunks.len(), 2);
    assert_eq!(r.chunks.len(), 2);
    assert_eq!((r.output_chars, r.output_cjk_chars), (3, 2));
    assert_eq!(r.tool_calls, 1);
    assert_eq!(r.tool_chunks.len(), 3);
    let prompt = r.prompt_tokens.unwrap();
    assert_eq!(
        (prompt.count, prompt.source),
        (30, CountSource::ServerUsage)
    );
    assert_eq!(r.output_tokens.unwrap().count, 12);
    assert_eq!((r.reasoning_tokens, r.cached_tokens), (Some(4), Some(16)));
    assert_eq!(record(&Responses, &sse(&stream(), true), &[]), r);
}

#[test]
fn finish_reasons_failures_and_cut_streams() {
    let finish = |v: serde_json::Value| match Responses.parse_event(v.to_string().as_bytes()) {
        Ok(Event::Delta(d)) => d.finish_reason.map(Cow::into_owned),
        other => panic!("{other:?}"),
    };
    let done = json!({"type":"response.completed","response":{"id":"r","output":[{"type":"message"}],"usage":{"input_tokens":1,"output_tokens":2}}});
    assert_eq!(finish(done).as_deref(), Some("stop"));
    let cut = json!({"type":"response.incomplete","response":{"id":"r","incomplete_details":{"reason":"max_output_tokens"}}});
    assert_eq!(finish(cut).as_deref(), Some("length"));
    // response.failed and error end the request with the server's message.
    let mut events = stream()[..8].to_vec();
    events.push(json!({"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"overloaded"}}}));
    let r = record(&Responses, &sse(&events, false), &[]);
    let e = r.error.unwrap();
    assert_eq!(
        (e.kind, &*e.message),
        (ErrorKind::ServerError, "overloaded")
    );
    let mut events = stream()[..8].to_vec();
    events.push(json!({"type":"error","code":"rate_limit","message":"slow down","param":null}));
    let r = record(&Responses, &sse(&events, false), &[]);
    assert_eq!(&*r.error.unwrap().message, "slow down");
    // Cut before response.completed.
    let r = record(&Responses, &sse(&stream()[..9], false), &[]);
    assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::StreamCut));
    let mut bytes = sse(&stream()[..8], false);
    bytes.extend_from_slice(b"data: {\"type\":\"response.output_text.delta\",\"delta\":\n\n");
    let r = record(&Responses, &bytes, &[]);
    assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::MalformedEvent));
    assert!(matches!(
        Responses.parse_event(br#"{"type":"response.future"}"#),
        Ok(Event::Delta(_))
    ));
}

#[test]
fn request_body() {
    let p = Prompt {
        messages: Some(json!([
            {"role":"system","content":"be brief"},
            {"role":"user","content":[{"type":"text","text":"hi"}]},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"search","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"found"},
        ])),
        max_tokens: 64,
        tools: Some(json!([{"type":"function","function":{"name":"search","description":"d"}}])),
        tool_choice: Some("auto"),
        ..Prompt::default()
    };
    let b = Responses.body("m", &p);
    assert_eq!(
        (b["max_output_tokens"].clone(), b["stream"].clone()),
        (json!(64), json!(true))
    );
    let input = b["input"].as_array().unwrap();
    assert_eq!(input.len(), 4);
    assert_eq!(
        input[0],
        json!({"type":"message","role":"system","content":"be brief"})
    );
    assert_eq!(input[1]["content"], "hi");
    assert_eq!(input[2]["type"], "function_call");
    assert_eq!(
        input[3],
        json!({"type":"function_call_output","call_id":"call_1","output":"found"})
    );
    assert_eq!(
        b["tools"][0],
        json!({"type":"function","name":"search","description":"d"})
    );
    assert_eq!(b["tool_choice"], "auto");
    let plain = Responses.body(
        "m",
        &Prompt {
            text: "q".into(),
            max_tokens: 1,
            ..Prompt::default()
        },
    );
    assert_eq!(plain["input"], "q");
    assert!(plain.get("ignore_eos").is_none());
    assert_eq!(
        Responses.auth_headers(Some("sk-1")),
        vec![("authorization", "Bearer sk-1".to_string())]
    );
}

proptest! {
    #[test]
    fn any_split_gives_the_same(cuts in prop::collection::vec(0usize..5000, 0..12), crlf: bool) {
        any_split_gives_the_same_record(&Responses, &sse(&stream(), crlf), &cuts);
    }

    #[test]
    fn garbage_never_panics(flip in 0usize..5000, garbage in prop::collection::vec(any::<u8>(), 0..512)) {
        never_panics(&Responses, &sse(&stream(), false), flip, &garbage);
    }

    #[test]
    fn odd_json_never_panics(kind in prop_oneof![Just("response.created"), Just("response.completed"), Just("response.output_item.added"), Just("response.output_text.delta"), Just("error")], v in "[a-z{}\\[\\]\":,0-9 ]{0,40}") {
        for field in ["response", "item", "delta", "output_index", "message", "code"] {
            let data = format!("{{\"type\":\"{kind}\",\"{field}\":{v}}}");
            let _ = Responses.parse_event(data.as_bytes());
        }
    }
}

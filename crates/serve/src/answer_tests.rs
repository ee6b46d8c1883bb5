use super::*;
use crate::generate::FinishReason;
use crate::request::parse;
use serde_json::Value;

fn done(reason: FinishReason) -> Finished {
    Finished {
        reason,
        prompt_tokens: 40,
        cached_tokens: Some(10),
        completion_tokens: 6,
        queue_ms: 0.0,
        prompt_ms: 5.0,
        predicted_ms: 10.0,
    }
}

fn answer(endpoint: Endpoint, body: &str) -> Answer {
    let request = parse(endpoint, body.as_bytes(), 1).unwrap();
    Answer::new(Events::new(endpoint, "id_1", "m", 7, false), &request, 3)
}

/// The JSON data of every SSE event.
fn data(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

/// Streams `tokens` and ends; every event's data, and the outcome.
fn stream(a: &mut Answer, tokens: &[&str], reason: FinishReason) -> (Vec<Value>, ToolOutcome) {
    let mut bytes = a.start(40);
    for t in tokens {
        bytes.extend(a.token(t));
    }
    let (end, outcome) = a.end(&done(reason));
    bytes.extend(end);
    (data(&bytes), outcome)
}

const CALL: [&str; 4] = [
    "<tool_call>\n{\"name\": \"search\", ",
    "\"arguments\": {\"query\"",
    ": \"cats\"}}\n",
    "</tool_call>",
];

const CHAT_TOOLS: &str = r#"{"messages":[{"role":"user","content":"find cats"}],"stream":true,
    "stream_options":{"include_usage":true},
    "tools":[{"type":"function","function":{"name":"search","parameters":{"type":"object"}}}]"#;

#[test]
fn a_chat_tool_call_streams_as_tool_call_deltas() {
    let mut a = answer(
        Endpoint::Chat,
        &format!("{CHAT_TOOLS},\"tool_choice\":\"required\"}}"),
    );
    let (events, outcome) = stream(&mut a, &CALL, FinishReason::Stop);
    assert_eq!(outcome, ToolOutcome::Called);
    let calls: Vec<&Value> = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"]["name"], "search");
    assert_eq!(calls[0]["id"], "call_00000003");
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"query\": \"cats\"}");
    assert!(events.iter().all(|e| e["choices"][0]["delta"]
        .get("content")
        .is_none_or(Value::is_null)));
    let finish = &events[events.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(events[events.len() - 1]["usage"]["completion_tokens"], 6);
}

#[test]
fn a_demanded_call_not_made_is_text_and_said_to_be_missing() {
    let mut a = answer(
        Endpoint::Chat,
        &format!("{CHAT_TOOLS},\"tool_choice\":\"required\"}}"),
    );
    let (events, outcome) = stream(&mut a, &["Cats ", "are nice."], FinishReason::Stop);
    assert_eq!(outcome, ToolOutcome::Missing);
    let text: String = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Cats are nice.");
    assert_eq!(
        events[events.len() - 2]["choices"][0]["finish_reason"],
        "stop"
    );
    // Under auto, text is a choice the model may make.
    let mut a = answer(Endpoint::Chat, &format!("{CHAT_TOOLS}}}"));
    assert_eq!(
        stream(&mut a, &["Hi"], FinishReason::Stop).1,
        ToolOutcome::Text
    );
    let mut a = answer(
        Endpoint::Chat,
        r#"{"messages":[{"role":"user","content":"x"}]}"#,
    );
    assert_eq!(
        stream(&mut a, &["Hi"], FinishReason::Stop).1,
        ToolOutcome::NotAsked
    );
}

#[test]
fn anthropic_and_responses_tool_calls_stream_in_their_shapes() {
    let body = r#"{"max_tokens":50,"stream":true,"messages":[{"role":"user","content":"find cats"}],
        "tools":[{"name":"search","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}"#;
    let (events, outcome) = stream(
        &mut answer(Endpoint::Messages, body),
        &CALL,
        FinishReason::Stop,
    );
    assert_eq!(outcome, ToolOutcome::Called);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[..3], ["message_start", "ping", "content_block_start"]);
    assert_eq!(events[2]["content_block"]["type"], "tool_use");
    assert_eq!(events[2]["content_block"]["id"], "toolu_00000003");
    let json: String = events
        .iter()
        .filter_map(|e| e["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(json, "{\"query\": \"cats\"}");
    let delta = events
        .iter()
        .find(|e| e["type"] == "message_delta")
        .unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "tool_use");

    let body =
        r#"{"input":"find cats","stream":true,"tools":[{"type":"function","name":"search"}]}"#;
    let (events, _) = stream(
        &mut answer(Endpoint::Responses, body),
        &CALL,
        FinishReason::Stop,
    );
    let added = events
        .iter()
        .find(|e| e["type"] == "response.output_item.added")
        .unwrap();
    assert_eq!(added["item"]["type"], "function_call");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.function_call_arguments.done")
        .unwrap();
    assert_eq!(done["arguments"], "{\"query\": \"cats\"}");
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.completed");
    assert_eq!(last["response"]["output"][0]["name"], "search");
}

#[test]
fn typed_streams_open_and_close_even_when_empty() {
    let body = r#"{"max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}"#;
    let (events, _) = stream(
        &mut answer(Endpoint::Messages, body),
        &[],
        FinishReason::Stop,
    );
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[0]["message"]["usage"]["input_tokens"], 40);
    let body = r#"{"input":"x","stream":true,"max_output_tokens":6}"#;
    let (events, _) = stream(
        &mut answer(Endpoint::Responses, body),
        &["a", "b"],
        FinishReason::Length,
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "response.incomplete");
    assert_eq!(last["response"]["output"][0]["content"][0]["text"], "ab");
    assert_eq!(
        last["response"]["usage"]["input_tokens_details"]["cached_tokens"],
        10
    );
}

#[test]
fn whole_bodies_in_each_api() {
    let text = CALL.concat();
    let body = r#"{"max_tokens":50,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"search","input_schema":{}}]}"#;
    let (bytes, outcome) = answer(Endpoint::Messages, body).body(&text, &done(FinishReason::Stop));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(outcome, ToolOutcome::Called);
    assert_eq!(
        (v["type"].as_str(), v["stop_reason"].as_str()),
        (Some("message"), Some("tool_use"))
    );
    assert_eq!(v["content"][0]["input"]["query"], "cats");
    assert_eq!(
        (
            v["usage"]["input_tokens"].as_u64(),
            v["usage"]["cache_read_input_tokens"].as_u64()
        ),
        (Some(30), Some(10))
    );
    let (bytes, _) = answer(Endpoint::Messages, body).body("Hello", &done(FinishReason::Length));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (v["content"][0]["text"].as_str(), v["stop_reason"].as_str()),
        (Some("Hello"), Some("max_tokens"))
    );

    let body = r#"{"input":"x","tools":[{"type":"function","name":"search"}]}"#;
    let (bytes, _) = answer(Endpoint::Responses, body).body(&text, &done(FinishReason::Stop));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        (v["object"].as_str(), v["status"].as_str()),
        (Some("response"), Some("completed"))
    );
    assert_eq!(v["output"][0]["type"], "function_call");
    assert_eq!(v["output"][0]["arguments"], "{\"query\": \"cats\"}");
    let (bytes, _) =
        answer(Endpoint::Responses, r#"{"input":"x"}"#).body("Hi", &done(FinishReason::Stop));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["output"][0]["content"][0]["text"], "Hi");
    assert_eq!(v["usage"]["total_tokens"], 46);

    // Broken arguments, not yet sent: the answer is text.
    let chat = r#"{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"search"}}],"tool_choice":"required"}"#;
    let broken = "<tool_call>{\"name\": \"search\", \"arguments\": {\"query\": cats}}";
    let (bytes, outcome) = answer(Endpoint::Chat, chat).body(broken, &done(FinishReason::Stop));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(outcome, ToolOutcome::Missing);
    assert_eq!(v["choices"][0]["message"]["content"], broken);
    assert_eq!(v["timings"]["cache_n"], 10);
}

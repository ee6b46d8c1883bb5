//! Chunks in each dialect: tokenpace's are today's bytes exactly, vLLM's
//! have its fields.

use super::super::{Dialect, VLLM_FINGERPRINT};
use super::*;
use serde_json::{json, Value};

fn data(events: &[u8]) -> Vec<Value> {
    std::str::from_utf8(events)
        .unwrap()
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

#[test]
fn tokenpace_chunks_are_the_plain_events_byte_for_byte() {
    for endpoint in [Endpoint::Chat, Endpoint::Completions] {
        let e = Events::new(endpoint, "id-1", "m", 5, false);
        for (first, pad) in [(true, None), (false, None), (false, Some(4096))] {
            let c = ChunkExtras {
                first,
                pad_to: pad,
                ..ChunkExtras::default()
            };
            assert_eq!(e.text_chunk("你\"好", &c), e.content("你\"好", first, pad));
        }
        for usage in [None, Some(Usage::new(3, 4).with_cached(2))] {
            let end = StreamTail {
                finish_reason: Some("length"),
                usage,
                running: None,
            };
            assert_eq!(e.stream_end(&end), e.finish("length", usage));
        }
        assert!(!e.finishes_on_last_chunk());
    }
    let e = Events::new(Endpoint::Chat, "c", "m", 5, false);
    let start = e.tool_chunk(Some(("call_1", "search")), "{", &ChunkExtras::default());
    assert_eq!(
        std::str::from_utf8(&start).unwrap(),
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\
         \"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\
         \"function\":{\"name\":\"search\",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n\
         data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":5,\"model\":\"m\",\"choices\":[{\"index\":0,\
         \"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    );
}

#[test]
fn tokenpace_continuous_usage_is_the_usage_object_on_every_chunk() {
    let e = Events::new(Endpoint::Chat, "c", "m", 5, false);
    let c = ChunkExtras {
        first: true,
        usage: Some(Usage::new(7, 2)),
        ..ChunkExtras::default()
    };
    let v = data(&e.text_chunk("ab", &c));
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0]["usage"],
        json!({"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9})
    );
    assert_eq!(v[0]["choices"][0]["delta"]["role"], "assistant");
}

#[test]
fn vllm_chat_chunks_have_its_fields() {
    let e = Events::new(Endpoint::Chat, "c", "m", 5, false).with_dialect(Dialect::Vllm);
    assert!(e.finishes_on_last_chunk());
    let running = Some(Usage::new(37, 1));
    let first = data(&e.text_chunk(
        "It",
        &ChunkExtras {
            first: true,
            usage: running,
            ..ChunkExtras::default()
        },
    ));
    assert_eq!(first.len(), 2, "a role-only chunk, then the token's");
    assert_eq!(
        first[0]["choices"][0],
        json!({"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null})
    );
    assert_eq!(first[0]["usage"]["completion_tokens"], 0);
    assert_eq!(first[0]["prompt_token_ids"], Value::Null);
    assert!(first[0].get("prompt_text").is_some());
    assert_eq!(first[1]["choices"][0]["token_ids"], Value::Null);
    assert!(first[1]["choices"][0].get("stop_reason").is_none());
    assert_eq!(
        first[1]["usage"],
        json!({"prompt_tokens":37,"total_tokens":38,"completion_tokens":1,"completion_tokens_details":null})
    );
    let last = data(&e.text_chunk(
        " of",
        &ChunkExtras {
            finish_reason: Some("length"),
            last_event: true,
            ..ChunkExtras::default()
        },
    ));
    let choice = &last[0]["choices"][0];
    assert_eq!(choice["finish_reason"], "length");
    assert!(choice.get("stop_reason").is_some() && choice.get("token_ids").is_some());
    assert_eq!(last[0]["system_fingerprint"], VLLM_FINGERPRINT);
    let end = data(&e.stream_end(&StreamTail {
        finish_reason: None,
        usage: Some(Usage::new(37, 8).with_cached(0).with_created(0)),
        running: None,
    }));
    assert_eq!(end.len(), 1);
    assert_eq!(end[0]["choices"], json!([]));
    assert_eq!(
        end[0]["usage"]["prompt_tokens_details"],
        json!({"cached_tokens":0,"created_cache_tokens":0})
    );
    assert_eq!(end[0]["system_fingerprint"], VLLM_FINGERPRINT);
}

#[test]
fn vllm_tool_calls_and_completions() {
    let e = Events::new(Endpoint::Chat, "c", "m", 5, false).with_dialect(Dialect::Vllm);
    let start = data(&e.tool_chunk(Some(("call_1", "search")), "\"", &ChunkExtras::default()));
    assert_eq!(start.len(), 3, "role, name, arguments");
    assert_eq!(
        start[1]["choices"][0]["delta"],
        json!({"content":null,"tool_calls":[{"id":"call_1","type":"function","index":0,"function":{"name":"search"}}]})
    );
    assert_eq!(
        start[2]["choices"][0]["delta"],
        json!({"content":null,"tool_calls":[{"index":0,"function":{"arguments":"\""}}]})
    );
    let end = data(&e.stream_end(&StreamTail {
        finish_reason: Some("length"),
        usage: None,
        running: None,
    }));
    assert_eq!(end[0]["choices"][0]["delta"], json!({}));
    assert_eq!(end[0]["choices"][0]["stop_reason"], Value::Null);
    assert_eq!(end[0]["system_fingerprint"], VLLM_FINGERPRINT);
    let c = Events::new(Endpoint::Completions, "c", "m", 5, false).with_dialect(Dialect::Vllm);
    let chunk = data(&c.text_chunk("x", &ChunkExtras::default()));
    let mut keys: Vec<&str> = chunk[0]["choices"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "finish_reason",
            "index",
            "logprobs",
            "prompt_token_ids",
            "stop_reason",
            "text",
            "token_ids"
        ]
    );
}

//! The request parser's tests.

use super::*;

fn text(s: &str) -> PromptPart {
    PromptPart::Text(s.into())
}

#[test]
fn chat_request_fields() {
    let r = parse(
        Endpoint::Chat,
        r#"{"model":"m","messages":[{"role":"user","content":"abcdefgh"},{"role":"user","content":[{"type":"text","text":"你好"},{"type":"image_url"},{"type":"text","text":"你"}]}],
           "stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"max_completion_tokens":7,
           "ignore_eos":true,"stop":["x","y",""],"seed":3,"temperature":0.5}"#
            .as_bytes(),
        100,
    )
    .unwrap();
    let RequestPrompt::Chat(messages) = &r.prompt else {
        panic!("{:?}", r.prompt)
    };
    assert_eq!(messages[0].parts, vec!["abcdefgh"]);
    assert_eq!(messages[1].parts, vec!["你好", "你"]);
    assert_eq!(
        (messages[1].role.as_str(), messages[1].text()),
        ("user", "你好你".into())
    );
    assert_eq!(r.model.as_deref(), Some("m"));
    assert_eq!(r.max_tokens, Some(7));
    assert!(r.stream && r.include_usage && r.ignore_eos);
    assert_eq!(r.stop, vec!["x", "y"]);
    assert_eq!(r.seed, Some(3));
    assert_eq!(r.number("temperature").unwrap(), Some(0.5));
    assert_eq!(r.number("top_p").unwrap(), None);
    let r = parse(
        Endpoint::Chat,
        br#"{"messages":[{"role":"u"}],"top_p":"x","seed":-1}"#,
        1,
    )
    .unwrap();
    assert_eq!(r.number("top_p").unwrap_err().param, Some("top_p"));
    assert_eq!(r.seed, Some(u64::MAX));
}

#[test]
fn completion_prompts() {
    let r = parse(
        Endpoint::Completions,
        br#"{"prompt":[[1,2,3],"abcd",-4]}"#,
        10,
    )
    .unwrap();
    assert_eq!(
        r.prompt,
        RequestPrompt::Completion(vec![
            PromptPart::Tokens(vec![1, 2, 3]),
            text("abcd"),
            PromptPart::Tokens(vec![u64::MAX])
        ])
    );
    assert!(!r.stream);
    let r = parse(Endpoint::Completions, br#"{"prompt":[1,2]}"#, 10).unwrap();
    assert_eq!(
        r.prompt,
        RequestPrompt::Completion(vec![PromptPart::Tokens(vec![1, 2])])
    );
    let r = parse(Endpoint::Completions, br#"{"prompt":"abc"}"#, 10).unwrap();
    assert_eq!(r.prompt, RequestPrompt::Completion(vec![text("abc")]));
}

#[test]
fn native_requests() {
    let r = parse(
        Endpoint::LlamaCpp,
        br#"{"prompt":"abcdefgh","n_predict":5,"stream":true,"ignore_eos":true}"#,
        10,
    )
    .unwrap();
    assert_eq!(r.prompt, RequestPrompt::Completion(vec![text("abcdefgh")]));
    assert_eq!(
        (r.max_tokens, r.ignore_eos, r.stream),
        (Some(5), true, true)
    );
    let r = parse(
        Endpoint::OllamaChat,
        br#"{"model":"m","messages":[{"role":"user","content":"abcd"}],"options":{"num_predict":-1}}"#,
        10,
    )
    .unwrap();
    assert_eq!((r.max_tokens, r.stream), (None, true));
    assert!(matches!(r.prompt, RequestPrompt::Chat(ref m) if m[0].text() == "abcd"));
    let r = parse(
        Endpoint::Tgi,
        br#"{"inputs":"abcd","parameters":{"max_new_tokens":3}}"#,
        10,
    )
    .unwrap();
    assert_eq!(r.max_tokens, Some(3));
    let r = parse(Endpoint::LlamaCpp, br#"{"prompt":"a"}"#, 10).unwrap();
    assert!(!r.stream);
    let e = parse(Endpoint::Tgi, br#"{"parameters":{}}"#, 10).unwrap_err();
    assert_eq!(e.status, 400);
}

#[test]
fn bad_requests_are_400s() {
    let cases: [(&[u8], &str); 9] = [
        (b"{not json", "invalid_json"),
        (b"[1]", "invalid_value"),
        (br#"{"model":"m"}"#, "missing_required_parameter"),
        (br#"{"messages":[]}"#, "missing_required_parameter"),
        (br#"{"messages":[{"content":"x"}]}"#, "invalid_value"),
        (
            br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}"#,
            "invalid_value",
        ),
        (
            br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1e30}"#,
            "invalid_value",
        ),
        (
            br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":101}"#,
            "context_length_exceeded",
        ),
        (
            br#"{"messages":[{"role":"user","content":"x"}],"stream":"yes"}"#,
            "invalid_value",
        ),
    ];
    for (body, code) in cases {
        let e = parse(Endpoint::Chat, body, 100).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.code, code, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn continuous_usage_needs_include_usage_like_vllm() {
    let body = |opts: &str| {
        format!(r#"{{"messages":[{{"role":"user","content":"x"}}],"stream":true{opts}}}"#)
    };
    let parsed = |opts: &str| parse(Endpoint::Chat, body(opts).as_bytes(), 10).unwrap();
    let r = parsed(r#","stream_options":{"include_usage":true,"continuous_usage_stats":true}"#);
    assert!(r.include_usage && r.continuous_usage);
    let r = parsed(r#","stream_options":{"continuous_usage_stats":true}"#);
    assert!(!r.include_usage && !r.continuous_usage);
    let r = parsed("");
    assert!(!r.continuous_usage, "accepted without stream_options");
    let r = parse(
        Endpoint::Completions,
        br#"{"prompt":"x","stream_options":{"include_usage":true,"continuous_usage_stats":true}}"#,
        10,
    )
    .unwrap();
    assert!(r.continuous_usage);
    let bad = body(r#","stream_options":{"include_usage":true,"continuous_usage_stats":"yes"}"#);
    let e = parse(Endpoint::Chat, bad.as_bytes(), 10).unwrap_err();
    assert_eq!(e.param, Some("stream_options"));
}

#[test]
fn min_tokens_is_read_where_ignore_eos_is_and_bounded_by_max_tokens() {
    let r = parse(
        Endpoint::Completions,
        br#"{"prompt":"x","min_tokens":5}"#,
        10,
    )
    .unwrap();
    assert_eq!(r.min_tokens, 5);
    let r = parse(Endpoint::Completions, br#"{"prompt":"x"}"#, 10).unwrap();
    assert_eq!(r.min_tokens, 0);
    let r = parse(
        Endpoint::Messages,
        br#"{"max_tokens":9,"messages":[{"role":"user","content":"x"}],"min_tokens":9}"#,
        10,
    )
    .unwrap();
    assert_eq!(r.min_tokens, 9);
    let r = parse(Endpoint::Responses, br#"{"input":"x","min_tokens":2}"#, 10).unwrap();
    assert_eq!(r.min_tokens, 2);
    for body in [
        &br#"{"prompt":"x","min_tokens":-1}"#[..],
        br#"{"prompt":"x","min_tokens":"3"}"#,
        br#"{"prompt":"x","min_tokens":6,"max_tokens":5}"#,
    ] {
        let e = parse(Endpoint::Completions, body, 10).unwrap_err();
        assert_eq!((e.status, e.param), (400, Some("min_tokens")));
    }
}

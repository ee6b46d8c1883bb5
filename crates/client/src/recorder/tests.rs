//! The recorder against streams of events, hostile ones too.

use super::*;
use crate::backend::openai::OpenAiChat;

fn content(s: &str) -> String {
    serde_json::json!({"choices":[{"delta":{"content": s}}]}).to_string()
}

#[test]
fn builds_a_record_from_events() {
    let own = Some(TokenCount {
        count: 100,
        source: CountSource::Tokenizer,
    });
    let mut r = Recorder::new(7, 0, 10, own);
    r.headers(20);
    let b = OpenAiChat;
    assert!(r
        .event(30, br#"{"choices":[{"delta":{"role":"assistant"}}]}"#, &b)
        .is_none());
    assert!(r.event(40, content("你好").as_bytes(), &b).is_none());
    assert!(r.event(50, content(", world").as_bytes(), &b).is_none());
    let last = r#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#;
    assert!(r.event(55, last.as_bytes(), &b).is_none());
    let usage = r#"{"choices":[],"usage":{"prompt_tokens":101,"completion_tokens":2}}"#;
    assert!(r.event(60, usage.as_bytes(), &b).is_none());
    assert!(r.event(61, b"[DONE]", &b).is_none());
    let rec = r.finish(70, StreamEnd::Complete);
    assert!(rec.is_ok());
    assert_eq!(
        (rec.headers_ns, rec.first_event_ns, rec.end_ns),
        (Some(20), Some(30), Some(70))
    );
    assert_eq!(rec.chunks.len(), 2);
    assert_eq!((rec.output_chars, rec.output_cjk_chars), (9, 2));
    assert_eq!(rec.output_tokens.unwrap().source, CountSource::ServerUsage);
    assert_eq!(rec.prompt_tokens.unwrap().count, 101);
}

#[test]
fn falls_back_to_chunk_counts_and_own_prompt_count() {
    let own = Some(TokenCount {
        count: 100,
        source: CountSource::Tokenizer,
    });
    let mut r = Recorder::new(0, 0, 0, own);
    let b = OpenAiChat;
    r.event(1, content("a").as_bytes(), &b);
    r.event(
        2,
        br#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#,
        &b,
    );
    r.event(3, b"[DONE]", &b);
    let rec = r.finish(4, StreamEnd::Complete);
    assert_eq!(
        rec.output_tokens,
        Some(TokenCount {
            count: 2,
            source: CountSource::ChunkCount
        })
    );
    assert_eq!(rec.reasoning_tokens, Some(1));
    assert_eq!(rec.prompt_tokens.unwrap().source, CountSource::Tokenizer);
}

#[test]
fn a_tokenizer_counts_output_without_usage() {
    let (_dir, t) = crate::tokenizer::tests::char_tokenizer();
    let mut r = Recorder::new(0, 0, 0, None);
    r.count_output_with(&t);
    r.event(1, content("你好").as_bytes(), &OpenAiChat);
    r.event(2, content("世界!").as_bytes(), &OpenAiChat);
    r.event(3, b"[DONE]", &OpenAiChat);
    let rec = r.finish(4, StreamEnd::Complete);
    assert_eq!(
        rec.output_tokens,
        Some(TokenCount {
            count: 5,
            source: CountSource::Tokenizer
        })
    );
}

#[test]
fn tool_calls_are_recorded_and_kept() {
    let b = OpenAiChat;
    let mut r = Recorder::new(0, 0, 0, None);
    r.keep_transcript();
    let first = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"search","arguments":""}}]}}]}"#;
    let piece = |a: &str| {
        serde_json::json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":a}}]}}]})
            .to_string()
    };
    r.event(5, first.as_bytes(), &b);
    r.event(7, piece("{\"q\":").as_bytes(), &b);
    r.event(9, piece("\"天气\"}").as_bytes(), &b);
    r.event(
        10,
        br#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
        &b,
    );
    r.event(11, b"[DONE]", &b);
    let (rec, t) = r.finish_with_transcript(12, StreamEnd::Complete);
    assert!(rec.is_ok(), "{:?}", rec.error);
    assert_eq!(rec.tool_calls, 1);
    assert_eq!(rec.first_tool_ns(), Some(5));
    assert_eq!(rec.first_token_ns(), Some(5));
    // "search" (6) + "{\"q\":" (5) + "\"天气\"}" (5)
    assert_eq!(rec.tool_chars(), 16);
    assert_eq!(rec.output_tokens.unwrap().count, 3);
    let t = t.unwrap();
    assert_eq!(t.tool_calls.len(), 1);
    assert_eq!(t.tool_calls[0].id, "call_1");
    assert_eq!(t.tool_calls[0].arguments, "{\"q\":\"天气\"}");
}

/// The error of a stream of `events` (ending in `[DONE]`) whose tool call
/// cannot be acted on.
fn tool_call_error(events: &[&[u8]]) -> RequestError {
    let b = OpenAiChat;
    let mut r = Recorder::new(0, 0, 0, None);
    r.keep_transcript();
    for (at, e) in events
        .iter()
        .copied()
        .chain([b"[DONE]".as_slice()])
        .enumerate()
    {
        r.event(at as u64 + 1, e, &b);
    }
    let (rec, _) = r.finish_with_transcript(events.len() as u64 + 2, StreamEnd::Complete);
    let e = rec.error.unwrap();
    assert_eq!(e.kind, ErrorKind::BadToolCall);
    e
}

#[test]
fn broken_tool_arguments_are_a_named_error() {
    let e = tool_call_error(&[
        br#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]}"#,
    ]);
    assert!(e.message.contains("not JSON"), "{}", e.message);
    assert!(!e.message.contains("max_tokens"), "{}", e.message);
}

/// Arguments cut short by the token cap say which limit to raise (a 135M
/// model under vLLM's `tool_choice=required` ran past 64 tokens in CI).
#[test]
fn tool_arguments_cut_at_max_tokens_say_so() {
    let e = tool_call_error(&[
        br#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"[{\"a\": \"b"}}]}}]}"#,
        br#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#,
    ]);
    let why = format!("cut off at max_tokens: raise {}", Setting::MaxTokens);
    assert!(e.message.contains(&why), "{}", e.message);
}

#[test]
fn transcripts_are_bounded() {
    let mut t = Transcript::default();
    let big = "x".repeat(Transcript::LIMIT / 2 + 1);
    t.push(&big, |t| &mut t.answer);
    t.push(&big, |t| &mut t.answer);
    assert!(t.truncated);
    assert!(t.answer.len() <= Transcript::LIMIT);
    // Calls are kept in order of arrival whatever the API numbers
    // them, and at most MAX_CALLS of them.
    let mut t = Transcript::default();
    for index in (0..=Transcript::MAX_CALLS as u32).map(|i| u32::MAX - i) {
        t.tool_delta(&crate::backend::ToolCallDelta {
            index,
            name: Some(index.to_string().into()),
            ..Default::default()
        });
    }
    assert_eq!(t.tool_calls.len(), Transcript::MAX_CALLS);
    assert_eq!(t.tool_calls[0].name, u32::MAX.to_string());
    assert!(t.truncated);
}

#[test]
fn a_stream_without_end_is_cut() {
    let mut r = Recorder::new(0, 0, 0, None);
    r.event(1, content("a").as_bytes(), &OpenAiChat);
    let rec = r.finish(2, StreamEnd::Complete);
    assert_eq!(rec.error.unwrap().kind, ErrorKind::StreamCut);
}

#[test]
fn malformed_and_error_events_end_the_request() {
    let mut r = Recorder::new(0, 0, 0, None);
    let end = r.event(1, b"{not json", &OpenAiChat).unwrap();
    assert!(matches!(
        end,
        StreamEnd::Failed(ErrorKind::MalformedEvent, None, _)
    ));
    let end = r
        .event(1, br#"{"error":{"message":"boom"}}"#, &OpenAiChat)
        .unwrap();
    assert_eq!(
        end,
        StreamEnd::Failed(ErrorKind::ServerError, None, "boom".into())
    );
}

/// A recorder that hides `KEY`.
fn guarded() -> Recorder<'static> {
    let mut r = Recorder::new(0, 0, 0, None);
    r.guard(Guard {
        secrets: crate::redact::Secrets::new(Some(KEY), &[]),
        ..Guard::default()
    });
    r
}

const KEY: &str = "sk-recorder-0123456789";

/// Fails when any 8+-character piece of `KEY` is in `text`.
fn no_piece_of_the_key(text: &str) {
    for i in 0..=KEY.len() - 8 {
        assert!(!text.contains(&KEY[i..i + 8]), "{text}");
    }
}

#[test]
fn a_key_in_a_malformed_event_is_redacted_before_the_cut() {
    for at in 50..Guard::EVENT_CHARS + 4 {
        let mut r = guarded();
        let event = format!("{{{}{KEY}", "w".repeat(at));
        let end = r.event(1, event.as_bytes(), &OpenAiChat).unwrap();
        let rec = r.finish(2, end);
        no_piece_of_the_key(&rec.error.unwrap().message);
    }
}

#[test]
fn a_key_split_across_tool_call_events_is_redacted() {
    let piece = |args: &str| {
        serde_json::json!({"choices":[{"delta":{"tool_calls":[
            {"index":0,"id":"c","function":{"name":"f","arguments":args}}]}}]})
        .to_string()
    };
    let (first, rest) = KEY.split_at(10);
    for at in 30..Guard::ARGUMENT_CHARS + 4 {
        let mut r = guarded();
        r.keep_transcript();
        r.event(
            1,
            piece(&format!("{}{first}", "v".repeat(at))).as_bytes(),
            &OpenAiChat,
        );
        r.event(
            2,
            piece(&format!("{rest} not json")).as_bytes(),
            &OpenAiChat,
        );
        r.event(3, b"[DONE]", &OpenAiChat);
        let (rec, _) = r.finish_with_transcript(4, StreamEnd::Complete);
        let e = rec.error.unwrap();
        assert_eq!(e.kind, ErrorKind::BadToolCall);
        no_piece_of_the_key(&e.message);
    }
}

#[test]
fn reasoning_without_answer_text_is_no_visible_text() {
    let reasoning = br#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#;
    let stop = |why: &str| format!(r#"{{"choices":[{{"delta":{{}},"finish_reason":"{why}"}}]}}"#);
    for (why, says) in [
        ("stop", "reasoning only (2 reasoning chunks)".to_string()),
        ("length", format!("raise {}", Setting::MaxTokens)),
    ] {
        let mut r = Recorder::new(0, 0, 0, None);
        r.event(1, reasoning, &OpenAiChat);
        r.event(2, reasoning, &OpenAiChat);
        r.event(3, stop(why).as_bytes(), &OpenAiChat);
        let e = r.finish(4, StreamEnd::Complete).error.unwrap();
        assert_eq!(e.kind, ErrorKind::NoVisibleText);
        assert!(e.message.contains(&says), "{}", e.message);
    }
    // Reasoning then an answer, or a tool call alone, is an answer.
    let mut r = Recorder::new(0, 0, 0, None);
    r.event(1, reasoning, &OpenAiChat);
    r.event(2, content("4").as_bytes(), &OpenAiChat);
    r.event(3, stop("stop").as_bytes(), &OpenAiChat);
    assert!(r.finish(4, StreamEnd::Complete).is_ok());
    let mut r = Recorder::new(0, 0, 0, None);
    let call = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]}"#;
    r.event(1, call.as_bytes(), &OpenAiChat);
    r.event(2, stop("tool_calls").as_bytes(), &OpenAiChat);
    assert!(r.finish(3, StreamEnd::Complete).is_ok());
}

//! Parser tests on hosted providers' own published streams
//! (`tests/data/dialects/README.md` names each source): each is read
//! through the SSE parser and the recorder, as a run reads it. Reasoning
//! is counted apart from the answer's text, a signature never as text,
//! comments never as events, and usage is read wherever the provider puts
//! it.

use super::anthropic::Anthropic;
use super::captured::{events, replay, steady};
use super::openai::OpenAiChat;
use super::responses::Responses;
use crate::sse::{SseItem, SseParser};
use tokenpace_core::record::{CountSource, ErrorKind, RequestRecord};

/// The provider's stream `name`.
fn stream(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/data/dialects/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn chars(texts: &[&str]) -> u32 {
    texts.iter().map(|t| t.chars().count() as u32).sum()
}

fn reasoning_chars(r: &RequestRecord) -> u32 {
    r.reasoning_chunks.iter().map(|c| c.chars).sum()
}

/// `(count, source)` of the output tokens.
fn output(r: &RequestRecord) -> (u32, CountSource) {
    let t = r.output_tokens.expect("output tokens counted");
    (t.count, t.source)
}

#[test]
fn deepseek_reasoning_content_is_reasoning_and_its_count_the_servers() {
    let r = replay(&OpenAiChat, &events(&stream("deepseek.sse")), steady);
    assert!(r.is_ok(), "{:?}", r.error);
    // The role chunk's empty reasoning carries nothing.
    assert_eq!(r.reasoning_chunks.len(), 2);
    assert_eq!(reasoning_chars(&r), chars(&["9.11", " vs 9.8"]));
    assert_eq!(r.output_chars, chars(&["9.8", " is greater"]));
    assert_eq!(output(&r), (9, CountSource::ServerUsage));
    assert_eq!(r.reasoning_tokens, Some(4));
    assert_eq!(r.prompt_tokens.unwrap().count, 17);
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
}

#[test]
fn openrouter_processing_comments_are_not_events() {
    let body = stream("openrouter.sse");
    let mut comments = Vec::new();
    let mut parser = SseParser::new();
    parser.feed(&body, |item| {
        if let SseItem::Comment(c) = item {
            comments.push(c.to_vec());
        }
    });
    assert_eq!(comments.len(), 3);
    assert!(comments.iter().all(|c| c == b" OPENROUTER PROCESSING"));
    let all = events(&body);
    assert_eq!(all.len(), 5, "four chunks and [DONE]");
    let r = replay(&OpenAiChat, &all, steady);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.chunks.len(), 2);
    assert_eq!(r.output_chars, chars(&["Hello", " world"]));
    assert_eq!(output(&r), (2, CountSource::ServerUsage));
    assert_eq!(r.prompt_tokens.unwrap().count, 10);
}

#[test]
fn groq_usage_is_read_from_x_groq() {
    let r = replay(&OpenAiChat, &events(&stream("groq.sse")), steady);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(output(&r), (2, CountSource::ServerUsage));
    assert_eq!(r.prompt_tokens.unwrap().count, 18);
    assert_eq!(r.output_chars, chars(&["Low", " latency"]));
}

#[test]
fn gemini_usage_and_finish_ride_on_the_last_text_chunk() {
    let r = replay(&OpenAiChat, &events(&stream("gemini.sse")), steady);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.chunks.len(), 2);
    assert_eq!(r.response_id.as_deref(), Some("GYm3Z8KhD5aGz7IP0rP1-Qk"));
    assert_eq!(r.output_chars, chars(&["Hello", " there! How can I help?"]));
    assert_eq!(output(&r), (8, CountSource::ServerUsage));
    assert_eq!(r.prompt_tokens.unwrap().count, 4);
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
}

#[test]
fn anthropic_thinking_is_reasoning_and_its_signature_is_not_text() {
    let r = replay(
        &Anthropic,
        &events(&stream("anthropic-thinking.sse")),
        steady,
    );
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.reasoning_chunks.len(), 2);
    assert_eq!(
        reasoning_chars(&r),
        chars(&[
            "Let me solve this step by step:\n\n1. First break down 27 * 453",
            "\n2. 453 = 400 + 50 + 3"
        ])
    );
    assert_eq!(r.chunks.len(), 1);
    assert_eq!(r.output_chars, chars(&["27 * 453 = 12,231"]));
    assert_eq!(r.finish_reason.as_deref(), Some("stop"));
}

#[test]
fn anthropic_overloaded_midstream_is_an_error_with_the_servers_message() {
    let r = replay(
        &Anthropic,
        &events(&stream("anthropic-overloaded.sse")),
        steady,
    );
    let e = r.error.as_ref().expect("the stream failed");
    assert_eq!(e.kind, ErrorKind::ServerError);
    assert!(e.message.contains("Overloaded"), "{e:?}");
    // What came before the error is kept: the ping is not text.
    assert_eq!(r.chunks.len(), 1);
    assert_eq!(r.output_chars, chars(&["Hello"]));
}

#[test]
fn responses_reasoning_summary_is_reasoning() {
    let r = replay(
        &Responses,
        &events(&stream("responses-reasoning.sse")),
        steady,
    );
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(
        r.reasoning_chunks.len(),
        2,
        "the .done event repeats, unread"
    );
    assert_eq!(
        reasoning_chars(&r),
        chars(&[
            "**Responding to a greeting**\n\nThe user just said, \"Hello!\"",
            " I'll greet them back and offer help."
        ])
    );
    assert_eq!(r.output_chars, chars(&["Hello! How can I help?"]));
    assert_eq!(output(&r), (86, CountSource::ServerUsage));
    assert_eq!(r.reasoning_tokens, Some(64));
    assert_eq!(r.prompt_tokens.unwrap().count, 8);
}

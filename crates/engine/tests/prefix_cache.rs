//! Prefix KV reuse on the real default model (SmolLM2-135M-Instruct, Q4_1)
//! from the model cache (`tokenpace models --fetch`; scripts/test does it):
//! a follow-up turn reuses the KV of the turn before, computes less, and
//! says the same as an engine that computes everything.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokenpace_engine::{Engine, EngineConfig};
use tokenpace_serve::{
    ChatMessage, Finished, GenEvent, GenerationRequest, Generator, PromptInput, Sampling,
};

fn model() -> PathBuf {
    let dir = tokenpace_models::cache_dir(None).join(tokenpace_models::DEFAULT_PACKAGE);
    let path = dir.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "the default model is not in the cache ({}): run `cargo run -- models --fetch` (scripts/test does) first",
        path.display()
    );
    path
}

fn engine(prefix_cache: bool) -> Engine {
    let mut c = EngineConfig::new(model());
    c.ctx_size = 1024;
    c.parallel = 2;
    c.prefix_cache = prefix_cache;
    Engine::start(c).expect("the default model loads")
}

fn msg(role: &str, content: &str) -> ChatMessage {
    ChatMessage {
        role: role.into(),
        content: content.into(),
    }
}

fn request(messages: Vec<ChatMessage>, max_tokens: u32) -> GenerationRequest {
    GenerationRequest {
        prompt: PromptInput::Chat(messages),
        max_tokens,
        sampling: Sampling::default(),
        ignore_eos: false,
        stop: Vec::new(),
    }
}

/// A document of several hundred tokens, so its prefill is long.
fn document() -> String {
    (1..=24)
        .map(|i| {
            format!(
                "Shipment {i} left the harbour of port {} at {} o'clock carrying {} crates of {}. ",
                ["Alda", "Brem", "Corso", "Dunmore"][i % 4],
                i % 12 + 1,
                i * 7,
                ["tea", "copper", "wool", "glass", "salt"][i % 5]
            )
        })
        .collect()
}

struct Outcome {
    text: String,
    ttft: Duration,
    done: Finished,
}

fn run(engine: &Engine, r: GenerationRequest) -> Outcome {
    let start = Instant::now();
    let mut rx = engine.submit(r).expect("accepted");
    let (mut text, mut ttft) = (String::new(), None);
    loop {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Started { .. } => {}
            GenEvent::Token(t) => {
                ttft.get_or_insert_with(|| start.elapsed());
                text.push_str(&t);
            }
            GenEvent::Done(done) => {
                let ttft = ttft.unwrap_or_else(|| start.elapsed());
                return Outcome { text, ttft, done };
            }
            GenEvent::Failed(m) => panic!("generation failed: {m}"),
        }
    }
}

fn ask(document: &str, question: &str) -> Vec<ChatMessage> {
    vec![msg("user", &format!("{document}\n{question}"))]
}

#[test]
fn a_longer_prompt_reuses_the_shorter_ones_kv_and_says_the_same() {
    let doc = document();
    let short = ask(&doc, "Which port did shipment 5 leave from?");
    let long = ask(
        &doc,
        "Which port did shipment 5 leave from? Answer in one sentence.",
    );
    let warm = engine(true);
    let first = run(&warm, request(short, 24));
    let reused = run(&warm, request(long.clone(), 24));
    let cold = run(&engine(false), request(long, 24));
    assert_eq!(
        reused.text, cold.text,
        "reusing the KV must not change a greedy answer"
    );
    assert_eq!(cold.done.cached_tokens, None, "no prefix cache, no count");
    assert_eq!(first.done.cached_tokens, Some(0), "nothing to reuse yet");
    let cached = reused.done.cached_tokens.expect("the prefix cache reports");
    // The first prompt is reused up to the template's tokens after the
    // question.
    assert!(
        cached + 8 >= first.done.prompt_tokens && cached < reused.done.prompt_tokens,
        "cached {cached} of {} prompt tokens; the first request had {}",
        reused.done.prompt_tokens,
        first.done.prompt_tokens
    );
}

#[test]
fn a_follow_up_turn_reuses_the_turn_before_and_computes_less() {
    // Two turns of one chat: the second prompt is the first, its answer
    // and a new question. (The answer's KV was computed a token at a time,
    // and llama.cpp's logits differ slightly between batch sizes, so the
    // text is compared in the test above, where only prompt KV is reused.)
    let doc = document();
    let turns = |engine: &Engine| {
        let first = ask(&doc, "Which port did shipment 5 leave from?");
        let one = run(engine, request(first.clone(), 24));
        let mut second = first;
        second.push(msg("assistant", &one.text));
        second.push(msg("user", "And how many crates did it carry?"));
        (one, run(engine, request(second, 24)))
    };
    let (_, cold) = turns(&engine(false));
    let (one, two) = turns(&engine(true));
    let first = one.done.prompt_tokens;
    let cached = two.done.cached_tokens.expect("the prefix cache reports");
    assert!(
        cached >= first && cached < two.done.prompt_tokens,
        "cached {cached} of {} prompt tokens; the first turn had {first}",
        two.done.prompt_tokens
    );
    // Less to compute must show as less time before the first token.
    assert!(
        two.done.prompt_ms * 2.0 < cold.done.prompt_ms,
        "prefill with reuse {:.1} ms, without {:.1} ms",
        two.done.prompt_ms,
        cold.done.prompt_ms
    );
    eprintln!(
        "turn 2: {} prompt tokens ({cached} cached; turn 1 had {first}); TTFT cold {:.1} ms, reused {:.1} ms; prefill cold {:.1} ms, reused {:.1} ms",
        two.done.prompt_tokens,
        cold.ttft.as_secs_f64() * 1e3,
        two.ttft.as_secs_f64() * 1e3,
        cold.done.prompt_ms,
        two.done.prompt_ms,
    );
}

#[test]
fn a_cancelled_request_leaves_reusable_kv() {
    let warm = engine(true);
    let doc = document();
    let mut long = request(ask(&doc, "List every shipment that carried tea."), 400);
    long.ignore_eos = true;
    let mut rx = warm.submit(long).expect("accepted");
    let mut tokens = 0;
    while tokens < 5 {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Token(_) => tokens += 1,
            GenEvent::Started { .. } => {}
            other => panic!("the request ended early: {other:?}"),
        }
    }
    drop(rx);
    // Both slots are free; the one holding the cancelled prompt's KV must
    // win, and what it kept must be exactly what its record says.
    let again = ask(&doc, "List every shipment that carried tea, with its port.");
    let reused = run(&warm, request(again.clone(), 24));
    let cold = run(&engine(false), request(again, 24));
    let cached = reused.done.cached_tokens.expect("the prefix cache reports");
    assert!(
        cached > reused.done.prompt_tokens / 2,
        "cached {cached} of {}",
        reused.done.prompt_tokens
    );
    assert_eq!(reused.text, cold.text);
}

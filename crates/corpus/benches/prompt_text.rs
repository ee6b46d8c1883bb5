//! What making a prompt's text costs a load thread: a prompt cut to its
//! length on the server's tokenizer keeps the first bytes of a room of
//! `2n + 64` pseudo-tokens. Making the whole room and cutting it (as the
//! load did until 2026-12-08) against making only the tokens the cut keeps
//! (`take_bytes`), for the loop bench's 16-token English prompts (about 70
//! bytes kept of 96 tokens).
//!
//! Run: `cargo bench -p tokenpace-corpus --bench prompt_text`

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tokenpace_corpus::{PseudoTokens, TextLang};

const ROOM: usize = 16 * 2 + 64;
const KEPT: usize = 70;

fn tokens(id: u64) -> PseudoTokens {
    PseudoTokens::at(TextLang::En, id, (id as usize).wrapping_mul(7919))
}

/// The first `KEPT` bytes on a character boundary at or before them.
fn kept(text: &str) -> usize {
    (0..=KEPT.min(text.len()))
        .rev()
        .find(|&b| text.is_char_boundary(b))
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("prompt text, 16 tokens cut from a room of 96");
    let mut id = 0u64;
    g.bench_function("the whole room, then cut", |b| {
        b.iter(|| {
            id += 1;
            let room = tokens(id).take_text(ROOM);
            black_box(room[..kept(&room)].to_string())
        })
    });
    g.bench_function("only the kept tokens", |b| {
        b.iter(|| {
            id += 1;
            black_box(tokens(id).take_bytes(ROOM, KEPT))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! SSE parser throughput on a realistic chat stream (OpenAI chunks of one
//! Chinese token each), fed in 16 KiB reads and in 7-byte reads (worst case:
//! every event split several times). Target: ≥ 1 M events/s on one core.
//!
//! Run: `cargo bench -p tokenpace-client --bench sse`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tokenpace_client::sse::{SseItem, SseParser};

fn stream(events: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..events {
        s.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-{i}\",\"object\":\"chat.completion.chunk\",\"created\":1732500000,\"model\":\"qwen2.5-7b-instruct\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"你好\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

fn parse(bytes: &[u8], read: usize) -> usize {
    let mut p = SseParser::new();
    let mut n = 0;
    for piece in bytes.chunks(read) {
        p.feed(piece, |item| {
            n += usize::from(matches!(item, SseItem::Data(_)))
        });
    }
    p.finish(|item| n += usize::from(matches!(item, SseItem::Data(_))));
    n
}

fn bench(c: &mut Criterion) {
    const EVENTS: usize = 10_000;
    let bytes = stream(EVENTS);
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Elements(EVENTS as u64 + 1));
    g.bench_function("16KiB reads", |b| {
        b.iter(|| assert_eq!(parse(&bytes, 16 * 1024), EVENTS + 1))
    });
    g.bench_function("7-byte reads", |b| {
        b.iter(|| assert_eq!(parse(&bytes, 7), EVENTS + 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

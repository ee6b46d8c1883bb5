//! The floors the precision bench measures the client against: bare
//! loopback connects and writes (the first wave's), and a bare reader of
//! the same streams (the CPU per chunk's).

use crate::common;

/// The floor of a cold burst on this machine: `n` bare loopback
/// connections opened at once, each writing a request-sized message, until
/// a minimal server has accepted every one and read its bytes. Milliseconds.
pub fn floor_ms(n: u32) -> f64 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const MESSAGE: [u8; 400] = [b'x'; 400];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        // The simulator's backlog: the floor must not lose SYNs it would not.
        let listener = socket.listen(8192).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut reads = tokio::task::JoinSet::new();
            for _ in 0..n {
                let (mut s, _) = listener.accept().await.unwrap();
                reads.spawn(async move {
                    let mut buf = [0u8; 400];
                    s.read_exact(&mut buf).await.map(|_| s)
                });
            }
            let mut open = Vec::new();
            while let Some(r) = reads.join_next().await {
                open.push(r.unwrap().unwrap());
            }
            (std::time::Instant::now(), open)
        });
        let start = std::time::Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        for _ in 0..n {
            clients.spawn(async move {
                let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                s.write_all(&MESSAGE).await.unwrap();
                s
            });
        }
        let mut open = Vec::new();
        while let Some(s) = clients.join_next().await {
            open.push(s.unwrap());
        }
        let (end, _accepted) = server.await.unwrap();
        end.duration_since(start).as_secs_f64() * 1000.0
    })
}

/// What the bare floors need: the simulator's address, a raw streamed chat
/// request for `max_tokens` tokens (leaked: it lives as long as the
/// tasks), the client's runtimes (one per core) and one to drive them from.
fn bare(
    url: &str,
    max_tokens: u32,
) -> (
    std::net::SocketAddr,
    &'static [u8],
    std::sync::Arc<tokenpace_client::workers::Workers>,
    tokio::runtime::Runtime,
) {
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let request = common::raw_chat_request(addr, "你好", max_tokens);
    let outer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let workers = tokenpace_client::workers::Workers::per_core().unwrap();
    (addr, request, workers, outer)
}

/// A bare connection to `addr` with `request` written on it, as the two
/// bare floors open theirs.
async fn bare_send(addr: std::net::SocketAddr, request: &[u8]) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(request).await.unwrap();
    s
}

/// Milliseconds until `n` bare connections to the simulator at `url`, all
/// opened at once on the client's runtimes, have each written one request
/// (then closed: the simulator sees the client leave).
pub fn bare_wave_ms(url: &str, n: u32) -> f64 {
    let (addr, request, workers, outer) = bare(url, 1);
    outer.block_on(async {
        let start = std::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            tasks.spawn_on(
                async move {
                    let s = bare_send(addr, request).await;
                    (std::time::Instant::now(), s)
                },
                workers.handle(i as usize),
            );
        }
        let mut end = start;
        let mut open = Vec::new();
        while let Some(r) = tasks.join_next().await {
            let (at, s) = r.unwrap();
            end = end.max(at);
            open.push(s);
        }
        end.duration_since(start).as_secs_f64() * 1000.0
    })
}

/// What reading cost: CPU µs per chunk, and wake-ups (voluntary context
/// switches) per chunk, which say how many chunks each wait for readable
/// sockets found at once.
#[derive(Clone, Copy)]
pub struct ReadCost {
    pub us_per_chunk: f64,
    pub wakes_per_chunk: f64,
}

impl ReadCost {
    /// The cost of `chunks` chunks since `before` (a [`common::usage`]).
    pub fn since(before: (f64, u64), chunks: u64) -> ReadCost {
        let (cpu, wakes) = common::usage();
        let chunks = chunks.max(1) as f64;
        ReadCost {
            us_per_chunk: (cpu - before.0) * 1e6 / chunks,
            wakes_per_chunk: (wakes - before.1) as f64 / chunks,
        }
    }
}

/// The barest reader of `streams` streams of `requests` requests of 128
/// chunks each from the simulator at `url`, the client's workload: one task
/// per stream on the client's runtimes (one per core), one kept-alive
/// connection per stream, each request written raw and its socket read
/// until the body's last chunk, nothing parsed.
pub fn bare_reader(url: &str, streams: u32, requests: u32) -> ReadCost {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (addr, request, workers, outer) = bare(url, 128);
    let before = common::usage();
    outer.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..streams {
            tasks.spawn_on(
                async move {
                    let mut s = bare_send(addr, request).await;
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut tail = Vec::new();
                    for left in (0..requests).rev() {
                        loop {
                            let n = s.read(&mut buf).await.unwrap();
                            tail.extend_from_slice(&buf[..n]);
                            let keep = tail.len().saturating_sub(5);
                            tail.drain(..keep);
                            if n == 0 || tail == b"0\r\n\r\n" {
                                break;
                            }
                        }
                        tail.clear();
                        if left > 0 {
                            s.write_all(request).await.unwrap();
                        }
                    }
                },
                workers.handle(i as usize),
            );
        }
        while tasks.join_next().await.is_some() {}
    });
    ReadCost::since(before, u64::from(streams * requests * 128))
}

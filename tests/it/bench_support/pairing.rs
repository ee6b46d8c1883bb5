//! Each record paired with the simulator's truth line for the same response,
//! and the client's timing error measured against it. A record that matches
//! no truth line is a failure to report, never a sample to drop.

use std::collections::{HashMap, HashSet};
use std::fmt;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::stats::percentile_sorted;
use tokenpace_sim::truth::{ChunkTruth, RequestTruth};

/// Records and truth lines matched one to one by response id.
pub struct Pairing<'a> {
    /// Each record with the truth line of its response.
    pub pairs: Vec<(&'a RequestRecord, &'a RequestTruth)>,
    /// Records that match no truth line: no response id, an id the server
    /// never gave, or one that another record already claimed.
    pub unmatched: Vec<String>,
    /// Requests the server received that no record claims, in the order
    /// the server received them.
    pub unclaimed: Vec<&'a RequestTruth>,
}

/// Pairs `records` with `truth` (by response id).
pub fn pair<'a>(
    records: &'a [RequestRecord],
    truth: &'a HashMap<String, RequestTruth>,
) -> Pairing<'a> {
    let mut claimed = HashSet::new();
    let (mut pairs, mut unmatched) = (Vec::new(), Vec::new());
    for r in records {
        let Some(id) = r.response_id.as_deref() else {
            unmatched.push(format!("record {} has no response id: {:?}", r.id, r.error));
            continue;
        };
        let Some(t) = truth.get(id) else {
            unmatched.push(format!("record {}: the server never sent '{id}'", r.id));
            continue;
        };
        if !claimed.insert(id) {
            unmatched.push(format!("record {}: '{id}' is recorded twice", r.id));
            continue;
        }
        pairs.push((r, t));
    }
    let mut unclaimed: Vec<&RequestTruth> = truth
        .values()
        .filter(|t| !claimed.contains(t.id.as_str()))
        .collect();
    unclaimed.sort_by_key(|t| t.received_ns);
    Pairing {
        pairs,
        unmatched,
        unclaimed,
    }
}

impl Pairing<'_> {
    /// Pairs whose record and truth disagree on how the request ended:
    /// a success the server did not complete, a failure it did, or a
    /// success with other chunks than the server wrote.
    pub fn disagreements(&self) -> Vec<String> {
        self.pairs
            .iter()
            .filter_map(|(r, t)| {
                let server_ok = t.outcome == "ok";
                if r.is_ok() != server_ok {
                    return Some(format!(
                        "record {}: {:?}, the server says '{}'",
                        r.id, r.error, t.outcome
                    ));
                }
                let written = content(t).count();
                (r.is_ok() && r.chunks.len() != written).then(|| {
                    format!(
                        "record {}: {} chunks, the server wrote {written}",
                        r.id,
                        r.chunks.len()
                    )
                })
            })
            .collect()
    }
}

/// The content chunks the server wrote for one request.
pub fn content(t: &RequestTruth) -> impl Iterator<Item = &ChunkTruth> {
    t.chunks.iter().filter(|c| c.kind == "content")
}

/// How far the client's timestamps are from the server's, in ms, over every
/// pair that completed on both sides.
pub struct TimingError {
    /// Per request: client TTFT − server TTFT (the first content chunk
    /// written − the request's arrival). Signed: includes both trips on
    /// loopback.
    pub ttft: Tail,
    /// Per chunk: |client (arrival − sent) − server (written − received)|:
    /// how late each chunk's stamp is relative to its request's start.
    pub lateness: Tail,
    /// Per pair of consecutive chunks: |client gap − server gap|.
    pub gap: Tail,
    /// The server's median gap between content chunks: one token's time.
    pub token_ms: f64,
}

impl TimingError {
    /// Measures the pairs that completed on both sides.
    pub fn of(pairs: &[(&RequestRecord, &RequestTruth)]) -> TimingError {
        // Signed, so a stamp out of order shows as an error, not a panic.
        let ms = |ns: u64| ns as f64 / 1e6;
        let (mut ttft, mut lateness, mut gap, mut server_gaps) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (r, t) in pairs.iter().filter(|(r, t)| r.is_ok() && t.outcome == "ok") {
            let written: Vec<u64> = content(t).map(|c| c.written_ns).collect();
            if written.len() != r.chunks.len() || written.is_empty() {
                continue; // Pairing::disagreements names these
            }
            // The request's arrival at the server's host, as the client's
            // chunks are dated by theirs (else when the server read it).
            let arrived = t.arrived_ns.unwrap_or(t.received_ns);
            let late = |at: u64, w: u64| (ms(at) - ms(r.sent_ns)) - (ms(w) - ms(arrived));
            ttft.push(late(r.chunks[0].at_ns, written[0]));
            for (c, &w) in r.chunks.iter().zip(&written) {
                lateness.push(late(c.at_ns, w).abs());
            }
            for (c, w) in r.chunks.windows(2).zip(written.windows(2)) {
                let server = ms(w[1]) - ms(w[0]);
                gap.push((ms(c[1].at_ns) - ms(c[0].at_ns) - server).abs());
                server_gaps.push(server);
            }
        }
        let token = Tail::new(server_gaps);
        TimingError {
            ttft: Tail::new(ttft),
            lateness: Tail::new(lateness),
            gap: Tail::new(gap),
            token_ms: token.p50(),
        }
    }
}

impl fmt::Display for TimingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "one token: {:.2} ms", self.token_ms)?;
        writeln!(f, "TTFT excess: {}", self.ttft)?;
        writeln!(f, "chunk lateness: {}", self.lateness)?;
        write!(f, "chunk gap error: {}", self.gap)
    }
}

/// Samples sorted ascending, in ms.
pub struct Tail(Vec<f64>);

impl Tail {
    /// Sorts `values`.
    pub fn new(mut values: Vec<f64>) -> Tail {
        values.sort_by(f64::total_cmp);
        Tail(values)
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The median.
    pub fn p50(&self) -> f64 {
        percentile_sorted(&self.0, 50.0)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> f64 {
        percentile_sorted(&self.0, 99.0)
    }

    /// The largest sample.
    pub fn max(&self) -> f64 {
        self.0.last().copied().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Tail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let worst: Vec<String> = self
            .0
            .iter()
            .rev()
            .take(5)
            .map(|v| format!("{v:.2}"))
            .collect();
        write!(
            f,
            "n {}, p50 {:.3}, p99 {:.3}, max {:.3} ms (worst: {})",
            self.len(),
            self.p50(),
            self.p99(),
            self.max(),
            worst.join(", ")
        )
    }
}

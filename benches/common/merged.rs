//! How much of a TTFT error is the kernel's merging rather than the
//! client's dating: a server that writes several events back to back
//! (one that fell behind its own schedule) into a socket nobody has read
//! yet leaves one merged segment, stamped when its last part arrived. No
//! reader can then date the first event on its own; measured against the
//! last write the first read brought, the client's own error is left.

use tokenpace_core::record::RequestRecord;
use tokenpace_runner::self_check::Truth;

/// Requests whose first token came in one read with later writes, and
/// the TTFT error (p50, p99, ms) counted to the last of those writes.
pub struct Merged {
    pub share: f64,
    pub error_ms: (f64, f64),
}

/// For `records` against the simulator's `truth`.
pub fn merged_first_reads(records: &[RequestRecord], truth: &Truth) -> Merged {
    let (mut merged, mut errors) = (0usize, Vec::new());
    for r in records {
        let Some((arrived, writes)) = r.response_id.as_deref().and_then(|id| truth.get(id)) else {
            continue;
        };
        let Some(first) = r.chunks.first() else {
            continue;
        };
        if r.chunks.len() != writes.len() {
            continue;
        }
        // Chunks dated alike with the first came in its read.
        let together = r
            .chunks
            .iter()
            .take_while(|c| c.at_ns == first.at_ns)
            .count();
        merged += usize::from(together > 1);
        let from = r.written_ns.unwrap_or(r.sent_ns);
        let client = first.at_ns.saturating_sub(from) as f64;
        let server = writes[together - 1].saturating_sub(*arrived) as f64;
        errors.push((client - server) / 1e6);
    }
    errors.sort_by(f64::total_cmp);
    let p = |q| tokenpace_core::stats::percentile_sorted(&errors, q);
    Merged {
        share: merged as f64 / errors.len().max(1) as f64,
        error_ms: (p(50.0), p(99.0)),
    }
}

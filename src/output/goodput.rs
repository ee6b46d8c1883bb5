//! Goodput against an SLO in words: `bench --slo`'s line, and the SLO's
//! limits as `capacity --slo` states them.

use tokenpace_core::slo::{Attainment, Slo};
use tokenpace_present::Lang;

/// "goodput: 3.20 good req/s (87 % of requests meet SLO tiers; most
/// missed TPOT)".
pub fn line(a: &Attainment, lang: Lang) -> String {
    let most = match a.most_missed() {
        Some(l) => format!("; {} {l}", lang.pick("most missed", "最常超限：")),
        None => String::new(),
    };
    format!(
        "{}: {:.2} {} ({:.0} % {} SLO {}{most})",
        lang.pick("goodput", "达标吞吐"),
        a.good_per_s,
        lang.pick("good req/s", "达标请求/s"),
        a.met_pct(),
        lang.pick("of requests meet", "的请求满足"),
        a.slo,
    )
}

/// An SLO's limits in words: "TTFT ≤ 500 ms, TPOT ≤ 30.0 ms".
pub fn limits(slo: &Slo) -> String {
    let mut parts = Vec::new();
    if let Some(v) = slo.ttft_ms {
        parts.push(format!("TTFT ≤ {v} ms"));
    }
    if let Some(v) = slo.tpot_ms {
        parts.push(format!("TPOT ≤ {v:.1} ms"));
    }
    if let Some(v) = slo.output_chars_per_s {
        parts.push(format!("output ≥ {v} chars/s"));
    }
    if let Some(v) = slo.e2e_ms {
        parts.push(format!("end to end ≤ {v} ms"));
    }
    parts.join(", ")
}

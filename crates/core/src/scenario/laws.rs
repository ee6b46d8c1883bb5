//! The planners' formulas, each written once: time and rate, TTFT, reading
//! speed, and the batching law. Pure arithmetic with no imports, so any
//! file of the crate (a fitted prefill line, a grade) can use them.

/// Seconds to process `tokens` at `rate` tokens/s.
pub fn time_for(tokens: f64, rate: f64) -> f64 {
    tokens / rate
}

/// The rate needed to process `tokens` in `seconds`.
pub fn rate_for(tokens: f64, seconds: f64) -> f64 {
    tokens / seconds
}

/// Time to first token: the network round trip plus the prompt's prefill
/// time, RTT + prompt tokens ÷ prefill rate. The one TTFT formula of the
/// planners (scenarios, remedies, the roofline, a fitted prefill line, the
/// batching law); `rtt_s` is whatever fixed time comes before prefill.
pub fn ttft(rtt_s: f64, prompt_tokens: f64, prefill_tok_s: f64) -> f64 {
    rtt_s + time_for(prompt_tokens, prefill_tok_s)
}

/// The prefill rate at which [`ttft`] equals `ttft_s`: TTFT must stay
/// strictly below a target, so any faster rate meets it.
pub fn prefill_for_ttft(prompt_tokens: f64, ttft_s: f64, rtt_s: f64) -> f64 {
    rate_for(prompt_tokens, ttft_s - rtt_s)
}

/// Characters per second a reader sees at `decode` tokens/s.
pub fn chars_per_s(decode_tok_s: f64, chars_per_token: f64) -> f64 {
    decode_tok_s * chars_per_token
}

/// Decode rate needed for a reader to see `chars_per_s`.
pub fn decode_for(chars_per_s: f64, chars_per_token: f64) -> f64 {
    chars_per_s / chars_per_token
}

/// The batching law: the decode rate of each of `streams` streams decoded
/// together, when one stream alone makes `decode_tok_s` tokens/s and each
/// other stream slows it by `slowdown`: decode ÷ (1 + slowdown·(streams − 1)).
/// The simulator's timing model (`sim --batch-slowdown`) and the capacity
/// planner's `BatchingLaw` both use it; fewer than one stream counts as one.
pub fn decode_per_stream(decode_tok_s: f64, slowdown: f64, streams: f64) -> f64 {
    let others = (streams - 1.0).max(0.0);
    decode_tok_s / (1.0 + slowdown * others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batching_law_divides_decode_among_streams() {
        assert_eq!(decode_per_stream(100.0, 0.5, 1.0), 100.0);
        assert_eq!(decode_per_stream(100.0, 0.5, 0.0), 100.0);
        assert_eq!(decode_per_stream(100.0, 0.5, 3.0), 50.0);
        assert_eq!(decode_per_stream(100.0, 0.0, 64.0), 100.0);
    }

    #[test]
    fn ttft_is_rtt_plus_prefill_time() {
        assert!((ttft(0.05, 4000.0, 1000.0) - 4.05).abs() < 1e-12);
        assert!((prefill_for_ttft(4000.0, 4.05, 0.05) - 1000.0).abs() < 1e-9);
    }
}

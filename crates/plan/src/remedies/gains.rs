//! How much a remedy speeds a rate up: speculative decoding's decode
//! speed-up and a split prefill's.

/// Expected tokens produced per verification step with `k` drafted tokens
/// accepted each with probability `alpha`: (1 − α^(k+1)) / (1 − α), and
/// k + 1 at α = 1.
pub fn tokens_per_verify_step(alpha: f64, k: u32) -> f64 {
    if alpha >= 1.0 {
        return f64::from(k) + 1.0;
    }
    (1.0 - alpha.powi(k as i32 + 1)) / (1.0 - alpha)
}

/// Decode speed-up of speculative decoding: tokens per step divided by the
/// step's cost, one target step plus `k` drafts of relative cost `c`.
pub fn speculative_speedup(alpha: f64, k: u32, c: f64) -> f64 {
    tokens_per_verify_step(alpha, k) / (1.0 + f64::from(k) * c)
}

/// The speed-up of splitting prefill across `n` devices: 1 for one device,
/// n × efficiency for more.
pub fn split_factor(n: u32, efficiency: f64) -> f64 {
    if n <= 1 {
        1.0
    } else {
        f64::from(n) * efficiency
    }
}

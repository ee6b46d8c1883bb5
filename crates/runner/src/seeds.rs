//! The seeds a run draws its prompts with: one per level, and one per
//! repeat of a level.

use crate::plan::LevelPlan;
use tokenpace_client::load::Load;

/// Mixed into the seed of warm-up prompts so they differ from measured ones.
pub(crate) const WARMUP_SEED: u64 = 0x5741_524d_5550;

/// The prompt seed of `level`: each level of a run draws its own prompts, so
/// a server's prefix cache cannot serve a later level (or a longer prompt
/// that starts like a shorter one) from an earlier level's requests. Shards
/// of one run agree on it, and split the request ids.
pub fn level_seed(seed: u64, level: LevelPlan) -> u64 {
    let load = match level.load {
        Load::Closed { concurrency } => u64::from(concurrency),
        Load::Open { rate, .. } => rate.to_bits() ^ (1 << 63),
        Load::Trace { speed } => speed.to_bits() ^ (1 << 62),
    };
    // SplitMix64's finaliser over the level's parameters.
    let mut z =
        seed ^ load.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(level.prompt_tokens) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of repeat `k` of a level (`bench --repeat`): the level's own
/// for the first, so a single run is unchanged, and fresh prompts (and
/// arrival times) for each further one.
pub fn repeat_seed(seed: u64, k: u32) -> u64 {
    if k == 0 {
        return seed;
    }
    let mut z = seed ^ u64::from(k).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_draw_their_own_prompts() {
        let l = |c, p| LevelPlan {
            load: Load::Closed { concurrency: c },
            prompt_tokens: p,
        };
        assert_ne!(level_seed(0, l(1, 256)), level_seed(0, l(2, 256)));
        assert_ne!(level_seed(0, l(1, 256)), level_seed(0, l(1, 512)));
        assert_eq!(level_seed(7, l(4, 64)), level_seed(7, l(4, 64)));
        // Repeats draw fresh prompts; the first keeps the level's own.
        assert_eq!(repeat_seed(9, 0), 9);
        assert_ne!(repeat_seed(9, 1), repeat_seed(9, 2));
        assert_ne!(repeat_seed(9, 1), 9);
    }
}

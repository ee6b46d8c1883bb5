//! Prefix KV reuse, as llama.cpp's own server does with its slots: a slot
//! keeps the KV of its last request's tokens after the request ends, and a
//! new prompt goes to the free slot whose tokens share the longest prefix
//! with it, so only the rest of the prompt is computed.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::token::LlamaToken;

/// What a free slot offers a new prompt.
pub struct Offer<'a> {
    /// The tokens whose KV the slot holds, in position order.
    pub kv: &'a [LlamaToken],
    /// When it was last given a request (a counter; smaller is older).
    pub used: u64,
}

/// Tokens `a` and `b` share at their start.
pub fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// The free slot for `prompt`: the longest common prefix; on a tie the
/// least recently used, so a slot holding a useful prefix is kept longest.
/// `None` when no slot is free.
pub fn pick<'a>(
    free: impl IntoIterator<Item = (usize, Offer<'a>)>,
    prompt: &[LlamaToken],
) -> Option<usize> {
    free.into_iter()
        .max_by_key(|(_, o)| (common_prefix(o.kv, prompt), std::cmp::Reverse(o.used)))
        .map(|(seq, _)| seq)
}

/// Prepares sequence `seq` (holding the KV of `kv`) for `prompt`: keeps the
/// KV of the common prefix, removes the rest, and returns how many prompt
/// tokens need no computing. Anything doubtful clears the sequence instead.
pub fn reuse(
    ctx: &mut LlamaContext<'_>,
    seq: usize,
    kv: &mut Vec<LlamaToken>,
    prompt: &[LlamaToken],
    n_swa: u32,
) -> usize {
    // The last prompt token is always computed: its logits give the first
    // answer token.
    let n = common_prefix(kv, prompt).min(prompt.len().saturating_sub(1));
    let (Ok(id), Ok(p0)) = (i32::try_from(seq), u32::try_from(n)) else {
        forget(ctx, seq, kv);
        return 0;
    };
    if n == 0 || ctx.kv_cache_seq_rm(id, Some(p0), None).is_err() {
        // A recurrent model's state cannot be cut back part of the way.
        forget(ctx, seq, kv);
        return 0;
    }
    // A sliding-window cache drops old positions: the kept KV must still
    // cover the window of the next position (llama.cpp's server checks the
    // same). Positions must also run to n - 1, or the record is stale.
    let need_from = if n_swa == 0 {
        0
    } else {
        n.saturating_sub(n_swa as usize)
    };
    let min = ctx.kv_cache_seq_pos_min(id);
    let max = ctx.kv_cache_seq_pos_max(id);
    let whole = usize::try_from(min).is_ok_and(|m| m <= need_from)
        && usize::try_from(max).is_ok_and(|m| m + 1 == n);
    if !whole {
        forget(ctx, seq, kv);
        return 0;
    }
    kv.truncate(n);
    n
}

/// Clears sequence `seq` and its record.
pub fn forget(ctx: &mut LlamaContext<'_>, seq: usize, kv: &mut Vec<LlamaToken>) {
    kv.clear();
    if let Ok(id) = i32::try_from(seq) {
        let _ = ctx.kv_cache_seq_rm(id, None, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().map(|&i| LlamaToken::new(i)).collect()
    }

    #[test]
    fn common_prefix_stops_at_the_first_difference() {
        assert_eq!(common_prefix(&toks(&[1, 2, 3]), &toks(&[1, 2, 4, 5])), 2);
        assert_eq!(common_prefix(&toks(&[1, 2]), &toks(&[1, 2, 3])), 2);
        assert_eq!(common_prefix(&toks(&[]), &toks(&[1])), 0);
        assert_eq!(common_prefix(&toks(&[9]), &toks(&[1])), 0);
    }

    #[test]
    fn pick_prefers_the_longest_prefix_then_the_oldest() {
        let (a, b, c) = (toks(&[1, 2, 3]), toks(&[1, 2, 3, 4, 5]), toks(&[7]));
        let prompt = toks(&[1, 2, 3, 4, 9]);
        let offers = |used: [u64; 3]| {
            vec![
                (
                    0,
                    Offer {
                        kv: &a,
                        used: used[0],
                    },
                ),
                (
                    1,
                    Offer {
                        kv: &b,
                        used: used[1],
                    },
                ),
                (
                    2,
                    Offer {
                        kv: &c,
                        used: used[2],
                    },
                ),
            ]
        };
        assert_eq!(pick(offers([0, 5, 1]), &prompt), Some(1));
        // No prefix anywhere: the least recently used slot.
        assert_eq!(pick(offers([4, 5, 3]), &toks(&[8])), Some(2));
        assert_eq!(pick(offers([2, 5, 3]), &toks(&[8])), Some(0));
        assert_eq!(pick(Vec::new(), &prompt), None);
    }
}

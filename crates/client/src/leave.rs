//! Users who leave: `bench --cancel-after` closes a stream the way a reader
//! who stops reading does, after some tokens or some seconds. Each request's
//! leave point is drawn from the seed and the request id, so shards and
//! repeated runs agree on who leaves when.

use std::time::Duration;
use tokenpace_core::cancel::{CancelAfter, CancelPlan};

/// Who leaves and when, for one run level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Leaving {
    /// The plan: when, and what share of users.
    pub plan: CancelPlan,
    /// Draws are a function of this seed and the request id.
    pub seed: u64,
}

/// Where one request's user leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeavePoint {
    /// Once this many tokens have streamed (at least 1).
    Tokens(u64),
    /// This long after the request was sent.
    After(Duration),
}

impl Leaving {
    /// Where the user of request `id` leaves; `None`: they read to the end.
    pub fn point(&self, id: u64) -> Option<LeavePoint> {
        let (u1, u2) = draws(self.seed, id);
        if u1 >= self.plan.share {
            return None;
        }
        Some(match self.plan.after {
            CancelAfter::Tokens(d) => LeavePoint::Tokens(u64::from(d.sample_count(u2).max(1))),
            CancelAfter::Seconds(d) => {
                LeavePoint::After(Duration::from_secs_f64(d.sample(u2).clamp(0.0, 1e9)))
            }
        })
    }
}

/// Two uniform draws in [0, 1) for request `id`: SplitMix64 steps from the
/// seed mixed with the id.
fn draws(seed: u64, id: u64) -> (f64, f64) {
    let mut state = seed ^ id.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ 0x1EA7_E5ED;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) >> 11
    };
    let scale = 1.0 / (1u64 << 53) as f64;
    (next() as f64 * scale, next() as f64 * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::dist::Dist;

    fn leaving(after: CancelAfter, share: f64, seed: u64) -> Leaving {
        Leaving {
            plan: CancelPlan { after, share },
            seed,
        }
    }

    #[test]
    fn the_share_that_leaves_is_the_share_asked_for() {
        let uniform = Dist::Uniform {
            low: 5.0,
            high: 9.0,
        };
        let l = leaving(CancelAfter::Tokens(uniform), 0.3, 7);
        let points: Vec<_> = (0..10_000).map(|id| l.point(id)).collect();
        let left = points.iter().flatten().count();
        assert!((2_800..3_200).contains(&left), "{left}");
        for p in points.iter().flatten() {
            assert!(matches!(p, LeavePoint::Tokens(5..=9)), "{p:?}");
        }
        // The same seed and id give the same point; another seed does not.
        assert_eq!(l.point(42), points[42]);
        let other = leaving(CancelAfter::Tokens(uniform), 0.3, 8);
        assert_ne!(
            (0..100).map(|id| other.point(id)).collect::<Vec<_>>(),
            points[..100].to_vec()
        );
    }

    #[test]
    fn everyone_leaves_at_share_one_and_a_zero_count_still_reads_a_token() {
        let l = leaving(CancelAfter::Tokens(Dist::fixed(0.0)), 1.0, 1);
        assert!((0..1000).all(|id| l.point(id) == Some(LeavePoint::Tokens(1))));
        let t = leaving(CancelAfter::Seconds(Dist::fixed(1.5)), 1.0, 1);
        assert_eq!(
            t.point(3),
            Some(LeavePoint::After(Duration::from_millis(1500)))
        );
    }
}

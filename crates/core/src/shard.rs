//! Scale-out: one run split over N client processes (shards); their results
//! are joined by [`crate::merge`].
//!
//! Shard `I` of `N` sends the requests whose id `i` satisfies `i % N == I`, so
//! the union of the shards is exactly the request set of one unsharded run with
//! the same seed (prompts are a function of the request id). It takes its share
//! of the concurrency (`c / N`, the first `c % N` shards one more) or of the
//! rate (`r / N`; N Poisson processes of rate r/N superpose to one of rate r).
//!
use serde::{Deserialize, Serialize};

/// Which part of a run this process sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// How many shards the run is split into.
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole run in one process.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not a shard: write I/N with 0 ≤ I < N, e.g. 0/4");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the run is split at all.
    pub fn is_split(self) -> bool {
        self.count > 1
    }

    /// Whether request `id` belongs to this shard.
    pub fn owns(self, id: u64) -> bool {
        id % u64::from(self.count) == u64::from(self.index)
    }

    /// The `k`-th request id of this shard (k from 0).
    pub fn id(self, k: u64) -> u64 {
        u64::from(self.index) + k * u64::from(self.count)
    }

    /// How many of `requests` request ids this shard sends.
    pub fn requests(self, requests: u64) -> u64 {
        let (n, i) = (u64::from(self.count), u64::from(self.index));
        requests / n + u64::from(i < requests % n)
    }

    /// This shard's part of a closed-loop concurrency.
    pub fn concurrency(self, concurrency: u32) -> u32 {
        concurrency / self.count + u32::from(self.index < concurrency % self.count)
    }

    /// This shard's part of an open-loop rate.
    pub fn rate(self, rate: f64) -> f64 {
        rate / f64::from(self.count)
    }
}

//! Capacity search, as pure decisions: given the tiers measured so far at
//! some concurrencies, which concurrency to measure next, and where the
//! boundaries are. No I/O: the `capacity` command measures, this chooses.
//!
//! The search doubles the concurrency (1, 2, 4, …) until a level falls to
//! tier C or the maximum is reached, then bisects between the largest level
//! that held a tier and the smallest that did not, first for tier A, then
//! for tier B, down to adjacent concurrencies. It assumes that more load
//! never makes a deployment faster; where measurements contradict that, the
//! boundary is taken below the smallest failing level.

use crate::grade::Tier;
use crate::metric::{Direction, Metric};
use crate::profile::Profile;
use crate::record::RequestRecord;
use crate::request_metrics::{MetricOptions, RequestMetrics};
use std::collections::BTreeMap;

/// The tier of a level: its overall grade, or C when nothing was sent or
/// graded. Failed requests count through the grade itself: the profile's
/// `answered_pct` rule (by default tier A needs at least 99 % of requests
/// answered, B 95 %: [`crate::profile::ANSWERED_PCT_A`]), the same rule
/// `bench` grades a run on.
pub fn level_tier(overall: Option<Tier>, sent: u64) -> Tier {
    if sent == 0 {
        return Tier::C;
    }
    overall.unwrap_or(Tier::C)
}

/// The next concurrency to measure, or `None` when the search is done.
/// `tested` maps each measured concurrency to its tier; `max` bounds it.
pub fn next_level(tested: &BTreeMap<u32, Tier>, max: u32) -> Option<u32> {
    let max = max.max(1);
    let Some((&top, &top_tier)) = tested.last_key_value() else {
        return Some(1);
    };
    if top_tier != Tier::C && top < max && !tested.values().any(|&t| t == Tier::C) {
        return Some(top.saturating_mul(2).min(max));
    }
    for tier in [Tier::A, Tier::B] {
        let b = bracket(tested, tier);
        if let Some(hi) = b.first_failing {
            if hi - b.last_holding > 1 {
                return Some(b.last_holding + (hi - b.last_holding) / 2);
            }
        }
    }
    None
}

/// Where a tier's boundary lies among the tested levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Bracket {
    /// The largest tested concurrency below the first failing one that held
    /// the tier (0: none did).
    pub last_holding: u32,
    /// The smallest tested concurrency that fell below the tier, if any.
    pub first_failing: Option<u32>,
}

/// The bracket of `tier`'s boundary.
pub fn bracket(tested: &BTreeMap<u32, Tier>, tier: Tier) -> Bracket {
    let first_failing = tested.iter().find(|(_, &t)| t > tier).map(|(&c, _)| c);
    let last_holding = tested
        .iter()
        .filter(|(&c, &t)| t <= tier && first_failing.is_none_or(|f| c < f))
        .map(|(&c, _)| c)
        .max()
        .unwrap_or(0);
    Bracket {
        last_holding,
        first_failing,
    }
}

/// Whether one successful request met every per-request target of `tier`
/// in `profile` (its `a` boundaries for tier A, `b` for tier B). Metrics a
/// request has no value for (ITL is pooled over requests; prefill needs a
/// prompt count) are not held against it.
pub fn meets_targets(
    record: &RequestRecord,
    profile: &Profile,
    opts: &MetricOptions,
    tier: Tier,
) -> bool {
    if !record.is_ok() {
        return false;
    }
    let m = RequestMetrics::of(record, opts);
    let server = record.server_timings.unwrap_or_default();
    profile.metrics.iter().all(|(&metric, rule)| {
        let value = match metric {
            Metric::TtftS => m.ttft_s,
            Metric::TtfvS => m.ttfv_s,
            Metric::PrefillTokS => m.prefill_tok_s,
            Metric::DecodeTokS => m.decode_tok_s,
            Metric::OutputCharsS => m.output_chars_s,
            Metric::E2eS => m.e2e_s,
            Metric::LongestStallS => m.longest_stall_s,
            Metric::Stalls => m.stalls.map(f64::from),
            Metric::ScheduleLagS => Some(m.schedule_lag_s),
            Metric::ServerPrefillTokS => server.prefill_tok_s,
            Metric::ServerDecodeTokS => server.decode_tok_s,
            Metric::ItlS
            | Metric::CharsPerToken
            | Metric::PromptTokens
            | Metric::OutputTokens
            | Metric::AnsweredPct => None,
        };
        let Some(v) = value else { return true };
        let boundary = match tier {
            Tier::A => rule.a,
            _ => rule.b.unwrap_or(rule.a),
        };
        match metric.direction() {
            Some(Direction::LowerIsBetter) => v < boundary,
            _ => v >= boundary,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tier::{A, B, C};

    /// Runs the search against a deployment whose tier at concurrency c is
    /// `law(c)`, returning the levels measured in order.
    fn search(max: u32, law: impl Fn(u32) -> Tier) -> (Vec<u32>, BTreeMap<u32, Tier>) {
        let mut tested = BTreeMap::new();
        let mut order = Vec::new();
        while let Some(c) = next_level(&tested, max) {
            assert!(!tested.contains_key(&c), "{c} measured twice: {order:?}");
            assert!(order.len() < 64, "no end: {order:?}");
            order.push(c);
            tested.insert(c, law(c));
        }
        (order, tested)
    }

    #[test]
    fn finds_both_boundaries_exactly() {
        let law = |c: u32| match c {
            0..=9 => A,
            10..=15 => B,
            _ => C,
        };
        let (order, tested) = search(1024, law);
        assert_eq!(&order[..6], &[1, 2, 4, 8, 16, 12]);
        assert_eq!(bracket(&tested, A).last_holding, 9);
        assert_eq!(bracket(&tested, A).first_failing, Some(10));
        assert_eq!(bracket(&tested, B).last_holding, 15);
        assert_eq!(bracket(&tested, B).first_failing, Some(16));
        // Doubling to the first C, then two bisections of a few steps each.
        assert!(order.len() <= 5 + 3 + 3, "{order:?}");
    }

    #[test]
    fn every_boundary_shape_is_found_for_every_cut() {
        for a in 0..40u32 {
            for b in a..45 {
                let law = move |c: u32| {
                    if c <= a {
                        A
                    } else if c <= b {
                        B
                    } else {
                        C
                    }
                };
                let (_, tested) = search(40, law);
                assert_eq!(bracket(&tested, A).last_holding, a.min(40), "a {a} b {b}");
                assert_eq!(bracket(&tested, B).last_holding, b.min(40), "a {a} b {b}");
            }
        }
    }

    #[test]
    fn stops_at_the_maximum_and_at_the_first_level() {
        let (order, _) = search(20, |_| A);
        assert_eq!(order, vec![1, 2, 4, 8, 16, 20]);
        let (order, tested) = search(64, |_| C);
        assert_eq!(order, vec![1]);
        assert_eq!(bracket(&tested, A).last_holding, 0);
    }

    #[test]
    fn failures_count_through_the_grade() {
        use crate::summary::{Environment, RunSettings, RunSummary};
        // The rule bench grades on: A with at most 1 % failed, B 5 %.
        let tier = |failed: u64| {
            let records: Vec<RequestRecord> = (0..100)
                .map(|i| {
                    let mut r = RequestRecord::new(i, 0, 0);
                    if i < failed {
                        r.error = Some(crate::record::RequestError {
                            kind: crate::record::ErrorKind::StreamCut,
                            status: None,
                            message: "reset".into(),
                        });
                    }
                    r
                })
                .collect();
            let s =
                RunSummary::from_records(&records, RunSettings::default(), Environment::default());
            let g = Profile::builtin()
                .grade_run(|m, st| s.get(m, st), None)
                .unwrap();
            level_tier(g.overall, s.counts.sent)
        };
        assert_eq!(
            (tier(0), tier(1), tier(2), tier(5), tier(6)),
            (A, A, B, B, C)
        );
        assert_eq!(level_tier(None, 10), C);
        assert_eq!(level_tier(Some(B), 0), C);
    }

    #[test]
    fn goodput_checks_each_request_on_its_own() {
        use crate::record::{Chunk, CountSource, TokenCount};
        let req = |ttft_ms: u64| {
            let mut r = RequestRecord::new(0, 0, 0);
            for k in 0..11 {
                r.chunks.push(Chunk {
                    at_ns: (ttft_ms + 10 * k) * 1_000_000,
                    tokens: 1,
                    chars: 3,
                });
            }
            r.output_tokens = Some(TokenCount {
                count: 11,
                source: CountSource::ServerUsage,
            });
            r.output_chars = 33;
            r.end_ns = Some((ttft_ms + 110) * 1_000_000);
            r
        };
        let p = Profile::builtin();
        let o = MetricOptions::default();
        // 100 tok/s decode, 300 chars/s; TTFT decides.
        assert!(meets_targets(&req(1500), &p, &o, A));
        assert!(!meets_targets(&req(2500), &p, &o, A));
        assert!(meets_targets(&req(2500), &p, &o, B));
        assert!(!meets_targets(&req(3500), &p, &o, B));
    }
}

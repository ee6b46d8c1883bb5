//! The steady-state window of a closed loop: the part of the run where the
//! in-flight count held at least 95 % of the target concurrency, with the
//! ramp-up before it and the drain after it summarised apart.
//!
//! The window runs from the first moment the in-flight count reached
//! ⌈0.95 · target⌉ to the last moment it fell below it; the instants a
//! closed loop spends refilling a slot inside it do not end it. Given
//! `trim_start_s` / `trim_end_s` (`bench --trim-start-s`, `--trim-end-s`),
//! the window also starts no earlier than that long after the first send
//! and ends no later than that long before the last end; without a target
//! (open loop) those trims alone make the window.
//!
//! A request belongs to the steady state when at least half of its time
//! (send to end) lies inside the window; else to the ramp-up when more of
//! it lies before the window than after, to the drain otherwise. Each repeat of a level
//! (`bench --repeat`) has its own window, and the phases pool the repeats.

use crate::aggregate::Aggregate;
use crate::record::{Nanos, RequestRecord};
use crate::request_metrics::MetricOptions;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Share of the target concurrency the in-flight count must hold.
pub const STEADY_SHARE: f64 = 0.95;

/// What the window is detected from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SteadyOptions {
    /// The closed loop's concurrency (`None`: open loop, trims only).
    pub target: Option<u32>,
    /// Seconds after the first send the window may start at the earliest.
    pub trim_start_s: f64,
    /// Seconds before the last end the window must end at the latest.
    pub trim_end_s: f64,
}

/// One repeat's steady window, seconds since the run's first send.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Window {
    /// The repeat it belongs to (absent for a level that ran once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Where it starts.
    pub start_s: f64,
    /// Where it ends.
    pub end_s: f64,
}

/// A run split into ramp-up, steady state and drain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SteadyState {
    /// The target concurrency (absent: the window is the trims alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u32>,
    /// In-flight requests the window needed at every moment but refills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// The trims asked for, seconds.
    pub trim_start_s: f64,
    /// See `trim_start_s`.
    pub trim_end_s: f64,
    /// The window of each repeat that had one.
    pub windows: Vec<Window>,
    /// Requests that spent most of their time before the window (and
    /// every request of a repeat without one).
    pub ramp_up: Aggregate,
    /// Requests that spent at least half of their time inside the window.
    pub steady: Aggregate,
    /// The rest: requests that spent most of their time after it.
    pub drain: Aggregate,
}

/// The in-flight threshold of `target`: ⌈0.95 · target⌉.
pub fn threshold(target: u32) -> u32 {
    (f64::from(target) * STEADY_SHARE).ceil() as u32
}

/// The steady window of each repeat and the three phases; `None` when
/// there is nothing to split (no target and no trims, or no records).
pub fn steady_state(
    records: &[RequestRecord],
    opts: &SteadyOptions,
    metric_opts: &MetricOptions,
) -> Option<SteadyState> {
    let trimmed = opts.trim_start_s > 0.0 || opts.trim_end_s > 0.0;
    if opts.target.is_none() && !trimmed {
        return None;
    }
    let origin = records.iter().map(|r| r.sent_ns).min()?;
    let mut groups: BTreeMap<Option<u32>, Vec<&RequestRecord>> = BTreeMap::new();
    for r in records {
        groups.entry(r.repeat).or_default().push(r);
    }
    let (mut windows, mut ramp, mut steady, mut drain) = (vec![], vec![], vec![], vec![]);
    for (repeat, group) in groups {
        let Some((start, end)) = window(&group, opts) else {
            ramp.extend(group);
            continue;
        };
        let secs = |ns: Nanos| ns.saturating_sub(origin) as f64 / 1e9;
        windows.push(Window {
            repeat,
            start_s: secs(start),
            end_s: secs(end),
        });
        for r in group {
            // Half or more of its time inside the window: steady (a burst
            // of streams started microseconds apart is not a ramp).
            let (from, to) = (r.sent_ns, ended(r));
            let inside = to.min(end).saturating_sub(from.max(start));
            let instant = from == to && (start..=end).contains(&from);
            if instant || (to > from && 2 * inside >= to - from) {
                steady.push(r);
            } else if start.saturating_sub(from) >= to.saturating_sub(end) {
                ramp.push(r);
            } else {
                drain.push(r);
            }
        }
    }
    Some(SteadyState {
        target: opts.target,
        threshold: opts.target.map(threshold),
        trim_start_s: opts.trim_start_s,
        trim_end_s: opts.trim_end_s,
        windows,
        ramp_up: Aggregate::of(ramp, metric_opts),
        steady: Aggregate::of(steady, metric_opts),
        drain: Aggregate::of(drain, metric_opts),
    })
}

fn ended(r: &RequestRecord) -> Nanos {
    r.end_ns.unwrap_or(r.sent_ns).max(r.sent_ns)
}

/// The window of one repeat's records, in run nanoseconds.
fn window(group: &[&RequestRecord], opts: &SteadyOptions) -> Option<(Nanos, Nanos)> {
    let first = group.iter().map(|r| r.sent_ns).min()?;
    let last = group.iter().map(|r| ended(r)).max()?;
    let (mut start, mut end) = match opts.target {
        Some(target) => held(group, threshold(target).max(1))?,
        None => (first, last),
    };
    start = start.max(first + (opts.trim_start_s * 1e9) as Nanos);
    end = end.min(last.saturating_sub((opts.trim_end_s * 1e9) as Nanos));
    (end > start).then_some((start, end))
}

/// From the first moment at least `need` requests were in flight to the
/// last moment that stopped being so.
fn held(group: &[&RequestRecord], need: u32) -> Option<(Nanos, Nanos)> {
    // Events at one instant count together, so a slot refilled at the
    // very moment it was freed neither dips nor peaks.
    let mut events: Vec<(Nanos, i64)> = group
        .iter()
        .flat_map(|r| [(r.sent_ns, 1), (ended(r), -1)])
        .collect();
    events.sort_unstable();
    let (mut level, mut start, mut end) = (0i64, None, None);
    let need = i64::from(need);
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        let before = level >= need;
        while i < events.len() && events[i].0 == t {
            level += events[i].1;
            i += 1;
        }
        let after = level >= need;
        if after && start.is_none() {
            start = Some(t);
        }
        if before && !after {
            end = Some(t);
        }
    }
    Some((start?, end?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn req(sent_ms: u64, end_ms: u64) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent_ms * MS, sent_ms * MS);
        r.end_ns = Some(end_ms * MS);
        r
    }

    /// Two streams ramped 1 s apart, each sending back-to-back requests of
    /// 1 s until 5 s (stream 1) and 6 s (stream 2).
    fn ramped() -> Vec<RequestRecord> {
        let mut v = Vec::new();
        for t in 0..5 {
            v.push(req(t * 1000, (t + 1) * 1000));
        }
        for t in 1..6 {
            v.push(req(t * 1000, (t + 1) * 1000));
        }
        v
    }

    fn closed(target: u32) -> SteadyOptions {
        SteadyOptions {
            target: Some(target),
            ..SteadyOptions::default()
        }
    }

    #[test]
    fn the_window_is_where_the_target_held() {
        let opts = MetricOptions::default();
        let s = steady_state(&ramped(), &closed(2), &opts).unwrap();
        assert_eq!(s.threshold, Some(2));
        assert_eq!(s.windows.len(), 1);
        assert_eq!((s.windows[0].start_s, s.windows[0].end_s), (1.0, 5.0));
        // Stream 1's first request ramps; stream 2's last drains.
        assert_eq!(s.ramp_up.counts.sent, 1);
        assert_eq!(s.steady.counts.sent, 8);
        assert_eq!(s.drain.counts.sent, 1);
        assert_eq!(
            s.ramp_up.counts.sent + s.steady.counts.sent + s.drain.counts.sent,
            10
        );
    }

    #[test]
    fn trims_narrow_the_window_and_repeats_have_their_own() {
        let opts = MetricOptions::default();
        let trimmed = SteadyOptions {
            trim_start_s: 2.0,
            trim_end_s: 2.0,
            ..closed(2)
        };
        let s = steady_state(&ramped(), &trimmed, &opts).unwrap();
        assert_eq!((s.windows[0].start_s, s.windows[0].end_s), (2.0, 4.0));
        assert_eq!(s.steady.counts.sent, 4);
        // Open loop: the trims alone.
        let open = SteadyOptions {
            target: None,
            ..trimmed
        };
        let s = steady_state(&ramped(), &open, &opts).unwrap();
        assert_eq!((s.windows[0].start_s, s.windows[0].end_s), (2.0, 4.0));
        assert!(steady_state(&ramped(), &SteadyOptions::default(), &opts).is_none());
        // A target never reached leaves everything outside the window.
        let s = steady_state(&ramped(), &closed(3), &opts).unwrap();
        assert!(s.windows.is_empty());
        assert_eq!((s.ramp_up.counts.sent, s.steady.counts.sent), (10, 0));
        // A second repeat 10 s later gets its own window.
        let mut two = ramped();
        two.extend(ramped().into_iter().map(|mut r| {
            r.sent_ns += 10_000 * MS;
            r.end_ns = r.end_ns.map(|e| e + 10_000 * MS);
            r.repeat = Some(1);
            r
        }));
        for r in two.iter_mut().take(10) {
            r.repeat = Some(0);
        }
        let s = steady_state(&two, &closed(2), &opts).unwrap();
        let w: Vec<_> = s.windows.iter().map(|w| (w.start_s, w.end_s)).collect();
        assert_eq!(w, vec![(1.0, 5.0), (11.0, 15.0)]);
        assert_eq!(s.steady.counts.sent, 16);
    }

    #[test]
    fn thresholds_round_up() {
        assert_eq!((threshold(1), threshold(4), threshold(20)), (1, 4, 19));
    }
}

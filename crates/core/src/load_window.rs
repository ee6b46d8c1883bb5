//! When each shard of a run was loading the server, on the wall clock, and
//! whether they loaded it together.
//!
//! A shard's records are timed on its own monotonic clock, whose zero is
//! the wall-clock instant in its `run.json` (`started_at`, milliseconds).
//! That instant puts the shards on one time line, as exact as the hosts'
//! clocks agree (NTP: typically a millisecond or a few). Only the load
//! windows and the merged time line use it; no metric does.

use crate::record::{Nanos, RequestRecord};
use crate::setting::Setting;
use std::time::SystemTime;

/// Below this share of the merged run's span with every shard loading, the
/// merged load was not the one asked for.
pub const MIN_TOGETHER_SHARE: f64 = 0.9;

/// One shard's load on the wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadWindow {
    /// Where the shard came from, for messages.
    pub source: String,
    /// The zero of its records' times.
    pub origin: SystemTime,
    /// Seconds from the origin to its last request's end.
    pub length_s: f64,
}

impl LoadWindow {
    /// The window of `records` timed from `origin`.
    pub fn of(source: &str, origin: SystemTime, records: &[RequestRecord]) -> LoadWindow {
        let last: Nanos = records
            .iter()
            .map(|r| r.end_ns.unwrap_or(r.sent_ns))
            .max()
            .unwrap_or(0);
        LoadWindow {
            source: source.to_string(),
            origin,
            length_s: last as f64 / 1e9,
        }
    }
}

/// How the shards' windows lie against each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// Seconds every shard was loading at once (negative: the gap between
    /// the earliest end and the latest start).
    pub together_s: f64,
    /// Seconds from the first shard's start to the last one's end.
    pub span_s: f64,
    /// Seconds between the first and the last shard's start.
    pub start_spread_s: f64,
    /// The shard that started last.
    pub latest_start: String,
    /// The shard that ended first.
    pub earliest_end: String,
}

impl Overlap {
    /// How the windows overlap; `None` for fewer than two.
    pub fn of(windows: &[LoadWindow]) -> Option<Overlap> {
        let first = windows.first()?;
        if windows.len() < 2 {
            return None;
        }
        // Seconds on a line whose zero is the first window's origin.
        let at = |w: &LoadWindow| crate::wall_clock::seconds_between(first.origin, w.origin);
        let by = |f: &dyn Fn(&LoadWindow) -> f64, max: bool| {
            windows
                .iter()
                .map(|w| (f(w), w))
                .reduce(|a, b| if (b.0 > a.0) == max { b } else { a })
                .map(|(v, w)| (v, w.source.clone()))
        };
        let (min_start, _) = by(&|w| at(w), false)?;
        let (max_start, latest_start) = by(&|w| at(w), true)?;
        let (min_end, earliest_end) = by(&|w| at(w) + w.length_s, false)?;
        let (max_end, _) = by(&|w| at(w) + w.length_s, true)?;
        Some(Overlap {
            together_s: min_end - max_start,
            span_s: max_end - min_start,
            start_spread_s: max_start - min_start,
            latest_start,
            earliest_end,
        })
    }

    /// The share of the span every shard was loading (0 when never).
    pub fn together_share(&self) -> f64 {
        if self.span_s > 0.0 {
            (self.together_s / self.span_s).max(0.0)
        } else {
            1.0
        }
    }

    /// Whether the shards loaded the server together for most of the run.
    pub fn together(&self) -> bool {
        self.together_share() >= MIN_TOGETHER_SHARE
    }

    /// What a reader should know when they did not, in one sentence.
    pub fn problem(&self) -> Option<String> {
        if self.together() {
            return None;
        }
        let fix = format!(
            "the merged load was not the one asked for; start every shard with the same {}",
            Setting::StartAt
        );
        Some(if self.together_s <= 0.0 {
            format!(
                "the shards' load windows did not overlap: {} ended {:.1} s before {} started; {fix}",
                self.earliest_end, -self.together_s, self.latest_start
            )
        } else {
            format!(
                "every shard was loading the server for only {:.1} s of the {:.1} s the merged run spans ({:.0} %; starts {:.1} s apart); {fix}",
                self.together_s,
                self.span_s,
                100.0 * self.together_share(),
                self.start_spread_s
            )
        })
    }
}

/// `record` with every time moved `by` nanoseconds later (onto a time line
/// shared by the shards of a run). Every field is named so that a new time
/// field cannot be left behind.
pub fn shifted(record: &RequestRecord, by: Nanos) -> RequestRecord {
    let mut r = record.clone();
    let RequestRecord {
        id: _,
        response_id: _,
        request_id: _,
        model: _,
        repeat: _,
        scheduled_ns,
        sent_ns,
        dns_ns,
        connected_ns,
        tls_ns,
        tls_resumed: _,
        written_ns,
        headers_ns,
        first_event_ns,
        chunks,
        reasoning_chunks,
        tool_chunks,
        tool_calls: _,
        turn: _,
        finish_reason: _,
        finish_ns,
        end_ns,
        prompt_tokens: _,
        output_tokens: _,
        cached_tokens: _,
        reasoning_tokens: _,
        output_chars: _,
        output_cjk_chars: _,
        server_timings: _,
        error: _,
        left_ns,
        retry_after_ms: _,
        rate_limits: _,
        retries,
    } = &mut r;
    for t in [scheduled_ns, sent_ns] {
        *t += by;
    }
    if let Some(r) = retries {
        r.first_sent_ns += by;
    }
    for t in [
        dns_ns,
        connected_ns,
        tls_ns,
        written_ns,
        headers_ns,
        first_event_ns,
        finish_ns,
        end_ns,
        left_ns,
    ]
    .into_iter()
    .flatten()
    {
        *t += by;
    }
    for c in chunks
        .iter_mut()
        .chain(reasoning_chunks.iter_mut())
        .chain(tool_chunks.iter_mut())
    {
        c.at_ns += by;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn window(source: &str, start_s: f64, length_s: f64) -> LoadWindow {
        LoadWindow {
            source: source.into(),
            origin: UNIX_EPOCH + Duration::from_secs(1000) + Duration::from_secs_f64(start_s),
            length_s,
        }
    }

    #[test]
    fn shards_started_together_overlap() {
        let o = Overlap::of(&[window("a", 0.0, 10.0), window("b", 0.01, 9.8)]).unwrap();
        assert!((o.together_s - 9.8).abs() < 1e-6, "{o:?}");
        assert!((o.span_s - 10.0).abs() < 1e-6);
        assert!(o.together() && o.problem().is_none());
        assert!(Overlap::of(&[window("a", 0.0, 1.0)]).is_none());
    }

    #[test]
    fn staggered_or_disjoint_shards_are_named() {
        let o = Overlap::of(&[window("a", 0.0, 10.0), window("b", 4.0, 10.0)]).unwrap();
        assert!((o.together_share() - 6.0 / 14.0).abs() < 1e-6);
        let p = o.problem().unwrap();
        assert!(
            p.contains("6.0 s of the 14.0 s") && p.contains(&Setting::StartAt.to_string()),
            "{p}"
        );
        let o = Overlap::of(&[window("b", 12.0, 3.0), window("a", 0.0, 10.0)]).unwrap();
        let p = o.problem().unwrap();
        assert!(p.contains("a ended 2.0 s before b started"), "{p}");
    }

    #[test]
    fn shifting_moves_every_time_and_nothing_else() {
        let mut r = RequestRecord::new(3, 10, 20);
        r.connected_ns = Some(25);
        r.first_event_ns = Some(30);
        r.chunks = vec![crate::record::Chunk {
            at_ns: 40,
            tokens: 1,
            chars: 2,
        }];
        r.end_ns = Some(50);
        let s = shifted(&r, 1000);
        assert_eq!((s.id, s.scheduled_ns, s.sent_ns), (3, 1010, 1020));
        assert_eq!((s.connected_ns, s.dns_ns), (Some(1025), None));
        assert_eq!((s.first_event_ns, s.end_ns), (Some(1030), Some(1050)));
        assert_eq!((s.chunks[0].at_ns, s.chunks[0].chars), (1040, 2));
        assert_eq!(shifted(&r, 0), r);
    }
}

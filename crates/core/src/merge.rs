//! Shards' results merged back into one run.
//!
//! No metric compares the clocks of two shards: every metric is a
//! difference of two times of the same request, taken on one host, so the
//! merged statistics are computed from the union of raw records exactly as
//! for one run. Only throughput spans requests; it is summed over shards,
//! each over its own duration. The shards' wall-clock starts put their
//! records on one time line ([`crate::load_window`]): the merged records are
//! timed from the earliest shard's start, and the shards' load windows are
//! checked to have overlapped.

use crate::load_window::{shifted, LoadWindow, Overlap};
use crate::record::RequestRecord;
use crate::setting::Setting;
use crate::summary::{RunSettings, RunSummary, Throughput};
use std::collections::BTreeMap;

/// One shard's results of one level, as `bench --out` wrote them.
#[derive(Debug, Clone)]
pub struct ShardResult {
    /// Where they came from, for messages.
    pub source: String,
    /// `run.json`.
    pub summary: RunSummary,
    /// `requests.jsonl`.
    pub records: Vec<RequestRecord>,
}

/// Why shards could not be merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no results to merge")]
    Empty,
    /// A request id occurs twice.
    #[error("request {id} is in both {first} and {second}: merge the shards of one run (each run with its own {} I/N), not the same shard twice", Setting::Shard)]
    Duplicate {
        /// The id.
        id: u64,
        /// Where it was first.
        first: String,
        /// Where it was again.
        second: String,
    },
    /// A shard killed before it wrote `run.json`, among shards that did:
    /// which shard it was is unknown.
    #[error("{dir} is a partial shard: it has no run.json (its process was killed before it finished), so which shard it was and its settings are unknown; merge the other shards without it (the merged run names the missing shard) or run it again")]
    Killed {
        /// The killed shard.
        dir: String,
    },
    /// Shards of different splits or settings.
    #[error("{first} and {second} are not shards of one run ({what} differ): merge results of one `bench {} I/N` run", Setting::Shard)]
    Mismatch {
        /// One source.
        first: String,
        /// The other.
        second: String,
        /// What differs.
        what: String,
    },
}

/// The merged run, and what qualifies it: shards expected but not given,
/// shards cut short, load windows that did not overlap.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The summary of the union of records.
    pub summary: RunSummary,
    /// Every record, by id; timed from the earliest shard's start when
    /// every shard recorded its start.
    pub records: Vec<RequestRecord>,
    /// Shard indices of the split that were not among the inputs.
    pub missing: Vec<u32>,
    /// Shards whose run was cut short (Ctrl-C), by source.
    pub partial: Vec<String>,
    /// How the shards' load windows overlapped (`None`: fewer than two
    /// shards, or one without a recorded start).
    pub overlap: Option<Overlap>,
}

impl Merged {
    /// What a reader of the merged run must know, one sentence each.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.missing.is_empty() {
            let list: Vec<String> = self.missing.iter().map(u32::to_string).collect();
            out.push(format!(
                "shards {} of the run were not given: the merged run holds {} requests, not the whole run's, at a part of its load",
                list.join(", "),
                self.records.len()
            ));
        }
        for source in &self.partial {
            out.push(format!(
                "{source} is partial (its run was cut short): the requests it did not send are missing"
            ));
        }
        out.extend(self.overlap.as_ref().and_then(Overlap::problem));
        out
    }
}

/// Merges shards of one run: statistics from the union of raw records (exact
/// percentiles), throughput summed over shards.
pub fn merge(parts: Vec<ShardResult>) -> Result<Merged, MergeError> {
    let first = parts.first().ok_or(MergeError::Empty)?;
    let shards_seen = check_one_run(&parts)?;
    let windows = load_windows(&parts);
    let earliest = windows
        .as_ref()
        .and_then(|w| w.iter().map(|w| w.origin).min());
    let records = on_one_time_line(&parts, windows.as_deref(), earliest);
    let settings = RunSettings {
        concurrency: sum_opt(parts.iter().map(|p| p.summary.settings.concurrency)),
        rate: parts
            .iter()
            .map(|p| p.summary.settings.rate)
            .sum::<Option<f64>>(),
        shard: None,
        ..first.summary.settings.clone()
    };
    let environment = first.summary.environment.clone();
    let environment = match earliest {
        Some(t) => crate::summary::Environment {
            started_at: Some(crate::wall_clock::format(t)),
            ..environment
        },
        None => environment,
    };
    let mut summary = RunSummary::from_records(&records, settings, environment);
    summary.throughput = summed_throughput(&parts);
    summary.partial = parts.iter().any(|p| p.summary.partial);
    let missing = match first.summary.settings.shard {
        Some(split) => (0..split.count)
            .filter(|i| !shards_seen.contains(i))
            .collect(),
        None => Vec::new(),
    };
    let partial = parts
        .iter()
        .filter(|p| p.summary.partial)
        .map(|p| p.source.clone())
        .collect();
    Ok(Merged {
        summary,
        records,
        missing,
        partial,
        overlap: windows.as_deref().and_then(Overlap::of),
    })
}

/// Checks that `parts` are shards of one run (the same split, target,
/// workload and start instant) with no request twice; returns the shard
/// indices given.
fn check_one_run(parts: &[ShardResult]) -> Result<Vec<u32>, MergeError> {
    let Some(first) = parts.first() else {
        return Err(MergeError::Empty);
    };
    let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
    let mut shards_seen = Vec::new();
    for (p, part) in parts.iter().enumerate() {
        same_run(first, part)?;
        if let Some(shard) = part.summary.settings.shard {
            shards_seen.push(shard.index);
        }
        for r in &part.records {
            if let Some(&q) = seen.get(&r.id) {
                return Err(MergeError::Duplicate {
                    id: r.id,
                    first: parts[q].source.clone(),
                    second: part.source.clone(),
                });
            }
            seen.insert(r.id, p);
        }
    }
    Ok(shards_seen)
}

/// Whether `part` is a shard of the same run as `first`: why not when it
/// is not (a killed shard named as such).
fn same_run(first: &ShardResult, part: &ShardResult) -> Result<(), MergeError> {
    let (base, s) = (&first.summary.settings, &part.summary.settings);
    let mismatch = |what: &str| MergeError::Mismatch {
        first: first.source.clone(),
        second: part.source.clone(),
        what: what.to_string(),
    };
    if s.shard.map(|x| x.count) != base.shard.map(|x| x.count) {
        // A summary rebuilt from the records alone has no settings.
        let killed = [first, part].into_iter().find(|p| {
            p.summary.partial
                && p.summary.settings.shard.is_none()
                && p.summary.settings.target.is_none()
        });
        return Err(match killed {
            Some(p) => MergeError::Killed {
                dir: p.source.clone(),
            },
            None => mismatch("shard counts"),
        });
    }
    if (
        s.target.as_deref(),
        s.model.as_deref(),
        s.backend.as_deref(),
    ) != (
        base.target.as_deref(),
        base.model.as_deref(),
        base.backend.as_deref(),
    ) {
        return Err(mismatch("target, model or backend"));
    }
    if (s.prompt_tokens, s.max_tokens, s.requests)
        != (base.prompt_tokens, base.max_tokens, base.requests)
    {
        return Err(mismatch("prompt tokens, max tokens or requests"));
    }
    if s.start_at != base.start_at {
        return Err(mismatch(&format!("start instants ({})", Setting::StartAt)));
    }
    Ok(())
}

/// Each shard's load window on the wall clock; `None` when a shard did not
/// record its start.
fn load_windows(parts: &[ShardResult]) -> Option<Vec<LoadWindow>> {
    parts
        .iter()
        .map(|p| {
            let started = p.summary.environment.started_at.as_deref()?;
            let origin = crate::wall_clock::parse(started).ok()?;
            Some(LoadWindow::of(&p.source, origin, &p.records))
        })
        .collect()
}

/// Every shard's records, by id: timed from the `earliest` shard's start
/// when every shard's window is known, else as each shard timed them.
fn on_one_time_line(
    parts: &[ShardResult],
    windows: Option<&[LoadWindow]>,
    earliest: Option<std::time::SystemTime>,
) -> Vec<RequestRecord> {
    let mut records: Vec<RequestRecord> = match (windows, earliest) {
        (Some(windows), Some(earliest)) => parts
            .iter()
            .zip(windows)
            .flat_map(|(p, w)| {
                let by = w.origin.duration_since(earliest).unwrap_or_default();
                p.records
                    .iter()
                    .map(move |r| shifted(r, by.as_nanos() as u64))
            })
            .collect(),
        _ => parts.iter().flat_map(|p| p.records.clone()).collect(),
    };
    records.sort_by_key(|r| r.id);
    records
}

/// Throughput of shards that ran side by side: each shard's clock is its
/// own, so spans across shards are meaningless; the sum of the shards'
/// rates, over the longest shard's duration.
fn summed_throughput(parts: &[ShardResult]) -> Throughput {
    Throughput {
        duration_s: parts
            .iter()
            .map(|p| p.summary.throughput.duration_s)
            .fold(0.0, f64::max),
        requests_per_s: parts
            .iter()
            .map(|p| p.summary.throughput.requests_per_s)
            .sum(),
        output_tok_s: parts
            .iter()
            .map(|p| p.summary.throughput.output_tok_s)
            .sum(),
    }
}

fn sum_opt(values: impl Iterator<Item = Option<u32>>) -> Option<u32> {
    values.sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Chunk;
    use crate::shard::Shard;
    use crate::summary::Environment;

    #[test]
    fn shards_partition_the_requests_and_the_load() {
        for n in 1..6u32 {
            let mut ids = Vec::new();
            let (mut conc, mut reqs) = (0, 0);
            for i in 0..n {
                let s = Shard { index: i, count: n };
                let mine: Vec<u64> = (0..).map(|k| s.id(k)).take_while(|&id| id < 23).collect();
                assert!(mine.iter().all(|&id| s.owns(id)));
                assert_eq!(mine.len() as u64, s.requests(23));
                reqs += s.requests(23);
                ids.extend(mine);
                conc += s.concurrency(7);
            }
            ids.sort();
            assert_eq!(ids, (0..23).collect::<Vec<_>>());
            assert_eq!((conc, reqs), (7, 23));
        }
        assert_eq!(Shard::parse(" 2/4 "), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1", "a/2", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).unwrap_err().contains("I/N"), "{bad}");
        }
    }

    fn rec(id: u64, start: u64, ttft: u64) -> RequestRecord {
        let mut r = RequestRecord::new(id, start, start);
        r.chunks = (0..3)
            .map(|k| Chunk {
                at_ns: start + ttft + k * 1_000_000,
                tokens: 1,
                chars: 1,
            })
            .collect();
        r.end_ns = Some(start + ttft + 3_000_000);
        r
    }

    fn part(source: &str, index: u32, records: Vec<RequestRecord>) -> ShardResult {
        let settings = RunSettings {
            shard: Some(Shard { index, count: 3 }),
            concurrency: Some(2),
            ..RunSettings::default()
        };
        ShardResult {
            source: source.into(),
            summary: RunSummary::from_records(&records, settings, Environment::default()),
            records,
        }
    }

    #[test]
    fn merged_statistics_are_those_of_the_union() {
        // Shard clocks start at different instants: only per-request
        // differences may matter.
        let a = vec![rec(0, 5_000_000_000, 10_000_000), rec(2, 0, 30_000_000)];
        let b = vec![rec(1, 77, 20_000_000)];
        let merged = merge(vec![part("a", 0, a.clone()), part("b", 1, b.clone())]).unwrap();
        let union: Vec<RequestRecord> = a.into_iter().chain(b).collect();
        let direct =
            RunSummary::from_records(&union, RunSettings::default(), Environment::default());
        assert_eq!(merged.summary.metrics, direct.metrics);
        assert_eq!(merged.missing, vec![2]);
        assert_eq!(merged.summary.settings.concurrency, Some(4));
        assert_eq!(merged.summary.counts.sent, 3);
        let ids: Vec<u64> = merged.records.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![0, 1, 2]);
    }

    #[test]
    fn duplicates_and_foreign_shards_are_refused() {
        let a = part("a", 0, vec![rec(0, 0, 1)]);
        let e = merge(vec![a.clone(), a.clone()]).unwrap_err();
        assert!(
            e.to_string().contains("request 0 is in both a and a"),
            "{e}"
        );
        let mut other = part("c", 1, vec![rec(1, 0, 1)]);
        other.summary.settings.shard = Some(Shard { index: 1, count: 2 });
        let e = merge(vec![a, other]).unwrap_err();
        assert!(e.to_string().contains("shard counts differ"), "{e}");
        assert_eq!(merge(Vec::new()).unwrap_err(), MergeError::Empty);
    }

    #[test]
    fn shards_share_a_time_line_and_their_problems_are_named() {
        let mut a = part("a", 0, vec![rec(0, 0, 10_000_000)]);
        let mut b = part("b", 1, vec![rec(1, 0, 10_000_000)]);
        a.summary.environment.started_at = Some("2026-12-06T08:00:00.000Z".into());
        b.summary.environment.started_at = Some("2026-12-06T08:00:00.250Z".into());
        b.summary.partial = true;
        let merged = merge(vec![a.clone(), b.clone()]).unwrap();
        // b's request started 250 ms after a's, on the merged line.
        let sent: Vec<u64> = merged.records.iter().map(|r| r.sent_ns).collect();
        assert_eq!(sent, vec![0, 250_000_000]);
        assert_eq!(merged.records[1].end_ns, Some(263_000_000));
        // The metrics are those of the unshifted records.
        let direct = RunSummary::from_records(
            &[a.records[0].clone(), b.records[0].clone()],
            RunSettings::default(),
            Environment::default(),
        );
        assert_eq!(merged.summary.metrics, direct.metrics);
        assert_eq!(
            merged.summary.environment.started_at.as_deref(),
            Some("2026-12-06T08:00:00.000Z")
        );
        let problems = merged.problems().join("\n");
        assert!(
            problems.contains("shards 2 of the run were not given"),
            "{problems}"
        );
        assert!(problems.contains("b is partial"), "{problems}");
        // 13 ms windows 250 ms apart never overlapped.
        assert!(
            problems.contains("a ended 0.2 s before b started"),
            "{problems}"
        );

        // Different instants are different runs.
        b.summary.settings.start_at = Some("2026-12-06T08:00:00.000Z".into());
        let e = merge(vec![a, b]).unwrap_err();
        assert!(e.to_string().contains("start instants"), "{e}");
    }
}

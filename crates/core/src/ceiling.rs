//! The client's own ceiling: whether the measuring client, not the server,
//! limited a run. Four figures every run measures of itself (schedule lag,
//! requests in flight against those asked, the client's CPU, connections
//! refused for want of descriptors or ports) are judged against fixed
//! limits; a run past one is not valid, says so, and is not graded A.

use crate::grade::{Grade, Tier};
use crate::record::{ErrorKind, Nanos, RequestRecord};
use serde::{Deserialize, Serialize};

/// Open loop: a p99 schedule lag above this (seconds) means the client
/// sent late, so the server saw less load than asked and TTFT started from
/// a late send. 1 ms is the self-check's bar for an exact timestamp.
pub const MAX_SCHEDULE_LAG_P99_S: f64 = 0.001;

/// Open loop: the fewest requests whose lag p99 is judged. Below 100 the
/// p99 is the largest lag, one hiccup of a shared machine, not a ceiling.
pub const MIN_LAG_SAMPLES: usize = 100;

/// Closed loop: the median number in flight during the steady part below
/// this share of the concurrency asked means the client did not keep its
/// streams busy (it was slow to send the next request).
pub const MIN_IN_FLIGHT_SHARE: f64 = 0.99;

/// The client's CPU above this share of its load threads' worth (one
/// single-threaded runtime per core, so one core each): a stream's bytes
/// then wait for a busy thread and are dated late, and sends slip.
pub const MAX_CPU_PER_WORKER: f64 = 0.9;

/// Requests in flight against those asked (closed loop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InFlight {
    /// Concurrency asked (this shard's).
    pub asked: u32,
    /// Time-weighted median in flight between the first wave's last send
    /// and the run's last send.
    pub median: f64,
}

/// The client's own CPU over the load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Cpu {
    /// User + system CPU of the client process, seconds.
    pub cpu_s: f64,
    /// Wall time of the load, seconds.
    pub wall_s: f64,
    /// Load threads (one per core).
    pub workers: u32,
}

impl Cpu {
    /// Cores' worth used: CPU seconds per wall second.
    pub fn cores(&self) -> f64 {
        self.cpu_s / self.wall_s.max(1e-9)
    }
}

/// What the client measured of itself during a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ClientFigures {
    /// Open loop or trace: p99 of sent − scheduled, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_lag_p99_s: Option<f64>,
    /// Closed loop: in flight against asked, when there was a steady part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight: Option<InFlight>,
    /// The client's CPU, where the OS reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    /// Connections refused by this machine: no descriptor or port left.
    #[serde(default)]
    pub exhausted: usize,
    /// The first such error's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted_message: Option<String>,
}

/// A limit of the client that a run crossed, with its figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[schemars(rename = "Limit")]
pub enum ClientLimit {
    /// Sends later than scheduled (open loop).
    ScheduleLag {
        /// p99, ms.
        p99_ms: f64,
    },
    /// Fewer in flight than asked (closed loop).
    InFlight {
        /// Median in flight.
        median: f64,
        /// Asked.
        asked: u32,
    },
    /// The client's CPU near all its load threads.
    Cpu {
        /// Percent of the load threads' worth used.
        percent: f64,
        /// Load threads.
        workers: u32,
    },
    /// Out of descriptors or local ports.
    Descriptors {
        /// Requests whose connection failed so.
        requests: usize,
        /// The error, as the OS gave it.
        message: String,
    },
}

/// The client's figures and the limits they crossed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ceiling {
    /// What was measured.
    pub figures: ClientFigures,
    /// Limits crossed; empty when the client kept up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<ClientLimit>,
}

impl Ceiling {
    /// Judges `figures` against the limits.
    pub fn judge(figures: ClientFigures) -> Ceiling {
        let mut limits = Vec::new();
        if let Some(lag) = figures
            .schedule_lag_p99_s
            .filter(|&l| l > MAX_SCHEDULE_LAG_P99_S)
        {
            limits.push(ClientLimit::ScheduleLag { p99_ms: lag * 1e3 });
        }
        if let Some(f) = figures.in_flight {
            if f.median < MIN_IN_FLIGHT_SHARE * f64::from(f.asked) {
                limits.push(ClientLimit::InFlight {
                    median: f.median,
                    asked: f.asked,
                });
            }
        }
        if let Some(c) = figures.cpu.filter(|c| c.workers > 0) {
            let share = c.cores() / f64::from(c.workers);
            if share > MAX_CPU_PER_WORKER {
                limits.push(ClientLimit::Cpu {
                    percent: share * 100.0,
                    workers: c.workers,
                });
            }
        }
        if figures.exhausted > 0 {
            limits.push(ClientLimit::Descriptors {
                requests: figures.exhausted,
                message: figures.exhausted_message.clone().unwrap_or_default(),
            });
        }
        Ceiling { figures, limits }
    }

    /// Whether the client limited the run (the run is then not valid).
    pub fn limited(&self) -> bool {
        !self.limits.is_empty()
    }
}

/// Caps `grade` below A when `ceiling` says the client limited the run: a
/// client's limit is not the server's tier.
pub fn cap(grade: &mut Grade, ceiling: Option<&Ceiling>) {
    if ceiling.is_some_and(Ceiling::limited) {
        grade.client_limited = true;
        if grade.overall == Some(Tier::A) {
            grade.overall = Some(Tier::B);
        }
    }
}

/// Whether an error message is the OS refusing a socket or a local port:
/// EMFILE, ENFILE (descriptors), EADDRNOTAVAIL (ephemeral ports).
pub fn is_exhaustion(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "too many open files",
        "cannot assign requested address",
        "can't assign requested address",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// Connect failures that were exhaustion, and the first one's message.
pub fn exhausted(records: &[RequestRecord]) -> (usize, Option<String>) {
    let mut hits = records.iter().filter_map(|r| {
        let e = r.error.as_ref()?;
        (e.kind == ErrorKind::Connect && is_exhaustion(&e.message)).then_some(&e.message)
    });
    let first = hits.next().map(|m| m.to_string());
    (first.iter().count() + hits.count(), first)
}

/// Closed loop of `asked` streams: the time-weighted median in flight
/// between the first wave's last send (the ramp-up done) and the last send
/// (the drain begins); `None` without such a part (a single wave).
pub fn median_in_flight(records: &[RequestRecord], asked: u32) -> Option<InFlight> {
    let mut sends: Vec<Nanos> = records.iter().map(|r| r.sent_ns).collect();
    sends.sort_unstable();
    let (from, to) = (
        *sends.get((asked as usize).checked_sub(1)?)?,
        *sends.last()?,
    );
    if to <= from || sends.len() <= asked as usize {
        return None;
    }
    let mut edges: Vec<(Nanos, i64)> = records
        .iter()
        .flat_map(|r| {
            let end = r.end_ns.unwrap_or(r.sent_ns).max(r.sent_ns);
            [(r.sent_ns, 1), (end, -1)]
        })
        .collect();
    // An end at the same instant as a send frees its slot first.
    edges.sort_unstable();
    let mut time_at: std::collections::BTreeMap<i64, Nanos> = Default::default();
    let (mut now, mut at) = (0i64, from);
    for (t, d) in edges {
        if t > at && t > from {
            let start = at.max(from);
            let stop = t.min(to);
            if stop > start {
                *time_at.entry(now).or_default() += stop - start;
            }
            at = t;
        }
        now += d;
    }
    let total: Nanos = time_at.values().sum();
    let mut seen = 0;
    let median = time_at.iter().find_map(|(&n, &d)| {
        seen += d;
        (2 * seen >= total).then_some(n)
    })?;
    Some(InFlight {
        asked,
        median: median as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RequestError;

    fn fine() -> ClientFigures {
        ClientFigures {
            schedule_lag_p99_s: Some(0.0002),
            in_flight: Some(InFlight {
                asked: 100,
                median: 100.0,
            }),
            cpu: Some(Cpu {
                cpu_s: 1.0,
                wall_s: 2.0,
                workers: 2,
            }),
            exhausted: 0,
            exhausted_message: None,
        }
    }

    #[test]
    fn a_client_that_kept_up_is_not_limited() {
        assert!(!Ceiling::judge(fine()).limited());
    }

    #[test]
    fn late_sends_cross_the_schedule_lag_limit() {
        let c = Ceiling::judge(ClientFigures {
            schedule_lag_p99_s: Some(0.004),
            ..fine()
        });
        assert_eq!(c.limits.len(), 1);
        assert!(
            matches!(c.limits[0], ClientLimit::ScheduleLag { p99_ms } if (p99_ms - 4.0).abs() < 1e-9)
        );
    }

    #[test]
    fn too_few_in_flight_crosses_the_in_flight_limit() {
        let short = |median| {
            Ceiling::judge(ClientFigures {
                in_flight: Some(InFlight { asked: 100, median }),
                ..fine()
            })
        };
        assert!(short(98.0).limited());
        assert!(!short(99.0).limited());
    }

    #[test]
    fn a_busy_client_crosses_the_cpu_limit() {
        let busy = |cpu_s| {
            Ceiling::judge(ClientFigures {
                cpu: Some(Cpu {
                    cpu_s,
                    wall_s: 10.0,
                    workers: 2,
                }),
                ..fine()
            })
        };
        assert!(matches!(
            busy(19.0).limits[..],
            [ClientLimit::Cpu { workers: 2, .. }]
        ));
        assert!(!busy(17.0).limited());
    }

    #[test]
    fn descriptor_exhaustion_is_found_in_connect_errors() {
        let failed = |kind, message: &str| {
            let mut r = RequestRecord::new(0, 0, 0);
            r.error = Some(RequestError {
                kind,
                status: None,
                message: message.into(),
            });
            r
        };
        let records = [
            failed(
                ErrorKind::Connect,
                "could not connect to 127.0.0.1:1: Too many open files (os error 24)",
            ),
            failed(
                ErrorKind::Connect,
                "Cannot assign requested address (os error 99)",
            ),
            failed(ErrorKind::Connect, "Connection refused (os error 111)"),
            failed(ErrorKind::Other, "too many open files"),
        ];
        let (n, first) = exhausted(&records);
        assert_eq!(n, 2);
        let c = Ceiling::judge(ClientFigures {
            exhausted: n,
            exhausted_message: first,
            ..fine()
        });
        assert!(
            matches!(&c.limits[..], [ClientLimit::Descriptors { requests: 2, message }] if message.contains("24"))
        );
    }

    #[test]
    fn a_limited_run_is_not_graded_a() {
        let mut g = Grade {
            profile: "p".into(),
            metrics: Vec::new(),
            overall: Some(Tier::A),
            prefill_not_measurable: None,
            client_limited: false,
        };
        cap(&mut g, Some(&Ceiling::judge(fine())));
        assert_eq!(g.overall, Some(Tier::A));
        let limited = Ceiling::judge(ClientFigures {
            exhausted: 1,
            ..fine()
        });
        cap(&mut g, Some(&limited));
        assert_eq!(g.overall, Some(Tier::B));
        assert!(g.client_limited);
    }

    fn req(sent: Nanos, end: Nanos) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent, sent);
        r.end_ns = Some(end);
        r
    }

    #[test]
    fn in_flight_is_the_median_over_the_steady_part() {
        // Two streams: both busy from 0 to 50, then one idles 50..180
        // before its next send: one in flight most of the steady part.
        let records = [req(0, 50), req(0, 200), req(180, 300), req(200, 300)];
        let f = median_in_flight(&records, 2).unwrap();
        assert_eq!(f.median, 1.0);
        // Sends right after ends keep both busy.
        let records = [req(0, 100), req(0, 200), req(100, 300), req(200, 300)];
        assert_eq!(median_in_flight(&records, 2).unwrap().median, 2.0);
        // A single wave has no steady part.
        assert_eq!(median_in_flight(&records[..2], 2), None);
    }
}

//! The server's own Prometheus histograms, scraped before and after a run,
//! set against the client's TTFT: the mean of each histogram over the run is
//! (sum after − sum before) ÷ (count after − count before), and the client's
//! mean TTFT decomposes into network + queue + prefill + the rest.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Server TTFT histograms (arrival in the server to its first token), by
/// server: vLLM, SGLang, the simulator.
pub const TTFT: [&str; 3] = [
    "vllm:time_to_first_token_seconds",
    "sglang:time_to_first_token_seconds",
    "tokenpace_sim_time_to_first_token_seconds",
];

/// Queue-time histograms: vLLM, SGLang, TGI, the simulator.
pub const QUEUE: [&str; 4] = [
    "vllm:request_queue_time_seconds",
    "sglang:queue_time_seconds",
    "tgi_request_queue_duration",
    "tokenpace_sim_request_queue_time_seconds",
];

/// Prefill-time histograms: vLLM, the simulator.
pub const PREFILL: [&str; 2] = [
    "vllm:request_prefill_time_seconds",
    "tokenpace_sim_request_prefill_time_seconds",
];

/// A wait outside the server's queue figure above this (with the figure
/// far below it) means the figure cannot be read as the wait, seconds.
const UNSTAMPED_WAIT_S: f64 = 0.02;

/// Histogram sums and counts of one scrape, summed over label sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scrape {
    families: BTreeMap<String, (f64, f64)>,
}

impl Scrape {
    /// Reads the Prometheus text format; lines it cannot read are skipped.
    pub fn parse(text: &str) -> Scrape {
        let mut families: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
            let name = &line[..name_end];
            let rest = match line[name_end..].strip_prefix('{') {
                Some(r) => r.rsplit_once('}').map_or("", |(_, v)| v),
                None => &line[name_end..],
            };
            let Some(value) = rest
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite())
            else {
                continue;
            };
            if let Some(family) = name.strip_suffix("_sum") {
                families.entry(family.to_string()).or_default().0 += value;
            } else if let Some(family) = name.strip_suffix("_count") {
                families.entry(family.to_string()).or_default().1 += value;
            }
        }
        Scrape { families }
    }

    /// The first of `names` this scrape holds.
    fn find<'a>(&self, names: &[&'a str]) -> Option<&'a str> {
        names
            .iter()
            .copied()
            .find(|n| self.families.contains_key(*n))
    }
}

/// A histogram's mean over a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mean {
    /// The histogram.
    pub name: String,
    /// Observations during the run.
    pub count: f64,
    /// Their mean, seconds.
    pub mean_s: f64,
}

fn mean(before: &Scrape, after: &Scrape, names: &[&str]) -> Option<Mean> {
    let name = after.find(names)?;
    let (s1, c1) = after.families[name];
    let (s0, c0) = before.families.get(name).copied().unwrap_or((0.0, 0.0));
    let count = c1 - c0;
    (count > 0.0).then(|| Mean {
        name: name.to_string(),
        count,
        mean_s: (s1 - s0) / count,
    })
}

/// The client's mean TTFT against the server's parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decomposition {
    /// The client's mean TTFT over its successful requests, seconds.
    pub client_ttft_s: f64,
    /// Successful requests of the client.
    pub client_requests: u64,
    /// The server's TTFT histogram over the run.
    pub server_ttft: Option<Mean>,
    /// Queue time.
    pub queue: Option<Mean>,
    /// Prefill time.
    pub prefill: Option<Mean>,
    /// Client TTFT − server TTFT: the way in and out (network, HTTP, the
    /// server's front end before it starts its clock).
    pub network_s: Option<f64>,
    /// Server TTFT − queue − prefill: the wait before the server stamps a
    /// request queued (behind the engine step that is running: vLLM's
    /// engine takes new requests only between steps), scheduling and the
    /// first decode step.
    pub other_s: Option<f64>,
    /// Why client and server figures may disagree here.
    pub notes: Vec<String>,
}

/// Sets the client's mean TTFT over `client_requests` successful requests
/// against the histograms that grew between `before` and `after`.
pub fn decompose(
    before: &Scrape,
    after: &Scrape,
    client_ttft_s: f64,
    client_requests: u64,
) -> Decomposition {
    let server_ttft = mean(before, after, &TTFT);
    let queue = mean(before, after, &QUEUE);
    let prefill = mean(before, after, &PREFILL);
    let mut notes = Vec::new();
    if server_ttft.is_none() && queue.is_none() && prefill.is_none() {
        notes.push(format!(
            "the server exports none of the known histograms ({}, …) or they did not grow: nothing to compare",
            TTFT[0]
        ));
    }
    let network_s = server_ttft.as_ref().map(|s| client_ttft_s - s.mean_s);
    let other_s = match (&server_ttft, &queue, &prefill) {
        (Some(t), Some(q), Some(p)) => Some(t.mean_s - q.mean_s - p.mean_s),
        _ => None,
    };
    for m in [&server_ttft, &queue, &prefill].into_iter().flatten() {
        if (m.count - client_requests as f64).abs() > 0.5 {
            notes.push(format!(
                "{} counted {} requests during the run, the client {}: other clients share the server (or it counts failed or warm-up requests), so its means are not over the same requests",
                m.name, m.count, client_requests
            ));
            break;
        }
    }
    if let (Some(o), Some(q), Some(t)) = (other_s, &queue, &server_ttft) {
        if o > UNSTAMPED_WAIT_S && o > 0.2 * t.mean_s && o > 4.0 * q.mean_s {
            notes.push(format!(
                "{:.0} ms of the server's TTFT is neither queue nor prefill, while {} says {:.1} ms: requests wait behind the engine step that is running before the server stamps them queued, so its queue figure misses that wait; read the row before the queue as queueing",
                1e3 * o,
                q.name,
                1e3 * q.mean_s
            ));
        }
    }
    // A server that stamps its first token after writing it can come out a
    // hair above the client on loopback; a millisecond is beyond that.
    if network_s.is_some_and(|n| n < -0.001) {
        notes.push("the server's mean TTFT exceeds the client's: impossible for the same requests, so the histogram holds other traffic, or the server stamps its first token after sending it".into());
    }
    if let (Some(n), Some(t)) = (network_s, &server_ttft) {
        if n >= 0.0 && client_ttft_s > 0.0 && n / client_ttft_s > 0.2 {
            notes.push(format!(
                "{:.0} % of the client's TTFT is spent outside the server's clock (network, TLS, proxies, the server's HTTP front end): server-side TTFT {:.3} s understates what users wait",
                100.0 * n / client_ttft_s,
                t.mean_s
            ));
        }
    }
    Decomposition {
        client_ttft_s,
        client_requests,
        server_ttft,
        queue,
        prefill,
        network_s,
        other_s,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = r#"# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 1.0
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.5
vllm:time_to_first_token_seconds_count{model_name="m"} 2.0
vllm:request_queue_time_seconds_sum{model_name="m"} 0.1
vllm:request_queue_time_seconds_count{model_name="m"} 2.0
"#;

    const AFTER: &str = r#"vllm:time_to_first_token_seconds_sum{model_name="m"} 2.5
vllm:time_to_first_token_seconds_count{model_name="m"} 6.0
vllm:time_to_first_token_seconds_count{model_name="other"} 0
vllm:request_queue_time_seconds_sum{model_name="m"} 0.5
vllm:request_queue_time_seconds_count{model_name="m"} 6.0
vllm:request_prefill_time_seconds_sum{model_name="m"} 1.2
vllm:request_prefill_time_seconds_count{model_name="m"} 4
garbage line {
vllm:num_requests_running{model_name="m"} NaN
"#;

    #[test]
    fn means_over_the_run_decompose_the_clients_ttft() {
        let d = decompose(&Scrape::parse(BEFORE), &Scrape::parse(AFTER), 0.8, 4);
        let t = d.server_ttft.as_ref().unwrap();
        assert_eq!((t.count, t.mean_s), (4.0, 0.5));
        assert_eq!(d.queue.as_ref().unwrap().mean_s, 0.1);
        assert_eq!(d.prefill.as_ref().unwrap().mean_s, 0.3);
        assert!((d.network_s.unwrap() - 0.3).abs() < 1e-12);
        assert!((d.other_s.unwrap() - 0.1).abs() < 1e-12);
        // 0.3 of 0.8 s outside the server's clock is worth saying.
        assert!(d.notes.iter().any(|n| n.contains("38 %")), "{:?}", d.notes);
    }

    /// vLLM 0.32's own `/metrics` (captured, 13 requests one at a time):
    /// the parts add up and its queue figure can be read as the wait.
    #[test]
    fn a_real_vllm_scrape_decomposes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/captures/vllm-0.32-cpu/metrics.prom.txt"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let d = decompose(&Scrape::default(), &Scrape::parse(&text), 0.35, 13);
        let t = d.server_ttft.as_ref().unwrap();
        assert_eq!(t.count, 13.0);
        assert!((t.mean_s - 4.493241310119629 / 13.0).abs() < 1e-12);
        assert!(d.queue.as_ref().unwrap().mean_s < 1e-4);
        let other = d.other_s.unwrap();
        assert!(other > 0.0 && other < 0.01, "{other}");
        assert!(
            !d.notes.iter().any(|n| n.contains("stamps them queued")),
            "{:?}",
            d.notes
        );
    }

    /// At 2–4 streams vLLM's queue histogram said 0.0 ms while 389–856 ms
    /// of its TTFT was neither queue nor prefill.
    #[test]
    fn a_wait_the_queue_figure_misses_is_named() {
        let after = "vllm:time_to_first_token_seconds_sum 8.0\nvllm:time_to_first_token_seconds_count 8\nvllm:request_queue_time_seconds_sum 0.0002\nvllm:request_queue_time_seconds_count 8\nvllm:request_prefill_time_seconds_sum 3.2\nvllm:request_prefill_time_seconds_count 8\n";
        let d = decompose(&Scrape::default(), &Scrape::parse(after), 1.01, 8);
        assert!((d.other_s.unwrap() - 0.599975).abs() < 1e-9);
        let note = d.notes.iter().find(|n| n.contains("stamps them queued"));
        assert!(
            note.is_some_and(|n| n.starts_with("600 ms")),
            "{:?}",
            d.notes
        );
    }

    #[test]
    fn disagreements_are_explained() {
        let d = decompose(&Scrape::parse(BEFORE), &Scrape::parse(AFTER), 0.4, 9);
        assert!(
            d.notes.iter().any(|n| n.contains("other clients")),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes.iter().any(|n| n.contains("impossible")),
            "{:?}",
            d.notes
        );
        let none = decompose(&Scrape::default(), &Scrape::parse("up 1\n"), 0.4, 9);
        assert!(none.network_s.is_none());
        assert!(none.notes[0].contains("nothing to compare"));
    }
}

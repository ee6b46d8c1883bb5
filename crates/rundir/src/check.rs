//! What a record must satisfy to have been measured: its times in order
//! (nothing ends, arrives or finishes before it was sent) and an id of its
//! own. A record that breaks them comes from a damaged or edited file, and
//! its metrics would be nonsense (a response that ended before it was sent
//! has no latency), so the run is refused with the line to look at.

use std::collections::HashMap;
use tokenpace_core::record::{Nanos, RequestRecord};

/// What is impossible about `r`, if anything.
pub(crate) fn impossible(r: &RequestRecord) -> Option<String> {
    let sent = r.sent_ns;
    let before = |what: &str, at: Nanos| {
        (at < sent).then(|| {
            format!(
                "request {} {what} at {at} ns, before it was sent at {sent} ns",
                r.id
            )
        })
    };
    let times = [
        ("ended", r.end_ns),
        ("finished", r.finish_ns),
        ("got its headers", r.headers_ns),
        ("got its first event", r.first_event_ns),
    ];
    if let Some(p) = times
        .iter()
        .find_map(|&(what, at)| at.and_then(|at| before(what, at)))
    {
        return Some(p);
    }
    r.chunks
        .iter()
        .chain(&r.reasoning_chunks)
        .chain(&r.tool_chunks)
        .find_map(|c| before("got a chunk", c.at_ns))
}

/// Record ids seen so far, with the line of each.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    lines: HashMap<u64, usize>,
}

impl Ids {
    /// Records `id` at `line`; the line it was seen on before, if any.
    pub(crate) fn seen_before(&mut self, id: u64, line: usize) -> Option<usize> {
        match self.lines.insert(id, line) {
            Some(first) => {
                self.lines.insert(id, first);
                Some(first)
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::record::Chunk;

    #[test]
    fn times_before_the_send_are_impossible() {
        let ok = || {
            let mut r = RequestRecord::new(7, 10, 100);
            r.chunks.push(Chunk {
                at_ns: 150,
                tokens: 1,
                chars: 2,
            });
            r.end_ns = Some(200);
            r
        };
        assert_eq!(impossible(&ok()), None);
        let mut r = ok();
        r.end_ns = Some(50);
        let p = impossible(&r).unwrap();
        assert!(
            p.contains("request 7 ended at 50 ns, before it was sent at 100 ns"),
            "{p}"
        );
        let mut r = ok();
        r.chunks[0].at_ns = 99;
        assert!(impossible(&r).unwrap().contains("got a chunk"));
    }

    #[test]
    fn an_id_seen_twice_names_its_first_line() {
        let mut ids = Ids::default();
        assert_eq!(ids.seen_before(1, 1), None);
        assert_eq!(ids.seen_before(2, 2), None);
        assert_eq!(ids.seen_before(1, 3), Some(1));
        assert_eq!(ids.seen_before(1, 4), Some(1));
    }
}

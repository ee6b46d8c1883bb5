//! Prometheus text exposition (format 0.0.4) for `/metrics`: the pieces
//! both servers write, so their scrapes read the same way.

use std::fmt::{Display, Write as _};
use std::sync::{Mutex, PoisonError};

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Responses counted by HTTP status, for a `…_requests_total{status}`
/// counter.
#[derive(Debug, Default)]
pub struct StatusCounts(Mutex<Vec<(u16, u64)>>);

impl StatusCounts {
    /// Counts one response with `status`.
    pub fn add(&self, status: u16) {
        let mut v = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match v.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => v.push((status, 1)),
        }
    }

    /// Writes the counter `name`, one line per status, in status order.
    pub fn render(&self, o: &mut String, name: &str, help: &str) {
        header(o, name, help, "counter");
        let mut v = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        v.sort_unstable();
        for (status, n) in v {
            let _ = writeln!(o, "{name}{{status=\"{status}\"}} {n}");
        }
    }
}

/// Writes the `# HELP` and `# TYPE` lines of a metric.
pub fn header(o: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} {kind}");
}

/// Writes a gauge.
pub fn gauge(o: &mut String, name: &str, help: &str, value: impl Display) {
    header(o, name, help, "gauge");
    let _ = writeln!(o, "{name} {value}");
}

/// Writes a counter.
pub fn counter(o: &mut String, name: &str, help: &str, value: impl Display) {
    header(o, name, help, "counter");
    let _ = writeln!(o, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_sorted_and_metrics_typed() {
        let s = StatusCounts::default();
        s.add(404);
        s.add(200);
        s.add(200);
        let mut o = String::new();
        s.render(&mut o, "x_requests_total", "Requests.");
        gauge(&mut o, "x_running", "Running.", 3);
        counter(&mut o, "x_seconds_total", "Seconds.", 0.5);
        assert_eq!(
            o,
            "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n\
             x_requests_total{status=\"200\"} 2\nx_requests_total{status=\"404\"} 1\n\
             # HELP x_running Running.\n# TYPE x_running gauge\nx_running 3\n\
             # HELP x_seconds_total Seconds.\n# TYPE x_seconds_total counter\nx_seconds_total 0.5\n"
        );
    }
}

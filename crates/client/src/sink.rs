//! Raw results on disk as they arrive: one JSON line per request in
//! `requests.jsonl`, flushed as each request finishes, so an interrupted run
//! loses nothing that completed.

use anyhow::Context;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use tokenpace_core::record::RequestRecord;

/// Appends records to a JSONL file.
pub struct JsonlSink {
    out: BufWriter<File>,
}

impl JsonlSink {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        let file =
            File::create(path).with_context(|| format!("could not create '{}'", path.display()))?;
        Ok(JsonlSink {
            out: BufWriter::new(file),
        })
    }

    /// Opens `path` to add records after the ones it holds (created when
    /// missing).
    pub fn append(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("could not open '{}' to append to it", path.display()))?;
        Ok(JsonlSink {
            out: BufWriter::new(file),
        })
    }

    /// Writes one record and flushes it to the file.
    pub fn write(&mut self, record: &RequestRecord) -> std::io::Result<()> {
        self.add(record)?;
        self.flush()
    }

    /// Writes one record into the buffer: [`JsonlSink::flush`] puts it in
    /// the file (a batch of records that arrived together takes one system
    /// call, not one each).
    pub fn add(&mut self, record: &RequestRecord) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, record)?;
        self.out.write_all(b"\n")
    }

    /// Puts what was added in the file.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads a `requests.jsonl` back.
pub fn read_jsonl(path: &Path) -> anyhow::Result<Vec<RequestRecord>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read '{}'", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!("'{}' line {}: not a request record", path.display(), i + 1)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("requests.jsonl");
        let mut sink = JsonlSink::create(&path).unwrap();
        let records = vec![RequestRecord::new(0, 1, 2), RequestRecord::new(1, 3, 4)];
        for r in &records {
            sink.write(r).unwrap();
        }
        // Flushed per record: readable before the sink is dropped.
        assert_eq!(read_jsonl(&path).unwrap(), records);
    }
}

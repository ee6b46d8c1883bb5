//! Reading a trace lazily: one line in memory at a time.

use super::formats::{Layout, LogType, Row, RowError};
use super::{TraceError, TraceFormat, TraceRequest};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use tokenpace_core::setting::Setting;

/// The requests of a trace, read line by line as they are asked for. After
/// an error it ends.
pub struct TraceReader<R> {
    input: R,
    path: PathBuf,
    layout: Layout,
    filter: Option<LogType>,
    /// The first request line, when the format was detected from it.
    pending: Option<String>,
    buf: String,
    line: u64,
    index: u64,
    /// The first request's time on the trace's clock.
    origin: Option<u64>,
    /// The previous request's line and time, to check the order.
    last: Option<(u64, u64)>,
    done: bool,
}

impl TraceReader<BufReader<File>> {
    /// Opens `path`; `format` `None` detects it from the first line.
    pub fn open(
        path: &Path,
        format: Option<TraceFormat>,
        filter: Option<LogType>,
    ) -> Result<Self, TraceError> {
        let file = File::open(path).map_err(|e| TraceError {
            path: path.to_path_buf(),
            line: None,
            column: None,
            message: format!(
                "cannot open it ({e}); check the path given to {}",
                Setting::Trace
            ),
        })?;
        TraceReader::new(BufReader::new(file), path, format, filter)
    }
}

impl<R: BufRead> TraceReader<R> {
    /// Reads the first line of `input` (named `path` in errors) to learn
    /// the layout.
    pub fn new(
        input: R,
        path: &Path,
        format: Option<TraceFormat>,
        filter: Option<LogType>,
    ) -> Result<Self, TraceError> {
        let mut reader = TraceReader {
            input,
            path: path.to_path_buf(),
            layout: Layout::Mooncake,
            filter,
            pending: None,
            buf: String::new(),
            line: 0,
            index: 0,
            origin: None,
            last: None,
            done: false,
        };
        if !reader.next_line()? {
            return Err(reader.error(None, "it is empty: a trace has one request per line".into()));
        }
        let first = reader.current().to_string();
        let (layout, header) = Layout::detect(&first, format).map_err(|e| reader.error_at(e))?;
        reader.layout = layout;
        if filter.is_some()
            && !matches!(
                reader.layout,
                Layout::Csv {
                    format: TraceFormat::BurstGpt,
                    ..
                }
            )
        {
            return Err(reader.error(
                None,
                format!(
                    "{} applies to BurstGPT traces only; drop it",
                    Setting::TraceLogType
                ),
            ));
        }
        if !header {
            reader.pending = Some(first);
        }
        Ok(reader)
    }

    /// Reads the next non-blank line into the buffer, its number counted;
    /// false at the end.
    fn next_line(&mut self) -> Result<bool, TraceError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_line(&mut self.buf)
                .map_err(|e| TraceError {
                    path: self.path.clone(),
                    line: Some(self.line + 1),
                    column: None,
                    message: format!("cannot read it ({e}); is it a text file (UTF-8)?"),
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line += 1;
            if !self.buf.trim().is_empty() {
                return Ok(true);
            }
        }
    }

    /// The line read last, without its line break.
    fn current(&self) -> &str {
        self.buf.trim_end_matches(['\r', '\n'])
    }

    fn error(&self, column: Option<String>, message: String) -> TraceError {
        TraceError {
            path: self.path.clone(),
            line: (self.line > 0).then_some(self.line),
            column,
            message,
        }
    }

    fn error_at(&self, (column, message): RowError) -> TraceError {
        self.error(column, message)
    }

    fn next_row(&mut self) -> Result<Option<Row>, TraceError> {
        let row = match self.pending.take() {
            Some(first) => self.layout.row(&first, self.filter),
            None if self.next_line()? => self.layout.row(self.current(), self.filter),
            None => return Ok(None),
        };
        let row = row.map_err(|e| self.error_at(e))?;
        if let Some((line, at)) = self.last {
            if row.at_ns < at {
                return Err(self.error(
                    None,
                    format!(
                        "its timestamp is earlier than line {line}'s; a trace must be in time order (sort it by time first)"
                    ),
                ));
            }
        }
        self.last = Some((self.line, row.at_ns));
        Ok(Some(row))
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<TraceRequest, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_row() {
                Ok(Some(row)) => {
                    let origin = *self.origin.get_or_insert(row.at_ns);
                    let index = self.index;
                    self.index += 1;
                    if !row.keep {
                        continue;
                    }
                    return Some(Ok(TraceRequest {
                        line: self.line,
                        index,
                        at_ns: row.at_ns - origin,
                        input_tokens: row.input_tokens,
                        output_tokens: row.output_tokens,
                        hash_ids: row.hash_ids,
                    }));
                }
                Ok(None) => self.done = true,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<TraceRequest>, TraceError> {
        TraceReader::new(text.as_bytes(), Path::new("t"), None, None)?.collect()
    }

    #[test]
    fn reads_mooncake_lines_relative_to_the_first() {
        let r = read("{\"timestamp\": 1000, \"input_length\": 700, \"output_length\": 5, \"hash_ids\": [1, 2]}\n\n{\"timestamp\": 1250.5, \"input_length\": 3, \"output_length\": 1}\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].line, r[0].index, r[0].at_ns, r[0].hash_ids.clone()),
            (1, 0, 0, vec![1, 2])
        );
        assert_eq!((r[1].line, r[1].index, r[1].at_ns), (3, 1, 250_500_000));
        assert!(r[1].hash_ids.is_empty());
    }

    #[test]
    fn reads_azure_and_burstgpt() {
        let a = read("TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.6805900,4808,10\r\n2023-11-16 18:15:50.0000000,3180,8\r\n").unwrap();
        assert_eq!(
            (a[1].line, a[1].at_ns, a[1].input_tokens, a[1].output_tokens),
            (3, 3_319_410_000, 3180, 8)
        );
        let b = read("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087,0,1087,API log\n").unwrap();
        assert_eq!(
            (b[1].at_ns, b[1].input_tokens, b[1].output_tokens),
            (40_000_000_000, 1087, 0)
        );
        let only_api = TraceReader::new(
            "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087,0,1087,API log\n".as_bytes(),
            Path::new("t"),
            None,
            Some(LogType::Api),
        )
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
        assert_eq!(only_api.len(), 1);
        assert_eq!((only_api[0].index, only_api[0].at_ns), (1, 40_000_000_000));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = read("{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n{\"timestamp\": 5, \"input_length\": 1}\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        let text = e.to_string();
        assert!(
            text.starts_with("trace 't' line 2: not a Mooncake request"),
            "{text}"
        );
        let e =
            read("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1,x\n").unwrap_err();
        assert_eq!(e.to_string(), "trace 't' line 2 column 'GeneratedTokens': 'x' is not a token count (a whole number ≥ 0)");
        let e = read("").unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = read("Timestamp,Prompt,Answer\n").unwrap_err();
        assert!(
            e.to_string().contains("line 1") && e.to_string().contains("expected one of"),
            "{e}"
        );
    }

    /// A line asks for at most 2^20 tokens each way (the longest context
    /// any served model has): more is refused, naming the line, the
    /// column, the value and the bound, before anything is built.
    #[test]
    fn lengths_beyond_the_longest_context_are_refused() {
        let line = |input: u64, output: u64| {
            format!(
                "{{\"timestamp\": 0, \"input_length\": {input}, \"output_length\": {output}}}\n"
            )
        };
        let most = read(&line(1_048_576, 1_048_576)).unwrap();
        assert_eq!(
            (most[0].input_tokens, most[0].output_tokens),
            (1 << 20, 1 << 20)
        );
        for (text, at, column) in [
            (
                format!("{}{}", line(1, 1), line(1_000_001_000, 1)),
                2,
                "input_length",
            ),
            (line(5, 2_000_000), 1, "output_length"),
            (
                format!("{}{}", line(1, 1), line(1_048_577, 1)),
                2,
                "input_length",
            ),
        ] {
            let e = read(&text).unwrap_err();
            let shown = e.to_string();
            assert_eq!(
                (e.line, e.column.as_deref()),
                (Some(at), Some(column)),
                "{shown}"
            );
            assert!(
                shown.contains(&format!("line {at} column '{column}'")),
                "{shown}"
            );
            assert!(shown.contains("1048576"), "names the bound: {shown}");
        }
        let e = read("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10000000,1\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "trace 't' line 2 column 'ContextTokens': 10000000 tokens is more than a trace request \
             may have (1048576, the longest context any served model has); is the column right?"
        );
    }

    #[test]
    fn time_must_not_go_backwards() {
        let e = read("Timestamp,Request tokens,Response tokens\n1,1,1\n3,1,1\n3,1,1\n\n2,1,1\n")
            .unwrap_err();
        assert_eq!(e.line, Some(6));
        assert!(e.to_string().contains("earlier than line 4's"), "{e}");
    }

    #[test]
    fn the_filter_is_for_burstgpt_only() {
        let e = TraceReader::new(
            "TIMESTAMP,ContextTokens,GeneratedTokens\n".as_bytes(),
            Path::new("t"),
            None,
            Some(LogType::Api),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("BurstGPT traces only"), "{e}");
    }

    /// A million lines stream through in one pass holding one line: the
    /// reader's buffer never grows beyond the longest line.
    #[test]
    fn a_million_lines_stream() {
        struct Lines {
            next: u64,
            total: u64,
            line: Vec<u8>,
            at: usize,
        }
        impl std::io::Read for Lines {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.at == self.line.len() {
                    if self.next == self.total {
                        return Ok(0);
                    }
                    self.line = format!(
                        "{{\"timestamp\": {}, \"input_length\": 1024, \"output_length\": 32, \"hash_ids\": [{}, {}]}}\n",
                        self.next, self.next % 7, self.next
                    )
                    .into_bytes();
                    self.at = 0;
                    self.next += 1;
                }
                let n = out.len().min(self.line.len() - self.at);
                out[..n].copy_from_slice(&self.line[self.at..self.at + n]);
                self.at += n;
                Ok(n)
            }
        }
        let total = 1_000_000;
        let input = std::io::BufReader::new(Lines {
            next: 0,
            total,
            line: Vec::new(),
            at: 0,
        });
        let mut reader = TraceReader::new(input, Path::new("big"), None, None).unwrap();
        let (mut n, mut last) = (0u64, 0u64);
        for r in reader.by_ref() {
            let r = r.unwrap();
            n += 1;
            last = r.at_ns;
        }
        assert_eq!(n, total);
        assert_eq!(last, (total - 1) * 1_000_000);
        assert!(reader.buf.capacity() < 1024, "{}", reader.buf.capacity());
    }
}

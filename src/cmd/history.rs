//! `tokenpace history`: the runs found under a directory, one row per
//! level, newest last. Nothing is indexed on disk: the scan reads each
//! `run.json` (never the records), so the list is always current.

use crate::cli::HistoryArgs;
use crate::output::history::{Entry, HistoryOutput};
use crate::{input, Status};
use std::io::Write;
use tokenpace_present::Lang;

/// Runs `tokenpace history`.
pub fn run(args: HistoryArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let mut entries = Vec::new();
    for found in tokenpace_rundir::scan(&args.dir)? {
        match found.summary {
            Ok(s) => entries.push(Entry::of(found.name, &s, &profile)),
            Err(e) => input::warning(&format!("skipped {:#}", anyhow::Error::from(e))),
        }
    }
    entries.sort_by(|a, b| (&a.started_at, &a.name).cmp(&(&b.started_at, &b.name)));
    let result = HistoryOutput {
        entries,
        root: args.dir,
    };
    let text = tokenpace_present::export(&result, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

//! `tokenpace bench --self-test`: this machine's ceiling, measured by
//! [`tokenpace_runner::self_test::run`] and printed as a table.

use crate::cli::BenchArgs;
use crate::output::self_test::SelfTestOutput;
use crate::Status;
use std::io::Write;
use tokenpace_present::Lang;

/// Runs the self-test and prints its table and verdict.
pub(super) fn run(args: &BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let note = |line: &str| crate::progress::note(line);
    let result = tokenpace_runner::self_test::run(args.max_streams, &note)?;
    let output = SelfTestOutput(result);
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}

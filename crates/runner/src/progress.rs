//! What a measurement shows while it works: requests finishing level by
//! level, the wait for `--start-at`, the stages of a run (the prompts'
//! setup, the self-check, the default mix's parts) and its warnings. The
//! runner says what happens; the caller decides how (or whether) it shows.

use crate::prompts::PromptSetup;
use std::time::Duration;
use tokenpace_core::record::RequestRecord;

/// A stage of a measurement worth telling the user about.
#[derive(Clone, Copy)]
pub enum Stage<'a> {
    /// The runner is set up: how the run's prompts are made (`synthetic`:
    /// cut from the corpus, not read from a file or a trace).
    Ready {
        /// What the requests carry and what counts their tokens.
        prompts: &'a PromptSetup,
        /// Whether the prompts are synthetic.
        synthetic: bool,
        /// The HTTP version the requests speak.
        http: tokenpace_client::request::HttpVersion,
    },
    /// The self-check starts, at `streams` concurrent streams.
    SelfCheck {
        /// Concurrent streams.
        streams: u32,
    },
    /// The default mix's prompt-length sweep starts.
    MixSweep,
    /// The default mix measures one scaled scenario.
    MixScenario {
        /// Its place among the measured scenarios, from 1.
        index: usize,
        /// How many are measured.
        of: usize,
        /// The scenario's name.
        name: &'a str,
        /// Prompt tokens sent.
        prompt_tokens: u32,
        /// Answer tokens asked for.
        answer_tokens: u32,
    },
}

/// Shows a measurement's progress (a terminal line, or nothing).
pub trait Progress {
    /// A level of `requests` requests starts; `label` names it in a sweep.
    fn level(&self, requests: u64, label: Option<String>) -> Box<dyn ProgressLevel>;
    /// The load waits `wait` for `--start-at` (RFC 3339 `until`).
    fn waiting(&self, _until: &str, _wait: Duration) {}
    /// The measurement reached `stage`.
    fn stage(&self, _stage: Stage<'_>) {}
    /// Something the results should not be read without (shown even when
    /// progress is not).
    fn warning(&self, _line: &str) {}
}

/// Progress of one level.
pub trait ProgressLevel {
    /// A request finished.
    fn record(&self, record: &RequestRecord);
    /// The level is done.
    fn finish(&self);
}

/// No progress shown (tests, scripts).
pub struct Quiet;

impl Progress for Quiet {
    fn level(&self, _: u64, _: Option<String>) -> Box<dyn ProgressLevel> {
        Box::new(Quiet)
    }
}

impl ProgressLevel for Quiet {
    fn record(&self, _: &RequestRecord) {}
    fn finish(&self) {}
}

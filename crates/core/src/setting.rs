//! The settings a person gives tokenpace, as errors name them.
//!
//! A library crate that refuses a setting names it with a [`Setting`], never
//! with a command-line flag: the program that took the setting renders it
//! (the `tokenpace` binary as its flag, `--max-tokens`; anything else that
//! installs no renderer sees the neutral key, `max_tokens`). One table in the
//! binary then holds every flag an error can name, and a test there checks
//! each against the command line that really exists.

use std::fmt;
use std::sync::OnceLock;

macro_rules! settings {
    ($($variant:ident => $key:literal,)*) => {
        /// A setting an error can name (see the module's documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Setting {
            $(
                #[doc = concat!("The setting `", $key, "`.")]
                $variant,
            )*
        }

        impl Setting {
            /// Every setting, in the order of their definition.
            pub const ALL: &'static [Setting] = &[$(Setting::$variant,)*];

            /// The neutral name: a snake_case key, as a configuration or an
            /// API would spell it.
            pub fn key(self) -> &'static str {
                match self {
                    $(Setting::$variant => $key,)*
                }
            }
        }
    };
}

settings! {
    AgentSteps => "agent_steps",
    Api => "api",
    ApiKey => "api_key",
    Backend => "backend",
    BandwidthEfficiency => "bandwidth_efficiency",
    BatchSlowdown => "batch_slowdown",
    Benchmark => "benchmark",
    CaCert => "ca_cert",
    CacheHit => "cache_hit",
    CancelAfter => "cancel_after",
    CancelShare => "cancel_share",
    Catalog => "catalog",
    CharsPerS => "chars_per_s",
    CharsPerToken => "chars_per_token",
    ComputeEfficiency => "compute_efficiency",
    Concurrency => "concurrency",
    Conversations => "conversations",
    CtxSize => "ctx_size",
    Dataset => "dataset",
    Decode => "decode",
    Dir => "dir",
    Efficiency => "efficiency",
    Fault => "fault",
    FirstTokenTimeout => "first_token_timeout",
    Format => "format",
    From => "from",
    FromRun => "from_run",
    Gpus => "gpus",
    H2c => "h2c",
    Hardware => "hardware",
    Header => "header",
    Host => "host",
    Http1 => "http1",
    IdleTimeout => "idle_timeout",
    Insecure => "insecure",
    JitterMs => "jitter_ms",
    KvCache => "kv_cache",
    List => "list",
    MaxBatch => "max_batch",
    MaxEventBytes => "max_event_bytes",
    MaxRequests => "max_requests",
    MaxTokens => "max_tokens",
    MaxTraceSpeed => "max_trace_speed",
    MemoryUsable => "memory_usable",
    Model => "model",
    ModelFile => "model_file",
    ModelMix => "model_mix",
    ModelSpeed => "model_speed",
    ModelsFetch => "models_fetch",
    NoIgnoreEos => "no_ignore_eos",
    NoPrefixCache => "no_prefix_cache",
    NoRequestId => "no_request_id",
    NoSelfCheck => "no_self_check",
    Out => "out",
    OutputTokens => "output_tokens",
    Parallel => "parallel",
    Port => "port",
    Prefill => "prefill",
    PrefillBatch => "prefill_batch",
    PrefixBlockTokens => "prefix_block_tokens",
    PrefixCacheTokens => "prefix_cache_tokens",
    PrefixGroups => "prefix_groups",
    Preset => "preset",
    PromptTokens => "prompt_tokens",
    Rate => "rate",
    ReadTimeoutMs => "read_timeout_ms",
    Repeat => "repeat",
    RequestIdHeader => "request_id_header",
    Requests => "requests",
    RetryThrottled => "retry_throttled",
    ReusePrompts => "reuse_prompts",
    Rtt => "rtt",
    Save => "save",
    ServerKind => "server_kind",
    ServerMetrics => "server_metrics",
    SessionHeader => "session_header",
    Shard => "shard",
    SharedPrefix => "shared_prefix",
    SpecAcceptance => "spec_acceptance",
    SpecDraftCost => "spec_draft_cost",
    SpecDraftTokens => "spec_draft_tokens",
    SplitDevices => "split_devices",
    SplitEfficiency => "split_efficiency",
    StallMs => "stall_ms",
    StartAt => "start_at",
    Timeout => "timeout",
    Tls => "tls",
    Tokenizer => "tokenizer",
    TokenizerFamily => "tokenizer_family",
    TokensPerChunk => "tokens_per_chunk",
    ToolCallShare => "tool_call_share",
    Trace => "trace",
    TraceBlockTokens => "trace_block_tokens",
    TraceDuration => "trace_duration",
    TraceFormat => "trace_format",
    TraceLogType => "trace_log_type",
    TraceSpeedStep => "trace_speed_step",
    TraceStart => "trace_start",
    TrickleMs => "trickle_ms",
    TtftJitterMs => "ttft_jitter_ms",
    TtftMs => "ttft_ms",
    TtftTarget => "ttft_target",
    Turns => "turns",
    UntilPrecise => "until_precise",
    Weights => "weights",
    CatalogList => "catalog_list",
    ScenarioList => "scenario_list",
    CalibrateSave => "calibrate_save",
    History => "history",
}

static RENDER: OnceLock<fn(Setting) -> &'static str> = OnceLock::new();

/// Makes every [`Setting`] display as `render` gives it, from now on in this
/// process. The first call wins; the `tokenpace` binary makes it before any
/// other work, so its errors name its flags.
pub fn name_settings_with(render: fn(Setting) -> &'static str) {
    let _ = RENDER.set(render);
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match RENDER.get() {
            Some(render) => f.write_str(render(*self)),
            None => f.write_str(self.key()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_snake_case() {
        let mut keys: Vec<&str> = Setting::ALL.iter().map(|s| s.key()).collect();
        assert!(keys.iter().all(|k| !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "two settings share a key");
    }

    #[test]
    fn without_a_renderer_a_setting_shows_its_key() {
        // This test binary installs no renderer.
        assert_eq!(Setting::MaxTokens.to_string(), "max_tokens");
        assert_eq!(format!("give {} FILE", Setting::Trace), "give trace FILE");
    }
}

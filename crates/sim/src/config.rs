//! The simulator's checked configuration, from a TOML file and/or flags.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use tokenpace_corpus::TextLang;
pub use tokenpace_wire::sse::Dialect;
pub use tokenpace_wire::LimitsConfig;

use crate::faults::FaultRule;
pub use field::Field;
use field::{at_least_one, invalid, non_negative, positive};
use tokenpace_core::setting::Setting as S;

mod field;

/// Everything the simulator needs to run. Build it with [`SimConfig::default`]
/// and edit fields, or load a TOML file with [`SimConfig::from_toml_file`];
/// [`SimConfig::validate`] runs before the server starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Address to bind (default `127.0.0.1`).
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Model name reported by `/v1/models` and in responses.
    pub model: String,
    /// Other model names served at their own decode speed, as a factor of
    /// `timing.decode` (several models or adapters behind one endpoint);
    /// any other name is served at `timing.decode`.
    pub model_speeds: std::collections::BTreeMap<String, f64>,
    /// When set, requests must carry `Authorization: Bearer <key>` (or
    /// `x-api-key: <key>` on the Messages route); `tokenpace sim` also takes
    /// it from `TOKENPACE_SIM_API_KEY`.
    pub api_key: Option<String>,
    /// Ground-truth file: one JSON line per request is appended.
    pub truth: Option<PathBuf>,
    /// Seed of every random choice (jitter, faults, text).
    pub seed: u64,
    /// The timing model.
    pub timing: TimingConfig,
    /// What text the simulator streams.
    pub text: TextConfig,
    /// Limits on what clients may send.
    pub limits: LimitsConfig,
    /// Fault injection.
    pub faults: FaultsConfig,
    /// The prefix cache.
    pub prefix_cache: PrefixCacheConfig,
    /// Function calling.
    pub tools: ToolsConfig,
    /// Request header naming a session; its value is recorded in the truth
    /// file so sticky-routing tests can check it arrived.
    pub session_header: String,
    /// Whose bytes the responses are: `tokenpace` (the default), `vllm`
    /// (vLLM 0.32's extra fields, usage and endings, `/version`) or
    /// `openai` (tokenpace's bytes, but unknown request arguments are
    /// refused as OpenAI's API refuses them, and no `/tokenize`); see the
    /// README.
    pub dialect: Dialect,
    /// Serve HTTPS with a self-signed certificate made at start (its
    /// SHA-256 fingerprint is printed; clients pass `--insecure` or the
    /// certificate file as `--ca-cert`).
    pub tls: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            host: "127.0.0.1".into(),
            port: 8000,
            model: "tokenpace-sim".into(),
            model_speeds: Default::default(),
            api_key: None,
            truth: None,
            seed: 0,
            timing: TimingConfig::default(),
            text: TextConfig::default(),
            limits: LimitsConfig::default(),
            faults: FaultsConfig::default(),
            prefix_cache: PrefixCacheConfig::default(),
            tools: ToolsConfig::default(),
            session_header: "X-Session-ID".into(),
            dialect: Dialect::Tokenpace,
            tls: false,
        }
    }
}

/// An automatic prefix cache like vLLM's: prompts are cut into blocks of
/// the simulator's tokens, and full blocks of a prompt's longest cached
/// prefix skip prefill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrefixCacheConfig {
    /// Whether the cache is on.
    pub enabled: bool,
    /// Tokens per block (only whole blocks are cached).
    pub block_tokens: usize,
    /// Tokens the cache holds; least recently used blocks go first.
    pub capacity_tokens: u64,
}

impl Default for PrefixCacheConfig {
    fn default() -> Self {
        PrefixCacheConfig {
            enabled: true,
            block_tokens: 16,
            capacity_tokens: 262_144,
        }
    }
}

/// Largest prefix-cache block, in tokens.
const MAX_BLOCK_TOKENS: usize = 4096;
/// Largest prefix-cache capacity, in tokens (bounds its memory).
const MAX_CACHE_TOKENS: u64 = 1 << 30;

/// Function calling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsConfig {
    /// Share of `tool_choice: "auto"` requests answered with a tool call
    /// (drawn from the request's seed, so repeatable).
    pub call_share: f64,
    /// Generated tokens a tool call's arguments carry; the model goes on
    /// generating the answer's other tokens without a delta (as vLLM's
    /// tool parser did: a few deltas, then seconds of generation) and the
    /// finish event comes at the last one's deadline. 0: every token.
    pub argument_tokens: u64,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        ToolsConfig {
            call_share: 1.0,
            argument_tokens: 0,
        }
    }
}

/// The timing model; see the crate docs for the formulas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimingConfig {
    /// Fixed part of the time to first token, in milliseconds.
    pub ttft_ms: f64,
    /// Prefill rate in prompt tokens per second (adds prompt/prefill to TTFT).
    pub prefill: f64,
    /// Decode rate of one stream alone, in tokens per second.
    pub decode: f64,
    /// Scale of the jitter added to each token's deadline, in milliseconds.
    pub jitter_ms: f64,
    /// Scale of the jitter added to the TTFT, in milliseconds.
    pub ttft_jitter_ms: f64,
    /// Distribution of both jitters.
    pub jitter_dist: JitterDist,
    /// Streams decoded at once; more requests wait in a FIFO queue.
    pub max_batch: usize,
    /// `k` in the slowdown law `rate = decode / (1 + k·(batch − 1))`.
    pub batch_slowdown: f64,
    /// Tokens carried by each streamed chunk (the last may carry fewer; a
    /// held-back token, `text.utf8_hold_back`, always goes with the next).
    pub tokens_per_chunk: usize,
    /// Tokens generated before a natural end (EOS) when `ignore_eos` is off.
    pub output_tokens: u64,
    /// The precise timer spins this many microseconds before a deadline
    /// instead of sleeping (0: never spin, cheapest on CPU).
    pub timer_spin_us: u64,
    /// Which timer keeps the deadlines.
    pub timer: TimerKind,
}

/// Which timer keeps chunk deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// A dedicated thread with nanosecond timeouts (sub-ms lateness).
    #[default]
    Precise,
    /// tokio's timer (1 ms resolution, rounds up): for comparison.
    Tokio,
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            ttft_ms: 200.0,
            prefill: 5000.0,
            decode: 50.0,
            jitter_ms: 0.0,
            ttft_jitter_ms: 0.0,
            jitter_dist: JitterDist::Normal,
            max_batch: 256,
            batch_slowdown: 0.0,
            tokens_per_chunk: 1,
            output_tokens: 128,
            timer_spin_us: 0,
            timer: TimerKind::Precise,
        }
    }
}

/// How jitter is drawn, with `s` the configured scale in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JitterDist {
    /// Uniform in `[-s, s]`.
    Uniform,
    /// Normal with mean 0 and standard deviation `s`.
    #[default]
    Normal,
    /// Exponential with mean `s` (only ever delays: a long tail).
    Exponential,
}

/// What text the simulator streams.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// Language of the generated text.
    pub lang: TextLang,
    /// A generated piece that starts with a multi-byte character costs two
    /// tokens, the first ending inside that character; like vLLM's
    /// detokenizer the server holds that partial UTF-8 back and sends both
    /// in one chunk (Chinese text: two tokens per chunk).
    pub utf8_hold_back: bool,
}

/// Fault injection: which faults, how often, and their parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// Length of a stall (before the first token or mid-stream), in ms.
    pub stall_ms: f64,
    /// Pause between bytes of a slow-loris response, in ms.
    pub trickle_ms: f64,
    /// Pause between the pieces of an event split into several writes, in µs.
    pub split_gap_us: u64,
    /// The `Retry-After` of an injected 429 or 503, in seconds.
    pub retry_after_s: u64,
    /// Whether a request may ask for faults with an `x-tokenpace-fault`
    /// header (comma-separated fault names).
    pub allow_header: bool,
    /// The rules: each names a fault and how often it is injected.
    pub inject: Vec<FaultRule>,
}

impl Default for FaultsConfig {
    fn default() -> Self {
        FaultsConfig {
            stall_ms: 2000.0,
            trickle_ms: 1.0,
            split_gap_us: 300,
            retry_after_s: 1,
            allow_header: true,
            inject: Vec::new(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("could not read config file '{path}': {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why (in the message, not a chained source: said once).
        reason: std::io::Error,
    },
    /// The file is not valid TOML for this schema (the message has line and column).
    #[error("invalid config file '{path}': {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column (in the message only).
        reason: toml::de::Error,
    },
    /// A value is out of range.
    #[error("invalid setting {field}: {message}")]
    Invalid {
        /// Which value.
        field: Field,
        /// What is wrong and what to use instead.
        message: String,
    },
}

impl SimConfig {
    /// Parses a TOML document (unknown fields are errors).
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|reason| ConfigError::Parse {
            path: path.to_owned(),
            reason,
        })
    }

    /// Reads and parses a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            path: path.to_owned(),
            reason,
        })?;
        Self::from_toml_str(&text, path)
    }

    /// Checks every value is in range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let t = &self.timing;
        // The value's TOML path and the setting that gives it.
        let f = Field::set_by;
        positive(f("timing.decode", S::Decode), t.decode)?;
        positive(f("timing.prefill", S::Prefill), t.prefill)?;
        for speed in self.model_speeds.values() {
            let field = Field {
                key: "model_speeds",
                setting: Some((S::ModelSpeed, "NAME=FACTOR")),
            };
            positive(field, *speed)?;
        }
        non_negative(f("timing.ttft_ms", S::TtftMs), t.ttft_ms)?;
        non_negative(f("timing.jitter_ms", S::JitterMs), t.jitter_ms)?;
        non_negative(
            f("timing.ttft_jitter_ms", S::TtftJitterMs),
            t.ttft_jitter_ms,
        )?;
        non_negative(
            f("timing.batch_slowdown", S::BatchSlowdown),
            t.batch_slowdown,
        )?;
        non_negative(f("faults.stall_ms", S::StallMs), self.faults.stall_ms)?;
        non_negative(f("faults.trickle_ms", S::TrickleMs), self.faults.trickle_ms)?;
        at_least_one(f("timing.max_batch", S::MaxBatch), t.max_batch as u64)?;
        at_least_one(
            f("timing.tokens_per_chunk", S::TokensPerChunk),
            t.tokens_per_chunk as u64,
        )?;
        at_least_one(Field::file("limits.max_tokens"), self.limits.max_tokens)?;
        at_least_one(
            Field::file("limits.max_body_bytes"),
            self.limits.max_body_bytes as u64,
        )?;
        at_least_one(
            f("limits.read_timeout_ms", S::ReadTimeoutMs),
            self.limits.read_timeout_ms,
        )?;
        if t.output_tokens > self.limits.max_tokens {
            return Err(invalid(
                f("timing.output_tokens", S::OutputTokens),
                format!("{} exceeds limits.max_tokens", t.output_tokens),
            ));
        }
        check_prefix_cache(&self.prefix_cache)?;
        if !(0.0..=1.0).contains(&self.tools.call_share) {
            return Err(invalid(
                f("tools.call_share", S::ToolCallShare),
                format!("{} must be from 0 to 1", self.tools.call_share),
            ));
        }
        let h = &self.session_header;
        if h.is_empty()
            || h.len() > 256
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(invalid(
                f("session_header", S::SessionHeader),
                format!("'{h}' must be a header name: 1 to 256 of a-z, A-Z, 0-9, - and _"),
            ));
        }
        for rule in &self.faults.inject {
            rule.validate()
                .map_err(|m| invalid(f("faults.inject", S::Fault), m))?;
        }
        Ok(())
    }
}

/// The prefix cache's block and capacity are in range.
fn check_prefix_cache(p: &PrefixCacheConfig) -> Result<(), ConfigError> {
    if !(1..=MAX_BLOCK_TOKENS).contains(&p.block_tokens) {
        return Err(invalid(
            Field::set_by("prefix_cache.block_tokens", S::PrefixBlockTokens),
            format!("{} must be from 1 to {MAX_BLOCK_TOKENS}", p.block_tokens),
        ));
    }
    if p.enabled && !(p.block_tokens as u64..=MAX_CACHE_TOKENS).contains(&p.capacity_tokens) {
        return Err(invalid(
            Field::set_by("prefix_cache.capacity_tokens", S::PrefixCacheTokens),
            format!(
                "{} must be from one block ({}) to {MAX_CACHE_TOKENS}; \
                 turn the cache off with {}",
                p.capacity_tokens,
                p.block_tokens,
                S::NoPrefixCache
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_file_parses() {
        let cfg = SimConfig::from_toml_str(
            r#"
port = 0
seed = 7
[timing]
ttft_ms = 100
decode = 40.5
jitter_dist = "exponential"
max_batch = 8
[text]
lang = "zh"
[faults]
stall_ms = 50
[[faults.inject]]
kind = "http_429"
probability = 0.25
[[faults.inject]]
kind = "split"
every = 3
"#,
            Path::new("x.toml"),
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.timing.decode, 40.5);
        assert_eq!(cfg.text.lang, TextLang::Zh);
        assert_eq!(cfg.faults.inject.len(), 2);
    }

    #[test]
    fn shipped_example_file_is_valid() {
        let cfg = SimConfig::from_toml_str(
            include_str!("../sim.example.toml"),
            Path::new("sim.example.toml"),
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.timing.max_batch, 64);
        assert_eq!(cfg.faults.inject.len(), 2);
    }

    #[test]
    fn unknown_field_names_line_and_column() {
        let err =
            SimConfig::from_toml_str("[timing]\ndecode = 5\nspeed = 3\n", Path::new("c.toml"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("column 1"), "{err}");
        assert!(err.contains("speed"), "{err}");
        assert!(err.contains("c.toml"), "{err}");
    }

    #[test]
    fn bad_values_are_rejected() {
        let mut cfg = SimConfig::default();
        cfg.timing.decode = 0.0;
        let err = cfg.validate().unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { field, .. } if field.setting == Some((S::Decode, ""))),
            "{err}"
        );
        assert!(err.to_string().contains("timing.decode (decode)"), "{err}");
        let mut cfg = SimConfig::default();
        cfg.timing.max_batch = 0;
        assert!(cfg.validate().is_err());
        let cfg: Result<SimConfig, _> = SimConfig::from_toml_str(
            "[[faults.inject]]\nkind = \"split\"\nprobability = 2.0\n",
            Path::new("f.toml"),
        );
        assert!(cfg.unwrap().validate().is_err());
        for bad in [
            "[prefix_cache]\nblock_tokens = 0\n",
            "[prefix_cache]\nblock_tokens = 16\ncapacity_tokens = 8\n",
            "[tools]\ncall_share = 1.5\n",
            "session_header = \"X Session\"\n",
        ] {
            let cfg = SimConfig::from_toml_str(bad, Path::new("f.toml")).unwrap();
            assert!(cfg.validate().is_err(), "{bad}");
        }
        let off = "[prefix_cache]\nenabled = false\ncapacity_tokens = 0\n";
        let cfg = SimConfig::from_toml_str(off, Path::new("f.toml")).unwrap();
        cfg.validate().unwrap();
    }
}

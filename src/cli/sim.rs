//! Options of `tokenpace sim`, and the simulator's configuration they make
//! (the `--config` file is read, and the key's environment variable, by the
//! command).

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_corpus::TextLang;
use tokenpace_sim::config::{ConfigError, Dialect, JitterDist, SimConfig, TimerKind};
use tokenpace_sim::FaultRule;

/// Run an OpenAI-compatible streaming server whose timing you choose, and
/// record exactly when it sent every byte. Flags override the `--config` file.
#[derive(Debug, Clone, Default, Args)]
pub struct SimArgs {
    /// TOML file with settings (unknown keys are errors); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to bind [default: 127.0.0.1].
    #[arg(long)]
    pub host: Option<String>,
    /// Port to bind; 0 picks a free one [default: 8000].
    #[arg(long)]
    pub port: Option<u16>,
    /// Model name reported by /v1/models and in responses [default: tokenpace-sim].
    #[arg(long)]
    pub model: Option<String>,
    /// Serve another model name at its own decode speed, a factor of
    /// --decode (repeatable: --model-speed lora-a=0.5); any other name is
    /// served at --decode.
    #[arg(long = "model-speed", value_name = "NAME=FACTOR", value_parser = model_speed)]
    pub model_speeds: Vec<(String, f64)>,
    /// Require `Authorization: Bearer KEY` on /v1/* (401 otherwise). Prefer
    /// the TOKENPACE_SIM_API_KEY environment variable: a flag shows in `ps`.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Append one JSON line per request (ground truth) to FILE.
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Seed for jitter, faults and text [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fixed part of the time to first token, ms [default: 200].
    #[arg(long, value_name = "MS")]
    pub ttft_ms: Option<f64>,
    /// Prefill rate, prompt tokens/s (TTFT += prompt/prefill) [default: 5000].
    #[arg(long, value_name = "TOK_PER_S")]
    pub prefill: Option<f64>,
    /// Decode rate of a stream alone, tokens/s [default: 50].
    #[arg(long, value_name = "TOK_PER_S")]
    pub decode: Option<f64>,
    /// Jitter scale of each token's deadline, ms [default: 0].
    #[arg(long, value_name = "MS")]
    pub jitter_ms: Option<f64>,
    /// Jitter scale of the TTFT, ms [default: 0].
    #[arg(long, value_name = "MS")]
    pub ttft_jitter_ms: Option<f64>,
    /// Jitter distribution [default: normal].
    #[arg(long, value_enum)]
    pub jitter_dist: Option<JitterDistArg>,
    /// Streams decoded at once; more wait in a queue (part of their TTFT) [default: 256].
    #[arg(long, value_name = "N")]
    pub max_batch: Option<usize>,
    /// k in: per-stream rate = decode / (1 + k·(batch − 1)) [default: 0].
    #[arg(long, value_name = "K")]
    pub batch_slowdown: Option<f64>,
    /// Tokens per streamed chunk [default: 1].
    #[arg(long, value_name = "N")]
    pub tokens_per_chunk: Option<usize>,
    /// Tokens before the natural end (EOS) unless ignore_eos [default: 128].
    #[arg(long, value_name = "N")]
    pub output_tokens: Option<u64>,
    /// Language of the generated text [default: mixed]. (`--lang` is the
    /// label language of every tokenpace command.)
    #[arg(long, value_enum)]
    pub text: Option<TextLang>,
    /// Largest accepted max_tokens, like a context length [default: 32768].
    #[arg(long, value_name = "N")]
    pub max_tokens_limit: Option<u64>,
    /// Largest accepted request body, bytes [default: 4194304].
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Time a request may take to arrive, head and body; slower clients get
    /// a 408 and the connection is closed [default: 10000].
    #[arg(long, value_name = "MS")]
    pub read_timeout_ms: Option<u64>,
    /// Spin this long before each deadline instead of sleeping (more CPU, less lateness) [default: 0].
    #[arg(long, value_name = "US")]
    pub timer_spin_us: Option<u64>,
    /// Timer keeping chunk deadlines (tokio: 1 ms resolution, for comparison) [default: precise].
    #[arg(long, value_enum)]
    pub timer: Option<TimerArg>,
    /// Inject a fault: KIND (always), KIND:PROBABILITY or KIND:every=N. Kinds:
    /// http_429, http_500, http_503, stall_first, stall_mid, reset, truncate,
    /// malformed_json, keep_alive, split, crlf, long_event, slow_loris,
    /// bad_tool_args, overloaded. Repeatable.
    #[arg(long = "fault", value_name = "KIND[:RULE]")]
    pub faults: Vec<FaultRule>,
    /// Length of injected stalls, ms [default: 2000].
    #[arg(long, value_name = "MS")]
    pub stall_ms: Option<f64>,
    /// Pause between bytes of a slow-loris response, ms [default: 1].
    #[arg(long, value_name = "MS")]
    pub trickle_ms: Option<f64>,
    /// The Retry-After of an injected http_429 or http_503, seconds
    /// [default: 1].
    #[arg(long, value_name = "SECONDS")]
    pub retry_after: Option<u64>,
    /// Ignore the x-tokenpace-fault request header.
    #[arg(long)]
    pub no_fault_header: bool,
    /// Turn the prefix cache off (on by default: cached prompt blocks skip prefill).
    #[arg(long)]
    pub no_prefix_cache: bool,
    /// Tokens per prefix-cache block; only whole blocks are cached [default: 16].
    #[arg(long, value_name = "N")]
    pub prefix_block_tokens: Option<usize>,
    /// Prefix-cache capacity in tokens, least recently used blocks evicted [default: 262144].
    #[arg(long, value_name = "N")]
    pub prefix_cache_tokens: Option<u64>,
    /// Request header whose value (a session id) the truth file records [default: X-Session-ID].
    #[arg(long, value_name = "NAME")]
    pub session_header: Option<String>,
    /// Share of tool_choice "auto" requests answered with a tool call, drawn from
    /// the request's seed [default: 1].
    #[arg(long, value_name = "SHARE")]
    pub tool_call_share: Option<f64>,
    /// Tokens a tool call's argument deltas carry; the rest of the answer's
    /// tokens are generated after the last delta, the finish event at the
    /// last one's deadline (0: every token) [default: 0].
    #[arg(long, value_name = "N")]
    pub tool_argument_tokens: Option<u64>,
    /// Pieces of text starting with a multi-byte character cost two tokens,
    /// held back and sent in one chunk (like vLLM with Chinese output).
    #[arg(long)]
    pub utf8_hold_back: bool,
    /// Whose bytes the responses are: tokenpace, vllm (vLLM 0.32's
    /// fields, usage and endings), openai (refuses request arguments
    /// OpenAI's API does not define, such as ignore_eos, with its 400), or
    /// a hosted provider's stream, refusing what OpenAI refuses: deepseek
    /// (reasoning_content first), openrouter (": OPENROUTER PROCESSING"
    /// comments), groq (usage in x_groq), gemini (finish and usage on the
    /// last chunk), anthropic (a signed thinking block first),
    /// openai-reasoning (a Responses reasoning summary first)
    /// [default: tokenpace].
    #[arg(long, value_name = "DIALECT", value_parser = dialect)]
    pub dialect: Option<Dialect>,
    /// Serve HTTPS with a self-signed certificate made at start: prints its
    /// SHA-256 fingerprint and a file holding it (give that file to `bench
    /// --ca-cert`, or pass `--insecure`).
    #[arg(long)]
    pub tls: bool,
}

/// Parses `--dialect`, listing the dialects when it is not one.
/// `NAME=FACTOR` of `--model-speed`.
fn model_speed(s: &str) -> Result<(String, f64), String> {
    let (name, f) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("'{s}' is not NAME=FACTOR, e.g. lora-a=0.5"))?;
    match f.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f.is_finite() && !name.trim().is_empty() => Ok((name.trim().into(), f)),
        _ => Err(format!(
            "'{s}': the factor must be a positive number and the name not empty, e.g. lora-a=0.5"
        )),
    }
}

fn dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

/// The environment variable `--api-key` is read from when the flag is not
/// given (a flag on the command line shows in `ps`).
pub const SIM_API_KEY_ENV: &str = "TOKENPACE_SIM_API_KEY";

impl SimArgs {
    /// The configuration: `base` (the `--config` file's, or the defaults)
    /// with every flag given on top, validated.
    pub fn apply(&self, mut c: SimConfig) -> Result<SimConfig, ConfigError> {
        set(&mut c.host, self.host.clone());
        set(&mut c.port, self.port);
        set(&mut c.model, self.model.clone());
        c.model_speeds.extend(self.model_speeds.iter().cloned());
        if self.api_key.is_some() {
            c.api_key.clone_from(&self.api_key);
        }
        if self.truth.is_some() {
            c.truth.clone_from(&self.truth);
        }
        set(&mut c.seed, self.seed);
        self.apply_timing(&mut c);
        set(&mut c.text.lang, self.text);
        if self.utf8_hold_back {
            c.text.utf8_hold_back = true;
        }
        set(&mut c.limits.max_tokens, self.max_tokens_limit);
        set(&mut c.limits.max_body_bytes, self.max_body_bytes);
        set(&mut c.limits.read_timeout_ms, self.read_timeout_ms);
        c.faults.inject.extend(self.faults.iter().cloned());
        set(&mut c.faults.stall_ms, self.stall_ms);
        set(&mut c.faults.trickle_ms, self.trickle_ms);
        set(&mut c.faults.retry_after_s, self.retry_after);
        if self.no_fault_header {
            c.faults.allow_header = false;
        }
        if self.no_prefix_cache {
            c.prefix_cache.enabled = false;
        }
        set(&mut c.prefix_cache.block_tokens, self.prefix_block_tokens);
        set(
            &mut c.prefix_cache.capacity_tokens,
            self.prefix_cache_tokens,
        );
        set(&mut c.session_header, self.session_header.clone());
        set(&mut c.tools.call_share, self.tool_call_share);
        set(&mut c.tools.argument_tokens, self.tool_argument_tokens);
        set(&mut c.dialect, self.dialect);
        if self.tls {
            c.tls = true;
        }
        c.validate()?;
        Ok(c)
    }

    /// The timing flags given, on top of `c`'s timing.
    fn apply_timing(&self, c: &mut SimConfig) {
        let t = &mut c.timing;
        set(&mut t.ttft_ms, self.ttft_ms);
        set(&mut t.prefill, self.prefill);
        set(&mut t.decode, self.decode);
        set(&mut t.jitter_ms, self.jitter_ms);
        set(&mut t.ttft_jitter_ms, self.ttft_jitter_ms);
        set(&mut t.jitter_dist, self.jitter_dist.map(Into::into));
        set(&mut t.max_batch, self.max_batch);
        set(&mut t.batch_slowdown, self.batch_slowdown);
        set(&mut t.tokens_per_chunk, self.tokens_per_chunk);
        set(&mut t.output_tokens, self.output_tokens);
        set(&mut t.timer_spin_us, self.timer_spin_us);
        set(&mut t.timer, self.timer.map(Into::into));
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// `--jitter-dist`: how jitter is drawn, with `s` the configured scale in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JitterDistArg {
    /// Uniform in `[-s, s]`.
    Uniform,
    /// Normal with mean 0 and standard deviation `s`.
    Normal,
    /// Exponential with mean `s` (only ever delays: a long tail).
    Exponential,
}

impl From<JitterDistArg> for JitterDist {
    fn from(d: JitterDistArg) -> JitterDist {
        match d {
            JitterDistArg::Uniform => JitterDist::Uniform,
            JitterDistArg::Normal => JitterDist::Normal,
            JitterDistArg::Exponential => JitterDist::Exponential,
        }
    }
}

/// `--timer`: which timer keeps chunk deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimerArg {
    /// A dedicated thread with nanosecond timeouts (sub-ms lateness).
    Precise,
    /// tokio's timer (1 ms resolution, rounds up): for comparison.
    Tokio,
}

impl From<TimerArg> for TimerKind {
    fn from(t: TimerArg) -> TimerKind {
        match t {
            TimerArg::Precise => TimerKind::Precise,
            TimerArg::Tokio => TimerKind::Tokio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::Path;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: SimArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
    }

    #[test]
    fn flags_override_the_file() {
        let file = "port = 9\n[timing]\ndecode = 10\nttft_ms = 5\n";
        let base = SimConfig::from_toml_str(file, Path::new("sim.toml")).unwrap();
        let cli = parse(&[
            "--decode",
            "40",
            "--fault",
            "split:every=2",
            "--fault",
            "http_429:0.1",
            "--text",
            "zh",
            "--no-prefix-cache",
            "--prefix-block-tokens",
            "32",
            "--session-header",
            "X-Conv",
            "--tool-call-share",
            "0.25",
            "--dialect",
            "vllm",
            "--utf8-hold-back",
            "--tool-argument-tokens",
            "6",
            "--jitter-dist",
            "exponential",
            "--timer",
            "tokio",
        ])
        .unwrap();
        let c = cli.sim.apply(base).unwrap();
        assert!(!c.prefix_cache.enabled);
        assert_eq!(c.prefix_cache.block_tokens, 32);
        assert_eq!(
            (c.session_header.as_str(), c.tools.call_share),
            ("X-Conv", 0.25)
        );
        assert!(SimConfig::default().prefix_cache.enabled, "on by default");
        assert_eq!((c.port, c.timing.decode, c.timing.ttft_ms), (9, 40.0, 5.0));
        assert_eq!(c.faults.inject.len(), 2);
        assert_eq!(c.text.lang, TextLang::Zh);
        assert_eq!(c.dialect, Dialect::Vllm);
        assert!(c.text.utf8_hold_back);
        assert_eq!(c.tools.argument_tokens, 6);
        assert_eq!(c.timing.jitter_dist, JitterDist::Exponential);
        assert_eq!(c.timing.timer, TimerKind::Tokio);
        assert_eq!(SimConfig::default().dialect, Dialect::Tokenpace);
    }

    #[test]
    fn no_flag_leaves_the_base_as_it_is() {
        let base = SimConfig {
            api_key: Some("from-file".into()),
            ..SimConfig::default()
        };
        assert_eq!(parse(&[]).unwrap().sim.apply(base.clone()).unwrap(), base);
        let flag = parse(&["--api-key", "k"]).unwrap().sim.apply(base).unwrap();
        assert_eq!(flag.api_key.as_deref(), Some("k"));
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(parse(&["--fault", "meteor"]).is_err());
        let err = parse(&["--dialect", "sglang"]).err().unwrap().to_string();
        assert!(err.contains("tokenpace, vllm"), "{err}");
        let cli = parse(&["--decode=-1"]).unwrap();
        let err = cli.sim.apply(SimConfig::default()).unwrap_err();
        let decode = Some((tokenpace_core::setting::Setting::Decode, ""));
        assert!(matches!(err, ConfigError::Invalid { field, .. } if field.setting == decode));
    }

    /// The flags' values are the names the TOML file uses.
    #[test]
    fn value_names_are_the_files() {
        for d in JitterDistArg::value_variants() {
            let name = d.to_possible_value().unwrap().get_name().to_owned();
            let toml = serde_json::to_value(JitterDist::from(*d)).unwrap();
            assert_eq!(toml, serde_json::Value::String(name));
        }
        for t in TimerArg::value_variants() {
            let name = t.to_possible_value().unwrap().get_name().to_owned();
            let toml = serde_json::to_value(TimerKind::from(*t)).unwrap();
            assert_eq!(toml, serde_json::Value::String(name));
        }
    }
}

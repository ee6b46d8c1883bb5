//! Options and value parsers shared by several commands.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_core::grade::Tier;
pub use tokenpace_present::Format;

/// Output options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The grading profile, shared by every command that grades.
#[derive(Debug, Clone, Args)]
pub struct ProfileArgs {
    /// Thresholds to grade against: a TOML profile [default: tokenpace's
    /// built-in UX tiers].
    #[arg(long = "profile", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// The per-request id header, for `bench` and `capacity`.
#[derive(Debug, Clone, Args)]
pub struct RequestIdArgs {
    /// Header carrying each request's id (a run prefix and the record's
    /// id, e.g. tp-19aee1f2c40-17), kept as request_id in requests.jsonl
    /// so records join with the server's logs.
    #[arg(long, value_name = "NAME", default_value = "X-Request-ID")]
    pub request_id_header: String,
    /// Send no request-id header.
    #[arg(long)]
    pub no_request_id: bool,
}

/// How requests travel, for `bench` and `capacity`.
#[derive(Debug, Clone, Args)]
pub struct TransportArgs {
    /// Speak HTTP/2 without TLS (prior knowledge, h2c) to an http:// URL,
    /// as gateways do: many streams over one connection. Frames are dated
    /// as they are handed over, without the connection timeline.
    #[arg(long)]
    pub h2c: bool,
    /// Trust the certificates in this PEM file too, besides the system's
    /// (a private CA, or `sim --tls`'s certificate file); repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<std::path::PathBuf>,
    /// Accept any certificate from an https:// server (a self-signed test
    /// server): the traffic is still encrypted, the server not verified.
    #[arg(long)]
    pub insecure: bool,
    /// Speak HTTP/1.1 to an https:// URL even when the server offers
    /// HTTP/2 by ALPN (which is used by default): the precise path, with
    /// each connection's timeline and the kernel's arrival stamp on every
    /// read. HTTP/2 frames are dated when the h2 crate hands them over, a
    /// coarser clock; OpenAI's and Anthropic's Python SDKs speak HTTP/1.1
    /// by default.
    #[arg(long, conflicts_with = "h2c")]
    pub http1: bool,
}

impl TransportArgs {
    /// How an https:// server's certificate is checked.
    pub fn tls(&self) -> tokenpace_client::transport::tls::TlsOptions {
        tokenpace_client::transport::tls::TlsOptions {
            ca_certs: self.ca_cert.clone(),
            insecure: self.insecure,
            http1: self.http1,
        }
    }
}

/// What the target is and how its prompts are kept apart, for `bench` and
/// `capacity`.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Whose server it is, which decides what requests carry: vllm,
    /// sglang, llamacpp, tgi and tokenpace take ignore_eos (and vLLM
    /// per-chunk usage) and count prompts with their /tokenize; other
    /// (hosted APIs, gateways) is sent only what OpenAI's and Anthropic's
    /// APIs define [default: from GET /v1/models, else other]
    #[arg(long, value_name = "KIND", value_parser = clap::builder::PossibleValuesParser::new(tokenpace_client::server_kind::KIND_IDS))]
    pub server_kind: Option<String>,
    /// Send the same prompts as an earlier run with the same --seed, so a
    /// server's prefix cache may serve them (a warm-cache measurement);
    /// by default each run's prompts are its own
    #[arg(long)]
    pub reuse_prompts: bool,
}

impl ServerArgs {
    /// The kind given, if any.
    pub fn kind(&self) -> Option<tokenpace_client::server_kind::ServerKind> {
        self.server_kind
            .as_deref()
            .and_then(tokenpace_client::server_kind::ServerKind::from_id)
    }

    /// The run's prompt salt: fresh, or 0 to reuse prompts.
    pub fn salt(&self) -> u64 {
        match self.reuse_prompts {
            true => 0,
            false => tokenpace_runner::plan::run_salt(),
        }
    }
}

impl RequestIdArgs {
    /// The header's name, unless turned off.
    pub fn name(&self) -> Option<&str> {
        (!self.no_request_id).then_some(self.request_id_header.as_str())
    }
}

/// A tier as given to `--fail-below`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    /// Fail unless every metric is in tier A.
    A,
    /// Fail when any metric is in tier C.
    B,
}

impl From<TierArg> for Tier {
    fn from(t: TierArg) -> Tier {
        match t {
            TierArg::A => Tier::A,
            TierArg::B => Tier::B,
        }
    }
}

/// Prompt text language: the corpus's one definition (zh, en, mixed).
pub use tokenpace_corpus::TextLang;

/// Largest number any flag accepts; beyond it a value is a typo.
const ABSURD: f64 = 1e9;

fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if !v.is_finite() {
        return Err(format!("'{s}' is not a finite number"));
    }
    if v > ABSURD {
        return Err(format!(
            "'{s}' is implausibly large (the limit is {ABSURD:e})"
        ));
    }
    Ok(v)
}

/// A finite number > 0 (a clap value parser).
pub fn positive_number(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 {
        return Err("it must be greater than 0".to_string());
    }
    Ok(v)
}

/// A finite number ≥ 0 (a clap value parser).
pub fn non_negative_number(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v < 0.0 {
        return Err("it must be 0 or more".to_string());
    }
    Ok(v)
}

/// A fraction in (0, 1] (a clap value parser).
pub fn fraction(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 || v > 1.0 {
        return Err("it must be a fraction greater than 0 and at most 1 (e.g. 0.7)".into());
    }
    Ok(v)
}

/// A percentage in (0, 100] (a clap value parser).
pub fn percent(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 || v > 100.0 {
        return Err("it must be a percentage greater than 0 and at most 100 (e.g. 90)".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        crate::cli::Cli::command().debug_assert();
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(positive_number("1.5"), Ok(1.5));
        assert!(positive_number("0").unwrap_err().contains("greater than 0"));
        assert!(positive_number("-2").is_err());
        assert!(positive_number("NaN").unwrap_err().contains("finite"));
        assert!(positive_number("inf").is_err());
        assert!(positive_number("1e12").unwrap_err().contains("implausibly"));
        assert!(positive_number("fast")
            .unwrap_err()
            .contains("not a number"));
        assert_eq!(non_negative_number("0"), Ok(0.0));
    }
}

//! How the binary names the settings that library errors refer to: each
//! [`Setting`] as the flag that gives it (`--max-tokens`), or the command that
//! shows it. The one place a flag's name is written for an error; the test
//! below checks every one against the command line as declared.

use tokenpace_core::setting::{name_settings_with, Setting};

/// Library errors from now on name the binary's flags.
pub fn install() {
    name_settings_with(flag);
}

/// The flag (or command) that gives each setting; the tests check that
/// every setting has exactly one entry.
const FLAGS: &[(Setting, &str)] = &[
    (Setting::AgentSteps, "--agent-steps"),
    (Setting::Api, "--api"),
    (Setting::ApiKey, "--api-key"),
    (Setting::Backend, "--backend"),
    (Setting::BandwidthEfficiency, "--bandwidth-efficiency"),
    (Setting::BatchSlowdown, "--batch-slowdown"),
    (Setting::Benchmark, "--benchmark"),
    (Setting::CaCert, "--ca-cert"),
    (Setting::CacheHit, "--cache-hit"),
    (Setting::CancelAfter, "--cancel-after"),
    (Setting::CancelShare, "--cancel-share"),
    (Setting::Catalog, "--catalog"),
    (Setting::CharsPerS, "--chars-per-s"),
    (Setting::CharsPerToken, "--chars-per-token"),
    (Setting::ComputeEfficiency, "--compute-efficiency"),
    (Setting::Concurrency, "--concurrency"),
    (Setting::Conversations, "--conversations"),
    (Setting::CtxSize, "--ctx-size"),
    (Setting::Dataset, "--dataset"),
    (Setting::Decode, "--decode"),
    (Setting::Dir, "--dir"),
    (Setting::Efficiency, "--efficiency"),
    (Setting::Fault, "--fault"),
    (Setting::FirstTokenTimeout, "--first-token-timeout"),
    (Setting::Format, "--format"),
    (Setting::From, "--from"),
    (Setting::FromRun, "--from-run"),
    (Setting::Gpus, "--gpus"),
    (Setting::H2c, "--h2c"),
    (Setting::Hardware, "--hardware"),
    (Setting::Header, "--header"),
    (Setting::Host, "--host"),
    (Setting::Http1, "--http1"),
    (Setting::IdleTimeout, "--idle-timeout"),
    (Setting::Insecure, "--insecure"),
    (Setting::JitterMs, "--jitter-ms"),
    (Setting::KvCache, "--kv-cache"),
    (Setting::List, "--list"),
    (Setting::MaxBatch, "--max-batch"),
    (Setting::MaxEventBytes, "--max-event-bytes"),
    (Setting::MaxRequests, "--max-requests"),
    (Setting::MaxTokens, "--max-tokens"),
    (Setting::MaxTraceSpeed, "--max-trace-speed"),
    (Setting::MemoryUsable, "--memory-usable"),
    (Setting::Model, "--model"),
    (Setting::ModelFile, "--model-file"),
    (Setting::ModelMix, "--model-mix"),
    (Setting::ModelSpeed, "--model-speed"),
    (Setting::ModelsFetch, "tokenpace models --fetch"),
    (Setting::NoIgnoreEos, "--no-ignore-eos"),
    (Setting::NoPrefixCache, "--no-prefix-cache"),
    (Setting::NoRequestId, "--no-request-id"),
    (Setting::NoSelfCheck, "--no-self-check"),
    (Setting::Out, "--out"),
    (Setting::OutputTokens, "--output-tokens"),
    (Setting::Parallel, "--parallel"),
    (Setting::Port, "--port"),
    (Setting::Prefill, "--prefill"),
    (Setting::PrefillBatch, "--prefill-batch"),
    (Setting::PrefixBlockTokens, "--prefix-block-tokens"),
    (Setting::PrefixCacheTokens, "--prefix-cache-tokens"),
    (Setting::PrefixGroups, "--prefix-groups"),
    (Setting::Preset, "--preset"),
    (Setting::PromptTokens, "--prompt-tokens"),
    (Setting::Rate, "--rate"),
    (Setting::ReadTimeoutMs, "--read-timeout-ms"),
    (Setting::Repeat, "--repeat"),
    (Setting::RequestIdHeader, "--request-id-header"),
    (Setting::Requests, "--requests"),
    (Setting::RetryThrottled, "--retry-throttled"),
    (Setting::ReusePrompts, "--reuse-prompts"),
    (Setting::Rtt, "--rtt"),
    (Setting::Save, "--save"),
    (Setting::ServerKind, "--server-kind"),
    (Setting::ServerMetrics, "--server-metrics"),
    (Setting::SessionHeader, "--session-header"),
    (Setting::Shard, "--shard"),
    (Setting::SharedPrefix, "--shared-prefix"),
    (Setting::SpecAcceptance, "--spec-acceptance"),
    (Setting::SpecDraftCost, "--spec-draft-cost"),
    (Setting::SpecDraftTokens, "--spec-draft-tokens"),
    (Setting::SplitDevices, "--split-devices"),
    (Setting::SplitEfficiency, "--split-efficiency"),
    (Setting::StallMs, "--stall-ms"),
    (Setting::StartAt, "--start-at"),
    (Setting::Timeout, "--timeout"),
    (Setting::Tls, "--tls"),
    (Setting::Tokenizer, "--tokenizer"),
    (Setting::TokenizerFamily, "--tokenizer-family"),
    (Setting::TokensPerChunk, "--tokens-per-chunk"),
    (Setting::ToolCallShare, "--tool-call-share"),
    (Setting::Trace, "--trace"),
    (Setting::TraceBlockTokens, "--trace-block-tokens"),
    (Setting::TraceDuration, "--trace-duration"),
    (Setting::TraceFormat, "--trace-format"),
    (Setting::TraceLogType, "--trace-log-type"),
    (Setting::TraceSpeedStep, "--trace-speed-step"),
    (Setting::TraceStart, "--trace-start"),
    (Setting::TrickleMs, "--trickle-ms"),
    (Setting::TtftJitterMs, "--ttft-jitter-ms"),
    (Setting::TtftMs, "--ttft-ms"),
    (Setting::TtftTarget, "--ttft-target"),
    (Setting::Turns, "--turns"),
    (Setting::UntilPrecise, "--until-precise"),
    (Setting::Weights, "--weights"),
    (Setting::CatalogList, "tokenpace plan bounds --list"),
    (Setting::ScenarioList, "tokenpace plan scenario --list"),
    (Setting::CalibrateSave, "tokenpace plan calibrate --save"),
    (Setting::History, "tokenpace history"),
];

/// The flag (or command) that gives `setting`.
pub fn flag(setting: Setting) -> &'static str {
    FLAGS
        .iter()
        .find(|(s, _)| *s == setting)
        .map_or(setting.key(), |(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every long flag of every (sub)command, with the command's path.
    fn declared(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        for arg in cmd.get_arguments() {
            if let Some(long) = arg.get_long() {
                out.push((path.to_string(), format!("--{long}")));
            }
        }
        for sub in cmd.get_subcommands() {
            declared(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_flag_an_error_names_exists() {
        let mut flags = Vec::new();
        declared(&crate::cli::Cli::command(), "tokenpace", &mut flags);
        let mut missing: Vec<&str> = Vec::new();
        for &s in Setting::ALL {
            let shown = flag(s);
            let found = match shown.rsplit_once(' ') {
                // `tokenpace plan bounds --list`: that flag of that command.
                Some((path, long)) if long.starts_with("--") => {
                    flags.iter().any(|(p, f)| p == path && f == long)
                }
                // `tokenpace history`: that command.
                Some(_) => flags.iter().any(|(p, _)| p == shown),
                None => flags.iter().any(|(_, f)| f == shown),
            };
            if !found {
                missing.push(shown);
            }
        }
        assert!(
            missing.is_empty(),
            "errors name flags the command line does not declare: {missing:?}"
        );
    }

    #[test]
    fn every_setting_has_one_flag() {
        for &s in Setting::ALL {
            let n = FLAGS.iter().filter(|(x, _)| *x == s).count();
            assert_eq!(n, 1, "{s:?} has {n} entries in FLAGS");
        }
        assert_eq!(FLAGS.len(), Setting::ALL.len());
    }

    #[test]
    fn a_plain_flag_is_its_key_spelled_with_dashes() {
        for &s in Setting::ALL {
            let shown = flag(s);
            if !shown.contains(' ') {
                assert_eq!(shown, format!("--{}", s.key().replace('_', "-")), "{s:?}");
            }
        }
    }
}

//! A run's prompt and answer lengths: the flags, else the scenario's, else
//! the defaults.

use tokenpace_core::setting::Setting;

/// Prompt length and answer length when neither flag nor scenario gives one.
pub const DEFAULT_PROMPT_TOKENS: u32 = 256;
/// See [`DEFAULT_PROMPT_TOKENS`].
pub const DEFAULT_MAX_TOKENS: u32 = 128;

/// Prompt lengths and answer length: the flags, else the scenario's, else
/// the defaults.
pub fn lengths(
    scenario: Option<&str>,
    prompt_tokens: &[u32],
    max_tokens: Option<u32>,
) -> anyhow::Result<(Vec<u32>, u32)> {
    let spec = match scenario {
        Some(name) => Some(
            tokenpace_core::scenario::preset_named(name)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown scenario '{name}': use one of {} ({} shows them)",
                        tokenpace_core::scenario::preset_names(),
                        Setting::ScenarioList
                    )
                })?
                .spec(),
        ),
        None => None,
    };
    let prompts = match (prompt_tokens, &spec) {
        ([], Some(s)) => s.prompt_tokens.map(|p| p as u32).into_iter().collect(),
        (given, _) => given.to_vec(),
    };
    let prompts = if prompts.is_empty() {
        vec![DEFAULT_PROMPT_TOKENS]
    } else {
        prompts
    };
    let max = max_tokens
        .or_else(|| spec.and_then(|s| s.output_tokens.map(|o| o as u32)))
        .unwrap_or(DEFAULT_MAX_TOKENS);
    if prompts.contains(&0) {
        anyhow::bail!("{} must be at least 1", Setting::PromptTokens);
    }
    Ok((prompts, max))
}

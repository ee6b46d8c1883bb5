//! `tokenpace models`'s result: what the model cache holds.

use serde::Serialize;
use std::path::PathBuf;
use tokenpace_models::{CachedModel, GgufInfo};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{Document, Lang, Output};

/// The model cache and the GGUF files in it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModelsOutput {
    /// The cache directory (`--cache-dir`, else the user's cache).
    pub cache_dir: PathBuf,
    /// Every GGUF file in it, sorted by package and file name.
    pub models: Vec<ModelEntry>,
}

/// One model file in the cache.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
// Fields in alphabetical order: the order of the keys the command has
// always printed.
pub struct ModelEntry {
    /// Why its header could not be read; `null` when it could.
    pub error: Option<String>,
    /// Its header; `null` when it could not be read.
    pub info: Option<GgufInfo>,
    /// The package it came from (the sub-directory's name).
    pub package: String,
    /// The GGUF file.
    pub path: PathBuf,
}

impl ModelsOutput {
    /// The cache at `cache_dir` holding `models`.
    pub fn new(cache_dir: PathBuf, models: Vec<CachedModel>) -> ModelsOutput {
        let models = models
            .into_iter()
            .map(|m| {
                let (info, error) = match m.info {
                    Ok(info) => (Some(info), None),
                    Err(e) => (None, Some(e)),
                };
                ModelEntry {
                    package: m.package,
                    path: m.path,
                    info,
                    error,
                }
            })
            .collect();
        ModelsOutput { cache_dir, models }
    }
}

impl Output for ModelsOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        d.line(format!(
            "{}: {}",
            lang.pick("model cache", "模型缓存"),
            self.cache_dir.display()
        ))
        .blank();
        if self.models.is_empty() {
            d.line(lang.pick(
                "no models cached yet: `tokenpace models --fetch` fetches the default one",
                "尚无缓存的模型：`tokenpace models --fetch` 获取默认模型",
            ));
        } else {
            d.table(table(&self.models, lang));
        }
        d
    }
}

fn table(models: &[ModelEntry], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("package", "包"), Align::Left),
        (lang.pick("file", "文件"), Align::Left),
        (lang.pick("architecture", "架构"), Align::Left),
        ("MB", Align::Right),
    ]);
    for m in models {
        let file = m
            .path
            .file_name()
            .map_or(String::new(), |f| f.to_string_lossy().into_owned());
        let (architecture, mb) = match (&m.info, &m.error) {
            (Some(info), _) => (
                info.architecture.clone(),
                format!("{:.1}", info.bytes as f64 / 1e6),
            ),
            (None, e) => (
                format!("unreadable: {}", e.as_deref().unwrap_or_default()),
                String::new(),
            ),
        };
        t.row(vec![m.package.clone(), file, architecture, mb]);
    }
    t
}

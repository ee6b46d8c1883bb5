//! Where models are kept: `--cache-dir`, else `$XDG_CACHE_HOME/tokenpace/models`,
//! else `~/.cache/tokenpace/models`. One sub-directory per package.

use crate::gguf_file::{inspect, GgufInfo};
use std::path::{Path, PathBuf};

/// The model cache directory.
pub fn cache_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("tokenpace").join("models")
}

/// A model file in the cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CachedModel {
    /// The package it came from (the sub-directory's name).
    pub package: String,
    /// The GGUF file.
    pub path: PathBuf,
    /// Its header, or why it could not be read.
    pub info: Result<GgufInfo, String>,
}

/// Every `*.gguf` in the cache, sorted by package and file name.
pub fn cached_models(dir: &Path) -> Vec<CachedModel> {
    let mut out = Vec::new();
    let Ok(packages) = std::fs::read_dir(dir) else {
        return out;
    };
    for package in packages.flatten().filter(|e| e.path().is_dir()) {
        let Ok(files) = std::fs::read_dir(package.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "gguf") {
                out.push(CachedModel {
                    package: package.file_name().to_string_lossy().into_owned(),
                    info: inspect(&path).map_err(|e| e.to_string()),
                    path,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.package, &a.path).cmp(&(&b.package, &b.path)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf_file::tests::gguf_bytes;

    #[test]
    fn lists_what_the_cache_holds() {
        let dir = tempfile::tempdir().unwrap();
        assert!(cached_models(&dir.path().join("none")).is_empty());
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(
            dir.path().join("pkg/a.gguf"),
            gguf_bytes(&[("general.architecture", "llama")]),
        )
        .unwrap();
        std::fs::write(dir.path().join("pkg/b.gguf"), b"junk").unwrap();
        std::fs::write(dir.path().join("pkg/readme.txt"), b"x").unwrap();
        let models = cached_models(dir.path());
        assert_eq!(models.len(), 2);
        assert_eq!(models[0].info.as_ref().unwrap().architecture, "llama");
        assert!(models[1].info.is_err());
    }

    #[test]
    fn the_flag_wins() {
        assert_eq!(cache_dir(Some(Path::new("/x"))), PathBuf::from("/x"));
        assert!(cache_dir(None).ends_with("tokenpace/models"));
    }
}

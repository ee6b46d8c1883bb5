//! What every planner command starts from: a catalog (the built-in one
//! plus user files), a model (a catalog id, or a `config.json` or GGUF
//! file), a device, and efficiency factors (a file, overridden one by one).
//! [`SetupRequest`] is the request as the flags give it; [`SetupRequest::resolve`] reads
//! the files it names (the only reading the planner does) into a
//! [`Resolved`] one.

use crate::catalog::Catalog;
use crate::efficiency::{Efficiency, Overrides};
use crate::error::PlanError;
use crate::hardware::Hardware;
use crate::kv_cache::KvCache;
use crate::model::Model;
use crate::quant::Quant;
use crate::roofline::Deployment;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use tokenpace_core::setting::Setting;

/// Where the model's shape comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A catalog id (`qwen2.5-7b`).
    Catalog(String),
    /// A Hugging Face `config.json` or a GGUF file.
    File(PathBuf),
}

/// A deployment as asked for, before any file is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetupRequest {
    /// Catalog files added to the built-in catalog, in order.
    pub catalog_files: Vec<PathBuf>,
    /// The model, if one was given.
    pub model: Option<ModelSource>,
    /// The device id, if one was given.
    pub hardware: Option<String>,
    /// An efficiency file (what `plan calibrate --save` writes).
    pub efficiency_file: Option<PathBuf>,
    /// Factors given one by one, over the file's.
    pub overrides: Overrides,
}

/// The model, device and efficiency, read and checked.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The catalog, with user files added.
    pub catalog: Catalog,
    /// The model.
    pub model: Model,
    /// The device id (in the catalog).
    pub hardware: String,
    /// The efficiency.
    pub efficiency: Efficiency,
}

/// Why a setup could not be resolved: each names the file or the flag.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A catalog file could not be read.
    #[error("could not read catalog '{}'", .path.display())]
    ReadCatalog {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A catalog file does not parse.
    #[error("catalog '{}' is not valid (see docs/plan.md, \"Catalogs\", for the format)", .path.display())]
    BadCatalog {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<PlanError>,
    },
    /// The efficiency file could not be read.
    #[error("could not read efficiency file '{}'", .path.display())]
    ReadEfficiency {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The efficiency file does not parse.
    #[error("efficiency file '{}' is not valid (it needs `compute` and `bandwidth` fractions; `plan calibrate {}` writes one)", .path.display(), Setting::Save)]
    BadEfficiency {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<PlanError>,
    },
    /// The model file could not be opened or read.
    #[error("could not open model file '{}'", .path.display())]
    OpenModel {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The model file is neither GGUF nor text.
    #[error("'{}' is neither a GGUF file nor a UTF-8 config.json", .path.display())]
    NotAModel {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The model file's shape could not be read.
    #[error("'{}'", .path.display())]
    BadModel {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<PlanError>,
    },
    /// No model was given.
    #[error(
        "{command} needs a model: give {} NAME ({} shows the catalog) or {} config.json",
        Setting::Model,
        Setting::CatalogList,
        Setting::ModelFile
    )]
    NoModel {
        /// The command, as the user typed it.
        command: String,
    },
    /// No device was given.
    #[error(
        "{command} needs a device: give {} NAME ({} shows the catalog)",
        Setting::Hardware,
        Setting::CatalogList
    )]
    NoHardware {
        /// The command, as the user typed it.
        command: String,
    },
    /// An unknown catalog id, or another planning error.
    #[error(transparent)]
    Plan(Box<PlanError>),
}

impl From<PlanError> for SetupError {
    fn from(e: PlanError) -> SetupError {
        SetupError::Plan(Box::new(e))
    }
}

impl SetupRequest {
    /// Whether a model (catalog id or file) was given.
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// The built-in catalog with the user's files added.
    pub fn catalog(&self) -> Result<Catalog, SetupError> {
        let mut c = Catalog::builtin();
        for path in &self.catalog_files {
            let text = std::fs::read_to_string(path).map_err(|source| SetupError::ReadCatalog {
                path: path.clone(),
                source,
            })?;
            c.add_toml(&text).map_err(|source| SetupError::BadCatalog {
                path: path.clone(),
                source: Box::new(source),
            })?;
        }
        Ok(c)
    }

    /// The efficiency: the file's factors (or the defaults), overridden by
    /// those given one by one.
    pub fn efficiency(&self) -> Result<Efficiency, SetupError> {
        let base = match &self.efficiency_file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| SetupError::ReadEfficiency {
                        path: path.clone(),
                        source,
                    })?;
                Efficiency::from_toml(&text).map_err(|source| SetupError::BadEfficiency {
                    path: path.clone(),
                    source: Box::new(source),
                })?
            }
            None => Efficiency::DEFAULT,
        };
        Ok(self.overrides.apply(base))
    }

    /// Reads the catalog, the model and the efficiency; `command` (e.g.
    /// `plan bounds`) names what needs a model and a device when one is
    /// missing.
    pub fn resolve(&self, command: &str) -> Result<Resolved, SetupError> {
        let catalog = self.catalog()?;
        let model = match &self.model {
            Some(ModelSource::Catalog(name)) => catalog.model(name)?.clone(),
            Some(ModelSource::File(path)) => read_model_file(path)?,
            None => {
                return Err(SetupError::NoModel {
                    command: command.to_string(),
                })
            }
        };
        let Some(hw) = &self.hardware else {
            return Err(SetupError::NoHardware {
                command: command.to_string(),
            });
        };
        let hardware = catalog.hardware(hw)?.id.clone();
        Ok(Resolved {
            catalog,
            model,
            hardware,
            efficiency: self.efficiency()?,
        })
    }
}

impl Resolved {
    /// The device.
    pub fn hardware(&self) -> &Hardware {
        // `SetupRequest::resolve` found the id in this catalog.
        self.catalog
            .hardware
            .iter()
            .find(|h| h.id == self.hardware)
            .expect("resolved hardware is in the catalog")
    }

    /// The model on `devices` of the device, weights stored as `weights`
    /// (the model's own format when `None`) and the KV cache as `kv_cache`.
    pub fn deployment(
        &self,
        weights: Option<Quant>,
        kv_cache: KvCache,
        devices: u32,
    ) -> Deployment<'_> {
        Deployment {
            model: &self.model,
            hardware: self.hardware(),
            quant: weights.unwrap_or(self.model.weights),
            kv_cache,
            devices,
        }
    }
}

/// The id a model file gives its model: the file's stem, or for a
/// `config.json` the directory it is in (`Qwen2.5-7B-Instruct/config.json`).
pub fn model_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    if stem != "config" {
        return stem;
    }
    path.parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or(stem)
}

/// The model in a `config.json` or GGUF file.
pub fn read_model_file(path: &Path) -> Result<Model, SetupError> {
    let file = std::fs::File::open(path).map_err(|source| SetupError::OpenModel {
        path: path.to_path_buf(),
        source,
    })?;
    model_from_reader(path, file)
}

/// The model in `reader`, the contents of the file at `path` (which names
/// it, [`model_id`]): a GGUF header when it starts with the GGUF magic,
/// else a `config.json`.
pub fn model_from_reader<R: Read + Seek>(path: &Path, mut reader: R) -> Result<Model, SetupError> {
    let io = |source| SetupError::OpenModel {
        path: path.to_path_buf(),
        source,
    };
    let bad = |source| SetupError::BadModel {
        path: path.to_path_buf(),
        source: Box::new(source),
    };
    let mut magic = [0u8; 4];
    let is_gguf = reader.read_exact(&mut magic).is_ok() && &magic == b"GGUF";
    reader.rewind().map_err(io)?;
    let id = model_id(path);
    if is_gguf {
        let kv = crate::gguf::read_metadata(BufReader::new(reader)).map_err(|e| bad(e.into()))?;
        return crate::gguf::model_from_metadata(&id, &kv).map_err(bad);
    }
    let mut text = String::new();
    reader
        .read_to_string(&mut text)
        .map_err(|source| SetupError::NotAModel {
            path: path.to_path_buf(),
            source,
        })?;
    crate::hf_config::model_from_config_json(&id, &text).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const QWEN_CONFIG: &str = r#"{"hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
        "num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064}"#;

    /// The chain of messages, as the binary prints an error.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut s = e.to_string();
        let mut next = e.source();
        while let Some(e) = next {
            s.push_str(&format!(": {e}"));
            next = e.source();
        }
        s
    }

    #[test]
    fn the_magic_picks_gguf_or_config_json() {
        let gguf = crate::gguf::tests::llama_header();
        let m = model_from_reader(Path::new("m/llama-q4.gguf"), Cursor::new(gguf)).unwrap();
        assert_eq!(m.id, "llama-q4");
        assert_eq!(
            m.kv_bytes_per_token(crate::kv_cache::KvCache::Fp16),
            131072.0
        );
        let path = Path::new("models/Qwen2.5-7B-Instruct/config.json");
        let m = model_from_reader(path, Cursor::new(QWEN_CONFIG)).unwrap();
        assert_eq!(m.id, "Qwen2.5-7B-Instruct");
        assert_eq!(m.layers, 28);
    }

    #[test]
    fn bad_model_files_name_the_file_and_the_problem() {
        let cut = crate::gguf::tests::llama_header()[..40].to_vec();
        let e = model_from_reader(Path::new("cut.gguf"), Cursor::new(cut)).unwrap_err();
        let text = chain(&e);
        assert!(
            text.starts_with("'cut.gguf': ") && text.contains("GGUF"),
            "{text}"
        );
        let e = model_from_reader(Path::new("w.bin"), Cursor::new(vec![0xff, 0xfe, 0, 1, 2]));
        assert!(chain(&e.unwrap_err()).contains("neither a GGUF file"));
        let e = model_from_reader(Path::new("config.json"), Cursor::new("{}")).unwrap_err();
        assert!(chain(&e).contains("hidden_size"), "{}", chain(&e));
    }

    #[test]
    fn resolving_names_what_is_missing() {
        let mut s = SetupRequest {
            hardware: Some("rtx-4090".into()),
            ..SetupRequest::default()
        };
        let e = s.resolve("plan bounds").unwrap_err().to_string();
        assert!(e.starts_with("plan bounds needs a model"), "{e}");
        s.model = Some(ModelSource::Catalog("qwen2.5-7b".into()));
        s.overrides.compute = Some(0.5);
        let r = s.resolve("plan bounds").unwrap();
        assert_eq!(r.hardware().id, "rtx-4090");
        assert_eq!(r.efficiency.compute, 0.5);
        assert_eq!(r.deployment(Some(Quant::Int4), KvCache::Fp16, 2).devices, 2);
        s.hardware = None;
        assert!(s
            .resolve("plan calibrate")
            .unwrap_err()
            .to_string()
            .contains("needs a device"));
        s.catalog_files = vec!["/nonexistent/lab.toml".into()];
        let e = s.catalog().unwrap_err().to_string();
        assert!(
            e.contains("could not read catalog '/nonexistent/lab.toml'"),
            "{e}"
        );
    }
}

//! The hardware and model catalogs: TOML data files shipped in the binary,
//! extensible with user files of the same format.

use crate::error::PlanError;
use crate::hardware::Hardware;
use crate::model::Model;
use crate::suggest::{closest, normalise};
use serde::Deserialize;

/// The built-in hardware file.
pub const HARDWARE_TOML: &str = include_str!("../data/hardware.toml");
/// The built-in model file.
pub const MODELS_TOML: &str = include_str!("../data/models.toml");

/// Devices and models known by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    /// Devices, in file order.
    pub hardware: Vec<Hardware>,
    /// Models, in file order.
    pub models: Vec<Model>,
}

/// The shape of a catalog file: either or both tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[serde(default)]
    hardware: Vec<Hardware>,
    #[serde(default)]
    model: Vec<Model>,
}

impl Catalog {
    /// The catalog shipped with tokenpace.
    pub fn builtin() -> Catalog {
        let mut c = Catalog::default();
        // The built-in files are checked by the tests below; a broken one
        // is a build defect, not a user error.
        c.add_toml(HARDWARE_TOML)
            .expect("built-in hardware catalog is valid");
        c.add_toml(MODELS_TOML)
            .expect("built-in model catalog is valid");
        c
    }

    /// Adds the entries of a catalog file (`[[hardware]]` and/or
    /// `[[model]]` tables); an entry with an existing id replaces it.
    pub fn add_toml(&mut self, text: &str) -> Result<(), PlanError> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| PlanError::Syntax(e.to_string()))?;
        if file.hardware.is_empty() && file.model.is_empty() {
            return Err(PlanError::Syntax(
                "the catalog file has no [[hardware]] or [[model]] entries (see docs/plan.md for the format)".into(),
            ));
        }
        for h in file.hardware {
            h.validate()?;
            self.add_hardware(h);
        }
        for m in file.model {
            m.validate()?;
            self.add_model(m);
        }
        Ok(())
    }

    /// Adds a device, replacing one with the same id.
    pub fn add_hardware(&mut self, h: Hardware) {
        match self.hardware.iter_mut().find(|x| x.id == h.id) {
            Some(slot) => *slot = h,
            None => self.hardware.push(h),
        }
    }

    /// Adds a model, replacing one with the same id.
    pub fn add_model(&mut self, m: Model) {
        match self.models.iter_mut().find(|x| x.id == m.id) {
            Some(slot) => *slot = m,
            None => self.models.push(m),
        }
    }

    /// The device `name` (an id, compared ignoring case and punctuation),
    /// or an error suggesting the closest ids.
    pub fn hardware(&self, name: &str) -> Result<&Hardware, PlanError> {
        find(&self.hardware, name, |h| &h.id, "hardware")
    }

    /// The model `name`, or an error suggesting the closest ids.
    pub fn model(&self, name: &str) -> Result<&Model, PlanError> {
        find(&self.models, name, |m| &m.id, "model")
    }
}

fn find<'a, T>(
    items: &'a [T],
    name: &str,
    id: impl Fn(&T) -> &String,
    kind: &'static str,
) -> Result<&'a T, PlanError> {
    let n = normalise(name);
    items
        .iter()
        .find(|x| normalise(id(x)) == n)
        .ok_or_else(|| PlanError::Unknown {
            kind,
            given: name.to_string(),
            suggestions: closest(name, items.iter().map(|x| id(x).as_str()), 3),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_the_required_entries_each_with_a_source() {
        let c = Catalog::builtin();
        for id in [
            "h100-sxm",
            "h200-sxm",
            "a100-80gb",
            "l40s",
            "l4",
            "rtx-4090",
            "rtx-3090",
            "a10",
            "apple-m2-max",
            "ascend-910b",
            "ryzen-9-7950x",
            "epyc-9654",
        ] {
            assert!(c.hardware(id).is_ok(), "{id}");
        }
        for id in [
            "qwen2.5-7b",
            "qwen2.5-14b",
            "qwen2.5-32b",
            "qwen2.5-72b",
            "qwen3-30b-a3b",
            "llama-3.1-8b",
            "llama-3.1-70b",
            "deepseek-v3",
            "smollm2-135m",
        ] {
            assert!(c.model(id).is_ok(), "{id}");
        }
        assert!(c.hardware.iter().all(|h| h.source.len() > 20));
        assert!(c.models.iter().all(|m| m.source.len() > 20));
    }

    #[test]
    fn lookup_ignores_case_and_punctuation_and_suggests() {
        let c = Catalog::builtin();
        assert_eq!(c.hardware("RTX4090").unwrap().id, "rtx-4090");
        assert_eq!(c.model("Qwen2.5 7B").unwrap().id, "qwen2.5-7b");
        let err = c.hardware("rtx-4080").unwrap_err().to_string();
        assert!(err.contains("unknown hardware 'rtx-4080'"), "{err}");
        assert!(err.contains("did you mean rtx-4090"), "{err}");
        let err = c.model("qwen-7b").unwrap_err().to_string();
        assert!(err.contains("qwen2.5-7b"), "{err}");
    }

    #[test]
    fn user_files_add_and_replace_entries() {
        let mut c = Catalog::builtin();
        let n = c.hardware.len();
        c.add_toml(
            r#"
[[hardware]]
id = "my-card"
name = "My card"
kind = "gpu"
fp16_tflops = 100
memory_bandwidth_gb_s = 500
memory_gb = 16
source = "measured in our lab, 2026"

[[hardware]]
id = "l4"
name = "NVIDIA L4, overclocked"
kind = "gpu"
fp16_tflops = 130
memory_bandwidth_gb_s = 320
memory_gb = 24
source = "our own measurement of an L4"
"#,
        )
        .unwrap();
        assert_eq!(c.hardware.len(), n + 1);
        assert_eq!(c.hardware("l4").unwrap().fp16_tflops, 130.0);
        assert!(c.hardware("my-card").is_ok());
    }

    #[test]
    fn bad_user_files_say_why() {
        let mut c = Catalog::default();
        let err = c
            .add_toml("[[hardware]]\nid = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing field"), "{err}");
        let err = c
            .add_toml("[[hardware]]\nid = \"x\"\nname = \"x\"\nkind = \"gpu\"\nfp16_tflops = -1\nmemory_bandwidth_gb_s = 1\nmemory_gb = 1\nsource = \"a datasheet\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fp16_tflops"), "{err}");
        let err = c.add_toml("title = 1\n").unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{err}");
        let err = c.add_toml("").unwrap_err().to_string();
        assert!(err.contains("no [[hardware]]"), "{err}");
    }
}

//! Checking that a file is a whole, readable GGUF model, and what it holds.

use anyhow::{bail, Context};
use std::path::Path;
use tokenpace_core::gguf::{read_metadata, Value};

/// What a GGUF file's header says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
// Fields in alphabetical order: the order of the keys `tokenpace models
// --format json` has always printed.
pub struct GgufInfo {
    /// `general.architecture` (llama, gemma3, qwen2, …).
    pub architecture: String,
    /// File size in bytes.
    pub bytes: u64,
    /// `general.file_type` (the quantisation, as llama.cpp numbers it).
    pub file_type: Option<u64>,
    /// `general.name`, if set.
    pub name: Option<String>,
}

/// Reads and checks the header of the GGUF file at `path`.
pub fn inspect(path: &Path) -> anyhow::Result<GgufInfo> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open '{}'", path.display()))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let kv = read_metadata(std::io::BufReader::new(file)).map_err(|e| {
        anyhow::anyhow!(
            "'{}' is not a whole GGUF model ({e}): the file is corrupt or truncated; delete it and fetch it again",
            path.display()
        )
    })?;
    let text = |k: &str| match kv.get(k) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let Some(architecture) = text("general.architecture") else {
        bail!(
            "'{}' has no general.architecture: not a model GGUF file",
            path.display()
        );
    };
    Ok(GgufInfo {
        architecture,
        name: text("general.name"),
        file_type: kv.get("general.file_type").and_then(Value::as_u64),
        bytes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A GGUF v3 header with string metadata and no tensors.
    pub(crate) fn gguf_bytes(kv: &[(&str, &str)]) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend((kv.len() as u64).to_le_bytes());
        for (k, v) in kv {
            b.extend((k.len() as u64).to_le_bytes());
            b.extend(k.as_bytes());
            b.extend(8u32.to_le_bytes()); // string
            b.extend((v.len() as u64).to_le_bytes());
            b.extend(v.as_bytes());
        }
        b
    }

    #[test]
    fn reads_a_header_and_rejects_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        let bytes = gguf_bytes(&[("general.architecture", "llama"), ("general.name", "Tiny")]);
        std::fs::write(&path, &bytes).unwrap();
        let info = inspect(&path).unwrap();
        assert_eq!(
            (info.architecture.as_str(), info.name.as_deref()),
            ("llama", Some("Tiny"))
        );
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = inspect(&path).unwrap_err().to_string();
        assert!(err.contains("corrupt or truncated"), "{err}");
        std::fs::write(&path, b"PK\x03\x04 not gguf").unwrap();
        assert!(inspect(&path).is_err());
    }
}

//! The metadata header of a GGUF model file.
//!
//! A GGUF file starts with the magic `GGUF`, a version (2 or 3), the tensor
//! count and the number of metadata key/values (u64 each), then the
//! key/values: a string key (u64 length + UTF-8), a u32 value type and the
//! value. Only this header is read, from any reader; the tensors that follow
//! are not. Used by the planner (a model's shape) and the model cache (is
//! this a whole model, and which).

use std::collections::BTreeMap;
use std::io::Read;

/// A metadata value (arrays keep only their length and element type: the
/// tokenizer's vocabulary is long and not needed).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Any integer type, widened.
    Int(i128),
    /// f32 or f64.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
    /// An array: its element type and length.
    Array {
        /// Element type code.
        element_type: u32,
        /// Number of elements.
        len: u64,
    },
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }
}

/// Longest string or key accepted (a longer one means a corrupt file).
const MAX_STRING: u64 = 1 << 24;
/// Most key/values accepted.
const MAX_KV: u64 = 1 << 20;

/// A GGUF header that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable GGUF header: {0}")]
pub struct GgufError(pub String);

fn err(msg: impl Into<String>) -> GgufError {
    GgufError(msg.into())
}

struct Reader<R> {
    r: R,
}

impl<R: Read> Reader<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0u8; N];
        self.r
            .read_exact(&mut b)
            .map_err(|e| err(format!("the file ends inside the header ({e})")))?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn string(&mut self) -> Result<String, GgufError> {
        let len = self.u64()?;
        if len > MAX_STRING {
            return Err(err(format!("a string of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| err(format!("the file ends inside a string ({e})")))?;
        String::from_utf8(buf).map_err(|_| err("a string is not UTF-8"))
    }
    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        let copied = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink())
            .map_err(|e| err(e.to_string()))?;
        if copied != n {
            return Err(err("the file ends inside an array"));
        }
        Ok(())
    }
    fn value(&mut self, t: u32, depth: u32) -> Result<Value, GgufError> {
        Ok(match t {
            0 => Value::Int(i128::from(self.bytes::<1>()?[0])),
            1 => Value::Int(i128::from(i8::from_le_bytes(self.bytes()?))),
            2 => Value::Int(i128::from(u16::from_le_bytes(self.bytes()?))),
            3 => Value::Int(i128::from(i16::from_le_bytes(self.bytes()?))),
            4 => Value::Int(i128::from(self.u32()?)),
            5 => Value::Int(i128::from(i32::from_le_bytes(self.bytes()?))),
            6 => Value::Float(f64::from(f32::from_le_bytes(self.bytes()?))),
            7 => Value::Bool(self.bytes::<1>()?[0] != 0),
            8 => Value::Str(self.string()?),
            9 => {
                if depth > 2 {
                    return Err(err("arrays nested too deeply"));
                }
                let element_type = self.u32()?;
                let len = self.u64()?;
                match fixed_size(element_type) {
                    Some(size) => self.skip(len.saturating_mul(size))?,
                    None => {
                        for _ in 0..len {
                            self.value(element_type, depth + 1)?;
                        }
                    }
                }
                Value::Array { element_type, len }
            }
            10 => Value::Int(i128::from(self.u64()?)),
            11 => Value::Int(i128::from(i64::from_le_bytes(self.bytes()?))),
            12 => Value::Float(f64::from_le_bytes(self.bytes()?)),
            other => return Err(err(format!("unknown value type {other}"))),
        })
    }
}

fn fixed_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

/// Reads the metadata key/values of a GGUF header, leaving the reader just
/// after them.
pub fn read_metadata(r: impl Read) -> Result<BTreeMap<String, Value>, GgufError> {
    let mut r = Reader { r };
    if &r.bytes::<4>()? != b"GGUF" {
        return Err(err("it does not start with 'GGUF'"));
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(err(format!("version {version} (2 and 3 are supported)")));
    }
    let _tensors = r.u64()?;
    let n = r.u64()?;
    if n > MAX_KV {
        return Err(err(format!("{n} metadata entries")));
    }
    let mut kv = BTreeMap::new();
    for _ in 0..n {
        let key = r.string()?;
        let t = r.u32()?;
        let v = r.value(t, 0)?;
        kv.insert(key, v);
    }
    Ok(kv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        for (k, t, v) in [
            ("general.architecture", 8u32, b"llama".to_vec()),
            ("llama.block_count", 4, 30u32.to_le_bytes().to_vec()),
        ] {
            b.extend((k.len() as u64).to_le_bytes());
            b.extend(k.as_bytes());
            b.extend(t.to_le_bytes());
            if t == 8 {
                b.extend((v.len() as u64).to_le_bytes());
            }
            b.extend(v);
        }
        b
    }

    #[test]
    fn reads_keys_and_rejects_every_truncation() {
        let h = header();
        let kv = read_metadata(&h[..]).unwrap();
        assert_eq!(kv["general.architecture"], Value::Str("llama".into()));
        assert_eq!(kv["llama.block_count"].as_u64(), Some(30));
        for cut in 0..h.len() {
            assert!(read_metadata(&h[..cut]).is_err(), "cut at {cut}");
        }
        assert!(read_metadata(&b"GGML...."[..])
            .unwrap_err()
            .to_string()
            .contains("GGUF"));
    }
}

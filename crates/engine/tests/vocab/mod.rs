//! The model's vocabulary read straight from the GGUF file, without
//! llama.cpp: token counts the tests can check the engine against that do
//! not come from the engine's own tokenizer.

use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::Path;

/// The GGUF's `tokenizer.ggml.*` facts.
pub struct Vocab {
    /// Token text → id (`tokenizer.ggml.tokens`).
    pub ids: HashMap<String, u32>,
    /// Whether the tokenizer puts a BOS token first.
    pub add_bos: bool,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos: Option<u32>,
}

fn bytes<const N: usize>(r: &mut impl Read) -> [u8; N] {
    let mut b = [0; N];
    r.read_exact(&mut b).expect("a whole GGUF header");
    b
}

fn string(r: &mut impl Read) -> String {
    let len = u64::from_le_bytes(bytes(r)) as usize;
    let mut b = vec![0; len];
    r.read_exact(&mut b).expect("a whole GGUF string");
    String::from_utf8(b).expect("UTF-8 in the GGUF header")
}

/// A scalar of GGUF type `ty`, as an integer when it is one (0 otherwise).
fn scalar(r: &mut impl Read, ty: u32) -> u64 {
    match ty {
        0 | 1 | 7 => u64::from(bytes::<1>(r)[0]),
        2 | 3 => u64::from(u16::from_le_bytes(bytes(r))),
        4 | 5 => u64::from(u32::from_le_bytes(bytes(r))),
        6 => {
            bytes::<4>(r);
            0
        }
        10 | 11 => u64::from_le_bytes(bytes(r)),
        12 => {
            bytes::<8>(r);
            0
        }
        8 => {
            string(r);
            0
        }
        _ => panic!("GGUF value type {ty} unknown"),
    }
}

/// Reads the vocabulary of the GGUF file at `path`.
pub fn read(path: &Path) -> Vocab {
    let mut r = BufReader::new(std::fs::File::open(path).expect("the model opens"));
    assert_eq!(&bytes::<4>(&mut r), b"GGUF");
    let _version = u32::from_le_bytes(bytes(&mut r));
    let _tensors = u64::from_le_bytes(bytes(&mut r));
    let n_kv = u64::from_le_bytes(bytes(&mut r));
    let mut vocab = Vocab {
        ids: HashMap::new(),
        add_bos: false,
        bos: None,
    };
    for _ in 0..n_kv {
        let key = string(&mut r);
        let ty = u32::from_le_bytes(bytes(&mut r));
        if ty != 9 {
            let v = scalar(&mut r, ty);
            match key.as_str() {
                "tokenizer.ggml.add_bos_token" => vocab.add_bos = v != 0,
                "tokenizer.ggml.bos_token_id" => vocab.bos = u32::try_from(v).ok(),
                _ => {}
            }
            continue;
        }
        let elem = u32::from_le_bytes(bytes(&mut r));
        let len = u64::from_le_bytes(bytes(&mut r));
        for i in 0..len {
            if key == "tokenizer.ggml.tokens" {
                vocab.ids.insert(string(&mut r), i as u32);
            } else {
                scalar(&mut r, elem);
            }
        }
    }
    assert!(
        !vocab.ids.is_empty(),
        "the GGUF has no tokenizer.ggml.tokens"
    );
    vocab
}

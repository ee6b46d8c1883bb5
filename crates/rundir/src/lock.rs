//! One run at a time in a directory: a run holds `DIR/.tokenpace.lock`
//! (created exclusively, holding its pid and host) while it writes, and
//! removes it when it ends. A second run into the same `--out` fails at
//! once, naming the first; a lock left by a process that is no longer
//! running (a run killed outright) is taken over, and said so.

use crate::{RunDir, RunDirError, LOCK};
use std::io::Write;
use std::path::PathBuf;

/// The process that holds (or held) a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// Its host name (empty when the lock did not say).
    pub host: String,
}

/// A run directory held by this process; the lock file is removed when
/// this is dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// The directory, when locking created it: removed again if the
    /// command left it empty (it failed before writing anything).
    created: Option<PathBuf>,
    /// The process whose stale lock this one replaced, if any: the command
    /// says so.
    pub took_over: Option<Holder>,
}

impl RunDir {
    /// Creates the directory and locks it for this process: an error
    /// naming the running process when another run holds it; a lock whose
    /// process on this host is gone is taken over ([`Lock::took_over`]).
    pub fn lock(&self) -> Result<Lock, RunDirError> {
        let created = (!self.path().is_dir()).then(|| self.path().to_path_buf());
        self.create()?;
        let path = self.path().join(LOCK);
        let mut took_over = None;
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let text = format!("{} {}\n", std::process::id(), host());
                    file.write_all(text.as_bytes())
                        .map_err(|e| RunDirError::Write(path.clone(), e))?;
                    return Ok(Lock {
                        path,
                        created,
                        took_over,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(RunDirError::Write(path, e)),
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = parse(&text);
            match &holder {
                // Taken over once: a second stale lock means another run is
                // taking it over too, so leave it to that one.
                Some(h) if took_over.is_none() && stale(h) => {
                    // Unless another run replaced it since it was read.
                    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
                        let _ = std::fs::remove_file(&path);
                    }
                    took_over = holder;
                }
                _ => {
                    return Err(RunDirError::Locked {
                        dir: self.path().to_path_buf(),
                        lock: path,
                        holder: holder
                            .map_or_else(|| "an unknown process".to_string(), |h| describe(&h)),
                    })
                }
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Only our own lock: never one another run took over meanwhile.
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| parse(&t))
            .is_some_and(|h| h.pid == std::process::id());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(dir) = &self.created {
            // Fails, as it should, unless the directory is empty.
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// `pid host` (the host may be missing).
fn parse(text: &str) -> Option<Holder> {
    let mut words = text.split_whitespace();
    let pid = words.next()?.parse().ok().filter(|&p| p > 0)?;
    Some(Holder {
        pid,
        host: words.next().unwrap_or_default().to_string(),
    })
}

/// "process 4242 on host-a".
pub fn describe(h: &Holder) -> String {
    if h.host.is_empty() {
        format!("process {}", h.pid)
    } else {
        format!("process {} on {}", h.pid, h.host)
    }
}

/// Whether the holder is a process of this host that is no longer
/// running. A process of another host (a directory shared over the
/// network) cannot be checked, so it is never stale.
fn stale(h: &Holder) -> bool {
    (h.host.is_empty() || h.host == host()) && !running(h.pid)
}

#[cfg(unix)]
fn running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn running(_pid: u32) -> bool {
    true
}

/// This host's name, or empty when it cannot be read.
#[cfg(unix)]
fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end])
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(not(unix))]
fn host() -> String {
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_naming_the_first_and_a_stale_one_is_taken_over() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("run"));
        let lock = dir.lock().unwrap();
        assert_eq!(lock.took_over, None);
        let e = dir.lock().unwrap_err().to_string();
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        assert!(
            e.contains(&format!(
                "another {};",
                tokenpace_core::setting::Setting::Out
            )) && e.contains(LOCK),
            "{e}"
        );
        drop(lock);
        // Nothing was written: the directory locking made is gone again.
        assert!(!dir.path().exists());
        dir.create().unwrap();
        // No process has pid i32::MAX: the lock is stale.
        std::fs::write(dir.path().join(LOCK), format!("{}\n", i32::MAX)).unwrap();
        let lock = dir.lock().unwrap();
        assert_eq!(
            lock.took_over.as_ref().map(|h| h.pid),
            Some(i32::MAX as u32)
        );
        // Another host's lock cannot be checked: it holds.
        drop(lock);
        std::fs::write(dir.path().join(LOCK), "1 elsewhere-host\n").unwrap();
        let e = dir.lock().unwrap_err().to_string();
        assert!(e.contains("process 1 on elsewhere-host"), "{e}");
    }
}

//! What the bench binaries share: the simulator as a process of its own,
//! and this process's CPU.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `tokenpace sim --port 0 args…` started, and the URL it printed on its
/// first line.
pub fn start_sim<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Child, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["sim", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tokenpace sim");
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    (sim, url)
}

/// User + system CPU seconds of this process, to the microsecond.
pub fn cpu_time() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    s(u.ru_utime) + s(u.ru_stime)
}

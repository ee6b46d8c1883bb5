//! `tokenpace sim` as a separate process on a loopback port, as a user runs
//! it beside `bench`.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running simulator, ended when dropped.
pub struct Sim {
    child: Child,
    /// Kept open so that later lines do not meet a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl Sim {
    /// Starts `tokenpace sim` (the binary under test) with `args` on a
    /// free loopback port.
    pub fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
            .args(["sim", "--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("tokenpace sim starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        stdout.read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("tokenpace sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line of tokenpace sim: {line:?}"))
            .to_string();
        Sim {
            child,
            _stdout: stdout,
            url,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

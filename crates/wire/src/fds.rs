//! Room in this process's file-descriptor table for a burst of connections,
//! made before the burst.
//!
//! The kernel grows a process's descriptor table by doubling it when a new
//! descriptor does not fit. In a process with several threads each growth
//! waits for an RCU grace period before the old table can go (5–17 ms on a
//! 2-vCPU VM), and meanwhile every thread that opens a socket waits with
//! it: a cold burst of 1000 connections stalled twice that way, between the
//! 256th and the 1024th. Growing the table once, up front, moves that wait
//! before the clock starts. The table never shrinks, so later bursts of the
//! same size cost nothing.

/// Makes room for `more` descriptors beyond those open now: raises the soft
/// limit on open files toward the hard one when it is lower than that, then
/// grows the table to hold them. Returns how many descriptors the process
/// may have open afterwards (the soft limit), when the OS says.
pub fn reserve(more: usize) -> Option<u64> {
    sys::reserve(more as u64)
}

#[cfg(unix)]
mod sys {
    use std::os::fd::AsRawFd;

    pub fn reserve(more: u64) -> Option<u64> {
        // The lowest free descriptor: about how many are open now.
        let probe = std::fs::File::open("/dev/null").ok()?;
        let fd = probe.as_raw_fd();
        let want = u64::try_from(fd).ok()? + more + 16;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit fills the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        if limit.rlim_cur < want && limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: want.min(limit.rlim_max),
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit reads the struct it is given; on failure
            // (an OS that caps it lower) the old limit stands.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit = raised;
            }
        }
        let top = want.min(limit.rlim_cur).saturating_sub(1);
        let top = libc::c_int::try_from(top).ok()?;
        if top > fd {
            // A copy of the probe at the highest descriptor wanted makes the
            // kernel grow the table to hold it; closing it leaves the room.
            // SAFETY: `fd` is open (the probe lives until the end of this
            // function); F_DUPFD_CLOEXEC returns a new descriptor or -1.
            let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, top) };
            if copy >= 0 {
                // SAFETY: `copy` was just returned to us and nothing else
                // holds it.
                unsafe { libc::close(copy) };
            }
        }
        Some(limit.rlim_cur)
    }
}

#[cfg(not(unix))]
mod sys {
    pub fn reserve(_: u64) -> Option<u64> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The table's size as the kernel reports it.
    fn table_size() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("FDSize:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The table holds the descriptors reserved, at once: no socket opened
    /// afterwards makes the kernel grow it.
    #[test]
    fn reserving_grows_the_table_to_hold_what_was_asked() {
        let more = table_size() + 700;
        let limit = reserve(more as usize).expect("the OS reports its limit");
        let open_now = {
            use std::os::fd::AsRawFd;
            std::fs::File::open("/dev/null").unwrap().as_raw_fd() as u64
        };
        let expected = (open_now + more).min(limit);
        assert!(
            table_size() >= expected,
            "table {} < {expected} (limit {limit})",
            table_size()
        );
    }
}

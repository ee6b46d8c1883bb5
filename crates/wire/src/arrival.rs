//! When bytes reached this host, rather than when the program got round to
//! reading them: used by the client to date each chunk of a stream and by
//! the simulator to date each request in its ground truth.
//!
//! On Linux the kernel stamps every TCP segment as it arrives once a socket
//! asks for it (`SO_TIMESTAMPNS`), and `recvmsg` returns the stamp of the
//! last segment it read beside the data. A program that is busy (a thousand
//! chunks due in the same millisecond, client and server sharing two cores)
//! then still dates each read by its arrival, not by its own delay. Where
//! the stamp is missing (another OS, an old kernel) the read is dated when
//! it returns.
//!
//! The kernel's stamps are wall-clock time; they are turned into monotonic
//! [`Instant`]s through an anchor pair of the two clocks read back to back
//! (see [`to_instant`]), not by reading both clocks again at each read: a
//! thread preempted between those two readings would date the bytes late by
//! however long it waited, and on two shared cores that is a millisecond
//! now and then.

use std::cell::Cell;
use std::io;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Stamps older than this are not believed (a clock step, a stale segment):
/// the read is dated when it returned.
const MAX_AGE: Duration = Duration::from_secs(10);

/// Asks the kernel to stamp the arrival of `stream`'s segments. False when
/// it cannot (the reads are then dated when they return).
pub fn enable(stream: &TcpStream) -> bool {
    sys::enable(stream)
}

/// Turns the kernel's stamping on ahead of the first connection: the first
/// socket to ask switches it on in the background (Linux defers it to a
/// work queue), so segments of a cold burst's first requests would arrive
/// unstamped. One idle UDP socket holds it on for the life of the process.
pub fn arm() {
    static ARMED: std::sync::OnceLock<Option<std::net::UdpSocket>> = std::sync::OnceLock::new();
    ARMED.get_or_init(|| {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
        sys::enable(&socket).then_some(socket)
    });
}

/// Reads what `stream` has into `buf`'s spare capacity (reserve first),
/// waiting until something arrives: the bytes read (0 at the end of the
/// stream) and, when the kernel stamped them, when the last of them
/// arrived.
pub async fn read(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<(usize, Option<Instant>)> {
    loop {
        // The stream's one reader slot, not `readable()`: that future joins
        // a list of waiters, walked under a lock at every wake-up (a
        // profile at 1000 streams: 2.5 % of the client's CPU in tokio's
        // wake-up, 0.2 % with the slot).
        std::future::poll_fn(|cx| stream.poll_read_ready(cx)).await?;
        let asked = buf.capacity() - buf.len();
        let mut short = None;
        let result = stream.try_io(Interest::READABLE, || {
            let (n, stamp) = sys::recv(stream, buf)?;
            if n > 0 && n < asked {
                // A short read emptied the socket. Saying "would block"
                // makes tokio forget the readiness now (as its own reads
                // do after a short read), so the next read waits for new
                // bytes instead of first paying a system call that finds
                // none; the bytes are handed over beside it. A segment that
                // arrived meanwhile has raised a new readiness event, which
                // tokio keeps.
                short = Some((n, stamp));
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok((n, stamp))
        });
        let (n, stamp) = match (result, short) {
            (_, Some(read)) | (Ok(read), None) => read,
            (Err(e), None) if e.kind() == io::ErrorKind::WouldBlock => continue,
            (Err(e), None) => return Err(e),
        };
        return Ok((n, stamp.and_then(to_instant)));
    }
}

/// How often a thread reads the two clocks afresh: a step of the wall
/// clock (an operator, an NTP step) moves the anchor, and is followed
/// within this long. Between steps the two clocks run at one rate (the
/// kernel slews both alike), so an anchor stays exact.
const ANCHOR_FOR: Duration = Duration::from_secs(1);

/// Tries at reading the pair; the closest-spaced is kept.
const ANCHOR_TRIES: usize = 5;

thread_local! {
    /// This thread's anchor: an instant and the wall-clock time at that
    /// instant (renewed [`ANCHOR_FOR`] after it).
    static ANCHOR: Cell<Option<(Instant, SystemTime)>> = const { Cell::new(None) };
}

/// The monotonic instant of the kernel's wall-clock `stamp`: `None` when it
/// is not believable (over ten seconds old: a clock step, a stale segment);
/// one past now (the anchor's own error) is now.
pub fn to_instant(stamp: SystemTime) -> Option<Instant> {
    let now = Instant::now();
    let (at, wall) = match ANCHOR.with(Cell::get) {
        Some((at, wall)) if now.duration_since(at) < ANCHOR_FOR => (at, wall),
        _ => {
            let anchor = read_anchor();
            ANCHOR.with(|a| a.set(Some(anchor)));
            anchor
        }
    };
    let instant = match stamp.duration_since(wall) {
        Ok(after) => at.checked_add(after)?,
        Err(before) => at.checked_sub(before.duration())?,
    };
    // An anchor a few hundred nanoseconds off can put a stamp taken just
    // now a hair past now; never later than the read that returned it.
    let instant = instant.min(now);
    (now.duration_since(instant) <= MAX_AGE).then_some(instant)
}

/// The two clocks read back to back, in the tightest of a few tries: the
/// wall-clock reading is paired with the midpoint of the two monotonic
/// readings around it, so a try the thread was preempted in is dropped.
fn read_anchor() -> (Instant, SystemTime) {
    let try_once = || {
        let before = Instant::now();
        let wall = SystemTime::now();
        let spread = before.elapsed();
        (spread, before + spread / 2, wall)
    };
    let mut best = try_once();
    for _ in 1..ANCHOR_TRIES {
        let next = try_once();
        if next.0 < best.0 {
            best = next;
        }
    }
    (best.1, best.2)
}

#[cfg(target_os = "linux")]
mod sys {
    use std::io;
    use std::mem::{size_of, size_of_val, zeroed};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, SystemTime};
    use tokio::net::TcpStream;

    pub fn enable(socket: &impl AsRawFd) -> bool {
        let on: libc::c_int = 1;
        // SAFETY: the descriptor is an open socket `socket` owns for the
        // call; the option's value is a c_int that outlives the call.
        let r = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                std::ptr::from_ref(&on).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        r == 0
    }

    pub fn recv(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<(usize, Option<SystemTime>)> {
        let spare = buf.spare_capacity_mut();
        let mut iov = libc::iovec {
            iov_base: spare.as_mut_ptr().cast(),
            iov_len: spare.len(),
        };
        // Room for a few control messages; u64s keep it aligned for cmsghdr.
        let mut control = [0u64; 16];
        // SAFETY: an all-zero msghdr is valid (no name, no buffers).
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control) as _;
        // SAFETY: `msg` points at `iov` (the Vec's spare capacity, which
        // the kernel may fill up to its length) and at `control`; all
        // outlive the call.
        let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        // SAFETY: the kernel wrote `n` initialised bytes into the spare
        // capacity, right after the current length.
        unsafe { buf.set_len(buf.len() + n) };
        let mut stamp = None;
        // SAFETY: the control buffer was set up above and `msg_controllen`
        // is what the kernel filled; the CMSG macros stay inside it, and the
        // timespec is read unaligned from a message of its own type.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                let h = &*cmsg;
                if h.cmsg_level == libc::SOL_SOCKET && h.cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    if let (Ok(s), Ok(ns)) = (u64::try_from(ts.tv_sec), u32::try_from(ts.tv_nsec)) {
                        stamp = SystemTime::UNIX_EPOCH.checked_add(Duration::new(s, ns));
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok((n, stamp))
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use std::io;
    use std::time::SystemTime;
    use tokio::net::TcpStream;

    pub fn enable<T>(_: &T) -> bool {
        false
    }

    pub fn recv(stream: &TcpStream, buf: &mut Vec<u8>) -> io::Result<(usize, Option<SystemTime>)> {
        Ok((stream.try_read_buf(buf)?, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Bytes written, left unread for 50 ms, then read: the kernel's stamp
    /// dates them at least 40 ms back, where the read's return does not.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_late_read_is_dated_when_its_bytes_arrived() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        assert!(enable(&client));
        let (mut server, _) = listener.accept().await.unwrap();
        // Stamping is turned on in the background (see `arm`).
        tokio::time::sleep(Duration::from_millis(20)).await;
        server.write_all(b"data: 1\n\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut buf = Vec::with_capacity(64);
        let (n, at) = read(&client, &mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"data: 1\n\n");
        let age = at.expect("the kernel stamped the segment").elapsed();
        assert!(age >= Duration::from_millis(40), "{age:?}");
        assert!(age < Duration::from_secs(5), "{age:?}");
        drop(server);
    }

    /// A wall-clock stamp becomes the instant it names, to within the
    /// anchor's spread; one older than `MAX_AGE` is not believed.
    #[test]
    fn wall_clock_stamps_become_instants() {
        let ago = Duration::from_millis(20);
        let (wall, mono) = (SystemTime::now(), Instant::now());
        let at = to_instant(wall - ago).expect("a recent stamp");
        let off = mono.checked_sub(ago).unwrap();
        let diff = at.max(off).duration_since(at.min(off));
        assert!(diff < Duration::from_millis(1), "{diff:?}");
        assert!(to_instant(SystemTime::now() - MAX_AGE * 2).is_none());
        // A stamp just past now (the anchor's own error) is now.
        let ahead = to_instant(SystemTime::now() + Duration::from_micros(5)).unwrap();
        assert!(ahead <= Instant::now());
    }

    async fn within(client: &TcpStream, buf: &mut Vec<u8>) -> (usize, Option<Instant>) {
        let read = tokio::time::timeout(Duration::from_secs(5), read(client, buf));
        read.await.expect("read within 5 s").unwrap()
    }

    /// A short read forgets the socket's readiness; bytes written after it
    /// must still wake the next read, and bytes left by a full read must be
    /// read without waiting for more.
    #[tokio::test]
    async fn reads_after_a_short_or_a_full_read_see_every_later_byte() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = Vec::with_capacity(64);
        server.write_all(b"first").await.unwrap();
        let (n, _) = within(&client, &mut buf).await;
        assert_eq!(&buf[..n], b"first");
        // Short read done; the next bytes come a little later.
        let late = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            server
                .write_all(b"second, and a longer third")
                .await
                .unwrap();
            server
        });
        buf.clear();
        let (n, _) = within(&client, &mut buf).await;
        assert_eq!(&buf[..n], b"second, and a longer third");
        let mut server = late.await.unwrap();
        // A read that fills its buffer leaves the rest to the next read.
        server.write_all(b"0123456789").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut small = Vec::with_capacity(4);
        assert!(small.capacity() < 10);
        let (n, _) = within(&client, &mut small).await;
        assert_eq!(n, small.capacity());
        let mut rest = Vec::with_capacity(64);
        let (m, _) = within(&client, &mut rest).await;
        assert_eq!(n + m, 10);
        drop(server);
        let (n, _) = within(&client, &mut rest).await;
        assert_eq!(n, 0, "the end of the stream");
    }
}

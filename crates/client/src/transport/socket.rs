//! The socket calls made straight away rather than after tokio's
//! readiness: opening a connection and writing a request. Waiting for the
//! reactor would put every stream of a cold burst behind every other
//! stream's connect and write on the same thread.

use std::io;
use std::net::SocketAddr;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Connects to `addr`. A handshake that is complete when `connect`
/// returns (loopback, where the kernel answers within the call) is used at
/// once; otherwise the socket is awaited as tokio does. Waiting for the
/// reactor to report an already open socket would put every request of a
/// cold burst behind every other stream's connect on the same thread.
pub(super) async fn open(addr: SocketAddr) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    // Made non-blocking by `socket` itself where it can (two system calls
    // less per connection of a cold burst), else just after.
    let kind = Type::STREAM;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let kind = kind.nonblocking();
    let socket = Socket::new(Domain::for_address(addr), kind, Some(Protocol::TCP))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    let open_now = socket.peer_addr().is_ok();
    let stream = TcpStream::from_std(socket.into())?;
    if !open_now {
        stream.writable().await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
    }
    Ok(stream)
}

/// Writes all of `request`: as much as the socket takes at once written
/// straight away, the rest through tokio.
pub(super) async fn write_request(stream: &mut TcpStream, request: &[u8]) -> io::Result<()> {
    // Written straight away: a socket just opened has no readiness yet
    // in tokio's eyes, and waiting for the reactor to grant it would
    // queue this write behind every other stream's on the thread.
    let sent = match socket2::SockRef::from(&*stream).send_with_flags(request, SEND_FLAGS) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
        Err(e) => return Err(e),
    };
    stream.write_all(&request[sent..]).await
}

/// Flags of the direct first write: a connection the server closed is an
/// error to report, never a SIGPIPE that ends the process (tokio's own
/// writes pass the same flag).
#[cfg(target_os = "linux")]
const SEND_FLAGS: i32 = libc::MSG_NOSIGNAL;
#[cfg(not(target_os = "linux"))]
const SEND_FLAGS: i32 = 0;

/// Whether a non-blocking `connect` is under way rather than failed.
fn in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

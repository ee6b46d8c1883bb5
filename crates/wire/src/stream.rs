//! A TCP connection, in the clear or under TLS, read with the kernel's
//! arrival stamps ([`crate::arrival`]) on both sides: the client dates each
//! piece of a response by when its bytes reached the host, the simulator
//! each request, whether or not they were encrypted.
//!
//! TLS is rustls driven by hand over the socket rather than through an
//! async wrapper: the ciphertext is read with `recvmsg` (and its stamp),
//! then decrypted, so plaintext carries the arrival time of the read that
//! completed its record. Buffers are bounded: ciphertext is fed to rustls
//! only as fast as its plaintext is taken.

use crate::arrival;
use std::io::{self, Read as _, Write as _};
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Ciphertext asked of the socket per read.
const CIPHER_READ: usize = 16 * 1024;

/// A connection: the socket, and its TLS session when there is one.
#[derive(Debug)]
pub struct Stream {
    tcp: TcpStream,
    tls: Option<Box<Tls>>,
}

#[derive(Debug)]
struct Tls {
    session: rustls::Connection,
    /// Ciphertext read from the socket, from `fed` on not yet given to rustls.
    cipher: Vec<u8>,
    fed: usize,
    /// When the bytes of the newest socket read arrived.
    arrived: Instant,
    /// The peer closed the socket.
    eof: bool,
}

impl Stream {
    /// A connection in the clear.
    pub fn plain(tcp: TcpStream) -> Stream {
        Stream { tcp, tls: None }
    }

    /// A connection whose TLS `session` is still to be set up
    /// ([`Stream::handshake`]).
    pub fn tls(tcp: TcpStream, session: impl Into<rustls::Connection>) -> Stream {
        let tls = Tls {
            session: session.into(),
            cipher: Vec::new(),
            fed: 0,
            arrived: Instant::now(),
            eof: false,
        };
        Stream {
            tcp,
            tls: Some(Box::new(tls)),
        }
    }

    /// The socket.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// The socket, to write to directly ([`Stream::seal`] first under TLS).
    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }

    /// The TLS session, if any (its protocol version, ALPN, resumption).
    pub fn session(&self) -> Option<&rustls::Connection> {
        self.tls.as_ref().map(|t| &t.session)
    }

    /// Runs the TLS handshake to its end (nothing to do in the clear); the
    /// caller bounds it in time.
    pub async fn handshake(&mut self) -> io::Result<()> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        while tls.session.is_handshaking() {
            flush(&mut tls.session, &mut self.tcp).await?;
            if !tls.session.is_handshaking() {
                break;
            }
            if tls.fed == tls.cipher.len() {
                if tls.eof {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    ));
                }
                tls.read_socket(&self.tcp).await?;
            }
            tls.feed(&mut self.tcp).await?;
        }
        flush(&mut tls.session, &mut self.tcp).await
    }

    /// Reads what the peer sent into `buf`'s spare capacity (reserve
    /// first), waiting until something arrives: the bytes (0 at the end)
    /// and when the last of them reached this host, when that is known
    /// ([`arrival::read`]'s contract, under TLS too).
    pub async fn read(&mut self, buf: &mut Vec<u8>) -> io::Result<(usize, Option<Instant>)> {
        let Some(tls) = self.tls.as_mut() else {
            return arrival::read(&self.tcp, buf).await;
        };
        loop {
            if let Some(n) = tls.plaintext(buf)? {
                return Ok((n, Some(tls.arrived)));
            }
            if tls.fed < tls.cipher.len() {
                tls.feed(&mut self.tcp).await?;
            } else if tls.eof {
                return Ok((0, None));
            } else {
                tls.read_socket(&self.tcp).await?;
                if tls.eof {
                    // rustls learns of the end and says whether it was clean.
                    tls.session.read_tls(&mut &[][..])?;
                    tls.process()?;
                }
            }
        }
    }

    /// `bytes` as they go on the wire: encrypted under TLS, as they are in
    /// the clear. Write the result to [`Stream::tcp_mut`].
    pub fn seal(&mut self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(bytes.to_vec());
        };
        let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 64 + 64);
        let mut rest = bytes;
        // rustls holds a bounded amount of plaintext to send: seal in turns.
        while !rest.is_empty() || tls.session.wants_write() {
            let n = tls.session.writer().write(rest)?;
            rest = &rest[n..];
            while tls.session.wants_write() {
                tls.session.write_tls(&mut out)?;
            }
        }
        Ok(out)
    }

    /// Writes all of `bytes` (sealed under TLS).
    pub async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.tls.is_none() {
            return self.tcp.write_all(bytes).await;
        }
        let sealed = self.seal(bytes)?;
        self.tcp.write_all(&sealed).await
    }

    /// Stops writing: a TLS `close_notify`, then the socket's write half.
    pub async fn shutdown(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_mut() {
            tls.session.send_close_notify();
            flush(&mut tls.session, &mut self.tcp).await?;
        }
        self.tcp.shutdown().await
    }
}

impl Tls {
    /// Plaintext rustls holds, moved into `buf`'s spare capacity: `None`
    /// when it needs more ciphertext first, `Some(0)` at a clean end.
    fn plaintext(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        let len = buf.len();
        let room = buf.capacity() - len;
        if room == 0 {
            return Err(io::Error::other("no room to read into: reserve first"));
        }
        buf.resize(len + room, 0);
        let got = self.session.reader().read(&mut buf[len..]);
        let n = match got {
            Ok(n) => Some(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            // Closed without close_notify: many servers do; the HTTP framing
            // says whether the body was complete.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Some(0),
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        };
        buf.truncate(len + n.unwrap_or(0));
        Ok(n)
    }

    /// Reads ciphertext from the socket and notes when it arrived.
    async fn read_socket(&mut self, tcp: &TcpStream) -> io::Result<()> {
        if self.fed == self.cipher.len() {
            self.cipher.clear();
            self.fed = 0;
        }
        self.cipher.reserve(CIPHER_READ);
        let (n, at) = arrival::read(tcp, &mut self.cipher).await?;
        self.arrived = at.unwrap_or_else(Instant::now);
        self.eof = n == 0;
        Ok(())
    }

    /// Gives rustls the ciphertext in hand (as much as it takes), and
    /// sends what it has to say back (handshake messages, alerts).
    async fn feed(&mut self, tcp: &mut TcpStream) -> io::Result<()> {
        let n = self.session.read_tls(&mut &self.cipher[self.fed..])?;
        self.fed += n;
        let processed = self.process();
        flush(&mut self.session, tcp).await?;
        processed
    }

    fn process(&mut self) -> io::Result<()> {
        self.session
            .process_new_packets()
            .map(drop)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}")))
    }
}

/// Writes whatever the session has to send.
async fn flush(session: &mut rustls::Connection, tcp: &mut TcpStream) -> io::Result<()> {
    if !session.wants_write() {
        return Ok(());
    }
    let mut out = Vec::new();
    while session.wants_write() {
        session.write_tls(&mut out)?;
    }
    tcp.write_all(&out).await
}

#[cfg(test)]
mod tests;

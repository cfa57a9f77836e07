//! A connection whose writes stop making progress is dropped: a client that asks for the model and then stops
//! reading (or vanished without closing: a laptop lid shut, Wi-Fi lost) would otherwise hold one of the server's
//! connection places forever, since TCP keeps probing a zero window indefinitely. Neither hyper nor tower-http has
//! a write timeout (tower-http's body timeouts only run while hyper asks the body for more, which it stops doing
//! once the socket is full), so the socket itself carries the clock.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// The stream, failing a write with `TimedOut` once the socket has accepted nothing for `limit`. The clock starts
/// when a write first waits and stops at the next byte written, so a slow but moving download is never cut here.
pub struct StallLimit {
    io: TcpStream,
    limit: Duration,
    timer: Pin<Box<Sleep>>,
    waiting: bool,
}

impl StallLimit {
    pub fn new(io: TcpStream, limit: Duration) -> Self {
        StallLimit { io, limit, timer: Box::pin(tokio::time::sleep(limit)), waiting: false }
    }

    /// Any answer from the socket (bytes written, or an error) resets the clock; a wait starts it, and polling the
    /// timer then wakes the connection when it runs out, so hyper writes again and gets the error.
    fn watch<T>(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if written.is_ready() {
            self.waiting = false;
            return written;
        }
        if !self.waiting {
            self.waiting = true;
            self.timer.as_mut().reset(Instant::now() + self.limit);
        }
        ready!(self.timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading the response")))
    }
}

impl AsyncRead for StallLimit {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallLimit {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

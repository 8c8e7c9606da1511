//! Connections the sandbox can cut, for the "connection dropped" and "answer lost" faults.
//!
//! A response body that fails mid-stream cuts a connection only when hyper sends a body: a HEAD,
//! 204 or 304 answer has none, so the fault would reach the client as a clean "200 OK" with no
//! headers. Instead the handler marks its connection cut, and the connection's next write fails,
//! so hyper drops it before any byte of the answer leaves, whatever the method or status.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A handle on one connection: [`ConnectionCut::cut`] drops it before its next write. Handlers
/// get it as `ConnectInfo<ConnectionCut>`.
#[derive(Clone, Debug, Default)]
pub struct ConnectionCut(Arc<AtomicBool>);

impl ConnectionCut {
    pub fn cut(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_cut(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A TCP listener whose connections can be cut (see the module docs).
#[derive(Debug)]
pub struct CuttableListener(pub TcpListener);

impl Listener for CuttableListener {
    type Io = CuttableStream;
    /// The only thing the handlers need to know of a connection.
    type Addr = ConnectionCut;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, _remote) = Listener::accept(&mut self.0).await;
        let cut = ConnectionCut::default();
        (CuttableStream { inner: stream, cut: cut.clone() }, cut)
    }

    /// The listening socket itself has nothing to cut.
    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr().map(|_| ConnectionCut::default())
    }
}

impl Connected<IncomingStream<'_, CuttableListener>> for ConnectionCut {
    fn connect_info(stream: IncomingStream<'_, CuttableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP stream that fails every write once its connection is cut.
#[derive(Debug)]
pub struct CuttableStream {
    inner: TcpStream,
    cut: ConnectionCut,
}

impl CuttableStream {
    fn refuse_if_cut(&self) -> Option<io::Error> {
        self.cut
            .is_cut()
            .then(|| io::Error::new(io::ErrorKind::ConnectionReset, "sandbox fault: connection cut"))
    }
}

impl AsyncRead for CuttableStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(error) = self.refuse_if_cut() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(error) = self.refuse_if_cut() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(error) = self.refuse_if_cut() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

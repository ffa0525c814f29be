//! [`Channel`]: one connection to one node (Java `KafkaChannel` with its
//! plaintext transport layer): the non-blocking socket, its connect state,
//! the queue of frames to write and the frame being received.
//!
//! ```text
//!  open_socket ──▶ Connecting ──finish_connect()──▶ Connected
//!                      │                               │ write(): SendQueue ─▶ socket
//!                      │                               │ read():  socket ─▶ NetworkReceive ─▶ payloads
//!                      └── error ──▶ DisconnectReason ◀┘ EOF, reset, invalid frame
//! ```
//!
//! The socket is registered edge-triggered for both directions, so every
//! read goes on until `WouldBlock` and every write until the queue is empty
//! or the socket is full; `writable` remembers whether the last write filled
//! the socket, because no new writable event comes otherwise.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use mio::Token;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::disconnect::DisconnectReason;
use super::frame::Frame;
use super::receive::NetworkReceive;
use super::send::{SendQueue, WriteEnd};

/// A payload still missing at least this many bytes is read straight into
/// its buffer instead of through the shared scratch buffer: one copy fewer
/// for large responses, while small ones still arrive many per system call.
const DIRECT_READ_MIN: usize = 16 * 1024;

/// Whether a channel's TCP connection is established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelState {
    /// `connect()` was called; the handshake has not finished.
    Connecting,
    /// The connection is established.
    Connected,
}

/// One connection.
#[derive(Debug)]
pub(crate) struct Channel {
    pub(crate) token: Token,
    pub(crate) stream: TcpStream,
    state: ChannelState,
    sends: SendQueue,
    receive: NetworkReceive,
    /// The last time anything happened on the socket (idle expiry).
    pub(crate) last_active: Instant,
    /// Whether the socket may take more bytes: true after a writable event,
    /// false once a write would block.
    writable: bool,
}

impl Channel {
    /// A channel for a socket whose connect has been started.
    pub(crate) fn new(
        token: Token,
        stream: TcpStream,
        max_receive_size: usize,
        now: Instant,
    ) -> Self {
        Channel {
            token,
            stream,
            state: ChannelState::Connecting,
            sends: SendQueue::default(),
            receive: NetworkReceive::new(max_receive_size),
            last_active: now,
            writable: false,
        }
    }

    /// The connect state.
    pub(crate) fn state(&self) -> ChannelState {
        self.state
    }

    /// Queues a frame.
    pub(crate) fn push_send(&mut self, frame: Frame) {
        self.sends.push(frame);
    }

    /// Whether frames are waiting to be written.
    #[allow(dead_code)] // tests
    pub(crate) fn has_pending_sends(&self) -> bool {
        !self.sends.is_empty()
    }

    /// Whether a write now could make progress without waiting for an event.
    pub(crate) fn can_write_now(&self) -> bool {
        self.state == ChannelState::Connected && self.writable && !self.sends.is_empty()
    }

    /// Checks whether the connect has finished: `Ok(true)` once it has,
    /// `Ok(false)` while it is still in progress.
    pub(crate) fn finish_connect(&mut self) -> Result<bool, DisconnectReason> {
        // mio's recipe: a pending socket error means the connect failed;
        // otherwise the connect is done once the peer address is known.
        match self.stream.take_error() {
            Ok(Some(e)) | Err(e) => return Err(DisconnectReason::connect_failed(e)),
            Ok(None) => {}
        }
        match self.stream.peer_addr() {
            Ok(_) => {
                self.state = ChannelState::Connected;
                self.writable = true;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(DisconnectReason::connect_failed(e)),
        }
    }

    /// Notes a writable event.
    pub(crate) fn set_writable(&mut self) {
        self.writable = true;
    }

    /// Writes queued frames until done or the socket is full; returns how
    /// many frames were completed, and the reason to close if the write
    /// failed (frames completed before the failure still count).
    pub(crate) fn write(&mut self) -> (usize, Result<(), DisconnectReason>) {
        let progress = self.sends.write_to(&mut self.stream);
        let result = match progress.end {
            WriteEnd::Drained => Ok(()),
            WriteEnd::WouldBlock => {
                self.writable = false;
                Ok(())
            }
            WriteEnd::Failed(e) => Err(DisconnectReason::io(e)),
        };
        (progress.frames_completed, result)
    }

    /// Reads until the socket has no more bytes, pushing every completed
    /// payload to `out` (frames completed before an error are kept).
    pub(crate) fn read(
        &mut self,
        scratch: &mut [u8],
        out: &mut impl FnMut(Vec<u8>),
    ) -> Result<(), DisconnectReason> {
        loop {
            let direct = self.receive.remaining_payload() >= DIRECT_READ_MIN;
            let buf: &mut [u8] = if direct {
                self.receive.payload_tail()
            } else {
                scratch
            };
            let n = match self.stream.read(buf) {
                Ok(0) => {
                    return Err(DisconnectReason::Eof {
                        mid_frame: self.receive.in_progress(),
                    })
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DisconnectReason::io(e)),
            };
            if direct {
                if let Some(payload) = self.receive.advance(n) {
                    out(payload);
                }
                continue;
            }
            let mut data = &scratch[..n];
            while !data.is_empty() {
                let (used, done) = self
                    .receive
                    .feed(data)
                    .map_err(DisconnectReason::InvalidFrame)?;
                data = &data[used..];
                if let Some(payload) = done {
                    out(payload);
                }
            }
        }
    }

    /// The error the socket holds after an error event, if any.
    pub(crate) fn take_error(&self) -> Option<DisconnectReason> {
        match self.stream.take_error() {
            Ok(None) => None,
            Ok(Some(e)) | Err(e) => Some(DisconnectReason::io(e)),
        }
    }
}

/// Opens a non-blocking TCP socket and starts connecting it to `addr`, the
/// way the Java selector does: keep-alive on, Nagle off (`TCP_NODELAY`), and
/// the socket buffer sizes applied before `connect` (so that the receive
/// window scale is negotiated for them) when they are positive; -1 (and 0)
/// keep the OS defaults.
pub(crate) fn open_socket(
    addr: SocketAddr,
    send_buffer_bytes: i32,
    receive_buffer_bytes: i32,
) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    socket.set_keepalive(true)?;
    if let Ok(size) = usize::try_from(send_buffer_bytes) {
        if size > 0 {
            socket.set_send_buffer_size(size)?;
        }
    }
    if let Ok(size) = usize::try_from(receive_buffer_bytes) {
        if size > 0 {
            socket.set_recv_buffer_size(size)?;
        }
    }
    socket.set_tcp_nodelay(true)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {}
        Err(e) if connect_in_progress(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

/// Whether a non-blocking `connect` error only means "in progress".
///
/// std has no stable `ErrorKind` for `EINPROGRESS` yet, so the errno is
/// compared per platform (values from the platforms' `errno.h`); Windows
/// reports `WSAEWOULDBLOCK`, which std maps to `WouldBlock`.
fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const EINPROGRESS: Option<i32> = Some(115);
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    const EINPROGRESS: Option<i32> = Some(36);
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )))]
    const EINPROGRESS: Option<i32> = None;
    e.kind() == io::ErrorKind::WouldBlock
        || (EINPROGRESS.is_some() && e.raw_os_error() == EINPROGRESS)
}

//! [`DisconnectReason`]: why the selector closed a connection, as reported in
//! [`super::Selector::disconnected`].
//!
//! The Java selector reports only the node and a channel state; the reason
//! here lets the network client log, and fail in-flight requests with, a
//! message that says what happened (a refused connection, a peer that hung
//! up in the middle of a response, a response larger than the limit...).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::receive::FrameError;

/// Why a connection was closed by [`super::Selector::poll`].
#[derive(Debug, Clone)]
pub(crate) enum DisconnectReason {
    /// The peer refused the connection (nothing listens on the port).
    Refused,
    /// The connection could not be established for another reason
    /// (unreachable network, timeout reported by the OS, ...).
    ConnectFailed(Arc<io::Error>),
    /// The peer reset the connection (or the pipe broke while writing).
    Reset(Arc<io::Error>),
    /// The peer closed the connection (end of stream).
    Eof {
        /// Whether part of a frame had arrived: the peer closed in the middle
        /// of a response.
        mid_frame: bool,
    },
    /// The peer announced a frame size that is negative or above the limit;
    /// nothing was allocated for it.
    InvalidFrame(FrameError),
    /// No I/O happened on the connection for longer than
    /// `connections.max.idle.ms`.
    Idle {
        /// The configured limit.
        max_idle: Duration,
    },
    /// Any other I/O error on an established connection.
    Io(Arc<io::Error>),
}

impl DisconnectReason {
    /// Whether the connection was never established (Java: the channel was
    /// still in the connecting state).
    pub(crate) fn is_connect_failure(&self) -> bool {
        matches!(
            self,
            DisconnectReason::Refused | DisconnectReason::ConnectFailed(_)
        )
    }

    /// The reason for a failed connection attempt.
    pub(crate) fn connect_failed(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::ConnectionRefused {
            DisconnectReason::Refused
        } else {
            DisconnectReason::ConnectFailed(Arc::new(e))
        }
    }

    /// The reason for an I/O error on an established connection.
    pub(crate) fn io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => DisconnectReason::Reset(Arc::new(e)),
            _ => DisconnectReason::Io(Arc::new(e)),
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::Refused => f.write_str("connection refused"),
            DisconnectReason::ConnectFailed(e) => write!(f, "connection failed: {e}"),
            DisconnectReason::Reset(e) => write!(f, "connection reset by peer ({e})"),
            DisconnectReason::Eof { mid_frame: false } => f.write_str("connection closed by peer"),
            DisconnectReason::Eof { mid_frame: true } => {
                f.write_str("connection closed by peer in the middle of a frame")
            }
            DisconnectReason::InvalidFrame(e) => e.fmt(f),
            DisconnectReason::Idle { max_idle } => write!(
                f,
                "connection idle for more than {} ms (connections.max.idle.ms)",
                max_idle.as_millis()
            ),
            DisconnectReason::Io(e) => write!(f, "i/o error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_and_messages() {
        let r = DisconnectReason::connect_failed(io::ErrorKind::ConnectionRefused.into());
        assert!(matches!(r, DisconnectReason::Refused));
        assert!(r.is_connect_failure());
        assert_eq!(r.to_string(), "connection refused");
        let r = DisconnectReason::connect_failed(io::ErrorKind::TimedOut.into());
        assert!(matches!(r, DisconnectReason::ConnectFailed(_)) && r.is_connect_failure());
        let r = DisconnectReason::io(io::ErrorKind::BrokenPipe.into());
        assert!(matches!(r, DisconnectReason::Reset(_)) && !r.is_connect_failure());
        let r = DisconnectReason::io(io::Error::other("boom"));
        assert_eq!(r.to_string(), "i/o error: boom");
        let r = DisconnectReason::InvalidFrame(FrameError::TooLarge { size: 9, max: 8 });
        assert!(r.to_string().contains("frame size 9") && r.to_string().contains("limit of 8"));
        let r = DisconnectReason::Idle {
            max_idle: Duration::from_millis(1500),
        };
        assert!(r.to_string().contains("1500 ms"));
        assert!(DisconnectReason::Eof { mid_frame: true }
            .to_string()
            .contains("middle"));
    }
}

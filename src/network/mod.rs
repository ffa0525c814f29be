//! Sockets and framing (the Java `org.apache.kafka.common.network` package).
//!
//! The only module that imports `mio` (and `socket2`, for socket options std
//! and mio lack). It knows size-delimited frames, not API keys:
//!
//! * [`selector`]: [`Selector`] (connect, send, poll, close, idle expiry) and
//!   [`Wakeup`], the cross-thread handle that interrupts a blocked poll;
//! * [`channel`]: one connection (socket, connect state, queued sends, the
//!   receive in progress);
//! * [`frame`]: [`Frame`], a request's bytes as owned segments with record
//!   batches' shared buffers spliced in (written without copying them);
//! * [`receive`] and [`send`]: frame reassembly with the size limit checked
//!   before allocating, and the write queue with partial, vectored writes;
//! * [`disconnect`]: why a connection was closed.
//!
//! Plaintext TCP only: TLS and SASL would slot in as a transport layer
//! inside [`channel`].

pub(crate) mod channel;
pub(crate) mod disconnect;
pub(crate) mod frame;
pub(crate) mod receive;
pub(crate) mod selector;
pub(crate) mod send;

#[cfg(test)]
mod tests;

pub(crate) use disconnect::DisconnectReason;
pub(crate) use frame::Frame;
pub(crate) use selector::{Selector, SelectorConfig, Wakeup};

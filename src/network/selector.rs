//! [`Selector`]: non-blocking, multi-connection network I/O over `mio`
//! (Java `org.apache.kafka.common.network.Selector`), and [`Wakeup`], the
//! handle other threads use to interrupt a blocked [`Selector::poll`].
//!
//! Connections are named by node id (`i32`; bootstrap nodes are -1, -2, ...).
//! The caller queues whole size-prefixed frames with [`Selector::send`];
//! [`Selector::poll`] finishes connects, writes, reads and reassembles
//! frames, closes idle connections, and leaves its results in four lists
//! that the next `poll` clears:
//!
//! ```text
//!  connected()           nodes whose TCP connect finished
//!  completed_sends()     node + how many queued frames were fully written
//!  completed_receives()  node + payload (size prefix stripped), in arrival order
//!  disconnected()        node + DisconnectReason (the connection is gone)
//! ```
//!
//! A connection closed by [`Selector::close`] is not reported: the caller
//! knows. Nothing here knows API keys or correlation ids.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

use super::channel::{open_socket, Channel, ChannelState};
use super::disconnect::DisconnectReason;
use super::frame::Frame;
use crate::util::clock::Clock;

/// The token of the waker; connections get tokens from 1 up, never reused,
/// so an event can never be taken for a later connection to the same node.
const WAKE_TOKEN: Token = Token(0);

/// Size of the buffer small reads go through (shared by all connections:
/// reads happen one connection at a time).
const SCRATCH_LEN: usize = 64 * 1024;

/// How many readiness events one `poll` system call can return.
const EVENTS_CAPACITY: usize = 256;

/// What the selector needs from the producer configuration.
#[derive(Debug, Clone)]
pub(crate) struct SelectorConfig {
    /// The largest frame payload accepted from a peer; a larger (or
    /// negative) size prefix closes the connection before anything is
    /// allocated for it.
    pub(crate) max_receive_size: usize,
    /// `connections.max.idle.ms`: close connections with no I/O for longer
    /// than this. `None` (Java: a negative value) never closes them.
    pub(crate) connections_max_idle: Option<Duration>,
    /// `send.buffer.bytes`: `SO_SNDBUF`, -1 for the OS default.
    pub(crate) send_buffer_bytes: i32,
    /// `receive.buffer.bytes`: `SO_RCVBUF`, -1 for the OS default.
    pub(crate) receive_buffer_bytes: i32,
}

/// Wakes a [`Selector::poll`] blocked on another thread (Java
/// `Selector.wakeup`). Cheap to clone; a wakeup sent while no poll is
/// blocked makes the next poll return at once.
#[derive(Debug, Clone)]
pub(crate) struct Wakeup(Arc<WakeState>);

/// The waker and whether it was signalled since the last poll returned.
#[derive(Debug)]
struct WakeState {
    waker: Waker,
    /// Set by the first `wake` after a poll returned, cleared when the
    /// next poll returns. While set, the next poll returns at once anyway,
    /// so further wakes skip the system call (Java's `interruptTriggered`);
    /// a sender that appends for every record would otherwise make one
    /// write to the eventfd per record.
    pending: AtomicBool,
}

impl Wakeup {
    /// Wakes the selector.
    pub(crate) fn wake(&self) {
        // SeqCst here and in `poll`: whatever the caller did before (an
        // append under a deque lock) is seen by the network thread once
        // its `poll` has cleared the flag. The load first: while the flag
        // is set, callers only read its line, which the network thread
        // writes once per poll.
        // The accumulator's emptiness hints are read without their deque
        // locks: this fence and the one after the flag is cleared in
        // `poll` make sure that either this wake sees the flag cleared
        // (and writes to the waker) or the network thread's next scan sees
        // what the caller stored before calling (store-buffering is
        // forbidden between two SeqCst fences).
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.0.pending.load(Ordering::SeqCst) || self.0.pending.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Err(e) = self.0.waker.wake() {
            // Only fails if the OS cannot signal the eventfd/pipe: nothing
            // the caller could do; the poll still returns at its timeout.
            log::warn!("failed to wake the network thread: {e}");
        }
    }
}

/// Frames fully written to one node during one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompletedSend {
    /// The node.
    pub(crate) node: i32,
    /// How many frames, the oldest queued ones, were completed.
    pub(crate) frames: usize,
}

/// One frame received from a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompletedReceive {
    /// The node.
    pub(crate) node: i32,
    /// The frame's payload, without its 4-byte size prefix.
    pub(crate) payload: Vec<u8>,
}

/// A connection closed by the selector.
#[derive(Debug, Clone)]
pub(crate) struct Disconnect {
    /// The node.
    pub(crate) node: i32,
    /// Why it was closed.
    pub(crate) reason: DisconnectReason,
}

/// The results of one poll.
#[derive(Debug, Default)]
struct PollResults {
    connected: Vec<i32>,
    completed_sends: Vec<CompletedSend>,
    completed_receives: Vec<CompletedReceive>,
    disconnected: Vec<Disconnect>,
}

impl PollResults {
    fn clear(&mut self) {
        self.connected.clear();
        self.completed_sends.clear();
        self.completed_receives.clear();
        self.disconnected.clear();
    }

    fn is_empty(&self) -> bool {
        self.connected.is_empty()
            && self.completed_sends.is_empty()
            && self.completed_receives.is_empty()
            && self.disconnected.is_empty()
    }

    /// Adds completed frames, one entry per node and poll.
    fn add_sends(&mut self, node: i32, frames: usize) {
        if frames == 0 {
            return;
        }
        match self.completed_sends.iter_mut().find(|s| s.node == node) {
            Some(s) => s.frames += frames,
            None => self.completed_sends.push(CompletedSend { node, frames }),
        }
    }
}

/// Non-blocking I/O over many connections, one per node.
pub(crate) struct Selector {
    poll: Poll,
    events: Events,
    waker: Arc<WakeState>,
    config: SelectorConfig,
    clock: Arc<dyn Clock>,
    channels: HashMap<i32, Channel>,
    nodes_by_token: HashMap<Token, i32>,
    next_token: usize,
    scratch: Box<[u8]>,
    results: PollResults,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut nodes: Vec<_> = self.channels.keys().copied().collect();
        nodes.sort_unstable();
        f.debug_struct("Selector")
            .field("config", &self.config)
            .field("nodes", &nodes)
            .finish_non_exhaustive()
    }
}

impl Selector {
    /// A selector with no connections.
    pub(crate) fn new(config: SelectorConfig, clock: Arc<dyn Clock>) -> io::Result<Selector> {
        let poll = Poll::new()?;
        let waker = Arc::new(WakeState {
            waker: Waker::new(poll.registry(), WAKE_TOKEN)?,
            pending: AtomicBool::new(false),
        });
        Ok(Selector {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            waker,
            config,
            clock,
            channels: HashMap::new(),
            nodes_by_token: HashMap::new(),
            next_token: WAKE_TOKEN.0 + 1,
            scratch: vec![0; SCRATCH_LEN].into_boxed_slice(),
            results: PollResults::default(),
        })
    }

    /// A handle that wakes this selector's `poll` from any thread.
    pub(crate) fn wakeup_handle(&self) -> Wakeup {
        Wakeup(Arc::clone(&self.waker))
    }

    /// Starts a non-blocking connect to `addr` for `node`. Completion (or
    /// failure: refused, unreachable) is reported by a later `poll` in
    /// [`Self::connected`] or [`Self::disconnected`].
    ///
    /// Fails at once if the socket cannot be created or the OS rejects the
    /// connect outright, or with `AlreadyExists` if `node` already has a
    /// connection.
    pub(crate) fn connect(&mut self, node: i32, addr: SocketAddr) -> io::Result<()> {
        if self.channels.contains_key(&node) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("there is already a connection to node {node}"),
            ));
        }
        let mut stream = open_socket(
            addr,
            self.config.send_buffer_bytes,
            self.config.receive_buffer_bytes,
        )?;
        let token = Token(self.next_token);
        self.next_token += 1;
        self.poll.registry().register(
            &mut stream,
            token,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let channel = Channel::new(
            token,
            stream,
            self.config.max_receive_size,
            self.clock.now(),
        );
        self.channels.insert(node, channel);
        self.nodes_by_token.insert(token, node);
        log::debug!("connecting to node {node} at {addr}");
        Ok(())
    }

    /// Queues a whole frame (4-byte big-endian size prefix included) for
    /// `node`. Several frames may be queued; they are written in order by
    /// `poll`, also while the connect is still in progress. The frame (a
    /// `Vec<u8>` or a [`Frame`] with shared record batches) is kept as it
    /// is until written, never copied.
    ///
    /// Fails with `NotConnected` if `node` has no connection (never opened,
    /// closed, or reported in [`Self::disconnected`]).
    pub(crate) fn send(&mut self, node: i32, frame: impl Into<Frame>) -> io::Result<()> {
        let frame = frame.into();
        debug_assert!(
            frame.len() >= 4 && frame.size_prefix() == i32::try_from(frame.len() - 4).ok(),
            "frames must carry their size prefix"
        );
        match self.channels.get_mut(&node) {
            Some(channel) => {
                channel.push_send(frame);
                Ok(())
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                format!("no connection to node {node}"),
            )),
        }
    }

    /// Does the I/O that is ready, waiting at most `timeout` for some, and
    /// fills the result lists (cleared first).
    ///
    /// Writes that can proceed without waiting are done before blocking, and
    /// if they complete anything the wait is skipped. A [`Wakeup`] ends the
    /// wait early. Only a failure of the OS poll itself is an error;
    /// connection failures are reported in [`Self::disconnected`].
    pub(crate) fn poll(&mut self, timeout: Duration) -> io::Result<()> {
        self.results.clear();
        self.write_ready_channels();

        let timeout = if self.results.is_empty() {
            timeout
        } else {
            Duration::ZERO
        };
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            // A signal: handle what is there, the caller polls again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => return Err(e),
        }
        // From here on a wake writes to the waker again: the caller looks
        // at the accumulator and metadata after this poll, so it sees
        // whatever a skipped wake was for.
        self.waker.pending.swap(false, Ordering::SeqCst);
        // Pairs with the fence in `Wakeup::wake` (see there).
        std::sync::atomic::fence(Ordering::SeqCst);

        let now = self.clock.now();
        let mut closing = Vec::new();
        for event in self.events.iter() {
            if event.token() == WAKE_TOKEN {
                continue;
            }
            let Some(&node) = self.nodes_by_token.get(&event.token()) else {
                continue;
            };
            let Some(channel) = self.channels.get_mut(&node) else {
                continue;
            };
            channel.last_active = now;
            if let Err(reason) =
                handle_event(node, channel, event, &mut self.scratch, &mut self.results)
            {
                closing.push((node, reason));
            }
        }
        for (node, reason) in closing {
            self.close_with_reason(node, reason);
        }

        self.close_idle_connections(now);
        Ok(())
    }

    /// Nodes whose connect finished during the last poll.
    pub(crate) fn connected(&self) -> &[i32] {
        &self.results.connected
    }

    /// Frames fully written during the last poll, per node.
    pub(crate) fn completed_sends(&self) -> &[CompletedSend] {
        &self.results.completed_sends
    }

    /// Frames received during the last poll, in order of arrival per node.
    #[allow(dead_code)] // tests
    pub(crate) fn completed_receives(&self) -> &[CompletedReceive] {
        &self.results.completed_receives
    }

    /// Takes the frames received during the last poll (leaving the list
    /// empty), so the payloads can be moved rather than copied.
    pub(crate) fn take_completed_receives(&mut self) -> Vec<CompletedReceive> {
        std::mem::take(&mut self.results.completed_receives)
    }

    /// Connections the last poll closed, with the reason.
    pub(crate) fn disconnected(&self) -> &[Disconnect] {
        &self.results.disconnected
    }

    /// Closes `node`'s connection at once, dropping its queued frames and any
    /// partial receive. Not reported in [`Self::disconnected`]. Returns
    /// whether there was a connection.
    pub(crate) fn close(&mut self, node: i32) -> bool {
        match self.remove_channel(node) {
            Some(_) => {
                log::debug!("closed connection to node {node}");
                true
            }
            None => false,
        }
    }

    /// Whether `node` has an established connection.
    pub(crate) fn is_connected(&self, node: i32) -> bool {
        self.channels
            .get(&node)
            .is_some_and(|c| c.state() == ChannelState::Connected)
    }

    /// Whether `node` has a connection, established or still connecting.
    #[allow(dead_code)] // tests
    pub(crate) fn has_connection(&self, node: i32) -> bool {
        self.channels.contains_key(&node)
    }

    /// Whether frames queued for `node` are not yet fully written.
    #[allow(dead_code)] // tests
    pub(crate) fn has_pending_sends(&self, node: i32) -> bool {
        self.channels
            .get(&node)
            .is_some_and(Channel::has_pending_sends)
    }

    /// How many connections are open or opening.
    #[allow(dead_code)] // tests
    pub(crate) fn connection_count(&self) -> usize {
        self.channels.len()
    }

    /// The socket buffer sizes (`SO_SNDBUF`, `SO_RCVBUF`) of `node`'s socket,
    /// as the OS reports them.
    #[cfg(test)]
    pub(crate) fn socket_buffer_sizes(&self, node: i32) -> io::Result<(usize, usize)> {
        let channel = self
            .channels
            .get(&node)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let sock = socket2::SockRef::from(&channel.stream);
        Ok((sock.send_buffer_size()?, sock.recv_buffer_size()?))
    }

    /// Edge-triggered readiness gives no new writable event to a socket that
    /// was left with room, so frames queued since the last poll are written
    /// here, before waiting.
    fn write_ready_channels(&mut self) {
        let now = self.clock.now();
        let mut closing = Vec::new();
        for (&node, channel) in &mut self.channels {
            if !channel.can_write_now() {
                continue;
            }
            channel.last_active = now;
            let (frames, result) = channel.write();
            self.results.add_sends(node, frames);
            if let Err(reason) = result {
                closing.push((node, reason));
            }
        }
        for (node, reason) in closing {
            self.close_with_reason(node, reason);
        }
    }

    /// Java's idle expiry, with one difference: Java closes at most the one
    /// least recently used expired connection per poll; every expired one is
    /// closed here. A scan is as cheap as an LRU list for the few
    /// connections a producer holds.
    fn close_idle_connections(&mut self, now: Instant) {
        let Some(max_idle) = self.config.connections_max_idle else {
            return;
        };
        let expired: Vec<i32> = self
            .channels
            .iter()
            .filter(|(_, c)| now.saturating_duration_since(c.last_active) > max_idle)
            .map(|(&node, _)| node)
            .collect();
        for node in expired {
            self.close_with_reason(node, DisconnectReason::Idle { max_idle });
        }
    }

    fn close_with_reason(&mut self, node: i32, reason: DisconnectReason) {
        if self.remove_channel(node).is_some() {
            log::debug!("connection to node {node} closed: {reason}");
            self.results.disconnected.push(Disconnect { node, reason });
        }
    }

    fn remove_channel(&mut self, node: i32) -> Option<Channel> {
        let mut channel = self.channels.remove(&node)?;
        self.nodes_by_token.remove(&channel.token);
        // Deregistering can only fail if the socket was never registered or
        // is already closed; dropping the socket closes it either way.
        let _ = self.poll.registry().deregister(&mut channel.stream);
        Some(channel)
    }
}

/// Handles one readiness event of one channel: connect completion, writes,
/// then reads. Returns the reason to close the channel, if any.
fn handle_event(
    node: i32,
    channel: &mut Channel,
    event: &mio::event::Event,
    scratch: &mut [u8],
    results: &mut PollResults,
) -> Result<(), DisconnectReason> {
    if channel.state() == ChannelState::Connecting {
        if !channel.finish_connect()? {
            return Ok(());
        }
        log::debug!("connection to node {node} established");
        results.connected.push(node);
    } else if event.is_writable() {
        channel.set_writable();
    }
    if channel.can_write_now() {
        let (frames, result) = channel.write();
        results.add_sends(node, frames);
        result?;
    }
    if event.is_readable() || event.is_read_closed() || event.is_error() {
        channel.read(scratch, &mut |payload| {
            results
                .completed_receives
                .push(CompletedReceive { node, payload });
        })?;
    }
    if event.is_error() {
        if let Some(reason) = channel.take_error() {
            return Err(reason);
        }
    }
    Ok(())
}

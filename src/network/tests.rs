//! Selector tests over real loopback TCP, against small `std::net` servers
//! on their own threads.
//!
//! Nothing here asserts a timing: `poll_until` polls until the expected
//! results have arrived and fails only after a generous ceiling, which a
//! working selector never reaches.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::bounded;

use super::receive::FrameError;
use super::*;
use crate::util::clock::{Clock, MockClock, SystemClock};

fn config() -> SelectorConfig {
    SelectorConfig {
        max_receive_size: 16 << 20,
        connections_max_idle: None,
        send_buffer_bytes: -1,
        receive_buffer_bytes: -1,
    }
}

fn selector_with(config: SelectorConfig) -> Selector {
    Selector::new(config, Arc::new(SystemClock)).unwrap()
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// A server that accepts one connection and hands it to `f` on a thread.
fn serve(f: impl FnOnce(TcpStream) + Send + 'static) -> (SocketAddr, JoinHandle<()>) {
    serve_on(TcpListener::bind("127.0.0.1:0").unwrap(), f)
}

fn serve_on(
    listener: TcpListener,
    f: impl FnOnce(TcpStream) + Send + 'static,
) -> (SocketAddr, JoinHandle<()>) {
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        f(stream);
    });
    (addr, handle)
}

/// A selector connected as `node` to a peer with a small receive buffer
/// that reads nothing until `go` is sent, then hands its end to `then`:
/// with the selector's small send buffer, big frames stop part way. Also
/// returns what the selector reported so far and the peer's thread.
fn connected_to_a_stalled_peer(
    node: i32,
    then: impl FnOnce(TcpStream) + Send + 'static,
) -> (
    Selector,
    Seen,
    crossbeam_channel::Sender<()>,
    JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    socket2::SockRef::from(&listener)
        .set_recv_buffer_size(32 * 1024)
        .unwrap();
    let (go, wait) = bounded::<()>(1);
    let (addr, server) = serve_on(listener, move |s| {
        wait.recv().unwrap();
        then(s);
    });
    let mut sel = selector_with(SelectorConfig {
        send_buffer_bytes: 64 * 1024,
        ..config()
    });
    sel.connect(node, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.connected == [node]);
    (sel, seen, go, server)
}

/// Reads one frame's payload; `None` at a clean end of stream.
fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).ok()?;
    let mut payload = vec![0; usize::try_from(i32::from_be_bytes(size)).unwrap()];
    s.read_exact(&mut payload).unwrap();
    Some(payload)
}

/// Sends every frame back until the client closes.
fn echo(mut s: TcpStream) {
    while let Some(p) = read_frame(&mut s) {
        if s.write_all(&frame(&p)).is_err() {
            return;
        }
    }
}

/// Everything several polls reported.
#[derive(Debug, Default)]
struct Seen {
    connected: Vec<i32>,
    sent: Vec<(i32, usize)>,
    received: Vec<(i32, Vec<u8>)>,
    disconnected: Vec<(i32, DisconnectReason)>,
}

impl Seen {
    fn sent_to(&self, node: i32) -> usize {
        self.sent
            .iter()
            .filter(|(n, _)| *n == node)
            .map(|(_, c)| c)
            .sum()
    }

    fn received_from(&self, node: i32) -> Vec<Vec<u8>> {
        self.received
            .iter()
            .filter(|(n, _)| *n == node)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

fn collect(sel: &mut Selector, seen: &mut Seen) {
    seen.connected.extend_from_slice(sel.connected());
    seen.sent
        .extend(sel.completed_sends().iter().map(|s| (s.node, s.frames)));
    seen.disconnected.extend(
        sel.disconnected()
            .iter()
            .map(|d| (d.node, d.reason.clone())),
    );
    seen.received.extend(
        sel.take_completed_receives()
            .into_iter()
            .map(|r| (r.node, r.payload)),
    );
}

/// Polls until `done(seen)`; panics after a ceiling no working selector
/// reaches.
fn poll_until(sel: &mut Selector, seen: &mut Seen, done: impl Fn(&Seen) -> bool) {
    for _ in 0..600 {
        if done(seen) {
            return;
        }
        sel.poll(Duration::from_millis(50)).unwrap();
        collect(sel, seen);
    }
    panic!("condition not reached; seen so far: {seen:?}");
}

#[test]
fn connect_send_and_receive_echoed_frames() {
    let (addr, server) = serve(echo);
    let mut sel = selector_with(config());
    sel.connect(1, addr).unwrap();
    assert!(sel.has_connection(1) && !sel.is_connected(1));
    // Frames may be queued while the connect is in progress.
    sel.send(1, frame(b"one")).unwrap();
    sel.send(1, frame(b"")).unwrap();
    sel.send(1, frame(b"three")).unwrap();
    assert!(sel.has_pending_sends(1));
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 3);
    assert_eq!(seen.connected, vec![1]);
    assert!(sel.is_connected(1));
    assert_eq!(seen.sent_to(1), 3);
    assert!(!sel.has_pending_sends(1));
    assert_eq!(
        seen.received_from(1),
        vec![b"one".to_vec(), vec![], b"three".to_vec()]
    );
    assert!(seen.disconnected.is_empty());
    assert!(sel.close(1));
    assert!(!sel.close(1));
    server.join().unwrap();
}

#[test]
fn many_pipelined_frames_arrive_in_order() {
    let (addr, server) = serve(echo);
    let mut sel = selector_with(config());
    sel.connect(-1, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.connected == [-1]);
    let payloads: Vec<Vec<u8>> = (0..2000u32)
        .map(|i| {
            let len = (i as usize * 37) % 3000;
            (0..len).map(|j| (i as usize + j) as u8).collect()
        })
        .collect();
    for p in &payloads {
        sel.send(-1, frame(p)).unwrap();
    }
    poll_until(&mut sel, &mut seen, |s| s.received.len() == payloads.len());
    assert_eq!(seen.sent_to(-1), payloads.len());
    assert_eq!(seen.received_from(-1), payloads);
    sel.close(-1);
    server.join().unwrap();
}

#[test]
fn a_ten_megabyte_frame_is_written_in_parts_and_completed() {
    // The server's receive buffer is small and it does not read until told,
    // so the first writes must stop part way.
    let (mut sel, mut seen, go, server) = connected_to_a_stalled_peer(7, echo);
    let payload: Vec<u8> = (0..10_000_000u32).map(|i| (i % 251) as u8).collect();
    sel.send(7, frame(&payload)).unwrap();
    sel.poll(Duration::ZERO).unwrap();
    collect(&mut sel, &mut seen);
    assert!(sel.has_pending_sends(7), "10 MB cannot fit in the buffers");
    assert_eq!(seen.sent_to(7), 0);
    go.send(()).unwrap();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 1);
    assert_eq!(seen.sent_to(7), 1);
    assert!(!sel.has_pending_sends(7));
    assert!(seen.received[0].1 == payload, "echoed payload differs");
    sel.close(7);
    server.join().unwrap();
}

#[test]
fn a_frame_of_shared_batches_is_written_in_parts_and_releases_them() {
    // As above, but the payload is owned bytes around 40 shared 256 KiB
    // "batches": the writes stop part way inside them and resume exactly.
    let (mut sel, mut seen, go, server) = connected_to_a_stalled_peer(9, echo);
    let batches: Vec<Arc<Vec<u8>>> = (0..40u32)
        .map(|b| Arc::new((0..256 * 1024u32).map(|i| ((i + b) % 253) as u8).collect()))
        .collect();
    let mut f = Frame::from(vec![0; 4]);
    for (i, b) in batches.iter().enumerate() {
        f.bytes_mut().extend_from_slice(&(i as u32).to_be_bytes());
        f.push_shared(Arc::clone(b));
    }
    f.bytes_mut().extend_from_slice(b"end");
    f.patch_size_prefix().unwrap();
    let payload = f.to_vec()[4..].to_vec();
    sel.send(9, f).unwrap();
    sel.send(9, frame(b"after")).unwrap();
    sel.poll(Duration::ZERO).unwrap();
    collect(&mut sel, &mut seen);
    assert!(sel.has_pending_sends(9), "10 MB cannot fit in the buffers");
    assert!(batches.iter().all(|b| Arc::strong_count(b) == 2));
    go.send(()).unwrap();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 2);
    assert_eq!(seen.sent_to(9), 2);
    assert!(seen.received[0].1 == payload, "echoed payload differs");
    assert_eq!(seen.received[1].1, b"after");
    // Written: the selector holds none of the batches any more.
    assert!(batches.iter().all(|b| Arc::strong_count(b) == 1));
    sel.close(9);
    server.join().unwrap();
}

#[test]
fn a_frame_sent_one_byte_at_a_time_is_reassembled() {
    let (addr, server) = serve(|mut s| {
        s.set_nodelay(true).unwrap();
        let mut bytes = frame(b"in pieces");
        bytes.extend(frame(b"and another"));
        for b in bytes {
            s.write_all(&[b]).unwrap();
            thread::sleep(Duration::from_millis(1));
        }
        // Wait for the client to close.
        let _ = s.read(&mut [0]);
    });
    let mut sel = selector_with(config());
    sel.connect(2, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 2);
    assert_eq!(
        seen.received_from(2),
        vec![b"in pieces".to_vec(), b"and another".to_vec()]
    );
    sel.close(2);
    server.join().unwrap();
}

/// Connects to a server that writes `bytes` then waits for the client to
/// close; returns what the selector saw once it reported a disconnect.
fn disconnect_after_server_writes(bytes: Vec<u8>, close_after: bool, max: usize) -> Seen {
    let (addr, server) = serve(move |mut s| {
        s.write_all(&bytes).unwrap();
        if !close_after {
            let _ = s.read(&mut [0]);
        }
    });
    let mut sel = selector_with(SelectorConfig {
        max_receive_size: max,
        ..config()
    });
    sel.connect(3, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| !s.disconnected.is_empty());
    assert!(!sel.has_connection(3) && !sel.is_connected(3));
    assert!(sel.send(3, frame(b"late")).is_err());
    drop(sel);
    server.join().unwrap();
    seen
}

#[test]
fn an_oversized_frame_disconnects_naming_the_size_and_the_limit() {
    let mut bytes = 1_000_000i32.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0; 100]);
    let seen = disconnect_after_server_writes(bytes, false, 1000);
    let (node, reason) = &seen.disconnected[0];
    assert_eq!(*node, 3);
    assert!(matches!(
        reason,
        DisconnectReason::InvalidFrame(FrameError::TooLarge {
            size: 1_000_000,
            max: 1000
        })
    ));
    let msg = reason.to_string();
    assert!(
        msg.contains("1000000") && msg.contains("1000 bytes"),
        "{msg}"
    );
    assert!(seen.received.is_empty());
}

#[test]
fn a_negative_frame_size_disconnects() {
    let seen = disconnect_after_server_writes((-2i32).to_be_bytes().to_vec(), false, 1000);
    assert!(matches!(
        seen.disconnected[0].1,
        DisconnectReason::InvalidFrame(FrameError::NegativeSize(-2))
    ));
}

#[test]
fn a_peer_closing_mid_frame_is_a_disconnect() {
    let mut bytes = frame(b"complete");
    bytes.extend_from_slice(&100i32.to_be_bytes());
    bytes.extend_from_slice(&[1; 10]);
    let seen = disconnect_after_server_writes(bytes, true, 1000);
    // The whole frame before the cut is still delivered.
    assert_eq!(seen.received_from(3), vec![b"complete".to_vec()]);
    assert!(matches!(
        seen.disconnected[0].1,
        DisconnectReason::Eof { mid_frame: true }
    ));
}

#[test]
fn a_peer_closing_between_frames_is_a_clean_eof() {
    let seen = disconnect_after_server_writes(frame(b"bye"), true, 1000);
    assert_eq!(seen.received_from(3), vec![b"bye".to_vec()]);
    assert!(matches!(
        seen.disconnected[0].1,
        DisconnectReason::Eof { mid_frame: false }
    ));
}

#[test]
fn a_refused_connection_is_reported() {
    // A port that was just free; nothing listens there any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut sel = selector_with(config());
    sel.send(5, frame(b"x")).unwrap_err();
    match sel.connect(5, addr) {
        Ok(()) => {
            let mut seen = Seen::default();
            poll_until(&mut sel, &mut seen, |s| !s.disconnected.is_empty());
            assert!(seen.connected.is_empty());
            let (node, reason) = &seen.disconnected[0];
            assert_eq!(*node, 5);
            assert!(matches!(reason, DisconnectReason::Refused), "{reason:?}");
            assert!(reason.is_connect_failure());
        }
        // Some systems refuse a loopback connect synchronously.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
    }
    assert!(!sel.has_connection(5));
}

#[test]
fn connecting_twice_to_a_node_is_an_error() {
    let (addr, server) = serve(echo);
    let mut sel = selector_with(config());
    sel.connect(1, addr).unwrap();
    let err = sel.connect(1, addr).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(sel.connection_count(), 1);
    sel.close(1);
    server.join().unwrap();
}

#[test]
fn a_connection_cut_mid_frame_lets_go_of_the_shared_batches() {
    // The peer reads nothing and then goes away while a frame of shared
    // batches is partly written: the disconnect is reported and the
    // selector holds none of the batches any more.
    let (mut sel, mut seen, go, server) = connected_to_a_stalled_peer(6, drop);
    let batches: Vec<Arc<Vec<u8>>> = (0..16).map(|i| Arc::new(vec![i; 1 << 20])).collect();
    let mut f = Frame::from(vec![0; 4]);
    for b in &batches {
        f.bytes_mut().extend_from_slice(b"len:");
        f.push_shared(Arc::clone(b));
    }
    f.patch_size_prefix().unwrap();
    sel.send(6, f).unwrap();
    sel.poll(Duration::ZERO).unwrap();
    collect(&mut sel, &mut seen);
    assert!(sel.has_pending_sends(6), "16 MB cannot fit in the buffers");
    go.send(()).unwrap();
    poll_until(&mut sel, &mut seen, |s| !s.disconnected.is_empty());
    assert_eq!(seen.sent_to(6), 0);
    assert!(!sel.has_pending_sends(6));
    assert!(batches.iter().all(|b| Arc::strong_count(b) == 1));
    server.join().unwrap();
}

#[test]
fn closing_drops_the_connection_without_reporting_it() {
    let (addr, server) = serve(|mut s| {
        // The client's close ends the stream.
        assert!(read_frame(&mut s).is_none());
    });
    let mut sel = selector_with(config());
    sel.connect(4, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.connected == [4]);
    assert!(sel.close(4));
    sel.poll(Duration::ZERO).unwrap();
    assert!(sel.disconnected().is_empty());
    assert!(!sel.is_connected(4) && !sel.has_pending_sends(4));
    server.join().unwrap();
}

#[test]
fn receives_are_tagged_with_their_node() {
    let (a, sa) = serve(echo);
    let (b, sb) = serve(echo);
    let mut sel = selector_with(config());
    sel.connect(10, a).unwrap();
    sel.connect(20, b).unwrap();
    for i in 0..50u8 {
        sel.send(10, frame(&[10, i])).unwrap();
        sel.send(20, frame(&[20, i])).unwrap();
    }
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 100);
    for node in [10, 20] {
        let want: Vec<Vec<u8>> = (0..50u8).map(|i| vec![node as u8, i]).collect();
        assert_eq!(seen.received_from(node), want);
        assert_eq!(seen.sent_to(node), 50);
    }
    let mut connected = seen.connected.clone();
    connected.sort_unstable();
    assert_eq!(connected, vec![10, 20]);
    sel.close(10);
    sel.close(20);
    sa.join().unwrap();
    sb.join().unwrap();
}

#[test]
fn a_wakeup_from_another_thread_ends_a_blocked_poll() {
    let mut sel = selector_with(config());
    let wakeup = sel.wakeup_handle();
    let (polling_tx, polling_rx) = bounded::<()>(1);
    let (returned_tx, returned_rx) = bounded::<()>(1);
    let poller = thread::spawn(move || {
        polling_tx.send(()).unwrap();
        // An hour: only a wakeup ends this poll within the test's lifetime.
        sel.poll(Duration::from_secs(3600)).unwrap();
        returned_tx.send(()).unwrap();
    });
    polling_rx.recv().unwrap();
    // Whether the wake lands before or during the poll, the poll returns.
    let other = thread::spawn(move || wakeup.wake());
    other.join().unwrap();
    returned_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the wakeup did not end the poll");
    poller.join().unwrap();
}

#[test]
fn coalesced_wakeups_still_end_every_poll_after_them() {
    let mut sel = selector_with(config());
    let wakeup = sel.wakeup_handle();
    // Many wakes before a poll: one system call, and the poll returns.
    for _ in 0..1000 {
        wakeup.wake();
    }
    sel.poll(Duration::from_secs(3600)).unwrap();
    // The poll cleared the flag: the next wake signals again, and the
    // next poll returns (an hour otherwise). Repeated, so that a flag left
    // set would be caught.
    for _ in 0..3 {
        wakeup.wake();
        wakeup.wake();
        sel.poll(Duration::from_secs(3600)).unwrap();
    }
    // From another thread, while the poll blocks.
    let (returned_tx, returned_rx) = bounded::<()>(1);
    let poller = thread::spawn(move || {
        sel.poll(Duration::from_secs(3600)).unwrap();
        returned_tx.send(()).unwrap();
    });
    wakeup.wake();
    returned_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the wakeup did not end the poll");
    poller.join().unwrap();
}

#[test]
fn idle_connections_are_closed_on_the_mock_clock() {
    let (addr, server) = serve(echo);
    let clock = Arc::new(MockClock::default());
    let mut sel = Selector::new(
        SelectorConfig {
            connections_max_idle: Some(Duration::from_millis(100)),
            ..config()
        },
        Arc::clone(&clock) as Arc<dyn Clock>,
    )
    .unwrap();
    sel.connect(8, addr).unwrap();
    let mut seen = Seen::default();
    poll_until(&mut sel, &mut seen, |s| s.connected == [8]);
    // Exactly the limit is not idle yet (Java: strictly more).
    clock.sleep_ms(100);
    sel.poll(Duration::ZERO).unwrap();
    assert!(sel.disconnected().is_empty());
    // I/O resets the idle time.
    sel.send(8, frame(b"ping")).unwrap();
    poll_until(&mut sel, &mut seen, |s| s.received.len() == 1);
    clock.sleep_ms(100);
    sel.poll(Duration::ZERO).unwrap();
    assert!(sel.disconnected().is_empty());
    clock.sleep_ms(1);
    sel.poll(Duration::ZERO).unwrap();
    let d = sel.disconnected();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].node, 8);
    assert!(matches!(
        d[0].reason,
        DisconnectReason::Idle { max_idle } if max_idle == Duration::from_millis(100)
    ));
    assert!(!sel.has_connection(8));
    server.join().unwrap();
}

#[test]
fn socket_buffer_sizes_are_applied_when_set() {
    // What the OS reports for a size differs from the size set (Linux
    // doubles it), so compare with a plain socket given the same sizes.
    let reference = |send: usize, recv: usize| {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_send_buffer_size(send).unwrap();
        s.set_recv_buffer_size(recv).unwrap();
        (s.send_buffer_size().unwrap(), s.recv_buffer_size().unwrap())
    };
    let (addr, server) = serve(echo);
    let mut sel = selector_with(SelectorConfig {
        send_buffer_bytes: 4096,
        receive_buffer_bytes: 8192,
        ..config()
    });
    sel.connect(1, addr).unwrap();
    assert_eq!(sel.socket_buffer_sizes(1).unwrap(), reference(4096, 8192));
    sel.close(1);
    server.join().unwrap();
    // -1 leaves the defaults, which are not these small sizes here.
    let (addr, server) = serve(echo);
    let mut sel = selector_with(config());
    sel.connect(1, addr).unwrap();
    assert_ne!(sel.socket_buffer_sizes(1).unwrap(), reference(4096, 8192));
    sel.close(1);
    server.join().unwrap();
}

#[test]
fn the_selector_moves_to_the_network_thread_and_wakeups_are_shared() {
    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync + Clone>() {}
    send::<Selector>();
    send_sync::<Wakeup>();
}

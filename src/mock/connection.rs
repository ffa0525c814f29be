//! One client connection of a mock broker: a reader thread that reads,
//! handles and answers requests in order, and a writer thread that writes
//! the answers, each when it is due (response delays) and in order.
//!
//! ```text
//!  reader "mock-broker-<id>-conn"               writer "mock-broker-<id>-write"
//!  loop { read frame (size checked first)
//!         decode header, count, on_request ──── drop before handling? close
//!         handle_request                   ──── drop after handling? close
//!         on_response: corrupt, due time
//!         send ─────── bounded queue ────────>  loop { wait until due (or abort/stop)
//!  }                                                   write the frame (or half, then close) }
//!  end: close the socket, abort the writer, join it
//!       (mid-frame drop: let the writer drain the queue, then join it)
//! ```
//!
//! Requests are handled as they arrive, so a delay holds back only the
//! answers: a client with several requests in flight gets each one the
//! delay after it was handled, as over a link with that round-trip time.
//! The queue is bounded: a client that stops reading stops the reader.
//!
//! The writer sleeps on two channels that never carry a message: the
//! reader's abort channel and the broker's stop channel; either one closing
//! wakes it.

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, select, Receiver};

use super::broker::ThreadCount;
use super::fault::Disconnect;
use super::handlers::{decode_header, handle_request, Ctx, Outcome};
use super::state::ClusterState;
use crate::util::clock::{Clock, SystemClock};

/// Responses a connection queues for its writer before the reader waits
/// (more than any client keeps in flight).
const RESPONSE_QUEUE: usize = 64;

/// A response for the writer thread.
#[derive(Debug)]
struct Response {
    /// The whole frame, size prefix included.
    frame: Vec<u8>,
    /// When to write it: at once if `None`.
    due: Option<Instant>,
    /// Write only the first half, then close the connection.
    half_then_close: bool,
}

/// How the reader leaves the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Close the socket now; queued responses are lost.
    Abort,
    /// Let the writer write what is queued (the last one half), then close.
    Drain,
}

/// Serves one connection until the peer closes it, a request or a fault
/// closes it, or the broker shuts down (closing the socket and `stop`).
pub(crate) fn serve(
    broker_id: i32,
    stream: TcpStream,
    cluster: &ClusterState,
    peer: &str,
    threads: &Arc<ThreadCount>,
    stop: Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, writer_socket) = match (stream.try_clone(), stream.try_clone()) {
        (Ok(r), Ok(w)) => (BufReader::new(r), w),
        (Err(e), _) | (_, Err(e)) => {
            log::warn!("mock broker {broker_id}: connection from {peer}: {e}");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    };
    let (responses, queued) = bounded::<Response>(RESPONSE_QUEUE);
    let (abort, aborted) = bounded::<()>(0);
    let writer = match threads.spawn(format!("mock-broker-{broker_id}-write"), move || {
        write_loop(writer_socket, &queued, &aborted, &stop);
    }) {
        Ok(handle) => handle,
        Err(e) => {
            log::warn!("mock broker {broker_id}: cannot start a writer for {peer}: {e}");
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
    };
    let ctx = Ctx { cluster, broker_id };
    let clock = SystemClock;
    let mut end = End::Abort;
    loop {
        let frame = match read_frame(&mut reader, cluster.settings.max_request_bytes) {
            Ok(Some(frame)) => frame,
            Ok(None) => break, // closed by the peer between requests
            Err(e) => {
                if e.kind() == io::ErrorKind::InvalidData {
                    log::warn!("mock broker {broker_id}: closing the connection from {peer}: {e}");
                } else {
                    log::debug!("mock broker {broker_id}: connection from {peer} ended: {e}");
                }
                break;
            }
        };
        let (header, body) = match decode_header(&frame) {
            Ok(h) => h,
            Err(reason) => {
                log::warn!("mock broker {broker_id}: closing the connection from {peer}: {reason}");
                break;
            }
        };
        let api = header.api_key;
        cluster.count_request(broker_id, api);
        let drop = cluster.faults.lock().on_request(broker_id, api);
        if drop == Some(Disconnect::BeforeHandling) {
            log::info!("mock broker {broker_id}: fault: dropping {peer} before handling {api}");
            break;
        }
        let outcome = handle_request(ctx, &header, body);
        if drop == Some(Disconnect::AfterHandling) {
            log::info!("mock broker {broker_id}: fault: dropping {peer} after handling {api}");
            break;
        }
        match outcome {
            Outcome::Respond(mut frame) => {
                let faults = cluster.faults.lock().on_response(broker_id, api);
                if let Some(how) = faults.corruption {
                    log::info!("mock broker {broker_id}: fault: {how:?} in the {api} answer");
                    how.apply(&mut frame);
                }
                let due = (!faults.delay.is_zero()).then(|| clock.now() + faults.delay);
                let half_then_close = drop == Some(Disconnect::MidFrame);
                let response = Response {
                    frame,
                    due,
                    half_then_close,
                };
                if responses.send(response).is_err() {
                    break; // the writer could not write: the socket is gone
                }
                if half_then_close {
                    log::info!(
                        "mock broker {broker_id}: fault: cutting the {api} answer to {peer}"
                    );
                    end = End::Drain;
                    break;
                }
            }
            Outcome::NoResponse => {
                if drop == Some(Disconnect::MidFrame) {
                    log::info!("mock broker {broker_id}: fault: dropping {peer} after {api}");
                    break;
                }
            }
            Outcome::Close(reason) => {
                log::warn!("mock broker {broker_id}: closing the connection from {peer}: {reason}");
                break;
            }
        }
    }
    if end == End::Abort {
        let _ = stream.shutdown(Shutdown::Both);
        drop(abort);
    }
    drop(responses);
    if writer.join().is_err() {
        log::error!("mock broker {broker_id}: the writer thread for {peer} panicked");
    }
    // The abort sender lives until here when draining: the writer must not
    // see it close before it has written the queue.
    let _ = stream.shutdown(Shutdown::Both);
}

/// Writes queued responses in order, each once it is due, until the queue
/// is closed and empty, a write fails, a half frame is written, or the
/// reader or the broker says stop.
fn write_loop(
    mut socket: TcpStream,
    queued: &Receiver<Response>,
    abort: &Receiver<()>,
    stop: &Receiver<()>,
) {
    let clock = SystemClock;
    for response in queued {
        if let Some(due) = response.due {
            if !wait_until(&clock, due, abort, stop) {
                return;
            }
        }
        let bytes = if response.half_then_close {
            &response.frame[..half(response.frame.len())]
        } else {
            &response.frame[..]
        };
        if let Err(e) = socket.write_all(bytes).and_then(|()| socket.flush()) {
            log::debug!("mock broker: cannot write an answer: {e}");
            return;
        }
        if response.half_then_close {
            let _ = socket.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// How many bytes of a frame of `len` bytes a mid-frame drop writes: about
/// half, at least the size prefix and one more byte, never all of it.
fn half(len: usize) -> usize {
    (len / 2).max(5).min(len.saturating_sub(1))
}

/// Sleeps until `due` on `clock`; false if `abort` or `stop` closed first.
fn wait_until(clock: &dyn Clock, due: Instant, abort: &Receiver<()>, stop: &Receiver<()>) -> bool {
    loop {
        let left = due.saturating_duration_since(clock.now());
        if left.is_zero() {
            return true;
        }
        // Nothing is ever sent on these channels: a receive returns only
        // when the sender is dropped.
        select! {
            recv(abort) -> _ => return false,
            recv(stop) -> _ => return false,
            default(left) => {}
        }
    }
}

/// Reads one size-prefixed frame: `None` if the peer closed the connection
/// before a new frame began. A size that is negative, zero or above `limit`
/// is `InvalidData`, found before anything is allocated; the frame's buffer
/// then grows only as bytes actually arrive.
fn read_frame(r: &mut impl Read, limit: usize) -> io::Result<Option<Vec<u8>>> {
    let mut size = [0u8; 4];
    let mut got = 0;
    while got < size.len() {
        match r.read(&mut size[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let size = i32::from_be_bytes(size);
    let len = usize::try_from(size)
        .ok()
        .filter(|&n| n > 0 && n <= limit)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid request size {size} (limit {limit})"),
            )
        })?;
    let mut frame = Vec::new();
    r.take(len as u64).read_to_end(&mut frame)?;
    if frame.len() != len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_size_checked_before_reading() {
        let mut input: &[u8] = &[0, 0, 0, 3, 1, 2, 3, 0, 0, 0];
        assert_eq!(read_frame(&mut input, 10).unwrap(), Some(vec![1, 2, 3]));
        // Three bytes of a size, then the end.
        assert_eq!(
            read_frame(&mut input, 10).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let mut empty: &[u8] = &[];
        assert_eq!(read_frame(&mut empty, 10).unwrap(), None);
        for bad in [[0xff, 0xff, 0xff, 0xff], [0, 0, 0, 0], [0, 0, 0, 11]] {
            let mut input: &[u8] = &bad;
            assert_eq!(
                read_frame(&mut input, 10).unwrap_err().kind(),
                io::ErrorKind::InvalidData
            );
        }
        let mut cut: &[u8] = &[0, 0, 0, 5, 1, 2];
        assert_eq!(
            read_frame(&mut cut, 10).unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
    }

    #[test]
    fn half_a_frame_is_more_than_its_size_and_less_than_all() {
        assert_eq!(half(8), 5);
        assert_eq!(half(100), 50);
        for len in 8..300 {
            let h = half(len);
            assert!(h > 4 && h < len, "{len}: {h}");
        }
    }

    #[test]
    fn waiting_ends_at_the_due_time_or_when_told_to_stop() {
        use crate::util::clock::MockClock;
        use std::time::Duration;
        let clock = MockClock::default();
        let (_abort_tx, abort) = bounded::<()>(0);
        let (stop_tx, stop) = bounded::<()>(0);
        // Already due: no wait at all.
        assert!(wait_until(&clock, clock.now(), &abort, &stop));
        // Far in the future, but the stop channel closes.
        drop(stop_tx);
        let due = clock.now() + Duration::from_secs(3600);
        assert!(!wait_until(&clock, due, &abort, &stop));
    }
}

//! One mock broker's threads: an acceptor on its listener and a thread per
//! connection, and how they stop.
//!
//! ```text
//!  acceptor "mock-broker-<id>"        connection "mock-broker-<id>-conn"
//!  accept() ──spawn──────────────────> loop { read frame (size checked first)
//!  (joins finished connections)               handle_request -> respond / nothing / close
//!                                             write response }
//!  shutdown(): stop flag, wake accept() with a connection to itself, join the
//!  acceptor; then shut every connection's socket down (its blocked read or
//!  write returns) and join its thread. Ports are closed when this returns.
//! ```
//!
//! A malformed frame or request closes that connection only (logged at
//! warn); the broker keeps serving the others.

use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use parking_lot::Mutex;

use super::handlers::{handle_request, Ctx, Outcome};
use super::state::ClusterState;

/// Counts the threads of a cluster that are still running: each thread holds
/// a [`ThreadToken`] and gives it back as it ends.
#[derive(Debug, Default)]
pub(crate) struct ThreadCount(AtomicUsize);

impl ThreadCount {
    pub(crate) fn running(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// Spawns a named thread that counts as running until `f` returns.
    fn spawn(
        self: &Arc<Self>,
        name: String,
        f: impl FnOnce() + Send + 'static,
    ) -> io::Result<JoinHandle<()>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let token = ThreadToken(Arc::clone(self));
        thread::Builder::new().name(name).spawn(move || {
            let _token = token;
            f();
        })
        // On a failed spawn the closure, and so the token, is dropped: the
        // count goes back down.
    }
}

/// Held by a running thread; decrements the count when dropped.
#[derive(Debug)]
struct ThreadToken(Arc<ThreadCount>);

impl Drop for ThreadToken {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection's socket (to shut it down) and its thread (to join it).
#[derive(Debug)]
struct Connection {
    socket: TcpStream,
    thread: JoinHandle<()>,
}

/// One running broker.
#[derive(Debug)]
pub(crate) struct Broker {
    id: i32,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    connections: Arc<Mutex<Vec<Connection>>>,
}

impl Broker {
    /// Starts serving `listener` as broker `id` of `cluster`.
    pub(crate) fn start(
        id: i32,
        listener: TcpListener,
        cluster: Arc<ClusterState>,
        threads: &Arc<ThreadCount>,
    ) -> io::Result<Broker> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let stop = Arc::clone(&stop);
            let connections = Arc::clone(&connections);
            let threads_for_conns = Arc::clone(threads);
            threads.spawn(format!("mock-broker-{id}"), move || {
                accept_loop(
                    id,
                    &listener,
                    &cluster,
                    &stop,
                    &connections,
                    &threads_for_conns,
                );
            })?
        };
        log::debug!("mock broker {id} listening on {addr}");
        Ok(Broker {
            id,
            addr,
            stop,
            acceptor: Some(acceptor),
            connections,
        })
    }

    /// Stops accepting, closes every connection and joins every thread.
    /// Idempotent.
    pub(crate) fn shutdown(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocked accept(); the acceptor sees the flag and returns,
        // dropping (closing) the listener.
        if let Err(e) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5)) {
            log::warn!("mock broker {}: cannot wake the acceptor: {e}", self.id);
        }
        if acceptor.join().is_err() {
            log::error!("mock broker {}: the acceptor thread panicked", self.id);
        }
        // The acceptor is gone: no connection can be added any more.
        let connections = std::mem::take(&mut *self.connections.lock());
        for c in &connections {
            // Unblocks the thread's read or write; an error means the
            // socket is already closed.
            let _ = c.socket.shutdown(Shutdown::Both);
        }
        for c in connections {
            if c.thread.join().is_err() {
                log::error!("mock broker {}: a connection thread panicked", self.id);
            }
        }
        log::debug!("mock broker {} stopped", self.id);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    id: i32,
    listener: &TcpListener,
    cluster: &Arc<ClusterState>,
    stop: &AtomicBool,
    connections: &Mutex<Vec<Connection>>,
    threads: &Arc<ThreadCount>,
) {
    for accepted in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match accepted {
            Ok(s) => s,
            Err(e) => {
                log::warn!("mock broker {id}: accept failed: {e}");
                // Out of descriptors and the like: do not spin.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        reap_finished(connections);
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        let socket = match stream.try_clone() {
            Ok(s) => s,
            Err(e) => {
                log::warn!("mock broker {id}: cannot use the connection from {peer}: {e}");
                continue;
            }
        };
        let cluster = Arc::clone(cluster);
        let spawned = threads.spawn(format!("mock-broker-{id}-conn"), move || {
            serve(id, stream, &cluster, &peer);
        });
        match spawned {
            Ok(thread) => connections.lock().push(Connection { socket, thread }),
            Err(e) => log::warn!("mock broker {id}: cannot start a connection thread: {e}"),
        }
    }
}

/// Joins the threads of connections that have ended, so a long-lived
/// cluster does not accumulate them.
fn reap_finished(connections: &Mutex<Vec<Connection>>) {
    let finished: Vec<Connection> = {
        let mut all = connections.lock();
        let (done, open) = std::mem::take(&mut *all)
            .into_iter()
            .partition(|c| c.thread.is_finished());
        *all = open;
        done
    };
    for c in finished {
        let _ = c.thread.join(); // finished: returns at once
    }
}

/// Serves one connection until the peer closes it, a request asks for it to
/// be closed, or the broker shuts down.
fn serve(broker_id: i32, stream: TcpStream, cluster: &ClusterState, peer: &str) {
    let _ = stream.set_nodelay(true);
    let mut reader = match stream.try_clone() {
        Ok(s) => BufReader::new(s),
        Err(e) => {
            log::warn!("mock broker {broker_id}: connection from {peer}: {e}");
            return;
        }
    };
    let mut writer = stream;
    let ctx = Ctx { cluster, broker_id };
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
        match handle_request(ctx, &frame) {
            Outcome::Respond(bytes) => {
                if let Err(e) = writer.write_all(&bytes) {
                    log::debug!("mock broker {broker_id}: cannot answer {peer}: {e}");
                    break;
                }
            }
            Outcome::NoResponse => {}
            Outcome::Close(reason) => {
                log::warn!("mock broker {broker_id}: closing the connection from {peer}: {reason}");
                break;
            }
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
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
}

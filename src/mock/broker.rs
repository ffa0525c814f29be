//! One mock broker's threads: an acceptor on its listener and two threads
//! per connection (see `connection.rs`), and how they stop.
//!
//! ```text
//!  acceptor "mock-broker-<id>"        connection "mock-broker-<id>-conn" (+ its writer)
//!  accept() ──spawn──────────────────> serve(): read, handle, queue the answer
//!  (joins finished connections)
//!  shutdown(): stop flag, wake accept() with a connection to itself, join the
//!  acceptor; then shut every connection's socket down (its blocked read or
//!  write returns), close the writers' stop channel (a writer holding back a
//!  delayed answer wakes) and join every connection. Ports are closed when
//!  this returns.
//! ```
//!
//! A broker taken down ([`MockCluster::broker_down`](super::MockCluster::broker_down))
//! is shut down this way; taking it up starts a new `Broker` on a new
//! listener bound to the same port.
//!
//! A malformed frame or request closes that connection only (logged at
//! warn); the broker keeps serving the others.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{bounded, Receiver, Sender};
use parking_lot::Mutex;

use super::connection::serve;
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
    pub(crate) fn spawn(
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
    /// Never sends: dropped at shutdown to wake the connections' writers.
    stop_writers: Option<Sender<()>>,
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
        let (stop_writers, writers_stopped) = bounded::<()>(0);
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
                    &writers_stopped,
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
            stop_writers: Some(stop_writers),
        })
    }

    /// The broker's id.
    pub(crate) fn id(&self) -> i32 {
        self.id
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
        drop(self.stop_writers.take());
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
    writers_stopped: &Receiver<()>,
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
        let conn_threads = Arc::clone(threads);
        let stop = writers_stopped.clone();
        let spawned = threads.spawn(format!("mock-broker-{id}-conn"), move || {
            serve(id, stream, &cluster, &peer, &conn_threads, stop);
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

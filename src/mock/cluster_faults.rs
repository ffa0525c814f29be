//! The fault-injection methods of [`MockCluster`]: queued error codes,
//! response delays, dropped connections, corrupt frames, brokers down and
//! up, advertised addresses, and sink mode. What each one does to a request is drawn in
//! `fault.rs`; the user-facing summary is the "Fault injection" section of
//! the [module documentation](super).

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::broker::Broker;
use super::cluster::MockCluster;
use super::fault::{Corruption, Disconnect};
use crate::error::{Error, Result};
use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;

impl MockCluster {
    /// Answers the next `codes.len()` requests of `api`, one code each, with
    /// that error instead of handling them, whichever broker they reach:
    /// Produce gives the code to every partition of the request (nothing is
    /// appended), InitProducerId returns it as its error. Other APIs ignore
    /// queued codes.
    pub fn push_request_errors(&self, api: ApiKey, codes: &[ErrorCode]) {
        self.state.faults.lock().push_request_errors(api, codes);
    }

    /// Answers one partition with an error in the next `codes.len()`
    /// produce requests that hold it, one code each, whichever broker they
    /// reach. That partition's batch is not appended; the other partitions
    /// of the same request are handled as usual. Codes queued for a
    /// partition that no request names are never used. A request-wide code
    /// ([`MockCluster::push_request_errors`]) is answered first and does not
    /// use up a partition's code.
    pub fn push_partition_errors(&self, topic: &str, partition: i32, codes: &[ErrorCode]) {
        self.state
            .faults
            .lock()
            .push_partition_errors(topic, partition, codes);
    }

    /// Holds back every response of `api` (`None`: every API) from
    /// `broker` (`None`: every broker) by `delay`, until changed. Requests
    /// are still read and handled as they arrive, in order; only the
    /// answers wait, each `delay` after it was ready, and they are written
    /// in request order. Other connections are not held up. Setting a delay
    /// again for the same broker and API replaces it; `Duration::ZERO`
    /// removes it. When several delays match, the longest applies.
    pub fn delay_responses(&self, broker: Option<i32>, api: Option<ApiKey>, delay: Duration) {
        self.state.faults.lock().delay_responses(broker, api, delay);
    }

    /// Makes broker `broker` answer every request `rtt` late, as if over a
    /// link with that round-trip time (see [`MockCluster::delay_responses`]);
    /// `Duration::ZERO` removes it.
    pub fn set_round_trip_time(&self, broker: i32, rtt: Duration) {
        self.delay_responses(Some(broker), None, rtt);
    }

    /// Drops the connection carrying the `n`-th request from now (1: the
    /// next) of `api` (`None`: any API) received by `broker` (`None`: any
    /// broker), on whichever connection it arrives; `n` = 0 counts as 1.
    /// `how` says whether the request is handled first (see
    /// [`Disconnect`]). The request is counted by
    /// [`MockCluster::request_count`] in every case. Each call drops one
    /// connection; calls count independently.
    pub fn drop_connection_after(
        &self,
        broker: Option<i32>,
        api: Option<ApiKey>,
        n: u32,
        how: Disconnect,
    ) {
        self.state
            .faults
            .lock()
            .drop_connection_after(broker, api, n, how);
    }

    /// Cuts the answer to the next request of `api` (`None`: any) received
    /// by `broker` (`None`: any) in half and closes its connection: the
    /// request is handled, then the client gets a size prefix and only part
    /// of the frame. Same as [`MockCluster::drop_connection_after`] with
    /// `n` = 1 and [`Disconnect::MidFrame`].
    pub fn drop_mid_frame(&self, broker: Option<i32>, api: Option<ApiKey>) {
        self.drop_connection_after(broker, api, 1, Disconnect::MidFrame);
    }

    /// Spoils the next response of `api` (`None`: any) written by `broker`
    /// (`None`: any) as `how` says. The request is handled as usual (a
    /// produce is appended); the connection stays open on the broker's
    /// side. Requests without an answer (Produce with acks=0) leave the
    /// corruption waiting for the next matching answer.
    pub fn corrupt_next_response(&self, broker: Option<i32>, api: Option<ApiKey>, how: Corruption) {
        self.state
            .faults
            .lock()
            .corrupt_next_response(broker, api, how);
    }

    /// Forgets every queued error, drop and corruption, and every delay.
    /// Brokers that are down stay down; sink mode, leadership and
    /// advertised addresses do not change.
    pub fn clear_faults(&self) {
        self.state.faults.lock().clear();
    }

    /// Takes broker `id` down, as if it crashed: its listener is closed (new
    /// connections are refused), its connections are closed (answers not
    /// yet written are lost) and Metadata stops listing it. Each partition
    /// it led moves to the next live broker in id order, wrapping (as in a
    /// replicated cluster; the log moves too), with its leader epoch
    /// bumped; if no broker is left up, the partition goes offline: leader
    /// -1, Metadata answers it `LEADER_NOT_AVAILABLE`. Returns once every
    /// thread of the broker has ended. Taking a broker that is already down
    /// is a no-op; an unknown id is an error.
    pub fn broker_down(&self, id: i32) -> Result<()> {
        self.known_broker(id)?;
        let mut brokers = self.brokers.lock();
        let Some(index) = brokers.iter().position(|b| b.id() == id) else {
            return Ok(()); // already down
        };
        let mut broker = brokers.remove(index);
        broker.shutdown();
        self.state.mark_down(id);
        log::info!("mock cluster: broker {id} down");
        Ok(())
    }

    /// Brings broker `id` back up on the same port and lists it in Metadata
    /// again. Partitions it was the last leader of that went offline come
    /// back with it as leader; leadership that moved away while it was down
    /// stays where it is (move it back with
    /// [`MockCluster::set_partition_leader`]). A broker that is up is left
    /// alone. Fails for an unknown id, or with the I/O error if the port
    /// cannot be bound again (another process took it).
    pub fn broker_up(&self, id: i32) -> Result<()> {
        let port = self.known_broker(id)?;
        let mut brokers = self.brokers.lock();
        if brokers.iter().any(|b| b.id() == id) {
            return Ok(());
        }
        // std sets SO_REUSEADDR on Unix: the old connections' TIME_WAIT
        // does not block the bind.
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let broker = Broker::start(id, listener, Arc::clone(&self.state), &self.threads)?;
        let at = brokers
            .iter()
            .position(|b| b.id() > id)
            .unwrap_or(brokers.len());
        brokers.insert(at, broker);
        self.state.mark_up(id);
        log::info!("mock cluster: broker {id} up again on port {port}");
        Ok(())
    }

    /// Makes broker `id` advertise `address` instead of its real one, in
    /// Metadata answers and in Produce leader hints (KIP-951), as a broker
    /// with a wrong `advertised.listeners` would, or one that moved; `None`
    /// advertises the real address again. The broker keeps listening where
    /// it did, so [`MockCluster::bootstrap_servers`] still reaches it and
    /// connections already open keep working: a client that learns the
    /// address from Metadata connects there instead. Point every broker at
    /// a port nobody listens on and a client whose connections break can
    /// reach none of the brokers its metadata names, only its bootstrap
    /// servers (KIP-899 rebootstrap). Standing until changed;
    /// [`MockCluster::clear_faults`] leaves it. Fails for an unknown id.
    pub fn set_advertised_address(&self, id: i32, address: Option<SocketAddr>) -> Result<()> {
        self.known_broker(id)?;
        self.state
            .set_advertised(id, address.map(|a| (a.ip().to_string(), a.port())));
        log::info!("mock cluster: broker {id} advertises {address:?}");
        Ok(())
    }

    /// Whether broker `id` is up (false for an unknown id).
    #[must_use]
    pub fn is_broker_up(&self, id: i32) -> bool {
        self.state.is_up(id)
    }

    /// Sink mode: produce requests are checked and acknowledged with
    /// consecutive offsets, but their records are not stored, so a producer
    /// can be measured without the mock's memory growing. Every check up to
    /// the CRC and the idempotence rules still applies (duplicates are
    /// still recognised); the records inside a batch are not read.
    /// [`MockCluster::log_end_offset`] counts what was acknowledged;
    /// [`MockCluster::records`] and [`MockCluster::batches`] return only
    /// what was stored outside sink mode. Off by default.
    pub fn set_sink_mode(&self, on: bool) {
        self.state.sink.store(on, Ordering::Relaxed);
    }

    /// Whether sink mode is on.
    #[must_use]
    pub fn sink_mode(&self) -> bool {
        self.state.sink.load(Ordering::Relaxed)
    }

    /// The port of broker `id`, or an error naming the unknown id.
    fn known_broker(&self, id: i32) -> Result<u16> {
        self.state
            .broker(id)
            .map(|b| b.port)
            .ok_or_else(|| Error::Other(format!("the mock cluster has no broker {id}")))
    }
}

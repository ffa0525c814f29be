//! [`MockCluster`], the handle a test holds, and [`MockClusterBuilder`].
//! The fault-injection methods are in `cluster_faults.rs`.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use parking_lot::Mutex;

use super::broker::{Broker, ThreadCount};
use super::partition_log::StoredRecord;
use super::state::{BrokerEndpoint, ClusterState, Settings};
use crate::error::{Error, Result};
use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::Uuid;

/// Kafka's default `max.message.bytes`: 1 MiB plus the 12-byte log overhead.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1_048_588;

/// Kafka's default `socket.request.max.bytes` (100 MiB): a larger request
/// closes the connection.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 104_857_600;

/// Settings of a [`MockCluster`]; [`MockClusterBuilder::start`] starts it.
#[derive(Debug, Clone)]
#[must_use]
pub struct MockClusterBuilder {
    brokers: usize,
    default_partitions: i32,
    auto_create_topics: bool,
    max_message_bytes: usize,
    max_request_bytes: usize,
}

impl Default for MockClusterBuilder {
    fn default() -> Self {
        MockClusterBuilder {
            brokers: 1,
            default_partitions: 1,
            auto_create_topics: true,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
        }
    }
}

impl MockClusterBuilder {
    /// How many brokers (ids 1 to `n`), each on its own ephemeral port of
    /// 127.0.0.1. Default 1; at least 1.
    pub fn brokers(mut self, n: usize) -> Self {
        self.brokers = n;
        self
    }

    /// Partitions of an auto-created topic (Kafka `num.partitions`).
    /// Default 1; at least 1.
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.default_partitions = n;
        self
    }

    /// Whether a Metadata request that allows it creates missing topics
    /// (Kafka `auto.create.topics.enable`). Default true.
    pub fn auto_create_topics(mut self, on: bool) -> Self {
        self.auto_create_topics = on;
        self
    }

    /// The largest record batch a partition accepts, in bytes, log overhead
    /// included (Kafka `max.message.bytes`); larger ones are answered
    /// `MESSAGE_TOO_LARGE`. Default [`DEFAULT_MAX_MESSAGE_BYTES`].
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.max_message_bytes = n;
        self
    }

    /// The largest request frame a broker reads (Kafka
    /// `socket.request.max.bytes`); a larger one closes the connection.
    /// Default [`DEFAULT_MAX_REQUEST_BYTES`].
    pub fn max_request_bytes(mut self, n: usize) -> Self {
        self.max_request_bytes = n;
        self
    }

    /// Binds every broker's port, then starts its threads.
    ///
    /// Fails with `InvalidInput` for zero brokers or partitions, or with the
    /// error of binding or spawning.
    pub fn start(self) -> io::Result<MockCluster> {
        if self.brokers == 0 || self.default_partitions < 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a mock cluster needs at least one broker and one partition per topic \
                     (asked for {} brokers, {} partitions)",
                    self.brokers, self.default_partitions
                ),
            ));
        }
        let too_many = || io::Error::new(io::ErrorKind::InvalidInput, "too many brokers");
        // Every port is bound before any thread starts, so Metadata always
        // names every broker with its real port.
        let mut listeners = Vec::with_capacity(self.brokers);
        let mut endpoints = Vec::with_capacity(self.brokers);
        for i in 0..self.brokers {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let id = i32::try_from(i + 1).map_err(|_| too_many())?;
            endpoints.push(BrokerEndpoint {
                id,
                host: "127.0.0.1".to_owned(),
                port: listener.local_addr()?.port(),
            });
            listeners.push((id, listener));
        }
        let state = Arc::new(ClusterState::new(
            endpoints,
            Settings {
                default_partitions: self.default_partitions,
                auto_create_topics: self.auto_create_topics,
                max_message_bytes: self.max_message_bytes,
                max_request_bytes: self.max_request_bytes,
            },
        ));
        let threads = Arc::new(ThreadCount::default());
        let mut cluster = MockCluster {
            state,
            brokers: Mutex::new(Vec::with_capacity(self.brokers)),
            threads,
        };
        for (id, listener) in listeners {
            // On failure, dropping `cluster` stops the brokers started so far.
            let broker = Broker::start(id, listener, Arc::clone(&cluster.state), &cluster.threads)?;
            cluster.brokers.get_mut().push(broker);
        }
        Ok(cluster)
    }
}

/// An in-process Kafka cluster for tests: brokers on 127.0.0.1 that speak
/// the Kafka protocol over TCP. See the [module documentation](super) for
/// what it checks and what it does not.
///
/// Dropping it (or [`MockCluster::shutdown`]) closes every port and joins
/// every thread.
#[derive(Debug)]
pub struct MockCluster {
    pub(super) state: Arc<ClusterState>,
    /// The running brokers, in id order; one taken down is missing until
    /// it is taken up again.
    pub(super) brokers: Mutex<Vec<Broker>>,
    pub(super) threads: Arc<ThreadCount>,
}

pub(super) fn broker_error(code: ErrorCode, message: String) -> Error {
    Error::Broker {
        code,
        message: Some(message),
    }
}

fn unknown_partition(topic: &str, partition: i32) -> Error {
    broker_error(
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
        format!("the mock cluster has no partition {topic}-{partition}"),
    )
}

impl MockCluster {
    /// A builder with the defaults: 1 broker, 1 partition per auto-created
    /// topic, auto-creation on, Kafka's size limits.
    pub fn builder() -> MockClusterBuilder {
        MockClusterBuilder::default()
    }

    /// `bootstrap.servers` for this cluster: `127.0.0.1:p1,127.0.0.1:p2,...`.
    #[must_use]
    pub fn bootstrap_servers(&self) -> String {
        self.state
            .brokers
            .iter()
            .map(|b| format!("{}:{}", b.host, b.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The broker ids, 1 to N.
    #[must_use]
    pub fn broker_ids(&self) -> Vec<i32> {
        self.state.brokers.iter().map(|b| b.id).collect()
    }

    /// The address of broker `id`.
    #[must_use]
    pub fn broker_address(&self, id: i32) -> Option<SocketAddr> {
        self.state
            .broker(id)
            .map(|b| SocketAddr::from(([127, 0, 0, 1], b.port)))
    }

    /// The cluster id Metadata answers (22 characters of base64, as Kafka's).
    #[must_use]
    pub fn cluster_id(&self) -> &str {
        &self.state.cluster_id
    }

    /// Creates a topic. Fails with a broker error carrying Kafka's code:
    /// `INVALID_TOPIC_EXCEPTION` (illegal name), `INVALID_PARTITIONS`
    /// (`partitions < 1`), `TOPIC_ALREADY_EXISTS`.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.state
            .create_topic(name, partitions)
            .map(|_| ())
            .map_err(|(code, message)| broker_error(code, message))
    }

    /// Adds partitions to a topic until it has `total`, as Kafka's
    /// CreatePartitions does: the existing partitions keep their leaders,
    /// epochs and logs; each new one starts empty, at leader epoch 0, led by
    /// the live brokers in turn (partition `p` by the `p % live`-th). Clients
    /// see the new count in their next Metadata answer. Fails with a broker
    /// error carrying Kafka's code: `UNKNOWN_TOPIC_OR_PARTITION` (no such
    /// topic), `INVALID_PARTITIONS` (`total` not above the current count),
    /// `INVALID_REPLICATION_FACTOR` (no broker up).
    pub fn create_partitions(&self, topic: &str, total: i32) -> Result<()> {
        self.state
            .create_partitions(topic, total)
            .map_err(|(code, message)| broker_error(code, message))
    }

    /// Deletes a topic and everything it holds, as Kafka's DeleteTopics
    /// does. From now on Produce requests for it are answered
    /// `UNKNOWN_TOPIC_OR_PARTITION` (`UNKNOWN_TOPIC_ID` from Produce v13,
    /// which names topics by id), and Metadata lists it with
    /// `UNKNOWN_TOPIC_OR_PARTITION`, unless the request may create it and
    /// the cluster auto-creates topics (see
    /// [`MockClusterBuilder::auto_create_topics`]): then, as on Kafka, the
    /// next Metadata request creates it again, empty, under a new topic id.
    /// [`MockCluster::create_topic`] recreates it too. Fails with
    /// `UNKNOWN_TOPIC_OR_PARTITION` for a topic that does not exist.
    pub fn delete_topic(&self, topic: &str) -> Result<()> {
        self.state
            .delete_topic(topic)
            .map_err(|(code, message)| broker_error(code, message))
    }

    /// The topic's id (KIP-516), if the topic exists.
    #[must_use]
    pub fn topic_id(&self, topic: &str) -> Option<Uuid> {
        self.state.topic(topic).map(|t| t.id)
    }

    /// The topic's partition count, if the topic exists.
    #[must_use]
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.state.topic(topic).map(|t| t.partitions.len())
    }

    /// The leader of a partition, if it exists: -1 while it is offline
    /// (see [`MockCluster::broker_down`]).
    #[must_use]
    pub fn partition_leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let topic = self.state.topic(topic)?;
        let leader = topic.partition(partition)?.lock().leader;
        Some(leader)
    }

    /// The leader epoch of a partition (0 at creation, +1 per leader
    /// change), if it exists.
    #[must_use]
    pub fn leader_epoch(&self, topic: &str, partition: i32) -> Option<i32> {
        let topic = self.state.topic(topic)?;
        let epoch = topic.partition(partition)?.lock().leader_epoch;
        Some(epoch)
    }

    /// Moves a partition's leadership to `broker`, bumping its leader epoch
    /// (unless `broker` already leads it). The log moves with it: the mock
    /// keeps one log per partition. From now on the old leader answers
    /// Produce for it with `NOT_LEADER_OR_FOLLOWER`, naming the new leader
    /// from Produce v10 (KIP-951). Fails for an unknown partition, an
    /// unknown broker or a broker that is down.
    pub fn set_partition_leader(&self, topic: &str, partition: i32, broker: i32) -> Result<()> {
        if self.state.broker(broker).is_none() {
            return Err(Error::Other(format!(
                "the mock cluster has no broker {broker}"
            )));
        }
        if !self.state.is_up(broker) {
            return Err(Error::Other(format!(
                "broker {broker} of the mock cluster is down"
            )));
        }
        let t = self
            .state
            .topic(topic)
            .ok_or_else(|| unknown_partition(topic, partition))?;
        let mut p = t
            .partition(partition)
            .ok_or_else(|| unknown_partition(topic, partition))?
            .lock();
        if p.leader != broker {
            p.move_leader(broker);
            log::debug!(
                "mock cluster: {topic}-{partition} now led by broker {broker} (epoch {})",
                p.leader_epoch
            );
        }
        Ok(())
    }

    /// Every record the partition holds, in offset order (empty if the
    /// partition does not exist). Batches in a codec this build cannot
    /// decompress are left out.
    #[must_use]
    pub fn records(&self, topic: &str, partition: i32) -> Vec<StoredRecord> {
        self.with_partition(topic, partition, |p| p.log.records())
            .unwrap_or_default()
    }

    /// The partition's batches as stored: the bytes the producer sent with
    /// the base offset and partition leader epoch assigned (and the max
    /// timestamp, if the producer's was wrong).
    #[must_use]
    pub fn batches(&self, topic: &str, partition: i32) -> Vec<Vec<u8>> {
        self.with_partition(topic, partition, |p| p.log.batches().to_vec())
            .unwrap_or_default()
    }

    /// The offset the partition's next record will get, if it exists.
    #[must_use]
    pub fn log_end_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.with_partition(topic, partition, |p| p.log.log_end_offset())
    }

    fn with_partition<T>(
        &self,
        topic: &str,
        partition: i32,
        f: impl FnOnce(&super::state::Partition) -> T,
    ) -> Option<T> {
        let topic = self.state.topic(topic)?;
        let p = topic.partition(partition)?.lock();
        Some(f(&p))
    }

    /// Requests of `api` received by all brokers so far (counted once their
    /// header is read, whatever happens next).
    #[must_use]
    pub fn request_count(&self, api: ApiKey) -> u64 {
        self.state.request_count(None, api)
    }

    /// Requests of `api` received by broker `broker` so far.
    #[must_use]
    pub fn broker_request_count(&self, broker: i32, api: ApiKey) -> u64 {
        self.state.request_count(Some(broker), api)
    }

    /// Threads of this cluster still running (acceptors and connections);
    /// 0 once [`MockCluster::shutdown`] has returned.
    #[must_use]
    pub fn running_threads(&self) -> usize {
        self.threads.running()
    }

    /// Stops every broker: closes the listeners and connections and joins
    /// every thread. Idempotent; `Drop` calls it.
    pub fn shutdown(&mut self) {
        for broker in self.brokers.get_mut() {
            broker.shutdown();
        }
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

//! [`MockCluster`]: an embedded Kafka cluster for tests (a test double, like
//! librdkafka's mock cluster or franz-go's `kfake`), behind the `mock` cargo
//! feature.
//!
//! N brokers run in the test's process, each on an ephemeral port of
//! 127.0.0.1, and speak the real Kafka protocol over real TCP, so a producer
//! under test goes through its whole network path. What a partition holds
//! can be read back ([`MockCluster::records`], [`MockCluster::batches`]),
//! and requests are counted per API.
//!
//! The `mock` feature is on by default (the tests, tools and README demo
//! use it); turn it off with `default-features = false` to leave it out of
//! a build.
//!
//! # What it does
//!
//! * **ApiVersions** v0-4: advertises Produce 3-13, Metadata 0-13,
//!   ApiVersions 0-4, InitProducerId 0-5; a too-new version gets Kafka's v0
//!   answer (`UNSUPPORTED_VERSION` with the ApiVersions range); a client
//!   software name or version Kafka would refuse gets `INVALID_REQUEST`.
//! * **Metadata** v0-13: the brokers that are up (of 1..N), a cluster id,
//!   a controller; topics by name or (v12+) by id, all topics for a null
//!   list; auto-creation when the cluster and the request allow it;
//!   `UNKNOWN_TOPIC_OR_PARTITION`, `UNKNOWN_TOPIC_ID`,
//!   `INVALID_TOPIC_EXCEPTION` (Kafka's name rules); random, stable topic
//!   ids; a leader epoch per partition, bumped when leadership moves;
//!   `LEADER_NOT_AVAILABLE` for a partition whose broker is down.
//! * **Produce** v3-13: acks 0 (no answer at all; a failure closes the
//!   connection, as Kafka does), 1 and -1; topics by name or (v13) by id;
//!   leadership (`NOT_LEADER_OR_FOLLOWER`, with the KIP-951 leader hint and
//!   endpoint from v10); exactly one magic-2 batch per partition, base
//!   offset 0, CRC (`CORRUPT_MESSAGE`), size (`MESSAGE_TOO_LARGE` above
//!   `max.message.bytes`), offset range and record count, readable records
//!   (`INVALID_RECORD`), codec (`UNSUPPORTED_COMPRESSION_TYPE` for zstd below
//!   v7); idempotence per producer id and partition as Kafka's
//!   `ProducerStateManager` (the last 5 batches: a duplicate is answered
//!   with its original offset, a gap with `OUT_OF_ORDER_SEQUENCE_NUMBER`, an
//!   older epoch with `INVALID_PRODUCER_EPOCH`, a new epoch must start at
//!   sequence 0); offsets assigned consecutively and written into the stored
//!   batch with the leader epoch. Errors carry Kafka's offsets: see
//!   `produce.rs`.
//! * **Topics** change as on Kafka while clients run:
//!   [`create_topic`](MockCluster::create_topic),
//!   [`create_partitions`](MockCluster::create_partitions) (CreatePartitions:
//!   new, empty partitions led by the live brokers in turn; the old ones keep
//!   their leaders and logs) and [`delete_topic`](MockCluster::delete_topic)
//!   (DeleteTopics: Produce then answers `UNKNOWN_TOPIC_OR_PARTITION`, or
//!   `UNKNOWN_TOPIC_ID` by id, and Metadata `UNKNOWN_TOPIC_OR_PARTITION`,
//!   unless auto-creation makes it again, empty, under a new id).
//! * **InitProducerId** v0-5: for idempotent producers, a new producer id
//!   (increasing from 0) at epoch 0, as Kafka's coordinator gives even to a
//!   producer naming its current id.
//!
//! Requests of other APIs or versions close the connection, as Kafka does.
//! So does anything malformed: a bad size, header or body (bodies must end
//! exactly at the end of their frame). The broker keeps serving its other
//! connections; nothing a client sends can panic it.
//!
//! # What it does not do
//!
//! No replication (a partition's replica set is its leader), no
//! persistence, no transactions (a transactional id is answered
//! `TRANSACTIONAL_ID_AUTHORIZATION_FAILED`, a transactional batch
//! `INVALID_TXN_STATE`), no consumers, no authentication, quotas or
//! throttling, no timestamp range checks, no log retention (log start
//! offset 0). Auto-created topics are usable at once (Kafka first answers
//! `LEADER_NOT_AVAILABLE`). Compressed batches (every codec) are inflated
//! and their records checked like uncompressed ones.
//!
//! Stricter than Kafka, to catch producer bugs: bytes after a partition's
//! batch, and record offset deltas other than 0, 1, 2, ..., are
//! `INVALID_RECORD`.
//!
//! # Fault injection
//!
//! A test tells the cluster what to do wrong next; every fault is
//! thread-safe (set it from any thread while clients run), none can make a
//! broker panic, and each is one-shot or counted unless said otherwise.
//! Faults that match "any broker" or "any API" take `None`.
//!
//! | method | what the client sees |
//! |---|---|
//! | [`push_request_errors`](MockCluster::push_request_errors) | the next N requests of an API answered with these codes (Produce: every partition; nothing appended) |
//! | [`push_partition_errors`](MockCluster::push_partition_errors) | one partition answered with these codes in the next N produce requests that hold it; the other partitions succeed |
//! | [`delay_responses`](MockCluster::delay_responses), [`set_round_trip_time`](MockCluster::set_round_trip_time) | answers held back (standing, until changed); requests still handled at once and in order; other connections unaffected |
//! | [`drop_connection_after`](MockCluster::drop_connection_after) | the connection carrying the n-th matching request closed: [`Disconnect::BeforeHandling`] (nothing done), [`Disconnect::AfterHandling`] (appended, answer lost: the resend is a duplicate), [`Disconnect::MidFrame`] |
//! | [`drop_mid_frame`](MockCluster::drop_mid_frame) | half a response frame, then the connection closed |
//! | [`corrupt_next_response`](MockCluster::corrupt_next_response) | a frame of the right size full of garbage ([`Corruption::Garbage`]) or answering no request ([`Corruption::WrongCorrelationId`]) |
//! | [`broker_down`](MockCluster::broker_down), [`broker_up`](MockCluster::broker_up) | connections refused and closed, the broker's partitions led by the next live broker (offline if none); back on the same port |
//! | [`set_partition_leader`](MockCluster::set_partition_leader) | `NOT_LEADER_OR_FOLLOWER` (with the new leader from v10) until the client moves |
//! | [`set_advertised_address`](MockCluster::set_advertised_address) | Metadata and leader hints name another address for a broker (standing, until reset with `None`); the broker still listens on its own, so the bootstrap servers work while, say, a dead port is advertised: the situation KIP-899 rebootstrap recovers from |
//! | [`set_sink_mode`](MockCluster::set_sink_mode) | produce acknowledged with consecutive offsets, records not stored (to measure a producer, not the mock) |
//! | [`clear_faults`](MockCluster::clear_faults) | forget every queued fault and delay |
//!
//! Where each one hooks into a request's path is drawn in `fault.rs`.
//! Idempotence is Kafka's, so these faults show what a real broker would
//! do: a batch appended whose answer was lost, resent with the same
//! sequence, is answered with success and its original offset (while it is
//! one of the producer's last five batches on the partition); a sequence
//! after a gap is `OUT_OF_ORDER_SEQUENCE_NUMBER`.
//!
//! ```
//! use std::time::Duration;
//!
//! use kafka_producer::mock::{Corruption, Disconnect, MockCluster};
//! use kafka_producer::producer::serialization::StringSerializer;
//! use kafka_producer::protocol::{ApiKey, ErrorCode};
//! use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};
//!
//! let cluster = MockCluster::builder().brokers(2).start()?;
//! cluster.create_topic("orders", 1)?;
//! cluster.set_partition_leader("orders", 0, 1)?;
//! let config = ProducerConfig::builder(&cluster.bootstrap_servers())
//!     .retry_backoff_ms(5)
//!     .build()?;
//! let producer: KafkaProducer<String, String> =
//!     KafkaProducer::new(config, StringSerializer, StringSerializer)?;
//! let send = |value: &str| producer.send(ProducerRecord::new("orders", value.to_owned()));
//! send("first")?.get()?;
//!
//! // Two failed produce requests, a lost answer, a garbled one, a slow
//! // broker: the producer retries, and the broker drops the duplicate.
//! cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::NOT_ENOUGH_REPLICAS; 2]);
//! send("second")?.get()?;
//! cluster.drop_connection_after(Some(1), Some(ApiKey::PRODUCE), 1, Disconnect::AfterHandling);
//! send("third")?.get()?;
//! cluster.corrupt_next_response(None, Some(ApiKey::PRODUCE), Corruption::Garbage);
//! send("fourth")?.get()?;
//! cluster.set_round_trip_time(1, Duration::from_millis(20));
//!
//! // The leader crashes: broker 2 takes over the partition.
//! cluster.broker_down(1)?;
//! assert_eq!(cluster.partition_leader("orders", 0), Some(2));
//! assert_eq!(send("fifth")?.get()?.offset(), 4);
//!
//! let values: Vec<_> = cluster.records("orders", 0).into_iter().map(|r| r.value).collect();
//! assert_eq!(values.len(), 5, "each record once");
//! assert_eq!(values[4].as_deref(), Some(&b"fifth"[..]));
//! cluster.broker_up(1)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//!
//! use kafka_producer::mock::MockCluster;
//! use kafka_producer::protocol::header::{decode_response, encode_request, RequestHeader};
//! use kafka_producer::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
//! use kafka_producer::protocol::ApiKey;
//!
//! let cluster = MockCluster::builder().brokers(3).default_partitions(4).start()?;
//! cluster.create_topic("orders", 2)?;
//! cluster.set_partition_leader("orders", 0, 3)?;
//!
//! // Any Kafka client can connect to `cluster.bootstrap_servers()`; here, a
//! // Metadata request by hand.
//! let first = cluster.bootstrap_servers().split(',').next().unwrap().to_owned();
//! let mut socket = TcpStream::connect(first)?;
//! let header = RequestHeader {
//!     api_key: ApiKey::METADATA,
//!     api_version: 12,
//!     correlation_id: 1,
//!     client_id: Some("doc".into()),
//! };
//! let mut frame = Vec::new();
//! encode_request(&mut frame, &header, &MetadataRequest::topics(["orders", "new"], true))?;
//! socket.write_all(&frame)?;
//! let mut size = [0u8; 4];
//! socket.read_exact(&mut size)?;
//! let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
//! socket.read_exact(&mut body)?;
//! let (_, metadata) = decode_response::<MetadataResponse>(&body, 12)?;
//!
//! assert_eq!(metadata.brokers.len(), 3);
//! assert_eq!(metadata.topics[0].partitions[0].leader_id, 3);
//! assert_eq!(metadata.topics[1].partitions.len(), 4); // auto-created
//! assert_eq!(cluster.records("orders", 0), []);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod broker;
mod cluster;
mod cluster_faults;
mod connection;
mod fault;
mod handlers;
mod partition_log;
mod produce;
mod state;

pub use cluster::{
    MockCluster, MockClusterBuilder, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_REQUEST_BYTES,
};
pub use fault::{Corruption, Disconnect};
pub use partition_log::StoredRecord;

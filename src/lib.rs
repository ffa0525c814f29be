//! A blocking, thread-based Apache Kafka producer.
//!
//! This crate rebuilds the Java `KafkaProducer` design in Rust: caller threads
//! append records into per-partition batches (`RecordAccumulator`), taking
//! memory from a bounded `BufferPool`, and one network thread named
//! `kafka-producer-network-thread | <client.id>` sends whole batches to the
//! partition leaders. There is no async runtime and, in the default build, no
//! C library.
//!
//! # Quick start
//!
//! ```
//! # #[cfg(feature = "mock")] {
//! use kafka_producer::mock::MockCluster;
//! use kafka_producer::producer::serialization::StringSerializer;
//! use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};
//!
//! // An embedded broker for the example; use your cluster's addresses.
//! let cluster = MockCluster::builder().brokers(3).start()?;
//! cluster.create_topic("orders", 4)?;
//!
//! let config = ProducerConfig::builder(&cluster.bootstrap_servers())
//!     .linger_ms(5)
//!     .build()?;
//! let producer = KafkaProducer::new(config, StringSerializer, StringSerializer)?;
//!
//! // Wait for the acknowledgement...
//! let record = ProducerRecord::new("orders", "order #1".to_owned()).with_key("customer-7".to_owned());
//! let metadata = producer.send(record)?.get()?;
//! println!("stored at {}-{} offset {}", metadata.topic(), metadata.partition(), metadata.offset());
//!
//! // ...or be called back on the producer's network thread.
//! producer.send_with_callback(ProducerRecord::new("orders", "order #2".to_owned()), |result| {
//!     if let Err(e) = result {
//!         eprintln!("order #2 failed: {e}");
//!     }
//! })?;
//! producer.flush()?;
//! producer.close()?;
//! assert_eq!(cluster.records("orders", metadata.partition())[0].value.as_deref(), Some(&b"order #1"[..]));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is built
//!
//! * [`KafkaProducer`]: `send`, `send_with_callback`,
//!   `send_with_callback_only`, `flush`, `partitions_for`, `close`; idempotent by default (producer id,
//!   per-partition sequences), as Java 4.3;
//! * the network thread (`Sender`, `NetworkClient`, `Selector` over `mio`):
//!   ApiVersions negotiation, metadata refresh, produce requests, retries
//!   with backoff, delivery and request timeouts;
//! * [`protocol`]: the wire codec and the ApiVersions, Metadata, Produce
//!   and InitProducerId messages, checked against bytes written by the
//!   Java client 4.3.0;
//! * [`record`]: `RecordBatch` v2 building, with every Kafka codec (gzip,
//!   snappy, lz4, zstd; pure Rust unless feature `zstd-native`) and Java's
//!   size estimates, including its compression ratio estimator;
//! * [`producer::ProducerConfig`]: every producer configuration key under
//!   its Java name, with Java's defaults and validation rules;
//! * partitioning: Java's built-in partitioner (murmur2 for keys, uniform
//!   sticky and adaptive for unkeyed records) and the
//!   [`producer::Partitioner`] trait;
//! * [`mock::MockCluster`] (feature `mock`, on by default): an embedded
//!   broker for tests.
//!
//! Not yet: transactions, TLS/SASL, metrics.
//!
//! # Threads and the path of one record
//!
//! ```text
//!  caller threads                                one network thread
//!                                                 "kafka-producer-network-thread | <client.id>"
//!  send(record)
//!   serialize, partition, size check
//!   RecordAccumulator::append  --lock batches[tp]-->  ready -> drain -> send
//!     BufferPool::allocate (blocks at most max.block.ms)    poll responses
//!   return SendFuture  <---- one-shot completion slot ----  batch.done()
//! ```

// No unsafe code in this crate. `deny`, not `forbid`, only because
// `smallbox!` (the in-place send callbacks, producer/future.rs) expands to
// an `#[allow(unsafe_code)]` block of that crate's own.
#![deny(unsafe_code)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]
#![warn(missing_debug_implementations)]

pub mod common;
pub mod error;
#[cfg(feature = "mock")]
pub mod mock;
pub mod producer;
pub mod protocol;
pub mod record;
#[cfg(feature = "tools")]
pub mod tools;
pub mod util;

pub(crate) mod clients;
pub(crate) mod network;

pub use error::{Error, Result};
pub use producer::{KafkaProducer, ProducerConfig, ProducerRecord, RecordMetadata, SendFuture};

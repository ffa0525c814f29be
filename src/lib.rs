//! A blocking, thread-based Apache Kafka producer.
//!
//! This crate rebuilds the Java `KafkaProducer` design in Rust: caller threads
//! append records into per-partition batches (`RecordAccumulator`), taking
//! memory from a bounded `BufferPool`, and one network thread named
//! `kafka-producer-network-thread | <client.id>` sends whole batches to the
//! partition leaders. There is no async runtime and, in the default build, no
//! C library.
//!
//! # What exists today
//!
//! The socket-free core is built and proven against bytes written by the Java
//! client 4.3.0:
//!
//! * [`protocol`]: the wire codec (classic and flexible encodings, tagged
//!   fields) and the ApiVersions, Metadata, Produce and InitProducerId
//!   messages, with version negotiation;
//! * [`record`]: `RecordBatch` v2 building (`MemoryRecordsBuilder`), with
//!   gzip compression and Java's size estimates;
//! * [`producer::ProducerConfig`]: every producer configuration key under its
//!   Java name, with Java's defaults and validation rules;
//! * partitioning: Java's built-in partitioner (murmur2 for keys, uniform
//!   sticky and adaptive for unkeyed records) and the [`producer::Partitioner`]
//!   trait;
//! * the `BufferPool`, `RecordAccumulator` and `ProducerBatch` that sit between
//!   caller threads and the network thread, with [`producer::SendFuture`].
//!
//! The network thread and the public `KafkaProducer` come next.
//!
//! # Threads and the path of one record
//!
//! ```text
//!  caller threads                                one network thread
//!  send(record)
//!   serialize, partition, size check
//!   RecordAccumulator::append  --lock batches[tp]-->  ready -> drain -> send
//!     BufferPool::allocate (blocks at most max.block.ms)    poll responses
//!   return SendFuture  <---- one-shot completion slot ----  batch.done()
//! ```

#![forbid(unsafe_code)]
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

//! The producer's public API (the Java `org.apache.kafka.clients.producer`
//! package): configuration, records, futures, partitioners.
//!
//! [`KafkaProducer`] is the entry point; the network thread and the
//! machinery behind it are crate-private (`internals`).

pub mod config;
pub mod future;
pub mod interceptor;
pub mod kafka_producer;
pub mod partitioner;
pub mod record;
pub mod serialization;

pub(crate) mod internals;

pub use config::{
    Acks, BootstrapServer, ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind,
    ProducerConfig, ProducerConfigBuilder, RecordingLevel, SerializerClass,
};
pub use future::SendFuture;
pub use interceptor::ProducerInterceptor;
pub use kafka_producer::{KafkaProducer, KafkaProducerBuilder};
pub use partitioner::{Partitioner, RoundRobinPartitioner};
pub use record::{Header, ProducerRecord, RecordMetadata};
pub use serialization::Serializer;

//! The producer's public API (the Java `org.apache.kafka.clients.producer`
//! package): configuration, records, futures, partitioners.
//!
//! The network thread and `KafkaProducer` itself are not built yet; what is
//! here can be used and tested without a socket.

pub mod config;
pub mod future;
pub mod interceptor;
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
pub use partitioner::{Partitioner, RoundRobinPartitioner};
pub use record::{Header, ProducerRecord, RecordMetadata};
pub use serialization::Serializer;

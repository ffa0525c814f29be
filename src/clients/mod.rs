//! Client plumbing shared by any Kafka client (the Java
//! `org.apache.kafka.clients` package): network client, in-flight requests,
//! connection states, metadata and negotiated API versions.
//!
//! Nothing is here yet: this module is filled when the network thread is built
//! (see the architecture document). It knows correlation ids, not batches.

pub(crate) mod metadata;

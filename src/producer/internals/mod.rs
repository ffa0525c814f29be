//! The producer's machinery (the Java
//! `org.apache.kafka.clients.producer.internals` package), crate-private.

pub(crate) mod buffer_pool;

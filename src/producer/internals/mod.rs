//! The producer's machinery (the Java
//! `org.apache.kafka.clients.producer.internals` package), crate-private.

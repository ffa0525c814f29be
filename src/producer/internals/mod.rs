//! The producer's machinery (the Java
//! `org.apache.kafka.clients.producer.internals` package), crate-private.

pub(crate) mod accumulator;
pub(crate) mod buffer_pool;
pub(crate) mod built_in_partitioner;
pub(crate) mod compression_ratio_estimator;
pub(crate) mod producer_batch;
pub(crate) mod producer_metadata;
pub(crate) mod sender;
pub(crate) mod topic_cache;
pub(crate) mod transaction_manager;

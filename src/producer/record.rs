//! What the producer reports about a record once the broker has
//! acknowledged it: [`RecordMetadata`] (the Java `RecordMetadata`).
//!
//! `ProducerRecord` and headers on the user side arrive with the public
//! producer; this module holds only the acknowledgement side for now.

use std::fmt;

use crate::common::TopicPartition;
use crate::record::NO_TIMESTAMP;

/// The offset reported when the broker did not return one (Java
/// `ProduceResponse.INVALID_OFFSET`), e.g. with `acks=0`.
const INVALID_OFFSET: i64 = -1;

/// The metadata of a record the broker acknowledged.
///
/// Returned by [`SendFuture::get`](crate::producer::SendFuture::get) and
/// given to send callbacks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordMetadata {
    topic_partition: TopicPartition,
    offset: i64,
    timestamp: i64,
    serialized_key_size: i32,
    serialized_value_size: i32,
}

impl RecordMetadata {
    /// The partition value of a record whose partition is not chosen yet
    /// (Java `RecordMetadata.UNKNOWN_PARTITION`): the producer's built-in
    /// partitioner picks one when the record is appended.
    pub const UNKNOWN_PARTITION: i32 = -1;

    /// Metadata for the record at `batch_index` in a batch whose first record
    /// got `base_offset`.
    ///
    /// The offset is `base_offset + batch_index`, or -1 when `base_offset` is
    /// -1 (the offset is unknown, e.g. with `acks=0`). `timestamp` is the
    /// log-append time when the broker assigned one, otherwise the record's
    /// create time; -1 means none. Sizes are -1 for a null key or value.
    #[must_use]
    pub fn new(
        topic_partition: TopicPartition,
        base_offset: i64,
        batch_index: i32,
        timestamp: i64,
        serialized_key_size: i32,
        serialized_value_size: i32,
    ) -> Self {
        // Java ignores the index when the base offset is unknown.
        let offset = if base_offset == INVALID_OFFSET {
            INVALID_OFFSET
        } else {
            base_offset + i64::from(batch_index)
        };
        RecordMetadata {
            topic_partition,
            offset,
            timestamp,
            serialized_key_size,
            serialized_value_size,
        }
    }

    /// The topic the record was appended to.
    #[must_use]
    pub fn topic(&self) -> &str {
        self.topic_partition.topic()
    }

    /// The partition the record was appended to.
    #[must_use]
    pub fn partition(&self) -> i32 {
        self.topic_partition.partition()
    }

    /// The topic and partition together.
    #[must_use]
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.topic_partition
    }

    /// Whether the broker reported an offset.
    #[must_use]
    pub fn has_offset(&self) -> bool {
        self.offset != INVALID_OFFSET
    }

    /// The record's offset in its partition, or -1 when
    /// [`has_offset`](Self::has_offset) is false.
    #[must_use]
    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// Whether a timestamp is known.
    #[must_use]
    pub fn has_timestamp(&self) -> bool {
        self.timestamp != NO_TIMESTAMP
    }

    /// The record's timestamp in milliseconds since the epoch: the broker's
    /// log-append time for topics using `LogAppendTime`, otherwise the
    /// record's create time; -1 when [`has_timestamp`](Self::has_timestamp)
    /// is false.
    #[must_use]
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The size of the serialized, uncompressed key in bytes, -1 for a null
    /// key.
    #[must_use]
    pub fn serialized_key_size(&self) -> i32 {
        self.serialized_key_size
    }

    /// The size of the serialized, uncompressed value in bytes, -1 for a
    /// null value.
    #[must_use]
    pub fn serialized_value_size(&self) -> i32 {
        self.serialized_value_size
    }
}

impl fmt::Display for RecordMetadata {
    /// Java's form: `topic-partition@offset`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.topic_partition, self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_base_plus_index_unless_unknown() {
        let tp = TopicPartition::new("t", 3);
        let m = RecordMetadata::new(tp.clone(), 100, 7, 5, 1, -1);
        assert_eq!(m.offset(), 107);
        assert!(m.has_offset());
        assert_eq!((m.topic(), m.partition()), ("t", 3));
        assert_eq!(
            (m.serialized_key_size(), m.serialized_value_size()),
            (1, -1)
        );
        assert_eq!(m.to_string(), "t-3@107");

        let m = RecordMetadata::new(tp, -1, 7, -1, -1, -1);
        assert_eq!(m.offset(), -1);
        assert!(!m.has_offset());
        assert!(!m.has_timestamp());
    }
}

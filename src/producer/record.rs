//! Records in and out: [`ProducerRecord`] (what a user sends, Java
//! `ProducerRecord`) and [`RecordMetadata`] (what the producer reports once
//! the broker has acknowledged it, Java `RecordMetadata`).

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

pub use crate::record::Header;

/// A record to send: topic, optional partition, key, value, headers and
/// timestamp (Java `ProducerRecord`).
///
/// `key` and `value` are typed; the producer's serializers turn them into
/// bytes. A `None` key or value is sent as null (a `None` value is a
/// tombstone on compacted topics); null and empty are distinct.
///
/// Without a partition, the partition comes from the configured partitioner,
/// else `murmur2(key)` for keyed records, else the built-in sticky
/// partitioner. Without a timestamp, the producer stamps the send time.
///
/// ```
/// use kafka_producer::producer::ProducerRecord;
///
/// let record = ProducerRecord::new("orders", "payload")
///     .with_key("order-17")
///     .with_header("trace-id", b"abc".to_vec())
///     .with_timestamp(1_700_000_000_000);
/// assert_eq!(record.topic(), "orders");
/// assert_eq!(record.key(), Some(&"order-17"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerRecord<K, V> {
    topic: String,
    partition: Option<i32>,
    key: Option<K>,
    value: Option<V>,
    headers: Vec<Header>,
    timestamp: Option<i64>,
}

impl<K, V> ProducerRecord<K, V> {
    /// A record with a value and no key.
    #[must_use]
    pub fn new(topic: impl Into<String>, value: V) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// A record with a null value (a tombstone) and this key.
    #[must_use]
    pub fn tombstone(topic: impl Into<String>, key: K) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: Some(key),
            value: None,
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    #[must_use]
    pub fn with_key(mut self, key: K) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets or clears the key.
    #[must_use]
    pub fn with_key_opt(mut self, key: Option<K>) -> Self {
        self.key = key;
        self
    }

    /// Sets or clears the value (`None` is a null value).
    #[must_use]
    pub fn with_value_opt(mut self, value: Option<V>) -> Self {
        self.value = value;
        self
    }

    /// Sends to this partition, bypassing the partitioner. Must be in
    /// range, or `send` fails.
    #[must_use]
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Sets the create time in milliseconds since the epoch (non-negative).
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Adds a header with a value.
    #[must_use]
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(Header::new(key, value));
        self
    }

    /// Adds a header with a null value.
    #[must_use]
    pub fn with_null_header(mut self, key: impl Into<String>) -> Self {
        self.headers.push(Header::null(key));
        self
    }

    /// Replaces the headers.
    #[must_use]
    pub fn with_headers(mut self, headers: Vec<Header>) -> Self {
        self.headers = headers;
        self
    }

    /// The topic.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The explicit partition, if any.
    #[must_use]
    pub fn partition(&self) -> Option<i32> {
        self.partition
    }

    /// The key, if any.
    #[must_use]
    pub fn key(&self) -> Option<&K> {
        self.key.as_ref()
    }

    /// The value, if any.
    #[must_use]
    pub fn value(&self) -> Option<&V> {
        self.value.as_ref()
    }

    /// The headers, in order.
    #[must_use]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Mutable access to the headers (for interceptors).
    pub fn headers_mut(&mut self) -> &mut Vec<Header> {
        &mut self.headers
    }

    /// The explicit timestamp, if any.
    #[must_use]
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// Java's checks on a record's own fields: a negative partition or
    /// timestamp is invalid (Java's `IllegalArgumentException` messages).
    pub fn validate(&self) -> Result<(), crate::Error> {
        if let Some(t) = self.timestamp.filter(|t| *t < 0) {
            return Err(crate::Error::Other(format!(
                "Invalid timestamp: {t}. Timestamp should always be non-negative or null."
            )));
        }
        if let Some(p) = self.partition.filter(|p| *p < 0) {
            return Err(crate::Error::Other(format!(
                "Invalid partition: {p}. Partition number should always be non-negative or null."
            )));
        }
        Ok(())
    }

    /// Splits the record into its parts: topic, partition, key, value,
    /// headers, timestamp.
    #[allow(clippy::type_complexity)]
    #[must_use]
    pub fn into_parts(
        self,
    ) -> (
        String,
        Option<i32>,
        Option<K>,
        Option<V>,
        Vec<Header>,
        Option<i64>,
    ) {
        (
            self.topic,
            self.partition,
            self.key,
            self.value,
            self.headers,
            self.timestamp,
        )
    }
}

#[cfg(test)]
mod producer_record_tests {
    use super::*;

    #[test]
    fn builder_sets_every_field_and_null_differs_from_empty() {
        let r = ProducerRecord::new("t", Vec::<u8>::new())
            .with_key(vec![1u8])
            .with_partition(3)
            .with_timestamp(5)
            .with_header("a", b"".to_vec())
            .with_null_header("b");
        assert_eq!(r.partition(), Some(3));
        assert_eq!(r.value(), Some(&Vec::new()));
        assert_eq!(r.headers()[0].value, Some(Vec::new()));
        assert_eq!(r.headers()[1].value, None);
        let t: ProducerRecord<&str, &str> = ProducerRecord::tombstone("t", "k");
        assert_eq!(t.value(), None);
        assert!(r.validate().is_ok());
    }

    #[test]
    fn negative_partition_or_timestamp_is_rejected_with_java_messages() {
        let e = ProducerRecord::<(), i32>::new("t", 1)
            .with_timestamp(-1)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("Invalid timestamp: -1"), "{e}");
        let e = ProducerRecord::<(), i32>::new("t", 1)
            .with_partition(-2)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("Invalid partition: -2"), "{e}");
    }
}

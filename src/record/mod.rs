//! Record batches, magic v2 (the Java `org.apache.kafka.common.record` and
//! `compress` packages), sans-IO.
//!
//! * [`MemoryRecordsBuilder`] writes one `RecordBatch` v2 into a pooled
//!   buffer, with Java's size estimates so batches fill exactly as Java's do;
//! * [`default_record`] encodes one record and computes its sizes;
//! * [`compression`]: every Kafka codec (none, gzip, snappy, lz4, zstd);
//! * [`record_batch`] reads batches back from untrusted bytes ([`RecordBatch`],
//!   [`RecordBatches`]), for tests, the mock broker and log readers.
//!
//! No sockets, threads, locks or clock: timestamps are given by the caller.

pub mod compression;
pub mod default_record;
pub mod memory_records_builder;
pub mod record_batch;

pub use compression::{Compression, CompressionType};
pub use default_record::Header;
pub use memory_records_builder::{MemoryRecordsBuilder, SizedRecord};
pub use record_batch::{OwnedRecord, Record, RecordBatch, RecordBatches, RecordHeader, Records};

/// Bytes of the v2 batch header (`RECORD_BATCH_OVERHEAD`).
pub const RECORD_BATCH_OVERHEAD: usize = 61;
/// Offset of the batch length field.
pub const LENGTH_OFFSET: usize = 8;
/// Bytes before the batch length field counts (base offset + length).
pub const LOG_OVERHEAD: usize = 12;
/// Offset of the partition leader epoch.
pub const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
/// Offset of the magic byte.
pub const MAGIC_OFFSET: usize = 16;
/// Offset of the CRC.
pub const CRC_OFFSET: usize = 17;
/// Offset of the attributes; the CRC covers from here to the end.
pub const ATTRIBUTES_OFFSET: usize = 21;
/// Offset of the last offset delta.
pub const LAST_OFFSET_DELTA_OFFSET: usize = 23;
/// Offset of the base timestamp.
pub const BASE_TIMESTAMP_OFFSET: usize = 27;
/// Offset of the max timestamp.
pub const MAX_TIMESTAMP_OFFSET: usize = 35;
/// Offset of the producer id.
pub const PRODUCER_ID_OFFSET: usize = 43;
/// Offset of the producer epoch.
pub const PRODUCER_EPOCH_OFFSET: usize = 51;
/// Offset of the base sequence.
pub const BASE_SEQUENCE_OFFSET: usize = 53;
/// Offset of the record count.
pub const RECORDS_COUNT_OFFSET: usize = 57;
/// The only magic this crate writes.
pub const MAGIC_V2: i8 = 2;
/// The timestamp of a record without one.
pub const NO_TIMESTAMP: i64 = -1;
/// Producer id, epoch and sequence of a non-idempotent batch.
pub const NO_PRODUCER_ID: i64 = -1;
/// See [`NO_PRODUCER_ID`].
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// See [`NO_PRODUCER_ID`].
pub const NO_SEQUENCE: i32 = -1;
/// Attribute bit: transactional batch.
pub const TRANSACTIONAL_FLAG: i16 = 0x10;
/// Attribute bit: control batch.
pub const CONTROL_FLAG: i16 = 0x20;
/// Attribute bit: log-append-time timestamps.
pub const TIMESTAMP_TYPE_FLAG: i16 = 0x08;
/// Attribute bits: the codec.
pub const COMPRESSION_CODEC_MASK: i16 = 0x07;

/// Java's `DefaultRecordBatch.incrementSequence`: sequences run from 0 to
/// `i32::MAX` and wrap to 0.
///
/// Uses Java's `int` arithmetic (wrapping), so deltas read from untrusted
/// bytes, even negative ones, give Java's answer instead of overflowing.
#[must_use]
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    if sequence > i32::MAX.wrapping_sub(increment) {
        increment
            .wrapping_sub(i32::MAX.wrapping_sub(sequence))
            .wrapping_sub(1)
    } else {
        sequence.wrapping_add(increment)
    }
}

/// Java's `DefaultRecordBatch.decrementSequence` (wrapping like Java's `int`).
#[must_use]
pub fn decrement_sequence(sequence: i32, decrement: i32) -> i32 {
    if sequence < decrement {
        i32::MAX
            .wrapping_sub(decrement.wrapping_sub(sequence))
            .wrapping_add(1)
    } else {
        sequence.wrapping_sub(decrement)
    }
}

/// Java's `AbstractRecords.estimateSizeInBytesUpperBound` for magic v2: the
/// batch header plus the record's size upper bound. Used to size a new
/// batch's buffer and to reject records larger than `max.request.size`.
#[must_use]
pub fn estimate_size_in_bytes_upper_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    RECORD_BATCH_OVERHEAD + default_record::record_size_upper_bound(key, value, headers)
}

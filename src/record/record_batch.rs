//! Reading magic v2 record batches back from untrusted bytes (Java
//! `DefaultRecordBatch`, `DefaultRecord.readFrom` and `MemoryRecords.batches()`).
//!
//! ```text
//!  bytes ─RecordBatch::parse─> RecordBatch ─validate()─> magic, length, CRC-32C, codec, count
//!  bytes ─RecordBatches::new─> RecordBatch*  (concatenated batches; error at a cut one)
//!
//!  RecordBatch ─records(max_bytes)─> Records ─iter()─> Result<Record, DecodeError>*
//!              (borrowed when uncompressed,     (offset, timestamp, sequence, key,
//!               decompressed within max_bytes)    value, headers: all borrowed)
//! ```
//!
//! Writing is [`MemoryRecordsBuilder`](crate::record::MemoryRecordsBuilder)'s
//! job; this module only reads. It serves the tests, the mock broker (to check
//! what the producer sends) and anything that reads a log back.
//!
//! Nothing here panics on any input, and nothing is allocated from a length
//! or count before it is checked against the bytes that remain; a compressed
//! section is inflated only up to the caller's bound. Errors name the field
//! that failed (`"RecordBatch.crc"`, `"Record.key"`, ...).
//!
//! Where Java is lenient this reader is strict, because its users check what
//! a producer wrote: a key, value or header value length below -1 is an
//! error (Java reads any negative length as null), and so is a cut batch in
//! [`RecordBatches`] (Java stops silently). Header keys are kept as bytes, as
//! the broker keeps them; [`RecordHeader::key_str`] checks their UTF-8.

use std::borrow::Cow;
use std::fmt;

use crate::error::Result;
use crate::protocol::codec::{DecodeError, DecodeErrorKind, Reader};
use crate::record::compression::{self, CompressionType};
use crate::record::{
    increment_sequence, ATTRIBUTES_OFFSET, BASE_SEQUENCE_OFFSET, BASE_TIMESTAMP_OFFSET,
    COMPRESSION_CODEC_MASK, CONTROL_FLAG, CRC_OFFSET, LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET,
    LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2, MAX_TIMESTAMP_OFFSET, NO_SEQUENCE,
    PARTITION_LEADER_EPOCH_OFFSET, PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET,
    RECORD_BATCH_OVERHEAD, TIMESTAMP_TYPE_FLAG, TRANSACTIONAL_FLAG,
};
use crate::util::crc::crc32c;

mod records;

pub use records::{OwnedRecord, Record, RecordHeader, RecordIter, Records};

/// The smallest encoded record: one byte each for length, attributes,
/// timestamp delta, offset delta, key length, value length and header count.
pub const MIN_RECORD_SIZE: usize = 7;

/// Attribute bit 6: `baseTimestamp` holds the log cleaner's delete horizon.
const DELETE_HORIZON_FLAG: i16 = 0x40;

fn err(field: &'static str, kind: DecodeErrorKind) -> DecodeError {
    DecodeError::new(field, kind)
}

/// A read-only view over the bytes of one magic v2 record batch.
///
/// [`RecordBatch::parse`] only checks that the 61-byte header is there, so
/// every header accessor works on any input; call [`RecordBatch::validate`]
/// before trusting the batch.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecordBatch<'a> {
    /// At least [`RECORD_BATCH_OVERHEAD`] bytes (checked by `parse`).
    bytes: &'a [u8],
}

impl fmt::Debug for RecordBatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Like Java's `DefaultRecordBatch.toString`: header facts, no payload.
        f.debug_struct("RecordBatch")
            .field("size", &self.bytes.len())
            .field("base_offset", &self.base_offset())
            .field("last_offset", &self.last_offset())
            .field("magic", &self.magic())
            .field("attributes", &self.attributes())
            .field("producer_id", &self.producer_id())
            .field("producer_epoch", &self.producer_epoch())
            .field("base_sequence", &self.base_sequence())
            .field("records_count", &self.records_count())
            .field("crc", &self.crc())
            .finish()
    }
}

impl<'a> RecordBatch<'a> {
    /// A view over `bytes`, which should hold exactly one batch. Fails only
    /// if the 61-byte header is incomplete.
    pub fn parse(bytes: &'a [u8]) -> std::result::Result<Self, DecodeError> {
        if bytes.len() < RECORD_BATCH_OVERHEAD {
            return Err(err("RecordBatch", DecodeErrorKind::Truncated));
        }
        Ok(RecordBatch { bytes })
    }

    fn array<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        // In bounds: every caller reads inside the 61-byte header, which
        // `parse` guarantees.
        out.copy_from_slice(&self.bytes[at..at + N]);
        out
    }

    /// Checks what a broker checks before accepting a batch: magic 2, a batch
    /// length equal to the bytes held (exactly one batch, nothing after it),
    /// the CRC-32C over bytes `[21..]`, a known codec, and a record count that
    /// is not negative and, when uncompressed, fits in the records section.
    ///
    /// Does not require `recordsCount == lastOffsetDelta + 1`: compaction may
    /// leave batches with fewer records than their offset range.
    pub fn validate(&self) -> std::result::Result<(), DecodeError> {
        if self.magic() != MAGIC_V2 {
            return Err(err("RecordBatch.magic", DecodeErrorKind::InvalidValue));
        }
        let declared = i64::from(self.batch_length()) + LOG_OVERHEAD as i64;
        let held = self.bytes.len() as i64;
        if declared < RECORD_BATCH_OVERHEAD as i64 {
            return Err(err(
                "RecordBatch.batchLength",
                DecodeErrorKind::InvalidLength,
            ));
        }
        if declared > held {
            return Err(err(
                "RecordBatch.batchLength",
                DecodeErrorKind::LengthExceedsInput,
            ));
        }
        if declared < held {
            return Err(err(
                "RecordBatch.batchLength",
                DecodeErrorKind::TrailingBytes,
            ));
        }
        if self.crc() != self.compute_crc() {
            return Err(err("RecordBatch.crc", DecodeErrorKind::InvalidValue));
        }
        let kind = self.compression_type()?;
        let count = self.checked_count()?;
        if kind == CompressionType::None {
            check_count_fits(count, self.compressed_records().len())?;
        }
        Ok(())
    }

    /// Whether [`RecordBatch::validate`] passes.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// The bytes of the batch, header included.
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes held by this view: `12 + batch_length()` once validated (Java
    /// `sizeInBytes`).
    #[must_use]
    pub fn size_in_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The offset of the first record (the producer writes 0).
    #[must_use]
    pub fn base_offset(&self) -> i64 {
        i64::from_be_bytes(self.array(0))
    }

    /// The length field: bytes after it, i.e. total size minus 12.
    #[must_use]
    pub fn batch_length(&self) -> i32 {
        i32::from_be_bytes(self.array(LENGTH_OFFSET))
    }

    /// The partition leader epoch (-1 from a producer).
    #[must_use]
    pub fn partition_leader_epoch(&self) -> i32 {
        i32::from_be_bytes(self.array(PARTITION_LEADER_EPOCH_OFFSET))
    }

    /// The magic byte (2 for every batch this crate accepts).
    #[must_use]
    pub fn magic(&self) -> i8 {
        i8::from_be_bytes(self.array(MAGIC_OFFSET))
    }

    /// The stored CRC-32C.
    #[must_use]
    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(self.array(CRC_OFFSET))
    }

    /// The CRC-32C of bytes `[21..]`, what [`RecordBatch::crc`] should be.
    #[must_use]
    pub fn compute_crc(&self) -> u32 {
        crc32c(&self.bytes[ATTRIBUTES_OFFSET..])
    }

    /// The raw attributes.
    #[must_use]
    pub fn attributes(&self) -> i16 {
        i16::from_be_bytes(self.array(ATTRIBUTES_OFFSET))
    }

    /// The codec of attribute bits 0-2; ids 5-7 are an error.
    pub fn compression_type(&self) -> std::result::Result<CompressionType, DecodeError> {
        let id = (self.attributes() & COMPRESSION_CODEC_MASK) as u8;
        CompressionType::from_id(id)
            .ok_or_else(|| err("RecordBatch.attributes", DecodeErrorKind::InvalidValue))
    }

    /// Whether timestamps are the broker's log-append time (attribute bit 3);
    /// every record then reads as [`RecordBatch::max_timestamp`].
    #[must_use]
    pub fn is_log_append_time(&self) -> bool {
        self.attributes() & TIMESTAMP_TYPE_FLAG != 0
    }

    /// Whether the batch belongs to a transaction (attribute bit 4).
    #[must_use]
    pub fn is_transactional(&self) -> bool {
        self.attributes() & TRANSACTIONAL_FLAG != 0
    }

    /// Whether this is a control batch (attribute bit 5).
    #[must_use]
    pub fn is_control(&self) -> bool {
        self.attributes() & CONTROL_FLAG != 0
    }

    /// Whether the base timestamp holds a delete horizon (attribute bit 6).
    #[must_use]
    pub fn has_delete_horizon(&self) -> bool {
        self.attributes() & DELETE_HORIZON_FLAG != 0
    }

    /// Offset delta of the last record.
    #[must_use]
    pub fn last_offset_delta(&self) -> i32 {
        i32::from_be_bytes(self.array(LAST_OFFSET_DELTA_OFFSET))
    }

    /// Timestamp of the first record (not the smallest), or -1.
    #[must_use]
    pub fn base_timestamp(&self) -> i64 {
        i64::from_be_bytes(self.array(BASE_TIMESTAMP_OFFSET))
    }

    /// The largest record timestamp (or the log-append time).
    #[must_use]
    pub fn max_timestamp(&self) -> i64 {
        i64::from_be_bytes(self.array(MAX_TIMESTAMP_OFFSET))
    }

    /// The producer id, -1 for a plain producer.
    #[must_use]
    pub fn producer_id(&self) -> i64 {
        i64::from_be_bytes(self.array(PRODUCER_ID_OFFSET))
    }

    /// The producer epoch, -1 for a plain producer.
    #[must_use]
    pub fn producer_epoch(&self) -> i16 {
        i16::from_be_bytes(self.array(PRODUCER_EPOCH_OFFSET))
    }

    /// The sequence of the first record, -1 for a plain producer.
    #[must_use]
    pub fn base_sequence(&self) -> i32 {
        i32::from_be_bytes(self.array(BASE_SEQUENCE_OFFSET))
    }

    /// The record count as stored (may be negative in hostile input).
    #[must_use]
    pub fn records_count(&self) -> i32 {
        i32::from_be_bytes(self.array(RECORDS_COUNT_OFFSET))
    }

    /// `base_offset + last_offset_delta` (Java `lastOffset`).
    #[must_use]
    pub fn last_offset(&self) -> i64 {
        self.base_offset()
            .wrapping_add(i64::from(self.last_offset_delta()))
    }

    /// The offset after the batch (Java `nextOffset`).
    #[must_use]
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// The last record's sequence, wrapping past `i32::MAX` to 0; -1 without
    /// a base sequence (Java `lastSequence`).
    #[must_use]
    pub fn last_sequence(&self) -> i32 {
        match self.base_sequence() {
            NO_SEQUENCE => NO_SEQUENCE,
            base => increment_sequence(base, self.last_offset_delta()),
        }
    }

    /// The base sequence the producer's next batch for this partition gets:
    /// `last_sequence + 1`, wrapping; -1 without a base sequence.
    #[must_use]
    pub fn next_batch_base_sequence(&self) -> i32 {
        match self.last_sequence() {
            NO_SEQUENCE => NO_SEQUENCE,
            last => increment_sequence(last, 1),
        }
    }

    /// The records section as stored, compressed or not.
    #[must_use]
    pub fn compressed_records(&self) -> &'a [u8] {
        &self.bytes[RECORD_BATCH_OVERHEAD..]
    }

    fn checked_count(&self) -> std::result::Result<usize, DecodeError> {
        usize::try_from(self.records_count())
            .map_err(|_| err("RecordBatch.recordsCount", DecodeErrorKind::InvalidLength))
    }

    /// The records, decompressed if needed into at most
    /// `max_uncompressed_bytes` bytes (a guard against decompression bombs;
    /// ignored for uncompressed batches, which are read in place).
    ///
    /// Fails for an unknown codec id or a negative count
    /// ([`Error::Decode`](crate::Error::Decode)), a corrupt or oversized
    /// compressed stream ([`Error::Other`](crate::Error::Other): "corrupt
    /// snappy records: ...", "decompressed zstd records exceed the limit of
    /// N bytes"), or more records than the section could hold. The CRC is not checked here: see
    /// [`RecordBatch::validate`].
    pub fn records(&self, max_uncompressed_bytes: usize) -> Result<Records<'a>> {
        let kind = self.compression_type()?;
        let count = self.checked_count()?;
        let section = match kind {
            CompressionType::None => Cow::Borrowed(self.compressed_records()),
            other => Cow::Owned(compression::decompress(
                other,
                self.compressed_records(),
                max_uncompressed_bytes,
            )?),
        };
        check_count_fits(count, section.len())?;
        Ok(Records::new(
            section,
            count,
            self.base_offset(),
            self.base_timestamp(),
            self.base_sequence(),
            self.is_log_append_time().then(|| self.max_timestamp()),
        ))
    }

    /// Every record, owned: [`RecordBatch::records`] then
    /// [`Record::to_owned_record`] for each.
    pub fn owned_records(&self, max_uncompressed_bytes: usize) -> Result<Vec<OwnedRecord>> {
        let records = self.records(max_uncompressed_bytes)?;
        let mut out = Vec::with_capacity(records.len());
        for record in records.iter() {
            out.push(record?.to_owned_record()?);
        }
        Ok(out)
    }
}

fn check_count_fits(count: usize, section_len: usize) -> std::result::Result<(), DecodeError> {
    if count.saturating_mul(MIN_RECORD_SIZE) > section_len {
        return Err(err(
            "RecordBatch.recordsCount",
            DecodeErrorKind::LengthExceedsInput,
        ));
    }
    Ok(())
}

/// The batches of a byte string holding several back to back (a Produce
/// partition's records, a fetched or stored log; Java
/// `MemoryRecords.batches()`).
///
/// Each batch is cut at its length field and not validated: call
/// [`RecordBatch::validate`] on it. Unlike Java, which silently stops at an
/// incomplete last batch, a cut batch is an error (`"RecordBatch"`,
/// truncated), after which the iterator ends.
#[derive(Debug, Clone)]
pub struct RecordBatches<'a> {
    rest: &'a [u8],
    position: usize,
    failed: bool,
}

impl<'a> RecordBatches<'a> {
    /// The batches in `bytes`.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        RecordBatches {
            rest: bytes,
            position: 0,
            failed: false,
        }
    }

    /// Where the next batch starts in the original bytes.
    #[must_use]
    pub fn position(&self) -> usize {
        self.position
    }

    fn next_batch(&mut self) -> std::result::Result<RecordBatch<'a>, DecodeError> {
        let mut r = Reader::new(self.rest);
        r.i64("RecordBatch.baseOffset")?;
        let length = r.i32("RecordBatch.batchLength")?;
        let size = usize::try_from(length)
            .ok()
            .and_then(|n| n.checked_add(LOG_OVERHEAD))
            .filter(|&n| n >= RECORD_BATCH_OVERHEAD)
            .ok_or_else(|| err("RecordBatch.batchLength", DecodeErrorKind::InvalidLength))?;
        if size > self.rest.len() {
            return Err(err("RecordBatch", DecodeErrorKind::Truncated));
        }
        let (batch, rest) = self.rest.split_at(size);
        self.rest = rest;
        self.position += size;
        RecordBatch::parse(batch)
    }
}

impl<'a> Iterator for RecordBatches<'a> {
    type Item = std::result::Result<RecordBatch<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let result = self.next_batch();
        self.failed = result.is_err();
        Some(result)
    }
}

#[cfg(test)]
mod tests;

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
//! error (Java reads any negative length as null), and a header key must be
//! valid UTF-8 only when converted with [`RecordHeader::key_str`].

use std::borrow::Cow;
use std::fmt;

#[cfg(test)]
use crate::error::Error;
use crate::error::Result;
use crate::protocol::codec::{DecodeError, DecodeErrorKind, Reader};
use crate::record::compression::{self, CompressionType};
use crate::record::default_record::Header;
use crate::record::{
    increment_sequence, ATTRIBUTES_OFFSET, BASE_SEQUENCE_OFFSET, BASE_TIMESTAMP_OFFSET,
    COMPRESSION_CODEC_MASK, CONTROL_FLAG, CRC_OFFSET, LAST_OFFSET_DELTA_OFFSET, LENGTH_OFFSET,
    LOG_OVERHEAD, MAGIC_OFFSET, MAGIC_V2, MAX_TIMESTAMP_OFFSET, NO_SEQUENCE,
    PARTITION_LEADER_EPOCH_OFFSET, PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET,
    RECORD_BATCH_OVERHEAD, TIMESTAMP_TYPE_FLAG, TRANSACTIONAL_FLAG,
};
use crate::util::crc::crc32c;

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
    /// ([`Error::Decode`](crate::Error::Decode)), a codec this build lacks
    /// ([`Error::Unsupported`](crate::Error::Unsupported): "compression type snappy is not supported
    /// ..."), a corrupt or oversized compressed stream, or more records than
    /// the section could hold. The CRC is not checked here: see
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
        Ok(Records {
            section,
            count,
            base_offset: self.base_offset(),
            base_timestamp: self.base_timestamp(),
            base_sequence: self.base_sequence(),
            log_append_time: self.is_log_append_time().then(|| self.max_timestamp()),
        })
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

/// The uncompressed records section of one batch, with what is needed to
/// give each record its absolute offset, timestamp and sequence.
pub struct Records<'a> {
    section: Cow<'a, [u8]>,
    /// Checked: `count * MIN_RECORD_SIZE <= section.len()`.
    count: usize,
    base_offset: i64,
    base_timestamp: i64,
    base_sequence: i32,
    log_append_time: Option<i64>,
}

impl fmt::Debug for Records<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("count", &self.count)
            .field("bytes", &self.section.len())
            .field("decompressed", &matches!(self.section, Cow::Owned(_)))
            .finish_non_exhaustive()
    }
}

impl Records<'_> {
    /// The record count from the batch header.
    #[must_use]
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the batch declares no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The uncompressed records section (what Java's `recordInputStream`
    /// reads).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.section
    }

    /// The records in order. Yields at most [`Records::len`] items; after an
    /// error it yields nothing more. Bytes left over after the last record are
    /// an error (`"RecordBatch.records"`, trailing bytes), as in Java.
    #[must_use]
    pub fn iter(&self) -> RecordIter<'_> {
        RecordIter {
            reader: Reader::new(&self.section),
            left: self.count,
            base_offset: self.base_offset,
            base_timestamp: self.base_timestamp,
            base_sequence: self.base_sequence,
            log_append_time: self.log_append_time,
            failed: false,
        }
    }
}

impl<'b> IntoIterator for &'b Records<'_> {
    type Item = std::result::Result<Record<'b>, DecodeError>;
    type IntoIter = RecordIter<'b>;
    fn into_iter(self) -> RecordIter<'b> {
        self.iter()
    }
}

/// Iterator over the records of a [`Records`] section.
#[derive(Debug, Clone)]
pub struct RecordIter<'b> {
    reader: Reader<'b>,
    left: usize,
    base_offset: i64,
    base_timestamp: i64,
    base_sequence: i32,
    log_append_time: Option<i64>,
    failed: bool,
}

impl<'b> Iterator for RecordIter<'b> {
    type Item = std::result::Result<Record<'b>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut result = self.read_record();
        if result.is_ok() && self.left == 0 && self.reader.remaining() != 0 {
            result = Err(err("RecordBatch.records", DecodeErrorKind::TrailingBytes));
        }
        self.failed = result.is_err();
        Some(result)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.failed {
            (0, Some(0))
        } else {
            (0, Some(self.left))
        }
    }
}

impl<'b> RecordIter<'b> {
    fn read_record(&mut self) -> std::result::Result<Record<'b>, DecodeError> {
        let start = self.reader.position();
        let body_len = self.reader.varint("Record.length")?;
        let body_len = usize::try_from(body_len)
            .map_err(|_| err("Record.length", DecodeErrorKind::InvalidLength))?;
        if body_len > self.reader.remaining() {
            return Err(err("Record.length", DecodeErrorKind::LengthExceedsInput));
        }
        let mut r = Reader::new(self.reader.take(body_len, "Record.length")?);
        let attributes = r.i8("Record.attributes")?;
        let timestamp_delta = r.varlong("Record.timestampDelta")?;
        let offset_delta = r.varint("Record.offsetDelta")?;
        let key = nullable_bytes(&mut r, "Record.key")?;
        let value = nullable_bytes(&mut r, "Record.value")?;
        let header_count = r.varint("Record.headers")?;
        let header_count = usize::try_from(header_count)
            .map_err(|_| err("Record.headers", DecodeErrorKind::InvalidLength))?;
        // A header takes at least two bytes (key length, value length).
        if header_count.saturating_mul(2) > r.remaining() {
            return Err(err("Record.headers", DecodeErrorKind::LengthExceedsInput));
        }
        let mut headers = Vec::with_capacity(header_count);
        for _ in 0..header_count {
            let key = nullable_bytes(&mut r, "Record.headerKey")?
                .ok_or_else(|| err("Record.headerKey", DecodeErrorKind::InvalidLength))?;
            let value = nullable_bytes(&mut r, "Record.headerValue")?;
            headers.push(RecordHeader { key, value });
        }
        r.finish("Record.length")?;
        let timestamp = self
            .log_append_time
            .unwrap_or_else(|| self.base_timestamp.wrapping_add(timestamp_delta));
        let sequence = if self.base_sequence >= 0 {
            increment_sequence(self.base_sequence, offset_delta)
        } else {
            NO_SEQUENCE
        };
        Ok(Record {
            attributes,
            offset_delta,
            offset: self.base_offset.wrapping_add(i64::from(offset_delta)),
            timestamp_delta,
            timestamp,
            sequence,
            key,
            value,
            headers,
            size_in_bytes: self.reader.position() - start,
        })
    }
}

/// A varint length (-1 = null) and that many bytes.
fn nullable_bytes<'b>(
    r: &mut Reader<'b>,
    field: &'static str,
) -> std::result::Result<Option<&'b [u8]>, DecodeError> {
    match r.varint(field)? {
        -1 => Ok(None),
        n => {
            let n = usize::try_from(n).map_err(|_| err(field, DecodeErrorKind::InvalidLength))?;
            if n > r.remaining() {
                return Err(err(field, DecodeErrorKind::LengthExceedsInput));
            }
            r.take(n, field).map(Some)
        }
    }
}

/// One record read from a batch; key, value and headers borrow the section.
#[derive(Clone, PartialEq, Eq)]
pub struct Record<'b> {
    /// The record attributes byte (unused, 0 from Java).
    pub attributes: i8,
    /// Offset relative to the batch's base offset.
    pub offset_delta: i32,
    /// The absolute offset: base offset + delta.
    pub offset: i64,
    /// Timestamp relative to the batch's base timestamp.
    pub timestamp_delta: i64,
    /// The timestamp: base timestamp + delta, or the batch's max timestamp
    /// for log-append-time batches (as Java reads it).
    pub timestamp: i64,
    /// `increment_sequence(base_sequence, offset_delta)`, or -1 when the
    /// batch has no base sequence.
    pub sequence: i32,
    /// The key; `None` is null, distinct from empty.
    pub key: Option<&'b [u8]>,
    /// The value; `None` is null (a tombstone), distinct from empty.
    pub value: Option<&'b [u8]>,
    /// The headers in order (duplicate keys kept).
    pub headers: Vec<RecordHeader<'b>>,
    /// Encoded size, length varint included.
    pub size_in_bytes: usize,
}

impl fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys and values may be payload: show sizes only.
        f.debug_struct("Record")
            .field("offset", &self.offset)
            .field("timestamp", &self.timestamp)
            .field("sequence", &self.sequence)
            .field("key_len", &self.key.map(<[u8]>::len))
            .field("value_len", &self.value.map(<[u8]>::len))
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl Record<'_> {
    /// An owned copy; fails if a header key is not UTF-8.
    pub fn to_owned_record(&self) -> std::result::Result<OwnedRecord, DecodeError> {
        let mut headers = Vec::with_capacity(self.headers.len());
        for h in &self.headers {
            headers.push(h.to_header()?);
        }
        Ok(OwnedRecord {
            offset: self.offset,
            timestamp: self.timestamp,
            key: self.key.map(<[u8]>::to_vec),
            value: self.value.map(<[u8]>::to_vec),
            headers,
        })
    }
}

/// A header read from a record, borrowing the section.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader<'b> {
    /// The key bytes (UTF-8 when written by a Kafka client).
    pub key: &'b [u8],
    /// The value; `None` is null, distinct from empty.
    pub value: Option<&'b [u8]>,
}

impl fmt::Debug for RecordHeader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordHeader")
            .field("key", &String::from_utf8_lossy(self.key))
            .field("value_len", &self.value.map(<[u8]>::len))
            .finish()
    }
}

impl<'b> RecordHeader<'b> {
    /// The key as a string; fails if it is not UTF-8.
    pub fn key_str(&self) -> std::result::Result<&'b str, DecodeError> {
        std::str::from_utf8(self.key)
            .map_err(|_| err("Record.headerKey", DecodeErrorKind::InvalidUtf8))
    }

    /// An owned [`Header`]; fails if the key is not UTF-8.
    pub fn to_header(&self) -> std::result::Result<Header, DecodeError> {
        Ok(Header {
            key: self.key_str()?.to_owned(),
            value: self.value.map(<[u8]>::to_vec),
        })
    }
}

/// A record copied out of a batch, for comparing and keeping.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    /// The absolute offset.
    pub offset: i64,
    /// The timestamp.
    pub timestamp: i64,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// The headers in order.
    pub headers: Vec<Header>,
}

impl fmt::Debug for OwnedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRecord")
            .field("offset", &self.offset)
            .field("timestamp", &self.timestamp)
            .field("key_len", &self.key.as_ref().map(Vec::len))
            .field("value_len", &self.value.as_ref().map(Vec::len))
            .field("headers", &self.headers)
            .finish()
    }
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

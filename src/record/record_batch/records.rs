//! The records inside one batch: [`Records`] (the uncompressed section),
//! [`RecordIter`] and the [`Record`]s it yields, each with its headers
//! ([`RecordHeader`]); [`OwnedRecord`] is a copy for keeping.
//!
//! Every length is checked against the record's own body before use, and the
//! body against the section, so a hostile length fails with the field named.

use std::borrow::Cow;
use std::fmt;

use crate::protocol::codec::{DecodeError, DecodeErrorKind, Reader};
use crate::record::default_record::Header;
use crate::record::{increment_sequence, NO_SEQUENCE};

fn err(field: &'static str, kind: DecodeErrorKind) -> DecodeError {
    DecodeError::new(field, kind)
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

impl<'a> Records<'a> {
    /// A section holding `count` records (checked against its length by the
    /// caller) of a batch with these base values.
    pub(super) fn new(
        section: Cow<'a, [u8]>,
        count: usize,
        base_offset: i64,
        base_timestamp: i64,
        base_sequence: i32,
        log_append_time: Option<i64>,
    ) -> Self {
        Records {
            section,
            count,
            base_offset,
            base_timestamp,
            base_sequence,
            log_append_time,
        }
    }

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

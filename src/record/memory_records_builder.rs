//! [`MemoryRecordsBuilder`]: writes one `RecordBatch` v2 into a buffer.
//!
//! ```text
//!  new(buffer)      append(...)*         close_for_appends()   set_producer_state()   close()
//!  [61 zero bytes]  [header][rec][rec]   no more appends       pid/epoch/seq          header + CRC written,
//!                   (or gzip stream)                                                 records() readable
//! ```
//!
//! Records are encoded straight into the batch's (pooled) buffer; with
//! compression they go through the codec's stream into the same buffer. The
//! header is written once, at [`MemoryRecordsBuilder::close`], when counts,
//! timestamps and the producer state are final; the CRC is computed then.
//! The built bytes are then held in an `Arc`, so that the producer's
//! network client can send them from this buffer while the batch keeps
//! it (a rewrite of the producer state copies them if they are still
//! being sent; see [`MemoryRecordsBuilder::reopen_and_rewrite_producer_state`]).
//!
//! Size accounting follows Java exactly (`hasRoomFor`, `isFull`,
//! `estimatedBytesWritten`), so a batch holds the same records as a Java
//! producer's batch of the same `batch.size`. The producer's append path
//! sizes each record once ([`SizedRecord`]) and hands that size to the
//! room check, the buffer's growth and the write.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::protocol::codec::Writer;
use crate::record::compression::{CompressingWriter, Compression, CompressionType};
use crate::record::default_record::{self, Header, RecordSize};
use crate::record::{
    ATTRIBUTES_OFFSET, BASE_SEQUENCE_OFFSET, CRC_OFFSET, LOG_OVERHEAD, MAGIC_V2, NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID, NO_SEQUENCE, NO_TIMESTAMP, PRODUCER_EPOCH_OFFSET, PRODUCER_ID_OFFSET,
    RECORD_BATCH_OVERHEAD, TRANSACTIONAL_FLAG,
};
use crate::util::crc::crc32c;

/// Java's `COMPRESSION_RATE_ESTIMATION_FACTOR`: estimates of compressed
/// sizes are inflated by 5 % to stay on the safe side.
const COMPRESSION_RATE_ESTIMATION_FACTOR: f32 = 1.05;

enum Sink {
    /// Uncompressed: records go straight into the buffer.
    Plain(Vec<u8>),
    /// Compressed: records go through the codec into the buffer (boxed: a
    /// codec's state is hundreds of bytes, the other variants a `Vec`).
    Compressed(Box<CompressingWriter>),
    /// Closed for appends; the buffer holds the finished records section.
    Sealed(Vec<u8>),
    /// Built: header and CRC written. Shared with the requests sending it.
    Built(Arc<Vec<u8>>),
    /// Transient state while switching, never observed.
    Empty,
}

/// A record and its encoded size, computed once by
/// [`MemoryRecordsBuilder::size_record`] for the size check, the buffer's
/// growth and the append (the unsized methods, like Java, size the record
/// again at each of them).
#[derive(Clone, Copy)]
pub struct SizedRecord<'a> {
    timestamp: i64,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    headers: &'a [Header],
    size: RecordSize,
}

impl<'a> SizedRecord<'a> {
    /// Sizes a record once, before its batch is known (at the first
    /// position of a batch): the builders it is then offered to place it
    /// at their next position without going over its headers again. Its
    /// [`size_upper_bound`](Self::size_upper_bound) is Java's
    /// `estimateSizeInBytesUpperBound` less the batch header.
    #[must_use]
    pub fn new(
        timestamp: i64,
        key: Option<&'a [u8]>,
        value: Option<&'a [u8]>,
        headers: &'a [Header],
    ) -> Self {
        SizedRecord {
            timestamp,
            key,
            value,
            headers,
            size: RecordSize::new(0, 0, key, value, headers),
        }
    }

    /// The record's timestamp.
    #[must_use]
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The record's key.
    #[must_use]
    pub fn key(&self) -> Option<&'a [u8]> {
        self.key
    }

    /// The record's value.
    #[must_use]
    pub fn value(&self) -> Option<&'a [u8]> {
        self.value
    }

    /// The record's headers.
    #[must_use]
    pub fn headers(&self) -> &'a [Header] {
        self.headers
    }

    /// The record's encoded size at the position it was sized for (Java
    /// `DefaultRecord.sizeInBytes`).
    #[must_use]
    pub fn size_in_bytes(&self) -> usize {
        self.size.in_bytes()
    }

    /// The record's size wherever it lands in a batch (Java
    /// `DefaultRecord.recordSizeUpperBound`), without going over its
    /// headers again.
    #[must_use]
    pub fn size_upper_bound(&self) -> usize {
        self.size.upper_bound()
    }
}

impl std::fmt::Debug for SizedRecord<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key and value are payload: show only their sizes.
        f.debug_struct("SizedRecord")
            .field("timestamp", &self.timestamp)
            .field("key_len", &self.key.map(<[u8]>::len))
            .field("value_len", &self.value.map(<[u8]>::len))
            .field("headers", &self.headers.len())
            .field("size", &self.size)
            .finish()
    }
}

/// Builds one magic v2 record batch.
pub struct MemoryRecordsBuilder {
    sink: Sink,
    compression: Compression,
    write_limit: usize,
    base_offset: i64,
    partition_leader_epoch: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    base_timestamp: Option<i64>,
    max_timestamp: i64,
    num_records: i32,
    last_offset_delta: Option<i32>,
    uncompressed_records_size: usize,
    estimated_compression_ratio: f32,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for MemoryRecordsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRecordsBuilder")
            .field("compression", &self.compression)
            .field("write_limit", &self.write_limit)
            .field("num_records", &self.num_records)
            .field("estimated_size", &self.estimated_size_in_bytes())
            .field("built", &self.is_built())
            .finish_non_exhaustive()
    }
}

impl MemoryRecordsBuilder {
    /// A builder writing into `buffer` (cleared first; its capacity is kept),
    /// accepting records while the estimated size stays within
    /// `write_limit` (at least one record is always accepted).
    ///
    /// Every codec is built, so this does not fail today; it stays
    /// fallible for codecs that may need setting up.
    pub fn new(mut buffer: Vec<u8>, compression: Compression, write_limit: usize) -> Result<Self> {
        buffer.clear();
        buffer.resize(RECORD_BATCH_OVERHEAD, 0);
        let sink = match CompressingWriter::new(compression, buffer) {
            Ok(w) => Sink::Compressed(Box::new(w)),
            Err(buffer) => Sink::Plain(buffer),
        };
        Ok(MemoryRecordsBuilder {
            sink,
            compression,
            write_limit,
            base_offset: 0,
            partition_leader_epoch: -1,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            base_timestamp: None,
            max_timestamp: NO_TIMESTAMP,
            num_records: 0,
            last_offset_delta: None,
            uncompressed_records_size: 0,
            estimated_compression_ratio: 1.0,
            scratch: Vec::new(),
        })
    }

    /// Sets the base offset written in the header (the producer writes 0;
    /// brokers and tests set others).
    pub fn set_base_offset(&mut self, base_offset: i64) {
        self.base_offset = base_offset;
    }

    /// Sets the partition leader epoch written in the header (the producer
    /// writes -1).
    pub fn set_partition_leader_epoch(&mut self, epoch: i32) {
        self.partition_leader_epoch = epoch;
    }

    /// Sets the compression ratio estimate used for compressed batches
    /// (Java's `setEstimatedCompressionRatio`; 1.0 by default).
    pub fn set_estimated_compression_ratio(&mut self, ratio: f32) {
        self.estimated_compression_ratio = ratio;
    }

    /// Sets producer id, epoch, base sequence and the transactional flag.
    /// Allowed until [`MemoryRecordsBuilder::close`]; afterwards use
    /// [`rewrite_producer_state`] on the built bytes.
    pub fn set_producer_state(
        &mut self,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) -> Result<()> {
        if self.is_built() {
            return Err(Error::Other(
                "Trying to set producer state of an already closed batch. This indicates a bug on the client."
                    .into(),
            ));
        }
        self.producer_id = producer_id;
        self.producer_epoch = epoch;
        self.base_sequence = base_sequence;
        self.transactional = transactional;
        Ok(())
    }

    /// Replaces producer id, epoch, base sequence and the transactional
    /// flag, before or after [`MemoryRecordsBuilder::close`] (Java's
    /// `reopenAndRewriteProducerState`, used when an idempotent producer
    /// re-sequences a batch): a built batch gets its header rewritten and
    /// its CRC recomputed in place, or in a copy if a request being sent
    /// still holds the built bytes (that request keeps the old ones).
    pub fn reopen_and_rewrite_producer_state(
        &mut self,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) -> Result<()> {
        if let Sink::Built(buf) = &mut self.sink {
            if !buf.is_empty() {
                // Checked before a shared buffer is copied for nothing.
                validate_producer_state(producer_id, epoch, base_sequence, transactional)?;
                let bytes: &mut Vec<u8> = Arc::make_mut(buf);
                rewrite_producer_state(bytes, producer_id, epoch, base_sequence, transactional)?;
            }
        }
        self.producer_id = producer_id;
        self.producer_epoch = epoch;
        self.base_sequence = base_sequence;
        self.transactional = transactional;
        Ok(())
    }

    /// The codec.
    #[must_use]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Records appended so far.
    #[must_use]
    pub fn num_records(&self) -> i32 {
        self.num_records
    }

    /// The producer id set on this batch.
    #[must_use]
    pub fn producer_id(&self) -> i64 {
        self.producer_id
    }

    /// The producer epoch set on this batch.
    #[must_use]
    pub fn producer_epoch(&self) -> i16 {
        self.producer_epoch
    }

    /// The base sequence set on this batch.
    #[must_use]
    pub fn base_sequence(&self) -> i32 {
        self.base_sequence
    }

    /// Whether the batch is transactional.
    #[must_use]
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// The write limit given at construction.
    #[must_use]
    pub fn write_limit(&self) -> usize {
        self.write_limit
    }

    /// Uncompressed size of the records appended so far.
    #[must_use]
    pub fn uncompressed_bytes_written(&self) -> usize {
        RECORD_BATCH_OVERHEAD + self.uncompressed_records_size
    }

    /// Java's `estimatedBytesWritten`: header plus records, compressed
    /// records scaled by the ratio estimate and a 5 % safety factor.
    fn estimated_bytes_written(&self) -> usize {
        if self.compression.kind() == CompressionType::None {
            RECORD_BATCH_OVERHEAD + self.uncompressed_records_size
        } else {
            RECORD_BATCH_OVERHEAD
                + (self.uncompressed_records_size as f32
                    * self.estimated_compression_ratio
                    * COMPRESSION_RATE_ESTIMATION_FACTOR) as usize
        }
    }

    /// The batch size: exact once built, estimated before.
    #[must_use]
    pub fn estimated_size_in_bytes(&self) -> usize {
        match &self.sink {
            Sink::Built(buf) => buf.len(),
            _ => self.estimated_bytes_written(),
        }
    }

    /// Whether appends have been closed.
    #[must_use]
    pub fn is_closed_for_appends(&self) -> bool {
        matches!(self.sink, Sink::Sealed(_) | Sink::Built(_))
    }

    /// Whether the batch is built (header written, bytes final).
    #[must_use]
    pub fn is_built(&self) -> bool {
        matches!(self.sink, Sink::Built(_))
    }

    /// Java's `isFull`: closed for appends, or at least one record and the
    /// estimated size has reached the write limit.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.is_closed_for_appends()
            || (self.num_records > 0 && self.write_limit <= self.estimated_bytes_written())
    }

    /// Java's `hasRoomFor`: whether a record of this shape fits, counting it
    /// uncompressed. The first record always fits.
    ///
    /// To check and then append one record, [`size_record`](Self::size_record)
    /// with [`has_room_for_sized`](Self::has_room_for_sized) and
    /// [`append_sized`](Self::append_sized) size it only once.
    #[must_use]
    pub fn has_room_for(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> bool {
        // Sized only when the answer depends on it.
        self.has_room(|b| {
            b.size_record(timestamp, key, value, headers)
                .size_in_bytes()
        })
    }

    /// [`has_room_for`](Self::has_room_for) of a record sized by
    /// [`size_record`](Self::size_record).
    #[must_use]
    pub fn has_room_for_sized(&self, record: &SizedRecord<'_>) -> bool {
        self.has_room(|b| b.positioned(record).in_bytes())
    }

    fn has_room(&self, record_size: impl FnOnce(&Self) -> usize) -> bool {
        if self.is_full() {
            return false;
        }
        if self.num_records == 0 {
            return true;
        }
        self.write_limit >= self.estimated_bytes_written() + record_size(self)
    }

    /// The estimated batch size once a record of this shape is appended:
    /// its uncompressed size added to
    /// [`estimated_size_in_bytes`](Self::estimated_size_in_bytes), what
    /// the buffer must hold.
    #[must_use]
    pub fn estimated_size_with(
        &self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> usize {
        self.estimated_size_with_sized(&self.size_record(timestamp, key, value, headers))
    }

    /// [`estimated_size_with`](Self::estimated_size_with) of a record sized
    /// by [`size_record`](Self::size_record).
    #[must_use]
    pub fn estimated_size_with_sized(&self, record: &SizedRecord<'_>) -> usize {
        self.estimated_bytes_written() + self.positioned(record).in_bytes()
    }

    /// Sizes a record for the next append to this builder, once: the
    /// result goes to [`has_room_for_sized`](Self::has_room_for_sized),
    /// [`estimated_size_with_sized`](Self::estimated_size_with_sized) and
    /// [`append_sized`](Self::append_sized). If other records are appended
    /// in between, those re-place it at its new position, without going
    /// over its headers again.
    #[must_use]
    pub fn size_record<'a>(
        &self,
        timestamp: i64,
        key: Option<&'a [u8]>,
        value: Option<&'a [u8]>,
        headers: &'a [Header],
    ) -> SizedRecord<'a> {
        let (offset_delta, timestamp_delta) = self.next_position(timestamp);
        SizedRecord {
            timestamp,
            key,
            value,
            headers,
            size: RecordSize::new(offset_delta, timestamp_delta, key, value, headers),
        }
    }

    /// Offset delta and timestamp delta of the next record, as `hasRoomFor`
    /// computes them (wrapping: the append itself rejects an overflow).
    fn next_position(&self, timestamp: i64) -> (i32, i64) {
        (
            self.last_offset_delta.map_or(0, |d| d.wrapping_add(1)),
            self.base_timestamp.map_or(0, |b| timestamp.wrapping_sub(b)),
        )
    }

    /// `record` moved to this builder's next position, so that the sized
    /// methods then use its sizes as they are (a record sized elsewhere,
    /// e.g. with [`SizedRecord::new`], would be moved at each of them).
    pub(crate) fn placed<'a>(&self, record: &SizedRecord<'a>) -> SizedRecord<'a> {
        SizedRecord {
            size: self.positioned(record),
            ..*record
        }
    }

    /// The record's sizes at the next position of this builder.
    fn positioned(&self, record: &SizedRecord<'_>) -> RecordSize {
        let (offset_delta, timestamp_delta) = self.next_position(record.timestamp);
        record.size.at(offset_delta, timestamp_delta)
    }

    /// Makes the buffer's capacity at least `total` bytes in one step (an
    /// uncompressed batch then never reallocates below that size; a
    /// compressed one grows its output as the codec writes).
    pub fn reserve_total(&mut self, total: usize) {
        if let Sink::Plain(buf) = &mut self.sink {
            buf.reserve_exact(total.saturating_sub(buf.len()));
        }
    }

    /// Moves the bytes written so far into `buffer` (emptied first), which
    /// becomes the batch's buffer, and returns the old one (uncompressed
    /// batches still open for appends; otherwise `buffer` is returned
    /// untouched). The pool grows batches this way, so that both buffers
    /// are of its recycled sizes.
    pub(crate) fn replace_buffer(&mut self, mut buffer: Vec<u8>) -> Vec<u8> {
        if let Sink::Plain(old) = &mut self.sink {
            buffer.clear();
            buffer.extend_from_slice(old);
            std::mem::swap(old, &mut buffer);
        }
        buffer
    }

    /// The buffer's capacity (uncompressed batches; 0 otherwise).
    #[must_use]
    pub fn capacity(&self) -> usize {
        match &self.sink {
            Sink::Plain(buf) | Sink::Sealed(buf) => buf.capacity(),
            Sink::Built(buf) => buf.capacity(),
            _ => 0,
        }
    }

    /// Appends a record at the next offset and returns its encoded size.
    ///
    /// Fails if appends are closed, or the timestamp is negative and not -1
    /// (Java's rule).
    pub fn append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
    ) -> Result<usize> {
        self.append_sized(&self.size_record(timestamp, key, value, headers))
    }

    /// [`append`](Self::append) of a record sized by
    /// [`size_record`](Self::size_record): writes the same bytes without
    /// sizing the record again.
    pub fn append_sized(&mut self, record: &SizedRecord<'_>) -> Result<usize> {
        let timestamp = record.timestamp;
        if timestamp < 0 && timestamp != NO_TIMESTAMP {
            return Err(Error::Other(format!(
                "Invalid negative timestamp {timestamp}"
            )));
        }
        if self.num_records == i32::MAX {
            return Err(Error::Other(format!(
                "Maximum number of records per batch exceeded, max records: {}",
                i32::MAX
            )));
        }
        let offset_delta = match self.last_offset_delta {
            None => 0,
            Some(d) => d
                .checked_add(1)
                .ok_or_else(|| Error::Other("Maximum offset delta exceeded".into()))?,
        };
        let base_timestamp = *self.base_timestamp.get_or_insert(timestamp);
        let size = record
            .size
            .at(offset_delta, timestamp.wrapping_sub(base_timestamp));
        let (key, value, headers) = (record.key, record.value, record.headers);
        let size = match &mut self.sink {
            Sink::Plain(buf) => default_record::write_sized(buf, &size, key, value, headers),
            Sink::Compressed(w) => {
                self.scratch.clear();
                let n = default_record::write_sized(&mut self.scratch, &size, key, value, headers);
                w.write_all(&self.scratch)?;
                n
            }
            Sink::Sealed(_) | Sink::Built(_) | Sink::Empty => return Err(Error::Other(
                "Tried to append a record, but MemoryRecordsBuilder is closed for record appends"
                    .into(),
            )),
        };
        self.num_records += 1;
        self.uncompressed_records_size += size;
        self.last_offset_delta = Some(offset_delta);
        if timestamp > self.max_timestamp {
            self.max_timestamp = timestamp;
        }
        Ok(size)
    }

    /// Stops accepting records; with compression this finishes the stream.
    /// The header is still open for [`MemoryRecordsBuilder::set_producer_state`].
    pub fn close_for_appends(&mut self) -> Result<()> {
        match std::mem::replace(&mut self.sink, Sink::Empty) {
            Sink::Plain(buf) | Sink::Sealed(buf) => self.sink = Sink::Sealed(buf),
            Sink::Compressed(w) => self.sink = Sink::Sealed(w.finish()?),
            built @ Sink::Built(_) => self.sink = built,
            Sink::Empty => {}
        }
        Ok(())
    }

    /// Writes the header and CRC. Idempotent. An empty builder builds an
    /// empty byte string (Java's `MemoryRecords.EMPTY`).
    pub fn close(&mut self) -> Result<()> {
        if self.is_built() {
            return Ok(());
        }
        validate_producer_state(
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            self.transactional,
        )?;
        self.close_for_appends()?;
        let Sink::Sealed(buf) = &mut self.sink else {
            return Err(Error::Other("record batch buffer lost".into()));
        };
        if self.num_records == 0 {
            buf.clear();
        } else {
            let attributes = i16::from(self.compression.kind().id())
                | if self.transactional {
                    TRANSACTIONAL_FLAG
                } else {
                    0
                };
            let mut h = Vec::with_capacity(RECORD_BATCH_OVERHEAD);
            h.put_i64(self.base_offset);
            h.put_i32((buf.len() - LOG_OVERHEAD) as i32);
            h.put_i32(self.partition_leader_epoch);
            h.put_i8(MAGIC_V2);
            h.put_u32(0); // CRC, patched below
            h.put_i16(attributes);
            h.put_i32(self.last_offset_delta.unwrap_or(0));
            h.put_i64(self.base_timestamp.unwrap_or(NO_TIMESTAMP));
            h.put_i64(self.max_timestamp);
            h.put_i64(self.producer_id);
            h.put_i16(self.producer_epoch);
            h.put_i32(self.base_sequence);
            h.put_i32(self.num_records);
            buf[..RECORD_BATCH_OVERHEAD].copy_from_slice(&h);
            update_crc(buf);
        }
        let buf = std::mem::take(buf);
        self.sink = Sink::Built(Arc::new(buf));
        Ok(())
    }

    /// The built batch. Empty until [`MemoryRecordsBuilder::close`].
    #[must_use]
    pub fn records(&self) -> &[u8] {
        match &self.sink {
            Sink::Built(buf) => buf,
            _ => &[],
        }
    }

    /// The built batch as a shared buffer, for sending it without a copy;
    /// `None` until [`MemoryRecordsBuilder::close`]. Its bytes are those of
    /// [`records`](Self::records).
    #[must_use]
    pub(crate) fn shared_records(&self) -> Option<&Arc<Vec<u8>>> {
        match &self.sink {
            Sink::Built(buf) => Some(buf),
            _ => None,
        }
    }

    /// Closes if needed and returns the built batch, giving up the builder.
    pub fn build(mut self) -> Result<Vec<u8>> {
        self.close()?;
        Ok(match self.sink {
            Sink::Built(buf) => Arc::try_unwrap(buf).unwrap_or_else(|shared| (*shared).clone()),
            _ => self.into_buffer(),
        })
    }

    /// The underlying buffer, whatever state the builder is in, so that its
    /// memory can go back to the pool. Empty if the built bytes are still
    /// shared with a request being sent: their memory is freed when the
    /// request lets go of them.
    #[must_use]
    pub fn into_buffer(self) -> Vec<u8> {
        match self.sink {
            Sink::Plain(buf) | Sink::Sealed(buf) => buf,
            Sink::Built(buf) => Arc::try_unwrap(buf).unwrap_or_default(),
            Sink::Compressed(w) => w.finish().unwrap_or_default(),
            Sink::Empty => Vec::new(),
        }
    }
}

/// Java's `MemoryRecordsBuilder.validateProducerState`, run when a batch is
/// closed: a producer id needs an epoch and a sequence, and a transactional
/// batch needs a producer id.
fn validate_producer_state(
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    transactional: bool,
) -> Result<()> {
    let reason = if transactional && producer_id == NO_PRODUCER_ID {
        "Cannot write transactional messages without a valid producer ID"
    } else if producer_id != NO_PRODUCER_ID && epoch == NO_PRODUCER_EPOCH {
        "Invalid negative producer epoch"
    } else if producer_id != NO_PRODUCER_ID && base_sequence < 0 {
        "Invalid negative sequence number used"
    } else {
        return Ok(());
    };
    Err(Error::Other(reason.into()))
}

/// Recomputes the CRC of a built v2 batch in place.
fn update_crc(batch: &mut [u8]) {
    let crc = crc32c(&batch[ATTRIBUTES_OFFSET..]);
    batch[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Rewrites producer id, epoch, base sequence and the transactional flag of
/// a built batch and recomputes its CRC (Java's
/// `reopenAndRewriteProducerState`, used when a batch is re-sequenced).
pub fn rewrite_producer_state(
    batch: &mut [u8],
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    transactional: bool,
) -> Result<()> {
    if batch.len() < RECORD_BATCH_OVERHEAD {
        return Err(Error::Other(
            "cannot rewrite the producer state of an empty batch".into(),
        ));
    }
    // Java re-validates when the reopened builder is closed again.
    validate_producer_state(producer_id, epoch, base_sequence, transactional)?;
    batch[PRODUCER_ID_OFFSET..PRODUCER_ID_OFFSET + 8].copy_from_slice(&producer_id.to_be_bytes());
    batch[PRODUCER_EPOCH_OFFSET..PRODUCER_EPOCH_OFFSET + 2].copy_from_slice(&epoch.to_be_bytes());
    batch[BASE_SEQUENCE_OFFSET..BASE_SEQUENCE_OFFSET + 4]
        .copy_from_slice(&base_sequence.to_be_bytes());
    let mut attributes =
        i16::from_be_bytes([batch[ATTRIBUTES_OFFSET], batch[ATTRIBUTES_OFFSET + 1]]);
    if transactional {
        attributes |= TRANSACTIONAL_FLAG;
    } else {
        attributes &= !TRANSACTIONAL_FLAG;
    }
    batch[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes.to_be_bytes());
    update_crc(batch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(limit: usize) -> MemoryRecordsBuilder {
        MemoryRecordsBuilder::new(Vec::with_capacity(limit), Compression::none(), limit).unwrap()
    }

    #[test]
    fn first_record_always_fits_then_limit_applies() {
        let mut b = builder(70);
        let big = vec![1u8; 100];
        assert!(b.has_room_for(0, None, Some(&big), &[]));
        b.append(0, None, Some(&big), &[]).unwrap();
        assert!(b.is_full());
        assert!(!b.has_room_for(0, None, Some(b"x"), &[]));
    }

    #[test]
    fn has_room_for_counts_exact_bytes() {
        let mut b = builder(61 + 2 * 9);
        b.append(5, None, Some(b"ab"), &[]).unwrap(); // 9 bytes: len,attr,ts,off,key,vlen,"ab",hdrs
        assert_eq!(b.estimated_size_in_bytes(), 61 + 9);
        assert!(b.has_room_for(5, None, Some(b"cd"), &[]));
        assert!(!b.has_room_for(5, None, Some(b"cde"), &[]));
    }

    #[test]
    fn header_and_crc_are_written_at_close() {
        let mut b = builder(1024);
        b.append(1000, Some(b"k"), Some(b"v"), &[]).unwrap();
        b.append(999, None, None, &[Header::null("h")]).unwrap();
        b.set_producer_state(7, 1, 42, false).unwrap();
        let bytes = b.build().unwrap();
        assert_eq!(
            i32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize,
            bytes.len() - 12
        );
        assert_eq!(bytes[16], 2);
        let crc = u32::from_be_bytes(bytes[17..21].try_into().unwrap());
        assert_eq!(crc, crc32c(&bytes[21..]));
        assert_eq!(i64::from_be_bytes(bytes[27..35].try_into().unwrap()), 1000); // first, not smallest
        assert_eq!(i64::from_be_bytes(bytes[35..43].try_into().unwrap()), 1000);
        assert_eq!(i32::from_be_bytes(bytes[53..57].try_into().unwrap()), 42);
        assert_eq!(i32::from_be_bytes(bytes[57..61].try_into().unwrap()), 2);
    }

    #[test]
    fn producer_state_is_frozen_once_built_but_can_be_rewritten() {
        let mut b = builder(1024);
        b.append(1, None, Some(b"v"), &[]).unwrap();
        b.close().unwrap();
        assert!(b.set_producer_state(1, 1, 1, false).is_err());
        let mut bytes = b.build().unwrap();
        rewrite_producer_state(&mut bytes, 9, 2, 100, true).unwrap();
        assert_eq!(i64::from_be_bytes(bytes[43..51].try_into().unwrap()), 9);
        assert_eq!(
            i16::from_be_bytes(bytes[21..23].try_into().unwrap()) & 0x10,
            0x10
        );
        assert_eq!(
            u32::from_be_bytes(bytes[17..21].try_into().unwrap()),
            crc32c(&bytes[21..])
        );
    }

    #[test]
    fn producer_state_is_validated_at_close_as_java_does() {
        for (pid, epoch, seq, txn) in [(-1, -1, -1, true), (5, -1, 0, false), (5, 0, -1, false)] {
            let mut b = builder(1024);
            b.append(1, None, Some(b"v"), &[]).unwrap();
            b.set_producer_state(pid, epoch, seq, txn).unwrap();
            assert!(b.close().is_err(), "{pid} {epoch} {seq} {txn}");
            assert!(!b.is_built());
        }
        let mut bytes = builder(1024);
        bytes.append(1, None, Some(b"v"), &[]).unwrap();
        let mut bytes = bytes.build().unwrap();
        assert!(rewrite_producer_state(&mut bytes, 5, -1, 0, false).is_err());
        assert!(rewrite_producer_state(&mut bytes, 5, 0, 0, true).is_ok());
    }

    #[test]
    fn negative_timestamps_other_than_minus_one_are_rejected() {
        let mut b = builder(1024);
        assert!(b.append(-2, None, None, &[]).is_err());
        assert!(b.append(-1, None, None, &[]).is_ok());
    }

    #[test]
    fn gzip_batches_decompress_to_the_plain_records() {
        let mut plain = builder(4096);
        let mut gz =
            MemoryRecordsBuilder::new(Vec::new(), Compression::gzip(-1).unwrap(), 4096).unwrap();
        for i in 0..10u8 {
            plain.append(100, Some(&[i]), Some(b"value"), &[]).unwrap();
            gz.append(100, Some(&[i]), Some(b"value"), &[]).unwrap();
        }
        let plain = plain.build().unwrap();
        let gz = gz.build().unwrap();
        assert_eq!(gz[22] & 0x07, 1);
        let records =
            crate::record::compression::decompress(CompressionType::Gzip, &gz[61..], 1 << 20)
                .unwrap();
        assert_eq!(records, &plain[61..]);
        assert_eq!(
            u32::from_be_bytes(gz[17..21].try_into().unwrap()),
            crc32c(&gz[21..])
        );
    }

    #[test]
    fn every_codec_builds_a_batch_that_reads_back() {
        for kind in CompressionType::ALL {
            let mut b =
                MemoryRecordsBuilder::new(Vec::new(), Compression::of(kind), 1 << 20).unwrap();
            for i in 0..100u8 {
                b.append(100, Some(&[i]), Some(b"value value value"), &[])
                    .unwrap();
            }
            let bytes = b.build().unwrap();
            let batch = crate::record::RecordBatch::parse(&bytes).unwrap();
            batch.validate().unwrap();
            assert_eq!(batch.compression_type().unwrap(), kind);
            let records = batch.owned_records(1 << 20).unwrap();
            assert_eq!(records.len(), 100, "{kind}");
            assert_eq!(records[42].key.as_deref(), Some(&[42u8][..]), "{kind}");
        }
    }

    #[test]
    fn built_bytes_are_shared_without_a_copy() {
        let mut b = builder(1024);
        b.append(1, Some(b"k"), Some(b"v"), &[]).unwrap();
        assert!(b.shared_records().is_none());
        b.close().unwrap();
        let shared = Arc::clone(b.shared_records().unwrap());
        assert!(std::ptr::eq(shared.as_slice(), b.records()));
        assert_eq!(b.capacity(), 1024);
        // Built while shared: `build` hands out an equal copy.
        assert_eq!(b.build().unwrap(), *shared);
        // Unshared: the buffer itself comes back, capacity and all.
        let mut b = builder(1024);
        b.append(1, Some(b"k"), Some(b"v"), &[]).unwrap();
        b.close().unwrap();
        let records = b.records().to_vec();
        let buf = b.into_buffer();
        assert_eq!((buf.capacity(), buf), (1024, records));
    }
}

//! [`ProducerBatch`]: one batch of records for one partition, from its
//! first append to its completion (Java `ProducerBatch`, Kafka 4.3).
//!
//! ```text
//!  created (append) ──try_append*──▶ full / closed for appends
//!      │ in its partition's deque, caller threads append under the deque lock
//!      ▼
//!  drained (sender) ── set_producer_state ─ close(): header + CRC written,
//!      │               callbacks handed to the completion slot
//!      ▼
//!  in flight ──retriable error──▶ reenqueued(now) ──▶ back to the deque head
//!      │
//!      ▼
//!  done(outcome): first completion wins ─▶ callbacks ─▶ futures wake
//!      │
//!      ▼
//!  accumulator.deallocate(batch): buffer back to the pool
//! ```
//!
//! A batch is owned by exactly one place at a time: its deque, then the
//! sender. What others must reach while the sender owns it (flush waiting,
//! forced abort) lives in its shared [`ProduceRequestResult`].
//!
//! # The buffer's memory
//!
//! A batch made by the accumulator starts with a small buffer (a few
//! kilobytes, or a larger free buffer of the pool) and is charged to the
//! pool for what it holds, not for `batch.size` up front: before an append
//! needs more room, the batch moves its bytes to a buffer of the pool's
//! next class (doubling, up to its write limit) without blocking, and the
//! old buffer goes back to the pool for the next batch. A refused growth
//! makes the batch full, exactly like a refused callback charge below. The
//! whole buffer charge goes back with the buffer.
//!
//! # Memory beyond the buffer
//!
//! A record appended with a callback also holds a `Thunk` (in a chunked
//! [`ThunkList`]) and, for a callback too big to be stored in place, its
//! callback's box, until the batch completes. A batch made by the
//! accumulator counts both in the buffer pool: each chunk is taken from the
//! pool, which keeps the emptied chunks of completed batches for reuse
//! (`BufferPool::take_chunk`), and boxed callbacks are charged, from an
//! estimate taken with the batch's buffer and then in steps when that runs
//! out (so the pool's lock is taken about once per kilobyte, not per
//! record); what is unused goes back when the batch is closed (drained),
//! the rest, with the chunks, with the batch's buffer. When the pool
//! refuses a chunk or a charge (memory is short, or a thread waits for it)
//! the batch takes no more records, so the record goes to a new batch,
//! whose allocation waits for memory as any other: `buffer.memory` bounds
//! the callbacks too. A batch's first record is never refused (its charge
//! may put the pool into debt). Split batches, like their buffers, are
//! outside the pool.
//!
//! A batch rejected with `MESSAGE_TOO_LARGE` is split (Java `split`): new
//! batches are built from the records of its bytes, and it completes with
//! `BatchOutcome::Split`, which moves every future and callback to the new
//! batches.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::future::{
    AppendedRecord, BatchOutcome, FinalState, ProduceRequestResult, RecordCallback, RecordErrors,
    SendFuture, Thunk, ThunkList, THUNK_CHUNK_COST,
};
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::internals::transaction_manager::ProducerIdAndEpoch;
use crate::record::memory_records_builder::SizedRecord;
use crate::record::{
    CompressionType, Header, MemoryRecordsBuilder, NO_SEQUENCE, RECORD_BATCH_OVERHEAD,
};

mod split;

/// Source of batch ids, so the incomplete set can find a batch without
/// holding it.
static NEXT_BATCH_ID: AtomicU64 = AtomicU64::new(1);

/// A batch charges the pool for its callbacks in steps of this many bytes
/// (less in pools under 64 KiB), so that most appends need no pool lock.
const CHARGE_STEP: usize = 1024;

/// Length of an optional byte string as Kafka reports it: -1 for null.
fn size_or_minus_one(bytes: Option<&[u8]>) -> i32 {
    bytes.map_or(-1, |b| i32::try_from(b.len()).unwrap_or(i32::MAX))
}

/// A batch of records that is or will be sent to one partition.
///
/// Not synchronized: the deque lock (while queued) or the sender's
/// ownership (once drained) guards it.
pub(crate) struct ProducerBatch {
    id: u64,
    tp: TopicPartition,
    builder: MemoryRecordsBuilder,
    /// Bytes the pool counts for this batch's buffer: what was allocated,
    /// plus the growth charged since (see `grow_buffer`); given back on
    /// deallocation.
    buffer_charge: usize,
    result: Arc<ProduceRequestResult>,
    /// Callbacks of records appended so far; moved into `result` at close.
    thunks: ThunkList,
    /// The pool charged for the memory of callbacks and thunks; `None`:
    /// not counted (split batches, tests).
    pool: Option<Arc<BufferPool>>,
    /// Bytes charged to `pool` so far; given back with the buffer.
    charged: usize,
    /// Bytes of `charged` that callbacks and thunks use; the rest is
    /// prepaid for the next records.
    charge_used: usize,
    record_count: i32,
    max_record_size: usize,
    created: Instant,
    last_attempt: Instant,
    last_append: Instant,
    drained: Option<Instant>,
    attempts: u32,
    retry: bool,
    is_split_batch: bool,
    /// Records were discarded (expiry, abort): the batch must not be built.
    aborted: bool,
    /// The producer state was rewritten on the built bytes (Java
    /// `reopened`), reset on the next close.
    reopened: bool,
    current_leader_epoch: Option<i32>,
    attempts_when_leader_last_changed: u32,
}

impl fmt::Debug for ProducerBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Java's toString, plus the state that matters when debugging.
        f.debug_struct("ProducerBatch")
            .field("topic_partition", &self.tp)
            .field("record_count", &self.record_count)
            .field("attempts", &self.attempts)
            .field("base_sequence", &self.base_sequence())
            .finish_non_exhaustive()
    }
}

impl ProducerBatch {
    /// A new batch for `tp` writing through `builder` into a buffer of
    /// `initial_capacity` bytes taken from the pool.
    pub(crate) fn new(
        tp: TopicPartition,
        builder: MemoryRecordsBuilder,
        initial_capacity: usize,
        created: Instant,
        result: Arc<ProduceRequestResult>,
    ) -> Self {
        ProducerBatch {
            id: NEXT_BATCH_ID.fetch_add(1, Ordering::Relaxed),
            tp,
            builder,
            buffer_charge: initial_capacity,
            result,
            thunks: ThunkList::default(),
            pool: None,
            charged: 0,
            charge_used: 0,
            record_count: 0,
            max_record_size: 0,
            created,
            last_attempt: created,
            last_append: created,
            drained: None,
            attempts: 0,
            retry: false,
            is_split_batch: false,
            aborted: false,
            reopened: false,
            current_leader_epoch: None,
            attempts_when_leader_last_changed: 0,
        }
    }

    /// Marks a batch built by splitting another (its buffer is not from the
    /// pool, so deallocation returns nothing).
    pub(crate) fn into_split_batch(mut self) -> Self {
        self.is_split_batch = true;
        self
    }

    /// Charges the memory of this batch's callbacks and thunks to `pool`
    /// (see the module's notes), `prepaid` bytes of it already charged,
    /// `first_chunk`'s `THUNK_CHUNK_COST` among them when there is one;
    /// the charge is [`charged`](Self::charged).
    pub(crate) fn with_memory_accounting(
        mut self,
        pool: Arc<BufferPool>,
        prepaid: usize,
        first_chunk: Option<Vec<Thunk>>,
    ) -> Self {
        self.pool = Some(pool);
        self.charged = prepaid;
        if let Some(chunk) = first_chunk {
            self.thunks.add_chunk(chunk);
            self.charge_used = THUNK_CHUNK_COST;
        }
        self
    }

    /// Gives back the part of the charge no callback uses (once the batch
    /// takes no more records).
    fn release_unused_charge(&mut self) {
        if let Some(pool) = &self.pool {
            let unused = self.charged - self.charge_used;
            if unused > 0 {
                pool.release(unused);
                self.charged = self.charge_used;
            }
        }
    }

    /// Bytes charged to the pool for callbacks and thunks, to be given back
    /// with the buffer.
    pub(crate) fn charged(&self) -> usize {
        self.charged
    }

    /// Bytes of the charge that callbacks and thunks use.
    #[allow(dead_code)] // tests
    pub(crate) fn charge_used(&self) -> usize {
        self.charge_used
    }

    /// Counts the memory a record's callback and thunk will hold: a new
    /// chunk for its thunk when the last one is full (from the pool, which
    /// keeps the chunks of completed batches), and its callback's heap
    /// memory, charged to the pool when the prepaid part does not cover
    /// it. Returns `false` when the pool refuses either: the batch then
    /// takes no more records.
    fn reserve_thunk_memory(&mut self, callback: &RecordCallback) -> bool {
        let Some(pool) = &self.pool else {
            return true;
        };
        // The first record is never refused: its batch's buffer was just
        // granted, and refusing would only make another batch.
        let force = self.record_count == 0;
        if self.thunks.next_push_allocates() {
            let Some(chunk) = pool.take_chunk(force) else {
                return false;
            };
            self.thunks.add_chunk(chunk);
            self.charged += THUNK_CHUNK_COST;
            self.charge_used += THUNK_CHUNK_COST;
        }
        let cost = callback.heap_cost();
        let prepaid = self.charged - self.charge_used;
        if cost > prepaid {
            let step = (cost - prepaid).max(CHARGE_STEP.min(pool.total_memory() / 64));
            if !pool.charge(step, force) {
                return false;
            }
            self.charged += step;
        }
        self.charge_used += cost;
        true
    }

    /// Makes the buffer big enough for the record about to be appended,
    /// charging the pool for the growth first (doubling, at most up to the
    /// write limit, so a batch grows a few times in its life). Returns
    /// `false` (nothing charged) when the pool refuses: the batch then
    /// takes no more records. The first record is never refused (its
    /// buffer was sized for it anyway).
    fn grow_buffer(&mut self, record: &SizedRecord<'_>) -> bool {
        let Some(pool) = &self.pool else {
            return true;
        };
        let limit = self.builder.write_limit().max(self.buffer_charge);
        if self.buffer_charge >= limit {
            // Fully grown (or a pooled full-size buffer): nothing to charge.
            return true;
        }
        let needed = self.builder.estimated_size_with_sized(record).min(limit);
        if needed <= self.buffer_charge {
            return true;
        }
        // The next buffer class (doubling), so that the buffer is recycled.
        let target = pool
            .class_size_for(needed.max(self.buffer_charge.saturating_mul(2)))
            .min(limit);
        let force = self.record_count == 0;
        if self.builder.compression().kind() == CompressionType::None {
            // The bytes move to a buffer of the new class; the old one goes
            // back to the pool for the next batch that starts or grows.
            let Some(buffer) = pool.grow(self.buffer_charge, target, force) else {
                return false;
            };
            // A free buffer of a larger class may have come: it counts
            // whole.
            let grown = buffer.capacity();
            let old = self.builder.replace_buffer(buffer);
            pool.deallocate(old, self.buffer_charge);
            self.buffer_charge = grown;
        } else {
            // A compressed batch's output grows as the codec writes: only
            // the accounting grows here.
            if !pool.charge(target - self.buffer_charge, force) {
                return false;
            }
            self.buffer_charge = target;
        }
        true
    }

    /// Unique id of this batch within the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    /// The completion slot shared with the records' futures.
    pub(crate) fn result(&self) -> &Arc<ProduceRequestResult> {
        &self.result
    }

    /// Appends a record if it fits (Java `tryAppend`). Returns `Ok(None)`
    /// when the batch is full or closed; then `callback` is left in place
    /// for the next batch. On success the callback (if any) is taken and
    /// will run when the batch completes.
    pub(crate) fn try_append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        callback: &mut Option<RecordCallback>,
        now: Instant,
    ) -> Result<Option<SendFuture>, Error> {
        let record = self.builder.size_record(timestamp, key, value, headers);
        Ok(self
            .try_append_sized(&record, callback, now)?
            .map(|appended| self.future_for(appended)))
    }

    /// [`try_append`](Self::try_append) of a record sized once for the room
    /// check, the buffer's growth and the write (sized at any position:
    /// the builder places it).
    pub(crate) fn try_append_sized(
        &mut self,
        record: &SizedRecord<'_>,
        callback: &mut Option<RecordCallback>,
        now: Instant,
    ) -> Result<Option<AppendedRecord>, Error> {
        if self.aborted {
            return Ok(None);
        }
        // Placed once here: the room check, the growth and the write then
        // take its sizes as they are.
        let record = &self.builder.placed(record);
        if !self.builder.has_room_for_sized(record) || !self.grow_buffer(record) {
            return Ok(None);
        }
        if let Some(callback) = callback.as_ref() {
            if !self.reserve_thunk_memory(callback) {
                return Ok(None);
            }
        }
        self.builder.append_sized(record)?;
        // Java's estimateSizeInBytesUpperBound(key, value, headers) for v2.
        self.max_record_size = self
            .max_record_size
            .max(RECORD_BATCH_OVERHEAD + record.size_upper_bound());
        self.last_append = now;
        let index = self.record_count;
        let appended = AppendedRecord {
            index,
            timestamp: record.timestamp(),
            key_size: size_or_minus_one(record.key()),
            value_size: size_or_minus_one(record.value()),
        };
        if let Some(callback) = callback.take() {
            // Only records with a callback cost a slot here (counted above);
            // the future itself is the shared slot plus the record.
            self.thunks.push(Thunk {
                record: appended,
                callback,
            });
        }
        self.record_count += 1;
        Ok(Some(appended))
    }

    /// The future of a record this batch appended: its slot and the
    /// record's place in it. Made only for a caller that asked for one
    /// (cloning the slot's `Arc` and dropping it again are two locked
    /// operations per record).
    pub(crate) fn future_for(&self, appended: AppendedRecord) -> SendFuture {
        SendFuture::new(self.result.clone(), appended)
    }

    /// Completes the batch successfully (Java `complete`). Returns whether
    /// this call completed it.
    pub(crate) fn complete(&mut self, base_offset: i64, log_append_time: i64) -> bool {
        self.done(
            BatchOutcome::Success {
                base_offset,
                log_append_time,
            },
            FinalState::Succeeded,
        )
    }

    /// Completes the batch with an error for every record, or per-record
    /// errors (Java `completeExceptionally`). Returns whether this call
    /// completed it.
    pub(crate) fn complete_exceptionally(
        &mut self,
        error: Error,
        record_errors: Option<RecordErrors>,
    ) -> bool {
        self.done(
            BatchOutcome::Failed {
                error,
                record_errors,
            },
            FinalState::Failed,
        )
    }

    /// Fails the batch because the client gave up on it (Java `abort`:
    /// forced close, transaction abort). Returns whether this call completed
    /// it.
    pub(crate) fn abort(&mut self, error: Error) -> bool {
        log::trace!("Aborting batch for partition {}: {}", self.tp, error);
        self.done(
            BatchOutcome::Failed {
                error,
                record_errors: None,
            },
            FinalState::Aborted,
        )
    }

    /// Java `done`: the first completion wins; later ones are logged and
    /// ignored. Callbacks run in append order, then the futures wake.
    fn done(&mut self, outcome: BatchOutcome, state: FinalState) -> bool {
        match &outcome {
            BatchOutcome::Success { base_offset, .. } => log::trace!(
                "Successfully produced messages to {} with base offset {}.",
                self.tp,
                base_offset
            ),
            BatchOutcome::Failed { error, .. } => {
                log::trace!("Failed to produce messages to {}: {}", self.tp, error);
            }
            BatchOutcome::Split(_) => {}
        }
        self.publish_thunks();
        self.result.complete(outcome, Some(state))
    }

    /// Whether the batch has been completed, successfully or not.
    pub(crate) fn is_done(&self) -> bool {
        self.result.final_state().is_some()
    }

    /// The final state once completed.
    pub(crate) fn final_state(&self) -> Option<FinalState> {
        self.result.final_state()
    }

    fn publish_thunks(&mut self) {
        let thunks = std::mem::take(&mut self.thunks);
        self.result.add_thunks(thunks);
    }

    /// Stops accepting records (Java `closeForRecordAppends`); frees the
    /// compressor. The header can still change until [`close`](Self::close).
    pub(crate) fn close_for_record_appends(&mut self) {
        if let Err(e) = self.builder.close_for_appends() {
            log::error!("closing batch for {} for appends failed: {}", self.tp, e);
        }
    }

    /// Builds the batch bytes (header and CRC) and hands the callbacks to
    /// the completion slot, so that from now on the batch can be completed
    /// through the slot alone. Returns the observed compression ratio
    /// (compressed size / uncompressed size of the records) for compressed
    /// batches, so the accumulator can refine its estimate; on every close,
    /// a retried batch's too, as Java's `ProducerBatch.close` updates the
    /// estimator each time.
    pub(crate) fn close(&mut self) -> Result<Option<f32>, Error> {
        self.publish_thunks();
        self.release_unused_charge();
        if self.aborted {
            return Err(Error::Other(format!(
                "cannot close the batch for {} as it has already been aborted",
                self.tp
            )));
        }
        self.builder.close()?;
        self.reopened = false;
        if self.builder.compression().kind() == CompressionType::None {
            return Ok(None);
        }
        let uncompressed = self.builder.uncompressed_bytes_written() - RECORD_BATCH_OVERHEAD;
        let written = self
            .builder
            .records()
            .len()
            .saturating_sub(RECORD_BATCH_OVERHEAD);
        Ok((uncompressed > 0).then(|| written as f32 / uncompressed as f32))
    }

    /// Discards the records so they can never be sent (Java
    /// `abortRecordAppends`); used before failing a batch that was still
    /// queued.
    pub(crate) fn abort_record_appends(&mut self) {
        self.close_for_record_appends();
        self.aborted = true;
    }

    /// Whether the bytes are built.
    #[allow(dead_code)] // transactional aborts
    pub(crate) fn is_closed(&self) -> bool {
        self.builder.is_built()
    }

    /// The codec the batch is compressed with.
    pub(crate) fn compression_type(&self) -> crate::record::CompressionType {
        self.builder.compression().kind()
    }

    /// The built batch bytes; empty until [`close`](Self::close) or after
    /// an abort.
    pub(crate) fn records(&self) -> &[u8] {
        if self.aborted {
            &[]
        } else {
            self.builder.records()
        }
    }

    /// The built batch bytes as a shared buffer, for a request to send
    /// without copying them; `None` until [`close`](Self::close) or after
    /// an abort. The same bytes as [`records`](Self::records).
    pub(crate) fn shared_records(&self) -> Option<&Arc<Vec<u8>>> {
        if self.aborted {
            None
        } else {
            self.builder.shared_records()
        }
    }

    /// Takes the buffer back, for the pool, with the size to give back
    /// (the charge for callbacks, [`charged`](Self::charged), is separate).
    /// The buffer is empty if a request being sent still shares the built
    /// bytes (a connection cut or a batch expired while its request was
    /// queued): the pool then gets the size back, and the memory is freed
    /// when the request is dropped.
    pub(crate) fn into_buffer(self) -> (Vec<u8>, usize) {
        (self.builder.into_buffer(), self.buffer_charge)
    }

    /// Bytes the pool counts for this batch's buffer (allocation plus
    /// growth).
    #[allow(dead_code)] // tests and metrics
    pub(crate) fn buffer_charge(&self) -> usize {
        self.buffer_charge
    }

    pub(crate) fn is_split_batch(&self) -> bool {
        self.is_split_batch
    }

    pub(crate) fn record_count(&self) -> i32 {
        self.record_count
    }

    /// The largest upper-bound record size appended.
    #[allow(dead_code)] // metrics
    pub(crate) fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    pub(crate) fn created(&self) -> Instant {
        self.created
    }

    #[allow(dead_code)] // metrics (queue time)
    pub(crate) fn drained_at(&self) -> Option<Instant> {
        self.drained
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the batch is being retried (Java `inRetry`).
    pub(crate) fn in_retry(&self) -> bool {
        self.retry
    }

    /// Java `sequenceHasBeenReset`.
    pub(crate) fn sequence_has_been_reset(&self) -> bool {
        self.reopened
    }

    /// The batch's size: exact once built, estimated before.
    pub(crate) fn estimated_size_in_bytes(&self) -> usize {
        self.builder.estimated_size_in_bytes()
    }

    /// Whether no more records fit (or appends are closed).
    pub(crate) fn is_full(&self) -> bool {
        self.builder.is_full()
    }

    /// Sets the compression ratio estimate used to decide when a compressed
    /// batch is full.
    pub(crate) fn set_estimated_compression_ratio(&mut self, ratio: f32) {
        self.builder.set_estimated_compression_ratio(ratio);
    }

    /// Stamps producer id, epoch and base sequence before the batch is
    /// built (at drain).
    pub(crate) fn set_producer_state(
        &mut self,
        producer: ProducerIdAndEpoch,
        base_sequence: i32,
        transactional: bool,
    ) -> Result<(), Error> {
        self.builder.set_producer_state(
            producer.producer_id,
            producer.epoch,
            base_sequence,
            transactional,
        )
    }

    pub(crate) fn producer_id(&self) -> i64 {
        self.builder.producer_id()
    }

    pub(crate) fn producer_epoch(&self) -> i16 {
        self.builder.producer_epoch()
    }

    pub(crate) fn base_sequence(&self) -> i32 {
        self.builder.base_sequence()
    }

    /// Sequence of the last record (Java `lastSequence`).
    pub(crate) fn last_sequence(&self) -> i32 {
        crate::record::increment_sequence(self.base_sequence(), self.record_count - 1)
    }

    pub(crate) fn has_sequence(&self) -> bool {
        self.base_sequence() != NO_SEQUENCE
    }

    pub(crate) fn is_transactional(&self) -> bool {
        self.builder.is_transactional()
    }

    /// Java `resetProducerState`: gives the batch a new producer id, epoch
    /// and base sequence (re-sequencing after an epoch bump), rewriting the
    /// built bytes if any. The batch then counts as reopened
    /// ([`sequence_has_been_reset`](Self::sequence_has_been_reset)) until it
    /// is closed again for its next attempt.
    pub(crate) fn reset_producer_state(
        &mut self,
        producer: ProducerIdAndEpoch,
        base_sequence: i32,
    ) -> Result<(), Error> {
        log::info!(
            "Resetting sequence number of batch with current sequence {} for partition {} to {}",
            self.base_sequence(),
            self.tp,
            base_sequence
        );
        self.reopened = true;
        let transactional = self.builder.is_transactional();
        self.builder.reopen_and_rewrite_producer_state(
            producer.producer_id,
            producer.epoch,
            base_sequence,
            transactional,
        )
    }

    /// The compression ratio of the built batch (compressed / uncompressed
    /// size of the records), 1.0 when unknown.
    pub(crate) fn compression_ratio(&self) -> f32 {
        let uncompressed = self
            .builder
            .uncompressed_bytes_written()
            .saturating_sub(RECORD_BATCH_OVERHEAD);
        let written = self.records().len().saturating_sub(RECORD_BATCH_OVERHEAD);
        if uncompressed == 0 || written == 0 {
            1.0
        } else {
            written as f32 / uncompressed as f32
        }
    }

    /// Whether the batch has been in the accumulator (or in flight) for at
    /// least the delivery timeout since creation.
    pub(crate) fn has_reached_delivery_timeout(
        &self,
        delivery_timeout: Duration,
        now: Instant,
    ) -> bool {
        now.saturating_duration_since(self.created) >= delivery_timeout
    }

    /// Time since creation or the last retry (Java `waitedTimeMs`).
    pub(crate) fn waited_time(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_attempt)
    }

    /// Records that the batch goes back to its deque for another attempt.
    pub(crate) fn reenqueued(&mut self, now: Instant) {
        self.attempts += 1;
        self.last_attempt = self.last_append.max(now);
        self.last_append = self.last_append.max(now);
        self.retry = true;
    }

    /// Records that the sender took the batch.
    pub(crate) fn drained(&mut self, now: Instant) {
        self.drained = Some(self.drained.map_or(now, |d| d.max(now)));
    }

    /// Java `maybeUpdateLeaderEpoch` (KIP-951): remembers a newer leader
    /// epoch and the attempt at which it was first seen.
    pub(crate) fn maybe_update_leader_epoch(&mut self, latest: Option<i32>) {
        if let Some(latest) = latest {
            if self.current_leader_epoch.is_none_or(|c| c < latest) {
                log::trace!(
                    "For {:?}, leader will be updated, current leader epoch: {:?}, latest: {}",
                    self,
                    self.current_leader_epoch,
                    latest
                );
                self.attempts_when_leader_last_changed = self.attempts;
                self.current_leader_epoch = Some(latest);
            }
        }
    }

    /// Whether this retry goes to a newer leader than the previous attempt
    /// (then the retry backoff is skipped).
    pub(crate) fn has_leader_changed_for_the_ongoing_retry(&self) -> bool {
        self.attempts >= 1 && self.attempts == self.attempts_when_leader_last_changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::producer::record::RecordMetadata;
    use crate::record::{Compression, NO_TIMESTAMP};
    use crate::util::clock::{Clock, MockClock};
    use parking_lot::Mutex;

    fn batch(limit: usize, clock: &Arc<MockClock>) -> ProducerBatch {
        let tp = TopicPartition::new("t", 0);
        let b = MemoryRecordsBuilder::new(Vec::with_capacity(limit), Compression::none(), limit)
            .unwrap();
        let result = ProduceRequestResult::new(tp.clone(), clock.clone());
        ProducerBatch::new(tp, b, limit, clock.now(), result)
    }

    #[test]
    fn append_until_full_and_futures_carry_index() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(61 + 3 * 9, &clock);
        let now = clock.now();
        let mut futures = Vec::new();
        let mut none = None;
        while let Some(f) = b
            .try_append(5, None, Some(b"ab"), &[], &mut none, now)
            .unwrap()
        {
            futures.push(f);
        }
        assert_eq!(futures.len(), 3);
        assert!(b.is_full());
        b.close().unwrap();
        assert!(b.complete(100, NO_TIMESTAMP));
        let offsets: Vec<i64> = futures
            .into_iter()
            .map(|f| f.get().unwrap().offset())
            .collect();
        assert_eq!(offsets, vec![100, 101, 102]);
    }

    #[test]
    fn callback_stays_with_caller_when_batch_is_full() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(61, &clock);
        let now = clock.now();
        let mut none = None;
        b.try_append(0, None, Some(b"x"), &[], &mut none, now)
            .unwrap()
            .unwrap();
        let mut cb: Option<RecordCallback> = Some(RecordCallback::new(|_| {}));
        assert!(b
            .try_append(0, None, Some(b"x"), &[], &mut cb, now)
            .unwrap()
            .is_none());
        assert!(cb.is_some());
    }

    #[test]
    fn callbacks_fire_in_append_order_with_metadata() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let now = clock.now();
        let seen: Arc<Mutex<Vec<RecordMetadata>>> = Arc::default();
        for i in 0..5i64 {
            let s = seen.clone();
            let mut cb: Option<RecordCallback> =
                Some(RecordCallback::new(move |r| s.lock().push(r.unwrap())));
            b.try_append(1000 + i, Some(b"k"), None, &[], &mut cb, now)
                .unwrap()
                .unwrap();
        }
        assert!(seen.lock().is_empty());
        b.complete(7, NO_TIMESTAMP);
        let seen = seen.lock();
        let got: Vec<(i64, i64, i32, i32)> = seen
            .iter()
            .map(|m| {
                (
                    m.offset(),
                    m.timestamp(),
                    m.serialized_key_size(),
                    m.serialized_value_size(),
                )
            })
            .collect();
        assert_eq!(
            got,
            (0..5).map(|i| (7 + i, 1000 + i, 1, -1)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn second_completion_is_ignored() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let mut none = None;
        let f = b
            .try_append(1, None, None, &[], &mut none, clock.now())
            .unwrap()
            .unwrap();
        assert!(b.complete_exceptionally(Error::Timeout("expired".into()), None));
        assert!(!b.complete(5, -1));
        assert!(!b.abort(Error::Closed("x".into())));
        assert!(matches!(f.get(), Err(Error::Timeout(_))));
    }

    #[test]
    fn timing_and_retry_state() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let t0 = clock.now();
        clock.sleep_ms(30);
        assert_eq!(b.waited_time(clock.now()), Duration::from_millis(30));
        assert!(!b.has_reached_delivery_timeout(Duration::from_millis(31), clock.now()));
        assert!(b.has_reached_delivery_timeout(Duration::from_millis(30), clock.now()));
        b.reenqueued(clock.now());
        assert_eq!((b.attempts(), b.in_retry()), (1, true));
        assert_eq!(b.waited_time(clock.now()), Duration::ZERO);
        b.drained(t0);
        assert_eq!(b.drained_at(), Some(t0));
        // Leader change seen during this attempt skips the backoff.
        assert!(!b.has_leader_changed_for_the_ongoing_retry());
        b.maybe_update_leader_epoch(Some(3));
        assert!(b.has_leader_changed_for_the_ongoing_retry());
        b.reenqueued(clock.now());
        b.maybe_update_leader_epoch(Some(3));
        assert!(!b.has_leader_changed_for_the_ongoing_retry());
    }

    #[test]
    fn producer_state_is_written_at_close() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let mut none = None;
        for _ in 0..3 {
            b.try_append(1, None, Some(b"v"), &[], &mut none, clock.now())
                .unwrap();
        }
        assert!(!b.has_sequence());
        b.set_producer_state(ProducerIdAndEpoch::new(9, 2), 40, false)
            .unwrap();
        assert_eq!((b.base_sequence(), b.last_sequence()), (40, 42));
        b.close().unwrap();
        let bytes = b.records();
        assert_eq!(i64::from_be_bytes(bytes[43..51].try_into().unwrap()), 9);
        assert_eq!(i32::from_be_bytes(bytes[53..57].try_into().unwrap()), 40);
        assert!(b
            .set_producer_state(ProducerIdAndEpoch::new(9, 2), 1, false)
            .is_err());
    }

    /// A batch of two records, producer 9 epoch 0 from sequence 40, not
    /// built yet.
    fn two_records_of_producer_9() -> ProducerBatch {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let mut none = None;
        for _ in 0..2 {
            b.try_append(1, None, Some(b"v"), &[], &mut none, clock.now())
                .unwrap();
        }
        b.set_producer_state(ProducerIdAndEpoch::new(9, 0), 40, false)
            .unwrap();
        b
    }

    #[test]
    fn reset_producer_state_rewrites_the_built_batch() {
        let mut b = two_records_of_producer_9();
        b.close().unwrap();
        assert!(!b.sequence_has_been_reset());
        b.reset_producer_state(ProducerIdAndEpoch::new(9, 1), 0)
            .unwrap();
        assert!(b.sequence_has_been_reset());
        assert_eq!(
            (b.producer_epoch(), b.base_sequence(), b.last_sequence()),
            (1, 0, 1)
        );
        let parsed = crate::record::RecordBatch::parse(b.records()).unwrap();
        parsed.validate().unwrap();
        assert_eq!(
            (
                parsed.producer_id(),
                parsed.producer_epoch(),
                parsed.base_sequence()
            ),
            (9, 1, 0)
        );
        // Closing again for the next attempt ends the reopened state.
        b.close().unwrap();
        assert!(!b.sequence_has_been_reset());
    }

    #[test]
    fn a_rewrite_while_a_request_holds_the_bytes_leaves_its_copy_alone() {
        let mut b = two_records_of_producer_9();
        assert!(b.shared_records().is_none(), "not built yet");
        b.close().unwrap();
        // A queued request holds the built bytes.
        let in_request = Arc::clone(b.shared_records().unwrap());
        assert!(std::ptr::eq(in_request.as_slice(), b.records()));
        b.reset_producer_state(ProducerIdAndEpoch::new(9, 1), 0)
            .unwrap();
        // The batch rewrote a copy; the request still sends the old bytes,
        // each with a valid CRC.
        let old = crate::record::RecordBatch::parse(&in_request).unwrap();
        old.validate().unwrap();
        assert_eq!((old.producer_epoch(), old.base_sequence()), (0, 40));
        let new = crate::record::RecordBatch::parse(b.records()).unwrap();
        new.validate().unwrap();
        assert_eq!((new.producer_epoch(), new.base_sequence()), (1, 0));
        assert!(!std::ptr::eq(in_request.as_slice(), b.records()));
        // Unshared now: the next rewrite is in place.
        let before = b.records().as_ptr();
        b.reset_producer_state(ProducerIdAndEpoch::new(9, 2), 0)
            .unwrap();
        assert_eq!(b.records().as_ptr(), before);
        // While shared, the buffer cannot go back to the pool: only its
        // size does.
        let held = Arc::clone(b.shared_records().unwrap());
        let (buf, size) = b.into_buffer();
        assert_eq!((buf.capacity(), size), (0, 1024));
        assert_eq!(held.len(), 61 + 2 * 8);
    }

    #[test]
    fn aborted_batch_has_no_records_and_gives_buffer_back() {
        let clock = Arc::new(MockClock::default());
        let mut b = batch(1024, &clock);
        let mut none = None;
        b.try_append(1, None, Some(b"v"), &[], &mut none, clock.now())
            .unwrap();
        b.abort_record_appends();
        assert!(b.close().is_err());
        assert!(b.records().is_empty());
        assert!(b.shared_records().is_none());
        assert!(b
            .try_append(1, None, Some(b"v"), &[], &mut none, clock.now())
            .unwrap()
            .is_none());
        let (buf, size) = b.into_buffer();
        assert_eq!(size, 1024);
        assert!(buf.capacity() >= 1024);
    }

    #[test]
    fn gzip_close_reports_compression_ratio() {
        let clock = Arc::new(MockClock::default());
        let tp = TopicPartition::new("t", 0);
        let builder =
            MemoryRecordsBuilder::new(Vec::new(), Compression::gzip(-1).unwrap(), 4096).unwrap();
        let mut b = ProducerBatch::new(
            tp.clone(),
            builder,
            4096,
            clock.now(),
            ProduceRequestResult::new(tp, clock.clone()),
        );
        let mut none = None;
        for _ in 0..50 {
            b.try_append(1, None, Some(&[7u8; 100]), &[], &mut none, clock.now())
                .unwrap();
        }
        let ratio = b.close().unwrap().unwrap();
        assert!(ratio > 0.0 && ratio < 0.5, "{ratio}");
    }
}

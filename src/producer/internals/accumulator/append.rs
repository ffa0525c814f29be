//! The caller side of the accumulator: [`RecordAccumulator::append`], Java's
//! exact flow.
//!
//! ```text
//!  loop:
//!    partition = explicit | sticky partition peeked before locking
//!    lock deque: if the sticky partition changed meanwhile ─▶ retry
//!                try the last batch ─▶ done
//!    abort_on_new_batch ─▶ return "abort for new batch"
//!    topic's appends_in_progress += 1 (once)
//!    allocate a small buffer (the smallest class holding the record's upper
//!      bound; a record over batch.size: exactly its size) from the pool (may block;
//!      with a callback, plus an estimate of the batch's callbacks' memory);
//!      the batch charges its growth as it fills (ProducerBatch)
//!    lock deque: if the sticky partition changed ─▶ retry (keep the buffer)
//!                try the last batch again (someone may have made one)
//!                else new batch with the buffer, push_back, incomplete += batch
//!    tell the partitioner the bytes appended; switch allowed iff all batches full
//!  finally: unused buffer back to the pool; appends_in_progress -= 1 if counted
//! ```

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Cluster, TopicPartition};
use crate::error::Error;
use crate::producer::future::{ProduceRequestResult, RecordCallback, SendFuture, Thunk};
use crate::producer::internals::built_in_partitioner::StickyPartitionInfo;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::record::RecordMetadata;
use crate::record::{
    CompressionType, Header, MemoryRecordsBuilder, SizedRecord, RECORD_BATCH_OVERHEAD,
};

use super::{Deque, RecordAccumulator, TopicInfo};

/// What an append did (Java `RecordAppendResult`).
#[derive(Debug)]
pub(crate) struct RecordAppendResult {
    /// The record's future; `None` when `abort_for_new_batch` or when the
    /// caller asked for none.
    pub(crate) future: Option<SendFuture>,
    /// A new batch was created for this record.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) new_batch_created: bool,
    /// The append may have changed what the network thread can send, so
    /// it is worth waking: a new batch was created, or the deque's only
    /// batch became full. Not when the batch appended to is behind another
    /// (not in Java, which wakes whenever the deque holds a full batch or
    /// more than one, its `batchIsFull`): the deque was
    /// sendable already, and the network thread was woken when it became
    /// so; it sends the head batch when the in-flight limit and backoff
    /// let it, which the append does not change. Waking it on every such
    /// append cost a full fence per record whenever a partition had a
    /// backlog (one partition against a slower broker).
    pub(crate) wakeup: bool,
    /// Nothing was appended: a new batch would have been needed and the
    /// caller asked to be told first (custom partitioner's `on_new_batch`).
    pub(crate) abort_for_new_batch: bool,
    /// Growth of the batch's estimated size caused by this record.
    pub(crate) appended_bytes: usize,
    /// The partition the record went to (chosen here for -1).
    pub(crate) partition: i32,
}

/// Returns an unused buffer to the pool and decrements the topic's
/// `appends_in_progress` (if this append counted itself) however `append`
/// ends (Java's `finally`).
struct AppendGuard<'a> {
    acc: &'a RecordAccumulator,
    info: &'a TopicInfo,
    /// A buffer allocated but not (yet) used by a batch.
    buffer: Option<NewBuffer>,
    counted: bool,
}

impl AppendGuard<'_> {
    /// Counts the append in `appends_in_progress`, once.
    fn count(&mut self) {
        if !self.counted {
            self.info.appends_in_progress.fetch_add(1, Ordering::SeqCst);
            self.counted = true;
        }
    }
}

impl Drop for AppendGuard<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            self.acc.pool.deallocate_with_charge(
                b.buffer,
                b.size,
                b.charged,
                b.chunk.into_iter().collect(),
            );
        }
        if self.counted {
            self.info.appends_in_progress.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Memory taken from the pool for a new batch.
struct NewBuffer {
    buffer: Vec<u8>,
    /// Bytes the buffer counts against the pool.
    size: usize,
    /// The batch's write limit: `batch.size`, or the record's size if
    /// larger.
    limit: usize,
    /// Bytes charged beside it for the callbacks the batch will hold: the
    /// first chunk's and a reserve for boxed callbacks.
    charged: usize,
    /// The first thunk chunk, for a record with a callback.
    chunk: Option<Vec<Thunk>>,
}

/// An estimate of the heap memory the callbacks of a new batch of `size`
/// bytes will hold, if its records are like this one (their thunks' chunks
/// come from the pool one by one, see `ProducerBatch`): none for a
/// callback stored in place. Taken with the batch's buffer, so that a
/// batch rarely needs a charge that could be refused (which would close it
/// before it is full).
fn callback_reserve(callback: &RecordCallback, size: usize, record_size: usize) -> usize {
    let records = (size / record_size.max(1)).max(1);
    records * callback.heap_cost()
}

/// A caller's handle on one topic's part of the accumulator: the topic's
/// shared state, and the deques and sticky partition this caller used
/// last, so that an append finds them without a map lookup, a map lock or
/// a reference count change. The producer keeps one per thread and topic;
/// deques are never removed from a topic, so a cached one stays valid.
pub(crate) struct TopicAppender {
    info: Arc<TopicInfo>,
    /// Indexed by partition; filled on first use.
    deques: Vec<Option<Arc<Deque>>>,
    sticky: Option<Arc<StickyPartitionInfo>>,
}

/// The deque of `partition` in `cache` (indexed by partition), taken from
/// the topic and kept on first use. Partitions are below the topic's
/// count (checked by the producer), so the vector stays dense.
fn cached_deque<'c>(
    info: &TopicInfo,
    cache: &'c mut Vec<Option<Arc<Deque>>>,
    partition: i32,
) -> &'c Arc<Deque> {
    // A negative number (never passed by the producer) maps to no slot of
    // its own; it shares the last one and replaces it.
    let index = usize::try_from(partition).unwrap_or(cache.len());
    if index >= cache.len() {
        cache.resize(index + 1, None);
    }
    let slot = &mut cache[index];
    if partition < 0 {
        *slot = None;
    }
    slot.get_or_insert_with(|| info.get_or_create_deque(partition))
}

impl std::fmt::Debug for TopicAppender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicAppender")
            .field("topic", &self.info.topic)
            .finish_non_exhaustive()
    }
}

impl RecordAccumulator {
    /// A handle for appending to `topic` (its state is created if needed).
    pub(crate) fn topic_appender(&self, topic: &str) -> TopicAppender {
        TopicAppender {
            info: self.get_or_create_topic_info(topic),
            deques: Vec::new(),
            sticky: None,
        }
    }

    /// Appends a record to `topic`'s `partition`, or to the partition the
    /// built-in partitioner chooses when `partition` is
    /// [`RecordMetadata::UNKNOWN_PARTITION`] (Java `append`).
    ///
    /// `callback` is taken only when the record is appended; on error or
    /// `abort_for_new_batch` it stays with the caller. Blocks at most
    /// `max_time_to_block` for buffer memory. Fails with
    /// [`Error::Closed`] ("Producer closed while send in progress") once
    /// the accumulator is closed, and with the pool's errors.
    #[allow(clippy::too_many_arguments)] // Java's signature, one value each
    #[allow(dead_code)] // the producer appends through a cached TopicAppender
    pub(crate) fn append(
        &self,
        topic: &str,
        partition: i32,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        callback: &mut Option<RecordCallback>,
        max_time_to_block: Duration,
        abort_on_new_batch: bool,
        now: Instant,
        cluster: &Cluster,
    ) -> Result<RecordAppendResult, Error> {
        let mut appender = self.topic_appender(topic);
        self.append_to(
            &mut appender,
            partition,
            &SizedRecord::new(timestamp, key, value, headers),
            callback,
            true,
            max_time_to_block,
            abort_on_new_batch,
            now,
            cluster,
        )
    }

    /// [`append`](Self::append) through a topic's [`TopicAppender`], of a
    /// record sized once by the caller (who checked its size against
    /// `max.request.size` and `buffer.memory`). The result has the
    /// record's future only if `want_future`.
    #[allow(clippy::too_many_arguments)] // Java's signature, one value each
    pub(crate) fn append_to(
        &self,
        appender: &mut TopicAppender,
        partition: i32,
        record: &SizedRecord<'_>,
        callback: &mut Option<RecordCallback>,
        want_future: bool,
        max_time_to_block: Duration,
        abort_on_new_batch: bool,
        mut now: Instant,
        cluster: &Cluster,
    ) -> Result<RecordAppendResult, Error> {
        // Borrowed apart: the deque cache changes while the sticky info
        // is borrowed from its own cache.
        let TopicAppender {
            info,
            deques,
            sticky: sticky_cache,
        } = appender;
        let info: &TopicInfo = info;
        let mut guard = AppendGuard {
            acc: self,
            info,
            buffer: None,
            counted: false,
        };
        let topic = &*info.topic;
        // Loops only when another thread switched the sticky partition
        // between the peek and the deque lock.
        loop {
            let sticky = if partition == RecordMetadata::UNKNOWN_PARTITION {
                Some(info.partitioner.peek_cached(sticky_cache, cluster))
            } else {
                None
            };
            let effective_partition = sticky.map_or(partition, |s| s.partition());
            let dq = cached_deque(info, deques, effective_partition);
            {
                let mut dq = dq.lock();
                if partition_changed(info, sticky, &dq, cluster) {
                    continue;
                }
                if let Some(result) = self.try_append(
                    &mut dq,
                    record,
                    callback,
                    want_future,
                    now,
                    effective_partition,
                )? {
                    let enable_switch = all_batches_full(&dq);
                    info.partitioner.update_partition_info(
                        sticky,
                        result.appended_bytes,
                        cluster,
                        enable_switch,
                    );
                    return Ok(result);
                }
            }
            if abort_on_new_batch {
                return Ok(RecordAppendResult {
                    future: None,
                    new_batch_created: false,
                    wakeup: false,
                    abort_for_new_batch: true,
                    appended_bytes: 0,
                    partition: effective_partition,
                });
            }

            // Counted from here, so that abort_incomplete_batches does not
            // miss a batch created by an append racing with it. An append
            // into an existing batch needs no count (Java counts every
            // append): it happens under the deque lock, after the closed
            // check, so the abort's pass over that deque sees its record.
            guard.count();
            if guard.buffer.is_none() {
                // Java's estimateSizeInBytesUpperBound.
                let record_size = RECORD_BATCH_OVERHEAD + record.size_upper_bound();
                let limit = self.config.batch_size.max(record_size);
                // The smallest buffer class that holds the record (or a
                // free `batch.size` buffer, see `allocate_batch`): the
                // batch grows through the classes as it fills.
                let size = limit.min(self.pool.class_size_for(record_size));
                log::trace!(
                    "Allocating a new {} byte message buffer for topic {} partition {} with remaining timeout {}ms",
                    size,
                    topic,
                    effective_partition,
                    max_time_to_block.as_millis()
                );
                guard.buffer = Some(match callback.as_ref() {
                    None => {
                        let (buffer, size) = self.pool.allocate_batch(size, max_time_to_block)?;
                        NewBuffer {
                            buffer,
                            size,
                            limit,
                            charged: 0,
                            chunk: None,
                        }
                    }
                    // The reserve is for the callbacks of a full batch.
                    Some(cb) => {
                        let memory = self.pool.allocate_with_chunk(
                            size,
                            callback_reserve(cb, limit, record_size),
                            max_time_to_block,
                        )?;
                        NewBuffer {
                            buffer: memory.buffer,
                            size: memory.counted,
                            limit,
                            charged: memory.charged,
                            chunk: memory.chunk,
                        }
                    }
                });
                // The allocation may have blocked.
                now = self.clock.now();
            }

            let mut dq = dq.lock();
            if partition_changed(info, sticky, &dq, cluster) {
                continue;
            }
            let result = self.append_new_batch(
                info,
                effective_partition,
                &mut dq,
                record,
                callback,
                want_future,
                &mut guard.buffer,
                now,
            )?;
            let enable_switch = all_batches_full(&dq);
            info.partitioner.update_partition_info(
                sticky,
                result.appended_bytes,
                cluster,
                enable_switch,
            );
            return Ok(result);
        }
    }

    /// Appends into the deque's last batch if it has room (Java's private
    /// `tryAppend`); a last batch without room is closed for appends.
    fn try_append(
        &self,
        dq: &mut VecDeque<ProducerBatch>,
        record: &SizedRecord<'_>,
        callback: &mut Option<RecordCallback>,
        want_future: bool,
        now: Instant,
        partition: i32,
    ) -> Result<Option<RecordAppendResult>, Error> {
        if self.is_closed() {
            return Err(Error::Closed(
                "Producer closed while send in progress".to_owned(),
            ));
        }
        let len = dq.len();
        let Some(last) = dq.back_mut() else {
            return Ok(None);
        };
        let initial_bytes = last.estimated_size_in_bytes();
        match last.try_append_sized(record, callback, now)? {
            None => {
                // Frees the compressor early; the header is written at drain.
                last.close_for_record_appends();
                Ok(None)
            }
            Some(appended) => Ok(Some(RecordAppendResult {
                future: want_future.then(|| last.future_for(appended)),
                new_batch_created: false,
                wakeup: len == 1 && last.is_full(),
                abort_for_new_batch: false,
                appended_bytes: last.estimated_size_in_bytes().saturating_sub(initial_bytes),
                partition,
            })),
        }
    }

    /// Java `appendNewBatch`: tries the last batch once more (another
    /// thread may have created one while we allocated), else starts a new
    /// batch in `buffer`, which it then owns.
    #[allow(clippy::too_many_arguments)]
    fn append_new_batch(
        &self,
        info: &TopicInfo,
        partition: i32,
        dq: &mut VecDeque<ProducerBatch>,
        record: &SizedRecord<'_>,
        callback: &mut Option<RecordCallback>,
        want_future: bool,
        buffer: &mut Option<NewBuffer>,
        now: Instant,
    ) -> Result<RecordAppendResult, Error> {
        if let Some(result) = self.try_append(dq, record, callback, want_future, now, partition)? {
            // Somebody else made a batch while we allocated; our buffer goes
            // back to the pool.
            return Ok(result);
        }
        let Some(NewBuffer {
            buffer: buf,
            size,
            limit,
            charged,
            chunk,
        }) = buffer.take()
        else {
            return Err(Error::Other(
                "no buffer for a new batch; this is a bug in the client".into(),
            ));
        };
        // The write limit is batch.size, or, as Java's builder uses the
        // buffer's capacity, the record's size when larger: such a record
        // gets a batch of its own size. The buffer may start smaller.
        let builder = match MemoryRecordsBuilder::new(buf, self.config.compression, limit) {
            Ok(b) => b,
            Err(e) => {
                // The codec was checked at construction; give the memory back.
                self.pool.deallocate_with_charge(
                    Vec::new(),
                    size,
                    charged,
                    chunk.into_iter().collect(),
                );
                return Err(e);
            }
        };
        let tp = TopicPartition::new(info.topic.clone(), partition);
        let result = ProduceRequestResult::new(tp.clone(), self.clock.clone());
        let mut batch = ProducerBatch::new(tp, builder, size, now, result).with_memory_accounting(
            self.pool.clone(),
            charged,
            chunk,
        );
        if self.config.compression.kind() != CompressionType::None {
            batch.set_estimated_compression_ratio(
                info.compression_ratio
                    .estimation(self.config.compression.kind()),
            );
        }
        let appended = match batch.try_append_sized(record, callback, now) {
            Ok(Some(appended)) => appended,
            other => {
                let charged = batch.charged();
                let (buf, size) = batch.into_buffer();
                self.pool
                    .deallocate_with_charge(buf, size, charged, Vec::new());
                return Err(other.err().unwrap_or_else(|| {
                    Error::Other("a new batch refused its first record".into())
                }));
            }
        };
        let appended_bytes = batch.estimated_size_in_bytes();
        let future = want_future.then(|| batch.future_for(appended));
        self.incomplete.add(&batch);
        dq.push_back(batch);
        Ok(RecordAppendResult {
            future,
            new_batch_created: true,
            wakeup: true,
            abort_for_new_batch: false,
            appended_bytes,
            partition,
        })
    }

    /// How many appends are running, over all topics.
    pub(crate) fn appends_in_progress(&self) -> usize {
        self.topics
            .read()
            .values()
            .map(|info| info.appends_in_progress.load(Ordering::SeqCst))
            .sum()
    }
}

/// Java `partitionChanged`: whether another thread switched the sticky
/// partition since it was peeked, or a switch that was held back while the
/// last batch was not full can now happen (then retry on the new one).
fn partition_changed(
    info: &TopicInfo,
    sticky: Option<&Arc<StickyPartitionInfo>>,
    dq: &VecDeque<ProducerBatch>,
    cluster: &Cluster,
) -> bool {
    if info.partitioner.is_partition_changed(sticky) {
        log::trace!(
            "Partition {:?} for topic {} switched by a concurrent append, retrying",
            sticky.map(|s| s.partition()),
            info.topic
        );
        return true;
    }
    if sticky.is_some() && all_batches_full(dq) {
        info.partitioner
            .update_partition_info(sticky, 0, cluster, true);
        if info.partitioner.is_partition_changed(sticky) {
            log::trace!(
                "Completed previously disabled switch for topic {} partition {:?}, retrying",
                info.topic,
                sticky.map(|s| s.partition())
            );
            return true;
        }
    }
    false
}

/// Only the last batch can have room, so only it is checked.
fn all_batches_full(dq: &VecDeque<ProducerBatch>) -> bool {
    dq.back().is_none_or(ProducerBatch::is_full)
}

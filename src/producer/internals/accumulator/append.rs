//! The caller side of the accumulator: [`RecordAccumulator::append`], Java's
//! exact flow.
//!
//! ```text
//!  appends_in_progress += 1
//!  loop:
//!    partition = explicit | sticky partition peeked before locking
//!    lock deque: if the sticky partition changed meanwhile ─▶ retry
//!                try the last batch ─▶ done
//!    abort_on_new_batch ─▶ return "abort for new batch"
//!    allocate max(batch.size, record upper bound) from the pool  (may block)
//!    lock deque: if the sticky partition changed ─▶ retry (keep the buffer)
//!                try the last batch again (someone may have made one)
//!                else new batch with the buffer, push_back, incomplete += batch
//!    tell the partitioner the bytes appended; switch allowed iff all batches full
//!  finally: unused buffer back to the pool; appends_in_progress -= 1
//! ```

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{Cluster, TopicPartition};
use crate::error::Error;
use crate::producer::future::{ProduceRequestResult, RecordCallback, SendFuture};
use crate::producer::internals::built_in_partitioner::StickyPartitionInfo;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::record::RecordMetadata;
use crate::record::{
    estimate_size_in_bytes_upper_bound, CompressionType, Header, MemoryRecordsBuilder,
};

use super::{RecordAccumulator, TopicInfo};

/// What an append did (Java `RecordAppendResult`).
#[derive(Debug)]
pub(crate) struct RecordAppendResult {
    /// The record's future; `None` only when `abort_for_new_batch`.
    pub(crate) future: Option<SendFuture>,
    /// The deque holds a sendable batch: the one appended to is full or is
    /// not the only one.
    pub(crate) batch_is_full: bool,
    /// A new batch was created for this record.
    pub(crate) new_batch_created: bool,
    /// Nothing was appended: a new batch would have been needed and the
    /// caller asked to be told first (custom partitioner's `on_new_batch`).
    pub(crate) abort_for_new_batch: bool,
    /// Growth of the batch's estimated size caused by this record.
    pub(crate) appended_bytes: usize,
    /// The partition the record went to (chosen here for -1).
    pub(crate) partition: i32,
}

/// Decrements `appends_in_progress` and returns an unused buffer to the
/// pool however `append` ends (Java's `finally`).
struct AppendGuard<'a> {
    acc: &'a RecordAccumulator,
    /// A buffer allocated but not (yet) used by a batch, with its size.
    buffer: Option<(Vec<u8>, usize)>,
}

impl Drop for AppendGuard<'_> {
    fn drop(&mut self) {
        if let Some((buffer, size)) = self.buffer.take() {
            self.acc.pool.deallocate(buffer, size);
        }
        self.acc.appends_in_progress.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The record being appended.
struct Record<'r> {
    timestamp: i64,
    key: Option<&'r [u8]>,
    value: Option<&'r [u8]>,
    headers: &'r [Header],
}

impl RecordAccumulator {
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
        mut now: Instant,
        cluster: &Cluster,
    ) -> Result<RecordAppendResult, Error> {
        let info = self.get_or_create_topic_info(topic);
        // Counted so that abort_incomplete_batches does not miss a batch
        // created by an append racing with it.
        self.appends_in_progress.fetch_add(1, Ordering::SeqCst);
        let mut guard = AppendGuard {
            acc: self,
            buffer: None,
        };
        let record = Record {
            timestamp,
            key,
            value,
            headers,
        };
        // Loops only when another thread switched the sticky partition
        // between the peek and the deque lock.
        loop {
            let (sticky, effective_partition) = if partition == RecordMetadata::UNKNOWN_PARTITION {
                let sticky = info.partitioner.peek_current_partition_info(cluster);
                let p = sticky.partition();
                (Some(sticky), p)
            } else {
                (None, partition)
            };
            let sticky = sticky.as_ref();
            let dq = info.get_or_create_deque(effective_partition);
            {
                let mut dq = dq.lock();
                if partition_changed(&info, sticky, &dq, cluster) {
                    continue;
                }
                if let Some(result) =
                    self.try_append(&mut dq, &record, callback, now, effective_partition)?
                {
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
                    batch_is_full: false,
                    new_batch_created: false,
                    abort_for_new_batch: true,
                    appended_bytes: 0,
                    partition: effective_partition,
                });
            }

            if guard.buffer.is_none() {
                let size = self
                    .config
                    .batch_size
                    .max(estimate_size_in_bytes_upper_bound(key, value, headers));
                log::trace!(
                    "Allocating a new {} byte message buffer for topic {} partition {} with remaining timeout {}ms",
                    size,
                    topic,
                    effective_partition,
                    max_time_to_block.as_millis()
                );
                let buffer = self.pool.allocate(size, max_time_to_block)?;
                guard.buffer = Some((buffer, size));
                // The allocation may have blocked.
                now = self.clock.now();
            }

            let mut dq = dq.lock();
            if partition_changed(&info, sticky, &dq, cluster) {
                continue;
            }
            let result = self.append_new_batch(
                &info,
                effective_partition,
                &mut dq,
                &record,
                callback,
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
        record: &Record<'_>,
        callback: &mut Option<RecordCallback>,
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
        match last.try_append(
            record.timestamp,
            record.key,
            record.value,
            record.headers,
            callback,
            now,
        )? {
            None => {
                // Frees the compressor early; the header is written at drain.
                last.close_for_record_appends();
                Ok(None)
            }
            Some(future) => Ok(Some(RecordAppendResult {
                future: Some(future),
                batch_is_full: len > 1 || last.is_full(),
                new_batch_created: false,
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
        record: &Record<'_>,
        callback: &mut Option<RecordCallback>,
        buffer: &mut Option<(Vec<u8>, usize)>,
        now: Instant,
    ) -> Result<RecordAppendResult, Error> {
        if let Some(result) = self.try_append(dq, record, callback, now, partition)? {
            // Somebody else made a batch while we allocated; our buffer goes
            // back to the pool.
            return Ok(result);
        }
        let Some((buf, size)) = buffer.take() else {
            return Err(Error::Other(
                "no buffer for a new batch; this is a bug in the client".into(),
            ));
        };
        // The write limit is the buffer's size, as Java's builder uses the
        // buffer's capacity: a record larger than batch.size gets a batch of
        // its own size.
        let builder = match MemoryRecordsBuilder::new(buf, self.config.compression, size) {
            Ok(b) => b,
            Err(e) => {
                // The codec was checked at construction; give the memory back.
                self.pool.deallocate(Vec::new(), size);
                return Err(e);
            }
        };
        let tp = TopicPartition::new(info.topic.clone(), partition);
        let result = ProduceRequestResult::new(tp.clone(), self.clock.clone());
        let mut batch = ProducerBatch::new(tp, builder, size, now, result);
        if self.config.compression.kind() != CompressionType::None {
            batch.set_estimated_compression_ratio(
                info.compression_ratio
                    .estimation(self.config.compression.kind()),
            );
        }
        let future = match batch.try_append(
            record.timestamp,
            record.key,
            record.value,
            record.headers,
            callback,
            now,
        ) {
            Ok(Some(f)) => f,
            other => {
                let (buf, size) = batch.into_buffer();
                self.pool.deallocate(buf, size);
                return Err(other.err().unwrap_or_else(|| {
                    Error::Other("a new batch refused its first record".into())
                }));
            }
        };
        let appended_bytes = batch.estimated_size_in_bytes();
        let is_full = batch.is_full();
        self.incomplete.add(&batch);
        dq.push_back(batch);
        Ok(RecordAppendResult {
            future: Some(future),
            batch_is_full: dq.len() > 1 || is_full,
            new_batch_created: true,
            abort_for_new_batch: false,
            appended_bytes,
            partition,
        })
    }

    /// How many appends are running (for tests of the abort loop).
    #[cfg(test)]
    pub(crate) fn appends_in_progress(&self) -> usize {
        self.appends_in_progress.load(Ordering::SeqCst)
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

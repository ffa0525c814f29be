//! Splitting a batch the broker refused as too large (Java
//! `ProducerBatch.split` and `createBatchOffAccumulatorForRecord`): its
//! records are read back from its built bytes and appended, in order, to
//! new batches; the old batch then completes as split, so every record's
//! future and callback follow it to its new batch.

use std::sync::Arc;

use super::ProducerBatch;
use crate::error::Error;
use crate::producer::future::{BatchOutcome, ProduceRequestResult};
use crate::producer::internals::transaction_manager::ProducerIdAndEpoch;
use crate::record::{
    estimate_size_in_bytes_upper_bound, Header, MemoryRecordsBuilder, RecordBatch,
};
use crate::util::clock::Clock;

/// The new batches of a split and where each record of the old one went.
pub(crate) struct SplitResult {
    pub(crate) batches: Vec<ProducerBatch>,
    pub(crate) targets: Vec<(Arc<ProduceRequestResult>, i32)>,
}

impl ProducerBatch {
    /// Java `split`: the records of this built batch, in order, in new
    /// batches of at most `split_batch_size` bytes each (a record larger
    /// than that gets a batch of its own). The new batches keep this one's
    /// creation time, are closed for appends, are not from the pool, and,
    /// if this batch had a sequence, take consecutive sequences from its
    /// base under the same producer id and epoch.
    ///
    /// Also returns where each record went (new slot, index), for
    /// [`complete_split`](Self::complete_split).
    pub(crate) fn split(
        &self,
        split_batch_size: usize,
        compression_ratio: f32,
        clock: &Arc<dyn Clock>,
    ) -> Result<SplitResult, Error> {
        let bytes = self.records();
        let parsed = RecordBatch::parse(bytes)?;
        if parsed.size_in_bytes() != bytes.len() {
            return Err(Error::Other(format!(
                "A producer batch for {} should only have one record batch.",
                self.tp
            )));
        }
        let records = parsed.records(self.builder.uncompressed_bytes_written())?;
        let mut batches: Vec<ProducerBatch> = Vec::new();
        let mut targets = Vec::with_capacity(records.len());
        let mut none = None;
        for record in records.iter() {
            let record = record?;
            let headers = record
                .headers
                .iter()
                .map(|h| h.to_header())
                .collect::<Result<Vec<Header>, _>>()?;
            let appended = match batches.last_mut() {
                Some(b) => b.try_append(
                    record.timestamp,
                    record.key,
                    record.value,
                    &headers,
                    &mut none,
                    self.created,
                )?,
                None => None,
            };
            if appended.is_none() {
                if let Some(full) = batches.last_mut() {
                    full.close_for_record_appends();
                }
                let mut batch = self.new_split_batch(
                    record.key,
                    record.value,
                    &headers,
                    split_batch_size,
                    compression_ratio,
                    clock,
                )?;
                // A new batch always takes its first record.
                if batch
                    .try_append(
                        record.timestamp,
                        record.key,
                        record.value,
                        &headers,
                        &mut none,
                        self.created,
                    )?
                    .is_none()
                {
                    return Err(Error::Other(format!(
                        "a split batch for {} cannot take its first record",
                        self.tp
                    )));
                }
                batches.push(batch);
            }
            let Some(last) = batches.last() else {
                continue;
            };
            targets.push((Arc::clone(last.result()), last.record_count() - 1));
        }
        if batches.is_empty() {
            return Err(Error::Other(format!(
                "Cannot split an empty producer batch for {}.",
                self.tp
            )));
        }
        if targets.len() != usize::try_from(self.record_count).unwrap_or(0) {
            return Err(Error::Other(format!(
                "splitting the batch for {} found {} records, not {}",
                self.tp,
                targets.len(),
                self.record_count
            )));
        }
        let producer = ProducerIdAndEpoch::new(self.producer_id(), self.producer_epoch());
        let mut sequence = self.base_sequence();
        for batch in &mut batches {
            batch.close_for_record_appends();
            if self.has_sequence() {
                batch.set_producer_state(producer, sequence, self.is_transactional())?;
                sequence = crate::record::increment_sequence(sequence, batch.record_count());
            }
        }
        Ok(SplitResult { batches, targets })
    }

    /// A batch for the split of this one, sized for `batch_size` or the
    /// record if it is larger (Java `createBatchOffAccumulatorForRecord`).
    fn new_split_batch(
        &self,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header],
        batch_size: usize,
        compression_ratio: f32,
        clock: &Arc<dyn Clock>,
    ) -> Result<ProducerBatch, Error> {
        let size = estimate_size_in_bytes_upper_bound(key, value, headers).max(batch_size);
        let mut builder =
            MemoryRecordsBuilder::new(Vec::with_capacity(size), self.builder.compression(), size)?;
        builder.set_estimated_compression_ratio(compression_ratio);
        let result = ProduceRequestResult::new(self.tp.clone(), Arc::clone(clock));
        Ok(
            ProducerBatch::new(self.tp.clone(), builder, size, self.created, result)
                .into_split_batch(),
        )
    }

    /// Completes this batch as split: each record's future and callback
    /// follow it to its new batch (`targets` from [`split`](Self::split)).
    pub(crate) fn complete_split(&mut self, targets: Vec<(Arc<ProduceRequestResult>, i32)>) {
        log::trace!("Split the batch for {} into new batches", self.tp);
        self.publish_thunks();
        self.result.complete(BatchOutcome::Split(targets), None);
    }
}

//! One partition's log as the mock broker keeps it: the appended batches
//! (bytes as stored, base offset and leader epoch already assigned), the log
//! end offset, and the idempotent-producer state kept per producer id (the
//! Kafka `ProducerStateManager` / `ProducerStateEntry` / `ProducerAppendInfo`
//! rules, for one partition).
//!
//! ```text
//!  validated batch ──check_producer()──> Append | Duplicate{offset, ts} | Err(code)
//!                  ──append()──────────> base offset = log end offset,
//!                                        header rewritten, batch kept,
//!                                        producer entry updated (last 5 batches)
//! ```
//!
//! Also here: [`StoredRecord`], one record read back from the log.

use std::collections::{HashMap, VecDeque};

use crate::protocol::error_code::ErrorCode;
use crate::record::{RecordBatch, NO_SEQUENCE, PARTITION_LEADER_EPOCH_OFFSET};

/// How many batches per producer are remembered for duplicate detection
/// (Kafka `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`; the reason a producer
/// may have at most 5 requests in flight with idempotence).
pub(crate) const NUM_BATCHES_TO_RETAIN: usize = 5;

/// The most a compressed batch may inflate to when it is read (a guard
/// against decompression bombs sent to the mock).
pub(crate) const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// One record read back from a partition, with the producer fields of the
/// batch that carried it.
///
/// `Debug` shows the payloads: this type exists for tests, whose failure
/// messages should say which bytes differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    /// The offset the mock broker assigned.
    pub offset: i64,
    /// The record's timestamp (CreateTime, as the producer wrote it).
    pub timestamp: i64,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// The headers in order: key bytes (UTF-8 when written by a Kafka
    /// client, not checked by brokers) and value (`None` is null).
    pub headers: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    /// The batch's producer id (-1 for a non-idempotent producer).
    pub producer_id: i64,
    /// The batch's producer epoch (-1 for a non-idempotent producer).
    pub producer_epoch: i16,
    /// The record's sequence number (-1 for a non-idempotent producer).
    pub sequence: i32,
}

/// What the broker remembers of one appended batch (Kafka `BatchMetadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMetadata {
    first_seq: i32,
    last_seq: i32,
    first_offset: i64,
    /// The batch's max timestamp: Kafka answers a duplicate with it as the
    /// "log append time" (`appendInfo.setLogAppendTime(duplicate.timestamp)`).
    max_timestamp: i64,
}

/// The state of one producer id on one partition (Kafka
/// `ProducerStateEntry`): its epoch and its last batches, oldest first.
#[derive(Debug, Clone, Default)]
struct ProducerStateEntry {
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
}

impl ProducerStateEntry {
    fn last_seq(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |b| b.last_seq)
    }
}

/// The producer fields of a batch about to be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerBatch {
    pub(crate) producer_id: i64,
    pub(crate) epoch: i16,
    pub(crate) first_seq: i32,
    pub(crate) last_seq: i32,
    pub(crate) max_timestamp: i64,
}

/// What [`PartitionLog::check_producer`] decided for a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProducerCheck {
    /// The batch is new and in sequence: append it.
    Append,
    /// The batch repeats one of the producer's last five: answer success
    /// with the original batch's offset and max timestamp, append nothing.
    Duplicate { base_offset: i64, timestamp: i64 },
}

/// One partition's log.
#[derive(Default)]
pub(crate) struct PartitionLog {
    batches: Vec<Vec<u8>>,
    log_end_offset: i64,
    producers: HashMap<i64, ProducerStateEntry>,
}

impl std::fmt::Debug for PartitionLog {
    // Sizes only: a log can hold megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartitionLog")
            .field("batches", &self.batches.len())
            .field("log_end_offset", &self.log_end_offset)
            .field("producers", &self.producers.len())
            .finish()
    }
}

impl PartitionLog {
    /// The offset the next appended record gets.
    pub(crate) fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// The stored batches, oldest first.
    pub(crate) fn batches(&self) -> &[Vec<u8>] {
        &self.batches
    }

    /// Kafka's idempotence checks for a batch from producer `b`, in Kafka's
    /// order: a duplicate of a retained batch first (same epoch, same first
    /// and last sequence), then the epoch (older: `INVALID_PRODUCER_EPOCH`),
    /// then the sequence (`OUT_OF_ORDER_SEQUENCE_NUMBER`): a new epoch must
    /// start at 0 unless the producer is unknown here, and within an epoch
    /// the batch must follow the last one. An unknown producer id is
    /// accepted at any sequence, as Kafka 4.x does (the `UNKNOWN_PRODUCER_ID`
    /// answer is gone since KIP-360).
    pub(crate) fn check_producer(
        &self,
        b: &ProducerBatch,
    ) -> Result<ProducerCheck, (ErrorCode, String)> {
        let Some(entry) = self.producers.get(&b.producer_id) else {
            return Ok(ProducerCheck::Append);
        };
        if entry.epoch == b.epoch {
            if let Some(dup) = entry
                .batches
                .iter()
                .find(|m| m.first_seq == b.first_seq && m.last_seq == b.last_seq)
            {
                return Ok(ProducerCheck::Duplicate {
                    base_offset: dup.first_offset,
                    timestamp: dup.max_timestamp,
                });
            }
        }
        if b.epoch < entry.epoch {
            return Err((
                ErrorCode::INVALID_PRODUCER_EPOCH,
                format!(
                    "epoch {} of producer {} is smaller than the last seen epoch {}",
                    b.epoch, b.producer_id, entry.epoch
                ),
            ));
        }
        if b.epoch != entry.epoch {
            if b.first_seq != 0 {
                return Err((
                    ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                    format!(
                        "invalid sequence number {} for new epoch {} of producer {} (current \
                         epoch {})",
                        b.first_seq, b.epoch, b.producer_id, entry.epoch
                    ),
                ));
            }
            return Ok(ProducerCheck::Append);
        }
        let last = entry.last_seq();
        if !in_sequence(last, b.first_seq) {
            return Err((
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER,
                format!(
                    "out of order sequence number for producer {}: {} (incoming), {} (current \
                     end sequence number)",
                    b.producer_id, b.first_seq, last
                ),
            ));
        }
        Ok(ProducerCheck::Append)
    }

    /// Appends a validated batch (at least the 61-byte header, checked by
    /// the caller): assigns its base offset (the log end offset) and writes
    /// it and `leader_epoch` into the header, as a broker does (the CRC does
    /// not cover those fields), then records the producer's batch. Returns
    /// the base offset.
    pub(crate) fn append(
        &mut self,
        mut batch: Vec<u8>,
        record_count: i64,
        leader_epoch: i32,
        producer: Option<ProducerBatch>,
    ) -> i64 {
        let base = self.log_end_offset;
        batch[..8].copy_from_slice(&base.to_be_bytes());
        batch[PARTITION_LEADER_EPOCH_OFFSET..PARTITION_LEADER_EPOCH_OFFSET + 4]
            .copy_from_slice(&leader_epoch.to_be_bytes());
        self.batches.push(batch);
        self.acknowledge(record_count, producer)
    }

    /// Sink mode's append: assigns offsets and records the producer's batch
    /// (so duplicates are still recognised) without keeping the bytes.
    /// Returns the base offset.
    pub(crate) fn acknowledge(
        &mut self,
        record_count: i64,
        producer: Option<ProducerBatch>,
    ) -> i64 {
        let base = self.log_end_offset;
        self.log_end_offset = base + record_count;
        if let Some(p) = producer {
            let entry = self.producers.entry(p.producer_id).or_default();
            if entry.epoch != p.epoch {
                // A new epoch forgets the old epoch's batches (Kafka
                // `maybeUpdateProducerEpoch`).
                entry.epoch = p.epoch;
                entry.batches.clear();
            }
            if entry.batches.len() == NUM_BATCHES_TO_RETAIN {
                entry.batches.pop_front();
            }
            entry.batches.push_back(BatchMetadata {
                first_seq: p.first_seq,
                last_seq: p.last_seq,
                first_offset: base,
                max_timestamp: p.max_timestamp,
            });
        }
        base
    }

    /// Every record of every stored batch, in offset order. Batches that
    /// cannot be read back (none should: they were checked when appended)
    /// are skipped and logged.
    pub(crate) fn records(&self) -> Vec<StoredRecord> {
        let mut out = Vec::new();
        for bytes in &self.batches {
            let Ok(batch) = RecordBatch::parse(bytes) else {
                continue; // only validated batches are stored
            };
            let records = match batch.records(MAX_DECOMPRESSED_BYTES) {
                Ok(r) => r,
                Err(e) => {
                    log::warn!(
                        "mock broker: cannot read back the batch at offset {}: {e}",
                        batch.base_offset()
                    );
                    continue;
                }
            };
            for record in records.iter() {
                // Every stored batch had its records read when appended.
                let Ok(r) = record else { break };
                out.push(StoredRecord {
                    offset: r.offset,
                    timestamp: r.timestamp,
                    key: r.key.map(<[u8]>::to_vec),
                    value: r.value.map(<[u8]>::to_vec),
                    headers: r
                        .headers
                        .iter()
                        .map(|h| (h.key.to_vec(), h.value.map(<[u8]>::to_vec)))
                        .collect(),
                    producer_id: batch.producer_id(),
                    producer_epoch: batch.producer_epoch(),
                    sequence: r.sequence,
                });
            }
        }
        out
    }
}

/// Whether `next` follows `last` (Kafka `ProducerAppendInfo.inSequence`:
/// sequences wrap from `i32::MAX` to 0).
fn in_sequence(last: i32, next: i32) -> bool {
    i64::from(next) == i64::from(last) + 1 || (next == 0 && last == i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(pid: i64, epoch: i16, first: i32, last: i32) -> ProducerBatch {
        ProducerBatch {
            producer_id: pid,
            epoch,
            first_seq: first,
            last_seq: last,
            max_timestamp: 1_000 + i64::from(first),
        }
    }

    fn header() -> Vec<u8> {
        vec![0u8; 61]
    }

    fn append(log: &mut PartitionLog, b: ProducerBatch) -> i64 {
        let n = i64::from(b.last_seq - b.first_seq + 1);
        log.append(header(), n, 0, Some(b))
    }

    #[test]
    fn unknown_producers_start_anywhere_and_sequences_must_follow() {
        let mut log = PartitionLog::default();
        assert_eq!(
            log.check_producer(&batch(7, 0, 42, 43)),
            Ok(ProducerCheck::Append)
        );
        assert_eq!(append(&mut log, batch(7, 0, 42, 43)), 0);
        assert_eq!(
            log.check_producer(&batch(7, 0, 44, 44)),
            Ok(ProducerCheck::Append)
        );
        let (code, _) = log.check_producer(&batch(7, 0, 45, 45)).unwrap_err();
        assert_eq!(code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
        assert_eq!(log.log_end_offset(), 2);
    }

    #[test]
    fn only_the_last_five_batches_are_duplicates() {
        let mut log = PartitionLog::default();
        for i in 0..6 {
            assert_eq!(
                append(&mut log, batch(1, 0, i * 2, i * 2 + 1)),
                i64::from(i) * 2
            );
        }
        // Batch 0 (seq 0-1) fell out of the window: it is now out of order.
        let (code, _) = log.check_producer(&batch(1, 0, 0, 1)).unwrap_err();
        assert_eq!(code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
        assert_eq!(
            log.check_producer(&batch(1, 0, 2, 3)),
            Ok(ProducerCheck::Duplicate {
                base_offset: 2,
                timestamp: 1_002
            })
        );
        // Same first sequence, different last: not a duplicate.
        assert!(log.check_producer(&batch(1, 0, 2, 4)).is_err());
    }

    #[test]
    fn epochs_fence_and_restart_sequences() {
        let mut log = PartitionLog::default();
        append(&mut log, batch(1, 3, 0, 9));
        let (code, _) = log.check_producer(&batch(1, 2, 10, 10)).unwrap_err();
        assert_eq!(code, ErrorCode::INVALID_PRODUCER_EPOCH);
        let (code, _) = log.check_producer(&batch(1, 4, 10, 10)).unwrap_err();
        assert_eq!(code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
        assert_eq!(
            log.check_producer(&batch(1, 4, 0, 0)),
            Ok(ProducerCheck::Append)
        );
        append(&mut log, batch(1, 4, 0, 0));
        // The old epoch's batches are forgotten: the old duplicate is fenced.
        let (code, _) = log.check_producer(&batch(1, 3, 0, 9)).unwrap_err();
        assert_eq!(code, ErrorCode::INVALID_PRODUCER_EPOCH);
    }

    #[test]
    fn sequences_wrap() {
        assert!(in_sequence(i32::MAX, 0));
        assert!(in_sequence(-1, 0));
        assert!(!in_sequence(-1, 1));
        assert!(!in_sequence(i32::MAX - 1, 0));
    }

    #[test]
    fn acknowledging_counts_offsets_and_keeps_duplicates_without_storing() {
        let mut log = PartitionLog::default();
        assert_eq!(log.acknowledge(3, Some(batch(1, 0, 0, 2))), 0);
        assert_eq!(log.acknowledge(2, None), 3);
        assert_eq!(log.log_end_offset(), 5);
        assert!(log.batches().is_empty());
        assert_eq!(
            log.check_producer(&batch(1, 0, 0, 2)),
            Ok(ProducerCheck::Duplicate {
                base_offset: 0,
                timestamp: 1_000
            })
        );
    }

    #[test]
    fn append_stamps_offset_and_epoch() {
        let mut log = PartitionLog::default();
        log.append(header(), 3, 0, None);
        let base = log.append(header(), 2, 9, None);
        assert_eq!(base, 3);
        let stored = &log.batches()[1];
        assert_eq!(&stored[..8], &3i64.to_be_bytes());
        assert_eq!(&stored[12..16], &9i32.to_be_bytes());
        assert_eq!(log.log_end_offset(), 5);
    }
}

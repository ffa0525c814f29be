//! Batches leaving the accumulator other than by drain, and coming back:
//! delivery-timeout expiry ([`RecordAccumulator::expired_batches`]),
//! retries ([`RecordAccumulator::reenqueue`], in sequence order with
//! idempotence), splits of batches too large for the broker
//! ([`RecordAccumulator::split_and_reenqueue`]), re-sequencing of queued
//! retries after an epoch bump, and aborts (forced close, transaction
//! errors).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use crate::error::Error;
use crate::producer::future::{BatchOutcome, FinalState};
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::transaction_manager::{batch_key, SequenceRewrite};

use super::RecordAccumulator;

impl RecordAccumulator {
    /// Forgets the earliest expiry time, so that the next
    /// [`expired_batches`](Self::expired_batches) walks every deque and
    /// recomputes it (tests: the sender relies on the walk's own schedule).
    #[cfg(test)]
    pub(crate) fn reset_next_batch_expiry_time(&self) {
        *self.next_batch_expiry.lock() = None;
        *self.expiry_walk_due.lock() = None;
    }

    /// When the earliest queued batch reaches the delivery timeout, as
    /// found by the last walk of [`expired_batches`](Self::expired_batches)
    /// (or, when it found none, when a batch queued since could first
    /// expire); `None` when unknown.
    pub(crate) fn next_expiry_time(&self) -> Option<Instant> {
        let next = *self.next_batch_expiry.lock();
        next.into_iter().chain(*self.expiry_walk_due.lock()).min()
    }

    /// A batch came back to a deque with its creation time (a retry, the
    /// parts of a split): it may expire before what the last walk found.
    fn requeued(&self, batch: &ProducerBatch) {
        self.maybe_update_next_batch_expiry_time(batch);
        let mut due = self.expiry_walk_due.lock();
        if let (Some(d), Some(at)) = (
            *due,
            batch.created().checked_add(self.config.delivery_timeout),
        ) {
            *due = Some(d.min(at));
        }
    }

    fn maybe_update_next_batch_expiry_time(&self, batch: &ProducerBatch) {
        match batch.created().checked_add(self.config.delivery_timeout) {
            Some(at) => {
                let mut next = self.next_batch_expiry.lock();
                *next = Some(next.map_or(at, |n| n.min(at)));
            }
            // Java guards the same overflow.
            None => log::warn!(
                "Skipping next batch expiry time update due to addition overflow: deliveryTimeoutMs={}",
                self.config.delivery_timeout.as_millis()
            ),
        }
    }

    /// Removes and returns the queued batches that reached
    /// `delivery.timeout.ms` since creation, oldest first per partition
    /// (Java `expiredBatches`). Their records are discarded; the caller
    /// fails them and deallocates them.
    ///
    /// The deques are walked (each one holding a batch locked, which
    /// contends with the appends) only once something can have expired: a
    /// walk finds the earliest expiry, and a batch queued after it was
    /// created after it, so it expires later, except batches put back
    /// with their old creation time ([`reenqueue`](Self::reenqueue),
    /// [`split_and_reenqueue`](Self::split_and_reenqueue)), which bring
    /// the next walk forward. Java walks on every call.
    pub(crate) fn expired_batches(&self, now: Instant) -> Vec<ProducerBatch> {
        if self.expiry_walk_due.lock().is_some_and(|due| now < due) {
            return Vec::new();
        }
        *self.next_batch_expiry.lock() = None;
        let mut expired = Vec::new();
        // Every deque of every topic, found by iterating the maps; empty
        // ones are skipped unlocked (a stale hint is harmless: a batch
        // appended meanwhile is new, and the next poll sees it).
        self.for_each_deque(|dq| {
            if dq.looks_empty() {
                return;
            }
            let mut dq = dq.lock();
            // In sending order: once a batch is not expired, the ones
            // behind it, created later, are not either.
            while let Some(first) = dq.front() {
                if first.has_reached_delivery_timeout(self.config.delivery_timeout, now) {
                    if let Some(mut batch) = dq.pop_front() {
                        batch.abort_record_appends();
                        expired.push(batch);
                    }
                } else {
                    self.maybe_update_next_batch_expiry_time(first);
                    break;
                }
            }
        });
        // A batch created from now on expires after `now` + the timeout
        // (its creation time is read just before its deque is locked).
        let due = (*self.next_batch_expiry.lock())
            .or_else(|| now.checked_add(self.config.delivery_timeout));
        *self.expiry_walk_due.lock() = due;
        expired
    }

    /// Puts a batch back for another attempt, at the head of its deque
    /// (Java `reenqueue`). With idempotence it goes where its sequence
    /// belongs among the other retried batches. The delivery timeout is
    /// checked by the caller before.
    pub(crate) fn reenqueue(&self, mut batch: ProducerBatch, now: Instant) {
        batch.reenqueued(now);
        let dq = self.get_or_create_deque(batch.topic_partition());
        self.requeued(&batch);
        let mut dq = dq.lock();
        if self.transaction_manager.is_some() {
            self.insert_in_sequence_order(&mut dq, batch);
        } else {
            dq.push_front(batch);
        }
    }

    /// Java `splitAndReenqueue`: splits `big` (rejected with
    /// `MESSAGE_TOO_LARGE`) into batches of `batch.size` (of half its size
    /// if it is not larger than that), puts them at the
    /// head of its partition's deque in place of it (in sequence order with
    /// idempotence, tracked in flight since they carry sequences already),
    /// and completes `big` as split so that its records' futures and
    /// callbacks follow. The new batches count no attempt. The topic's
    /// compression estimate goes back to at least 1.0 so the next batches
    /// are not too large again. The caller deallocates `big`. Returns the
    /// number of new batches.
    pub(crate) fn split_and_reenqueue(&self, big: &mut ProducerBatch) -> Result<usize, Error> {
        let tp = big.topic_partition().clone();
        let ratio = big.compression_ratio().max(1.0);
        self.get_or_create_topic_info(tp.topic())
            .compression_ratio
            .set_estimation(big.compression_type(), ratio);
        // Java splits at batch.size, which only helps when the batch grew
        // past it (a compression estimate that was too low). A batch within
        // batch.size that the broker refuses (its max.message.bytes is
        // lower) would split into itself and be refused again until its
        // delivery timeout: halve it instead, so that every split makes
        // progress.
        let size = big.records().len();
        let split_size = if size > self.config.batch_size {
            self.config.batch_size
        } else {
            (size / 2).max(1)
        };
        let split = big.split(split_size, ratio, &self.clock)?;
        let count = split.batches.len();
        for batch in &split.batches {
            self.incomplete.add(batch);
            self.requeued(batch);
        }
        let dq = self.get_or_create_deque(&tp);
        {
            let mut dq = dq.lock();
            for batch in split.batches.into_iter().rev() {
                match &self.transaction_manager {
                    Some(tm) => {
                        if batch.has_sequence() {
                            tm.add_in_flight_batch(&batch)?;
                        }
                        self.insert_in_sequence_order(&mut dq, batch);
                    }
                    None => dq.push_front(batch),
                }
            }
        }
        big.complete_split(split.targets);
        Ok(count)
    }

    /// Applies re-sequencing (after an epoch bump) to the batches queued
    /// for a retry, removing from `rewrites` those it applied.
    pub(crate) fn apply_sequence_rewrites(&self, rewrites: &mut Vec<SequenceRewrite>) {
        let mut tps: Vec<_> = rewrites.iter().map(|r| r.tp.clone()).collect();
        tps.dedup();
        for tp in tps {
            let Some(dq) = self.deque(&tp) else {
                continue;
            };
            let mut dq = dq.lock();
            for batch in dq.iter_mut().filter(|b| b.has_sequence()) {
                let key = batch_key(batch);
                let Some(pos) = rewrites.iter().position(|r| r.tp == tp && r.from == key) else {
                    continue;
                };
                let rewrite = rewrites.swap_remove(pos);
                if let Err(e) = batch.reset_producer_state(rewrite.to.0, rewrite.to.1) {
                    log::error!("cannot re-sequence the batch for {tp}: {e}");
                }
            }
        }
    }

    /// Java `insertInSequenceOrder`. Batches retried after several
    /// requests were in flight come back one at a time and maybe out of
    /// order; the deque's head stays sorted by sequence, before the batches
    /// that never had one.
    fn insert_in_sequence_order(&self, dq: &mut VecDeque<ProducerBatch>, batch: ProducerBatch) {
        // Java throws here (a client bug); the batch is queued anyway so
        // that it is not lost.
        if !batch.has_sequence() {
            log::error!(
                "Trying to re-enqueue a batch which doesn't have a sequence even though idempotency is enabled: {:?}",
                batch
            );
        } else if let Some(tm) = &self.transaction_manager {
            tm.mark_retried(&batch);
            if !tm.has_inflight_batches(batch.topic_partition()) {
                log::error!(
                    "We are re-enqueueing a batch which is not tracked as part of the in flight requests. batch.topicPartition: {}; batch.baseSequence: {}",
                    batch.topic_partition(),
                    batch.base_sequence()
                );
            }
        }
        let position = dq
            .iter()
            .take_while(|b| b.has_sequence() && b.base_sequence() < batch.base_sequence())
            .count();
        if position > 0 {
            log::debug!(
                "Reordered incoming batch with sequence {} for partition {}. It was placed in the queue at position {}",
                batch.base_sequence(),
                batch.topic_partition(),
                position
            );
        }
        dq.insert(position, batch);
    }

    /// Fails every unfinished batch, queued or in flight, because the
    /// producer is closed forcefully (Java `abortIncompleteBatches`). Call
    /// after [`close`](Self::close): it repeats until no append is running,
    /// so none slips a batch in behind it.
    pub(crate) fn abort_incomplete_batches(&self) {
        let error = || Error::Closed("Producer is closed forcefully.".to_owned());
        loop {
            self.abort_batches(&error());
            if self.appends_in_progress() == 0 {
                break;
            }
            std::thread::yield_now();
        }
        // No append can start a batch any more (they see `closed`); one last
        // pass catches a batch made by the last append.
        self.abort_batches(&error());
        self.topics.write().clear();
    }

    /// Fails every batch incomplete when called, with `reason` (Java
    /// `abortBatches`): queued batches are taken out, failed and
    /// deallocated; drained ones (owned by the sender) are failed through
    /// their completion slot and forgotten, and the sender still hands them
    /// to [`deallocate`](Self::deallocate) for their memory. Batches created
    /// after the call started are left alone.
    pub(crate) fn abort_batches(&self, reason: &Error) {
        let mut incomplete: HashMap<u64, _> = self.incomplete.all().into_iter().collect();
        let mut queued = Vec::new();
        self.for_each_deque(|dq| {
            let mut dq = dq.lock();
            if dq.iter().all(|b| !incomplete.contains_key(&b.id())) {
                return;
            }
            let mut keep = VecDeque::with_capacity(dq.len());
            for mut batch in dq.drain(..) {
                if incomplete.remove(&batch.id()).is_some() {
                    batch.abort_record_appends();
                    queued.push(batch);
                } else {
                    keep.push_back(batch);
                }
            }
            *dq = keep;
        });
        // Callbacks run outside the deque locks.
        for mut batch in queued {
            batch.abort(reason.clone());
            self.deallocate(batch);
        }
        // What is left was drained. Completing a slot twice is a no-op, so
        // a batch the sender completed meanwhile keeps its outcome.
        for (id, result) in incomplete {
            result.complete(
                BatchOutcome::Failed {
                    error: reason.clone(),
                    record_errors: None,
                },
                Some(FinalState::Aborted),
            );
            self.incomplete.remove(id);
        }
    }

    /// Fails the batches not yet drained (Java `abortUndrainedBatches`,
    /// used on abortable transaction errors): with idempotence, those
    /// without a sequence; otherwise those not yet built.
    #[allow(dead_code)] // transactional aborts (not supported yet)
    pub(crate) fn abort_undrained_batches(&self, reason: &Error) {
        let idempotent = self.transaction_manager.is_some();
        let mut aborted = Vec::new();
        self.for_each_deque(|dq| {
            let mut dq = dq.lock();
            let mut keep = VecDeque::with_capacity(dq.len());
            for mut batch in dq.drain(..) {
                let undrained = if idempotent {
                    !batch.has_sequence()
                } else {
                    !batch.is_closed()
                };
                if undrained {
                    batch.abort_record_appends();
                    aborted.push(batch);
                } else {
                    keep.push_back(batch);
                }
            }
            *dq = keep;
        });
        for mut batch in aborted {
            batch.abort(reason.clone());
            self.deallocate(batch);
        }
    }
}

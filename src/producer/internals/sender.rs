//! The [`Sender`]: the loop of the network thread (Java `Sender`, Kafka
//! 4.3), and [`SenderControl`], the handle the producer keeps to wake and
//! stop it.
//!
//! ```text
//!  run():  while running { run_once }
//!          while !force_close && (undrained batches || requests in flight) { run_once }
//!          force_close ─▶ abort every incomplete batch;  client.close()
//!
//!  run_once():
//!    idempotence: resolve unresolved sequences (maybe request an epoch bump)
//!                 fatal error ─▶ abort batches, poll, return
//!                 epoch bump requested ─▶ epoch + 1, re-sequence in-flight batches
//!                 no producer id ─▶ InitProducerId (least-loaded node), poll, return
//!    send_producer_data(now):
//!      accumulator.ready ─▶ unknown leaders: metadata update
//!      client.ready(node) per ready node (connects; drops the not-ready ones)
//!      accumulator.drain ─▶ mute partitions (max.in.flight == 1)
//!      expire batches past delivery.timeout.ms (queued and in flight)
//!      one ProduceRequest per node
//!    client.poll(timeout) ─▶ responses: complete / retry / fail batches
//! ```
//!
//! Drained batches belong to the sender until they complete: each produce
//! request keeps its batches (one per partition), found again by the
//! response's correlation id. Completion, retries, splits and failures are
//! in [`completion`], the idempotent producer's id and epoch handling in
//! [`producer_id`]; callbacks run on this thread.
//!
//! The sender is generic over its [`KafkaClient`]: the network client in
//! production, a scripted client in the tests (`tests_*.rs`).

mod completion;
mod producer_id;

use producer_id::ProducerIdRequest;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_compression;
#[cfg(test)]
mod tests_idempotence;
#[cfg(test)]
mod tests_leader_move;
#[cfg(test)]
mod tests_retries;
#[cfg(test)]
mod tests_split;
#[cfg(test)]
mod testutil;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clients::network_client::{KafkaClient, NetworkClient};
use crate::common::TopicPartition;
use crate::error::Error;
use crate::network::{Frame, Wakeup};
use crate::producer::internals::accumulator::RecordAccumulator;
use crate::producer::internals::producer_batch::ProducerBatch;
use crate::producer::internals::producer_metadata::{ProducerMetadata, ProducerTopics};
use crate::producer::internals::transaction_manager::{
    batch_key, BatchKey, SequenceRewrite, TransactionManager,
};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use crate::protocol::messages::{Uuid, ZERO_UUID};
use crate::util::backoff::{ExponentialBackoff, RETRY_BACKOFF_EXP_BASE};
use crate::util::clock::Clock;

/// The newest Produce version that names topics rather than topic ids.
const PRODUCE_BY_NAME: VersionRange = VersionRange::new(3, 12);
/// The first Produce version that may carry zstd batches (KIP-110).
const PRODUCE_MIN_VERSION_FOR_ZSTD: i16 = 7;

/// Java's `ProduceRequest.validateRecords` for a zstd batch below Produce
/// v7: `UnsupportedCompressionTypeException`, thrown when the request is
/// built. (Java's sender thread then logs it as uncaught and the batches
/// expire later; here they fail at once, with that exception's error.)
fn zstd_needs_produce_v7(version: i16) -> Error {
    Error::Broker {
        code: crate::protocol::error_code::ErrorCode::UNSUPPORTED_COMPRESSION_TYPE,
        message: Some(format!(
            "Produce requests with version {version} are not allowed to use ZStandard compression"
        )),
    }
}

/// The shared buffer that `records` (a records field of a request being
/// encoded) borrows from: the batch's whose built bytes are exactly that
/// slice. Fields come in drain order within each topic, so the batch after
/// the last one found is tried first; the search allocates nothing.
fn shared_buffer_of<'b>(
    batches: &'b [ProducerBatch],
    next: &mut usize,
    records: &[u8],
) -> Option<&'b Arc<Vec<u8>>> {
    let n = batches.len();
    let start = *next;
    let (i, shared) = (0..n).map(|k| (start + k) % n).find_map(|i| {
        let shared = batches[i].shared_records()?;
        // Same address and length: the field is these bytes.
        std::ptr::eq(shared.as_slice(), records).then_some((i, shared))
    })?;
    *next = i + 1;
    Some(shared)
}

/// What the sender takes from the configuration.
#[derive(Debug, Clone)]
pub(crate) struct SenderConfig {
    /// `max.in.flight.requests.per.connection == 1`: one batch per
    /// partition in flight, partitions muted meanwhile.
    pub(crate) guarantee_message_order: bool,
    /// `max.request.size`.
    pub(crate) max_request_size: usize,
    /// `acks` as sent: 0, 1 or -1.
    pub(crate) acks: i16,
    /// `retries`.
    pub(crate) retries: u32,
    /// `request.timeout.ms`: the produce request's timeout and the client's.
    pub(crate) request_timeout: Duration,
    /// `retry.backoff.ms`.
    pub(crate) retry_backoff: Duration,
    /// `retry.backoff.max.ms`.
    pub(crate) retry_backoff_max: Duration,
    /// `delivery.timeout.ms`.
    pub(crate) delivery_timeout: Duration,
    /// Random spread of the `InitProducerId` retry backoff (Java's 0.2;
    /// tests use 0).
    pub(crate) retry_backoff_jitter: f64,
}

/// What other threads use to steer the network thread (Java's
/// `initiateClose`, `forceClose`, `wakeup`).
#[derive(Debug)]
pub(crate) struct SenderControl {
    running: AtomicBool,
    force_close: AtomicBool,
    /// `None` for a client whose polls never block.
    wakeup: Option<Wakeup>,
}

impl SenderControl {
    /// Interrupts the network thread's poll.
    pub(crate) fn wakeup(&self) {
        if let Some(w) = &self.wakeup {
            w.wake();
        }
    }

    /// Starts a graceful close: no more appends, the remaining batches are
    /// sent, then the thread ends.
    pub(crate) fn initiate_close(&self, accumulator: &RecordAccumulator) {
        // Appends fail from now on and everything queued becomes sendable.
        accumulator.close();
        self.running.store(false, Ordering::SeqCst);
        self.wakeup();
    }

    /// Closes without sending what is left: every incomplete batch fails.
    pub(crate) fn force_close(&self, accumulator: &RecordAccumulator) {
        self.force_close.store(true, Ordering::SeqCst);
        self.initiate_close(accumulator);
    }

    /// Whether the sender is still in its main loop.
    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn is_force_closed(&self) -> bool {
        self.force_close.load(Ordering::SeqCst)
    }
}

/// Where an in-flight batch lives: its request and its slot there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct RequestKey {
    node: i32,
    correlation_id: i32,
}

/// One partition of a produce request in flight.
#[derive(Debug)]
struct RequestEntry {
    tp: TopicPartition,
    /// The batch, until it is completed, or expired while in flight.
    batch: Option<ProducerBatch>,
    /// For a batch expired while in flight: its sequence key and record
    /// count, so that a late acknowledgement still advances the
    /// partition's last acknowledged sequence (as Java's late
    /// `completeBatch` on a done batch does).
    expired: Option<(BatchKey, i32)>,
}

/// One produce request in flight: its partitions, each with its batch
/// until the batch is completed (or expired while in flight).
#[derive(Debug)]
struct InFlightProduce {
    entries: Vec<RequestEntry>,
    /// Topic names by id, for responses that name topics by id (v13).
    topic_names: HashMap<Uuid, Arc<str>>,
}

/// An in-flight batch as the delivery-timeout check sees it.
#[derive(Debug, Clone, Copy)]
struct InFlightBatch {
    batch_id: u64,
    created: Instant,
    key: RequestKey,
}

/// The network thread's state.
pub(crate) struct Sender<C: KafkaClient<Policy = ProducerTopics> = NetworkClient<ProducerTopics>> {
    client: C,
    accumulator: Arc<RecordAccumulator>,
    metadata: Arc<ProducerMetadata>,
    transaction_manager: Option<Arc<TransactionManager>>,
    config: SenderConfig,
    control: Arc<SenderControl>,
    clock: Arc<dyn Clock>,
    requests: HashMap<RequestKey, InFlightProduce>,
    /// In-flight batches per partition, oldest first (Java
    /// `inFlightBatches`).
    in_flight_batches: HashMap<TopicPartition, VecDeque<InFlightBatch>>,
    producer_id_request: ProducerIdRequest,
}

impl<C: KafkaClient<Policy = ProducerTopics>> std::fmt::Debug for Sender<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("config", &self.config)
            .field("requests", &self.requests.len())
            .finish_non_exhaustive()
    }
}

impl<C: KafkaClient<Policy = ProducerTopics>> Sender<C> {
    /// A sender over `client`; the control handle goes to the producer.
    pub(crate) fn new(
        client: C,
        accumulator: Arc<RecordAccumulator>,
        transaction_manager: Option<Arc<TransactionManager>>,
        config: SenderConfig,
        clock: Arc<dyn Clock>,
    ) -> (Sender<C>, Arc<SenderControl>) {
        let control = Arc::new(SenderControl {
            running: AtomicBool::new(true),
            force_close: AtomicBool::new(false),
            wakeup: client.wakeup_handle(),
        });
        let backoff = ExponentialBackoff::new(
            config.retry_backoff,
            RETRY_BACKOFF_EXP_BASE,
            config.retry_backoff_max,
            config.retry_backoff_jitter,
        );
        let sender = Sender {
            metadata: Arc::clone(client.metadata()),
            client,
            accumulator,
            transaction_manager,
            config,
            control: Arc::clone(&control),
            clock,
            requests: HashMap::new(),
            in_flight_batches: HashMap::new(),
            producer_id_request: ProducerIdRequest {
                in_flight: None,
                next_attempt: None,
                failures: 0,
                backoff,
            },
        };
        (sender, control)
    }

    /// The thread's body (Java `run`): loop until closed, send what is
    /// left unless forced, abort what is left if forced, close the client.
    pub(crate) fn run(mut self) {
        log::debug!("Starting Kafka producer I/O thread.");
        while self.control.is_running() {
            self.run_once();
        }
        log::debug!("Beginning shutdown of Kafka producer I/O thread, sending remaining records.");
        while !self.control.is_force_closed()
            && (self.accumulator.has_undrained() || self.client.in_flight_request_count() > 0)
        {
            self.run_once();
        }
        if self.control.is_force_closed() {
            log::debug!("Aborting incomplete batches due to forced shutdown");
            self.accumulator.abort_incomplete_batches();
        }
        self.release_in_flight_batches();
        self.client.close();
        self.metadata.close();
        log::debug!("Shutdown of Kafka producer I/O thread has completed.");
    }

    /// One iteration (Java `runOnce`). Callbacks and panics in user code
    /// are caught where they run, so nothing here unwinds.
    pub(crate) fn run_once(&mut self) {
        if let Some(tm) = self.transaction_manager.clone() {
            tm.maybe_resolve_sequences();
            if let Some(error) = tm.fatal_error() {
                // Nothing is sent in the fatal state; what was and is
                // appended fails with the error.
                self.maybe_abort_batches(&error);
                self.poll(self.config.retry_backoff);
                return;
            }
            let rewrites = tm.bump_idempotent_epoch_and_reset_id_if_needed();
            self.apply_sequence_rewrites(rewrites);
            if self.maybe_send_and_poll_producer_id_request(&tm) {
                return;
            }
        }
        let now = self.clock.now();
        let timeout = self.send_producer_data(now);
        self.poll(timeout);
    }

    /// Gives re-sequenced in-flight batches their new producer state,
    /// wherever they are: in a request (for their next attempt) or queued
    /// for a retry.
    fn apply_sequence_rewrites(&mut self, mut rewrites: Vec<SequenceRewrite>) {
        if rewrites.is_empty() {
            return;
        }
        for request in self.requests.values_mut() {
            for entry in &mut request.entries {
                let Some(batch) = entry.batch.as_mut() else {
                    continue;
                };
                let key = batch_key(batch);
                if let Some(pos) = rewrites
                    .iter()
                    .position(|r| r.tp == entry.tp && r.from == key)
                {
                    let rewrite = rewrites.swap_remove(pos);
                    if let Err(e) = batch.reset_producer_state(rewrite.to.0, rewrite.to.1) {
                        log::error!("cannot re-sequence the batch for {}: {e}", entry.tp);
                    }
                }
            }
        }
        self.accumulator.apply_sequence_rewrites(&mut rewrites);
        for r in rewrites {
            log::warn!(
                "In-flight batch of {} with sequence {} not found for re-sequencing",
                r.tp,
                r.from.1
            );
        }
    }

    fn poll(&mut self, timeout: Duration) {
        let responses = self.client.poll(timeout, self.clock.now());
        for response in responses {
            self.handle_response(response);
        }
    }

    /// Java `maybeAbortBatches`.
    fn maybe_abort_batches(&self, error: &Error) {
        if self.accumulator.has_incomplete() {
            log::error!("Aborting producer batches due to fatal error: {error}");
            self.accumulator.abort_batches(error);
        }
    }

    /// Batches still held by requests when the thread ends go back to the
    /// pool (their futures were completed by the response or the abort).
    fn release_in_flight_batches(&mut self) {
        for (key, request) in self.requests.drain() {
            for entry in request.entries {
                if let Some(tm) = &self.transaction_manager {
                    tm.batch_request_done(&entry.tp, key.node);
                }
                if let Some(mut batch) = entry.batch {
                    batch.abort(Error::Closed(
                        "The producer closed before the broker answered".to_owned(),
                    ));
                    self.accumulator.deallocate(batch);
                }
            }
        }
        self.in_flight_batches.clear();
    }

    // ---- sending ---------------------------------------------------------

    /// Java `sendProducerData`: drains what is ready for the nodes that
    /// can take it, expires what waited too long, sends one request per
    /// node. Returns how long the following poll may wait.
    pub(crate) fn send_producer_data(&mut self, now: Instant) -> Duration {
        let cluster = self.metadata.fetch();
        let result = self.accumulator.ready(&cluster, now);
        if !result.unknown_leader_topics.is_empty() {
            // The topics may have expired from metadata meanwhile: want
            // them again.
            for topic in &result.unknown_leader_topics {
                self.metadata.add(topic, now);
            }
            log::debug!(
                "Requesting metadata update due to unknown leader topics from the batched records: {:?}",
                result.unknown_leader_topics
            );
            self.metadata.request_update(false);
        }

        let mut not_ready_timeout = Duration::MAX;
        let mut ready_nodes = HashSet::new();
        for &id in &result.ready_nodes {
            let Some(node) = cluster.node(id) else {
                continue;
            };
            if self.client.ready(node, now) {
                // Resets the node's latency: it could be drained.
                self.accumulator.update_node_latency_stats(id, now, true);
                ready_nodes.insert(id);
            } else {
                // Only the ready time moves: the gap to the last drain is
                // how long data has waited for this node.
                self.accumulator.update_node_latency_stats(id, now, false);
                not_ready_timeout = not_ready_timeout.min(self.client.poll_delay(id, now));
            }
        }

        let batches =
            self.accumulator
                .drain(&cluster, &ready_nodes, self.config.max_request_size, now);
        if self.config.guarantee_message_order {
            for batch in batches.values().flatten() {
                self.accumulator.mute_partition(batch.topic_partition());
            }
        }

        let next_expiry = self.expire_batches(now);
        let mut poll_timeout = result.next_ready_check_delay.min(not_ready_timeout);
        if let Some(at) = next_expiry {
            poll_timeout = poll_timeout.min(at.saturating_duration_since(now));
        }
        if !ready_nodes.is_empty() {
            // More may be sendable at once: do not block.
            log::trace!("Nodes with data ready to send: {ready_nodes:?}");
            poll_timeout = Duration::ZERO;
        }
        for (node, batches) in batches {
            if !batches.is_empty() {
                self.send_produce_request(node, batches, now);
            }
        }
        poll_timeout
    }

    /// Fails the batches past `delivery.timeout.ms`, queued or in flight
    /// (the expiry step of Java `sendProducerData`). Returns when the next
    /// batch expires, if any is waiting.
    pub(super) fn expire_batches(&mut self, now: Instant) -> Option<Instant> {
        let (expired_in_flight, next_in_flight_expiry) = self.expired_in_flight_batches(now);
        let mut expired = self.accumulator.expired_batches(now);
        expired.extend(expired_in_flight);
        if !expired.is_empty() {
            log::trace!("Expired {} batches in accumulator", expired.len());
        }
        for batch in expired {
            let message = format!(
                "Expiring {} record(s) for {}:{} ms has passed since batch creation",
                batch.record_count(),
                batch.topic_partition(),
                now.saturating_duration_since(batch.created()).as_millis()
            );
            if let Some(tm) = &self.transaction_manager {
                if batch.in_retry() {
                    // No new batch for the partition until the fate of
                    // the ones in flight is known.
                    tm.mark_sequence_unresolved(&batch);
                }
            }
            // Whether the broker has it is unknown: no sequence repair.
            self.fail_batch(batch, Error::Timeout(message), None, false);
        }
        [self.accumulator.next_expiry_time(), next_in_flight_expiry]
            .into_iter()
            .flatten()
            .min()
    }

    /// Removes from their requests the in-flight batches past the delivery
    /// timeout (Java `getExpiredInflightBatches`); also returns when the
    /// next in-flight batch expires.
    fn expired_in_flight_batches(&mut self, now: Instant) -> (Vec<ProducerBatch>, Option<Instant>) {
        let timeout = self.config.delivery_timeout;
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        for queue in self.in_flight_batches.values_mut() {
            while let Some(first) = queue.front().copied() {
                if now.saturating_duration_since(first.created) < timeout {
                    if let Some(at) = first.created.checked_add(timeout) {
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                    break;
                }
                queue.pop_front();
                let taken = self.requests.get_mut(&first.key).and_then(|r| {
                    let entry = r
                        .entries
                        .iter_mut()
                        .find(|e| e.batch.as_ref().is_some_and(|b| b.id() == first.batch_id))?;
                    let batch = entry.batch.take()?;
                    if batch.has_sequence() {
                        entry.expired = Some((batch_key(&batch), batch.record_count()));
                    }
                    Some(batch)
                });
                match taken {
                    Some(batch) if !batch.is_done() => expired.push(batch),
                    Some(batch) => {
                        log::error!(
                            "{} batch created {} ms ago has unexpected final state {:?}",
                            batch.topic_partition(),
                            now.saturating_duration_since(batch.created()).as_millis(),
                            batch.final_state()
                        );
                        self.accumulator.deallocate(batch);
                    }
                    None => {}
                }
            }
        }
        self.in_flight_batches.retain(|_, q| !q.is_empty());
        (expired, next)
    }

    /// Builds and sends one ProduceRequest to `node` (Java
    /// `sendProduceRequest`). Topics go by id (v13) only when metadata
    /// knows the id of every topic in the request.
    fn send_produce_request(&mut self, node: i32, batches: Vec<ProducerBatch>, now: Instant) {
        let cluster = self.metadata.fetch();
        let mut topic_names: HashMap<Uuid, Arc<str>> = HashMap::new();
        let mut all_ids = true;
        for b in &batches {
            match cluster.topic_id(b.topic_partition().topic()) {
                Some(id) if id != ZERO_UUID => {
                    topic_names.insert(id, Arc::clone(b.topic_partition().topic_arc()));
                }
                _ => all_ids = false,
            }
        }
        if !all_ids {
            topic_names.clear();
        }
        let versions = (!all_ids).then_some(PRODUCE_BY_NAME);
        let acks = self.config.acks;
        let timeout_ms = i32::try_from(self.config.request_timeout.as_millis()).unwrap_or(i32::MAX);
        let sent = {
            let encode = |version: i16, frame: &mut Frame| -> crate::Result<()> {
                if version < PRODUCE_MIN_VERSION_FOR_ZSTD
                    && batches
                        .iter()
                        .any(|b| b.compression_type() == crate::record::CompressionType::Zstd)
                {
                    return Err(zstd_needs_produce_v7(version));
                }
                let mut topic_data: Vec<TopicProduceData<'_>> = Vec::new();
                for b in &batches {
                    let tp = b.topic_partition();
                    let data = PartitionProduceData {
                        index: tp.partition(),
                        // Borrowed from the shared buffer, found again below.
                        records: Some(b.shared_records().map_or(&[][..], |r| r.as_slice())),
                    };
                    match topic_data.iter_mut().find(|t| t.name == tp.topic()) {
                        Some(t) => t.partition_data.push(data),
                        None => topic_data.push(TopicProduceData {
                            name: tp.topic().into(),
                            topic_id: cluster.topic_id(tp.topic()).unwrap_or(ZERO_UUID),
                            partition_data: vec![data],
                        }),
                    }
                }
                let request = ProduceRequest {
                    transactional_id: None,
                    acks,
                    timeout_ms,
                    topic_data,
                };
                // The batches' bytes go into the frame as shared segments,
                // not copied.
                let (out, mut splicer) = frame.splicer();
                splicer.reserve(batches.len());
                let mut next = 0;
                request.encode_with_records(out, version, |out, field| {
                    match shared_buffer_of(&batches, &mut next, field.records) {
                        Some(bytes) => splicer.push(out.len(), Arc::clone(bytes)),
                        // Not built (cannot happen for a drained batch):
                        // the (empty) records are copied.
                        None => out.extend_from_slice(field.records),
                    }
                })?;
                Ok(())
            };
            self.client.send(
                node,
                ApiKey::PRODUCE,
                versions,
                encode,
                acks != 0,
                self.config.request_timeout,
                now,
            )
        };
        match sent {
            Ok(correlation_id) => {
                log::trace!(
                    "Sent produce request to {node} with correlation id {correlation_id}: {} batch(es)",
                    batches.len()
                );
                let key = RequestKey {
                    node,
                    correlation_id,
                };
                for b in &batches {
                    if let Some(tm) = &self.transaction_manager {
                        tm.batch_sent_to_node(b.topic_partition(), node);
                    }
                    self.in_flight_batches
                        .entry(b.topic_partition().clone())
                        .or_default()
                        .push_back(InFlightBatch {
                            batch_id: b.id(),
                            created: b.created(),
                            key,
                        });
                }
                let entries = batches
                    .into_iter()
                    .map(|b| RequestEntry {
                        tp: b.topic_partition().clone(),
                        batch: Some(b),
                        expired: None,
                    })
                    .collect();
                self.requests.insert(
                    key,
                    InFlightProduce {
                        entries,
                        topic_names,
                    },
                );
            }
            Err(e) => {
                log::warn!("Cannot send a produce request to node {node}: {e}");
                for batch in batches {
                    let tp = batch.topic_partition().clone();
                    // Never sent: the sequences after it must close the gap.
                    self.fail_batch(batch, e.clone(), None, true);
                    if self.config.guarantee_message_order {
                        self.accumulator.unmute_partition(&tp);
                    }
                }
            }
        }
    }
}

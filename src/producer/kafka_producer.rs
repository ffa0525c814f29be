//! [`KafkaProducer`]: the public producer (Java `KafkaProducer`, Kafka 4.3)
//! and its [`KafkaProducerBuilder`].
//!
//! ```text
//!  new / build                    send(record [, callback])          close / close_timeout
//!   config, serializers,           closed? ─▶ interceptors.on_send     accumulator closed,
//!   interceptors, partitioner      wait_on_metadata (max.block.ms)     sender drains and stops
//!   BufferPool, RecordAccumulator  serialize, partition, size check    (after the timeout:
//!   Metadata (bootstrap)           append (rest of max.block.ms)       forced, batches fail)
//!   NetworkClient, Sender          wake the sender if a batch is       join, close interceptors
//!   thread "kafka-producer-        full or new                         and partitioner
//!   network-thread | <client.id>"  SendFuture
//! ```
//!
//! Every failure of `send` before the record is appended is reported the
//! same way: the callback (if any) runs once with the error, the
//! interceptors' `on_acknowledgement` sees it, and `send` returns `Err`.
//! Afterwards errors arrive through the future and the callback.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::clients::cluster_connection_states::ConnectionStatesConfig;
use crate::clients::host_resolver::{resolve_bootstrap_servers, DefaultHostResolver, DnsLookup};
use crate::clients::network_client::{NetworkClient, NetworkClientConfig};
use crate::common::{PartitionInfo, TopicPartition};
use crate::error::{Error, Result};
use crate::network::SelectorConfig;
use crate::producer::config::{
    ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind, ProducerConfig,
};
use crate::producer::future::{RecordCallback, SendFuture};
use crate::producer::interceptor::{ProducerInterceptor, ProducerInterceptors};
use crate::producer::internals::accumulator::{AccumulatorConfig, RecordAccumulator};
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::internals::producer_metadata::{wait_on_metadata, ProducerMetadata};
use crate::producer::internals::sender::{Sender, SenderConfig, SenderControl};
use crate::producer::internals::topic_cache::{TopicCache, TopicView};
use crate::producer::internals::transaction_manager::TransactionManager;
use crate::producer::partitioner::{default_partition_for_key, Partitioner, RoundRobinPartitioner};
use crate::producer::record::{ProducerRecord, RecordMetadata};
use crate::producer::serialization::Serializer;
use crate::record::{SizedRecord, NO_TIMESTAMP, RECORD_BATCH_OVERHEAD};
use crate::util::backoff::RETRY_BACKOFF_JITTER;
use crate::util::clock::{Clock, SystemClock};

/// Java `KafkaProducer.NETWORK_THREAD_PREFIX`.
const NETWORK_THREAD_PREFIX: &str = "kafka-producer-network-thread";

/// How long `Drop` waits for a graceful close before forcing it.
pub const DROP_CLOSE_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest response frame accepted from a broker (Kafka's
/// `socket.request.max.bytes` default): a larger size prefix closes the
/// connection before anything is allocated.
const MAX_RESPONSE_SIZE: usize = 104_857_600;

/// The network thread's end, for a join with a timeout.
#[derive(Debug, Default)]
struct ThreadDone {
    done: Mutex<bool>,
    signal: Condvar,
}

impl ThreadDone {
    fn set(&self) {
        *self.done.lock() = true;
        self.signal.notify_all();
    }

    /// Waits until the thread ended, at most `timeout` (`None`: no limit).
    fn wait(&self, clock: &dyn Clock, timeout: Option<Duration>) -> bool {
        let deadline = timeout.and_then(|t| clock.now().checked_add(t));
        let mut done = self.done.lock();
        while !*done {
            match deadline {
                None => self.signal.wait(&mut done),
                Some(d) => {
                    let left = d.saturating_duration_since(clock.now());
                    if left.is_zero() || self.signal.wait_for(&mut done, left).timed_out() {
                        return *done;
                    }
                }
            }
        }
        true
    }
}

/// A thread-safe Kafka producer: `send` appends records to per-partition
/// batches, and one background thread,
/// `kafka-producer-network-thread | <client.id>`, sends them to the
/// partition leaders.
///
/// Share it between threads by reference or in an `Arc`: every method takes
/// `&self`. Callbacks run on the network thread, in send order per
/// partition; they must be quick, and calling [`flush`](Self::flush) or
/// [`close`](Self::close) from one returns an error rather than deadlock.
///
/// # Drop
///
/// Dropping the producer closes it: the records already sent are given up
/// to [`DROP_CLOSE_TIMEOUT`] (30 s) to be delivered, then the rest fail and
/// the network thread is stopped. Call [`close`](Self::close) or
/// [`close_timeout`](Self::close_timeout) to choose.
pub struct KafkaProducer<K, V> {
    client_id: String,
    config: ProducerConfig,
    clock: Arc<dyn Clock>,
    metadata: Arc<ProducerMetadata>,
    accumulator: Arc<RecordAccumulator>,
    transaction_manager: Option<Arc<TransactionManager>>,
    control: Arc<SenderControl>,
    io_thread: Mutex<Option<JoinHandle<()>>>,
    io_thread_id: ThreadId,
    io_thread_done: Arc<ThreadDone>,
    key_serializer: Box<dyn Serializer<K>>,
    value_serializer: Box<dyn Serializer<V>>,
    interceptors: Arc<ProducerInterceptors<K, V>>,
    partitioner: Option<Arc<dyn Partitioner>>,
    resources_closed: AtomicBool,
    /// This producer's key into the caller threads' topic caches.
    topic_cache: TopicCache,
}

impl<K, V> std::fmt::Debug for KafkaProducer<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer")
            .field("client_id", &self.client_id)
            .field("running", &self.control.is_running())
            .finish_non_exhaustive()
    }
}

/// Builds a [`KafkaProducer`] with serializers, interceptors and a custom
/// partitioner.
#[must_use]
pub struct KafkaProducerBuilder<K, V> {
    config: ProducerConfig,
    key_serializer: Option<Box<dyn Serializer<K>>>,
    value_serializer: Option<Box<dyn Serializer<V>>>,
    interceptors: Vec<Box<dyn ProducerInterceptor<K, V>>>,
    partitioner: Option<Arc<dyn Partitioner>>,
    clock: Arc<dyn Clock>,
}

impl<K, V> std::fmt::Debug for KafkaProducerBuilder<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducerBuilder")
            .field("client_id", &self.config.client_id())
            .field("interceptors", &self.interceptors.len())
            .field("partitioner", &self.partitioner)
            .finish_non_exhaustive()
    }
}

impl<K: 'static, V: 'static> KafkaProducerBuilder<K, V> {
    /// The key serializer (required; Java `key.serializer`).
    pub fn key_serializer(mut self, serializer: impl Serializer<K> + 'static) -> Self {
        self.key_serializer = Some(Box::new(serializer));
        self
    }

    /// The value serializer (required; Java `value.serializer`).
    pub fn value_serializer(mut self, serializer: impl Serializer<V> + 'static) -> Self {
        self.value_serializer = Some(Box::new(serializer));
        self
    }

    /// Adds an interceptor; they run in the order added (Java
    /// `interceptor.classes`).
    pub fn interceptor(mut self, interceptor: Box<dyn ProducerInterceptor<K, V>>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// A custom partitioner (Java `partitioner.class`), used for every
    /// record that does not name its partition.
    pub fn partitioner(mut self, partitioner: Arc<dyn Partitioner>) -> Self {
        self.partitioner = Some(partitioner);
        self
    }

    /// Starts the producer: builds its parts and its network thread.
    ///
    /// Fails with [`Error::Config`] when a serializer is missing or no
    /// bootstrap server resolves ("No resolvable bootstrap urls given in
    /// bootstrap.servers"), and [`Error::Unsupported`] for
    /// `transactional.id` (transactions are not supported yet). On failure
    /// no thread is left running.
    pub fn build(self) -> Result<KafkaProducer<K, V>> {
        KafkaProducer::start(self)
    }
}

impl<K: 'static, V: 'static> KafkaProducer<K, V> {
    /// A producer with these serializers and no interceptors or custom
    /// partitioner.
    pub fn new(
        config: ProducerConfig,
        key_serializer: impl Serializer<K> + 'static,
        value_serializer: impl Serializer<V> + 'static,
    ) -> Result<Self> {
        Self::builder(config)
            .key_serializer(key_serializer)
            .value_serializer(value_serializer)
            .build()
    }

    /// A builder for a producer with interceptors or a custom partitioner.
    pub fn builder(config: ProducerConfig) -> KafkaProducerBuilder<K, V> {
        KafkaProducerBuilder {
            config,
            key_serializer: None,
            value_serializer: None,
            interceptors: Vec::new(),
            partitioner: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Java's constructor (KP-4): every part, then the network thread last,
    /// so that a failure leaves nothing running.
    fn start(b: KafkaProducerBuilder<K, V>) -> Result<Self> {
        let config = b.config;
        let clock = b.clock;
        let key_serializer = b.key_serializer.ok_or_else(|| {
            Error::config(
                "key.serializer",
                "null",
                "Missing required configuration \"key.serializer\" which has no default value: give it in code",
            )
        })?;
        let value_serializer = b.value_serializer.ok_or_else(|| {
            Error::config(
                "value.serializer",
                "null",
                "Missing required configuration \"value.serializer\" which has no default value: give it in code",
            )
        })?;
        let client_id = config.client_id().to_owned();
        log::trace!("[Producer clientId={client_id}] Starting the Kafka producer");
        if config.transactional_id().is_some() {
            return Err(Error::Unsupported(
                "transactional.id: transactions are not supported yet".to_owned(),
            ));
        }
        let partitioner = b.partitioner.or_else(|| match config.partitioner_class() {
            PartitionerKind::RoundRobin => {
                Some(Arc::new(RoundRobinPartitioner::new()) as Arc<dyn Partitioner>)
            }
            PartitionerKind::BuiltIn => None,
        });
        let transaction_manager = config
            .enable_idempotence()
            .then(|| Arc::new(TransactionManager::new_idempotent()));

        let pool = Arc::new(BufferPool::new(
            config.buffer_memory(),
            config.batch_size(),
            Arc::clone(&clock),
        ));
        let accumulator = Arc::new(RecordAccumulator::new(
            AccumulatorConfig {
                batch_size: config.batch_size(),
                compression: config.compression(),
                linger: config.linger(),
                retry_backoff: config.retry_backoff(),
                retry_backoff_max: Duration::from_millis(config.retry_backoff_max_ms()),
                retry_backoff_jitter: RETRY_BACKOFF_JITTER,
                delivery_timeout: config.delivery_timeout(),
                enable_adaptive_partitioning: config.partitioner_adaptive_partitioning_enable(),
                partition_availability_timeout: Duration::from_millis(
                    config.partitioner_availability_timeout_ms(),
                ),
            },
            pool,
            transaction_manager.clone(),
            Arc::clone(&clock),
        )?);

        let lookup = match config.client_dns_lookup() {
            ClientDnsLookup::UseAllDnsIps => DnsLookup::UseAllDnsIps,
            ClientDnsLookup::ResolveCanonicalBootstrapServersOnly => {
                DnsLookup::ResolveCanonicalBootstrapServersOnly
            }
        };
        let given: Vec<(String, u16)> = config
            .bootstrap_addresses()
            .iter()
            .map(|s| (s.host().to_owned(), s.port()))
            .collect();
        let resolver = Arc::new(DefaultHostResolver);
        let addresses = resolve_bootstrap_servers(&given, lookup, resolver.as_ref())?;
        let metadata = Arc::new(ProducerMetadata::from_config(&config, Arc::clone(&clock)));
        if addresses != given {
            metadata.bootstrap(&addresses);
        }

        let client = NetworkClient::new(
            NetworkClientConfig {
                client_id: client_id.clone(),
                max_in_flight_per_connection: config.max_in_flight_requests_per_connection(),
                request_timeout: config.request_timeout(),
                reconnect_backoff: Duration::from_millis(config.reconnect_backoff_ms()),
                rebootstrap: config.metadata_recovery_strategy()
                    == MetadataRecoveryStrategy::Rebootstrap,
                selector: SelectorConfig {
                    max_receive_size: MAX_RESPONSE_SIZE,
                    connections_max_idle: config.connections_max_idle(),
                    send_buffer_bytes: config.send_buffer_bytes(),
                    receive_buffer_bytes: config.receive_buffer_bytes(),
                },
                connection_states: ConnectionStatesConfig {
                    reconnect_backoff: Duration::from_millis(config.reconnect_backoff_ms()),
                    reconnect_backoff_max: Duration::from_millis(config.reconnect_backoff_max_ms()),
                    connection_setup_timeout: millis(config.socket_connection_setup_timeout_ms()),
                    connection_setup_timeout_max: millis(
                        config.socket_connection_setup_timeout_max_ms(),
                    ),
                },
            },
            Arc::clone(&metadata),
            resolver,
            Arc::clone(&clock),
        )?;
        let (sender, control) = Sender::new(
            client,
            Arc::clone(&accumulator),
            transaction_manager.clone(),
            SenderConfig {
                guarantee_message_order: config.max_in_flight_requests_per_connection() == 1,
                max_request_size: config.max_request_size(),
                acks: config.acks().as_i16(),
                retries: config.retries(),
                request_timeout: config.request_timeout(),
                retry_backoff: config.retry_backoff(),
                retry_backoff_max: Duration::from_millis(config.retry_backoff_max_ms()),
                delivery_timeout: config.delivery_timeout(),
                retry_backoff_jitter: RETRY_BACKOFF_JITTER,
            },
            Arc::clone(&clock),
        );

        let done = Arc::new(ThreadDone::default());
        let thread_done = Arc::clone(&done);
        let io_thread = std::thread::Builder::new()
            .name(format!("{NETWORK_THREAD_PREFIX} | {client_id}"))
            .spawn(move || {
                // Set even if the loop panics, so close never waits forever.
                struct SetOnDrop(Arc<ThreadDone>);
                impl Drop for SetOnDrop {
                    fn drop(&mut self) {
                        self.0.set();
                    }
                }
                let _done = SetOnDrop(thread_done);
                sender.run();
            })?;
        let io_thread_id = io_thread.thread().id();
        log::debug!("[Producer clientId={client_id}] Kafka producer started");
        Ok(KafkaProducer {
            client_id,
            config,
            clock,
            metadata,
            accumulator,
            transaction_manager,
            control,
            io_thread: Mutex::new(Some(io_thread)),
            io_thread_id,
            io_thread_done: done,
            key_serializer,
            value_serializer,
            interceptors: Arc::new(ProducerInterceptors::new(b.interceptors)),
            partitioner,
            resources_closed: AtomicBool::new(false),
            topic_cache: TopicCache::new(),
        })
    }

    /// The producer's `client.id` (`producer-N` unless configured).
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Sends a record: appends it to its partition's batch and returns the
    /// future of its acknowledgement. Blocks only while waiting for the
    /// topic's metadata and for buffer memory, at most `max.block.ms` in
    /// total.
    ///
    /// Fails at once (and the record is not sent) when the producer is
    /// closed, the record is invalid or too large, its partition is out of
    /// range, serialization fails, or metadata or memory do not come within
    /// `max.block.ms`.
    pub fn send(&self, record: ProducerRecord<K, V>) -> Result<SendFuture> {
        self.send_inner(record, None, true).and_then(expect_future)
    }

    /// Like [`send`](Self::send), and runs `callback` once with the record's
    /// metadata or error: on the network thread when the broker answers,
    /// or on this thread before `send` returns when it fails at once.
    /// Callbacks of one partition run in send order.
    pub fn send_with_callback(
        &self,
        record: ProducerRecord<K, V>,
        callback: impl FnOnce(Result<RecordMetadata, Error>) + Send + 'static,
    ) -> Result<SendFuture> {
        self.send_inner(record, Some(RecordCallback::new(callback)), true)
            .and_then(expect_future)
    }

    /// Like [`send_with_callback`](Self::send_with_callback), without a
    /// future: the callback alone reports the outcome. For callers that
    /// would drop the future anyway, it saves the two atomic reference
    /// count updates per record that making and dropping one cost.
    ///
    /// ```no_run
    /// # use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};
    /// # use kafka_producer::producer::serialization::StringSerializer;
    /// # fn main() -> Result<(), kafka_producer::Error> {
    /// let config = ProducerConfig::builder("localhost:9092").build()?;
    /// let producer: KafkaProducer<String, String> =
    ///     KafkaProducer::new(config, StringSerializer, StringSerializer)?;
    /// producer.send_with_callback_only(ProducerRecord::new("events", "e1".to_owned()), |result| {
    ///     if let Err(e) = result {
    ///         eprintln!("e1 was not written: {e}");
    ///     }
    /// })?;
    /// producer.close()?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); the callback has then run with the same
    /// error.
    pub fn send_with_callback_only(
        &self,
        record: ProducerRecord<K, V>,
        callback: impl FnOnce(Result<RecordMetadata, Error>) + Send + 'static,
    ) -> Result<()> {
        self.send_inner(record, Some(RecordCallback::new(callback)), false)
            .map(drop)
    }

    /// [`send_with_callback_only`](Self::send_with_callback_only) with a
    /// callback already wrapped (the tools').
    #[allow(dead_code)] // used by the tools
    pub(crate) fn send_with_record_callback(
        &self,
        record: ProducerRecord<K, V>,
        callback: RecordCallback,
    ) -> Result<()> {
        self.send_inner(record, Some(callback), false).map(drop)
    }

    /// Sends through the interceptors, if any; the record's future only if
    /// `want_future`.
    fn send_inner(
        &self,
        record: ProducerRecord<K, V>,
        user_callback: Option<RecordCallback>,
        want_future: bool,
    ) -> Result<Option<SendFuture>> {
        if self.interceptors.is_empty() {
            // Nothing needs the partition or the topic after a failure:
            // no shared cell, no copy of the topic.
            let mut callback = user_callback;
            return self
                .do_send(record, &mut callback, want_future, None)
                .map_err(|error| self.send_failed(error, &mut callback));
        }
        let record = self.interceptors.on_send(record);
        // The partition for interceptors' failure metadata; -1 until known.
        let partition = Arc::new(AtomicI32::new(record.partition().unwrap_or(-1)));
        let topic = record.topic().to_owned();
        let mut callback = self.wrap_callback(&topic, &partition, user_callback);
        self.do_send(record, &mut callback, want_future, Some(&partition))
            .map_err(|error| self.send_failed(error, &mut callback))
    }

    /// A send failed before its record was appended: the callback (if it
    /// is still ours) gets the error, and so does the caller.
    fn send_failed(&self, error: Error, callback: &mut Option<RecordCallback>) -> Error {
        log::debug!(
            "[Producer clientId={}] Exception occurred during message send: {error}",
            self.client_id
        );
        if let Some(cb) = callback.take() {
            cb.call(Err(error.clone()));
        }
        error
    }

    /// The callback given to the batch: interceptors first, then the
    /// user's (Java `AppendCallbacks` / `InterceptorCallback`).
    fn wrap_callback(
        &self,
        topic: &str,
        partition: &Arc<AtomicI32>,
        user: Option<RecordCallback>,
    ) -> Option<RecordCallback> {
        if self.interceptors.is_empty() {
            return user;
        }
        let interceptors = Arc::clone(&self.interceptors);
        let topic: Arc<str> = Arc::from(topic);
        let partition = Arc::clone(partition);
        Some(RecordCallback::new(
            move |result: Result<RecordMetadata, Error>| {
                match &result {
                    Ok(metadata) => interceptors.on_acknowledgement(metadata, None),
                    Err(error) => {
                        let tp = TopicPartition::new(topic, partition.load(Ordering::SeqCst));
                        let metadata = RecordMetadata::new(tp, -1, 0, NO_TIMESTAMP, -1, -1);
                        interceptors.on_acknowledgement(&metadata, Some(error));
                    }
                }
                if let Some(user) = user {
                    user.call(result);
                }
            },
        ))
    }

    /// Java `doSend`, up to the append.
    fn do_send(
        &self,
        record: ProducerRecord<K, V>,
        callback: &mut Option<RecordCallback>,
        want_future: bool,
        partition_out: Option<&AtomicI32>,
    ) -> Result<Option<SendFuture>> {
        let set_partition = |p: i32| {
            if let Some(out) = partition_out {
                out.store(p, Ordering::SeqCst);
            }
        };
        self.throw_if_closed()?;
        record.validate()?;
        if let Some(tm) = &self.transaction_manager {
            // Java `maybeFailWithError`: after a fatal error nothing more
            // can be sent; the error names the cause.
            tm.maybe_fail_with_error()?;
        }
        let (topic, explicit_partition, key, value, headers, timestamp) = record.into_parts();
        // One clock reading serves the record's timestamp too.
        let (now, wall_ms) = match timestamp {
            Some(_) => (self.clock.now(), NO_TIMESTAMP),
            None => self.clock.now_and_wall_clock_ms(),
        };
        let max_block = self.config.max_block();
        let local = self.topic_cache.get(&topic, &self.accumulator);
        // Read before the cluster is fetched (see `TopicView`).
        let version = self.metadata.cluster_version();
        let (view, waited) = match local.current_view(version, None, now) {
            Some(view) => (view, Duration::ZERO),
            None => {
                let control = &self.control;
                let waited =
                    wait_on_metadata(&self.metadata, &topic, None, now, max_block, &|| {
                        control.wakeup();
                    })
                    .map_err(|e| {
                        if self.metadata.is_closed() {
                            Error::Closed("Producer closed while send in progress".to_owned())
                        } else {
                            e
                        }
                    })?;
                let count = waited.cluster.partition_count(&topic).unwrap_or(0);
                let view = Rc::new(TopicView::new(waited.cluster, count, version, waited.usage));
                local.set_view(Rc::clone(&view));
                (view, waited.waited)
            }
        };
        let cluster = &*view.cluster;
        let remaining = max_block.saturating_sub(waited);

        let key_bytes = key
            .as_ref()
            .map(|k| self.key_serializer.serialize(&topic, k))
            .transpose()?;
        let value_bytes = value
            .as_ref()
            .map(|v| self.value_serializer.serialize(&topic, v))
            .transpose()?;
        let key_bytes = key_bytes.as_deref();
        let value_bytes = value_bytes.as_deref();

        let count = view.partition_count;
        let partition = match explicit_partition {
            Some(p) => {
                if usize::try_from(p).map_or(true, |p| p >= count) {
                    return Err(Error::Other(format!(
                        "Invalid partition given with record: {p} is not in the range [0...{count})."
                    )));
                }
                p
            }
            None => self.partition(&topic, key_bytes, value_bytes, cluster, count)?,
        };
        set_partition(partition);

        // Sized once, here: the accumulator places it in its batch without
        // going over the headers again.
        let timestamp = timestamp.unwrap_or(wall_ms);
        let record = SizedRecord::new(timestamp, key_bytes, value_bytes, &headers);
        // Java's estimateSizeInBytesUpperBound.
        self.ensure_valid_record_size(RECORD_BATCH_OVERHEAD + record.size_upper_bound())?;
        log::trace!("Attempting to append record to topic {topic} partition {partition}");

        let abort_on_new_batch = self.partitioner.is_some();
        let mut result = self.accumulator.append_to(
            &mut local.appender.borrow_mut(),
            partition,
            &record,
            callback,
            want_future,
            remaining,
            abort_on_new_batch,
            now,
            cluster,
        )?;
        if result.abort_for_new_batch {
            // A custom partitioner may move the record when a new batch is
            // needed (KIP-480).
            if let Some(p) = &self.partitioner {
                p.on_new_batch(&topic, cluster, result.partition);
            }
            let partition = match explicit_partition {
                Some(p) => p,
                None => self.partition(&topic, key_bytes, value_bytes, cluster, count)?,
            };
            set_partition(partition);
            log::trace!("Retrying append due to new batch creation for topic {topic} partition {partition}. The old partition was {}", result.partition);
            result = self.accumulator.append_to(
                &mut local.appender.borrow_mut(),
                partition,
                &record,
                callback,
                want_future,
                remaining,
                false,
                now,
                cluster,
            )?;
        }
        set_partition(result.partition);
        if result.wakeup {
            log::trace!(
                "Waking up the sender since topic {topic} partition {} is either full or getting a new batch",
                result.partition
            );
            self.control.wakeup();
        }
        Ok(result.future)
    }

    /// Java `partition`: the custom partitioner, else murmur2 of the key
    /// (unless `partitioner.ignore.keys`), else -1 for the accumulator's
    /// sticky choice.
    fn partition(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        cluster: &crate::common::Cluster,
        count: usize,
    ) -> Result<i32> {
        if let Some(p) = &self.partitioner {
            let partition = p.partition(topic, key, value, cluster);
            if usize::try_from(partition).map_or(true, |p| p >= count) {
                return Err(Error::Other(format!(
                    "The partitioner returned partition {partition} for topic {topic}, which is not in the range [0...{count})."
                )));
            }
            return Ok(partition);
        }
        match key {
            Some(key) if !self.config.partitioner_ignore_keys() && count > 0 => {
                Ok(default_partition_for_key(key, count))
            }
            _ => Ok(RecordMetadata::UNKNOWN_PARTITION),
        }
    }

    /// Java `ensureValidRecordSize` (G-13).
    fn ensure_valid_record_size(&self, size: usize) -> Result<()> {
        if size > self.config.max_request_size() {
            return Err(Error::RecordTooLarge(format!(
                "The message is {size} bytes when serialized which is larger than {}, which is the value of the max.request.size configuration.",
                self.config.max_request_size()
            )));
        }
        if size > self.config.buffer_memory() {
            return Err(Error::RecordTooLarge(format!(
                "The message is {size} bytes when serialized which is larger than the total memory buffer you have configured with the buffer.memory configuration."
            )));
        }
        Ok(())
    }

    fn throw_if_closed(&self) -> Result<()> {
        if self.control.is_running() {
            Ok(())
        } else {
            Err(Error::Closed(
                "Cannot perform operation after producer has been closed".to_owned(),
            ))
        }
    }

    fn on_network_thread(&self) -> bool {
        std::thread::current().id() == self.io_thread_id
    }

    /// Sends everything buffered now and waits until every record sent
    /// before the call is acknowledged or failed (Java `flush`).
    ///
    /// Called from a callback (on the network thread) it returns an error
    /// at once: waiting there would wait for itself.
    pub fn flush(&self) -> Result<()> {
        if self.on_network_thread() {
            return Err(Error::Other(
                "KafkaProducer.flush() invocation inside a callback is not permitted because it may lead to deadlock.".to_owned(),
            ));
        }
        log::trace!(
            "[Producer clientId={}] Flushing accumulated records in producer.",
            self.client_id
        );
        self.accumulator.begin_flush();
        self.control.wakeup();
        self.accumulator.await_flush_completion(Duration::MAX)
    }

    /// The partitions of `topic`, waiting for its metadata at most
    /// `max.block.ms` (Java `partitionsFor`).
    pub fn partitions_for(&self, topic: &str) -> Result<Vec<PartitionInfo>> {
        self.throw_if_closed()?;
        let control = &self.control;
        let waited = wait_on_metadata(
            &self.metadata,
            topic,
            None,
            self.clock.now(),
            self.config.max_block(),
            &|| control.wakeup(),
        )?;
        Ok(waited
            .cluster
            .partitions_for_topic(topic)
            .map(<[PartitionInfo]>::to_vec)
            .unwrap_or_default())
    }

    /// Closes the producer, waiting as long as it takes for every record
    /// sent to complete (Java `close()`). Idempotent.
    pub fn close(&self) -> Result<()> {
        self.close_with(None)
    }

    /// Closes the producer: waits at most `timeout` for the records sent to
    /// complete, then fails those left (every future and callback completes
    /// with an error) and stops the network thread (Java
    /// `close(Duration)`). Idempotent.
    ///
    /// Called from a callback, it cannot wait for the thread it runs on:
    /// the close is forced at once and an error says so.
    pub fn close_timeout(&self, timeout: Duration) -> Result<()> {
        self.close_with(Some(timeout))
    }

    fn close_with(&self, timeout: Option<Duration>) -> Result<()> {
        log::info!(
            "[Producer clientId={}] Closing the Kafka producer with timeoutMillis = {} ms.",
            self.client_id,
            timeout.map_or(u128::from(u64::MAX), |t| t.as_millis())
        );
        if self.on_network_thread() {
            log::warn!(
                "[Producer clientId={}] Overriding close timeout to 0 ms in order to prevent useless blocking due to self-join. This means you have incorrectly invoked close with a non-zero timeout from the producer call-back.",
                self.client_id
            );
            self.control.force_close(&self.accumulator);
            return Err(Error::Other(
                "close() was called from a producer callback, on the network thread: it cannot wait for that thread, so the producer was closed forcefully (timeout 0); records not yet acknowledged fail".to_owned(),
            ));
        }
        let graceful = timeout.is_none_or(|t| !t.is_zero());
        if graceful {
            self.control.initiate_close(&self.accumulator);
            self.io_thread_done.wait(self.clock.as_ref(), timeout);
        }
        if !self
            .io_thread_done
            .wait(self.clock.as_ref(), Some(Duration::ZERO))
        {
            log::info!(
                "[Producer clientId={}] Proceeding to force close the producer since pending requests could not be completed within timeout {} ms.",
                self.client_id,
                timeout.map_or(0, |t| t.as_millis())
            );
            self.control.force_close(&self.accumulator);
        }
        self.io_thread_done.wait(self.clock.as_ref(), None);
        if let Some(handle) = self.io_thread.lock().take() {
            if handle.join().is_err() {
                log::error!(
                    "[Producer clientId={}] The network thread panicked",
                    self.client_id
                );
            }
        }
        self.close_resources();
        log::debug!(
            "[Producer clientId={}] Kafka producer has been closed",
            self.client_id
        );
        Ok(())
    }
}

impl<K, V> KafkaProducer<K, V> {
    /// Closes interceptors, partitioner and metadata once.
    fn close_resources(&self) {
        if self.resources_closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.interceptors.close();
        if let Some(p) = &self.partitioner {
            p.close();
        }
        self.metadata.close();
        self.accumulator.close();
    }
}

impl<K, V> Drop for KafkaProducer<K, V> {
    /// Closes with a bounded wait ([`DROP_CLOSE_TIMEOUT`]), then forces.
    fn drop(&mut self) {
        if self.io_thread.lock().is_none() && self.resources_closed.load(Ordering::SeqCst) {
            return;
        }
        let on_network_thread = std::thread::current().id() == self.io_thread_id;
        if on_network_thread {
            // Dropped inside a callback: cannot join the thread we run on.
            self.control.force_close(&self.accumulator);
            return;
        }
        self.control.initiate_close(&self.accumulator);
        if !self
            .io_thread_done
            .wait(self.clock.as_ref(), Some(DROP_CLOSE_TIMEOUT))
        {
            self.control.force_close(&self.accumulator);
        }
        self.io_thread_done.wait(self.clock.as_ref(), None);
        if let Some(handle) = self.io_thread.lock().take() {
            let _ = handle.join();
        }
        self.close_resources();
    }
}

/// A millisecond setting as a `Duration` (negative: zero).
fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// The future of an append that asked for one.
fn expect_future(future: Option<SendFuture>) -> Result<SendFuture> {
    future.ok_or_else(|| Error::Other("the accumulator returned no future".to_owned()))
}

//! [`ProducerConfig`]: every configuration key of the Java 4.3 producer,
//! under its Java name, with Java's defaults, validators and post-processing.
//!
//! A config is made in one of three ways, all of which end in the same
//! validation ([`ProducerConfigBuilder::build`]):
//!
//! * the typed builder, [`ProducerConfig::builder`], one setter per key;
//! * Java key/value strings, [`ProducerConfig::from_properties`] (or
//!   [`ProducerConfigBuilder::set`] for one key);
//! * `.properties` text, [`ProducerConfig::from_properties_text`], so an
//!   existing `producer.properties` works unchanged.
//!
//! ```
//! use kafka_producer::producer::{Acks, ProducerConfig};
//! use kafka_producer::record::CompressionType;
//!
//! let config = ProducerConfig::builder("broker-1:9092,broker-2:9092")
//!     .acks(Acks::All)
//!     .linger_ms(10)
//!     .compression_type(CompressionType::Gzip)
//!     .build()?;
//! assert_eq!(config.linger_ms(), 10);
//! assert_eq!(config.batch_size(), 16384); // Java's default
//! assert_eq!(config.bootstrap_addresses()[1].host(), "broker-2");
//!
//! let text = "
//! # a producer.properties file
//! bootstrap.servers = [::1]:9092
//! acks: 1
//! enable.idempotence=false
//! ";
//! let config = ProducerConfig::from_properties_text(text)?;
//! assert_eq!(config.acks(), Acks::One);
//! assert_eq!(config.bootstrap_addresses()[0].host(), "::1");
//! # Ok::<(), kafka_producer::Error>(())
//! ```
//!
//! # Java's rules, as this module applies them
//!
//! * **Required key.** `bootstrap.servers` has no default; `build()` without
//!   it fails with [`Error::Config`] naming `bootstrap.servers`, so there is no
//!   `Default` for `ProducerConfig`. [`ProducerConfig::builder`] takes the
//!   servers up front. Each entry must parse as `host:port` (`[::1]:9092`
//!   for IPv6, an optional `scheme://` prefix is ignored), as Java's
//!   `ClientUtils` requires; names are resolved later, when connecting.
//! * **Values** are parsed as Java's `ConfigDef` does: surrounding whitespace
//!   trimmed, booleans case-insensitive, lists comma-separated and trimmed.
//!   A bad value is [`Error::Config`] naming the key, the value and Java's
//!   rule ("Value must be at least 0", "String must be one of: …").
//! * **Idempotence** (`postProcessAndValidateIdempotenceConfigs`): when
//!   `enable.idempotence` is set to true explicitly, `retries=0` or `acks`
//!   other than `all` is an error; when it is only the default, either
//!   conflict disables idempotence (logged at info). Since Kafka 4.0,
//!   `max.in.flight.requests.per.connection` above 5 is an error whenever
//!   idempotence is enabled, explicitly or by default. `transactional.id`
//!   with idempotence disabled is an error.
//! * **Delivery timeout** (`configureDeliveryTimeout`): `delivery.timeout.ms`
//!   below `linger.ms + request.timeout.ms` is an error if it was set, and is
//!   raised to the sum (logged at warn) if it was the default.
//! * **Backoffs**: setting `reconnect.backoff.ms` without
//!   `reconnect.backoff.max.ms` makes the max equal the base (no exponential
//!   growth); a base above its max (`retry.backoff.ms`,
//!   `socket.connection.setup.timeout.ms`) is logged, and the max is then
//!   used as a constant.
//! * **`client.id`** defaults to `producer-<transactional.id>`, or
//!   `producer-<n>` with `n` counting configs built in this process.
//! * **Unknown keys** are accepted, logged at warn ("The configuration 'x'
//!   was supplied but isn't a known config.") and listed by
//!   [`ProducerConfig::unknown_keys`]. `metrics.context.*` keys are metric
//!   tags in Java; they are accepted and ignored.
//!
//! # What Rust cannot take from a configuration
//!
//! * **Java classes.** `partitioner.class` accepts
//!   `org.apache.kafka.clients.producer.RoundRobinPartitioner`
//!   ([`PartitionerKind::RoundRobin`]); `key.serializer` and
//!   `value.serializer` accept Java's built-in serializer names
//!   ([`SerializerClass`], recorded for tools: in Rust the serializers are
//!   given in code, so these two keys are optional); `metric.reporters`
//!   accepts only its default `JmxReporter` (ignored: there is no JMX). Any
//!   other class name, any `interceptor.classes` entry and any
//!   `config.providers` entry is an [`Error::Config`] saying to configure it
//!   in code.
//! * **Security.** `security.protocol`, `security.providers` and every
//!   `ssl.*` and `sasl.*` key of the Java client are recognised and
//!   validated, but only `PLAINTEXT` is supported yet: any other protocol is
//!   [`Error::Unsupported`]. Password values (`ssl.*.password`,
//!   `sasl.jaas.config`, …) never appear in `Debug`, `Display` or
//!   [`ProducerConfig::to_properties`].
//! * **Accepted and ignored**, because nothing in this crate uses them yet:
//!   `enable.metrics.push`, `metric.reporters`, `metrics.*`,
//!   `transaction.two.phase.commit.enable`, the SSL/SASL keys. They are
//!   still validated and reported, so a config means the same as in Java.
//! * **Compression**: every codec (`none`, `gzip`, `snappy`, `lz4`, `zstd`)
//!   is built; the levels are validated as Java does, and
//!   [`Compression`] says what each level does
//!   in this build.
//!
//! [`Error::Config`]: crate::Error::Config
//! [`Error::Unsupported`]: crate::Error::Unsupported

mod builder;
pub mod keys;
mod properties;
mod types;
mod validate;
mod value;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use builder::ProducerConfigBuilder;
pub use properties::parse_properties;
pub use types::{
    Acks, BootstrapServer, ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind,
    RecordingLevel, SerializerClass,
};

use crate::error::Result;
use crate::record::{Compression, CompressionType};
use value::Value;

/// A validated producer configuration.
///
/// Getters are named after the Java keys in snake_case (`linger.ms` is
/// [`linger_ms`](Self::linger_ms)) and return the effective value, after
/// Java's post-processing. Build one with [`ProducerConfig::builder`],
/// [`ProducerConfig::from_properties`] or
/// [`ProducerConfig::from_properties_text`]; see the
/// [module docs](self) for the rules.
#[derive(Clone, PartialEq)]
pub struct ProducerConfig {
    bootstrap_servers: Vec<String>,
    bootstrap: Vec<BootstrapServer>,
    client_id: String,
    client_dns_lookup: ClientDnsLookup,
    acks: Acks,
    linger_ms: u64,
    batch_size: usize,
    buffer_memory: usize,
    max_block_ms: u64,
    max_request_size: usize,
    compression: Compression,
    compression_gzip_level: i32,
    compression_lz4_level: i32,
    compression_zstd_level: i32,
    retries: u32,
    retry_backoff_ms: u64,
    retry_backoff_max_ms: u64,
    delivery_timeout_ms: u64,
    request_timeout_ms: u64,
    max_in_flight_requests_per_connection: usize,
    enable_idempotence: bool,
    transactional_id: Option<String>,
    transaction_timeout_ms: i32,
    transaction_two_phase_commit_enable: bool,
    partitioner_class: PartitionerKind,
    partitioner_ignore_keys: bool,
    partitioner_adaptive_partitioning_enable: bool,
    partitioner_availability_timeout_ms: u64,
    key_serializer: Option<SerializerClass>,
    value_serializer: Option<SerializerClass>,
    metadata_max_age_ms: u64,
    metadata_max_idle_ms: u64,
    metadata_recovery_strategy: MetadataRecoveryStrategy,
    metadata_recovery_rebootstrap_trigger_ms: u64,
    connections_max_idle_ms: i64,
    reconnect_backoff_ms: u64,
    reconnect_backoff_max_ms: u64,
    socket_connection_setup_timeout_ms: i64,
    socket_connection_setup_timeout_max_ms: i64,
    send_buffer_bytes: i32,
    receive_buffer_bytes: i32,
    metric_reporters: Vec<String>,
    metrics_num_samples: u32,
    metrics_sample_window_ms: u64,
    metrics_recording_level: RecordingLevel,
    enable_metrics_push: bool,
    interceptor_classes: Vec<String>,
    unknown_keys: Vec<String>,
    /// Every known key's effective value, for printing.
    values: BTreeMap<&'static str, Value>,
}

impl ProducerConfig {
    /// A builder with `bootstrap.servers` set to `servers`, a comma-separated
    /// `host:port` list as in Java (`"b1:9092,b2:9092"`). Every other key
    /// starts at Java's default.
    #[must_use]
    pub fn builder(servers: &str) -> ProducerConfigBuilder {
        ProducerConfigBuilder::new().set(keys::BOOTSTRAP_SERVERS, servers)
    }

    /// A config from Java key/value strings, e.g. a `&HashMap<String,
    /// String>` or `[("bootstrap.servers", "localhost:9092")]`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) for a missing
    /// `bootstrap.servers` or an invalid value,
    /// [`Error::Unsupported`](crate::Error::Unsupported) for a security
    /// protocol not supported yet.
    pub fn from_properties<I, K, V>(properties: I) -> Result<ProducerConfig>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        ProducerConfigBuilder::new().properties(properties).build()
    }

    /// A config from Java `.properties` text (see [`parse_properties`] for
    /// the syntax).
    ///
    /// # Errors
    ///
    /// As [`from_properties`](Self::from_properties), and
    /// [`Error::Config`](crate::Error::Config) for a malformed `\uXXXX`
    /// escape.
    pub fn from_properties_text(text: &str) -> Result<ProducerConfig> {
        Self::from_properties(parse_properties(text)?)
    }

    /// Every known key with its effective value, sorted by key, in Java's
    /// string form: keys whose value is null (unset, no default) are left
    /// out, and password values read `[hidden]`. Feeding the result to
    /// [`from_properties`](Self::from_properties) gives an equal config
    /// (unless it had passwords or unknown keys, which are not included).
    #[must_use]
    pub fn to_properties(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter_map(|(k, v)| Some(((*k).to_owned(), v.to_properties_string()?)))
            .collect()
    }

    /// The keys given that no Java producer defines (each was logged).
    #[must_use]
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// `bootstrap.servers`: the entries as given (trimmed).
    #[must_use]
    pub fn bootstrap_servers(&self) -> &[String] {
        &self.bootstrap_servers
    }

    /// `bootstrap.servers`, each entry parsed into host and port.
    #[must_use]
    pub fn bootstrap_addresses(&self) -> &[BootstrapServer] {
        &self.bootstrap
    }

    /// `client.id`: as set, else `producer-<transactional.id>`, else
    /// `producer-<n>`.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `client.dns.lookup` (default `use_all_dns_ips`).
    #[must_use]
    pub fn client_dns_lookup(&self) -> ClientDnsLookup {
        self.client_dns_lookup
    }

    /// `acks` (default `all`).
    #[must_use]
    pub fn acks(&self) -> Acks {
        self.acks
    }

    /// `linger.ms` (default 5).
    #[must_use]
    pub fn linger_ms(&self) -> u64 {
        self.linger_ms
    }

    /// `linger.ms` as a duration, capped at `i32::MAX` ms as Java's
    /// `lingerMs()` does.
    #[must_use]
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.linger_ms.min(i32::MAX.unsigned_abs().into()))
    }

    /// `batch.size` in bytes (default 16384). 0 disables batching; as in
    /// Java, the producer then sizes batches with `max(1, batch.size)`.
    #[must_use]
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// `buffer.memory` in bytes (default 33554432).
    #[must_use]
    pub fn buffer_memory(&self) -> usize {
        self.buffer_memory
    }

    /// `max.block.ms` (default 60000).
    #[must_use]
    pub fn max_block_ms(&self) -> u64 {
        self.max_block_ms
    }

    /// `max.block.ms` as a duration.
    #[must_use]
    pub fn max_block(&self) -> Duration {
        Duration::from_millis(self.max_block_ms)
    }

    /// `max.request.size` in bytes (default 1048576).
    #[must_use]
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }

    /// `compression.type` (default `none`).
    #[must_use]
    pub fn compression_type(&self) -> CompressionType {
        self.compression.kind()
    }

    /// The codec and level batches are compressed with (`compression.type`
    /// with its `compression.<type>.level`).
    #[must_use]
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// `compression.gzip.level` (default -1: zlib's default, 6).
    #[must_use]
    pub fn compression_gzip_level(&self) -> i32 {
        self.compression_gzip_level
    }

    /// `compression.lz4.level` (default 9).
    #[must_use]
    pub fn compression_lz4_level(&self) -> i32 {
        self.compression_lz4_level
    }

    /// `compression.zstd.level` (default 3).
    #[must_use]
    pub fn compression_zstd_level(&self) -> i32 {
        self.compression_zstd_level
    }

    /// `retries` (default 2147483647, at most `i32::MAX`).
    #[must_use]
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// `retry.backoff.ms` (default 100).
    #[must_use]
    pub fn retry_backoff_ms(&self) -> u64 {
        self.retry_backoff_ms
    }

    /// `retry.backoff.ms` as a duration.
    #[must_use]
    pub fn retry_backoff(&self) -> Duration {
        Duration::from_millis(self.retry_backoff_ms)
    }

    /// `retry.backoff.max.ms` (default 1000).
    #[must_use]
    pub fn retry_backoff_max_ms(&self) -> u64 {
        self.retry_backoff_max_ms
    }

    /// `delivery.timeout.ms` (default 120000), raised to `linger.ms +
    /// request.timeout.ms` when it was defaulted below that sum. At most
    /// `i32::MAX`.
    #[must_use]
    pub fn delivery_timeout_ms(&self) -> u64 {
        self.delivery_timeout_ms
    }

    /// `delivery.timeout.ms` as a duration.
    #[must_use]
    pub fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms)
    }

    /// `request.timeout.ms` (default 30000, at most `i32::MAX`).
    #[must_use]
    pub fn request_timeout_ms(&self) -> u64 {
        self.request_timeout_ms
    }

    /// `request.timeout.ms` as a duration.
    #[must_use]
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `max.in.flight.requests.per.connection` (default 5, at least 1).
    #[must_use]
    pub fn max_in_flight_requests_per_connection(&self) -> usize {
        self.max_in_flight_requests_per_connection
    }

    /// `enable.idempotence` after post-processing (default true; false when
    /// defaulted but `retries=0` or `acks` is not `all`).
    #[must_use]
    pub fn enable_idempotence(&self) -> bool {
        self.enable_idempotence
    }

    /// `transactional.id` (default unset).
    #[must_use]
    pub fn transactional_id(&self) -> Option<&str> {
        self.transactional_id.as_deref()
    }

    /// `transaction.timeout.ms` (default 60000).
    #[must_use]
    pub fn transaction_timeout_ms(&self) -> i32 {
        self.transaction_timeout_ms
    }

    /// `transaction.two.phase.commit.enable` (default false; accepted and
    /// validated, not used yet).
    #[must_use]
    pub fn transaction_two_phase_commit_enable(&self) -> bool {
        self.transaction_two_phase_commit_enable
    }

    /// `partitioner.class` (default unset: [`PartitionerKind::BuiltIn`]).
    #[must_use]
    pub fn partitioner_class(&self) -> PartitionerKind {
        self.partitioner_class
    }

    /// `partitioner.ignore.keys` (default false).
    #[must_use]
    pub fn partitioner_ignore_keys(&self) -> bool {
        self.partitioner_ignore_keys
    }

    /// `partitioner.adaptive.partitioning.enable` (default true). As in
    /// Java it only matters for the built-in partitioning.
    #[must_use]
    pub fn partitioner_adaptive_partitioning_enable(&self) -> bool {
        self.partitioner_adaptive_partitioning_enable
    }

    /// `partitioner.availability.timeout.ms` (default 0: disabled).
    #[must_use]
    pub fn partitioner_availability_timeout_ms(&self) -> u64 {
        self.partitioner_availability_timeout_ms
    }

    /// `key.serializer`, when it names a Java built-in serializer.
    #[must_use]
    pub fn key_serializer(&self) -> Option<SerializerClass> {
        self.key_serializer
    }

    /// `value.serializer`, when it names a Java built-in serializer.
    #[must_use]
    pub fn value_serializer(&self) -> Option<SerializerClass> {
        self.value_serializer
    }

    /// `interceptor.classes` (default empty; always empty here, since Java
    /// classes cannot be loaded).
    #[must_use]
    pub fn interceptor_classes(&self) -> &[String] {
        &self.interceptor_classes
    }

    /// `metadata.max.age.ms` (default 300000).
    #[must_use]
    pub fn metadata_max_age_ms(&self) -> u64 {
        self.metadata_max_age_ms
    }

    /// `metadata.max.idle.ms` (default 300000, at least 5000).
    #[must_use]
    pub fn metadata_max_idle_ms(&self) -> u64 {
        self.metadata_max_idle_ms
    }

    /// `metadata.recovery.strategy` (default `rebootstrap`).
    #[must_use]
    pub fn metadata_recovery_strategy(&self) -> MetadataRecoveryStrategy {
        self.metadata_recovery_strategy
    }

    /// `metadata.recovery.rebootstrap.trigger.ms` (default 300000).
    #[must_use]
    pub fn metadata_recovery_rebootstrap_trigger_ms(&self) -> u64 {
        self.metadata_recovery_rebootstrap_trigger_ms
    }

    /// `connections.max.idle.ms` (default 540000; negative: never close
    /// idle connections, as Java's `Selector`).
    #[must_use]
    pub fn connections_max_idle_ms(&self) -> i64 {
        self.connections_max_idle_ms
    }

    /// `connections.max.idle.ms` as a duration, `None` when negative.
    #[must_use]
    pub fn connections_max_idle(&self) -> Option<Duration> {
        u64::try_from(self.connections_max_idle_ms)
            .ok()
            .map(Duration::from_millis)
    }

    /// `reconnect.backoff.ms` (default 50).
    #[must_use]
    pub fn reconnect_backoff_ms(&self) -> u64 {
        self.reconnect_backoff_ms
    }

    /// `reconnect.backoff.max.ms` (default 1000; equal to
    /// `reconnect.backoff.ms` when only that one was set).
    #[must_use]
    pub fn reconnect_backoff_max_ms(&self) -> u64 {
        self.reconnect_backoff_max_ms
    }

    /// `socket.connection.setup.timeout.ms` (default 10000; Java has no
    /// validator for it).
    #[must_use]
    pub fn socket_connection_setup_timeout_ms(&self) -> i64 {
        self.socket_connection_setup_timeout_ms
    }

    /// `socket.connection.setup.timeout.max.ms` (default 30000).
    #[must_use]
    pub fn socket_connection_setup_timeout_max_ms(&self) -> i64 {
        self.socket_connection_setup_timeout_max_ms
    }

    /// `send.buffer.bytes` (default 131072; -1: the OS default).
    #[must_use]
    pub fn send_buffer_bytes(&self) -> i32 {
        self.send_buffer_bytes
    }

    /// `receive.buffer.bytes` (default 32768; -1: the OS default).
    #[must_use]
    pub fn receive_buffer_bytes(&self) -> i32 {
        self.receive_buffer_bytes
    }

    /// `metric.reporters` (default `[org.apache.kafka.common.metrics.JmxReporter]`,
    /// accepted and ignored).
    #[must_use]
    pub fn metric_reporters(&self) -> &[String] {
        &self.metric_reporters
    }

    /// `metrics.num.samples` (default 2).
    #[must_use]
    pub fn metrics_num_samples(&self) -> u32 {
        self.metrics_num_samples
    }

    /// `metrics.sample.window.ms` (default 30000).
    #[must_use]
    pub fn metrics_sample_window_ms(&self) -> u64 {
        self.metrics_sample_window_ms
    }

    /// `metrics.recording.level` (default `INFO`).
    #[must_use]
    pub fn metrics_recording_level(&self) -> RecordingLevel {
        self.metrics_recording_level
    }

    /// `enable.metrics.push` (default true; accepted, not used yet).
    #[must_use]
    pub fn enable_metrics_push(&self) -> bool {
        self.enable_metrics_push
    }
}

/// Every known key with its effective value (passwords `[hidden]`), then
/// the unknown key names.
impl fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerConfig")
            .field("values", &self.values)
            .field("unknown_keys", &self.unknown_keys)
            .finish()
    }
}

/// Java's startup log format (`AbstractConfig.logAll`): `ProducerConfig
/// values:` then one tab-indented `key = value` line per key, sorted, with
/// `null` for unset keys and `[hidden]` for passwords. Meant for
/// `log::info!("{config}")` when a producer starts.
impl fmt::Display for ProducerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "ProducerConfig values: ")?;
        for (k, v) in &self.values {
            writeln!(f, "\t{k} = {}", v.to_java_log_string())?;
        }
        Ok(())
    }
}

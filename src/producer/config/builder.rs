//! [`ProducerConfigBuilder`]: collects key/value strings under the Java key
//! names, typed setters included, and validates them all in `build()`.
//!
//! The builder keeps what the user gave, as Java's `originals()`: the rules
//! that depend on whether a key was set explicitly (idempotence, delivery
//! timeout, reconnect backoff, client id) look at exactly that.

use std::collections::BTreeMap;
use std::fmt;

use super::keys;
use super::types::{
    Acks, ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind, RecordingLevel,
    SerializerClass,
};
use super::value::HIDDEN;
use super::{validate, ProducerConfig};
use crate::error::Result;
use crate::record::CompressionType;

/// Builds a [`ProducerConfig`]: one setter per key (named after the Java key,
/// documented with its default), [`set`](Self::set) for any key in Java's
/// string form, and [`build`](Self::build), which runs every validation.
///
/// Setters never fail; a bad value is reported by `build()` with the key and
/// the value. A later setting of the same key replaces the earlier one.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProducerConfigBuilder {
    originals: BTreeMap<String, String>,
}

impl ProducerConfigBuilder {
    /// An empty builder: every key at Java's default, and no
    /// `bootstrap.servers` yet (`build()` fails until it is set). Most
    /// callers start from [`ProducerConfig::builder`] instead.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value` in Java's string form (`"all"`, `"true"`,
    /// `"a:1,b:2"`), exactly as a `.properties` file would. Unknown keys are
    /// kept and reported by `build()` as Java does.
    #[must_use]
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.originals.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets every `(key, value)` pair, as [`set`](Self::set) does.
    #[must_use]
    pub fn properties<I, K, V>(mut self, properties: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        for (k, v) in properties {
            self = self.set(k.as_ref(), v.as_ref());
        }
        self
    }

    /// Removes an earlier setting of `key`, so it takes its default again.
    #[must_use]
    pub fn unset(mut self, key: &str) -> Self {
        self.originals.remove(key);
        self
    }

    /// Validates everything and builds the config (see the
    /// [module docs](super) for the rules).
    ///
    /// # Errors
    ///
    /// [`Error::Config`](crate::Error::Config) naming the key, the value and
    /// the rule for a missing `bootstrap.servers`, a value its validator
    /// rejects, a broken cross-key rule or a Java class name with no Rust
    /// equivalent; [`Error::Unsupported`](crate::Error::Unsupported) for a
    /// `security.protocol` other than `PLAINTEXT`.
    pub fn build(&self) -> Result<ProducerConfig> {
        validate::build(&self.originals)
    }

    /// `bootstrap.servers` (required): the `host:port` entries.
    #[must_use]
    pub fn bootstrap_servers<I, S>(self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list: Vec<String> = servers.into_iter().map(|s| s.as_ref().to_owned()).collect();
        self.set(keys::BOOTSTRAP_SERVERS, &list.join(","))
    }

    /// `partitioner.class` (default unset: the built-in partitioning).
    #[must_use]
    pub fn partitioner_class(self, v: PartitionerKind) -> Self {
        match v.java_class() {
            Some(class) => self.set(keys::PARTITIONER_CLASS, class),
            None => self.unset(keys::PARTITIONER_CLASS),
        }
    }

    /// `client.id` (default: `producer-<transactional.id>` or `producer-<n>`).
    #[must_use]
    pub fn client_id(self, v: &str) -> Self {
        self.set(keys::CLIENT_ID, v)
    }

    /// `client.dns.lookup` (default `use_all_dns_ips`).
    #[must_use]
    pub fn client_dns_lookup(self, v: ClientDnsLookup) -> Self {
        self.set(keys::CLIENT_DNS_LOOKUP, v.as_str())
    }

    /// `acks` (default `all`).
    #[must_use]
    pub fn acks(self, v: Acks) -> Self {
        self.set(keys::ACKS, v.as_str())
    }

    /// `linger.ms` (default 5).
    #[must_use]
    pub fn linger_ms(self, v: u64) -> Self {
        self.set(keys::LINGER_MS, &v.to_string())
    }

    /// `batch.size` in bytes (default 16384; at most `i32::MAX`).
    #[must_use]
    pub fn batch_size(self, v: usize) -> Self {
        self.set(keys::BATCH_SIZE, &v.to_string())
    }

    /// `buffer.memory` in bytes (default 33554432).
    #[must_use]
    pub fn buffer_memory(self, v: u64) -> Self {
        self.set(keys::BUFFER_MEMORY, &v.to_string())
    }

    /// `max.block.ms` (default 60000).
    #[must_use]
    pub fn max_block_ms(self, v: u64) -> Self {
        self.set(keys::MAX_BLOCK_MS, &v.to_string())
    }

    /// `max.request.size` in bytes (default 1048576; at most `i32::MAX`).
    #[must_use]
    pub fn max_request_size(self, v: usize) -> Self {
        self.set(keys::MAX_REQUEST_SIZE, &v.to_string())
    }

    /// `compression.type` (default `none`).
    #[must_use]
    pub fn compression_type(self, v: CompressionType) -> Self {
        self.set(keys::COMPRESSION_TYPE, v.name())
    }

    /// `compression.gzip.level` (default -1; 1 to 9, or -1).
    #[must_use]
    pub fn compression_gzip_level(self, v: i32) -> Self {
        self.set(keys::COMPRESSION_GZIP_LEVEL, &v.to_string())
    }

    /// `compression.lz4.level` (default 9; 1 to 17).
    #[must_use]
    pub fn compression_lz4_level(self, v: i32) -> Self {
        self.set(keys::COMPRESSION_LZ4_LEVEL, &v.to_string())
    }

    /// `compression.zstd.level` (default 3; -131072 to 22).
    #[must_use]
    pub fn compression_zstd_level(self, v: i32) -> Self {
        self.set(keys::COMPRESSION_ZSTD_LEVEL, &v.to_string())
    }

    /// `retries` (default 2147483647; at most `i32::MAX`).
    #[must_use]
    pub fn retries(self, v: u32) -> Self {
        self.set(keys::RETRIES, &v.to_string())
    }

    /// `retry.backoff.ms` (default 100).
    #[must_use]
    pub fn retry_backoff_ms(self, v: u64) -> Self {
        self.set(keys::RETRY_BACKOFF_MS, &v.to_string())
    }

    /// `retry.backoff.max.ms` (default 1000).
    #[must_use]
    pub fn retry_backoff_max_ms(self, v: u64) -> Self {
        self.set(keys::RETRY_BACKOFF_MAX_MS, &v.to_string())
    }

    /// `delivery.timeout.ms` (default 120000; at least `linger.ms + request.timeout.ms`, at most `i32::MAX`).
    #[must_use]
    pub fn delivery_timeout_ms(self, v: u64) -> Self {
        self.set(keys::DELIVERY_TIMEOUT_MS, &v.to_string())
    }

    /// `request.timeout.ms` (default 30000; at most `i32::MAX`).
    #[must_use]
    pub fn request_timeout_ms(self, v: u64) -> Self {
        self.set(keys::REQUEST_TIMEOUT_MS, &v.to_string())
    }

    /// `max.in.flight.requests.per.connection` (default 5; at most 5 with idempotence).
    #[must_use]
    pub fn max_in_flight_requests_per_connection(self, v: usize) -> Self {
        self.set(keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, &v.to_string())
    }

    /// `enable.idempotence` (default true).
    #[must_use]
    pub fn enable_idempotence(self, v: bool) -> Self {
        self.set(keys::ENABLE_IDEMPOTENCE, &v.to_string())
    }

    /// `transactional.id` (default unset; requires idempotence).
    #[must_use]
    pub fn transactional_id(self, v: &str) -> Self {
        self.set(keys::TRANSACTIONAL_ID, v)
    }

    /// `transaction.timeout.ms` (default 60000).
    #[must_use]
    pub fn transaction_timeout_ms(self, v: i32) -> Self {
        self.set(keys::TRANSACTION_TIMEOUT_MS, &v.to_string())
    }

    /// `transaction.two.phase.commit.enable` (default false).
    #[must_use]
    pub fn transaction_two_phase_commit_enable(self, v: bool) -> Self {
        self.set(keys::TRANSACTION_TWO_PHASE_COMMIT_ENABLE, &v.to_string())
    }

    /// `partitioner.ignore.keys` (default false).
    #[must_use]
    pub fn partitioner_ignore_keys(self, v: bool) -> Self {
        self.set(keys::PARTITIONER_IGNORE_KEYS, &v.to_string())
    }

    /// `partitioner.adaptive.partitioning.enable` (default true).
    #[must_use]
    pub fn partitioner_adaptive_partitioning_enable(self, v: bool) -> Self {
        self.set(
            keys::PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE,
            &v.to_string(),
        )
    }

    /// `partitioner.availability.timeout.ms` (default 0: disabled).
    #[must_use]
    pub fn partitioner_availability_timeout_ms(self, v: u64) -> Self {
        self.set(keys::PARTITIONER_AVAILABILITY_TIMEOUT_MS, &v.to_string())
    }

    /// `key.serializer` (default unset; serializers are normally given in code).
    #[must_use]
    pub fn key_serializer(self, v: SerializerClass) -> Self {
        self.set(keys::KEY_SERIALIZER, v.java_class())
    }

    /// `value.serializer` (default unset; serializers are normally given in code).
    #[must_use]
    pub fn value_serializer(self, v: SerializerClass) -> Self {
        self.set(keys::VALUE_SERIALIZER, v.java_class())
    }

    /// `metadata.max.age.ms` (default 300000).
    #[must_use]
    pub fn metadata_max_age_ms(self, v: u64) -> Self {
        self.set(keys::METADATA_MAX_AGE_MS, &v.to_string())
    }

    /// `metadata.max.idle.ms` (default 300000; at least 5000).
    #[must_use]
    pub fn metadata_max_idle_ms(self, v: u64) -> Self {
        self.set(keys::METADATA_MAX_IDLE_MS, &v.to_string())
    }

    /// `metadata.recovery.strategy` (default `rebootstrap`).
    #[must_use]
    pub fn metadata_recovery_strategy(self, v: MetadataRecoveryStrategy) -> Self {
        self.set(keys::METADATA_RECOVERY_STRATEGY, v.as_str())
    }

    /// `metadata.recovery.rebootstrap.trigger.ms` (default 300000).
    #[must_use]
    pub fn metadata_recovery_rebootstrap_trigger_ms(self, v: u64) -> Self {
        self.set(
            keys::METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS,
            &v.to_string(),
        )
    }

    /// `connections.max.idle.ms` (default 540000; negative: never close).
    #[must_use]
    pub fn connections_max_idle_ms(self, v: i64) -> Self {
        self.set(keys::CONNECTIONS_MAX_IDLE_MS, &v.to_string())
    }

    /// `reconnect.backoff.ms` (default 50).
    #[must_use]
    pub fn reconnect_backoff_ms(self, v: u64) -> Self {
        self.set(keys::RECONNECT_BACKOFF_MS, &v.to_string())
    }

    /// `reconnect.backoff.max.ms` (default 1000, or `reconnect.backoff.ms` when only that is set).
    #[must_use]
    pub fn reconnect_backoff_max_ms(self, v: u64) -> Self {
        self.set(keys::RECONNECT_BACKOFF_MAX_MS, &v.to_string())
    }

    /// `socket.connection.setup.timeout.ms` (default 10000).
    #[must_use]
    pub fn socket_connection_setup_timeout_ms(self, v: i64) -> Self {
        self.set(keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MS, &v.to_string())
    }

    /// `socket.connection.setup.timeout.max.ms` (default 30000).
    #[must_use]
    pub fn socket_connection_setup_timeout_max_ms(self, v: i64) -> Self {
        self.set(keys::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS, &v.to_string())
    }

    /// `send.buffer.bytes` (default 131072; -1 for the OS default).
    #[must_use]
    pub fn send_buffer_bytes(self, v: i32) -> Self {
        self.set(keys::SEND_BUFFER_BYTES, &v.to_string())
    }

    /// `receive.buffer.bytes` (default 32768; -1 for the OS default).
    #[must_use]
    pub fn receive_buffer_bytes(self, v: i32) -> Self {
        self.set(keys::RECEIVE_BUFFER_BYTES, &v.to_string())
    }

    /// `metrics.num.samples` (default 2; at least 1).
    #[must_use]
    pub fn metrics_num_samples(self, v: u32) -> Self {
        self.set(keys::METRICS_NUM_SAMPLES, &v.to_string())
    }

    /// `metrics.sample.window.ms` (default 30000).
    #[must_use]
    pub fn metrics_sample_window_ms(self, v: u64) -> Self {
        self.set(keys::METRICS_SAMPLE_WINDOW_MS, &v.to_string())
    }

    /// `metrics.recording.level` (default `INFO`).
    #[must_use]
    pub fn metrics_recording_level(self, v: RecordingLevel) -> Self {
        self.set(keys::METRICS_RECORDING_LEVEL, v.as_str())
    }

    /// `enable.metrics.push` (default true).
    #[must_use]
    pub fn enable_metrics_push(self, v: bool) -> Self {
        self.set(keys::ENABLE_METRICS_PUSH, &v.to_string())
    }
}

/// Shows the keys set so far; password values read `[hidden]`.
impl fmt::Debug for ProducerConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.originals {
            if keys::is_password(k) {
                m.entry(k, &HIDDEN);
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

//! `build()`: parse every key, run Java's validators, then Java's
//! post-processing and cross-key rules, in Java's order:
//!
//! 1. `ConfigDef.parse`: each key in definition order, the first bad value
//!    (or missing `bootstrap.servers`) is the error;
//! 2. `ProducerConfig.postProcessParsedConfig`: backoff warnings, the
//!    reconnect backoff override, `postProcessAndValidateIdempotenceConfigs`,
//!    `maybeOverrideClientId`;
//! 3. what the `KafkaProducer` constructor checks: class names,
//!    `configureDeliveryTimeout`, the compression codec and the bootstrap
//!    addresses (`ClientUtils.parseAndValidateAddresses`, without DNS).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::keys::{self as k, DefaultValue as D};
use super::types::{
    Acks, BootstrapServer, ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind,
    RecordingLevel, SerializerClass, ROUND_ROBIN_PARTITIONER,
};
use super::value::{invalid, parse_and_check, Value};
use super::ProducerConfig;
use crate::error::{Error, Result};
use crate::record::{Compression, CompressionType};

/// Java's `PRODUCER_CLIENT_ID_SEQUENCE`: numbers `producer-1`, `producer-2`…
/// for configs built without `client.id` or `transactional.id`.
static CLIENT_ID_SEQUENCE: AtomicU64 = AtomicU64::new(1);

/// Java's `MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE` (the broker
/// keeps the last 5 batches per producer).
const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: i32 = 5;

/// The parsed values, with typed reads. Every key is in the map after
/// parsing, typed as its definition says, so a read of the wrong type is a
/// bug in this module, never a user error.
struct Values(BTreeMap<&'static str, Value>);

impl Values {
    fn get(&self, key: &str) -> &Value {
        // Invariant: parse() inserts every defined key.
        self.0.get(key).unwrap_or(&Value::Null)
    }
    fn bool(&self, key: &str) -> bool {
        match self.get(key) {
            Value::Bool(b) => *b,
            v => unreachable!("{key} is a BOOLEAN key, got {v:?}"),
        }
    }
    fn int(&self, key: &str) -> i32 {
        match self.get(key) {
            Value::Int(n) => *n,
            v => unreachable!("{key} is an INT key, got {v:?}"),
        }
    }
    fn long(&self, key: &str) -> i64 {
        match self.get(key) {
            Value::Long(n) => *n,
            v => unreachable!("{key} is a LONG key, got {v:?}"),
        }
    }
    /// A LONG key validated `atLeast(0)`.
    fn non_negative(&self, key: &str) -> u64 {
        self.long(key).unsigned_abs()
    }
    fn string(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Value::Str(s) | Value::Class(s) => Some(s),
            Value::Null => None,
            v => unreachable!("{key} is a STRING key, got {v:?}"),
        }
    }
    fn list(&self, key: &str) -> &[String] {
        match self.get(key) {
            Value::List(l) => l,
            Value::Null => &[],
            v => unreachable!("{key} is a LIST key, got {v:?}"),
        }
    }
    fn set(&mut self, key: &'static str, v: Value) {
        self.0.insert(key, v);
    }
}

/// Builds a config from the user's key/value strings (Java's `originals`).
pub(super) fn build(originals: &BTreeMap<String, String>) -> Result<ProducerConfig> {
    let unknown_keys = unknown_keys(originals);
    let mut v = parse(originals)?;
    let set = |key: &str| originals.contains_key(key);

    let protocol = v.string(k::SECURITY_PROTOCOL).unwrap_or("PLAINTEXT");
    if !protocol.eq_ignore_ascii_case("PLAINTEXT") {
        return Err(Error::Unsupported(format!(
            "security.protocol {protocol} is not supported yet: only PLAINTEXT is"
        )));
    }

    warn_disabling_exponential_backoff(&v);
    if set(k::RECONNECT_BACKOFF_MS) && !set(k::RECONNECT_BACKOFF_MAX_MS) {
        log::warn!(
            "Disabling exponential reconnect backoff because {} is set, but {} is not.",
            k::RECONNECT_BACKOFF_MS,
            k::RECONNECT_BACKOFF_MAX_MS
        );
        let base = v.get(k::RECONNECT_BACKOFF_MS).clone();
        v.set(k::RECONNECT_BACKOFF_MAX_MS, base);
    }
    let (acks, idempotence) = idempotence(&mut v, &set)?;
    let client_id = client_id(&mut v, &set);

    // What the KafkaProducer constructor checks.
    let partitioner = partitioner(&v)?;
    let key_serializer = serializer(&v, k::KEY_SERIALIZER)?;
    let value_serializer = serializer(&v, k::VALUE_SERIALIZER)?;
    reject_classes(&v)?;
    let compression = compression(&v)?;
    let delivery_timeout_ms = delivery_timeout(&mut v, &set)?;
    let bootstrap = v
        .list(k::BOOTSTRAP_SERVERS)
        .iter()
        .map(|url| {
            BootstrapServer::parse(url).map_err(|reason| invalid(k::BOOTSTRAP_SERVERS, url, reason))
        })
        .collect::<Result<Vec<_>>>()?;

    let enum_of = |key: &str| v.string(key).unwrap_or_default().to_owned();
    Ok(ProducerConfig {
        bootstrap_servers: v.list(k::BOOTSTRAP_SERVERS).to_vec(),
        bootstrap,
        client_id,
        // The validators admit only the names these parse.
        client_dns_lookup: ClientDnsLookup::from_name(&enum_of(k::CLIENT_DNS_LOOKUP))
            .unwrap_or_default(),
        acks,
        linger_ms: v.non_negative(k::LINGER_MS),
        batch_size: to_usize(v.int(k::BATCH_SIZE)),
        buffer_memory: usize::try_from(v.non_negative(k::BUFFER_MEMORY)).unwrap_or(usize::MAX),
        max_block_ms: v.non_negative(k::MAX_BLOCK_MS),
        max_request_size: to_usize(v.int(k::MAX_REQUEST_SIZE)),
        compression,
        compression_gzip_level: v.int(k::COMPRESSION_GZIP_LEVEL),
        compression_lz4_level: v.int(k::COMPRESSION_LZ4_LEVEL),
        compression_zstd_level: v.int(k::COMPRESSION_ZSTD_LEVEL),
        retries: v.int(k::RETRIES).unsigned_abs(),
        retry_backoff_ms: v.non_negative(k::RETRY_BACKOFF_MS),
        retry_backoff_max_ms: v.non_negative(k::RETRY_BACKOFF_MAX_MS),
        delivery_timeout_ms,
        request_timeout_ms: u64::from(v.int(k::REQUEST_TIMEOUT_MS).unsigned_abs()),
        max_in_flight_requests_per_connection: to_usize(
            v.int(k::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION),
        ),
        enable_idempotence: idempotence,
        transactional_id: v.string(k::TRANSACTIONAL_ID).map(str::to_owned),
        transaction_timeout_ms: v.int(k::TRANSACTION_TIMEOUT_MS),
        transaction_two_phase_commit_enable: v.bool(k::TRANSACTION_TWO_PHASE_COMMIT_ENABLE),
        partitioner_class: partitioner,
        partitioner_ignore_keys: v.bool(k::PARTITIONER_IGNORE_KEYS),
        partitioner_adaptive_partitioning_enable: v
            .bool(k::PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE),
        partitioner_availability_timeout_ms: v.non_negative(k::PARTITIONER_AVAILABILITY_TIMEOUT_MS),
        key_serializer,
        value_serializer,
        metadata_max_age_ms: v.non_negative(k::METADATA_MAX_AGE_MS),
        metadata_max_idle_ms: v.non_negative(k::METADATA_MAX_IDLE_MS),
        metadata_recovery_strategy: MetadataRecoveryStrategy::from_name(&enum_of(
            k::METADATA_RECOVERY_STRATEGY,
        ))
        .unwrap_or_default(),
        metadata_recovery_rebootstrap_trigger_ms: v
            .non_negative(k::METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS),
        connections_max_idle_ms: v.long(k::CONNECTIONS_MAX_IDLE_MS),
        reconnect_backoff_ms: v.non_negative(k::RECONNECT_BACKOFF_MS),
        reconnect_backoff_max_ms: v.non_negative(k::RECONNECT_BACKOFF_MAX_MS),
        socket_connection_setup_timeout_ms: v.long(k::SOCKET_CONNECTION_SETUP_TIMEOUT_MS),
        socket_connection_setup_timeout_max_ms: v.long(k::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS),
        send_buffer_bytes: v.int(k::SEND_BUFFER_BYTES),
        receive_buffer_bytes: v.int(k::RECEIVE_BUFFER_BYTES),
        metric_reporters: v.list(k::METRIC_REPORTERS).to_vec(),
        metrics_num_samples: v.int(k::METRICS_NUM_SAMPLES).unsigned_abs(),
        metrics_sample_window_ms: v.non_negative(k::METRICS_SAMPLE_WINDOW_MS),
        metrics_recording_level: RecordingLevel::from_name(&enum_of(k::METRICS_RECORDING_LEVEL))
            .unwrap_or_default(),
        enable_metrics_push: v.bool(k::ENABLE_METRICS_PUSH),
        interceptor_classes: v.list(k::INTERCEPTOR_CLASSES).to_vec(),
        unknown_keys,
        values: v.0,
    })
}

/// A non-negative INT as `usize` (validated `atLeast(0)` or more).
fn to_usize(n: i32) -> usize {
    usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX)
}

/// The keys no definition knows, each logged as Java does.
fn unknown_keys(originals: &BTreeMap<String, String>) -> Vec<String> {
    originals
        .keys()
        .filter(|key| k::find(key).is_none() && !key.starts_with(k::METRICS_CONTEXT_PREFIX))
        .inspect(|key| {
            log::warn!("The configuration '{key}' was supplied but isn't a known config.");
        })
        .cloned()
        .collect()
}

/// Java's `ConfigDef.parse`: every key, in definition order.
fn parse(originals: &BTreeMap<String, String>) -> Result<Values> {
    let mut values = BTreeMap::new();
    for def in k::all_defs() {
        let value = match (originals.get(def.name), def.default) {
            (Some(raw), _) => parse_and_check(def, raw)?,
            (None, D::Required) => {
                return Err(invalid(
                    def.name,
                    "null",
                    format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        def.name
                    ),
                ))
            }
            (None, D::Null) => Value::Null,
            (None, D::Value(default)) => parse_and_check(def, default)?,
        };
        values.insert(def.name, value);
    }
    Ok(Values(values))
}

/// `CommonClientConfigs.warnDisablingExponentialBackoff`.
fn warn_disabling_exponential_backoff(v: &Values) {
    for (base, max, what) in [
        (k::RETRY_BACKOFF_MS, k::RETRY_BACKOFF_MAX_MS, "backoff"),
        (
            k::SOCKET_CONNECTION_SETUP_TIMEOUT_MS,
            k::SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS,
            "connection setup timeout",
        ),
    ] {
        let (b, m) = (v.long(base), v.long(max));
        if b > m {
            log::warn!(
                "Configuration '{base}' with value '{b}' is greater than configuration '{max}' \
                 with value '{m}'. A static {what} with value '{m}' will be applied."
            );
        }
    }
}

/// `postProcessAndValidateIdempotenceConfigs`: normalises `acks`, checks or
/// disables idempotence, checks `transactional.id` and the two-phase commit
/// rule. Returns the acks and whether idempotence stays enabled.
fn idempotence(v: &mut Values, set: &dyn Fn(&str) -> bool) -> Result<(Acks, bool)> {
    let acks = match v.string(k::ACKS).unwrap_or("all") {
        "0" => Acks::Zero,
        "1" => Acks::One,
        _ => Acks::All, // "all" or "-1": the validator admits nothing else
    };
    v.set(k::ACKS, Value::Str(acks.as_str().to_owned()));
    let explicit = set(k::ENABLE_IDEMPOTENCE);
    let mut enabled = v.bool(k::ENABLE_IDEMPOTENCE);
    if enabled {
        let mut disable = false;
        let retries = v.int(k::RETRIES);
        if retries == 0 {
            if explicit {
                return Err(invalid(
                    k::RETRIES,
                    "0",
                    "Must set retries to non-zero when using the idempotent producer.",
                ));
            }
            log::info!("Idempotence will be disabled because retries is set to 0.");
            disable = true;
        }
        if acks != Acks::All {
            if explicit {
                return Err(invalid(
                    k::ACKS,
                    acks.as_str(),
                    "Must set acks to all in order to use the idempotent producer. \
                     Otherwise we cannot guarantee idempotence.",
                ));
            }
            log::info!(
                "Idempotence will be disabled because acks is set to {}, not set to 'all'.",
                acks.as_i16()
            );
            disable = true;
        }
        // Since Kafka 4.0 this is an error even when idempotence is only the
        // default (3.x disabled idempotence with a warning instead).
        let in_flight = v.int(k::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION);
        if in_flight > MAX_IN_FLIGHT_FOR_IDEMPOTENCE {
            return Err(invalid(
                k::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
                &in_flight.to_string(),
                format!(
                    "To use the idempotent producer, max.in.flight.requests.per.connection must \
                     be set to at most 5. Current value is {in_flight}."
                ),
            ));
        }
        if disable {
            v.set(k::ENABLE_IDEMPOTENCE, Value::Bool(false));
            enabled = false;
        }
    }
    if !enabled && set(k::TRANSACTIONAL_ID) {
        return Err(invalid(
            k::TRANSACTIONAL_ID,
            v.string(k::TRANSACTIONAL_ID).unwrap_or("null"),
            "Cannot set a transactional.id without also enabling idempotence.",
        ));
    }
    if v.bool(k::TRANSACTION_TWO_PHASE_COMMIT_ENABLE) && set(k::TRANSACTION_TIMEOUT_MS) {
        return Err(invalid(
            k::TRANSACTION_TIMEOUT_MS,
            &v.int(k::TRANSACTION_TIMEOUT_MS).to_string(),
            "Cannot set transaction.timeout.ms when transaction.two.phase.commit.enable is set \
             to true. Transactions will not expire with two-phase commit enabled.",
        ));
    }
    Ok((acks, enabled))
}

/// `maybeOverrideClientId`: the user's `client.id` (even empty), else
/// `producer-<transactional.id>`, else `producer-<n>`.
fn client_id(v: &mut Values, set: &dyn Fn(&str) -> bool) -> String {
    let id = if set(k::CLIENT_ID) {
        v.string(k::CLIENT_ID).unwrap_or_default().to_owned()
    } else if let Some(tx) = v.string(k::TRANSACTIONAL_ID) {
        format!("producer-{tx}")
    } else {
        format!(
            "producer-{}",
            CLIENT_ID_SEQUENCE.fetch_add(1, Ordering::Relaxed)
        )
    };
    v.set(k::CLIENT_ID, Value::Str(id.clone()));
    id
}

/// The error for a Java class name this crate has no equivalent for.
fn class_error(key: &str, class: &str, what: &str) -> Error {
    invalid(
        key,
        class,
        format!("Java classes cannot be loaded from Rust; {what}"),
    )
}

fn partitioner(v: &Values) -> Result<PartitionerKind> {
    match v.string(k::PARTITIONER_CLASS) {
        None | Some("") => Ok(PartitionerKind::BuiltIn),
        Some(ROUND_ROBIN_PARTITIONER) => Ok(PartitionerKind::RoundRobin),
        Some(
            c @ ("org.apache.kafka.clients.producer.internals.DefaultPartitioner"
            | "org.apache.kafka.clients.producer.UniformStickyPartitioner"),
        ) => Err(invalid(
            k::PARTITIONER_CLASS,
            c,
            "this partitioner was removed in Kafka 4.0: leave partitioner.class unset for the \
             default partitioning (and set partitioner.ignore.keys=true for uniform sticky \
             partitioning)",
        )),
        Some(c) => Err(class_error(
            k::PARTITIONER_CLASS,
            c,
            "only org.apache.kafka.clients.producer.RoundRobinPartitioner is built in; give a \
             custom partitioner in code (a Partitioner implementation) instead",
        )),
    }
}

fn serializer(v: &Values, key: &'static str) -> Result<Option<SerializerClass>> {
    match v.string(key) {
        None | Some("") => Ok(None),
        Some(c) => SerializerClass::from_java_class(c)
            .map(Some)
            .ok_or_else(|| {
                class_error(
                    key,
                    c,
                    "only Java's built-in serializers are recognised here; give the serializer in \
                 code (a Serializer implementation) instead",
                )
            }),
    }
}

/// Class-list keys with no Rust equivalent: interceptors, metric reporters
/// other than JmxReporter, config providers.
fn reject_classes(v: &Values) -> Result<()> {
    if let Some(c) = v.list(k::INTERCEPTOR_CLASSES).first() {
        return Err(class_error(
            k::INTERCEPTOR_CLASSES,
            c,
            "give interceptors in code (ProducerInterceptor implementations) instead",
        ));
    }
    if let Some(c) = v
        .list(k::METRIC_REPORTERS)
        .iter()
        .find(|c| *c != k::JMX_REPORTER)
    {
        return Err(class_error(
            k::METRIC_REPORTERS,
            c,
            "only org.apache.kafka.common.metrics.JmxReporter is accepted (and ignored: there \
             is no JMX); metric reporters are configured in code",
        ));
    }
    if let Some(c) = v.list(k::CONFIG_PROVIDERS).first() {
        return Err(class_error(
            k::CONFIG_PROVIDERS,
            c,
            "config providers are not supported: resolve the values before building the config",
        ));
    }
    Ok(())
}

/// `configureCompression`: the codec with its `compression.<type>.level`.
fn compression(v: &Values) -> Result<Compression> {
    // The validator admits only the five codec names.
    let kind = CompressionType::from_name(v.string(k::COMPRESSION_TYPE).unwrap_or("none"))
        .unwrap_or_default();
    match kind {
        CompressionType::None => Ok(Compression::none()),
        CompressionType::Gzip => Compression::gzip(v.int(k::COMPRESSION_GZIP_LEVEL)),
        CompressionType::Snappy => Ok(Compression::snappy()),
        CompressionType::Lz4 => Compression::lz4(v.int(k::COMPRESSION_LZ4_LEVEL)),
        CompressionType::Zstd => Compression::zstd(v.int(k::COMPRESSION_ZSTD_LEVEL)),
    }
}

/// `configureDeliveryTimeout`: `delivery.timeout.ms` must be at least
/// `linger.ms + request.timeout.ms`; an explicit smaller value is an error, a
/// defaulted one is raised (with a warning).
fn delivery_timeout(v: &mut Values, set: &dyn Fn(&str) -> bool) -> Result<u64> {
    let delivery = i64::from(v.int(k::DELIVERY_TIMEOUT_MS));
    let max = i64::from(i32::MAX);
    let linger = v.long(k::LINGER_MS).min(max);
    let request = i64::from(v.int(k::REQUEST_TIMEOUT_MS));
    let floor = (linger + request).min(max);
    if delivery >= floor {
        return Ok(delivery.unsigned_abs());
    }
    if set(k::DELIVERY_TIMEOUT_MS) {
        return Err(invalid(
            k::DELIVERY_TIMEOUT_MS,
            &delivery.to_string(),
            "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms",
        ));
    }
    log::warn!(
        "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms. \
         Setting it to {floor}."
    );
    // floor <= i32::MAX by the min above.
    v.set(
        k::DELIVERY_TIMEOUT_MS,
        Value::Int(i32::try_from(floor).unwrap_or(i32::MAX)),
    );
    Ok(floor.unsigned_abs())
}

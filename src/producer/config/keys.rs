//! Every configuration key the Java 4.3 producer defines, with its type,
//! default and validator, in Java's definition order (`ProducerConfig`'s
//! `ConfigDef`, with `CommonClientConfigs`, `SslConfigs` and `SaslConfigs`).
//!
//! The public constants name the producer keys; the crate-internal tables
//! drive parsing, validation, `to_properties` and `Debug`, so a key
//! has one definition. Defaults are written in Java's string form and go
//! through the same parser and validator as user values (a unit test checks
//! that every default is valid, as Java's `ConfigKey` constructor does).

/// `bootstrap.servers` (required): `host:port` list of brokers to start from.
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
/// `client.dns.lookup` (default `use_all_dns_ips`).
pub const CLIENT_DNS_LOOKUP: &str = "client.dns.lookup";
/// `buffer.memory` (default 33554432).
pub const BUFFER_MEMORY: &str = "buffer.memory";
/// `retries` (default 2147483647).
pub const RETRIES: &str = "retries";
/// `acks` (default `all`).
pub const ACKS: &str = "acks";
/// `compression.type` (default `none`).
pub const COMPRESSION_TYPE: &str = "compression.type";
/// `compression.gzip.level` (default -1).
pub const COMPRESSION_GZIP_LEVEL: &str = "compression.gzip.level";
/// `compression.lz4.level` (default 9).
pub const COMPRESSION_LZ4_LEVEL: &str = "compression.lz4.level";
/// `compression.zstd.level` (default 3).
pub const COMPRESSION_ZSTD_LEVEL: &str = "compression.zstd.level";
/// `batch.size` (default 16384).
pub const BATCH_SIZE: &str = "batch.size";
/// `partitioner.adaptive.partitioning.enable` (default true).
pub const PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE: &str =
    "partitioner.adaptive.partitioning.enable";
/// `partitioner.availability.timeout.ms` (default 0).
pub const PARTITIONER_AVAILABILITY_TIMEOUT_MS: &str = "partitioner.availability.timeout.ms";
/// `partitioner.ignore.keys` (default false).
pub const PARTITIONER_IGNORE_KEYS: &str = "partitioner.ignore.keys";
/// `linger.ms` (default 5 since Kafka 4.0).
pub const LINGER_MS: &str = "linger.ms";
/// `delivery.timeout.ms` (default 120000).
pub const DELIVERY_TIMEOUT_MS: &str = "delivery.timeout.ms";
/// `client.id` (default: `producer-<transactional.id>` or `producer-<n>`).
pub const CLIENT_ID: &str = "client.id";
/// `send.buffer.bytes` (default 131072; -1 for the OS default).
pub const SEND_BUFFER_BYTES: &str = "send.buffer.bytes";
/// `receive.buffer.bytes` (default 32768; -1 for the OS default).
pub const RECEIVE_BUFFER_BYTES: &str = "receive.buffer.bytes";
/// `max.request.size` (default 1048576).
pub const MAX_REQUEST_SIZE: &str = "max.request.size";
/// `reconnect.backoff.ms` (default 50).
pub const RECONNECT_BACKOFF_MS: &str = "reconnect.backoff.ms";
/// `reconnect.backoff.max.ms` (default 1000).
pub const RECONNECT_BACKOFF_MAX_MS: &str = "reconnect.backoff.max.ms";
/// `retry.backoff.ms` (default 100).
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
/// `retry.backoff.max.ms` (default 1000).
pub const RETRY_BACKOFF_MAX_MS: &str = "retry.backoff.max.ms";
/// `enable.metrics.push` (default true).
pub const ENABLE_METRICS_PUSH: &str = "enable.metrics.push";
/// `max.block.ms` (default 60000).
pub const MAX_BLOCK_MS: &str = "max.block.ms";
/// `request.timeout.ms` (default 30000).
pub const REQUEST_TIMEOUT_MS: &str = "request.timeout.ms";
/// `metadata.max.age.ms` (default 300000).
pub const METADATA_MAX_AGE_MS: &str = "metadata.max.age.ms";
/// `metadata.max.idle.ms` (default 300000, at least 5000).
pub const METADATA_MAX_IDLE_MS: &str = "metadata.max.idle.ms";
/// `metrics.sample.window.ms` (default 30000).
pub const METRICS_SAMPLE_WINDOW_MS: &str = "metrics.sample.window.ms";
/// `metrics.num.samples` (default 2).
pub const METRICS_NUM_SAMPLES: &str = "metrics.num.samples";
/// `metrics.recording.level` (default `INFO`).
pub const METRICS_RECORDING_LEVEL: &str = "metrics.recording.level";
/// `metric.reporters` (default `org.apache.kafka.common.metrics.JmxReporter`).
pub const METRIC_REPORTERS: &str = "metric.reporters";
/// `max.in.flight.requests.per.connection` (default 5).
pub const MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION: &str = "max.in.flight.requests.per.connection";
/// `key.serializer` (optional in Rust: serializers are given in code).
pub const KEY_SERIALIZER: &str = "key.serializer";
/// `value.serializer` (optional in Rust: serializers are given in code).
pub const VALUE_SERIALIZER: &str = "value.serializer";
/// `socket.connection.setup.timeout.ms` (default 10000).
pub const SOCKET_CONNECTION_SETUP_TIMEOUT_MS: &str = "socket.connection.setup.timeout.ms";
/// `socket.connection.setup.timeout.max.ms` (default 30000).
pub const SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS: &str = "socket.connection.setup.timeout.max.ms";
/// `connections.max.idle.ms` (default 540000).
pub const CONNECTIONS_MAX_IDLE_MS: &str = "connections.max.idle.ms";
/// `partitioner.class` (default unset: the built-in partitioning).
pub const PARTITIONER_CLASS: &str = "partitioner.class";
/// `interceptor.classes` (default empty).
pub const INTERCEPTOR_CLASSES: &str = "interceptor.classes";
/// `security.protocol` (default `PLAINTEXT`, the only one supported yet).
pub const SECURITY_PROTOCOL: &str = "security.protocol";
/// `security.providers` (default unset).
pub const SECURITY_PROVIDERS: &str = "security.providers";
/// `enable.idempotence` (default true).
pub const ENABLE_IDEMPOTENCE: &str = "enable.idempotence";
/// `transaction.timeout.ms` (default 60000).
pub const TRANSACTION_TIMEOUT_MS: &str = "transaction.timeout.ms";
/// `transactional.id` (default unset).
pub const TRANSACTIONAL_ID: &str = "transactional.id";
/// `transaction.two.phase.commit.enable` (default false).
pub const TRANSACTION_TWO_PHASE_COMMIT_ENABLE: &str = "transaction.two.phase.commit.enable";
/// `metadata.recovery.strategy` (default `rebootstrap` since Kafka 4.0).
pub const METADATA_RECOVERY_STRATEGY: &str = "metadata.recovery.strategy";
/// `metadata.recovery.rebootstrap.trigger.ms` (default 300000).
pub const METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS: &str =
    "metadata.recovery.rebootstrap.trigger.ms";
/// `config.providers` (default empty).
pub const CONFIG_PROVIDERS: &str = "config.providers";

/// Keys starting with this prefix are metric context tags in Java
/// (`metrics.context.<tag>`); they are accepted and ignored.
pub const METRICS_CONTEXT_PREFIX: &str = "metrics.context.";

/// Java's `ConfigDef.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl Type {
    /// The name Java prints in "Not a number of type INT".
    pub(crate) fn java_name(self) -> &'static str {
        match self {
            Type::Boolean => "BOOLEAN",
            Type::String => "STRING",
            Type::Int => "INT",
            Type::Short => "SHORT",
            Type::Long => "LONG",
            Type::Double => "DOUBLE",
            Type::List => "LIST",
            Type::Class => "CLASS",
            Type::Password => "PASSWORD",
        }
    }
}

/// A key's default value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum DefaultValue {
    /// No default: the key must be given (Java `NO_DEFAULT_VALUE`).
    Required,
    /// Java `null`.
    Null,
    /// A value in Java's string form.
    Value(&'static str),
}

/// Java's validators, as used by the producer's keys.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    None,
    /// `Range.atLeast(min)` on an integer type.
    AtLeast(i64),
    /// `Range.between(min, max)` on an integer type.
    Between(i64, i64),
    /// `Range.between(min, max)` on a double.
    BetweenF(f64, f64),
    /// `ValidString.in(...)`: exact match.
    OneOf(&'static [&'static str]),
    /// `CaseInsensitiveValidString.in(...)`.
    OneOfIgnoreCase(&'static [&'static str]),
    /// `NonEmptyString`.
    NonEmptyString,
    /// `ValidList.anyNonDuplicateValues(isEmptyAllowed, false)`.
    ListNoDuplicates {
        empty_ok: bool,
    },
    /// `GzipCompression`'s level validator: 1..=9 or -1.
    GzipLevel,
}

/// One key's definition.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyDef {
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    pub(crate) default: DefaultValue,
    pub(crate) check: Check,
}

const fn def(name: &'static str, ty: Type, default: DefaultValue, check: Check) -> KeyDef {
    KeyDef {
        name,
        ty,
        default,
        check,
    }
}

use Check as C;
use DefaultValue::{Null, Required, Value as V};
use Type as T;

const COMPRESSION_TYPES: &[&str] = &["none", "gzip", "snappy", "lz4", "zstd"];
const SECURITY_PROTOCOLS: &[&str] = &["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
const NON_DUP: Check = Check::ListNoDuplicates { empty_ok: true };

/// The producer's own keys, in `ProducerConfig`'s definition order (Java
/// parses, and so reports the first bad value, in this order).
#[rustfmt::skip]
pub(crate) const PRODUCER_DEFS: &[KeyDef] = &[
    def(BOOTSTRAP_SERVERS, T::List, Required, C::ListNoDuplicates { empty_ok: false }),
    def(CLIENT_DNS_LOOKUP, T::String, V("use_all_dns_ips"),
        C::OneOf(&["use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"])),
    def(BUFFER_MEMORY, T::Long, V("33554432"), C::AtLeast(0)),
    def(RETRIES, T::Int, V("2147483647"), C::Between(0, i32::MAX as i64)),
    def(ACKS, T::String, V("all"), C::OneOf(&["all", "-1", "0", "1"])),
    def(COMPRESSION_TYPE, T::String, V("none"), C::OneOf(COMPRESSION_TYPES)),
    def(COMPRESSION_GZIP_LEVEL, T::Int, V("-1"), C::GzipLevel),
    def(COMPRESSION_LZ4_LEVEL, T::Int, V("9"), C::Between(1, 17)),
    def(COMPRESSION_ZSTD_LEVEL, T::Int, V("3"), C::Between(-131072, 22)),
    def(BATCH_SIZE, T::Int, V("16384"), C::AtLeast(0)),
    def(PARTITIONER_ADAPTIVE_PARTITIONING_ENABLE, T::Boolean, V("true"), C::None),
    def(PARTITIONER_AVAILABILITY_TIMEOUT_MS, T::Long, V("0"), C::AtLeast(0)),
    def(PARTITIONER_IGNORE_KEYS, T::Boolean, V("false"), C::None),
    def(LINGER_MS, T::Long, V("5"), C::AtLeast(0)),
    def(DELIVERY_TIMEOUT_MS, T::Int, V("120000"), C::AtLeast(0)),
    def(CLIENT_ID, T::String, V(""), C::None),
    def(SEND_BUFFER_BYTES, T::Int, V("131072"), C::AtLeast(-1)),
    def(RECEIVE_BUFFER_BYTES, T::Int, V("32768"), C::AtLeast(-1)),
    def(MAX_REQUEST_SIZE, T::Int, V("1048576"), C::AtLeast(0)),
    def(RECONNECT_BACKOFF_MS, T::Long, V("50"), C::AtLeast(0)),
    def(RECONNECT_BACKOFF_MAX_MS, T::Long, V("1000"), C::AtLeast(0)),
    def(RETRY_BACKOFF_MS, T::Long, V("100"), C::AtLeast(0)),
    def(RETRY_BACKOFF_MAX_MS, T::Long, V("1000"), C::AtLeast(0)),
    def(ENABLE_METRICS_PUSH, T::Boolean, V("true"), C::None),
    def(MAX_BLOCK_MS, T::Long, V("60000"), C::AtLeast(0)),
    def(REQUEST_TIMEOUT_MS, T::Int, V("30000"), C::AtLeast(0)),
    def(METADATA_MAX_AGE_MS, T::Long, V("300000"), C::AtLeast(0)),
    def(METADATA_MAX_IDLE_MS, T::Long, V("300000"), C::AtLeast(5000)),
    def(METRICS_SAMPLE_WINDOW_MS, T::Long, V("30000"), C::AtLeast(0)),
    def(METRICS_NUM_SAMPLES, T::Int, V("2"), C::AtLeast(1)),
    def(METRICS_RECORDING_LEVEL, T::String, V("INFO"), C::OneOf(&["INFO", "DEBUG", "TRACE"])),
    def(METRIC_REPORTERS, T::List, V(JMX_REPORTER), NON_DUP),
    def(MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, T::Int, V("5"), C::AtLeast(1)),
    // Required in Java; optional here because Rust serializers are given in
    // code (Java's `appendSerializerToConfig` does the same for instances).
    def(KEY_SERIALIZER, T::Class, Null, C::None),
    def(VALUE_SERIALIZER, T::Class, Null, C::None),
    def(SOCKET_CONNECTION_SETUP_TIMEOUT_MS, T::Long, V("10000"), C::None),
    def(SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS, T::Long, V("30000"), C::None),
    def(CONNECTIONS_MAX_IDLE_MS, T::Long, V("540000"), C::None),
    def(PARTITIONER_CLASS, T::Class, Null, C::None),
    def(INTERCEPTOR_CLASSES, T::List, V(""), NON_DUP),
    def(SECURITY_PROTOCOL, T::String, V("PLAINTEXT"), C::OneOfIgnoreCase(SECURITY_PROTOCOLS)),
    def(SECURITY_PROVIDERS, T::String, Null, C::None),
];

/// The keys added by `withClientSslSupport()` and `withClientSaslSupport()`,
/// then the producer keys Java defines after them.
#[rustfmt::skip]
pub(crate) const SECURITY_DEFS: &[KeyDef] = &[
    def("ssl.protocol", T::String, V("TLSv1.3"), C::None),
    def("ssl.provider", T::String, Null, C::None),
    def("ssl.cipher.suites", T::List, Null, C::None),
    def("ssl.enabled.protocols", T::List, V("TLSv1.2,TLSv1.3"), C::None),
    def("ssl.keystore.type", T::String, V("JKS"), C::None),
    def("ssl.keystore.location", T::String, Null, C::None),
    def("ssl.keystore.password", T::Password, Null, C::None),
    def("ssl.key.password", T::Password, Null, C::None),
    def("ssl.keystore.key", T::Password, Null, C::None),
    def("ssl.keystore.certificate.chain", T::Password, Null, C::None),
    def("ssl.truststore.certificates", T::Password, Null, C::None),
    def("ssl.truststore.type", T::String, V("JKS"), C::None),
    def("ssl.truststore.location", T::String, Null, C::None),
    def("ssl.truststore.password", T::Password, Null, C::None),
    // Java's defaults are the JVM's (KeyManagerFactory/TrustManagerFactory
    // default algorithms); these are the values of the standard JDK.
    def("ssl.keymanager.algorithm", T::String, V("SunX509"), C::None),
    def("ssl.trustmanager.algorithm", T::String, V("PKIX"), C::None),
    def("ssl.endpoint.identification.algorithm", T::String, V("https"), C::None),
    def("ssl.secure.random.implementation", T::String, Null, C::None),
    def("ssl.engine.factory.class", T::Class, Null, C::None),
    def("sasl.kerberos.service.name", T::String, Null, C::None),
    def("sasl.kerberos.kinit.cmd", T::String, V("/usr/bin/kinit"), C::None),
    def("sasl.kerberos.ticket.renew.window.factor", T::Double, V("0.8"), C::None),
    def("sasl.kerberos.ticket.renew.jitter", T::Double, V("0.05"), C::None),
    def("sasl.kerberos.min.time.before.relogin", T::Long, V("60000"), C::None),
    def("sasl.login.refresh.window.factor", T::Double, V("0.8"), C::BetweenF(0.5, 1.0)),
    def("sasl.login.refresh.window.jitter", T::Double, V("0.05"), C::BetweenF(0.0, 0.25)),
    def("sasl.login.refresh.min.period.seconds", T::Short, V("60"), C::Between(0, 900)),
    def("sasl.login.refresh.buffer.seconds", T::Short, V("300"), C::Between(0, 3600)),
    def("sasl.mechanism", T::String, V("GSSAPI"), C::None),
    def("sasl.jaas.config", T::Password, Null, C::None),
    def("sasl.client.callback.handler.class", T::Class, Null, C::None),
    def("sasl.login.callback.handler.class", T::Class, Null, C::None),
    def("sasl.login.class", T::Class, Null, C::None),
    def("sasl.login.connect.timeout.ms", T::Int, Null, C::None),
    def("sasl.login.read.timeout.ms", T::Int, Null, C::None),
    def("sasl.login.retry.backoff.max.ms", T::Long, V("10000"), C::None),
    def("sasl.login.retry.backoff.ms", T::Long, V("100"), C::None),
    def("sasl.oauthbearer.jwt.retriever.class", T::Class,
        V("org.apache.kafka.common.security.oauthbearer.DefaultJwtRetriever"), C::None),
    def("sasl.oauthbearer.jwt.validator.class", T::Class,
        V("org.apache.kafka.common.security.oauthbearer.DefaultJwtValidator"), C::None),
    def("sasl.oauthbearer.scope", T::String, Null, C::None),
    def("sasl.oauthbearer.client.credentials.client.id", T::String, Null, C::None),
    def("sasl.oauthbearer.client.credentials.client.secret", T::Password, Null, C::None),
    def("sasl.oauthbearer.assertion.algorithm", T::String, V("RS256"),
        C::OneOfIgnoreCase(&["ES256", "RS256"])),
    def("sasl.oauthbearer.assertion.claim.aud", T::String, Null, C::None),
    def("sasl.oauthbearer.assertion.claim.exp.seconds", T::Int, V("300"), C::Between(0, 86400)),
    def("sasl.oauthbearer.assertion.claim.iss", T::String, Null, C::None),
    def("sasl.oauthbearer.assertion.claim.jti.include", T::Boolean, V("false"), C::None),
    def("sasl.oauthbearer.assertion.claim.nbf.seconds", T::Int, V("60"), C::Between(0, 3600)),
    def("sasl.oauthbearer.assertion.claim.sub", T::String, Null, C::None),
    def("sasl.oauthbearer.assertion.file", T::String, Null, C::None),
    def("sasl.oauthbearer.assertion.private.key.file", T::String, Null, C::None),
    def("sasl.oauthbearer.assertion.private.key.passphrase", T::Password, Null, C::None),
    def("sasl.oauthbearer.assertion.template.file", T::String, Null, C::None),
    def("sasl.oauthbearer.scope.claim.name", T::String, V("scope"), C::None),
    def("sasl.oauthbearer.sub.claim.name", T::String, V("sub"), C::None),
    def("sasl.oauthbearer.token.endpoint.url", T::String, Null, C::None),
    def("sasl.oauthbearer.jwks.endpoint.url", T::String, Null, C::None),
    def("sasl.oauthbearer.jwks.endpoint.refresh.ms", T::Long, V("3600000"), C::None),
    def("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", T::Long, V("10000"), C::None),
    def("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", T::Long, V("100"), C::None),
    def("sasl.oauthbearer.clock.skew.seconds", T::Int, V("30"), C::None),
    def("sasl.oauthbearer.expected.audience", T::List, V(""), NON_DUP),
    def("sasl.oauthbearer.expected.issuer", T::String, Null, C::None),
    def("sasl.oauthbearer.header.urlencode", T::Boolean, V("false"), C::None),
];

/// The keys `ProducerConfig` defines after the security ones.
#[rustfmt::skip]
pub(crate) const TRAILING_DEFS: &[KeyDef] = &[
    def(ENABLE_IDEMPOTENCE, T::Boolean, V("true"), C::None),
    def(TRANSACTION_TIMEOUT_MS, T::Int, V("60000"), C::None),
    def(TRANSACTIONAL_ID, T::String, Null, C::NonEmptyString),
    def(TRANSACTION_TWO_PHASE_COMMIT_ENABLE, T::Boolean, V("false"), C::None),
    def(METADATA_RECOVERY_STRATEGY, T::String, V("rebootstrap"),
        C::OneOfIgnoreCase(&["NONE", "REBOOTSTRAP"])),
    def(METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS, T::Long, V("300000"), C::AtLeast(0)),
    def(CONFIG_PROVIDERS, T::List, V(""), NON_DUP),
];

/// Java's `JmxReporter`, the default (and only accepted) metric reporter.
pub(crate) const JMX_REPORTER: &str = "org.apache.kafka.common.metrics.JmxReporter";

/// Every key definition, in Java's order.
pub(crate) fn all_defs() -> impl Iterator<Item = &'static KeyDef> {
    PRODUCER_DEFS
        .iter()
        .chain(SECURITY_DEFS)
        .chain(TRAILING_DEFS)
}

/// The definition of `name`, if it is a known key.
pub(crate) fn find(name: &str) -> Option<&'static KeyDef> {
    all_defs().find(|d| d.name == name)
}

/// Whether `name` is a password-typed key (its value is never printed).
pub(crate) fn is_password(name: &str) -> bool {
    find(name).is_some_and(|d| d.ty == Type::Password)
}

//! The typed values of the enumerated and class-name configuration keys:
//! [`Acks`], [`ClientDnsLookup`], [`MetadataRecoveryStrategy`],
//! [`RecordingLevel`], [`PartitionerKind`], [`SerializerClass`] and the parsed
//! [`BootstrapServer`] address.
//!
//! Each type parses Java's string form and gives it back, so a config can be
//! printed as `.properties` text and read again.

use std::fmt;

/// `acks`: how many replicas must have the record before the leader answers.
///
/// Java accepts `all`, `-1`, `0` and `1` (exactly these strings) and
/// normalises `all` to `-1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Acks {
    /// `acks=0`: the producer does not wait for any answer; the broker sends
    /// none, and record offsets are reported as -1.
    Zero,
    /// `acks=1`: the leader answers once the record is in its own log.
    One,
    /// `acks=all` (`-1`): the leader answers once every in-sync replica has
    /// the record. The default since Kafka 3.0.
    #[default]
    All,
}

impl Acks {
    /// The value sent in the Produce request's `acks` field: 0, 1 or -1.
    #[must_use]
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::Zero => 0,
            Acks::One => 1,
            Acks::All => -1,
        }
    }

    /// The acks value for a Produce request field, if it is 0, 1 or -1.
    #[must_use]
    pub fn from_i16(v: i16) -> Option<Self> {
        match v {
            0 => Some(Acks::Zero),
            1 => Some(Acks::One),
            -1 => Some(Acks::All),
            _ => None,
        }
    }

    /// Whether the broker answers a Produce request with this setting.
    #[must_use]
    pub fn expects_response(self) -> bool {
        self != Acks::Zero
    }

    /// Java's string form after post-processing (`"-1"`, `"0"`, `"1"`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "-1",
        }
    }
}

impl fmt::Display for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `client.dns.lookup`: how broker host names are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientDnsLookup {
    /// `use_all_dns_ips` (default): try every address a name resolves to,
    /// one after another.
    #[default]
    UseAllDnsIps,
    /// `resolve_canonical_bootstrap_servers_only`: resolve each bootstrap
    /// address to its canonical names first, then behave as `use_all_dns_ips`.
    ResolveCanonicalBootstrapServersOnly,
}

impl ClientDnsLookup {
    /// Java's configuration string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ClientDnsLookup::UseAllDnsIps => "use_all_dns_ips",
            ClientDnsLookup::ResolveCanonicalBootstrapServersOnly => {
                "resolve_canonical_bootstrap_servers_only"
            }
        }
    }

    /// The value for Java's configuration string (exact, as Java's validator).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            ClientDnsLookup::UseAllDnsIps,
            ClientDnsLookup::ResolveCanonicalBootstrapServersOnly,
        ]
        .into_iter()
        .find(|v| v.as_str() == name)
    }
}

impl fmt::Display for ClientDnsLookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `metadata.recovery.strategy`: what to do when no known broker is
/// reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetadataRecoveryStrategy {
    /// `none`: keep trying the last known brokers.
    None,
    /// `rebootstrap` (default since Kafka 4.0): start again from
    /// `bootstrap.servers`.
    #[default]
    Rebootstrap,
}

impl MetadataRecoveryStrategy {
    /// Java's configuration string.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataRecoveryStrategy::None => "none",
            MetadataRecoveryStrategy::Rebootstrap => "rebootstrap",
        }
    }

    /// The value for a configuration string; case-insensitive, as Java.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            MetadataRecoveryStrategy::None,
            MetadataRecoveryStrategy::Rebootstrap,
        ]
        .into_iter()
        .find(|v| v.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for MetadataRecoveryStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `metrics.recording.level`: the most detailed level of metrics recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RecordingLevel {
    /// `INFO` (default): the essential metrics.
    #[default]
    Info,
    /// `DEBUG`: most metrics.
    Debug,
    /// `TRACE`: every metric.
    Trace,
}

impl RecordingLevel {
    /// Java's configuration string (upper case).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingLevel::Info => "INFO",
            RecordingLevel::Debug => "DEBUG",
            RecordingLevel::Trace => "TRACE",
        }
    }

    /// The value for Java's configuration string (exact, as Java's validator).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            RecordingLevel::Info,
            RecordingLevel::Debug,
            RecordingLevel::Trace,
        ]
        .into_iter()
        .find(|v| v.as_str() == name)
    }
}

impl fmt::Display for RecordingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `partitioner.class`: which built-in partitioning the producer uses.
///
/// Rust cannot load a Java class. The key accepts the Java names of the
/// partitioners this crate provides; a custom partitioner is given in code
/// (a `Partitioner` implementation), not through configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PartitionerKind {
    /// `partitioner.class` unset (Java's `null`, the default): the built-in
    /// partitioning: murmur2 of the key when there is one (unless
    /// `partitioner.ignore.keys`), otherwise uniform sticky partitioning,
    /// adaptive unless `partitioner.adaptive.partitioning.enable=false`.
    #[default]
    BuiltIn,
    /// `org.apache.kafka.clients.producer.RoundRobinPartitioner`: each record
    /// goes to the next partition in turn, keys ignored, available partitions
    /// preferred.
    RoundRobin,
}

impl PartitionerKind {
    /// The Java class name, `None` for the built-in partitioning (unset key).
    #[must_use]
    pub fn java_class(self) -> Option<&'static str> {
        match self {
            PartitionerKind::BuiltIn => None,
            PartitionerKind::RoundRobin => Some(ROUND_ROBIN_PARTITIONER),
        }
    }
}

pub(crate) const ROUND_ROBIN_PARTITIONER: &str =
    "org.apache.kafka.clients.producer.RoundRobinPartitioner";

/// `key.serializer` / `value.serializer`: a Java built-in serializer named in
/// the configuration.
///
/// In Rust the serializers are given in code, so these keys are optional.
/// When a configuration (for example a `producer.properties` used by a tool)
/// names one of Java's built-in serializers it is recorded here, so tools can
/// pick the matching Rust serializer. Any other class name is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SerializerClass {
    /// `org.apache.kafka.common.serialization.StringSerializer` (UTF-8).
    String,
    /// `org.apache.kafka.common.serialization.ByteArraySerializer`.
    ByteArray,
    /// `org.apache.kafka.common.serialization.ByteBufferSerializer`.
    ByteBuffer,
    /// `org.apache.kafka.common.serialization.BytesSerializer`.
    Bytes,
    /// `org.apache.kafka.common.serialization.IntegerSerializer` (4 bytes,
    /// big-endian).
    Integer,
    /// `org.apache.kafka.common.serialization.LongSerializer` (8 bytes,
    /// big-endian).
    Long,
    /// `org.apache.kafka.common.serialization.ShortSerializer` (2 bytes,
    /// big-endian).
    Short,
    /// `org.apache.kafka.common.serialization.FloatSerializer` (IEEE 754,
    /// big-endian).
    Float,
    /// `org.apache.kafka.common.serialization.DoubleSerializer` (IEEE 754,
    /// big-endian).
    Double,
    /// `org.apache.kafka.common.serialization.UUIDSerializer` (the UUID's
    /// string form).
    Uuid,
    /// `org.apache.kafka.common.serialization.VoidSerializer` (always null).
    Void,
    /// `org.apache.kafka.common.serialization.BooleanSerializer` (one byte).
    Boolean,
}

impl SerializerClass {
    /// Every built-in serializer this crate recognises.
    pub const ALL: [SerializerClass; 12] = [
        SerializerClass::String,
        SerializerClass::ByteArray,
        SerializerClass::ByteBuffer,
        SerializerClass::Bytes,
        SerializerClass::Integer,
        SerializerClass::Long,
        SerializerClass::Short,
        SerializerClass::Float,
        SerializerClass::Double,
        SerializerClass::Uuid,
        SerializerClass::Void,
        SerializerClass::Boolean,
    ];

    /// The fully qualified Java class name.
    #[must_use]
    pub fn java_class(self) -> &'static str {
        match self {
            SerializerClass::String => "org.apache.kafka.common.serialization.StringSerializer",
            SerializerClass::ByteArray => {
                "org.apache.kafka.common.serialization.ByteArraySerializer"
            }
            SerializerClass::ByteBuffer => {
                "org.apache.kafka.common.serialization.ByteBufferSerializer"
            }
            SerializerClass::Bytes => "org.apache.kafka.common.serialization.BytesSerializer",
            SerializerClass::Integer => "org.apache.kafka.common.serialization.IntegerSerializer",
            SerializerClass::Long => "org.apache.kafka.common.serialization.LongSerializer",
            SerializerClass::Short => "org.apache.kafka.common.serialization.ShortSerializer",
            SerializerClass::Float => "org.apache.kafka.common.serialization.FloatSerializer",
            SerializerClass::Double => "org.apache.kafka.common.serialization.DoubleSerializer",
            SerializerClass::Uuid => "org.apache.kafka.common.serialization.UUIDSerializer",
            SerializerClass::Void => "org.apache.kafka.common.serialization.VoidSerializer",
            SerializerClass::Boolean => "org.apache.kafka.common.serialization.BooleanSerializer",
        }
    }

    /// The serializer with this fully qualified Java class name.
    #[must_use]
    pub fn from_java_class(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.java_class() == name)
    }
}

impl fmt::Display for SerializerClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_class())
    }
}

/// One `bootstrap.servers` entry, parsed as Java's `ClientUtils` does:
/// an optional `scheme://` prefix, then `host:port` or `[ipv6]:port`.
///
/// The host is not resolved here; the network layer resolves it according to
/// `client.dns.lookup` when it connects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BootstrapServer {
    host: String,
    port: u16,
}

impl BootstrapServer {
    /// Parses one entry with Java's rules (`Utils.getHost` / `getPort`):
    /// `Err` carries Java's message ("Invalid url in bootstrap.servers: …" or
    /// "Invalid port in bootstrap.servers: …").
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let invalid_url = || format!("Invalid url in bootstrap.servers: {url}");
        let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '%' | '.' | '_');
        // Optional `scheme://` made of the same characters as a host name.
        let rest = match url.find("://") {
            Some(i) if url[..i].chars().all(host_char) => &url[i + 3..],
            _ => url,
        };
        // The port is the digits after the last ':'; Java's regex backtracks
        // to that colon, so IPv6 literals work with or without brackets.
        let colon = rest.rfind(':').ok_or_else(invalid_url)?;
        let (host_part, digits) = (&rest[..colon], &rest[colon + 1..]);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_url());
        }
        let host_part = host_part.strip_prefix('[').unwrap_or(host_part);
        let host_part = host_part.strip_suffix(']').unwrap_or(host_part);
        if !host_part.chars().all(|c| host_char(c) || c == ':') {
            return Err(invalid_url());
        }
        // Java: Integer.parseInt, then InetSocketAddress rejects > 65535;
        // both are "Invalid port".
        let port: u16 = digits
            .parse()
            .map_err(|_| format!("Invalid port in bootstrap.servers: {url}"))?;
        // An empty host is the local host in Java (InetAddress.getByName("")).
        let host = if host_part.is_empty() {
            "localhost".to_owned()
        } else {
            host_part.to_owned()
        };
        Ok(BootstrapServer { host, port })
    }

    /// The host name or IP literal (IPv6 without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for BootstrapServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(s: &str) -> (String, u16) {
        let b = BootstrapServer::parse(s).unwrap();
        (b.host().to_owned(), b.port())
    }

    #[test]
    fn bootstrap_entries_parse_as_java() {
        assert_eq!(hp("localhost:9092"), ("localhost".into(), 9092));
        assert_eq!(hp("[::1]:9092"), ("::1".into(), 9092));
        assert_eq!(hp("::1:9092"), ("::1".into(), 9092));
        assert_eq!(hp("[fe80::1%eth0]:1"), ("fe80::1%eth0".into(), 1));
        assert_eq!(
            hp("PLAINTEXT://broker-1.example.com:9093"),
            ("broker-1.example.com".into(), 9093)
        );
        assert_eq!(hp("10.0.0.1:0"), ("10.0.0.1".into(), 0));
        assert_eq!(hp(":9092"), ("localhost".into(), 9092));
    }

    #[test]
    fn bad_bootstrap_entries_give_java_messages() {
        for bad in [
            "localhost",
            "localhost:",
            "host:port",
            "a b:1",
            "host:-1",
            "http://x/y:1",
        ] {
            assert_eq!(
                BootstrapServer::parse(bad).unwrap_err(),
                format!("Invalid url in bootstrap.servers: {bad}")
            );
        }
        for bad in ["localhost:65536", "localhost:99999999999"] {
            assert_eq!(
                BootstrapServer::parse(bad).unwrap_err(),
                format!("Invalid port in bootstrap.servers: {bad}")
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["h:1", "[::1]:9092"] {
            assert_eq!(BootstrapServer::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn enum_names_round_trip() {
        for a in [Acks::Zero, Acks::One, Acks::All] {
            assert_eq!(Acks::from_i16(a.as_i16()), Some(a));
        }
        assert_eq!(
            MetadataRecoveryStrategy::from_name("REBOOTSTRAP"),
            Some(MetadataRecoveryStrategy::Rebootstrap)
        );
        assert_eq!(RecordingLevel::from_name("debug"), None);
        assert_eq!(
            ClientDnsLookup::from_name("use_all_dns_ips"),
            Some(ClientDnsLookup::UseAllDnsIps)
        );
        for s in SerializerClass::ALL {
            assert_eq!(SerializerClass::from_java_class(s.java_class()), Some(s));
        }
    }
}

//! `ProducerConfig` against the Java 4.3 producer's configuration rules:
//! every default, every validator, `.properties` syntax, the idempotence and
//! delivery-timeout rules, unknown and security keys, redaction of
//! passwords, class-name keys and the `to_properties` round trip.

use std::collections::HashMap;

use kafka_producer::producer::config::{keys, parse_properties};
use kafka_producer::producer::{
    Acks, ClientDnsLookup, MetadataRecoveryStrategy, PartitionerKind, ProducerConfig,
    RecordingLevel, SerializerClass,
};
use kafka_producer::record::CompressionType;
use kafka_producer::Error;

const SERVERS: &str = "localhost:9092";

fn config(pairs: &[(&str, &str)]) -> Result<ProducerConfig, Error> {
    let mut all = vec![("bootstrap.servers", SERVERS)];
    all.extend_from_slice(pairs);
    ProducerConfig::from_properties(all)
}

fn ok(pairs: &[(&str, &str)]) -> ProducerConfig {
    config(pairs).unwrap_or_else(|e| panic!("{pairs:?}: {e}"))
}

/// The config error for `pairs`, checked to name `key` and `value`.
fn config_err(pairs: &[(&str, &str)], key: &str, value: &str) -> String {
    match config(pairs) {
        Err(Error::Config(e)) => {
            assert_eq!(e.key, key, "{pairs:?}: {e}");
            assert_eq!(e.value, value, "{pairs:?}: {e}");
            let shown = Error::Config(e.clone()).to_string();
            assert!(shown.contains(key) && shown.contains(value), "{shown}");
            e.reason
        }
        other => panic!("{pairs:?}: expected a config error, got {other:?}"),
    }
}

#[path = "config/defaults.rs"]
mod defaults;
#[path = "config/validators.rs"]
mod validators;

fn props(c: &ProducerConfig) -> HashMap<String, String> {
    c.to_properties().into_iter().collect()
}

#[test]
fn typed_setters_write_the_java_keys() {
    let c = ProducerConfig::builder("a:1")
        .bootstrap_servers(["b1:9092", "[::1]:9093"])
        .client_id("app")
        .client_dns_lookup(ClientDnsLookup::ResolveCanonicalBootstrapServersOnly)
        .acks(Acks::All)
        .linger_ms(20)
        .batch_size(65536)
        .buffer_memory(1 << 20)
        .max_block_ms(1000)
        .max_request_size(2 << 20)
        .compression_type(CompressionType::Gzip)
        .compression_gzip_level(9)
        .compression_lz4_level(1)
        .compression_zstd_level(-5)
        .retries(3)
        .retry_backoff_ms(10)
        .retry_backoff_max_ms(20)
        .delivery_timeout_ms(60_000)
        .request_timeout_ms(10_000)
        .max_in_flight_requests_per_connection(1)
        .enable_idempotence(true)
        .transactional_id("tx")
        .transaction_timeout_ms(5000)
        .transaction_two_phase_commit_enable(false)
        .partitioner_class(PartitionerKind::RoundRobin)
        .partitioner_ignore_keys(true)
        .partitioner_adaptive_partitioning_enable(false)
        .partitioner_availability_timeout_ms(100)
        .key_serializer(SerializerClass::String)
        .value_serializer(SerializerClass::ByteArray)
        .metadata_max_age_ms(1000)
        .metadata_max_idle_ms(5000)
        .metadata_recovery_strategy(MetadataRecoveryStrategy::None)
        .metadata_recovery_rebootstrap_trigger_ms(7)
        .connections_max_idle_ms(-1)
        .reconnect_backoff_ms(5)
        .reconnect_backoff_max_ms(6)
        .socket_connection_setup_timeout_ms(100)
        .socket_connection_setup_timeout_max_ms(200)
        .send_buffer_bytes(-1)
        .receive_buffer_bytes(-1)
        .metrics_num_samples(3)
        .metrics_sample_window_ms(100)
        .metrics_recording_level(RecordingLevel::Debug)
        .enable_metrics_push(false)
        .build()
        .unwrap();
    assert_eq!(c.bootstrap_servers(), ["b1:9092", "[::1]:9093"]);
    assert_eq!(c.bootstrap_addresses()[1].host(), "::1");
    assert_eq!(c.client_id(), "app");
    assert_eq!(
        c.client_dns_lookup(),
        ClientDnsLookup::ResolveCanonicalBootstrapServersOnly
    );
    assert_eq!(c.linger_ms(), 20);
    assert_eq!(c.batch_size(), 65536);
    assert_eq!(c.buffer_memory(), 1 << 20);
    assert_eq!(c.max_block_ms(), 1000);
    assert_eq!(c.max_request_size(), 2 << 20);
    assert_eq!(c.compression().kind(), CompressionType::Gzip);
    assert_eq!(c.compression().level(), Some(9));
    assert_eq!(
        (c.compression_lz4_level(), c.compression_zstd_level()),
        (1, -5)
    );
    assert_eq!(c.retries(), 3);
    assert_eq!((c.retry_backoff_ms(), c.retry_backoff_max_ms()), (10, 20));
    assert_eq!(
        (c.delivery_timeout_ms(), c.request_timeout_ms()),
        (60_000, 10_000)
    );
    assert_eq!(c.max_in_flight_requests_per_connection(), 1);
    assert!(c.enable_idempotence());
    assert_eq!(c.transactional_id(), Some("tx"));
    assert_eq!(c.transaction_timeout_ms(), 5000);
    assert_eq!(c.partitioner_class(), PartitionerKind::RoundRobin);
    assert!(c.partitioner_ignore_keys());
    assert!(!c.partitioner_adaptive_partitioning_enable());
    assert_eq!(c.partitioner_availability_timeout_ms(), 100);
    assert_eq!(c.key_serializer(), Some(SerializerClass::String));
    assert_eq!(c.value_serializer(), Some(SerializerClass::ByteArray));
    assert_eq!(
        (c.metadata_max_age_ms(), c.metadata_max_idle_ms()),
        (1000, 5000)
    );
    assert_eq!(
        c.metadata_recovery_strategy(),
        MetadataRecoveryStrategy::None
    );
    assert_eq!(c.metadata_recovery_rebootstrap_trigger_ms(), 7);
    assert_eq!(c.connections_max_idle(), None);
    assert_eq!(
        (c.reconnect_backoff_ms(), c.reconnect_backoff_max_ms()),
        (5, 6)
    );
    assert_eq!(
        (
            c.socket_connection_setup_timeout_ms(),
            c.socket_connection_setup_timeout_max_ms()
        ),
        (100, 200)
    );
    assert_eq!((c.send_buffer_bytes(), c.receive_buffer_bytes()), (-1, -1));
    assert_eq!(
        (c.metrics_num_samples(), c.metrics_sample_window_ms()),
        (3, 100)
    );
    assert_eq!(c.metrics_recording_level(), RecordingLevel::Debug);
    assert!(!c.enable_metrics_push());
    let p = props(&c);
    assert_eq!(
        p["partitioner.class"],
        "org.apache.kafka.clients.producer.RoundRobinPartitioner"
    );
    assert_eq!(
        p["key.serializer"],
        "org.apache.kafka.common.serialization.StringSerializer"
    );
    // Setting the built-in partitioning clears the key again.
    let c = ProducerConfig::builder(SERVERS)
        .partitioner_class(PartitionerKind::RoundRobin)
        .partitioner_class(PartitionerKind::BuiltIn)
        .build()
        .unwrap();
    assert_eq!(c.partitioner_class(), PartitionerKind::BuiltIn);
}

#[test]
fn values_parse_as_java_does() {
    let c = ok(&[
        ("linger.ms", "  7  "),
        ("enable.idempotence", "TRUE"),
        ("partitioner.ignore.keys", "False"),
        ("client.id", "  spaced  "),
        ("metadata.recovery.strategy", "NONE"),
        ("security.protocol", "plaintext"),
        ("acks", "all"),
    ]);
    assert_eq!(c.linger_ms(), 7);
    assert!(c.enable_idempotence());
    assert!(!c.partitioner_ignore_keys());
    assert_eq!(c.client_id(), "spaced");
    assert_eq!(
        c.metadata_recovery_strategy(),
        MetadataRecoveryStrategy::None
    );
    let c = ProducerConfig::from_properties([("bootstrap.servers", " a:1 , b:2,c:3 ")]).unwrap();
    assert_eq!(c.bootstrap_servers(), ["a:1", "b:2", "c:3"]);
    let c = ok(&[("acks", "-1")]);
    assert_eq!(c.acks(), Acks::All);
    let c = ok(&[("acks", "1"), ("enable.idempotence", "false")]);
    assert_eq!(c.acks(), Acks::One);
    let map: HashMap<String, String> = [("bootstrap.servers".to_owned(), SERVERS.to_owned())]
        .into_iter()
        .collect();
    assert_eq!(
        ProducerConfig::from_properties(&map).unwrap().linger_ms(),
        5
    );
}

#[test]
fn bootstrap_servers_is_required_and_checked() {
    match ProducerConfig::from_properties([("linger.ms", "1")]) {
        Err(Error::Config(e)) => {
            assert_eq!(e.key, "bootstrap.servers");
            assert_eq!(
                e.reason,
                "Missing required configuration \"bootstrap.servers\" which has no default value."
            );
        }
        other => panic!("{other:?}"),
    }
    let empty = ProducerConfig::from_properties([("bootstrap.servers", "  ")]).unwrap_err();
    assert!(
        empty.to_string().contains(
            "Configuration 'bootstrap.servers' must not be empty. Valid values include: any non-empty value"
        ),
        "{empty}"
    );
    for (servers, reason) in [
        (
            "a:1,a:1",
            "Configuration 'bootstrap.servers' values must not be duplicated.",
        ),
        (
            "a:1,,b:2",
            "Configuration 'bootstrap.servers' values must not be empty.",
        ),
    ] {
        match ProducerConfig::from_properties([("bootstrap.servers", servers)]) {
            Err(Error::Config(e)) => assert_eq!(
                (e.key.as_str(), e.reason.as_str()),
                ("bootstrap.servers", reason)
            ),
            other => panic!("{servers}: {other:?}"),
        }
    }
    for (bad, reason) in [
        ("localhost", "Invalid url in bootstrap.servers: localhost"),
        ("host:port", "Invalid url in bootstrap.servers: host:port"),
        (
            "localhost:70000",
            "Invalid port in bootstrap.servers: localhost:70000",
        ),
    ] {
        match ProducerConfig::from_properties([("bootstrap.servers", format!("ok:1,{bad}"))]) {
            Err(Error::Config(e)) => {
                assert_eq!(
                    (e.key.as_str(), e.value.as_str()),
                    ("bootstrap.servers", bad)
                );
                assert_eq!(e.reason, reason);
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    let c = ProducerConfig::builder("[::1]:9092,SASL_PLAINTEXT://kafka:9093")
        .build()
        .unwrap();
    let hosts: Vec<_> = c
        .bootstrap_addresses()
        .iter()
        .map(|a| (a.host(), a.port()))
        .collect();
    assert_eq!(hosts, [("::1", 9092), ("kafka", 9093)]);
    assert!(matches!(
        kafka_producer::producer::ProducerConfigBuilder::new().build(),
        Err(Error::Config(e)) if e.key == "bootstrap.servers"
    ));
}

#[test]
fn properties_text_in_every_syntax() {
    let text = "\
# Kafka producer settings
! a comment in the other style
bootstrap.servers=broker-1:9092,\\
                  broker-2:9092
acks:1
linger.ms 20
  batch.size   =   32768
client.id = my\\tapp\\u0021
enable.idempotence\t:\tfalse\r
transactional.id\\=odd=unused
compression.type=gzip\r\n\
retries = 3\\

";
    let pairs = parse_properties(text).unwrap();
    assert_eq!(
        pairs[0],
        (
            "bootstrap.servers".into(),
            "broker-1:9092,broker-2:9092".into()
        )
    );
    assert_eq!(pairs[5], ("enable.idempotence".into(), "false".into()));
    assert_eq!(pairs[6], ("transactional.id=odd".into(), "unused".into()));
    let c = ProducerConfig::from_properties_text(text).unwrap();
    assert_eq!(c.bootstrap_servers(), ["broker-1:9092", "broker-2:9092"]);
    assert_eq!(c.acks(), Acks::One);
    assert_eq!(c.linger_ms(), 20);
    assert_eq!(c.batch_size(), 32768);
    assert_eq!(c.client_id(), "my\tapp!");
    assert!(!c.enable_idempotence());
    assert_eq!(c.compression_type(), CompressionType::Gzip);
    assert_eq!(c.retries(), 3);
    assert_eq!(c.unknown_keys(), ["transactional.id=odd"]);
    assert!(matches!(
        ProducerConfig::from_properties_text("bootstrap.servers=a:1\nclient.id=\\uXYZW"),
        Err(Error::Config(e)) if e.key == "client.id" && e.reason.contains("Malformed")
    ));
}

#[test]
fn idempotence_conflicts_error_when_explicit() {
    let reason = config_err(
        &[("enable.idempotence", "true"), ("retries", "0")],
        "retries",
        "0",
    );
    assert_eq!(
        reason,
        "Must set retries to non-zero when using the idempotent producer."
    );
    for acks in ["0", "1"] {
        let reason = config_err(
            &[("enable.idempotence", "true"), ("acks", acks)],
            "acks",
            acks,
        );
        assert_eq!(
            reason,
            "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."
        );
    }
    let reason = config_err(
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", "6"),
        ],
        "max.in.flight.requests.per.connection",
        "6",
    );
    assert_eq!(
        reason,
        "To use the idempotent producer, max.in.flight.requests.per.connection must be set to at most 5. Current value is 6."
    );
}

#[test]
fn idempotence_conflicts_disable_it_when_defaulted() {
    let c = ok(&[("retries", "0")]);
    assert!(!c.enable_idempotence());
    assert_eq!(props(&c)["enable.idempotence"], "false");
    let c = ok(&[("acks", "1")]);
    assert!(!c.enable_idempotence());
    let c = ok(&[("acks", "0")]);
    assert!(!c.enable_idempotence());
    assert_eq!(c.acks(), Acks::Zero);
    // No conflict: stays on; five in flight is the limit.
    assert!(ok(&[("max.in.flight.requests.per.connection", "5")]).enable_idempotence());
    // Java 4.x: more than 5 in flight is an error even with idempotence only
    // defaulted (3.x disabled it with a warning), and even when another
    // conflict has already disabled it.
    config_err(
        &[("max.in.flight.requests.per.connection", "6")],
        "max.in.flight.requests.per.connection",
        "6",
    );
    config_err(
        &[
            ("acks", "1"),
            ("max.in.flight.requests.per.connection", "6"),
        ],
        "max.in.flight.requests.per.connection",
        "6",
    );
    // Explicitly disabled: nothing is checked.
    let c = ok(&[
        ("enable.idempotence", "false"),
        ("max.in.flight.requests.per.connection", "10"),
        ("retries", "0"),
        ("acks", "0"),
    ]);
    assert!(!c.enable_idempotence());
    assert_eq!(c.max_in_flight_requests_per_connection(), 10);
}

#[test]
fn transactional_id_needs_idempotence() {
    let reason = config_err(
        &[
            ("enable.idempotence", "false"),
            ("transactional.id", "tx-1"),
        ],
        "transactional.id",
        "tx-1",
    );
    assert_eq!(
        reason,
        "Cannot set a transactional.id without also enabling idempotence."
    );
    // Implicitly disabled by acks=1: the same error.
    config_err(
        &[("acks", "1"), ("transactional.id", "tx-1")],
        "transactional.id",
        "tx-1",
    );
    let c = ok(&[("transactional.id", "tx-1")]);
    assert_eq!(c.transactional_id(), Some("tx-1"));
    assert_eq!(c.client_id(), "producer-tx-1");
    // Two-phase commit forbids an explicit transaction timeout.
    let reason = config_err(
        &[
            ("transactional.id", "tx-1"),
            ("transaction.two.phase.commit.enable", "true"),
            ("transaction.timeout.ms", "60000"),
        ],
        "transaction.timeout.ms",
        "60000",
    );
    assert!(reason.starts_with("Cannot set transaction.timeout.ms when transaction.two.phase.commit.enable is set to true."));
    assert!(ok(&[("transaction.two.phase.commit.enable", "true")])
        .transaction_two_phase_commit_enable());
}

#[test]
fn client_id_follows_java() {
    assert_eq!(ok(&[("client.id", "mine")]).client_id(), "mine");
    assert_eq!(ok(&[("client.id", "")]).client_id(), "");
    let a = ok(&[]);
    let b = ok(&[]);
    let n = |c: &ProducerConfig| {
        c.client_id()
            .strip_prefix("producer-")
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert!(n(&b) > n(&a), "{} then {}", a.client_id(), b.client_id());
}

#[test]
fn delivery_timeout_must_cover_linger_and_request_timeout() {
    // Explicit and too small: Java's error.
    let reason = config_err(
        &[
            ("delivery.timeout.ms", "30004"),
            ("linger.ms", "5"),
            ("request.timeout.ms", "30000"),
        ],
        "delivery.timeout.ms",
        "30004",
    );
    assert_eq!(
        reason,
        "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms"
    );
    // Explicit and exactly the sum: fine.
    assert_eq!(
        ok(&[("delivery.timeout.ms", "30005")]).delivery_timeout_ms(),
        30_005
    );
    // Defaulted and too small: raised to the sum.
    let c = ok(&[("linger.ms", "100000"), ("request.timeout.ms", "50000")]);
    assert_eq!(c.delivery_timeout_ms(), 150_000);
    assert_eq!(props(&c)["delivery.timeout.ms"], "150000");
    // The sum is capped at i32::MAX, as Java's int arithmetic.
    let c = ok(&[("linger.ms", "9223372036854775807")]);
    assert_eq!(c.delivery_timeout_ms(), i32::MAX as u64);
    assert_eq!(c.linger().as_millis(), i32::MAX as u128);
}

#[test]
fn reconnect_backoff_max_follows_an_explicit_base() {
    let c = ok(&[("reconnect.backoff.ms", "200")]);
    assert_eq!(
        (c.reconnect_backoff_ms(), c.reconnect_backoff_max_ms()),
        (200, 200)
    );
    let c = ok(&[
        ("reconnect.backoff.ms", "200"),
        ("reconnect.backoff.max.ms", "5000"),
    ]);
    assert_eq!(c.reconnect_backoff_max_ms(), 5000);
    // A base above its max is only a warning, as in Java.
    let c = ok(&[
        ("retry.backoff.ms", "5000"),
        ("socket.connection.setup.timeout.ms", "60000"),
    ]);
    assert_eq!(
        (c.retry_backoff_ms(), c.retry_backoff_max_ms()),
        (5000, 1000)
    );
}

#[test]
fn unknown_keys_are_accepted_and_listed() {
    let c = ok(&[
        ("no.such.key", "1"),
        ("linger.msx", "2"),
        ("metrics.context.team", "payments"),
    ]);
    assert_eq!(c.unknown_keys(), ["linger.msx", "no.such.key"]);
    assert_eq!(c.linger_ms(), 5);
}

#[test]
fn security_keys_are_known_but_only_plaintext_is_supported() {
    let c = ok(&[
        ("security.protocol", "PLAINTEXT"),
        ("ssl.truststore.location", "/etc/ts.jks"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.oauthbearer.expected.audience", "a,b"),
    ]);
    assert!(c.unknown_keys().is_empty());
    for protocol in ["SSL", "SASL_PLAINTEXT", "sasl_ssl"] {
        match config(&[("security.protocol", protocol)]) {
            Err(Error::Unsupported(m)) => {
                assert!(m.contains(protocol) && m.contains("not supported"), "{m}")
            }
            other => panic!("{protocol}: {other:?}"),
        }
    }
}

#[test]
fn passwords_never_show() {
    let secrets = [
        ("ssl.keystore.password", "ks-SECRET-1"),
        ("ssl.key.password", "key-SECRET-2"),
        ("ssl.truststore.password", "ts-SECRET-3"),
        ("ssl.keystore.key", "pem-SECRET-4"),
        (
            "sasl.jaas.config",
            "org.Foo required password=\"SECRET-5\";",
        ),
        (
            "sasl.oauthbearer.client.credentials.client.secret",
            "oauth-SECRET-6",
        ),
        (
            "sasl.oauthbearer.assertion.private.key.passphrase",
            "pass-SECRET-7",
        ),
    ];
    let c = ok(&secrets);
    let mut builder = ProducerConfig::builder(SERVERS);
    for (k, v) in secrets {
        builder = builder.set(k, v);
    }
    let shown = [
        format!("{c:?}"),
        format!("{c:#?}"),
        c.to_string(),
        format!("{:?}", c.to_properties()),
        format!("{builder:?}"),
    ];
    for s in &shown {
        assert!(!s.contains("SECRET"), "secret shown: {s}");
        assert!(s.contains("[hidden]"), "{s}");
    }
    assert!(shown[0].contains("ssl.keystore.password"), "{}", shown[0]);
}

#[test]
fn class_name_keys_accept_what_rust_provides() {
    let c = ok(&[
        (
            "partitioner.class",
            "org.apache.kafka.clients.producer.RoundRobinPartitioner",
        ),
        (
            "key.serializer",
            "org.apache.kafka.common.serialization.StringSerializer",
        ),
        (
            "value.serializer",
            " org.apache.kafka.common.serialization.ByteArraySerializer ",
        ),
        (
            "metric.reporters",
            "org.apache.kafka.common.metrics.JmxReporter",
        ),
        ("interceptor.classes", ""),
        ("metric.reporters", ""),
    ]);
    assert_eq!(c.partitioner_class(), PartitionerKind::RoundRobin);
    assert_eq!(c.key_serializer(), Some(SerializerClass::String));
    assert_eq!(c.value_serializer(), Some(SerializerClass::ByteArray));
    for s in SerializerClass::ALL {
        assert_eq!(
            ok(&[("value.serializer", s.java_class())]).value_serializer(),
            Some(s)
        );
    }
    for (key, class) in [
        ("partitioner.class", "com.example.MyPartitioner"),
        (
            "partitioner.class",
            "org.apache.kafka.clients.producer.internals.DefaultPartitioner",
        ),
        (
            "partitioner.class",
            "org.apache.kafka.clients.producer.UniformStickyPartitioner",
        ),
        (
            "key.serializer",
            "io.confluent.kafka.serializers.KafkaAvroSerializer",
        ),
        (
            "value.serializer",
            "org.apache.kafka.common.serialization.ListSerializer",
        ),
        ("interceptor.classes", "com.example.Audit"),
        ("metric.reporters", "com.example.Reporter"),
        ("config.providers", "file"),
    ] {
        let reason = config_err(&[(key, class)], key, class);
        assert!(
            reason.contains("code")
                || reason.contains("removed in Kafka 4.0")
                || reason.contains("not supported"),
            "{key}={class}: {reason}"
        );
    }
}

#[test]
fn every_codec_takes_its_level_from_its_key() {
    let cases = [
        ("none", None),
        ("gzip", Some(3)),
        ("snappy", None),
        ("lz4", Some(5)),
        ("zstd", Some(-5)),
    ];
    for (codec, level) in cases {
        let c = ok(&[
            ("compression.type", codec),
            ("compression.gzip.level", "3"),
            ("compression.lz4.level", "5"),
            ("compression.zstd.level", "-5"),
        ]);
        assert_eq!(c.compression().kind().name(), codec);
        assert_eq!(c.compression().level(), level, "{codec}");
    }
    // Java's defaults when the level keys are not set.
    let c = ok(&[("compression.type", "lz4")]);
    assert_eq!(c.compression().level(), Some(9));
    let c = ok(&[("compression.type", "zstd")]);
    assert_eq!(c.compression().level(), Some(3));
    // Out of Java's ranges: an error naming the key and the value.
    for (key, value) in [
        ("compression.lz4.level", "18"),
        ("compression.lz4.level", "0"),
        ("compression.zstd.level", "23"),
        ("compression.zstd.level", "-131073"),
    ] {
        match config(&[("compression.type", "zstd"), (key, value)]) {
            Err(Error::Config(e)) => {
                let m = e.to_string();
                assert!(m.contains(key) && m.contains(value), "{m}");
            }
            other => panic!("{key}={value}: {other:?}"),
        }
    }
}

#[test]
fn to_properties_round_trips() {
    let configs = [
        ok(&[]),
        ok(&[
            ("acks", "1"),
            ("retries", "0"),
            ("linger.ms", "100000"),
            ("reconnect.backoff.ms", "7"),
        ]),
        ok(&[
            ("transactional.id", "tx"),
            ("compression.type", "gzip"),
            (
                "partitioner.class",
                "org.apache.kafka.clients.producer.RoundRobinPartitioner",
            ),
            (
                "key.serializer",
                "org.apache.kafka.common.serialization.LongSerializer",
            ),
            ("sasl.kerberos.ticket.renew.jitter", "0.1"),
            ("ssl.cipher.suites", "A, B"),
            ("client.id", ""),
            ("metadata.recovery.strategy", "NONE"),
        ]),
    ];
    for c in configs {
        let again = ProducerConfig::from_properties(c.to_properties()).unwrap();
        assert_eq!(again, c, "\n{c}\n{again}");
        // And through .properties text.
        let text: String = c
            .to_properties()
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect();
        assert_eq!(ProducerConfig::from_properties_text(&text).unwrap(), c);
    }
    // A differing value makes configs unequal (the comparison can fail).
    assert_ne!(
        ok(&[("client.id", "x")]),
        ok(&[("client.id", "x"), ("linger.ms", "6")])
    );
}

#[test]
fn key_constants_name_the_java_keys() {
    assert_eq!(keys::LINGER_MS, "linger.ms");
    assert_eq!(
        keys::MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION,
        "max.in.flight.requests.per.connection"
    );
    assert_eq!(
        keys::METADATA_RECOVERY_REBOOTSTRAP_TRIGGER_MS,
        "metadata.recovery.rebootstrap.trigger.ms"
    );
}

#[test]
fn debug_lists_values_and_unknown_keys() {
    let c = ok(&[("linger.ms", "9"), ("mystery", "1")]);
    let d = format!("{c:?}");
    assert!(d.starts_with("ProducerConfig { values: {"), "{d}");
    assert!(d.contains("\"linger.ms\": \"9\""), "{d}");
    assert!(d.contains("\"transactional.id\": null"), "{d}");
    assert!(d.contains("unknown_keys: [\"mystery\"]"), "{d}");
}

#[test]
fn config_and_builder_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<ProducerConfig>();
    check::<kafka_producer::producer::ProducerConfigBuilder>();
}

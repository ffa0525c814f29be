//! Every default against Java 4.3's `ProducerConfig` (and the SSL/SASL
//! keys it adds), through `to_properties`, Java's log format and the typed
//! getters.

use super::*;

/// Java 4.3's default for every key whose default is not null, in Java's
/// string form (after post-processing: `acks=all` becomes `-1`).
const JAVA_DEFAULTS: &[(&str, &str)] = &[
    ("acks", "-1"),
    ("batch.size", "16384"),
    ("buffer.memory", "33554432"),
    ("client.dns.lookup", "use_all_dns_ips"),
    ("compression.gzip.level", "-1"),
    ("compression.lz4.level", "9"),
    ("compression.type", "none"),
    ("compression.zstd.level", "3"),
    ("config.providers", ""),
    ("connections.max.idle.ms", "540000"),
    ("delivery.timeout.ms", "120000"),
    ("enable.idempotence", "true"),
    ("enable.metrics.push", "true"),
    ("interceptor.classes", ""),
    ("linger.ms", "5"),
    ("max.block.ms", "60000"),
    ("max.in.flight.requests.per.connection", "5"),
    ("max.request.size", "1048576"),
    ("metadata.max.age.ms", "300000"),
    ("metadata.max.idle.ms", "300000"),
    ("metadata.recovery.rebootstrap.trigger.ms", "300000"),
    ("metadata.recovery.strategy", "rebootstrap"),
    (
        "metric.reporters",
        "org.apache.kafka.common.metrics.JmxReporter",
    ),
    ("metrics.num.samples", "2"),
    ("metrics.recording.level", "INFO"),
    ("metrics.sample.window.ms", "30000"),
    ("partitioner.adaptive.partitioning.enable", "true"),
    ("partitioner.availability.timeout.ms", "0"),
    ("partitioner.ignore.keys", "false"),
    ("receive.buffer.bytes", "32768"),
    ("reconnect.backoff.max.ms", "1000"),
    ("reconnect.backoff.ms", "50"),
    ("request.timeout.ms", "30000"),
    ("retries", "2147483647"),
    ("retry.backoff.max.ms", "1000"),
    ("retry.backoff.ms", "100"),
    ("security.protocol", "PLAINTEXT"),
    ("send.buffer.bytes", "131072"),
    ("socket.connection.setup.timeout.max.ms", "30000"),
    ("socket.connection.setup.timeout.ms", "10000"),
    ("transaction.timeout.ms", "60000"),
    ("transaction.two.phase.commit.enable", "false"),
    // CommonClientConfigs' SSL and SASL keys.
    ("sasl.kerberos.kinit.cmd", "/usr/bin/kinit"),
    ("sasl.kerberos.min.time.before.relogin", "60000"),
    ("sasl.kerberos.ticket.renew.jitter", "0.05"),
    ("sasl.kerberos.ticket.renew.window.factor", "0.8"),
    ("sasl.login.refresh.buffer.seconds", "300"),
    ("sasl.login.refresh.min.period.seconds", "60"),
    ("sasl.login.refresh.window.factor", "0.8"),
    ("sasl.login.refresh.window.jitter", "0.05"),
    ("sasl.login.retry.backoff.max.ms", "10000"),
    ("sasl.login.retry.backoff.ms", "100"),
    ("sasl.mechanism", "GSSAPI"),
    ("sasl.oauthbearer.assertion.algorithm", "RS256"),
    ("sasl.oauthbearer.assertion.claim.exp.seconds", "300"),
    ("sasl.oauthbearer.assertion.claim.jti.include", "false"),
    ("sasl.oauthbearer.assertion.claim.nbf.seconds", "60"),
    ("sasl.oauthbearer.clock.skew.seconds", "30"),
    ("sasl.oauthbearer.expected.audience", ""),
    ("sasl.oauthbearer.header.urlencode", "false"),
    ("sasl.oauthbearer.jwks.endpoint.refresh.ms", "3600000"),
    (
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
        "10000",
    ),
    ("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", "100"),
    (
        "sasl.oauthbearer.jwt.retriever.class",
        "org.apache.kafka.common.security.oauthbearer.DefaultJwtRetriever",
    ),
    (
        "sasl.oauthbearer.jwt.validator.class",
        "org.apache.kafka.common.security.oauthbearer.DefaultJwtValidator",
    ),
    ("sasl.oauthbearer.scope.claim.name", "scope"),
    ("sasl.oauthbearer.sub.claim.name", "sub"),
    ("ssl.enabled.protocols", "TLSv1.2,TLSv1.3"),
    ("ssl.endpoint.identification.algorithm", "https"),
    ("ssl.keymanager.algorithm", "SunX509"),
    ("ssl.keystore.type", "JKS"),
    ("ssl.protocol", "TLSv1.3"),
    ("ssl.trustmanager.algorithm", "PKIX"),
    ("ssl.truststore.type", "JKS"),
];

/// Keys Java defines with a null default (left out of `to_properties`).
const JAVA_NULL_DEFAULTS: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "partitioner.class",
    "transactional.id",
    "security.providers",
    "ssl.provider",
    "ssl.cipher.suites",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.key.password",
    "ssl.keystore.key",
    "ssl.keystore.certificate.chain",
    "ssl.truststore.certificates",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.secure.random.implementation",
    "ssl.engine.factory.class",
    "sasl.kerberos.service.name",
    "sasl.jaas.config",
    "sasl.client.callback.handler.class",
    "sasl.login.callback.handler.class",
    "sasl.login.class",
    "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.client.credentials.client.id",
    "sasl.oauthbearer.client.credentials.client.secret",
    "sasl.oauthbearer.assertion.claim.aud",
    "sasl.oauthbearer.assertion.claim.iss",
    "sasl.oauthbearer.assertion.claim.sub",
    "sasl.oauthbearer.assertion.file",
    "sasl.oauthbearer.assertion.private.key.file",
    "sasl.oauthbearer.assertion.private.key.passphrase",
    "sasl.oauthbearer.assertion.template.file",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.jwks.endpoint.url",
    "sasl.oauthbearer.expected.issuer",
];

#[test]
fn every_default_is_java_4_3s() {
    let c = ok(&[]);
    let p = props(&c);
    for (key, want) in JAVA_DEFAULTS {
        assert_eq!(
            p.get(*key).map(String::as_str),
            Some(*want),
            "default of {key}"
        );
    }
    for key in JAVA_NULL_DEFAULTS {
        assert!(!p.contains_key(*key), "{key} should default to null");
    }
    // Nothing else: bootstrap.servers and client.id (generated) complete the set.
    assert_eq!(p.len(), JAVA_DEFAULTS.len() + 2, "{p:?}");
    assert_eq!(p["bootstrap.servers"], SERVERS);
    assert!(c.client_id().starts_with("producer-"), "{}", c.client_id());
    assert_eq!(p["client.id"], c.client_id());
    // The null-default keys print as null in Java's log format.
    let shown = c.to_string();
    assert!(shown.starts_with("ProducerConfig values: \n"), "{shown}");
    assert!(shown.contains("\ttransactional.id = null\n"), "{shown}");
    assert!(shown.contains("\tlinger.ms = 5\n"), "{shown}");
    assert!(
        shown.contains("\tmetric.reporters = [org.apache.kafka.common.metrics.JmxReporter]\n"),
        "{shown}"
    );
}

#[test]
fn typed_getters_give_the_defaults() {
    let c = ok(&[]);
    assert_eq!(c.bootstrap_servers(), [SERVERS]);
    assert_eq!(c.bootstrap_addresses()[0].host(), "localhost");
    assert_eq!(c.bootstrap_addresses()[0].port(), 9092);
    assert_eq!(c.client_dns_lookup(), ClientDnsLookup::UseAllDnsIps);
    assert_eq!(c.acks(), Acks::All);
    assert_eq!(c.acks().as_i16(), -1);
    assert_eq!(c.linger_ms(), 5);
    assert_eq!(c.linger(), std::time::Duration::from_millis(5));
    assert_eq!(c.batch_size(), 16384);
    assert_eq!(c.buffer_memory(), 32 * 1024 * 1024);
    assert_eq!(c.max_block_ms(), 60_000);
    assert_eq!(c.max_request_size(), 1_048_576);
    assert_eq!(c.compression_type(), CompressionType::None);
    assert_eq!(c.compression_gzip_level(), -1);
    assert_eq!(c.compression_lz4_level(), 9);
    assert_eq!(c.compression_zstd_level(), 3);
    assert_eq!(c.retries(), i32::MAX as u32);
    assert_eq!(c.retry_backoff_ms(), 100);
    assert_eq!(c.retry_backoff_max_ms(), 1000);
    assert_eq!(c.delivery_timeout_ms(), 120_000);
    assert_eq!(c.request_timeout_ms(), 30_000);
    assert_eq!(c.max_in_flight_requests_per_connection(), 5);
    assert!(c.enable_idempotence());
    assert_eq!(c.transactional_id(), None);
    assert_eq!(c.transaction_timeout_ms(), 60_000);
    assert!(!c.transaction_two_phase_commit_enable());
    assert_eq!(c.partitioner_class(), PartitionerKind::BuiltIn);
    assert!(!c.partitioner_ignore_keys());
    assert!(c.partitioner_adaptive_partitioning_enable());
    assert_eq!(c.partitioner_availability_timeout_ms(), 0);
    assert_eq!(c.key_serializer(), None);
    assert_eq!(c.value_serializer(), None);
    assert!(c.interceptor_classes().is_empty());
    assert_eq!(c.metadata_max_age_ms(), 300_000);
    assert_eq!(c.metadata_max_idle_ms(), 300_000);
    assert_eq!(
        c.metadata_recovery_strategy(),
        MetadataRecoveryStrategy::Rebootstrap
    );
    assert_eq!(c.metadata_recovery_rebootstrap_trigger_ms(), 300_000);
    assert_eq!(c.connections_max_idle_ms(), 540_000);
    assert_eq!(c.reconnect_backoff_ms(), 50);
    assert_eq!(c.reconnect_backoff_max_ms(), 1000);
    assert_eq!(c.socket_connection_setup_timeout_ms(), 10_000);
    assert_eq!(c.socket_connection_setup_timeout_max_ms(), 30_000);
    assert_eq!(c.send_buffer_bytes(), 131_072);
    assert_eq!(c.receive_buffer_bytes(), 32_768);
    assert_eq!(
        c.metric_reporters(),
        ["org.apache.kafka.common.metrics.JmxReporter"]
    );
    assert_eq!(c.metrics_num_samples(), 2);
    assert_eq!(c.metrics_sample_window_ms(), 30_000);
    assert_eq!(c.metrics_recording_level(), RecordingLevel::Info);
    assert!(c.enable_metrics_push());
    assert!(c.unknown_keys().is_empty());
}

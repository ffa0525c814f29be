//! Each validator rejects a bad value with Java's message, naming the key
//! and the value; boundary values pass; the first bad key in Java's order
//! is the one reported.

use super::*;

/// (key, bad value, Java's reason). Each must fail naming key and value.
const BAD_VALUES: &[(&str, &str, &str)] = &[
    ("acks", "2", "String must be one of: all, -1, 0, 1"),
    ("acks", "ALL", "String must be one of: all, -1, 0, 1"),
    ("linger.ms", "-1", "Value must be at least 0"),
    ("linger.ms", "5ms", "Not a number of type LONG"),
    ("batch.size", "-1", "Value must be at least 0"),
    ("batch.size", "2147483648", "Not a number of type INT"),
    ("buffer.memory", "-1", "Value must be at least 0"),
    ("max.block.ms", "-5", "Value must be at least 0"),
    ("max.request.size", "-1", "Value must be at least 0"),
    ("retries", "-1", "Value must be at least 0"),
    ("retry.backoff.ms", "-1", "Value must be at least 0"),
    ("retry.backoff.max.ms", "-1", "Value must be at least 0"),
    ("reconnect.backoff.ms", "-1", "Value must be at least 0"),
    ("reconnect.backoff.max.ms", "-1", "Value must be at least 0"),
    ("delivery.timeout.ms", "-1", "Value must be at least 0"),
    ("request.timeout.ms", "-1", "Value must be at least 0"),
    (
        "max.in.flight.requests.per.connection",
        "0",
        "Value must be at least 1",
    ),
    ("metadata.max.age.ms", "-1", "Value must be at least 0"),
    (
        "metadata.max.idle.ms",
        "4999",
        "Value must be at least 5000",
    ),
    (
        "metadata.recovery.rebootstrap.trigger.ms",
        "-1",
        "Value must be at least 0",
    ),
    (
        "metadata.recovery.strategy",
        "sometimes",
        "String must be one of (case insensitive): NONE, REBOOTSTRAP",
    ),
    ("metrics.num.samples", "0", "Value must be at least 1"),
    ("metrics.sample.window.ms", "-1", "Value must be at least 0"),
    (
        "metrics.recording.level",
        "debug",
        "String must be one of: INFO, DEBUG, TRACE",
    ),
    ("send.buffer.bytes", "-2", "Value must be at least -1"),
    ("receive.buffer.bytes", "-2", "Value must be at least -1"),
    (
        "partitioner.availability.timeout.ms",
        "-1",
        "Value must be at least 0",
    ),
    (
        "partitioner.ignore.keys",
        "yes",
        "Expected value to be either true or false",
    ),
    (
        "partitioner.adaptive.partitioning.enable",
        "1",
        "Expected value to be either true or false",
    ),
    (
        "enable.idempotence",
        "maybe",
        "Expected value to be either true or false",
    ),
    (
        "enable.metrics.push",
        "on",
        "Expected value to be either true or false",
    ),
    (
        "compression.type",
        "brotli",
        "String must be one of: none, gzip, snappy, lz4, zstd",
    ),
    (
        "compression.type",
        "GZIP",
        "String must be one of: none, gzip, snappy, lz4, zstd",
    ),
    (
        "compression.gzip.level",
        "0",
        "Value must be between 1 and 9 or equal to -1",
    ),
    (
        "compression.gzip.level",
        "10",
        "Value must be between 1 and 9 or equal to -1",
    ),
    ("compression.lz4.level", "0", "Value must be at least 1"),
    (
        "compression.lz4.level",
        "18",
        "Value must be no more than 17",
    ),
    (
        "compression.zstd.level",
        "23",
        "Value must be no more than 22",
    ),
    (
        "compression.zstd.level",
        "-131073",
        "Value must be at least -131072",
    ),
    (
        "client.dns.lookup",
        "default",
        "String must be one of: use_all_dns_ips, resolve_canonical_bootstrap_servers_only",
    ),
    ("transactional.id", "", "String must be non-empty"),
    ("transaction.timeout.ms", "1m", "Not a number of type INT"),
    ("connections.max.idle.ms", "x", "Not a number of type LONG"),
    (
        "socket.connection.setup.timeout.ms",
        "1.5",
        "Not a number of type LONG",
    ),
    (
        "security.protocol",
        "TLS",
        "String must be one of (case insensitive): PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
    ),
    (
        "interceptor.classes",
        "a,a",
        "Configuration 'interceptor.classes' values must not be duplicated.",
    ),
    (
        "metric.reporters",
        "x,,y",
        "Configuration 'metric.reporters' values must not be empty.",
    ),
    (
        "sasl.login.refresh.window.factor",
        "0.4",
        "Value must be at least 0.5",
    ),
    (
        "sasl.login.refresh.window.jitter",
        "0.3",
        "Value must be no more than 0.25",
    ),
    (
        "sasl.login.refresh.min.period.seconds",
        "40000",
        "Not a number of type SHORT",
    ),
    (
        "sasl.login.refresh.buffer.seconds",
        "3601",
        "Value must be no more than 3600",
    ),
    (
        "sasl.kerberos.ticket.renew.jitter",
        "lots",
        "Not a number of type DOUBLE",
    ),
    (
        "sasl.oauthbearer.assertion.algorithm",
        "HS256",
        "String must be one of (case insensitive): ES256, RS256",
    ),
];

#[test]
fn each_validator_rejects_a_bad_value_naming_key_and_value() {
    for (key, value, reason) in BAD_VALUES {
        let got = config_err(&[(key, value)], key, value);
        assert_eq!(got, *reason, "{key}={value}");
    }
    // ...and the boundary values pass.
    for (key, value) in [
        ("linger.ms", "0"),
        ("metadata.max.idle.ms", "5000"),
        ("compression.gzip.level", "1"),
        ("compression.gzip.level", "9"),
        ("compression.lz4.level", "17"),
        ("compression.zstd.level", "-131072"),
        ("send.buffer.bytes", "-1"),
        ("retries", "2147483647"),
        ("max.in.flight.requests.per.connection", "1"),
        ("sasl.login.refresh.window.factor", "1.0"),
    ] {
        ok(&[(key, value)]);
    }
}

#[test]
fn the_first_bad_key_in_java_order_is_reported() {
    // Java parses buffer.memory before linger.ms.
    config_err(
        &[("linger.ms", "-1"), ("buffer.memory", "-1")],
        "buffer.memory",
        "-1",
    );
}

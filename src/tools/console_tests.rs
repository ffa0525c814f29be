//! Tests of the console producer: each option, defaults, precedence,
//! errors, and whole runs on a scripted producer.

use std::io::Cursor;
use std::sync::atomic::Ordering;

use super::*;
use crate::error::Error;
use crate::producer::Acks;
use crate::protocol::error_code::ErrorCode;
use crate::record::CompressionType;
use crate::tools::cli::Output;
use crate::tools::console_run::{main, ConsoleIo};
use crate::tools::testing::{FakeBackend, ScriptedProducer};

fn parse(args: &[&str]) -> Result<Parsed<ConsoleOptions>, UsageError> {
    ConsoleOptions::parse(args.iter().copied())
}

fn opts(args: &[&str]) -> ConsoleOptions {
    match parse(args) {
        Ok(Parsed::Run(o)) => o,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn props(args: &[&str]) -> Properties {
    opts(args).producer_properties().expect("properties")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kp-console-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn topic_is_required() {
    assert_eq!(
        parse(&["--bootstrap-server", "h:1"]).unwrap_err().0,
        "Missing required argument \"[topic]\""
    );
    assert_eq!(opts(&["--topic", "t"]).topic, "t");
    assert_eq!(opts(&["--topic=t"]).topic, "t");
}

#[test]
fn help_and_version() {
    assert_eq!(parse(&["--help"]), Ok(Parsed::Help));
    assert_eq!(parse(&["-h", "--topic", "t"]), Ok(Parsed::Help));
    assert_eq!(parse(&["--version"]), Ok(Parsed::Version));
}

#[test]
fn unknown_options_values_and_positionals_are_errors() {
    assert_eq!(
        parse(&["--topic", "t", "--nope"]).unwrap_err().0,
        "--nope is not a recognized option"
    );
    assert!(parse(&["--topic", "t", "-x"]).unwrap_err().0.contains("-x"));
    assert!(parse(&["--topic", "t", "stray"])
        .unwrap_err()
        .0
        .contains("stray"));
    assert_eq!(
        parse(&["--topic"]).unwrap_err().0,
        "option --topic requires a value"
    );
    assert_eq!(
        parse(&["--topic", "t", "--batch-size", "big"])
            .unwrap_err()
            .0,
        "option --batch-size: cannot parse 'big' as an integer"
    );
    // --batch-size is an int in Java; --max-block-ms a long.
    assert!(parse(&["--topic", "t", "--batch-size", "3000000000"]).is_err());
    assert!(parse(&["--topic", "t", "--max-block-ms", "3000000000"]).is_ok());
    assert!(parse(&["--topic", "t", "--sync=yes"]).is_err());
}

#[test]
fn options_may_be_abbreviated_when_unambiguous() {
    let o = opts(&["--top", "t", "--boot", "h:1", "--sy"]);
    assert_eq!(
        (o.topic.as_str(), o.bootstrap_server.as_deref(), o.sync),
        ("t", Some("h:1"), true)
    );
    assert!(parse(&["--topic", "t", "--producer", "x"])
        .unwrap_err()
        .0
        .contains("ambiguous"));
}

#[test]
fn bootstrap_server_is_validated_as_java_does() {
    assert!(parse(&["--topic", "t", "--bootstrap-server", "a:1,b:2"]).is_ok());
    assert!(parse(&["--topic", "t", "--bootstrap-server", "[::1]:9092"]).is_ok());
    assert_eq!(
        parse(&["--topic", "t", "--bootstrap-server", "a:1,b"])
            .unwrap_err()
            .0,
        "Please provide valid host:port like host1:9091,host2:9092"
    );
    assert_eq!(
        parse(&["--topic", "t", "--bootstrap-server", " "])
            .unwrap_err()
            .0,
        "Error while validating the bootstrap address"
    );
}

#[test]
fn defaults_are_the_console_producers_own() {
    let p = props(&["--topic", "t", "--bootstrap-server", "h:1"]);
    let expected = [
        ("bootstrap.servers", "h:1"),
        ("compression.type", "none"),
        ("client.id", "console-producer"),
        ("key.serializer", BYTE_ARRAY_SERIALIZER),
        ("value.serializer", BYTE_ARRAY_SERIALIZER),
        ("linger.ms", "1000"),
        ("acks", "-1"),
        ("request.timeout.ms", "1500"),
        ("retries", "3"),
        ("retry.backoff.ms", "100"),
        ("send.buffer.bytes", "102400"),
        ("buffer.memory", "33554432"),
        ("batch.size", "16384"),
        ("metadata.max.age.ms", "300000"),
        ("max.block.ms", "60000"),
    ];
    for (k, v) in expected {
        assert_eq!(p.get(k), Some(v), "{k}");
    }
    assert_eq!(p.as_map().len(), expected.len());
    // And they make a valid config.
    let c = crate::producer::ProducerConfig::from_properties(p.as_map()).unwrap();
    assert_eq!((c.linger_ms(), c.acks(), c.retries()), (1000, Acks::All, 3));
}

#[test]
fn each_dedicated_option_sets_its_key() {
    let cases = [
        ("--timeout", "7", "linger.ms"),
        ("--request-required-acks", "1", "acks"),
        ("--request-timeout-ms", "9000", "request.timeout.ms"),
        ("--message-send-max-retries", "0", "retries"),
        ("--retry-backoff-ms", "5", "retry.backoff.ms"),
        ("--socket-buffer-size", "4096", "send.buffer.bytes"),
        ("--max-memory-bytes", "1048576", "buffer.memory"),
        ("--batch-size", "100", "batch.size"),
        ("--max-partition-memory-bytes", "200", "batch.size"),
        ("--metadata-expiry-ms", "1000", "metadata.max.age.ms"),
        ("--max-block-ms", "10", "max.block.ms"),
    ];
    for (flag, value, key) in cases {
        let p = props(&["--topic", "t", flag, value]);
        assert_eq!(p.get(key), Some(value), "{flag}");
    }
}

#[test]
fn max_partition_memory_bytes_wins_over_batch_size() {
    let p = props(&[
        "--topic",
        "t",
        "--max-partition-memory-bytes",
        "200",
        "--batch-size",
        "100",
    ]);
    assert_eq!(p.get("batch.size"), Some("200"));
    // The last occurrence of an option wins.
    let p = props(&["--topic", "t", "--timeout", "1", "--timeout", "2"]);
    assert_eq!(p.get("linger.ms"), Some("2"));
}

#[test]
fn compression_codec_defaults_to_gzip_without_a_value() {
    let cases: &[(&[&str], &str)] = &[
        (&["--compression-codec"], "gzip"),
        (&["--compression-codec", "--sync"], "gzip"),
        (&["--compression-codec="], "gzip"),
        (&["--compression-codec", "lz4"], "lz4"),
        (&["--compression-codec=none"], "none"),
    ];
    for (flags, codec) in cases {
        let mut args = vec!["--topic", "t"];
        args.extend_from_slice(flags);
        assert_eq!(
            props(&args).get("compression.type"),
            Some(*codec),
            "{flags:?}"
        );
    }
    assert!(opts(&["--topic", "t", "--compression-codec", "--sync"]).sync);
}

#[test]
fn precedence_is_file_then_property_then_dedicated_option() {
    let file = temp_file(
        "precedence.properties",
        "linger.ms=11\nacks=1\nbatch.size=111\nclient.id=from-file\ncompression.type=gzip\n\
         bootstrap.servers=file:1\nretries=7\n",
    );
    let f = file.to_str().unwrap();
    let p = props(&[
        "--topic",
        "t",
        "--producer.config",
        f,
        "--producer-property",
        "linger.ms=22",
        "--producer-property",
        "batch.size=222",
        "--batch-size",
        "333",
    ]);
    // The file alone.
    assert_eq!(p.get("acks"), Some("1"));
    assert_eq!(p.get("retries"), Some("7"));
    assert_eq!(p.get("client.id"), Some("from-file"));
    assert_eq!(p.get("compression.type"), Some("gzip"));
    assert_eq!(p.get("bootstrap.servers"), Some("file:1"));
    // A property over the file.
    assert_eq!(p.get("linger.ms"), Some("22"));
    // A dedicated option over both.
    assert_eq!(p.get("batch.size"), Some("333"));
    // --bootstrap-server and --compression-codec win over everything.
    let p = props(&[
        "--topic",
        "t",
        "--command-config",
        f,
        "--command-property",
        "acks=0",
        "--bootstrap-server",
        "flag:1",
        "--compression-codec",
        "none",
    ]);
    assert_eq!(p.get("bootstrap.servers"), Some("flag:1"));
    assert_eq!(p.get("compression.type"), Some("none"));
    assert_eq!(p.get("acks"), Some("0"));
}

#[test]
fn producer_properties_split_at_the_first_equals_sign() {
    let p = props(&[
        "--topic",
        "t",
        "--producer-property",
        "sasl.jaas.config=a=b",
        "--producer-property",
        "x",
    ]);
    assert_eq!(p.get("sasl.jaas.config"), Some("a=b"));
    assert_eq!(p.get("x"), Some(""));
}

#[test]
fn missing_producer_config_file_is_named() {
    let o = opts(&[
        "--topic",
        "t",
        "--producer.config",
        "/nonexistent/p.properties",
    ]);
    assert!(o
        .producer_properties()
        .unwrap_err()
        .contains("/nonexistent/p.properties"));
}

#[test]
fn reader_properties_come_from_file_then_property() {
    let file = temp_file(
        "reader.properties",
        "parse.key=true\nkey.separator=:\nnull.marker=N\n",
    );
    let o = opts(&[
        "--topic",
        "t",
        "--reader-config",
        file.to_str().unwrap(),
        "--property",
        "key.separator=|",
        "--reader-property",
        "parse.headers=true",
    ]);
    let c = o.reader_config().unwrap();
    assert_eq!(c.topic, "t");
    assert!(c.parse_key && c.parse_headers);
    assert_eq!(c.key_separator, "|");
    assert_eq!(c.null_marker.as_deref(), Some("N"));
    let o = opts(&["--topic", "t", "--property", "headers.separator=:"]);
    assert_eq!(
        o.reader_config().unwrap_err(),
        "headers.separator and headers.key.separator may not be equal"
    );
}

#[test]
fn only_javas_line_reader_is_accepted() {
    assert!(parse(&["--topic", "t", "--line-reader", LINE_MESSAGE_READER]).is_ok());
    let e = parse(&["--topic", "t", "--line-reader", "com.example.Reader"]).unwrap_err();
    assert!(e.0.contains("com.example.Reader"), "{e}");
}

struct Run {
    code: u8,
    stdout: String,
    stderr: String,
    backend: FakeBackend,
}

fn run_main(args: &[&str], input: &str, producer: std::sync::Arc<ScriptedProducer>) -> Run {
    let backend = FakeBackend::new(producer);
    let (stdout, out) = Output::capture();
    let (stderr, err) = Output::capture();
    let io = ConsoleIo {
        stdin: Box::new(Cursor::new(input.as_bytes().to_vec())),
        stdout,
        stderr,
        interactive: false,
    };
    let code = main(args.iter().copied(), &backend, io);
    Run {
        code,
        stdout: out.contents(),
        stderr: err.contents(),
        backend,
    }
}

#[test]
fn every_line_becomes_a_record_and_all_acked_exits_zero() {
    for sync in [false, true] {
        let producer = ScriptedProducer::with_rule(sync, |_, _| None);
        let mut args = vec![
            "--topic",
            "t",
            "--bootstrap-server",
            "h:1",
            "--property",
            "parse.key=true",
        ];
        if sync {
            args.push("--sync");
        }
        let run = run_main(&args, "k1\tv1\nk2\tv2\n", producer.clone());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr, "");
        let sent = producer.sent();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].key(), Some(&b"k2".to_vec()));
        assert_eq!(sent[1].value(), Some(&b"v2".to_vec()));
        assert!(producer.closed.load(Ordering::Relaxed));
        let config = run.backend.config();
        assert_eq!(config.client_id(), "console-producer");
        assert_eq!(config.linger_ms(), 1000);
        assert_eq!(config.compression_type(), CompressionType::None);
    }
}

#[test]
fn async_failures_are_each_reported_and_exit_one() {
    let producer = ScriptedProducer::with_rule(false, |n, _| {
        (n % 2 == 0).then(|| Error::broker(ErrorCode::RECORD_LIST_TOO_LARGE))
    });
    let run = run_main(
        &["--topic", "t", "--bootstrap-server", "h:1"],
        "a\nbb\nc\ndddd\n",
        producer.clone(),
    );
    assert_eq!(run.code, 1);
    assert_eq!(producer.sent().len(), 4);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stderr);
    assert!(
        lines[0].starts_with("Error when sending message 2 to topic t with key: null, value: 2 bytes with error: broker error"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("Error when sending message 4 "),
        "{}",
        lines[1]
    );
}

#[test]
fn sync_stops_at_the_first_failure() {
    let producer = ScriptedProducer::with_rule(true, |n, _| {
        (n == 2).then(|| Error::Timeout("Expiring 1 record(s)".into()))
    });
    let run = run_main(
        &["--topic", "t", "--bootstrap-server", "h:1", "--sync"],
        "a\nb\nc\n",
        producer.clone(),
    );
    assert_eq!(run.code, 1);
    assert_eq!(producer.sent().len(), 2);
    assert!(
        run.stderr.contains("message 2 to topic t"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Expiring 1 record(s)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_line_that_does_not_parse_stops_the_tool_with_javas_message() {
    let producer = ScriptedProducer::with_rule(false, |_, _| None);
    let run = run_main(
        &[
            "--topic",
            "t",
            "--bootstrap-server",
            "h:1",
            "--property",
            "parse.key=true",
        ],
        "k\tv\nno separator\nk\tv\n",
        producer.clone(),
    );
    assert_eq!(run.code, 1);
    // The record before the bad line is still delivered.
    assert_eq!(producer.sent().len(), 1);
    assert!(producer.closed.load(Ordering::Relaxed));
    assert_eq!(
        run.stderr,
        "Error: No key separator found on line number 2: 'no separator'\n"
    );
}

#[test]
fn records_lost_at_close_are_a_failure() {
    let producer = ScriptedProducer::with_rule(false, |_, _| None);
    producer.lose_callbacks.store(true, Ordering::Relaxed);
    let run = run_main(
        &["--topic", "t", "--bootstrap-server", "h:1"],
        "a\nb\n",
        producer,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("2 of 2 records were neither acknowledged nor failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_close_error_is_a_failure() {
    let producer = ScriptedProducer::acking();
    *producer.close_error.lock() = Some(Error::Closed("boom".into()));
    let run = run_main(
        &["--topic", "t", "--bootstrap-server", "h:1"],
        "a\n",
        producer,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("Error closing the producer: closed: boom"),
        "{}",
        run.stderr
    );
}

#[test]
fn empty_input_sends_nothing_and_succeeds() {
    let producer = ScriptedProducer::acking();
    let run = run_main(
        &["--topic", "t", "--bootstrap-server", "h:1"],
        "",
        producer.clone(),
    );
    assert_eq!(run.code, 0);
    assert!(producer.sent().is_empty());
}

#[test]
fn without_bootstrap_servers_the_embedded_cluster_is_started_and_announced() {
    let producer = ScriptedProducer::acking();
    let run = run_main(&["--topic", "t"], "a\n", producer);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(*run.backend.cluster_started.lock(), Some(3));
    assert_eq!(
        run.stderr,
        "No --bootstrap-server given: started an embedded MockCluster with 3 brokers at \
         127.0.0.1:39092,127.0.0.1:39093\n"
    );
    assert_eq!(
        run.backend.config().bootstrap_servers(),
        ["127.0.0.1:39092", "127.0.0.1:39093"]
    );
    // bootstrap.servers from a property is enough: no cluster.
    let run = run_main(
        &[
            "--topic",
            "t",
            "--producer-property",
            "bootstrap.servers=p:1",
        ],
        "a\n",
        ScriptedProducer::acking(),
    );
    assert_eq!(run.code, 0);
    assert_eq!(*run.backend.cluster_started.lock(), None);
}

#[test]
fn a_cluster_that_cannot_start_is_reported() {
    let mut backend = FakeBackend::new(ScriptedProducer::acking());
    backend.cluster_error = Some("no ports".into());
    let (stderr, err) = Output::capture();
    let io = ConsoleIo {
        stdin: Box::new(Cursor::new(Vec::new())),
        stdout: Output::capture().0,
        stderr,
        interactive: false,
    };
    assert_eq!(main(["--topic", "t"], &backend, io), 1);
    assert!(err.contents().contains("no ports"), "{}", err.contents());
}

#[test]
fn usage_errors_print_the_message_and_usage_and_exit_one() {
    let run = run_main(
        &["--bootstrap-server", "h:1"],
        "",
        ScriptedProducer::acking(),
    );
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .starts_with("Missing required argument \"[topic]\"\nUsage: kafka-console-producer"));
    let run = run_main(&["--help"], "", ScriptedProducer::acking());
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(run.stdout.starts_with("Usage: kafka-console-producer"));
    let run = run_main(&["--version"], "", ScriptedProducer::acking());
    assert_eq!(run.stdout, format!("{}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_invalid_producer_config_is_reported_with_the_key() {
    let run = run_main(
        &[
            "--topic",
            "t",
            "--bootstrap-server",
            "h:1",
            "--request-required-acks",
            "2",
        ],
        "a\n",
        ScriptedProducer::acking(),
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("acks"), "{}", run.stderr);
}

#[test]
fn interactive_runs_print_javas_prompt() {
    let backend = FakeBackend::new(ScriptedProducer::acking());
    let (stdout, out) = Output::capture();
    let io = ConsoleIo {
        stdin: Box::new(Cursor::new(b"a\n".to_vec())),
        stdout,
        stderr: Output::capture().0,
        interactive: true,
    };
    assert_eq!(
        main(["--topic", "t", "--bootstrap-server", "h:1"], &backend, io),
        0
    );
    assert_eq!(out.contents(), ">>");
}

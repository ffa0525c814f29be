//! Tests of the perf tool's options, producer properties and payload files.

use super::*;

fn parse(args: &[&str]) -> Result<Parsed<PerfOptions>, UsageError> {
    PerfOptions::parse(args.iter().copied())
}

fn opts(args: &[&str]) -> PerfOptions {
    match parse(args) {
        Ok(Parsed::Run(o)) => o,
        other => panic!("{args:?}: {other:?}"),
    }
}

const BASE: &[&str] = &["--topic", "t", "--num-records", "10", "--throughput", "-1"];

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    BASE.iter().chain(extra.iter()).copied().collect()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kp-perf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn no_arguments_is_help_as_in_java() {
    assert_eq!(parse(&[]), Ok(Parsed::Help));
    assert_eq!(parse(&["--help"]), Ok(Parsed::Help));
    assert_eq!(parse(&["--version"]), Ok(Parsed::Version));
}

#[test]
fn every_option_is_read() {
    let o = opts(&[
        "--topic",
        "demo",
        "--num-records",
        "1000000",
        "--record-size",
        "100",
        "--throughput",
        "2.5",
        "--producer-props",
        "acks=1",
        "linger.ms=5",
        "--producer.config",
        "/p",
        "--bootstrap-server",
        "b:1",
        "--print-metrics",
        "--warmup-records",
        "10",
        "--transactional-id",
        "tx",
        "--transaction-duration-ms",
        "50",
        "--payload-delimiter",
        ",",
    ]);
    assert_eq!(o.topic, "demo");
    assert_eq!(o.num_records, 1_000_000);
    assert_eq!(o.payload, PayloadSource::RecordSize(100));
    assert_eq!(o.throughput, 2.5);
    assert_eq!(o.producer_props, ["acks=1", "linger.ms=5"]);
    assert_eq!(o.producer_config.as_deref(), Some(Path::new("/p")));
    assert_eq!(o.bootstrap_server.as_deref(), Some("b:1"));
    assert!(o.print_metrics);
    assert_eq!(o.warmup_records, 10);
    assert_eq!(o.transactional_id.as_deref(), Some("tx"));
    assert_eq!(o.transaction_duration_ms, Some(50));
    assert_eq!(o.payload_delimiter, ",");
}

#[test]
fn defaults() {
    let o = opts(&with(&["--payload-monotonic"]));
    assert_eq!(o.payload, PayloadSource::Monotonic);
    assert_eq!(o.payload_delimiter, "\n");
    assert_eq!(o.warmup_records, 0);
    assert!(!o.print_metrics && o.producer_props.is_empty() && o.bootstrap_server.is_none());
    // Java's printed default, the two characters \n, means a newline.
    assert_eq!(
        opts(&with(&[
            "--payload-monotonic",
            "--payload-delimiter",
            "\\n"
        ]))
        .payload_delimiter,
        "\n"
    );
}

#[test]
fn required_arguments_are_named() {
    assert_eq!(
        parse(&[
            "--num-records",
            "1",
            "--throughput",
            "1",
            "--record-size",
            "1"
        ])
        .unwrap_err()
        .0,
        "argument --topic is required"
    );
    assert_eq!(
        parse(&["--topic", "t", "--throughput", "1", "--record-size", "1"])
            .unwrap_err()
            .0,
        "argument --num-records is required"
    );
    assert_eq!(
        parse(&["--topic", "t", "--num-records", "1", "--record-size", "1"])
            .unwrap_err()
            .0,
        "argument --throughput is required"
    );
    assert_eq!(
        parse(BASE).unwrap_err().0,
        "one of the arguments --record-size --payload-file --payload-monotonic is required"
    );
}

#[test]
fn payload_options_exclude_each_other() {
    assert_eq!(
        parse(&with(&["--record-size", "1", "--payload-monotonic"]))
            .unwrap_err()
            .0,
        "argument --payload-monotonic: not allowed with argument --record-size"
    );
    assert_eq!(
        parse(&with(&["--payload-file", "f", "--record-size", "1"]))
            .unwrap_err()
            .0,
        "argument --record-size: not allowed with argument --payload-file"
    );
}

#[test]
fn javas_value_checks() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--topic", "t", "--num-records", "0", "--throughput", "1", "--payload-monotonic"],
            "--num-records should be greater than zero",
        ),
        (&["--record-size", "0"], "--record-size should be greater than zero"),
        (
            &["--payload-monotonic", "--warmup-records", "10"],
            "The value for --warmup-records must be strictly fewer than the number of records in the test, --num-records.",
        ),
        (
            &["--payload-monotonic", "--transaction-duration-ms", "0"],
            "--transaction-duration-ms should be greater than zero",
        ),
    ];
    for (args, message) in cases {
        let args = if args[0] == "--topic" {
            args.to_vec()
        } else {
            with(args)
        };
        assert_eq!(parse(&args).unwrap_err().0, *message, "{args:?}");
    }
    // A negative warm-up is 0, as Java's Math.max(.., 0).
    assert_eq!(
        opts(&with(&["--payload-monotonic", "--warmup-records", "-5"])).warmup_records,
        0
    );
}

#[test]
fn malformed_values_and_unknown_options() {
    assert_eq!(
        parse(&with(&["--record-size", "big"])).unwrap_err().0,
        "option --record-size: cannot parse 'big' as an integer"
    );
    assert!(parse(&["--topic", "t", "--num-records", "1", "--throughput", "fast"]).is_err());
    assert_eq!(
        parse(&with(&["--payload-monotonic", "--nope"]))
            .unwrap_err()
            .0,
        "--nope is not a recognized option"
    );
    assert_eq!(
        parse(&with(&["--payload-monotonic", "stray"]))
            .unwrap_err()
            .0,
        "unrecognized arguments: 'stray'"
    );
    assert!(parse(&with(&["--payload-monotonic", "--producer-props"])).is_err());
    // Unique prefixes work, as in argparse4j.
    assert_eq!(
        opts(&["--top", "t", "--num", "3", "--thr", "-1", "--record-s", "7"]).num_records,
        3
    );
}

#[test]
fn producer_props_accumulate_and_take_kafka_4_2_names() {
    let o = opts(&with(&[
        "--record-size",
        "1",
        "--producer-props",
        "a=1",
        "b=2",
        "--command-property",
        "c=3",
        "--command-config",
        "/f",
    ]));
    assert_eq!(o.producer_props, ["a=1", "b=2", "c=3"]);
    assert_eq!(o.producer_config.as_deref(), Some(Path::new("/f")));
}

#[test]
fn producer_properties_precedence_and_javas_rules() {
    let file = temp_file(
        "perf.properties",
        b"acks=0\nlinger.ms=9\nbootstrap.servers=file:1\nclient.id=f\n",
    );
    let f = file.to_str().unwrap();
    let p = opts(&with(&[
        "--record-size",
        "1",
        "--producer.config",
        f,
        "--producer-props",
        "linger.ms=1",
    ]))
    .producer_properties()
    .unwrap();
    assert_eq!(p.get("acks"), Some("0"));
    assert_eq!(p.get("linger.ms"), Some("1"));
    assert_eq!(p.get("bootstrap.servers"), Some("file:1"));
    assert_eq!(p.get("client.id"), Some("f"));
    assert_eq!(p.get("key.serializer"), Some(BYTE_ARRAY_SERIALIZER));
    let p = opts(&with(&[
        "--record-size",
        "1",
        "--producer.config",
        f,
        "--bootstrap-server",
        "flag:1",
        "--producer-props",
        "bootstrap.servers=prop:1",
    ]))
    .producer_properties()
    .unwrap();
    assert_eq!(p.get("bootstrap.servers"), Some("flag:1"));
    let p = opts(&with(&["--record-size", "1"]))
        .producer_properties()
        .unwrap();
    assert_eq!(p.get("client.id"), Some("perf-producer-client"));
    assert!(!p.contains("bootstrap.servers"));
    for bad in ["a=b=c", "k=", "novalue"] {
        let e = opts(&with(&["--record-size", "1", "--producer-props", bad]))
            .producer_properties()
            .unwrap_err();
        assert_eq!(e, format!("Invalid property: {bad}"));
    }
}

#[test]
fn payload_files_split_like_java() {
    let f = temp_file("payloads.txt", b"one\ntwo\n\nthree\n\n");
    let got = read_payload_file(&f, "\n").unwrap();
    assert_eq!(
        got,
        [b"one".to_vec(), b"two".to_vec(), vec![], b"three".to_vec()]
    );
    let got = read_payload_file(&f, "o").unwrap();
    assert_eq!(got[0], b"".to_vec());
    let empty = temp_file("empty.txt", b"");
    let message = "File does not exist or empty file provided.";
    assert_eq!(read_payload_file(&empty, "\n").unwrap_err(), message);
    assert_eq!(
        read_payload_file(Path::new("/nonexistent/payloads"), "\n").unwrap_err(),
        message
    );
}

#[test]
fn embedded_cluster_options() {
    let o = opts(&with(&["--payload-monotonic"]));
    assert_eq!(o.embedded, EmbeddedOptions::default());
    let o = opts(&with(&[
        "--payload-monotonic",
        "--embedded-sink",
        "--embedded-partitions",
        "1000",
    ]));
    assert_eq!(
        o.embedded,
        EmbeddedOptions {
            sink: true,
            partitions: Some(1000)
        }
    );
    assert_eq!(
        parse(&with(&[
            "--payload-monotonic",
            "--embedded-partitions",
            "0"
        ]))
        .unwrap_err()
        .0,
        "--embedded-partitions should be greater than zero"
    );
}

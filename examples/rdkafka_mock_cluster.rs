//! Starts a librdkafka mock cluster (through the `rdkafka` dev-dependency)
//! and keeps it running, so the tools can be pointed at brokers we did not
//! write:
//!
//! ```text
//! cargo run --release --example rdkafka_mock_cluster -- --brokers 3 --topic demo:6
//! # prints: bootstrap.servers=127.0.0.1:PORT,127.0.0.1:PORT,127.0.0.1:PORT
//! cargo run --release --bin kafka-producer-perf-test -- --topic demo \
//!     --num-records 1000000 --record-size 100 --throughput -1 \
//!     --bootstrap-server 127.0.0.1:PORT,...
//! ```
//!
//! It runs until its standard input closes (Ctrl-D, or the end of a pipe)
//! or it is interrupted (Ctrl-C). What the mock does differently from a
//! Kafka broker (see `tests/harness.rs`): it answers ApiVersions v3+ with a
//! malformed UNSUPPORTED_VERSION, puts log_append_time 1234 in every Produce
//! answer, keeps only the newest 5 MiB of each partition, and auto-creates
//! unknown topics with 4 partitions.

use std::io::{Read, Write};
use std::process::ExitCode;

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

const USAGE: &str = "\
Usage: rdkafka_mock_cluster [--brokers N] [--replication R] [--topic NAME:PARTITIONS ...]

Starts a librdkafka mock cluster of N brokers (default 3) on loopback ports,
creates each topic (R replicas, default min(N, 3)), prints
bootstrap.servers=... on standard output, and runs until standard input
closes or Ctrl-C.";

/// The command line, parsed.
#[derive(Debug)]
struct Args {
    brokers: i32,
    replication: Option<i32>,
    topics: Vec<(String, i32)>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut parsed = Args {
        brokers: 3,
        replication: None,
        topics: Vec::new(),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--brokers" => parsed.brokers = positive(&value("--brokers")?, "--brokers")?,
            "--replication" => {
                parsed.replication = Some(positive(&value("--replication")?, "--replication")?);
            }
            "--topic" => {
                let spec = value("--topic")?;
                let (name, partitions) = match spec.rsplit_once(':') {
                    Some((name, p)) => (name, positive(p, "--topic partitions")?),
                    None => (spec.as_str(), 1),
                };
                if name.is_empty() {
                    return Err(format!("--topic {spec:?}: empty topic name"));
                }
                parsed.topics.push((name.to_owned(), partitions));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(parsed))
}

fn positive(text: &str, what: &str) -> Result<i32, String> {
    match text.parse::<i32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{what}: {text:?} is not a positive number")),
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("rdkafka_mock_cluster: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let cluster: MockCluster<'static, DefaultProducerContext> = match MockCluster::new(args.brokers)
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "rdkafka_mock_cluster: cannot start {} brokers: {e}",
                args.brokers
            );
            return ExitCode::FAILURE;
        }
    };
    let replication = args.replication.unwrap_or(args.brokers.min(3));
    for (name, partitions) in &args.topics {
        if let Err(e) = cluster.create_topic(name, *partitions, replication) {
            eprintln!("rdkafka_mock_cluster: create topic {name} ({partitions} partitions): {e}");
            return ExitCode::FAILURE;
        }
        eprintln!("topic {name}: {partitions} partitions, {replication} replicas");
    }
    // The one line meant for scripts goes to stdout; the rest to stderr.
    println!("bootstrap.servers={}", cluster.bootstrap_servers());
    let _ = std::io::stdout().flush();
    eprintln!(
        "{} mock brokers running; close standard input (Ctrl-D) or press Ctrl-C to stop",
        args.brokers
    );
    // Block until stdin ends: read and discard whatever arrives.
    let mut sink = [0u8; 1024];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    drop(cluster);
    eprintln!("mock cluster stopped");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_brokers_and_topics() {
        let args = parse(&[
            "--brokers",
            "5",
            "--topic",
            "demo:6",
            "--topic=x",
            "--replication=2",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(args.brokers, 5);
        assert_eq!(args.replication, Some(2));
        assert_eq!(
            args.topics,
            vec![("demo".to_owned(), 6), ("x".to_owned(), 1)]
        );
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn refuses_bad_arguments() {
        assert!(parse(&["--brokers", "0"]).is_err());
        assert!(parse(&["--brokers"]).is_err());
        assert!(parse(&["--topic", "demo:x"]).is_err());
        assert!(parse(&["--topic", ":3"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }
}

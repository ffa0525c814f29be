//! This crate's `MockCluster` in sink mode as a broker process, so every
//! client of the comparison can be measured against a broker that
//! acknowledges without storing (the producer's own ceiling).
//!
//! ```text
//! compare-sink-cluster [--brokers N] [--topic NAME:PARTITIONS ...]
//! # stdout: bootstrap.servers=127.0.0.1:P1,...
//! # ... runs until standard input closes, then prints
//! # acknowledged_records=N produce_requests=M
//! ```
//!
//! The same command line and first line as `examples/rdkafka_mock_cluster`,
//! so `scripts/compare.py` starts both alike. Unknown topics are created
//! with 1 partition on first use. Sink mode still checks each batch's CRC
//! and the idempotence rules; it does not read the records, so batches in
//! any codec are accepted.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::process::ExitCode;

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::ApiKey;

fn parse(args: impl IntoIterator<Item = String>) -> Result<(usize, Vec<(String, i32)>), String> {
    let mut brokers = 3;
    let mut topics = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--brokers" => {
                brokers = value()?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--brokers: a positive number")?;
            }
            "--topic" => {
                let spec = value()?;
                let (name, partitions) = match spec.rsplit_once(':') {
                    Some((name, p)) => (
                        name.to_owned(),
                        p.parse()
                            .ok()
                            .filter(|&n| n > 0)
                            .ok_or(format!("--topic {spec}: bad partition count"))?,
                    ),
                    None => (spec, 1),
                };
                topics.push((name, partitions));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok((brokers, topics))
}

fn main() -> ExitCode {
    let (brokers, topics) = match parse(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("compare-sink-cluster: {e}");
            return ExitCode::from(2);
        }
    };
    let cluster = match MockCluster::builder().brokers(brokers).start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("compare-sink-cluster: cannot start {brokers} brokers: {e}");
            return ExitCode::FAILURE;
        }
    };
    cluster.set_sink_mode(true);
    for (name, partitions) in &topics {
        if let Err(e) = cluster.create_topic(name, *partitions) {
            eprintln!("compare-sink-cluster: topic {name}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "bootstrap.servers={}", cluster.bootstrap_servers());
    let _ = out.flush();
    // Run until standard input closes.
    let mut sink = [0u8; 1024];
    let mut stdin = std::io::stdin().lock();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    let acknowledged: i64 = topics
        .iter()
        .flat_map(|(name, partitions)| {
            (0..*partitions).map(|p| cluster.log_end_offset(name, p).unwrap_or(0))
        })
        .sum();
    let _ = writeln!(
        out,
        "acknowledged_records={acknowledged} produce_requests={}",
        cluster.request_count(ApiKey::PRODUCE)
    );
    let _ = out.flush();
    ExitCode::SUCCESS
}

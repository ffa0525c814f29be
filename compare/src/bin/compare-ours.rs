//! The comparison's runner for this crate's `KafkaProducer` (release build,
//! by path). Command line and output: see the `kafka_producer_compare`
//! library docs and `docs/performance.md`.
//!
//! The properties are given to `ProducerConfig::from_properties` as they
//! are (Java's key names are ours). A codec this build cannot write yet is
//! refused there and reported as the run's error.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use kafka_producer::producer::serialization::BytesSerializer;
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};
use kafka_producer_compare::args::Args;
use kafka_producer_compare::driver::{self, Ack, Client};

struct Ours(KafkaProducer<Vec<u8>, Vec<u8>>);

fn record(topic: &str, key: Option<Vec<u8>>, value: &[u8]) -> ProducerRecord<Vec<u8>, Vec<u8>> {
    // A new Vec per value, as a user building records would have.
    ProducerRecord::new(topic, value.to_vec()).with_key_opt(key)
}

impl Client for Ours {
    fn prepare(&self, topic: &str) -> Result<(), String> {
        self.0
            .partitions_for(topic)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn send(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8], ack: Ack) {
        // The callback runs exactly once, also when the send fails at once,
        // so no future is asked for (as librdkafka's runner has none).
        let _ = self
            .0
            .send_with_callback_only(record(topic, key, value), move |result| {
                ack.complete(result.map(drop).map_err(|e| e.to_string()));
            });
    }

    fn send_and_wait(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8]) -> Result<(), String> {
        self.0
            .send(record(topic, key, value))
            .and_then(|future| future.get())
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn flush(&self) -> Result<(), String> {
        self.0.flush().map_err(|e| e.to_string())
    }
}

impl Drop for Ours {
    fn drop(&mut self) {
        let _ = self.0.close();
    }
}

fn make(args: &Args) -> Result<Ours, String> {
    let mut props: Vec<(String, String)> =
        vec![("bootstrap.servers".into(), args.bootstrap.clone())];
    props.extend(args.props.iter().cloned());
    let config = ProducerConfig::from_properties(props).map_err(|e| e.to_string())?;
    KafkaProducer::new(config, BytesSerializer, BytesSerializer)
        .map(Ours)
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    // The crate has no version constant: the script prints the commit.
    driver::main("ours", "this repository", make)
}

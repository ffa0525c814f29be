//! `kafka-producer-perf-test`: measures producer throughput and latency
//! with Java's `kafka-producer-perf-test.sh` options and report lines. Run
//! with `--help` for the options; the logic lives in
//! `kafka_producer::tools::perf_run`, this file only hands it the real
//! standard streams, clock, sleep and producer.

use std::process::ExitCode;
use std::sync::Arc;

use kafka_producer::tools::cli::Output;
use kafka_producer::tools::perf_run::{main as perf_main, PerfEnv};
use kafka_producer::tools::wiring::DefaultBackend;
use kafka_producer::util::clock::SystemClock;

fn main() -> ExitCode {
    let env = PerfEnv {
        stdout: Output::stdout(),
        stderr: Output::stderr(),
        clock: Arc::new(SystemClock),
        sleep: Box::new(|d| match d {
            Some(d) => std::thread::sleep(d),
            // `--throughput 0`: Java blocks for ever on the first throttled send.
            None => loop {
                std::thread::park();
            },
        }),
    };
    ExitCode::from(perf_main(std::env::args_os().skip(1), &DefaultBackend, env))
}

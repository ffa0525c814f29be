//! `kafka-console-producer`: reads standard input line by line and sends
//! each line to a Kafka topic, as Java's `kafka-console-producer.sh` does.
//! Run with `--help` for the options; the logic lives in
//! `kafka_producer::tools::console_run`, this file only hands it the real
//! standard streams and producer.

use std::io::{BufReader, IsTerminal};
use std::process::ExitCode;

use kafka_producer::tools::cli::Output;
use kafka_producer::tools::console_run::{main as console_main, ConsoleIo};
use kafka_producer::tools::wiring::DefaultBackend;

fn main() -> ExitCode {
    let stdin = std::io::stdin();
    // Java prints its `>` prompt when a console is attached.
    let interactive = stdin.is_terminal() && std::io::stdout().is_terminal();
    let io = ConsoleIo {
        stdin: Box::new(BufReader::with_capacity(64 * 1024, stdin)),
        stdout: Output::stdout(),
        stderr: Output::stderr(),
        interactive,
    };
    ExitCode::from(console_main(
        std::env::args_os().skip(1),
        &DefaultBackend,
        io,
    ))
}

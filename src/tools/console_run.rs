//! Running `kafka-console-producer`: read records from the input, send
//! them, account for every acknowledgement.
//!
//! ```text
//!  stdin ──LineMessageReader──▶ record n ──send──▶ producer
//!                                  │ --sync: wait for record n's callback;
//!                                  │         a failure stops the tool
//!                                  │ else:   callback counts n acknowledged or
//!                                  │         prints "Error when sending message n ..."
//!  EOF or a line that does not parse (Java's message) ──▶ close(): waits for
//!  every callback ──▶ exit 0 only if every record read was acknowledged
//! ```
//!
//! Unlike Java's tool, which only logs failed sends and exits 0, this one
//! exits 1 when any record was not acknowledged.

use std::ffi::OsString;
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::backend::{ensure_bootstrap, Backend, SendCallback, ToolProducer};
use super::cli::{Output, Parsed};
use super::console::{ConsoleOptions, USAGE};
use super::line_reader::LineMessageReader;
use super::perf::EmbeddedOptions;
use crate::error::Error;
use crate::producer::ProducerConfig;

/// Standard input and output for [`main`], replaceable in tests.
pub struct ConsoleIo {
    /// Where records are read from.
    pub stdin: Box<dyn BufRead + Send>,
    /// Help, version and the `>` prompt.
    pub stdout: Output,
    /// Errors and notices.
    pub stderr: Output,
    /// Whether to print Java's `>` prompt before each line (Java does when
    /// a console is attached).
    pub interactive: bool,
}

impl std::fmt::Debug for ConsoleIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleIo")
            .field("interactive", &self.interactive)
            .finish_non_exhaustive()
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Records handed to the producer.
    pub sent: u64,
    /// Records the broker acknowledged.
    pub acknowledged: u64,
    /// Records whose send failed.
    pub failed: u64,
    /// The error that stopped reading, if any (Java's message).
    pub reader_error: Option<String>,
    /// The error closing the producer, if any.
    pub close_error: Option<String>,
}

impl RunSummary {
    /// Whether every record read was acknowledged and nothing went wrong.
    #[must_use]
    pub fn success(&self) -> bool {
        self.reader_error.is_none()
            && self.close_error.is_none()
            && self.failed == 0
            && self.acknowledged == self.sent
    }
}

/// What a failure message says about a record (Java's
/// `ErrorLoggingCallback` prints sizes, not contents).
struct RecordInfo {
    number: u64,
    topic: String,
    key_len: Option<usize>,
    value_len: Option<usize>,
}

impl RecordInfo {
    fn failure(&self, e: &Error) -> String {
        let size = |len: Option<usize>| len.map_or("null".to_owned(), |n| format!("{n} bytes"));
        format!(
            "Error when sending message {} to topic {} with key: {}, value: {} with error: {e}",
            self.number,
            self.topic,
            size(self.key_len),
            size(self.value_len),
        )
    }
}

/// Sends every record `reader` yields with `producer`, then closes it.
/// Failures and the reader's error are printed to `stderr` as they happen.
pub fn run<R: BufRead>(
    producer: &dyn ToolProducer,
    reader: LineMessageReader<R>,
    sync: bool,
    stderr: &Output,
) -> RunSummary {
    let acked = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut summary = RunSummary::default();
    for item in reader {
        let record = match item {
            Ok(record) => record,
            Err(e) => {
                stderr.line(&format!("Error: {e}"));
                summary.reader_error = Some(e.0);
                break;
            }
        };
        summary.sent += 1;
        let info = RecordInfo {
            number: summary.sent,
            topic: record.topic().to_owned(),
            key_len: record.key().map(Vec::len),
            value_len: record.value().map(Vec::len),
        };
        if sync {
            let (tx, rx) = crossbeam_channel::bounded(1);
            producer.send(
                record,
                SendCallback::new(move |result| {
                    // The receiver waits below; it cannot be gone.
                    let _ = tx.send(result);
                }),
            );
            let outcome = rx
                .recv()
                .unwrap_or_else(|_| Err(Error::Other("the send callback never ran".into())));
            match outcome {
                Ok(_) => {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    // Java's --sync rethrows the failure and stops.
                    failed.fetch_add(1, Ordering::Relaxed);
                    stderr.line(&info.failure(&e));
                    break;
                }
            }
        } else {
            let (acked, failed, stderr) = (acked.clone(), failed.clone(), stderr.clone());
            producer.send(
                record,
                SendCallback::new(move |result| match result {
                    Ok(_) => {
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        stderr.line(&info.failure(&e));
                    }
                }),
            );
        }
    }
    if let Err(e) = producer.close() {
        stderr.line(&format!("Error closing the producer: {e}"));
        summary.close_error = Some(e.to_string());
    }
    summary.acknowledged = acked.load(Ordering::Relaxed);
    summary.failed = failed.load(Ordering::Relaxed);
    let pending = summary
        .sent
        .saturating_sub(summary.acknowledged + summary.failed);
    if pending > 0 {
        stderr.line(&format!(
            "{pending} of {} records were neither acknowledged nor failed when the producer closed",
            summary.sent
        ));
    }
    summary
}

/// The whole tool: parse `args` (without the program name), set up, run.
/// Returns the exit status.
pub fn main<I>(args: I, backend: &dyn Backend, io: ConsoleIo) -> u8
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let ConsoleIo {
        stdin,
        stdout,
        stderr,
        interactive,
    } = io;
    let opts = match ConsoleOptions::parse(args) {
        Ok(Parsed::Run(opts)) => opts,
        Ok(Parsed::Help) => {
            stdout.text(USAGE);
            return 0;
        }
        Ok(Parsed::Version) => {
            stdout.line(env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(e) => {
            stderr.line(&e.0);
            stderr.text(USAGE);
            return 1;
        }
    };
    let reader_config = match opts.reader_config() {
        Ok(c) => c,
        Err(e) => {
            stderr.line(&format!("Error: {e}"));
            return 1;
        }
    };
    let mut props = match opts.producer_properties() {
        Ok(p) => p,
        Err(e) => {
            stderr.line(&format!("Error: {e}"));
            return 1;
        }
    };
    // Declared before the producer so that it is dropped (stopped) after it.
    let _cluster = match ensure_bootstrap(backend, &mut props, &stderr, EmbeddedOptions::default())
    {
        Ok(cluster) => cluster,
        Err(e) => {
            stderr.line(&format!("Error: {e}"));
            return 1;
        }
    };
    let config = match ProducerConfig::from_properties(props.as_map()) {
        Ok(c) => c,
        Err(e) => {
            stderr.line(&format!("Error: invalid producer configuration: {e}"));
            return 1;
        }
    };
    let producer = match backend.create_producer(config) {
        Ok(p) => p,
        Err(e) => {
            stderr.line(&format!("Error: cannot create the producer: {e}"));
            return 1;
        }
    };
    let mut reader = LineMessageReader::new(reader_config, stdin);
    if interactive {
        reader = reader.with_prompt(Box::new(stdout.clone()));
    }
    let summary = run(producer.as_ref(), reader, opts.sync, &stderr);
    drop(producer);
    u8::from(!summary.success())
}

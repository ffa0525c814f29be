//! What the tools need from a producer and a cluster, as two small traits,
//! so that the tools' logic is tested with a scripted producer and the
//! binaries plug in the real ones.
//!
//! * [`ToolProducer`]: send a byte record with a callback, flush, close
//!   (implemented for `KafkaProducer<Vec<u8>, Vec<u8>>`);
//! * [`Backend`]: make that producer from a [`ProducerConfig`], and start an
//!   embedded cluster when no `--bootstrap-server` is given.

use std::fmt;

use crate::error::Error;
use crate::producer::future::RecordCallback;
use crate::producer::{ProducerConfig, RecordMetadata};

use super::line_reader::ByteRecord;
use super::perf::EmbeddedOptions;

/// The callback of one send: runs exactly once, with the record's metadata
/// or the error that failed it. A closure whose captures fit in four words
/// is kept in place, as the producer keeps its callbacks, so a tool sending
/// millions of records does not allocate a box for each.
pub struct SendCallback(RecordCallback);

impl SendCallback {
    /// Wraps `f`.
    pub fn new(f: impl FnOnce(Result<RecordMetadata, Error>) + Send + 'static) -> Self {
        SendCallback(RecordCallback::new(f))
    }

    /// Runs the callback.
    pub fn call(self, result: Result<RecordMetadata, Error>) {
        self.0.call(result);
    }

    /// The producer's form of it.
    pub(crate) fn into_record_callback(self) -> RecordCallback {
        self.0
    }
}

impl fmt::Debug for SendCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendCallback")
    }
}

/// The part of a producer the tools use.
pub trait ToolProducer: Send + Sync {
    /// Sends `record`. `callback` runs exactly once: when the broker
    /// acknowledges the record or the send fails, including when it fails
    /// at once (then it may run before `send` returns).
    fn send(&self, record: ByteRecord, callback: SendCallback);

    /// Waits until every record sent so far has completed.
    ///
    /// # Errors
    ///
    /// When the producer cannot flush (e.g. it is closed).
    fn flush(&self) -> Result<(), Error>;

    /// Sends what is buffered, waits for it to complete, and stops the
    /// producer; every callback has run when this returns.
    ///
    /// # Errors
    ///
    /// When the producer did not close cleanly.
    fn close(&self) -> Result<(), Error>;

    /// The producer's metrics as `(group:name:{tags}, value)` pairs, for
    /// `--print-metrics`; empty when the producer has none to show.
    fn metrics(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
}

/// A running cluster the tools started themselves; stopped when dropped.
pub trait EmbeddedCluster: Send {
    /// Its `host:port,host:port` bootstrap list.
    fn bootstrap_servers(&self) -> String;
}

/// Makes the producer and, when asked, an embedded cluster.
pub trait Backend {
    /// Starts an embedded cluster of `brokers` brokers.
    ///
    /// # Errors
    ///
    /// A message saying why it could not start.
    fn start_cluster(&self, brokers: u32) -> Result<Box<dyn EmbeddedCluster>, String>;

    /// Starts an embedded cluster of `brokers` brokers run as `options`
    /// say. The default serves only the default options.
    ///
    /// # Errors
    ///
    /// A message saying why it could not start.
    fn start_cluster_with(
        &self,
        brokers: u32,
        options: EmbeddedOptions,
    ) -> Result<Box<dyn EmbeddedCluster>, String> {
        if options == EmbeddedOptions::default() {
            self.start_cluster(brokers)
        } else {
            Err(format!("this embedded cluster cannot run with {options:?}"))
        }
    }

    /// A producer with `config`.
    ///
    /// # Errors
    ///
    /// When the producer cannot be created.
    fn create_producer(&self, config: ProducerConfig) -> Result<Box<dyn ToolProducer>, Error>;
}

impl fmt::Debug for dyn ToolProducer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ToolProducer")
    }
}

impl fmt::Debug for dyn EmbeddedCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmbeddedCluster({})", self.bootstrap_servers())
    }
}

/// How many brokers the embedded cluster has.
pub const EMBEDDED_BROKERS: u32 = 3;

/// Starts the embedded cluster when `bootstrap.servers` is not set, sets it,
/// and says so on `stderr` (the tools' promise when run without
/// `--bootstrap-server`).
///
/// # Errors
///
/// The message to print when the cluster cannot start.
pub(crate) fn ensure_bootstrap(
    backend: &dyn Backend,
    props: &mut super::cli::Properties,
    stderr: &super::cli::Output,
    options: EmbeddedOptions,
) -> Result<Option<Box<dyn EmbeddedCluster>>, String> {
    if props.contains("bootstrap.servers") {
        if options != EmbeddedOptions::default() {
            return Err(
                "--embedded-sink and --embedded-partitions need the embedded cluster: \
                 give no bootstrap server"
                    .to_owned(),
            );
        }
        return Ok(None);
    }
    let cluster = backend
        .start_cluster_with(EMBEDDED_BROKERS, options)
        .map_err(|e| {
            format!("no --bootstrap-server given and the embedded cluster could not start: {e}")
        })?;
    let servers = cluster.bootstrap_servers();
    stderr.line(&format!(
        "No --bootstrap-server given: started an embedded MockCluster with {EMBEDDED_BROKERS} brokers at {servers}"
    ));
    props.set("bootstrap.servers", servers);
    Ok(Some(cluster))
}

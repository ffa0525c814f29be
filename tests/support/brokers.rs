//! Kafka brokers written by others, for the end-to-end tests, and a consumer
//! that is not ours to read back what was produced.
//!
//! - [`RdMock`]: librdkafka's in-process mock cluster (through the `rdkafka`
//!   crate's `mocking` module): several brokers on loopback ports, topics
//!   created through its API, fault injection through [`RdMock::cluster`].
//! - [`Tansu`]: a real Kafka-compatible broker process (tansu, memory
//!   storage) started on a free loopback port and killed on drop. It is
//!   installed by `scripts/install-tansu.sh`; without it [`Tansu::start`]
//!   returns `None` so a plain `cargo test` passes, except under `CI=true`,
//!   where a missing broker fails the test.
//! - [`read_back`]: librdkafka's `BaseConsumer` with CRC checks on, assigned
//!   every partition from the beginning, returning each record's fields
//!   ([`ConsumedRecord`]) for a field-by-field comparison.
//! - [`exchange`]: one request and response over a plain socket with our
//!   own codec (raw Produce requests, [`probe_api_versions`] to see what a
//!   broker advertises).
//!
//! Nothing here is the producer under test: the brokers and the consumer are
//! the references it is checked against.

use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kafka_producer::protocol::codec::DecodeError;
use kafka_producer::protocol::header::{decode_response, encode_request, RequestHeader};
use kafka_producer::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_producer::protocol::messages::{Request, Response};
use kafka_producer::protocol::ErrorCode;
use kafka_producer::util::clock::{Clock, SystemClock};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

pub use rdkafka::message::Timestamp;

// ---------------------------------------------------------------------------
// librdkafka's mock cluster

/// librdkafka's mock cluster: `brokers` brokers listening on loopback ports,
/// served by librdkafka's own threads.
///
/// `MockCluster` holds a raw pointer, so it is neither `Send` nor `Sync`:
/// keep the `RdMock` on the test thread, which creates it, changes it
/// (topics, faults) and drops it at the end. Producers and consumers on any
/// thread reach it through [`RdMock::bootstrap`] only, over TCP. Dropping it
/// destroys the cluster, so drop clients first (declare the `RdMock` first).
///
/// What it serves (librdkafka 2.12): it advertises ApiVersions v0-v2 only
/// (a v3+ request gets a malformed UNSUPPORTED_VERSION answer, see
/// `tests/harness.rs`) and no CreateTopics; a topic that was not made with
/// [`RdMock::create_topic`] is auto-created with 4 partitions on first use.
/// Produce answers always carry log_append_time_ms 1234, and batches are
/// stored without a CRC check ([`read_back`] is what checks them).
pub struct RdMock {
    cluster: MockCluster<'static, DefaultProducerContext>,
    bootstrap: String,
}

impl RdMock {
    /// Starts a mock cluster of `brokers` brokers (ids 1..=brokers).
    pub fn start(brokers: i32) -> RdMock {
        let cluster = MockCluster::new(brokers)
            .unwrap_or_else(|e| panic!("librdkafka mock cluster of {brokers} brokers: {e}"));
        let bootstrap = cluster.bootstrap_servers();
        RdMock { cluster, bootstrap }
    }

    /// The `host:port,host:port,...` list of every broker.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Creates `name` with `partitions` partitions, each with `replication`
    /// replicas (at most the number of brokers); leaders are spread over the
    /// brokers by the mock.
    pub fn create_topic(&self, name: &str, partitions: i32, replication: i32) {
        self.cluster
            .create_topic(name, partitions, replication)
            .unwrap_or_else(|e| panic!("mock create_topic {name}/{partitions}: {e}"));
    }

    /// The mock cluster itself, for fault injection (`broker_down`,
    /// `request_errors`, `partition_leader`, `apiversion`, ...).
    pub fn cluster(&self) -> &MockCluster<'static, DefaultProducerContext> {
        &self.cluster
    }
}

impl fmt::Debug for RdMock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RdMock")
            .field("bootstrap", &self.bootstrap)
            .finish()
    }
}

// ---------------------------------------------------------------------------
// tansu

/// The version `scripts/install-tansu.sh` installs.
pub const TANSU_VERSION: &str = "0.6.0";

/// How long a broker may take to accept connections after it is started.
const TANSU_START_TIMEOUT: Duration = Duration::from_secs(30);

/// A tansu broker process with in-memory storage, listening on a free port of
/// 127.0.0.1; killed (and reaped) on drop.
///
/// tansu 0.6 stores batches without a CRC check, and its ListOffsets(latest)
/// answers the last batch's base offset + 1, not the log end offset: count
/// records with [`read_back`], not with [`watermarks`].
#[derive(Debug)]
pub struct Tansu {
    child: Child,
    bin: PathBuf,
    port: u16,
    log: PathBuf,
}

/// Is this a CI run (where a missing tansu is a failure, not a skip)?
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Where the tansu binary is: `$TANSU_BIN`, else the tools cache of
/// `scripts/install-tansu.sh`; `None` if neither exists.
pub fn tansu_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("TANSU_BIN") {
        let bin = PathBuf::from(bin);
        return bin.is_file().then_some(bin);
    }
    let root = match std::env::var_os("KAFKA_PRODUCER_TOOLS") {
        Some(root) => PathBuf::from(root),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cargo/kafka-producer-tools"),
    };
    let bin = root.join("bin").join("tansu");
    bin.is_file().then_some(bin)
}

impl Tansu {
    /// Starts a broker and waits until it accepts connections.
    ///
    /// Returns `None`, after printing why, when tansu is not installed; under
    /// `CI=true` that panics instead (CI installs it). Panics if the broker
    /// does not come up.
    pub fn start() -> Option<Tansu> {
        let Some(bin) = tansu_bin() else {
            let msg = "tansu not installed: broker tests skipped (run scripts/install-tansu.sh)";
            if in_ci() {
                panic!(
                    "CI=true and tansu is not installed: .ci/run installs it with \
                     scripts/install-tansu.sh (or set TANSU_BIN)"
                );
            }
            eprintln!("{msg}");
            return None;
        };
        // The free port is found by binding port 0 and releasing it, so
        // another process may take it before tansu binds it: try again then.
        let mut last_failure = String::new();
        for _ in 0..3 {
            match Tansu::spawn(&bin) {
                Ok(tansu) => return Some(tansu),
                Err(why) => last_failure = why,
            }
        }
        panic!("tansu did not start: {last_failure}");
    }

    fn spawn(bin: &Path) -> Result<Tansu, String> {
        let port = free_port();
        let log = std::env::temp_dir().join(format!(
            "kafka-producer-tansu-{}-{port}.log",
            std::process::id()
        ));
        let log_file =
            std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
        let url = format!("tcp://127.0.0.1:{port}");
        // tansu reads a `.env` in its working directory and flags default
        // from environment variables: run it in the temp dir and pass every
        // setting that matters explicitly.
        let child = Command::new(bin)
            .arg("broker")
            .args(["--cluster-id", "kafka-producer-tests"])
            .args(["--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut tansu = Tansu {
            child,
            bin: bin.to_path_buf(),
            port,
            log,
        };
        tansu.wait_until_listening()?;
        Ok(tansu)
    }

    /// Polls the port until a connection is accepted, the process exits or
    /// the start timeout passes.
    fn wait_until_listening(&mut self) -> Result<(), String> {
        let clock = SystemClock;
        let deadline = clock.now() + TANSU_START_TIMEOUT;
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("tansu exited with {status}: {}", self.log_tail()));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
                return Ok(());
            }
            if clock.now() >= deadline {
                return Err(format!(
                    "tansu did not listen on {addr} within {TANSU_START_TIMEOUT:?}: {}",
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:port`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Creates `name` with `partitions` partitions through tansu's CLI.
    pub fn create_topic(&self, name: &str, partitions: i32) {
        let out = Command::new(&self.bin)
            .args(["topic", "create"])
            .args(["--broker", &format!("tcp://127.0.0.1:{}", self.port)])
            .args(["--partitions", &partitions.to_string()])
            .arg(name)
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.bin.display()));
        assert!(
            out.status.success(),
            "tansu topic create {name} --partitions {partitions}: {}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The last lines the broker printed (for failure messages).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        // Already exited is fine: the kill error is then ignored and wait
        // reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("local addr of a bound socket")
        .port()
}

// ---------------------------------------------------------------------------
// reading back

/// One record as librdkafka's consumer read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset in the partition.
    pub offset: i64,
    /// The timestamp and its type (create time or log append time).
    pub timestamp: Timestamp,
    /// The key; `None` is a null key, `Some(vec![])` an empty one.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// The headers in order; a `None` value is a null header value.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Consumer errors that mean the bytes on the broker are wrong: a failed
/// CRC, an undecodable batch or record. Any of them fails the test at once.
fn is_corruption(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::BadMessage
            | RDKafkaErrorCode::BadCompression
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
    )
}

/// Reads `topic` (partitions `0..partitions`) from the beginning until
/// `expected_count` records arrived or `timeout` passed, and returns them
/// sorted by partition and offset.
///
/// librdkafka's consumer checks every batch's CRC (`check.crcs=true`) and
/// reads committed records only (its default `read_committed`); a corrupt
/// batch panics with librdkafka's message. The result may hold fewer records
/// than expected (timeout) or more (extras that arrived while the last poll
/// drained): compare its length.
pub fn read_back(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expected_count: usize,
    timeout: Duration,
) -> Vec<ConsumedRecord> {
    read_back_with(bootstrap, topic, partitions, expected_count, timeout, &[])
}

/// [`read_back`] with extra librdkafka consumer settings, e.g.
/// `("isolation.level", "read_uncommitted")`.
pub fn read_back_with(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expected_count: usize,
    timeout: Duration,
    extra: &[(&str, &str)],
) -> Vec<ConsumedRecord> {
    let consumer = consumer(bootstrap, extra);
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .expect("a valid partition offset");
    }
    consumer.assign(&assignment).expect("assign partitions");

    let clock = SystemClock;
    let deadline = clock.now() + timeout;
    let mut records = Vec::with_capacity(expected_count);
    let mut last_error: Option<KafkaError> = None;
    while records.len() < expected_count {
        let now = clock.now();
        if now >= deadline {
            eprintln!(
                "read_back {topic}: {} of {expected_count} records after {timeout:?} \
                 (last consumer error: {last_error:?})",
                records.len()
            );
            break;
        }
        match consumer.poll((deadline - now).min(Duration::from_millis(200))) {
            None => {}
            Some(Ok(msg)) => records.push(consumed(&msg)),
            Some(Err(e)) => {
                if e.rdkafka_error_code().is_some_and(is_corruption) {
                    panic!("read_back {topic}: corrupt data on the broker: {e}");
                }
                // Transient (leader not yet known, connection refused while a
                // mock broker is down, ...): librdkafka retries by itself.
                last_error = Some(e);
            }
        }
    }
    // Whatever is already fetched beyond the count (duplicates, strays) is
    // returned too, so the caller's length check sees it.
    while let Some(Ok(msg)) = consumer.poll(Duration::ZERO) {
        records.push(consumed(&msg));
    }
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

/// The low and high watermarks of each partition `0..partitions`.
pub fn watermarks(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    timeout: Duration,
) -> Vec<(i64, i64)> {
    let consumer = consumer(bootstrap, &[]);
    (0..partitions)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, timeout)
                .unwrap_or_else(|e| panic!("watermarks of {topic}-{p}: {e}"))
        })
        .collect()
}

fn consumer(bootstrap: &str, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        // Partitions are assigned by hand: no group, no commits.
        .set("group.id", "kafka-producer-read-back")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("check.crcs", "true")
        .set("fetch.wait.max.ms", "50")
        .set("broker.address.family", "v4");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    config.create().expect("librdkafka consumer")
}

fn consumed<M: Message>(msg: &M) -> ConsumedRecord {
    ConsumedRecord {
        topic: msg.topic().to_owned(),
        partition: msg.partition(),
        offset: msg.offset(),
        timestamp: msg.timestamp(),
        key: msg.key().map(<[u8]>::to_vec),
        value: msg.payload().map(<[u8]>::to_vec),
        headers: msg
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------
// what a broker advertises

/// What a broker answered to one ApiVersions request.
#[derive(Debug)]
pub struct ApiVersionsProbe {
    /// The response frame after its size prefix (header and body).
    pub frame: Vec<u8>,
    /// The frame decoded with our codec at the version asked for (with the
    /// v0 fallback for UNSUPPORTED_VERSION answers).
    pub decoded: Result<ApiVersionsResponse, DecodeError>,
}

impl ApiVersionsProbe {
    /// The error code in the body's first two bytes, readable even when the
    /// rest does not decode (ApiVersions responses always start with it).
    pub fn error_code(&self) -> Option<ErrorCode> {
        let b = self.frame.get(4..6)?;
        Some(ErrorCode(i16::from_be_bytes([b[0], b[1]])))
    }
}

/// Sends one request at `version` to `addr` (`host:port`) over a fresh
/// blocking socket, with our own codec, and returns the response frame
/// (after its size prefix) and its body decoded at `version`.
pub fn exchange<Q: Request, S: Response>(
    addr: &str,
    version: i16,
    request: &Q,
) -> (Vec<u8>, Result<S, DecodeError>) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    let timeout = Some(Duration::from_secs(10));
    stream
        .set_read_timeout(timeout)
        .expect("set a read timeout");
    stream
        .set_write_timeout(timeout)
        .expect("set a write timeout");
    let header = RequestHeader {
        api_key: Q::API_KEY,
        api_version: version,
        correlation_id: 7,
        client_id: Some("kafka-producer-probe".to_owned()),
    };
    let mut out = Vec::new();
    encode_request(&mut out, &header, request)
        .unwrap_or_else(|e| panic!("encode {} v{version}: {e}", Q::API_KEY));
    stream
        .write_all(&out)
        .unwrap_or_else(|e| panic!("send to {addr}: {e}"));
    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .unwrap_or_else(|e| panic!("response size from {addr}: {e}"));
    let size = usize::try_from(i32::from_be_bytes(size)).expect("a non-negative frame size");
    assert!(size < 1 << 24, "a response of {size} bytes");
    let mut frame = vec![0u8; size];
    stream
        .read_exact(&mut frame)
        .unwrap_or_else(|e| panic!("response from {addr}: {e}"));
    let decoded = decode_response::<S>(&frame, version).map(|(h, body)| {
        assert_eq!(h.correlation_id, 7, "correlation id");
        body
    });
    (frame, decoded)
}

/// Sends one ApiVersions request at `version` to `addr` and returns the
/// answer, raw and decoded (with the decoder's v0 fallback for
/// UNSUPPORTED_VERSION answers).
pub fn probe_api_versions(addr: &str, version: i16) -> ApiVersionsProbe {
    let (frame, decoded) = exchange(addr, version, &ApiVersionsRequest::this_client());
    ApiVersionsProbe { frame, decoded }
}

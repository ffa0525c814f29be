//! `kafka-producer-perf-test`: its options (Java's `ProducerPerformance`
//! argument parser and `ConfigPostProcessor`) and how they become producer
//! properties and payloads.
//!
//! Producer properties, lowest precedence first: the `--producer.config`
//! file (`--command-config`), the `--producer-props` pairs
//! (`--command-property`), then `--bootstrap-server`. As in Java,
//! `client.id` defaults to `perf-producer-client` and each
//! `--producer-props` entry must be exactly `key=value` (a value containing
//! `=` is rejected with Java's `Invalid property: ...`). Without any
//! `bootstrap.servers` the tool starts an embedded cluster.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lexopt::{Arg, Parser};

use super::cli::{
    load_properties_file, many_values, parsed_value, resolve_long, string_value, Parsed,
    Properties, UsageError,
};
use super::console::BYTE_ARRAY_SERIALIZER;

const OPTIONS: &[&str] = &[
    "topic",
    "num-records",
    "record-size",
    "payload-file",
    "payload-monotonic",
    "payload-delimiter",
    "throughput",
    "producer-props",
    "command-property",
    "producer.config",
    "command-config",
    "print-metrics",
    "transactional-id",
    "transaction-duration-ms",
    "warmup-records",
    "embedded-sink",
    "embedded-partitions",
    "bootstrap-server",
    "help",
    "version",
];

/// Where the record values come from (exactly one is required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadSource {
    /// `--record-size N`: N random uppercase letters, new for each record.
    RecordSize(usize),
    /// `--payload-file F`: a random one of the file's delimited payloads.
    File(PathBuf),
    /// `--payload-monotonic`: the record's index as decimal text.
    Monotonic,
}

/// The perf tool's command line.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfOptions {
    /// `--topic` (required).
    pub topic: String,
    /// `--num-records` (required, positive).
    pub num_records: i64,
    /// `--record-size`, `--payload-file` or `--payload-monotonic`.
    pub payload: PayloadSource,
    /// `--payload-delimiter` (default a newline).
    pub payload_delimiter: String,
    /// `--throughput` (required): records per second, negative for no limit.
    pub throughput: f64,
    /// `--producer-props` / `--command-property` entries, unparsed.
    pub producer_props: Vec<String>,
    /// `--producer.config` / `--command-config`.
    pub producer_config: Option<PathBuf>,
    /// `--bootstrap-server`.
    pub bootstrap_server: Option<String>,
    /// `--print-metrics`.
    pub print_metrics: bool,
    /// `--transactional-id`.
    pub transactional_id: Option<String>,
    /// `--transaction-duration-ms` (positive).
    pub transaction_duration_ms: Option<i64>,
    /// `--warmup-records` (default 0, fewer than `num_records`).
    pub warmup_records: i64,
    /// `--embedded-sink` and `--embedded-partitions` (not in Java): how to
    /// run the embedded cluster.
    pub embedded: EmbeddedOptions,
}

/// How the tools' embedded cluster runs (perf tool options, not in Java).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbeddedOptions {
    /// `--embedded-sink`: the brokers acknowledge without storing
    /// ([`MockCluster::set_sink_mode`](crate::mock::MockCluster)), to
    /// measure the producer alone.
    pub sink: bool,
    /// `--embedded-partitions N`: partitions of the auto-created topic
    /// (default 1).
    pub partitions: Option<i32>,
}

impl PerfOptions {
    /// Parses the arguments (without the program name). No arguments at
    /// all is [`Parsed::Help`], as in Java.
    ///
    /// # Errors
    ///
    /// A [`UsageError`] with argparse-style or Java's own messages.
    pub fn parse<I>(args: I) -> Result<Parsed<PerfOptions>, UsageError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if args.is_empty() {
            return Ok(Parsed::Help);
        }
        let mut p = Parser::from_args(args);
        let mut topic = None;
        let mut num_records = None;
        let mut throughput = None;
        let mut payloads: Vec<(&str, PayloadSource)> = Vec::new();
        let mut o = PerfOptions {
            topic: String::new(),
            num_records: 0,
            payload: PayloadSource::Monotonic,
            payload_delimiter: "\n".to_owned(),
            throughput: 0.0,
            producer_props: Vec::new(),
            producer_config: None,
            bootstrap_server: None,
            print_metrics: false,
            transactional_id: None,
            transaction_duration_ms: None,
            warmup_records: 0,
            embedded: EmbeddedOptions::default(),
        };
        let mut help = false;
        while let Some(arg) = p.next()? {
            let name = match arg {
                Arg::Long(name) => resolve_long(name, OPTIONS)?,
                Arg::Short('h') => "help",
                Arg::Short(c) => return Err(UsageError(format!("unrecognized arguments: '-{c}'"))),
                Arg::Value(v) => {
                    return Err(UsageError(format!(
                        "unrecognized arguments: '{}'",
                        v.to_string_lossy()
                    )))
                }
            };
            match name {
                "help" => help = true,
                "version" => return Ok(Parsed::Version),
                "topic" => topic = Some(string_value(&mut p, name)?),
                "num-records" => {
                    num_records = Some(parsed_value::<i64>(&mut p, name, "an integer")?)
                }
                "record-size" => {
                    let size = parsed_value::<i32>(&mut p, name, "an integer")?;
                    if size <= 0 {
                        return Err(UsageError::new("--record-size should be greater than zero"));
                    }
                    // Positive, so it fits.
                    payloads.push((
                        name,
                        PayloadSource::RecordSize(size.unsigned_abs() as usize),
                    ));
                }
                "payload-file" => {
                    payloads.push((
                        name,
                        PayloadSource::File(string_value(&mut p, name)?.into()),
                    ));
                }
                "payload-monotonic" => payloads.push((name, PayloadSource::Monotonic)),
                "payload-delimiter" => {
                    let d = string_value(&mut p, name)?;
                    // Java's default is the two characters `\n`, read as a newline.
                    o.payload_delimiter = if d == "\\n" { "\n".to_owned() } else { d };
                }
                "throughput" => throughput = Some(parsed_value::<f64>(&mut p, name, "a number")?),
                "producer-props" | "command-property" => {
                    o.producer_props.extend(many_values(&mut p, name)?);
                }
                "producer.config" | "command-config" => {
                    o.producer_config = Some(string_value(&mut p, name)?.into());
                }
                "bootstrap-server" => o.bootstrap_server = Some(string_value(&mut p, name)?),
                "print-metrics" => o.print_metrics = true,
                "transactional-id" => o.transactional_id = Some(string_value(&mut p, name)?),
                "transaction-duration-ms" => {
                    o.transaction_duration_ms =
                        Some(parsed_value::<i64>(&mut p, name, "an integer")?);
                }
                "embedded-sink" => o.embedded.sink = true,
                "embedded-partitions" => {
                    let n = parsed_value::<i32>(&mut p, name, "an integer")?;
                    if n <= 0 {
                        return Err(UsageError::new(
                            "--embedded-partitions should be greater than zero",
                        ));
                    }
                    o.embedded.partitions = Some(n);
                }
                "warmup-records" => {
                    o.warmup_records = parsed_value::<i64>(&mut p, name, "an integer")?.max(0);
                }
                other => return Err(UsageError(format!("unrecognized arguments: '--{other}'"))),
            }
        }
        if help {
            return Ok(Parsed::Help);
        }
        let required = |name: &str| UsageError(format!("argument --{name} is required"));
        o.topic = topic.ok_or_else(|| required("topic"))?;
        o.num_records = num_records.ok_or_else(|| required("num-records"))?;
        o.throughput = throughput.ok_or_else(|| required("throughput"))?;
        o.payload = match payloads.as_slice() {
            [] => return Err(UsageError::new(
                "one of the arguments --record-size --payload-file --payload-monotonic is required",
            )),
            [(_, only)] => only.clone(),
            [(first, _), (second, _), ..] => {
                return Err(UsageError(format!(
                    "argument --{second}: not allowed with argument --{first}"
                )))
            }
        };
        if o.num_records <= 0 {
            return Err(UsageError::new("--num-records should be greater than zero"));
        }
        if o.warmup_records >= o.num_records {
            return Err(UsageError::new(
                "The value for --warmup-records must be strictly fewer than the number of records in the test, --num-records.",
            ));
        }
        if o.transaction_duration_ms.is_some_and(|d| d <= 0) {
            return Err(UsageError::new(
                "--transaction-duration-ms should be greater than zero",
            ));
        }
        Ok(Parsed::Run(o))
    }

    /// The producer properties (see the [module docs](self)).
    ///
    /// # Errors
    ///
    /// Java's `Invalid property: ...` for an entry that is not exactly
    /// `key=value`, or a message naming an unreadable config file.
    pub fn producer_properties(&self) -> Result<Properties, String> {
        let mut p = Properties::new();
        if let Some(file) = &self.producer_config {
            p.extend(load_properties_file(file)?);
        }
        for prop in &self.producer_props {
            // Java: prop.split("=") must give exactly two pieces (trailing
            // empty pieces dropped, so "k=" is invalid too).
            let mut pieces: Vec<&str> = prop.split('=').collect();
            while pieces.last().is_some_and(|s| s.is_empty()) {
                pieces.pop();
            }
            match pieces.as_slice() {
                [k, v] => p.set(k, *v),
                _ => return Err(format!("Invalid property: {prop}")),
            }
        }
        p.set("key.serializer", BYTE_ARRAY_SERIALIZER);
        p.set("value.serializer", BYTE_ARRAY_SERIALIZER);
        p.set_default("client.id", "perf-producer-client");
        if let Some(servers) = &self.bootstrap_server {
            p.set("bootstrap.servers", servers.clone());
        }
        Ok(p)
    }

    /// Whether Java would run this test in transactions: a transactional
    /// id from any source, or a transaction duration.
    #[must_use]
    pub fn transactions_requested(&self, props: &Properties) -> bool {
        self.transaction_duration_ms.is_some()
            || self.transactional_id.is_some()
            || props.contains("transactional.id")
    }
}

/// The payloads of a `--payload-file`, split at `delimiter` as Java's
/// `String.split` would (trailing empty payloads dropped), read as UTF-8.
///
/// # Errors
///
/// Java's `File does not exist or empty file provided.`, or the read error.
pub fn read_payload_file(path: &Path, delimiter: &str) -> Result<Vec<Vec<u8>>, String> {
    let empty = || "File does not exist or empty file provided.".to_owned();
    let bytes = match std::fs::read(path) {
        Ok(b) if b.is_empty() => return Err(empty()),
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(empty()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut payloads: Vec<Vec<u8>> = if delimiter.is_empty() {
        text.chars().map(|c| c.to_string().into_bytes()).collect()
    } else {
        text.split(delimiter)
            .map(|s| s.as_bytes().to_vec())
            .collect()
    };
    while payloads.last().is_some_and(Vec::is_empty) {
        payloads.pop();
    }
    Ok(payloads)
}

/// The help text.
pub const USAGE: &str = "\
Usage: kafka-producer-perf-test --topic TOPIC --num-records N --throughput T
           (--record-size SIZE | --payload-file FILE | --payload-monotonic)
           [--bootstrap-server HOST:PORT,...] [--producer-props KEY=VALUE ...]
           [--producer.config FILE] [--payload-delimiter D] [--warmup-records N]
           [--print-metrics] [--transactional-id ID] [--transaction-duration-ms MS]
           [--embedded-sink] [--embedded-partitions N]

Measures producer throughput and latency (Java's kafka-producer-perf-test):
sends N keyless records as fast as allowed, prints a progress line every 5 s
and a summary with latency percentiles at the end.

Options:
  --topic TOPIC                  REQUIRED. The topic to send to.
  --num-records N                REQUIRED. How many records to send.
  --throughput T                 REQUIRED. At most about T records/sec; -1 for
                                 no limit.
  --record-size SIZE             Each record SIZE random uppercase letters.
  --payload-file FILE            Each record a random payload from FILE (UTF-8).
  --payload-monotonic            Each record its index as decimal text.
  --payload-delimiter D          Splits FILE into payloads (default: newline).
  --bootstrap-server HOSTS       The brokers. Without it, and without
                                 bootstrap.servers in the producer properties,
                                 an embedded 3-broker MockCluster is started
                                 (and reported on stderr).
  --producer-props KEY=VALUE ... Producer properties (or --command-property);
                                 they win over --producer.config.
  --producer.config FILE         Producer properties file (or --command-config).
  --warmup-records N             The first N records are warm-up: a second
                                 summary covers the rest (steady state).
  --embedded-sink                The embedded cluster acknowledges without
                                 storing, to measure the producer alone (not
                                 in Java; only without a bootstrap server).
  --embedded-partitions N        Partitions of the topic the embedded cluster
                                 creates (default 1; not in Java).
  --print-metrics                Print the producer's metrics at the end.
  --transactional-id ID          Accepted, but transactions are not supported
  --transaction-duration-ms MS   yet: the tool says so and exits 1.
  --help                         Print this help.
  --version                      Print the version.
";

#[cfg(test)]
#[path = "perf_tests.rs"]
mod tests;

//! `kafka-console-producer`: its options (Java's `ConsoleProducerOptions`)
//! and how they become producer and line-reader properties.
//!
//! Precedence of producer properties, lowest first, as in Java:
//!
//! 1. `--producer.config` file (`--command-config` is the Kafka 4.2 name);
//! 2. `--producer-property k=v` (`--command-property`), repeatable;
//! 3. the dedicated options (`--timeout` is `linger.ms`, ...) when given.
//!
//! A dedicated option that is not given sets the tool's own default (Java's
//! `ConsoleProducerOptions` defaults: `linger.ms=1000`, `acks=-1`,
//! `request.timeout.ms=1500`, `retries=3`, ...) only when neither the file
//! nor a `--producer-property` set that key. `--bootstrap-server` always
//! wins; `client.id` defaults to `console-producer`. When no source sets
//! `bootstrap.servers`, the tool starts an embedded cluster instead of
//! failing (see [`super::backend`]).
//!
//! Reader properties: `--reader-config` file, then `--property k=v` (or
//! `--reader-property`); the topic comes from `--topic`.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::{Arg, Parser};

use super::cli::{
    key_value, load_properties_file, optional_value, parsed_value, resolve_long, string_value,
    Parsed, Properties, UsageError,
};
use super::line_reader::{LineReaderConfig, ReaderError};

/// The Java serializer class the tool's records are written with.
pub const BYTE_ARRAY_SERIALIZER: &str = "org.apache.kafka.common.serialization.ByteArraySerializer";

/// The one line reader this tool has (Java's default `--line-reader`).
pub const LINE_MESSAGE_READER: &str = "org.apache.kafka.tools.LineMessageReader";

/// A dedicated option: its name, the producer key it sets, the tool's
/// default, and the Java type of its value.
struct Dedicated {
    option: &'static str,
    key: &'static str,
    default: &'static str,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Long,
    Text,
}

/// Java's order matters: `--max-partition-memory-bytes` comes after
/// `--batch-size` and wins over it.
const DEDICATED: &[Dedicated] = &[
    Dedicated {
        option: "timeout",
        key: "linger.ms",
        default: "1000",
        kind: Kind::Long,
    },
    Dedicated {
        option: "request-required-acks",
        key: "acks",
        default: "-1",
        kind: Kind::Text,
    },
    Dedicated {
        option: "request-timeout-ms",
        key: "request.timeout.ms",
        default: "1500",
        kind: Kind::Int,
    },
    Dedicated {
        option: "message-send-max-retries",
        key: "retries",
        default: "3",
        kind: Kind::Int,
    },
    Dedicated {
        option: "retry-backoff-ms",
        key: "retry.backoff.ms",
        default: "100",
        kind: Kind::Long,
    },
    Dedicated {
        option: "socket-buffer-size",
        key: "send.buffer.bytes",
        default: "102400",
        kind: Kind::Int,
    },
    Dedicated {
        option: "max-memory-bytes",
        key: "buffer.memory",
        default: "33554432",
        kind: Kind::Long,
    },
    Dedicated {
        option: "batch-size",
        key: "batch.size",
        default: "16384",
        kind: Kind::Int,
    },
    Dedicated {
        option: "max-partition-memory-bytes",
        key: "batch.size",
        default: "16384",
        kind: Kind::Int,
    },
    Dedicated {
        option: "metadata-expiry-ms",
        key: "metadata.max.age.ms",
        default: "300000",
        kind: Kind::Long,
    },
    Dedicated {
        option: "max-block-ms",
        key: "max.block.ms",
        default: "60000",
        kind: Kind::Long,
    },
];

const OTHER_OPTIONS: &[&str] = &[
    "topic",
    "bootstrap-server",
    "producer.config",
    "command-config",
    "producer-property",
    "command-property",
    "property",
    "reader-property",
    "reader-config",
    "sync",
    "compression-codec",
    "line-reader",
    "help",
    "version",
];

fn all_options() -> Vec<&'static str> {
    OTHER_OPTIONS
        .iter()
        .copied()
        .chain(DEDICATED.iter().map(|d| d.option))
        .collect()
}

/// The console producer's command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleOptions {
    /// `--topic` (required).
    pub topic: String,
    /// `--bootstrap-server`.
    pub bootstrap_server: Option<String>,
    /// `--sync`.
    pub sync: bool,
    /// `--compression-codec`: `gzip` when given without a value.
    pub compression_codec: Option<String>,
    /// The dedicated options given, as `(option, value)` in the order given.
    pub dedicated: Vec<(&'static str, String)>,
    /// `--producer.config` / `--command-config`.
    pub producer_config: Option<PathBuf>,
    /// `--producer-property` / `--command-property`, in order.
    pub producer_properties: Vec<(String, String)>,
    /// `--reader-config`.
    pub reader_config: Option<PathBuf>,
    /// `--property` / `--reader-property`, in order.
    pub reader_properties: Vec<(String, String)>,
}

impl ConsoleOptions {
    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A [`UsageError`] for an unknown, ambiguous or malformed option, a
    /// missing `--topic`, a `--line-reader` other than Java's
    /// `LineMessageReader`, or an invalid `--bootstrap-server` list.
    pub fn parse<I>(args: I) -> Result<Parsed<ConsoleOptions>, UsageError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let known = all_options();
        let mut p = Parser::from_args(args);
        let mut o = ConsoleOptions::default();
        let mut topic = None;
        let mut help = false;
        while let Some(arg) = p.next()? {
            let name = match arg {
                Arg::Long(name) => resolve_long(name, &known)?,
                Arg::Short('h') => "help",
                Arg::Short(c) => {
                    return Err(UsageError(format!("-{c} is not a recognized option")))
                }
                Arg::Value(v) => {
                    return Err(UsageError(format!(
                        "unexpected argument '{}': every value follows an option",
                        v.to_string_lossy()
                    )))
                }
            };
            match name {
                "help" => help = true,
                "version" => return Ok(Parsed::Version),
                "topic" => topic = Some(string_value(&mut p, name)?),
                "bootstrap-server" => o.bootstrap_server = Some(string_value(&mut p, name)?),
                "sync" => o.sync = true,
                "compression-codec" => {
                    let v = optional_value(&mut p, name)?.filter(|v| !v.is_empty());
                    o.compression_codec = Some(v.unwrap_or_else(|| "gzip".to_owned()));
                }
                "producer.config" | "command-config" => {
                    o.producer_config = Some(string_value(&mut p, name)?.into());
                }
                "producer-property" | "command-property" => {
                    o.producer_properties
                        .push(key_value(&string_value(&mut p, name)?));
                }
                "property" | "reader-property" => {
                    o.reader_properties
                        .push(key_value(&string_value(&mut p, name)?));
                }
                "reader-config" => o.reader_config = Some(string_value(&mut p, name)?.into()),
                "line-reader" => {
                    let class = string_value(&mut p, name)?;
                    if class != LINE_MESSAGE_READER && class != "kafka.tools.LineMessageReader" {
                        return Err(UsageError(format!(
                            "--line-reader {class}: only {LINE_MESSAGE_READER} is available in this tool"
                        )));
                    }
                }
                other => {
                    let d = DEDICATED
                        .iter()
                        .find(|d| d.option == other)
                        .ok_or_else(|| {
                            UsageError(format!("--{other} is not a recognized option"))
                        })?;
                    let value = match d.kind {
                        Kind::Int => parsed_value::<i32>(&mut p, other, "an integer")?.to_string(),
                        Kind::Long => parsed_value::<i64>(&mut p, other, "an integer")?.to_string(),
                        Kind::Text => string_value(&mut p, other)?,
                    };
                    o.dedicated.push((d.option, value));
                }
            }
        }
        if help {
            return Ok(Parsed::Help);
        }
        o.topic = topic.ok_or_else(|| UsageError::new("Missing required argument \"[topic]\""))?;
        if let Some(servers) = &o.bootstrap_server {
            validate_bootstrap_server(servers)?;
        }
        Ok(Parsed::Run(o))
    }

    /// The producer properties, merged as Java merges them (see the
    /// [module docs](self)). `bootstrap.servers` is absent when no source
    /// set it.
    ///
    /// # Errors
    ///
    /// When the `--producer.config` file cannot be read.
    pub fn producer_properties(&self) -> Result<Properties, String> {
        let mut p = Properties::new();
        if let Some(file) = &self.producer_config {
            p.extend(load_properties_file(file)?);
        }
        p.extend(self.producer_properties.iter().cloned());
        if let Some(servers) = &self.bootstrap_server {
            p.set("bootstrap.servers", servers.clone());
        }
        match &self.compression_codec {
            Some(codec) => p.set("compression.type", codec.clone()),
            None => p.set_default("compression.type", "none"),
        }
        p.set_default("client.id", "console-producer");
        p.set("key.serializer", BYTE_ARRAY_SERIALIZER);
        p.set("value.serializer", BYTE_ARRAY_SERIALIZER);
        for d in DEDICATED {
            // The last occurrence of an option wins, as in joptsimple.
            match self.dedicated.iter().rev().find(|(o, _)| *o == d.option) {
                Some((_, v)) => p.set(d.key, v.clone()),
                None => p.set_default(d.key, d.default),
            }
        }
        Ok(p)
    }

    /// The line reader's configuration: `--reader-config`, then the
    /// `--property` pairs, for `--topic`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read or the properties are inconsistent
    /// (Java's messages).
    pub fn reader_config(&self) -> Result<LineReaderConfig, String> {
        let mut p = Properties::new();
        if let Some(file) = &self.reader_config {
            p.extend(load_properties_file(file)?);
        }
        p.extend(self.reader_properties.iter().cloned());
        LineReaderConfig::from_properties(self.topic.clone(), p.as_map())
            .map_err(|ReaderError(m)| m)
    }
}

/// Java's `ToolsUtils.validateBootstrapServer`: every comma-separated entry
/// must end in `:port`.
fn validate_bootstrap_server(servers: &str) -> Result<(), UsageError> {
    if servers.trim().is_empty() {
        return Err(UsageError::new(
            "Error while validating the bootstrap address",
        ));
    }
    let valid = servers.split(',').all(|entry| {
        entry
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
    });
    if valid {
        Ok(())
    } else {
        Err(UsageError::new(
            "Please provide valid host:port like host1:9091,host2:9092",
        ))
    }
}

/// The help text.
pub const USAGE: &str = "\
Usage: kafka-console-producer --topic <topic> [options]

Reads standard input line by line and sends each line to a Kafka topic as one
record (Java's kafka-console-producer). Exits 0 only when every record was
acknowledged.

Options:
  --topic <topic>                     REQUIRED. The topic to send to.
  --bootstrap-server <host:port,...>  The brokers to connect to. Without it, and
                                      without bootstrap.servers in the producer
                                      properties, an embedded 3-broker MockCluster
                                      is started (and reported on stderr).
  --producer.config <file>            Producer properties file (or --command-config).
  --producer-property <key=value>     A producer property, repeatable; wins over the
                                      file (or --command-property).
  --property <key=value>              A line reader property, repeatable (or
                                      --reader-property); see below.
  --reader-config <file>              Line reader properties file; --property wins.
  --sync                              Send one record at a time and wait for it;
                                      stop at the first failure.
  --compression-codec [codec]         none, gzip, snappy, lz4 or zstd; gzip when
                                      given without a value.
  --batch-size <bytes>                batch.size (default 16384).
  --max-partition-memory-bytes <bytes>  batch.size as well; wins over --batch-size.
  --timeout <ms>                      linger.ms (default 1000).
  --request-required-acks <acks>      acks (default -1).
  --request-timeout-ms <ms>           request.timeout.ms (default 1500).
  --message-send-max-retries <n>      retries (default 3).
  --retry-backoff-ms <ms>             retry.backoff.ms (default 100).
  --metadata-expiry-ms <ms>           metadata.max.age.ms (default 300000).
  --max-block-ms <ms>                 max.block.ms (default 60000).
  --max-memory-bytes <bytes>          buffer.memory (default 33554432).
  --socket-buffer-size <bytes>        send.buffer.bytes (default 102400).
  --line-reader <class>               Only org.apache.kafka.tools.LineMessageReader.
  --help                              Print this help.
  --version                           Print the version.

Producer properties, lowest precedence first: the --producer.config file, the
--producer-property pairs, the options above when given. An option's default
applies only to a key no file or property set. client.id defaults to
console-producer.

Line reader properties (--property):
  parse.key=false              split each line into key and value
  key.separator=<tab>          between key and value
  parse.headers=false          read headers before the key (or value)
  headers.delimiter=<tab>      ends the header list
  headers.separator=,          between headers
  headers.key.separator=:      between a header's key and value
  ignore.error=false           tolerate missing separators
  null.marker=<none>           a key, value or header value equal to this is null
Line layouts: 'h1:v1,h2:v2<tab>key<tab>value' with both, 'key<tab>value' with
parse.key, 'h1:v1,h2:v2<tab>value' with parse.headers.
";

#[cfg(test)]
#[path = "console_tests.rs"]
mod tests;

//! The runners' common command line (the Java runner parses the same):
//!
//! ```text
//! --bootstrap HOST:PORT[,...]   --topic NAME   --records N   --record-size BYTES
//! [--keyed DISTINCT_KEYS]       [--threads T]  [--mode async|sync]
//! [--props KEY=VALUE ...]       (producer configuration, Java key names)
//! ```
//!
//! `--keyed 0` (the default) sends records without keys; `--keyed K` gives
//! record `i` the key `key-<i mod K>`. `--props` takes every following
//! argument up to the next one starting with `--`.

use std::fmt;

/// How records are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As fast as the producer accepts them, each with a callback that
    /// records its send-to-ack latency; the clock stops when all are acked.
    Async,
    /// One at a time per thread: send, then wait for the ack (`send().get()`).
    Sync,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Async => "async",
            Mode::Sync => "sync",
        })
    }
}

/// A runner's parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--bootstrap`.
    pub bootstrap: String,
    /// `--topic`.
    pub topic: String,
    /// `--records`: how many records in all threads together.
    pub records: u64,
    /// `--record-size`: bytes of each value.
    pub record_size: usize,
    /// `--keyed`: distinct keys, 0 for no keys.
    pub keyed: u64,
    /// `--threads`: caller threads sharing one producer.
    pub threads: usize,
    /// `--mode`.
    pub mode: Mode,
    /// `--props`: producer configuration under Java's key names, in order.
    pub props: Vec<(String, String)>,
}

impl Args {
    /// Parses the arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A message naming the argument that is missing, unknown or invalid.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Args, String> {
        let mut parsed = Args {
            bootstrap: String::new(),
            topic: String::new(),
            records: 0,
            record_size: 100,
            keyed: 0,
            threads: 1,
            mode: Mode::Async,
            props: Vec::new(),
        };
        let mut args = args.into_iter().peekable();
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--bootstrap" => parsed.bootstrap = value()?,
                "--topic" => parsed.topic = value()?,
                "--records" => parsed.records = number(&arg, &value()?)?,
                "--record-size" => parsed.record_size = number(&arg, &value()?)?,
                "--keyed" => parsed.keyed = number(&arg, &value()?)?,
                "--threads" => parsed.threads = number(&arg, &value()?)?,
                "--mode" => {
                    parsed.mode = match value()?.as_str() {
                        "async" => Mode::Async,
                        "sync" => Mode::Sync,
                        other => return Err(format!("--mode {other:?}: async or sync")),
                    }
                }
                "--props" => {
                    while let Some(kv) = args.next_if(|a| !a.starts_with("--")) {
                        let (k, v) = kv
                            .split_once('=')
                            .ok_or_else(|| format!("--props {kv:?}: not KEY=VALUE"))?;
                        parsed.props.push((k.to_owned(), v.to_owned()));
                    }
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if parsed.bootstrap.is_empty() || parsed.topic.is_empty() {
            return Err("--bootstrap and --topic are required".to_owned());
        }
        if parsed.records == 0 || parsed.record_size == 0 || parsed.threads == 0 {
            return Err("--records, --record-size and --threads must be positive".to_owned());
        }
        Ok(parsed)
    }

    /// The last value given for a producer property.
    #[must_use]
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The records thread `t` sends: a contiguous share of `0..records`.
    #[must_use]
    pub fn share(&self, t: usize) -> std::ops::Range<u64> {
        let n = self.threads as u64;
        let t = t as u64;
        (self.records * t / n)..(self.records * (t + 1) / n)
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag} {text:?}: not a non-negative number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_every_option() {
        let a = parse(&[
            "--bootstrap",
            "b:1",
            "--topic",
            "t",
            "--records",
            "10",
            "--record-size",
            "7",
            "--keyed",
            "3",
            "--threads",
            "4",
            "--mode",
            "sync",
            "--props",
            "acks=all",
            "linger.ms=5",
            "--props",
            "acks=1",
        ])
        .unwrap();
        assert_eq!(a.records, 10);
        assert_eq!(a.record_size, 7);
        assert_eq!(a.keyed, 3);
        assert_eq!(a.threads, 4);
        assert_eq!(a.mode, Mode::Sync);
        assert_eq!(a.props.len(), 3);
        assert_eq!(a.prop("acks"), Some("1"));
        assert_eq!(a.prop("linger.ms"), Some("5"));
        assert_eq!(a.prop("batch.size"), None);
    }

    #[test]
    fn shares_cover_every_record_once() {
        let a = parse(&[
            "--bootstrap",
            "b",
            "--topic",
            "t",
            "--records",
            "10",
            "--threads",
            "3",
        ])
        .unwrap();
        let shares: Vec<_> = (0..3).map(|t| a.share(t)).collect();
        assert_eq!(shares, vec![0..3, 3..6, 6..10]);
    }

    #[test]
    fn refuses_bad_arguments() {
        assert!(parse(&["--topic", "t", "--records", "1"]).is_err());
        assert!(parse(&["--bootstrap", "b", "--topic", "t", "--records", "x"]).is_err());
        assert!(parse(&["--bootstrap", "b", "--topic", "t", "--records", "0"]).is_err());
        assert!(parse(&[
            "--bootstrap",
            "b",
            "--topic",
            "t",
            "--records",
            "1",
            "--mode",
            "x"
        ])
        .is_err());
        assert!(parse(&[
            "--bootstrap",
            "b",
            "--topic",
            "t",
            "--records",
            "1",
            "--props",
            "k"
        ])
        .is_err());
        assert!(parse(&[
            "--bootstrap",
            "b",
            "--topic",
            "t",
            "--records",
            "1",
            "--what"
        ])
        .is_err());
    }
}

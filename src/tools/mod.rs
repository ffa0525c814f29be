//! The logic of the two command-line tools, `kafka-console-producer` and
//! `kafka-producer-perf-test`, kept in the library so that it is tested
//! here; the binaries in `src/bin/` only hand it the real standard streams,
//! clock and producer.
//!
//! Built with the default-on cargo feature `tools` (which brings in the
//! tiny `lexopt` argument lexer); `default-features = false` leaves both
//! the module and the binaries out. It is not part of the producer API
//! proper and may change with the tools.
//!
//! * [`console`] / [`console_run`]: Java's `ConsoleProducer`, with its
//!   options, defaults and property precedence, reading records with
//! * [`line_reader`]: Java's `LineMessageReader` (keys, headers, null
//!   marker, Java's error messages);
//! * [`perf`] / [`perf_run`]: Java's `ProducerPerformance`, with
//! * [`stats`] (windowed reports and sampled percentiles, printed as
//!   Java prints them), [`throttler`] (Java's `ThroughputThrottler`) and
//!   [`java`] (Java's `%f` formatting and `SplittableRandom`);
//! * [`backend`]: the small producer and cluster traits the tools run on,
//!   and [`wiring`], the real ones for the binaries;
//! * [`cli`]: option matching, `key=value` and `.properties` handling.
//!
//! How the tools differ from Java's is written up in `docs/tools.md`.

pub mod backend;
pub mod cli;
pub mod console;
pub mod console_run;
pub mod java;
pub mod line_reader;
pub mod perf;
pub mod perf_run;
pub mod stats;
pub mod throttler;
pub mod wiring;

#[cfg(test)]
pub(crate) mod testing;

//! What the comparison's runners share, so that every client is driven the
//! same way: the command line ([`args`]), the records ([`payload`]), the
//! latency histogram ([`histogram`]), the sending loop and the one-line
//! JSON result ([`driver`]), and Java's producer keys in librdkafka's terms
//! ([`mapping`]); and the core-to-core latency probe ([`corelat`]) that
//! tells which placement of the vCPUs a run had.
//!
//! Each client is one binary in `src/bin/` that implements
//! [`driver::Client`] and calls [`driver::main`]; the Java runner in
//! `java/` repeats the same rules in Java (same records, same histogram,
//! same JSON). `scripts/compare.py` starts the brokers, runs the binaries
//! one after the other and measures each process's CPU and peak RSS.
//!
//! ```text
//!  compare.py ──spawn──▶ runner (one process per client and workload)
//!                          parse args → build payload pool → connect,
//!                          fetch metadata → [clock starts] T threads send
//!                          N records → flush / last ack [clock stops]
//!                          → one JSON line on stdout
//!             ◀─wait4── rusage (user+sys CPU, peak RSS)
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
pub mod corelat;
pub mod driver;
pub mod histogram;
pub mod mapping;
pub mod payload;

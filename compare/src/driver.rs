//! The sending loop every Rust runner shares, and its one-line JSON result.
//!
//! A runner implements [`Client`] for its producer and calls [`main`]:
//!
//! 1. parse the [`Args`], build the [`Payloads`] pool, create the producer
//!    and fetch the topic's metadata ([`Client::prepare`]), all before the
//!    clock starts;
//! 2. read the process's CPU time so far (`cpu_before_send_s`, from
//!    `/proc/self/stat`, so the script can tell start-up from sending);
//! 3. start the clock; `--threads` scoped threads send their share of the
//!    records ([`Args::share`]);
//!    * async: [`Client::send`] with an [`Ack`] that the client completes
//!      from its delivery callback; then [`Client::flush`] waits for the
//!      last ack;
//!    * sync: [`Client::send_and_wait`] per record, timed around the call;
//! 4. stop the clock at the last ack (the latest completion any callback
//!    or wait saw), check that every record was acked or failed, and
//!    print one JSON line on stdout.
//!
//! Latency is send-to-ack: from just before the call that hands the record
//! to the producer (so a wait for buffer space counts) to the delivery
//! callback (async) or the return of the wait (sync).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use kafka_producer::util::clock::{Clock, SystemClock};
use parking_lot::Mutex;

use crate::args::{Args, Mode};
use crate::histogram::Histogram;
use crate::payload::Payloads;

/// What a runner's producer does for the loop.
pub trait Client: Sync {
    /// Connects and fetches `topic`'s metadata, so the first send does not
    /// wait for it on the clock.
    ///
    /// # Errors
    ///
    /// Why the topic's metadata could not be had.
    fn prepare(&self, topic: &str) -> Result<(), String>;

    /// Hands one record to the producer. `ack` must be completed exactly
    /// once: from the delivery callback, or at once if the send fails.
    fn send(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8], ack: Ack);

    /// Sends one record and waits for its acknowledgement.
    ///
    /// # Errors
    ///
    /// The send's or the broker's error.
    fn send_and_wait(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8]) -> Result<(), String>;

    /// Waits until every record sent so far is acknowledged or failed.
    ///
    /// # Errors
    ///
    /// Why it could not wait (a timeout, a closed producer).
    fn flush(&self) -> Result<(), String>;
}

/// What the threads and callbacks count into.
#[derive(Debug)]
pub struct Tally {
    /// When the clock started.
    base: Instant,
    /// Nanoseconds from `base` to the latest ack or failure seen.
    last_ns: AtomicU64,
    acked: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    latency: Histogram,
}

impl Tally {
    fn new(base: Instant) -> Self {
        Tally {
            base,
            last_ns: AtomicU64::new(0),
            acked: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_error: Mutex::new(None),
            latency: Histogram::new(),
        }
    }

    fn complete(&self, result: Result<(), String>, start: Instant, end: Instant) {
        let us = end.saturating_duration_since(start).as_micros();
        self.latency.record(u64::try_from(us).unwrap_or(u64::MAX));
        let ns = end.saturating_duration_since(self.base).as_nanos();
        self.last_ns
            .fetch_max(u64::try_from(ns).unwrap_or(u64::MAX), Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.acked.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_error.lock().get_or_insert(e);
            }
        }
    }
}

/// One record's pending acknowledgement: where to count it and when it
/// was handed over. Moved into the client's delivery callback.
#[derive(Debug)]
pub struct Ack {
    tally: &'static Tally,
    start: Instant,
}

impl Ack {
    /// Counts the record as acked (`Ok`) or failed, with its latency.
    pub fn complete(self, result: Result<(), String>) {
        self.tally.complete(result, self.start, SystemClock.now());
    }
}

/// The outcome of a run, printed as one JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// Which client (`ours`, `librdkafka`, ...).
    pub client: String,
    /// Its version.
    pub version: String,
    /// Records the run meant to send.
    pub records: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records failed (send refused, or an error in the callback).
    pub failed: u64,
    /// Seconds from the first send to the last ack (or failure).
    pub wall_s: f64,
    /// Send-to-ack latency percentiles, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
    /// The process's CPU seconds (user + system) before the first send.
    pub cpu_before_send_s: f64,
    /// Why the run did not happen or was cut short (an unsupported codec,
    /// a flush timeout, records neither acked nor failed).
    pub error: Option<String>,
    /// The first per-record error, if any record failed.
    pub first_record_error: Option<String>,
    /// [`Payloads::digest`] of the values sent (empty if none were).
    pub records_digest: String,
}

impl RunResult {
    /// A run that did not start: the producer could not be created.
    #[must_use]
    pub fn not_run(client: &str, version: &str, records: u64, error: String) -> Self {
        RunResult {
            client: client.to_owned(),
            version: version.to_owned(),
            records,
            acked: 0,
            failed: 0,
            wall_s: 0.0,
            p50_us: 0,
            p99_us: 0,
            p999_us: 0,
            cpu_before_send_s: process_cpu_seconds(),
            error: Some(error),
            first_record_error: None,
            records_digest: String::new(),
        }
    }

    /// The JSON line (no trailing newline).
    #[must_use]
    pub fn to_json(&self) -> String {
        let opt = |s: &Option<String>| s.as_deref().map_or("null".to_owned(), json_string);
        format!(
            "{{\"client\":{},\"version\":{},\"records\":{},\"acked\":{},\"failed\":{},\
             \"wall_s\":{:.6},\"p50_us\":{},\"p99_us\":{},\"p999_us\":{},\
             \"cpu_before_send_s\":{:.3},\"error\":{},\"first_record_error\":{},\
             \"records_digest\":{},\"vm_hwm_kib\":{}}}",
            json_string(&self.client),
            json_string(&self.version),
            self.records,
            self.acked,
            self.failed,
            self.wall_s,
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.cpu_before_send_s,
            opt(&self.error),
            opt(&self.first_record_error),
            json_string(&self.records_digest),
            vm_hwm_kib(),
        )
    }
}

/// `s` as a JSON string literal.
#[must_use]
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The process's peak resident memory so far (`VmHWM` in
/// `/proc/self/status`), in KiB; 0 where that cannot be read.
#[must_use]
pub fn vm_hwm_kib() -> u64 {
    // Read by the process itself: the parent's wait4 `ru_maxrss` also
    // counts the memory of the process that forked it (Linux keeps the
    // high-water mark across exec), here the Python script's.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The process's user + system CPU seconds so far, from `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s, Linux's USER_HZ); 0 where
/// that file cannot be read.
#[must_use]
pub fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The command name (field 2) is in parentheses and may hold spaces:
    // count fields after its closing parenthesis (field 3 onwards).
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// Runs the loop for `client` as `args` say and returns the result.
pub fn run(client: &dyn Client, args: &Args, name: &str, version: &str) -> RunResult {
    let payloads = Payloads::new(args.record_size, args.keyed);
    if let Err(e) = client.prepare(&args.topic) {
        let mut result = RunResult::not_run(name, version, args.records, format!("metadata: {e}"));
        result.records_digest = payloads.digest();
        return result;
    }
    let cpu_before_send_s = process_cpu_seconds();
    let start = SystemClock.now();
    // Leaked: the callbacks may outlive any borrow, and the process ends
    // right after the run.
    let tally: &'static Tally = Box::leak(Box::new(Tally::new(start)));
    std::thread::scope(|scope| {
        for t in 0..args.threads {
            let payloads = &payloads;
            scope.spawn(move || {
                for i in args.share(t) {
                    let (key, value) = (payloads.key(i), payloads.value(i));
                    match args.mode {
                        Mode::Async => {
                            let ack = Ack {
                                tally,
                                start: SystemClock.now(),
                            };
                            client.send(&args.topic, key, value, ack);
                        }
                        Mode::Sync => {
                            let sent = SystemClock.now();
                            let result = client.send_and_wait(&args.topic, key, value);
                            tally.complete(result, sent, SystemClock.now());
                        }
                    }
                }
            });
        }
    });
    let mut error = client.flush().err().map(|e| format!("flush: {e}"));
    // First send to last ack: not to the return of flush, which may poll
    // in coarse steps (rust-rdkafka's flush polls 100 ms at a time).
    let wall_s = tally.last_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let acked = tally.acked.load(Ordering::Relaxed);
    let failed = tally.failed.load(Ordering::Relaxed);
    if error.is_none() && acked + failed != args.records {
        error = Some(format!(
            "{} of {} records neither acked nor failed",
            args.records - acked - failed,
            args.records
        ));
    }
    RunResult {
        client: name.to_owned(),
        version: version.to_owned(),
        records: args.records,
        acked,
        failed,
        wall_s,
        p50_us: tally.latency.percentile(0.5),
        p99_us: tally.latency.percentile(0.99),
        p999_us: tally.latency.percentile(0.999),
        cpu_before_send_s,
        error,
        first_record_error: tally.first_error.lock().clone(),
        records_digest: payloads.digest(),
    }
}

/// A runner's `main`: parses the command line, makes the client with
/// `make` (an `Err` is reported as a run that did not happen, e.g. an
/// unsupported codec), runs it and prints the JSON line. Exit status 0
/// when every record was acked, 1 otherwise, 2 for a bad command line.
/// `--version` alone prints the client's version.
pub fn main<C: Client>(
    name: &str,
    version: &str,
    make: impl FnOnce(&Args) -> Result<C, String>,
) -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("{name} {version}");
        return std::process::ExitCode::SUCCESS;
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{name}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = match make(&args) {
        Ok(client) => {
            let result = run(&client, &args, name, version);
            // Closing the producer is not timed; drop it before printing
            // so its threads are gone when the script reads the result.
            drop(client);
            result
        }
        Err(e) => RunResult::not_run(name, version, args.records, e),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", result.to_json());
    let _ = out.flush();
    let ok = result.error.is_none() && result.acked == result.records;
    std::process::ExitCode::from(u8::from(!ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_strings() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn the_result_line_names_every_field() {
        let r = RunResult::not_run("ours", "1", 10, "unsupported: snappy".to_owned());
        let line = r.to_json();
        for field in [
            "\"client\":\"ours\"",
            "\"records\":10",
            "\"acked\":0",
            "\"wall_s\":0.000000",
            "\"error\":\"unsupported: snappy\"",
            "\"first_record_error\":null",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }

    #[test]
    fn cpu_time_is_read_from_proc() {
        // The test binary has run for a while; the figure must be readable
        // (the file exists on Linux) and finite.
        let t = process_cpu_seconds();
        assert!(t.is_finite() && t >= 0.0);
        assert!(std::fs::read_to_string("/proc/self/stat").is_ok());
    }

    /// A client that acks everything at once, or fails every third record.
    struct Immediate(bool);
    impl Client for Immediate {
        fn prepare(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn send(&self, _: &str, key: Option<Vec<u8>>, _: &[u8], ack: Ack) {
            let fail = self.0 && key.is_some_and(|k| k == b"key-0");
            ack.complete(if fail { Err("boom".into()) } else { Ok(()) });
        }
        fn send_and_wait(&self, _: &str, _: Option<Vec<u8>>, _: &[u8]) -> Result<(), String> {
            Ok(())
        }
        fn flush(&self) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn the_loop_counts_every_record_once() {
        let args = Args::parse(
            "--bootstrap b --topic t --records 30 --keyed 3 --threads 4 --record-size 10"
                .split(' ')
                .map(str::to_owned),
        )
        .unwrap();
        let r = run(&Immediate(true), &args, "x", "0");
        assert_eq!((r.acked, r.failed), (20, 10));
        assert_eq!(r.first_record_error.as_deref(), Some("boom"));
        assert_eq!(r.error, None);
        let sync = Args {
            mode: Mode::Sync,
            ..args
        };
        let r = run(&Immediate(true), &sync, "x", "0");
        assert_eq!((r.acked, r.failed), (30, 0));
    }
}

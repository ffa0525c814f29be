//! Running `kafka-producer-perf-test`: Java's `ProducerPerformance` loop.
//!
//! ```text
//!  for i in 0..num_records:
//!    payload (SplittableRandom(0), as Java)   ─┐
//!    send(record, callback)                    │ callback (network thread):
//!    throttle if ahead of --throughput         │   latency = ack time - send time
//!                                              └─▶ Stats::record → window line / 5 s
//!  close (or flush, with --print-metrics) → total line [→ steady-state line] [→ metrics]
//! ```
//!
//! Time comes from an injected [`Clock`] and sleeps go through
//! [`PerfEnv::sleep`], so a whole run is tested on a mock clock.

use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::backend::{ensure_bootstrap, Backend, SendCallback, ToolProducer};
use super::cli::{Output, Parsed};
use super::java::{format_fixed, SplittableRandom};
use super::perf::{read_payload_file, PayloadSource, PerfOptions, USAGE};
use super::stats::Stats;
use super::throttler::{Throttle, ThroughputThrottler};
use crate::producer::{ProducerConfig, ProducerRecord};
use crate::util::clock::Clock;

/// The environment of a run, replaceable in tests.
pub struct PerfEnv {
    /// Report lines, help and metrics.
    pub stdout: Output,
    /// Errors and notices.
    pub stderr: Output,
    /// The clock latencies and windows are measured on.
    pub clock: Arc<dyn Clock>,
    /// Sleeps for the throttler: `Some(d)` sleeps `d`, `None` blocks for
    /// ever (`--throughput 0`).
    pub sleep: Box<dyn FnMut(Option<Duration>)>,
}

impl std::fmt::Debug for PerfEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfEnv").finish_non_exhaustive()
    }
}

/// What the callbacks share with the sending loop.
struct Shared {
    clock: Arc<dyn Clock>,
    base: Instant,
    stats: Mutex<Stats>,
    stdout: Output,
    stderr: Output,
    failed: AtomicU64,
}

impl Shared {
    /// Milliseconds since the run's start, truncated as Java's
    /// `currentTimeMillis` differences are.
    fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.now().duration_since(self.base).as_millis()).unwrap_or(i64::MAX)
    }
}

/// Builds each record's value as Java does.
struct Payloads {
    source: PayloadSource,
    file: Vec<Vec<u8>>,
    random: SplittableRandom,
}

impl Payloads {
    fn next(&mut self, index: i64) -> Vec<u8> {
        match &self.source {
            PayloadSource::RecordSize(size) => {
                let mut v = vec![0; *size];
                self.random.fill_uppercase(&mut v);
                v
            }
            PayloadSource::File(_) => {
                // The file has at least one payload (checked at start), and
                // fewer than 2^31 in any file we can hold.
                let bound = i32::try_from(self.file.len()).unwrap_or(i32::MAX);
                let i = self.random.next_int_bounded(bound);
                self.file[i.unsigned_abs() as usize].clone()
            }
            PayloadSource::Monotonic => index.to_string().into_bytes(),
        }
    }
}

/// Sends `opts.num_records` records with `producer` and prints Java's
/// report lines. Returns the number of failed sends and whether the
/// producer closed cleanly.
pub fn run(
    producer: &dyn ToolProducer,
    opts: &PerfOptions,
    payload_file: Vec<Vec<u8>>,
    env: &mut PerfEnv,
) -> (u64, bool) {
    let shared = Arc::new(Shared {
        clock: env.clock.clone(),
        base: env.clock.now(),
        stats: Mutex::new(Stats::new(opts.num_records, 0, false)),
        stdout: env.stdout.clone(),
        stderr: env.stderr.clone(),
        failed: AtomicU64::new(0),
    });
    if opts.warmup_records > 0 {
        env.stdout.line(&format!(
            "Warmup first {} records. Steady state results will print after the complete test summary.",
            opts.warmup_records
        ));
    }
    let mut payloads = Payloads {
        source: opts.payload.clone(),
        file: payload_file,
        random: SplittableRandom::new(0),
    };
    let mut steady: Option<Arc<Mutex<Stats>>> = None;
    let mut throttler = ThroughputThrottler::new(opts.throughput, shared.now_ms());
    for i in 0..opts.num_records {
        let payload = payloads.next(i);
        let bytes = i32::try_from(payload.len()).unwrap_or(i32::MAX);
        let record = ProducerRecord::new(opts.topic.clone(), payload);
        let send_start = shared.now_ms();
        if opts.warmup_records > 0 && i == opts.warmup_records {
            steady = Some(Arc::new(Mutex::new(Stats::new(
                opts.num_records - opts.warmup_records,
                send_start,
                true,
            ))));
            shared.stats.lock().suppress_printing();
        }
        let (s, steady_stats) = (shared.clone(), steady.clone());
        producer.send(
            record,
            SendCallback::new(move |result| {
                let now = s.now_ms();
                let latency = i32::try_from(now - send_start).unwrap_or(i32::MAX);
                match result {
                    Ok(_) => {
                        let mut lines = s.stats.lock().record(latency, bytes, now);
                        if let Some(steady) = &steady_stats {
                            lines.extend(steady.lock().record(latency, bytes, now));
                        }
                        for line in lines {
                            s.stdout.line(&line);
                        }
                    }
                    Err(e) => {
                        s.failed.fetch_add(1, Ordering::Relaxed);
                        s.stderr.line(&format!("Error sending record: {e}"));
                    }
                }
            }),
        );
        if throttler.should_throttle(i, send_start) {
            match throttler.throttle() {
                Throttle::Continue => {}
                Throttle::Sleep(d) => (env.sleep)(Some(d)),
                Throttle::Forever => (env.sleep)(None),
            }
        }
    }

    let mut closed_cleanly = true;
    let mut close = |what: &str, result: Result<(), crate::Error>| {
        if let Err(e) = result {
            env.stderr.line(&format!("Error {what} the producer: {e}"));
            closed_cleanly = false;
        }
    };
    let print_totals = |shared: &Shared| {
        let now = shared.now_ms();
        let total = shared.stats.lock().total_line(now);
        shared.stdout.line(&total);
        if let Some(steady) = &steady {
            let line = steady.lock().total_line(now);
            shared.stdout.line(&line);
        }
    };
    if opts.print_metrics {
        close("flushing", producer.flush());
        print_totals(&shared);
        print_metrics(&producer.metrics(), &env.stdout, &env.stderr);
        close("closing", producer.close());
    } else {
        close("closing", producer.close());
        print_totals(&shared);
    }
    let failed = shared.failed.load(Ordering::Relaxed);
    if failed > 0 {
        env.stderr
            .line(&format!("{failed} of {} records failed", opts.num_records));
    }
    (failed, closed_cleanly)
}

/// Java's `ToolsUtils.printMetrics` layout: a header, then one
/// `name : value` line per metric, names padded to the longest.
fn print_metrics(metrics: &[(String, f64)], stdout: &Output, stderr: &Output) {
    if metrics.is_empty() {
        stderr.line(
            "--print-metrics: this producer exposes no metrics yet (Java prints its metrics \
             registry here); the report lines above are all there is",
        );
        return;
    }
    let mut sorted: Vec<&(String, f64)> = metrics.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let width = sorted
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    stdout.line(&format!("\n{:<width$}   {}", "Metric Name", "Value"));
    for (name, value) in sorted {
        stdout.line(&format!("{name:<width$} : {}", format_fixed(*value, 3)));
    }
}

/// The whole tool: parse `args` (without the program name), set up, run.
/// Returns the exit status.
pub fn main<I>(args: I, backend: &dyn Backend, mut env: PerfEnv) -> u8
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let opts = match PerfOptions::parse(args) {
        Ok(Parsed::Run(opts)) => opts,
        Ok(Parsed::Help) => {
            env.stdout.text(USAGE);
            return 0;
        }
        Ok(Parsed::Version) => {
            env.stdout.line(env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(e) => {
            env.stderr.text(USAGE);
            env.stderr
                .line(&format!("kafka-producer-perf-test: error: {e}"));
            return 1;
        }
    };
    let fail = |env: &PerfEnv, message: &str| {
        env.stderr
            .line(&format!("kafka-producer-perf-test: {message}"));
        1
    };
    let mut props = match opts.producer_properties() {
        Ok(p) => p,
        Err(e) => return fail(&env, &e),
    };
    if opts.transactions_requested(&props) {
        return fail(
            &env,
            "transactions are not supported yet (--transactional-id, --transaction-duration-ms \
             or transactional.id was given)",
        );
    }
    let payload_file = match &opts.payload {
        PayloadSource::File(path) => {
            env.stdout
                .line(&format!("Reading payloads from: {}", absolute(path)));
            match read_payload_file(path, &opts.payload_delimiter) {
                Ok(p) => {
                    env.stdout
                        .line(&format!("Number of messages read: {}", p.len()));
                    if p.is_empty() {
                        return fail(&env, "the payload file has no payloads");
                    }
                    p
                }
                Err(e) => return fail(&env, &e),
            }
        }
        _ => Vec::new(),
    };
    // Declared before the producer so that it is dropped (stopped) after it.
    let _cluster = match ensure_bootstrap(backend, &mut props, &env.stderr, opts.embedded) {
        Ok(cluster) => cluster,
        Err(e) => return fail(&env, &e),
    };
    let config = match ProducerConfig::from_properties(props.as_map()) {
        Ok(c) => c,
        Err(e) => return fail(&env, &format!("invalid producer configuration: {e}")),
    };
    let producer = match backend.create_producer(config) {
        Ok(p) => p,
        Err(e) => return fail(&env, &format!("cannot create the producer: {e}")),
    };
    let (failed, closed_cleanly) = run(producer.as_ref(), &opts, payload_file, &mut env);
    drop(producer);
    u8::from(failed > 0 || !closed_cleanly)
}

fn absolute(path: &std::path::Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
#[path = "perf_run_tests.rs"]
mod tests;

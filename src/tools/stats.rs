//! The perf tool's statistics, as Java's `ProducerPerformance.Stats` keeps
//! them: totals, a reporting window that is printed every 5 s, and a
//! sample of latencies for the percentiles.
//!
//! Sampling: with `n` records, one latency in `n / min(n, 500000)` is kept
//! (every one up to 500,000 records, every second one up to 1,000,000, ...),
//! counting successful sends only; the percentiles are read from the sorted
//! sample at index `(int) (p * size)`. Latencies are whole milliseconds from
//! `send` to the callback.
//!
//! Time is passed in by the caller (milliseconds on any monotonic base), so
//! the windowing is tested without a clock. The report lines are returned as
//! strings, numbers formatted as Java's `String.format` would
//! ([`format_fixed`]).

use super::java::format_fixed;

/// Java's `ProducerPerformance` reports a window every 5,000 ms.
pub const REPORTING_INTERVAL_MS: i64 = 5_000;

/// The most latencies kept for the percentiles.
const MAX_SAMPLES: i64 = 500_000;

/// Totals, the current window and the latency sample of one perf run.
#[derive(Debug, Clone)]
pub struct Stats {
    start_ms: i64,
    window_start_ms: i64,
    latencies: Vec<i32>,
    sampling: i64,
    iteration: i64,
    index: usize,
    count: i64,
    bytes: i64,
    max_latency: i32,
    total_latency: i64,
    window_count: i64,
    window_max_latency: i32,
    window_total_latency: i64,
    window_bytes: i64,
    reporting_interval_ms: i64,
    steady_state: bool,
    suppress_print: bool,
}

impl Stats {
    /// Stats for a run of `num_records` records starting at `start_ms`.
    /// `steady_state` marks the second set kept after `--warmup-records`:
    /// its total line says "steady state".
    #[must_use]
    pub fn new(num_records: i64, start_ms: i64, steady_state: bool) -> Self {
        let num_records = num_records.max(1);
        let sampling = num_records / num_records.min(MAX_SAMPLES);
        let slots = usize::try_from(num_records / sampling + 1).unwrap_or(1);
        Stats {
            start_ms,
            window_start_ms: start_ms,
            latencies: vec![0; slots],
            sampling,
            iteration: 0,
            index: 0,
            count: 0,
            bytes: 0,
            max_latency: 0,
            total_latency: 0,
            window_count: 0,
            window_max_latency: 0,
            window_total_latency: 0,
            window_bytes: 0,
            reporting_interval_ms: REPORTING_INTERVAL_MS,
            steady_state,
            suppress_print: false,
        }
    }

    /// Sets the reporting interval (Java's is fixed at 5,000 ms).
    #[must_use]
    pub fn with_reporting_interval(mut self, ms: i64) -> Self {
        self.reporting_interval_ms = ms;
        self
    }

    /// Stops window lines from being returned (Java's `suppressPrinting`,
    /// used for the whole-run stats once the steady-state stats take over).
    pub fn suppress_printing(&mut self) {
        self.suppress_print = true;
    }

    /// Records one acknowledged send of `bytes` that took `latency_ms`,
    /// acknowledged at `now_ms`. Returns the lines to print: when the
    /// window is at least the reporting interval old, its report (and, for
    /// steady-state stats reporting their first window, `In steady state.`).
    pub fn record(&mut self, latency_ms: i32, bytes: i32, now_ms: i64) -> Vec<String> {
        self.count += 1;
        self.bytes += i64::from(bytes);
        self.total_latency += i64::from(latency_ms);
        self.max_latency = self.max_latency.max(latency_ms);
        self.window_count += 1;
        self.window_bytes += i64::from(bytes);
        self.window_total_latency += i64::from(latency_ms);
        self.window_max_latency = self.window_max_latency.max(latency_ms);
        if self.iteration % self.sampling == 0 {
            if let Some(slot) = self.latencies.get_mut(self.index) {
                *slot = latency_ms;
                self.index += 1;
            }
        }
        let mut lines = Vec::new();
        if now_ms - self.window_start_ms >= self.reporting_interval_ms {
            if self.steady_state && self.count == self.window_count {
                lines.push("In steady state.".to_owned());
            }
            if !self.suppress_print {
                lines.push(self.window_line(now_ms));
            }
            self.new_window(now_ms);
        }
        self.iteration += 1;
        lines
    }

    /// The current window's report:
    /// `N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency.`
    #[must_use]
    pub fn window_line(&self, now_ms: i64) -> String {
        window_line(
            self.window_count,
            self.window_bytes,
            now_ms - self.window_start_ms,
            self.window_total_latency,
            self.window_max_latency,
        )
    }

    fn new_window(&mut self, now_ms: i64) {
        self.window_start_ms = now_ms;
        self.window_count = 0;
        self.window_max_latency = 0;
        self.window_total_latency = 0;
        self.window_bytes = 0;
    }

    /// The whole run's report, with the 50th, 95th, 99th and 99.9th
    /// percentiles of the sampled latencies:
    /// `N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.`
    /// (`N steady state records sent, ...` for steady-state stats).
    pub fn total_line(&mut self, now_ms: i64) -> String {
        let p = self.percentiles(&[0.5, 0.95, 0.99, 0.999]);
        total_line(&Totals {
            count: self.count,
            bytes: self.bytes,
            elapsed_ms: now_ms - self.start_ms,
            total_latency: self.total_latency,
            max_latency: self.max_latency,
            percentiles: [p[0], p[1], p[2], p[3]],
            steady_state: self.steady_state,
        })
    }

    /// The latencies at the given fractions of the sorted sample (Java's
    /// `percentiles`: index `(int) (p * size)`; 0 when nothing was sampled).
    pub fn percentiles(&mut self, fractions: &[f64]) -> Vec<i32> {
        let size = self.index.min(self.latencies.len());
        self.latencies[..size].sort_unstable();
        fractions
            .iter()
            .map(|p| {
                // Java truncates the double product to an int.
                let i = (p * size as f64) as usize;
                self.latencies.get(i).copied().unwrap_or(0)
            })
            .collect()
    }

    /// Records acknowledged so far.
    #[must_use]
    pub fn total_count(&self) -> i64 {
        self.count
    }

    /// Bytes acknowledged so far.
    #[must_use]
    pub fn bytes(&self) -> i64 {
        self.bytes
    }

    /// Latencies sampled so far.
    #[must_use]
    pub fn sampled(&self) -> usize {
        self.index
    }

    /// Records in the current window.
    #[must_use]
    pub fn window_count(&self) -> i64 {
        self.window_count
    }
}

/// Java's window line (`%d records sent, %.1f records/sec (%.2f MB/sec),
/// %.1f ms avg latency, %.1f ms max latency.`) for a window of `count`
/// records and `bytes` bytes over `elapsed_ms`, whose latencies add up to
/// `total_latency` with maximum `max_latency`. Rates and averages are
/// computed as Java computes them (doubles; `Infinity` or `NaN` when the
/// elapsed time or the count is 0).
#[must_use]
pub fn window_line(
    count: i64,
    bytes: i64,
    elapsed_ms: i64,
    total_latency: i64,
    max_latency: i32,
) -> String {
    let elapsed = elapsed_ms as f64;
    let recs_per_sec = 1000.0 * count as f64 / elapsed;
    let mb_per_sec = 1000.0 * bytes as f64 / elapsed / (1024.0 * 1024.0);
    format!(
        "{count} records sent, {} records/sec ({} MB/sec), {} ms avg latency, {} ms max latency.",
        format_fixed(recs_per_sec, 1),
        format_fixed(mb_per_sec, 2),
        format_fixed(total_latency as f64 / count as f64, 1),
        format_fixed(f64::from(max_latency), 1),
    )
}

/// The numbers behind a total line, for [`total_line`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    /// Records acknowledged.
    pub count: i64,
    /// Bytes acknowledged.
    pub bytes: i64,
    /// Milliseconds since the start.
    pub elapsed_ms: i64,
    /// The sum of the latencies in ms.
    pub total_latency: i64,
    /// The largest latency in ms.
    pub max_latency: i32,
    /// The 50th, 95th, 99th and 99.9th percentile latencies in ms.
    pub percentiles: [i32; 4],
    /// Whether these are the steady-state stats (after warm-up).
    pub steady_state: bool,
}

/// Java's total line (`%d%s records sent, %f records/sec (%.2f MB/sec),
/// %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms
/// 99th, %d ms 99.9th.`), computed as Java computes it.
#[must_use]
pub fn total_line(t: &Totals) -> String {
    let elapsed = t.elapsed_ms as f64;
    let recs_per_sec = 1000.0 * t.count as f64 / elapsed;
    let mb_per_sec = 1000.0 * t.bytes as f64 / elapsed / (1024.0 * 1024.0);
    format!(
        "{}{} records sent, {} records/sec ({} MB/sec), {} ms avg latency, {} ms max latency, \
         {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
        t.count,
        if t.steady_state { " steady state" } else { "" },
        format_fixed(recs_per_sec, 6),
        format_fixed(mb_per_sec, 2),
        format_fixed(t.total_latency as f64 / t.count as f64, 2),
        format_fixed(f64::from(t.max_latency), 2),
        t.percentiles[0],
        t.percentiles[1],
        t.percentiles[2],
        t.percentiles[3],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_every_record_up_to_half_a_million_then_every_nth() {
        let s = Stats::new(1000, 0, false);
        assert_eq!((s.sampling, s.latencies.len()), (1, 1001));
        let s = Stats::new(1_000_000, 0, false);
        assert_eq!((s.sampling, s.latencies.len()), (2, 500_001));
        let s = Stats::new(1_499_999, 0, false);
        assert_eq!((s.sampling, s.latencies.len()), (2, 750_000));
        let mut s = Stats::new(2_000_000, 0, false);
        assert_eq!(s.sampling, 4);
        for i in 0..10 {
            s.record(i, 1, 0);
        }
        // Iterations 0, 4 and 8 are sampled.
        assert_eq!(s.sampled(), 3);
        assert_eq!(&s.latencies[..3], &[0, 4, 8]);
    }

    #[test]
    fn percentiles_index_the_sorted_sample_as_java_does() {
        let mut s = Stats::new(10, 0, false);
        for latency in [9, 1, 8, 2, 7, 3, 6, 4, 5, 10] {
            s.record(latency, 1, 0);
        }
        // size 10: indexes 5, 9, 9, 9 of 1..=10.
        assert_eq!(s.percentiles(&[0.5, 0.95, 0.99, 0.999]), [6, 10, 10, 10]);
        let mut empty = Stats::new(10, 0, false);
        assert_eq!(empty.percentiles(&[0.5, 0.999]), [0, 0]);
        let mut big = Stats::new(1000, 0, false);
        for latency in 0..1000 {
            big.record(latency, 1, 0);
        }
        assert_eq!(
            big.percentiles(&[0.5, 0.95, 0.99, 0.999]),
            [500, 950, 990, 999]
        );
    }

    #[test]
    fn a_window_is_reported_once_it_is_five_seconds_old() {
        let mut s = Stats::new(100, 1_000, false);
        assert!(s.record(10, 100, 2_000).is_empty());
        assert!(s.record(30, 100, 5_999).is_empty());
        let lines = s.record(20, 100, 6_000);
        assert_eq!(
            lines,
            ["3 records sent, 0.6 records/sec (0.00 MB/sec), 20.0 ms avg latency, 30.0 ms max latency."]
        );
        assert_eq!(s.window_count(), 0);
        // The next window starts at 6,000 and has its own max.
        assert!(s.record(5, 100, 10_999).is_empty());
        let lines = s.record(7, 1_048_576, 11_000);
        assert_eq!(
            lines,
            ["2 records sent, 0.4 records/sec (0.20 MB/sec), 6.0 ms avg latency, 7.0 ms max latency."]
        );
        assert_eq!(s.total_count(), 5);
        assert_eq!(
            s.total_line(11_000),
            "5 records sent, 0.500000 records/sec (0.10 MB/sec), 14.40 ms avg latency, \
             30.00 ms max latency, 10 ms 50th, 30 ms 95th, 30 ms 99th, 30 ms 99.9th."
        );
    }

    #[test]
    fn steady_state_stats_announce_themselves_and_suppressed_stats_stay_quiet() {
        let mut whole = Stats::new(10, 0, false);
        whole.suppress_printing();
        let mut steady = Stats::new(5, 0, true);
        assert!(whole.record(1, 1, 5_000).is_empty());
        let lines = steady.record(1, 1, 5_000);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "In steady state.");
        // Only the first window of the steady-state stats says so.
        assert_eq!(steady.record(1, 1, 10_000).len(), 1);
        assert!(steady
            .total_line(10_000)
            .starts_with("2 steady state records sent, "));
    }

    #[test]
    fn nothing_acknowledged_prints_java_nan() {
        let mut s = Stats::new(10, 0, false);
        assert_eq!(
            s.total_line(0),
            "0 records sent, NaN records/sec (NaN MB/sec), NaN ms avg latency, 0.00 ms max latency, \
             0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th."
        );
    }
}

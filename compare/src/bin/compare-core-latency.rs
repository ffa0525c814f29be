//! The core-to-core latency probe of the comparison: two threads hand an
//! atomic counter back and forth and the mean round trip is printed as one
//! JSON line. `scripts/compare.py` runs it right before and right after
//! every client run to tell which placement of the vCPUs the run had
//! (see `kafka_producer_compare::corelat` and docs/performance.md, "Runs
//! are bimodal").
//!
//! ```text
//! compare-core-latency [--round-trips N] [--max-ms MS]
//! # stdout: {"core_rtt_ns": 44.7, "round_trips": 1000000}
//! ```
//!
//! Defaults: 1,000,000 round trips (well under a second in either
//! placement), but no more than 1,000 ms in all: on a busy machine the
//! probe stops early and reports the mean of the round trips it made.

#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use kafka_producer::util::clock::SystemClock;
use kafka_producer_compare::corelat::probe;

const USAGE: &str =
    "usage: compare-core-latency [--round-trips N (default 1000000)] [--max-ms MS (default 1000)]";

/// `(round trips, time budget)`, or `None` for `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<(u64, Duration)>, String> {
    let mut round_trips = 1_000_000;
    let mut max_ms = 1_000;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut positive = || {
            args.next()
                .and_then(|v| v.replace(['_', ','], "").parse::<u64>().ok())
                .filter(|&n| n > 0)
                .ok_or(format!("{arg}: a positive number"))
        };
        match arg.as_str() {
            "--round-trips" => round_trips = positive()?,
            "--max-ms" => max_ms = positive()?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some((round_trips, Duration::from_millis(max_ms))))
}

fn main() -> ExitCode {
    let (round_trips, budget) = match parse(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("compare-core-latency: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let p = probe(round_trips, budget, &SystemClock);
    if p.round_trips == 0 {
        eprintln!("compare-core-latency: no round trip within {budget:?} (the machine is busy)");
        return ExitCode::FAILURE;
    }
    let mut out = std::io::stdout();
    let _ = writeln!(
        out,
        "{{\"core_rtt_ns\": {:.1}, \"round_trips\": {}}}",
        p.round_trip_ns(),
        p.round_trips
    );
    let _ = out.flush();
    ExitCode::SUCCESS
}

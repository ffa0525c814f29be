//! A stderr logger for replaying a seed: `KAFKA_PRODUCER_CHAOS_LOG=debug`
//! (or `trace`, `info`, ...) prints the producer's and the mock's log
//! lines with the time since the test started and the thread's name.

use std::sync::OnceLock;
use std::time::Instant;

use kafka_producer::util::clock::{Clock, SystemClock};
use log::{LevelFilter, Log, Metadata, Record};

struct StderrLogger;

static START: OnceLock<Instant> = OnceLock::new();
static LOGGER: StderrLogger = StderrLogger;

impl Log for StderrLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let start = *START.get_or_init(|| SystemClock.now());
        let ms = SystemClock
            .now()
            .saturating_duration_since(start)
            .as_millis();
        let thread = std::thread::current();
        eprintln!(
            "{ms:>7} {:<5} [{}] {}: {}",
            record.level(),
            thread.name().unwrap_or("?"),
            record.target(),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// Installs the logger if `KAFKA_PRODUCER_CHAOS_LOG` names a level.
pub fn init_from_env() {
    let Ok(level) = std::env::var("KAFKA_PRODUCER_CHAOS_LOG") else {
        return;
    };
    let filter: LevelFilter = level
        .parse()
        .unwrap_or_else(|_| panic!("KAFKA_PRODUCER_CHAOS_LOG={level:?} is not a log level"));
    START.get_or_init(|| SystemClock.now());
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(filter);
    }
}

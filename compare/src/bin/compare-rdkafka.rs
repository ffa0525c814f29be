//! The comparison's runner for librdkafka, through rust-rdkafka 0.39's
//! `BaseProducer` (librdkafka built from the sources bundled in
//! rdkafka-sys). Java keys are translated as `mapping.rs` says.
//!
//! How it is driven, as a user of `BaseProducer` would:
//! * async: `send`, then `poll(0)` to serve delivery reports; when the
//!   queue is full, `poll(1 ms)` and try again (the record's clock started
//!   before the first try, as a blocking `send` would count its wait);
//!   at the end `flush`.
//! * sync: `send`, then `poll(1 ms)` until this record's delivery report
//!   has come. rust-rdkafka's `poll(t)` returns only when `t` has passed,
//!   so sync latencies are counted in steps of about 1 ms.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kafka_producer_compare::args::Args;
use kafka_producer_compare::driver::{self, Ack, Client};
use kafka_producer_compare::mapping::java_to_librdkafka;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::ClientContext;

/// How long `flush` and the metadata fetch may take.
const WAIT: Duration = Duration::from_secs(300);
/// The poll interval while waiting for queue space or a delivery report.
const POLL: Duration = Duration::from_millis(1);

/// What travels with a record to its delivery report.
struct Pending {
    /// Async mode: where the outcome is counted.
    ack: Option<Ack>,
    /// Sync mode: where the waiting thread looks for it.
    slot: Option<Arc<Slot>>,
}

/// One sync-mode record's delivery report, once it has come.
#[derive(Default)]
struct Slot {
    done: AtomicBool,
    error: parking_lot::Mutex<Option<String>>,
}

struct Ctx;

impl ClientContext for Ctx {}

impl ProducerContext for Ctx {
    type DeliveryOpaque = Box<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, pending: Self::DeliveryOpaque) {
        let outcome = result.as_ref().map(drop).map_err(|(e, _)| e.to_string());
        let Pending { ack, slot } = *pending;
        if let Some(ack) = ack {
            ack.complete(outcome);
        } else if let Some(slot) = slot {
            if let Err(e) = outcome {
                *slot.error.lock() = Some(e);
            }
            slot.done.store(true, Ordering::Release);
        }
    }
}

struct Rd(BaseProducer<Ctx>);

impl Rd {
    /// Enqueues the record, polling while the queue is full.
    fn enqueue(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: &[u8],
        pending: Pending,
    ) -> Result<(), (String, Box<Pending>)> {
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(pending)).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        loop {
            match self.0.send::<[u8], [u8]>(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    self.0.poll(POLL);
                }
                Err((e, r)) => return Err((e.to_string(), r.delivery_opaque)),
            }
        }
    }
}

impl Client for Rd {
    fn prepare(&self, topic: &str) -> Result<(), String> {
        self.0
            .client()
            .fetch_metadata(Some(topic), WAIT)
            .map(drop)
            .map_err(|e| e.to_string())
    }

    fn send(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8], ack: Ack) {
        let pending = Pending {
            ack: Some(ack),
            slot: None,
        };
        if let Err((e, pending)) = self.enqueue(topic, key.as_deref(), value, pending) {
            if let Some(ack) = pending.ack {
                ack.complete(Err(e));
            }
        }
        self.0.poll(Duration::ZERO);
    }

    fn send_and_wait(&self, topic: &str, key: Option<Vec<u8>>, value: &[u8]) -> Result<(), String> {
        let slot = Arc::new(Slot::default());
        let pending = Pending {
            ack: None,
            slot: Some(slot.clone()),
        };
        self.enqueue(topic, key.as_deref(), value, pending)
            .map_err(|(e, _)| e)?;
        while !slot.done.load(Ordering::Acquire) {
            self.0.poll(POLL);
        }
        let error = slot.error.lock().take();
        error.map_or(Ok(()), Err)
    }

    fn flush(&self) -> Result<(), String> {
        self.0.flush(WAIT).map_err(|e| e.to_string())
    }
}

fn make(args: &Args) -> Result<Rd, String> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", &args.bootstrap);
    for (k, v) in java_to_librdkafka(&args.props) {
        config.set(k, v);
    }
    config
        .create_with_context(Ctx)
        .map(Rd)
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let version = rdkafka::util::get_rdkafka_version().1;
    driver::main("librdkafka", &version, make)
}

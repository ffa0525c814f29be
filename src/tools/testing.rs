//! Test doubles for the tools: a scripted producer and a backend that hands
//! it out, so the tools run end to end without a network.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::backend::{Backend, EmbeddedCluster, SendCallback, ToolProducer};
use super::line_reader::ByteRecord;
use crate::common::TopicPartition;
use crate::error::Error;
use crate::producer::{ProducerConfig, RecordMetadata};

type FailRule = Box<dyn Fn(u64, &ByteRecord) -> Option<Error> + Send + Sync>;

/// A producer that records what it is sent and completes callbacks
/// according to a rule: at once in `send`, or all together at `flush` /
/// `close`.
pub(crate) struct ScriptedProducer {
    pub records: Mutex<Vec<ByteRecord>>,
    pending: Mutex<Vec<(u64, ByteRecord, SendCallback)>>,
    fail: FailRule,
    complete_in_send: bool,
    pub closed: AtomicBool,
    pub close_error: Mutex<Option<Error>>,
    /// When set, `close` drops pending callbacks without running them.
    pub lose_callbacks: AtomicBool,
}

impl ScriptedProducer {
    /// Acknowledges everything, completing callbacks at once.
    pub fn acking() -> Arc<Self> {
        Self::with_rule(true, |_, _| None)
    }

    /// Completes callbacks at once (`complete_in_send`) or at flush/close;
    /// record `n` (1-based) fails with `fail(n, record)` when it is `Some`.
    pub fn with_rule(
        complete_in_send: bool,
        fail: impl Fn(u64, &ByteRecord) -> Option<Error> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(ScriptedProducer {
            records: Mutex::new(Vec::new()),
            pending: Mutex::new(Vec::new()),
            fail: Box::new(fail),
            complete_in_send,
            closed: AtomicBool::new(false),
            close_error: Mutex::new(None),
            lose_callbacks: AtomicBool::new(false),
        })
    }

    fn complete(&self, n: u64, record: &ByteRecord, cb: SendCallback) {
        match (self.fail)(n, record) {
            Some(e) => cb.call(Err(e)),
            None => cb.call(Ok(RecordMetadata::new(
                TopicPartition::new(record.topic(), 0),
                i64::try_from(n).unwrap_or(i64::MAX) - 1,
                0,
                -1,
                record.key().map_or(-1, |k| k.len() as i32),
                record.value().map_or(-1, |v| v.len() as i32),
            ))),
        }
    }

    fn complete_pending(&self) {
        let pending = std::mem::take(&mut *self.pending.lock());
        for (n, record, cb) in pending {
            self.complete(n, &record, cb);
        }
    }

    pub fn sent(&self) -> Vec<ByteRecord> {
        self.records.lock().clone()
    }
}

impl ToolProducer for Arc<ScriptedProducer> {
    fn send(&self, record: ByteRecord, callback: SendCallback) {
        let n = {
            let mut records = self.records.lock();
            records.push(record.clone());
            records.len() as u64
        };
        if self.complete_in_send {
            self.complete(n, &record, callback);
        } else {
            self.pending.lock().push((n, record, callback));
        }
    }

    fn flush(&self) -> Result<(), Error> {
        self.complete_pending();
        Ok(())
    }

    fn close(&self) -> Result<(), Error> {
        if self.lose_callbacks.load(Ordering::Relaxed) {
            self.pending.lock().clear();
        }
        self.complete_pending();
        self.closed.store(true, Ordering::Relaxed);
        match self.close_error.lock().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        vec![(
            "producer-metrics:record-send-total:{client-id=test}".to_owned(),
            self.records.lock().len() as f64,
        )]
    }
}

struct FakeCluster(String);

impl EmbeddedCluster for FakeCluster {
    fn bootstrap_servers(&self) -> String {
        self.0.clone()
    }
}

/// Hands out one [`ScriptedProducer`] and remembers what it was asked.
pub(crate) struct FakeBackend {
    pub producer: Arc<ScriptedProducer>,
    pub cluster_started: Mutex<Option<u32>>,
    pub cluster_error: Option<String>,
    pub config: Mutex<Option<ProducerConfig>>,
}

impl FakeBackend {
    pub fn new(producer: Arc<ScriptedProducer>) -> Self {
        FakeBackend {
            producer,
            cluster_started: Mutex::new(None),
            cluster_error: None,
            config: Mutex::new(None),
        }
    }

    pub fn config(&self) -> ProducerConfig {
        self.config.lock().clone().expect("a producer was created")
    }
}

impl Backend for FakeBackend {
    fn start_cluster(&self, brokers: u32) -> Result<Box<dyn EmbeddedCluster>, String> {
        if let Some(e) = &self.cluster_error {
            return Err(e.clone());
        }
        *self.cluster_started.lock() = Some(brokers);
        Ok(Box::new(FakeCluster(
            "127.0.0.1:39092,127.0.0.1:39093".into(),
        )))
    }

    fn create_producer(&self, config: ProducerConfig) -> Result<Box<dyn ToolProducer>, Error> {
        *self.config.lock() = Some(config);
        Ok(Box::new(self.producer.clone()))
    }
}

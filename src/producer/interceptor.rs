//! Producer interceptors (Java `ProducerInterceptor`): code that sees every
//! record before it is serialized and every acknowledgement after the
//! broker answers.
//!
//! Interceptors are configured in code (Rust cannot load the Java class
//! names of `interceptor.classes`). They run in the order given:
//! `on_send` on the caller's thread inside `send`, each receiving the record
//! the previous one returned; `on_acknowledgement` on the network thread,
//! before the user's callback, so it must be quick. A panic in
//! `on_acknowledgement` or `close` is caught and logged (Java logs and
//! ignores interceptor exceptions), so it cannot take the network thread
//! down. A panic in `on_send` happens on the caller's thread, inside its own
//! `send` call, and propagates to it like any panic in the caller's code.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::Error;
use crate::producer::record::{ProducerRecord, RecordMetadata};

/// Sees records on their way out and acknowledgements on their way back.
pub trait ProducerInterceptor<K, V>: Send + Sync {
    /// Called in `send` before the key and value are serialized; may return
    /// a modified record. The default returns it unchanged.
    fn on_send(&self, record: ProducerRecord<K, V>) -> ProducerRecord<K, V> {
        record
    }

    /// Called when a record is acknowledged (`error` is `None`) or fails.
    /// On failure `metadata` still names the topic and, when known, the
    /// partition (-1 otherwise); its offset is -1.
    fn on_acknowledgement(&self, metadata: &RecordMetadata, error: Option<&Error>) {
        let _ = (metadata, error);
    }

    /// Called once when the producer closes.
    fn close(&self) {}
}

/// The chain of interceptors of one producer (Java `ProducerInterceptors`).
pub(crate) struct ProducerInterceptors<K, V> {
    interceptors: Vec<Box<dyn ProducerInterceptor<K, V>>>,
}

impl<K, V> fmt::Debug for ProducerInterceptors<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProducerInterceptors")
            .field("count", &self.interceptors.len())
            .finish()
    }
}

impl<K, V> ProducerInterceptors<K, V> {
    /// A chain running `interceptors` in order.
    pub(crate) fn new(interceptors: Vec<Box<dyn ProducerInterceptor<K, V>>>) -> Self {
        ProducerInterceptors { interceptors }
    }

    /// Whether the chain is empty (the send path then skips it entirely).
    pub(crate) fn is_empty(&self) -> bool {
        self.interceptors.is_empty()
    }

    /// Runs every `on_send` in order, each on the previous one's output.
    pub(crate) fn on_send(&self, mut record: ProducerRecord<K, V>) -> ProducerRecord<K, V> {
        for i in &self.interceptors {
            record = i.on_send(record);
        }
        record
    }

    /// Runs every `on_acknowledgement`; panics are logged and ignored.
    pub(crate) fn on_acknowledgement(&self, metadata: &RecordMetadata, error: Option<&Error>) {
        for i in &self.interceptors {
            if catch_unwind(AssertUnwindSafe(|| i.on_acknowledgement(metadata, error))).is_err() {
                log::warn!("Error executing interceptor onAcknowledgement callback: the interceptor panicked");
            }
        }
    }

    /// Runs every `close`; panics are logged and ignored.
    pub(crate) fn close(&self) {
        for i in &self.interceptors {
            if catch_unwind(AssertUnwindSafe(|| i.close())).is_err() {
                log::warn!("Failed to close producer interceptor: the interceptor panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::common::TopicPartition;

    struct AddHeader(&'static str);
    impl ProducerInterceptor<String, String> for AddHeader {
        fn on_send(&self, r: ProducerRecord<String, String>) -> ProducerRecord<String, String> {
            r.with_header(self.0, b"1".to_vec())
        }
    }

    struct Panics;
    impl ProducerInterceptor<String, String> for Panics {
        fn on_acknowledgement(&self, _: &RecordMetadata, _: Option<&Error>) {
            panic!("interceptor bug")
        }
    }

    struct CountAcks(Arc<AtomicUsize>);
    impl ProducerInterceptor<String, String> for CountAcks {
        fn on_acknowledgement(&self, _: &RecordMetadata, error: Option<&Error>) {
            if error.is_none() {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn on_send_runs_in_order_and_acknowledgements_survive_a_panic() {
        let acks = Arc::new(AtomicUsize::new(0));
        let chain: ProducerInterceptors<String, String> = ProducerInterceptors::new(vec![
            Box::new(AddHeader("a")),
            Box::new(Panics),
            Box::new(AddHeader("b")),
            Box::new(CountAcks(acks.clone())),
        ]);
        let r = chain.on_send(ProducerRecord::new("t", "v".to_string()));
        let keys: Vec<_> = r.headers().iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        let md = RecordMetadata::new(TopicPartition::new("t", 0), 5, 0, 1, -1, 1);
        chain.on_acknowledgement(&md, None);
        assert_eq!(acks.load(Ordering::SeqCst), 1);
        chain.close();
    }
}

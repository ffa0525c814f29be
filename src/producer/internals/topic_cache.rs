//! What `send` needs to know about its topic, cached per caller thread, so
//! that a send to a topic it used before takes no lock but its partition's
//! deque and changes no shared reference count.
//!
//! ```text
//!  thread-local: [SendTopic (producer id, topic), ...]      at most 32, oldest out
//!    SendTopic
//!      view:     cluster, its version, partition count,     valid while
//!                the topic's usage in the metadata          metadata.cluster_version()
//!                                                           is unchanged and the
//!                                                           topic has not expired
//!      appender: the accumulator's TopicInfo, the deques    (deques and topic
//!                used so far, the sticky partition seen     states are never
//!                last                                       removed while open)
//! ```
//!
//! A send looks its topic up by name in its thread's short list (a string
//! comparison, no hashing), reads the metadata's cluster version (one
//! atomic load) and, when the cached view is current, marks the topic used
//! (an atomic load; a store at most once per millisecond). Otherwise it
//! takes the slow path, Java's `waitOnMetadata`, and caches the result.
//! The answers are those of the slow path: a view is only kept for a
//! cluster that knew the topic, and is dropped as soon as the cluster is
//! replaced or the topic expires from the metadata.
//!
//! The entries of a producer that was dropped stay until their thread
//! looks up a topic it has no entry for; they are removed then.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::common::Cluster;
use crate::producer::internals::accumulator::append::TopicAppender;
use crate::producer::internals::accumulator::RecordAccumulator;
use crate::producer::internals::producer_metadata::TopicUsage;

/// Entries per thread; beyond that the oldest goes. A thread sending to
/// more topics than this (through one or several producers) takes the
/// slow path more often, as every send did before this cache.
const MAX_ENTRIES: usize = 32;

/// Producer numbers, unique in the process.
static NEXT_PRODUCER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's entries, oldest first.
    static ENTRIES: RefCell<Vec<Rc<SendTopic>>> = const { RefCell::new(Vec::new()) };
}

/// A cluster that knew a topic, as a send uses it.
#[derive(Debug)]
pub(crate) struct TopicView {
    /// The cluster the record is partitioned against.
    pub(crate) cluster: Arc<Cluster>,
    /// The topic's partition count in `cluster`.
    pub(crate) partition_count: usize,
    /// `Metadata::cluster_version` read before `cluster` was fetched.
    version: u64,
    usage: Arc<TopicUsage>,
}

impl TopicView {
    /// A view of `cluster`, fetched after `version` was read.
    pub(crate) fn new(
        cluster: Arc<Cluster>,
        partition_count: usize,
        version: u64,
        usage: Arc<TopicUsage>,
    ) -> Self {
        TopicView {
            cluster,
            partition_count,
            version,
            usage,
        }
    }
}

/// One thread's state for one producer and topic.
pub(crate) struct SendTopic {
    producer: u64,
    /// Dead once the producer is dropped.
    alive: Weak<()>,
    name: Box<str>,
    view: RefCell<Option<Rc<TopicView>>>,
    /// Until when the view's topic usage needs no touch (see
    /// `TopicUsage::touch_until`).
    next_touch: Cell<Option<Instant>>,
    /// Borrowed only for the length of one append (no user code runs
    /// inside it).
    pub(crate) appender: RefCell<TopicAppender>,
}

impl std::fmt::Debug for SendTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendTopic")
            .field("producer", &self.producer)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SendTopic {
    /// The cached view, if the cluster is still the one of `version`,
    /// `partition` (if given) is below the topic's count, and the topic is
    /// still wanted by the metadata; it is then marked used at `now`, as
    /// Java's `metadata.add` does on every send.
    pub(crate) fn current_view(
        &self,
        version: u64,
        partition: Option<i32>,
        now: Instant,
    ) -> Option<Rc<TopicView>> {
        let view = self.view.borrow();
        let view = view.as_ref()?;
        if view.version != version {
            return None;
        }
        if let Some(p) = partition {
            if usize::try_from(p).map_or(true, |p| p >= view.partition_count) {
                return None;
            }
        }
        if !view.usage.is_wanted() {
            return None;
        }
        // Java's `metadata.add` on every send; only the first send of each
        // millisecond changes anything.
        if self.next_touch.get().is_none_or(|next| now >= next) {
            self.next_touch.set(view.usage.touch_until(now));
        }
        Some(Rc::clone(view))
    }

    /// Keeps `view` for the next sends.
    pub(crate) fn set_view(&self, view: Rc<TopicView>) {
        *self.view.borrow_mut() = Some(view);
        self.next_touch.set(None);
    }
}

/// A producer's key into the per-thread caches.
#[derive(Debug)]
pub(crate) struct TopicCache {
    id: u64,
    alive: Arc<()>,
}

impl TopicCache {
    /// A key no other producer of this process has.
    pub(crate) fn new() -> Self {
        TopicCache {
            id: NEXT_PRODUCER.fetch_add(1, Ordering::Relaxed),
            alive: Arc::new(()),
        }
    }

    /// This thread's entry for `topic`, created (with its accumulator
    /// state) on first use.
    pub(crate) fn get(&self, topic: &str, accumulator: &RecordAccumulator) -> Rc<SendTopic> {
        let found = ENTRIES.try_with(|entries| {
            entries
                .borrow()
                .iter()
                .rev()
                .find(|e| e.producer == self.id && *e.name == *topic)
                .cloned()
        });
        match found {
            Ok(Some(entry)) => entry,
            Ok(None) => {
                let entry = self.new_entry(topic, accumulator);
                // Cannot fail: the key was accessible just above.
                let _ = ENTRIES.try_with(|entries| {
                    let mut entries = entries.borrow_mut();
                    entries.retain(|e| e.alive.strong_count() > 0);
                    if entries.len() >= MAX_ENTRIES {
                        entries.remove(0);
                    }
                    entries.push(Rc::clone(&entry));
                });
                entry
            }
            // The thread is being torn down: serve this send uncached.
            Err(_) => self.new_entry(topic, accumulator),
        }
    }

    fn new_entry(&self, topic: &str, accumulator: &RecordAccumulator) -> Rc<SendTopic> {
        Rc::new(SendTopic {
            producer: self.id,
            alive: Arc::downgrade(&self.alive),
            name: topic.into(),
            view: RefCell::new(None),
            next_touch: Cell::new(None),
            appender: RefCell::new(accumulator.topic_appender(topic)),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clients::metadata::testutil::{clock, params};
    use crate::producer::internals::accumulator::AccumulatorConfig;
    use crate::producer::internals::buffer_pool::BufferPool;
    use crate::producer::internals::producer_metadata::ProducerMetadata;
    use crate::record::Compression;
    use crate::util::clock::Clock;

    fn accumulator() -> RecordAccumulator {
        let c = clock();
        let pool = Arc::new(BufferPool::new(1 << 20, 1024, c.clone()));
        RecordAccumulator::new(
            AccumulatorConfig::new(1024, Compression::none()),
            pool,
            None,
            c,
        )
        .unwrap()
    }

    #[test]
    fn a_view_is_used_only_while_it_is_current() {
        let c = clock();
        let m = ProducerMetadata::new(params(), Duration::from_secs(30), c.clone());
        let acc = accumulator();
        let cache = TopicCache::new();
        let entry = cache.get("t", &acc);
        assert!(entry.current_view(0, None, c.now()).is_none(), "none yet");
        let usage = m.add("t", c.now());
        entry.set_view(Rc::new(TopicView::new(
            Arc::new(Cluster::default()),
            2,
            7,
            usage.clone(),
        )));
        assert!(entry.current_view(7, None, c.now()).is_some());
        assert!(entry.current_view(7, Some(1), c.now()).is_some());
        assert!(entry.current_view(7, Some(2), c.now()).is_none(), "range");
        assert!(entry.current_view(7, Some(-1), c.now()).is_none(), "range");
        assert!(entry.current_view(8, None, c.now()).is_none(), "replaced");
        // The same thread finds the same entry; another producer does not.
        assert!(Rc::ptr_eq(&entry, &cache.get("t", &acc)));
        assert!(!Rc::ptr_eq(&entry, &TopicCache::new().get("t", &acc)));
        assert!(!Rc::ptr_eq(&entry, &cache.get("u", &acc)));
    }

    #[test]
    fn dead_producers_entries_go_and_the_list_is_bounded() {
        let acc = accumulator();
        let count =
            |id: u64| ENTRIES.with(|e| e.borrow().iter().filter(|e| e.producer == id).count());
        let dead = TopicCache::new();
        let dead_id = dead.id;
        dead.get("t", &acc);
        assert_eq!(count(dead_id), 1);
        drop(dead);
        let live = TopicCache::new();
        for i in 0..MAX_ENTRIES + 5 {
            live.get(&format!("t{i}"), &acc);
        }
        assert_eq!(count(dead_id), 0, "removed on the next miss");
        assert_eq!(count(live.id), MAX_ENTRIES);
        // The oldest went first.
        let names: Vec<String> =
            ENTRIES.with(|e| e.borrow().iter().map(|e| e.name.to_string()).collect());
        assert_eq!(names.first().map(String::as_str), Some("t5"));
    }
}

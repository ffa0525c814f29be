//! The producer's metadata (Java `ProducerMetadata`) and the wait a
//! `send()` makes for its topic's partitions (Java
//! `KafkaProducer.waitOnMetadata`, Kafka 4.3).
//!
//! The producer asks only for the topics it writes to. A topic joins the
//! set on first use ([`ProducerMetadata::add`]) and is fetched at once by a
//! partial request naming only the new topics; it leaves the set when no
//! record was sent to it for `metadata.max.idle.ms` (checked when a
//! response arrives). Everything else (versions, backoff, snapshots, the
//! wait) is the generic [`Metadata`], which this module configures through
//! a [`TopicPolicy`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clients::metadata::{invalid_topic_error, Metadata, MetadataParams, TopicPolicy};
use crate::common::Cluster;
use crate::error::Error;
use crate::producer::config::{MetadataRecoveryStrategy, ProducerConfig};
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use crate::util::clock::Clock;

/// When a wanted topic was last sent to. Shared with the caller threads'
/// topic caches, so that a send marks its topic used with an atomic
/// instead of taking the metadata lock (Java's `add` is synchronized).
#[derive(Debug)]
pub(crate) struct TopicUsage {
    /// The metadata's creation: uses are counted in ms from here.
    base: Instant,
    /// Milliseconds from `base` to the last use (Java keeps `nowMs`, also
    /// in ms).
    last_used_ms: AtomicU64,
    /// The topic expired and left the metadata: a send must
    /// [`add`](ProducerMetadata::add) it again instead of touching this.
    removed: AtomicBool,
}

impl TopicUsage {
    fn new(base: Instant, now: Instant) -> Self {
        TopicUsage {
            base,
            last_used_ms: AtomicU64::new(Self::ms_since(base, now)),
            removed: AtomicBool::new(false),
        }
    }

    fn ms_since(base: Instant, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(base).as_millis()).unwrap_or(u64::MAX)
    }

    /// Marks the topic used at `now`; false when it has expired meanwhile
    /// (then nothing is recorded: call `add`). Writes at most once per
    /// millisecond, so threads sending to one topic rarely write its line.
    ///
    /// A send racing with the expiry (it touched the topic just after the
    /// network thread removed it) goes on with its cluster; its batch then
    /// waits for a leader, and the sender adds the topic back for it
    /// (`unknown_leader_topics`), as it does after any expiry.
    pub(crate) fn touch(&self, now: Instant) -> bool {
        self.touch_until(now).is_some()
    }

    /// [`touch`](Self::touch), returning the start of the next millisecond:
    /// touching again before it changes nothing, so a caller may skip it
    /// (but not the expiry check, [`is_wanted`](Self::is_wanted)).
    pub(crate) fn touch_until(&self, now: Instant) -> Option<Instant> {
        if !self.is_wanted() {
            return None;
        }
        let ms = Self::ms_since(self.base, now);
        if self.last_used_ms.load(Ordering::Relaxed) < ms {
            self.last_used_ms.fetch_max(ms, Ordering::Relaxed);
        }
        Some(
            self.base
                .checked_add(Duration::from_millis(ms.saturating_add(1)))
                .unwrap_or(now),
        )
    }

    /// Whether the topic is still in the metadata (it has not expired).
    pub(crate) fn is_wanted(&self) -> bool {
        !self.removed.load(Ordering::Acquire)
    }

    /// When the topic expires unless used again; `None`: never (an idle
    /// time too large for an `Instant`).
    fn expiry(&self, max_idle: Duration) -> Option<Instant> {
        let last = Duration::from_millis(self.last_used_ms.load(Ordering::Relaxed));
        self.base.checked_add(last)?.checked_add(max_idle)
    }
}

/// The producer's topics: wanted ones with their last use, new ones not
/// yet answered for, and the last response's topic errors.
#[derive(Debug)]
pub(crate) struct ProducerTopics {
    /// `metadata.max.idle.ms`.
    max_idle: Duration,
    /// The origin of [`TopicUsage`] times.
    base: Instant,
    /// Topic → its last use; it expires `max_idle` after that.
    topics: BTreeMap<String, Arc<TopicUsage>>,
    new_topics: BTreeSet<String>,
    /// Topic errors of the last response (Java `getError`).
    errors: HashMap<String, ErrorCode>,
}

impl TopicPolicy for ProducerTopics {
    fn retain_topic(&mut self, topic: &str, _is_internal: bool, now: Instant) -> bool {
        let Some(usage) = self.topics.get(topic) else {
            return false;
        };
        if self.new_topics.contains(topic) {
            return true;
        }
        match usage.expiry(self.max_idle) {
            Some(at) if at <= now => {
                log::debug!("Removing unused topic {topic} from the metadata list");
                if let Some(usage) = self.topics.remove(topic) {
                    usage.removed.store(true, Ordering::Release);
                }
                false
            }
            _ => true,
        }
    }

    fn full_request(&self) -> MetadataRequest {
        MetadataRequest::topics(self.topics.keys().cloned(), true)
    }

    fn partial_request(&self) -> Option<MetadataRequest> {
        Some(MetadataRequest::topics(
            self.new_topics.iter().cloned(),
            true,
        ))
    }

    fn on_update(&mut self, response: &MetadataResponse) {
        self.errors = response
            .topics
            .iter()
            .filter(|t| !t.error_code.is_ok())
            .filter_map(|t| Some((t.name.clone()?, t.error_code)))
            .collect();
        // A new topic that came back with an error is fetched again by the
        // full update the error asked for.
        for t in &response.topics {
            if let Some(name) = &t.name {
                self.new_topics.remove(name);
            }
        }
    }
}

/// The producer's metadata.
pub(crate) type ProducerMetadata = Metadata<ProducerTopics>;

impl Metadata<ProducerTopics> {
    /// Producer metadata with `metadata.max.idle.ms` = `max_idle`.
    pub(crate) fn new(params: MetadataParams, max_idle: Duration, clock: Arc<dyn Clock>) -> Self {
        let topics = ProducerTopics {
            max_idle,
            base: clock.now(),
            topics: BTreeMap::new(),
            new_topics: BTreeSet::new(),
            errors: HashMap::new(),
        };
        Metadata::with_policy(params, topics, clock)
    }

    /// Producer metadata set up from the configuration (`retry.backoff.ms`,
    /// `retry.backoff.max.ms`, `metadata.max.age.ms`, `metadata.max.idle.ms`,
    /// `metadata.recovery.*`) and bootstrapped from `bootstrap.servers`.
    pub(crate) fn from_config(config: &ProducerConfig, clock: Arc<dyn Clock>) -> Self {
        let params = MetadataParams {
            refresh_backoff: config.retry_backoff(),
            refresh_backoff_max: Duration::from_millis(config.retry_backoff_max_ms()),
            metadata_max_age: Duration::from_millis(config.metadata_max_age_ms()),
            rebootstrap: config.metadata_recovery_strategy()
                == MetadataRecoveryStrategy::Rebootstrap,
            rebootstrap_trigger: Duration::from_millis(
                config.metadata_recovery_rebootstrap_trigger_ms(),
            ),
            ..MetadataParams::default()
        };
        let idle = Duration::from_millis(config.metadata_max_idle_ms());
        let metadata = Self::new(params, idle, clock);
        let addresses: Vec<(String, u16)> = config
            .bootstrap_addresses()
            .iter()
            .map(|b| (b.host().to_owned(), b.port()))
            .collect();
        metadata.bootstrap(&addresses);
        metadata
    }

    /// Wants `topic` and pushes its expiry to `now + metadata.max.idle.ms`;
    /// a topic not wanted before is fetched at once. Returns the topic's
    /// usage, through which later sends mark it used without this lock.
    pub(crate) fn add(&self, topic: &str, now: Instant) -> Arc<TopicUsage> {
        self.with_state(|core, p| {
            if let Some(usage) = p.topics.get(topic) {
                usage.touch(now);
                return Arc::clone(usage);
            }
            let usage = Arc::new(TopicUsage::new(p.base, now));
            p.topics.insert(topic.to_owned(), Arc::clone(&usage));
            p.new_topics.insert(topic.to_owned());
            core.request_update_for_new_topics();
            usage
        })
    }

    /// Asks for an update that covers `topic`: immediate and partial if it
    /// is new, a full one otherwise. Returns the version to wait past.
    pub(crate) fn request_update_for_topic(&self, topic: &str) -> u64 {
        self.with_state(|core, p| {
            if p.new_topics.contains(topic) {
                core.request_update_for_new_topics()
            } else {
                core.request_update(false)
            }
        })
    }

    /// Whether `topic` is wanted.
    #[allow(dead_code)] // tests
    pub(crate) fn contains_topic(&self, topic: &str) -> bool {
        self.with_state(|_, p| p.topics.contains_key(topic))
    }

    /// The wanted topics, sorted.
    #[allow(dead_code)] // tests
    pub(crate) fn topics(&self) -> Vec<String> {
        self.with_state(|_, p| p.topics.keys().cloned().collect())
    }

    /// Wanted topics that no response has described yet, sorted.
    #[allow(dead_code)] // tests
    pub(crate) fn new_topics(&self) -> Vec<String> {
        self.with_state(|_, p| p.new_topics.iter().cloned().collect())
    }

    /// The error the last response gave for `topic`, if any.
    #[allow(dead_code)] // tests
    pub(crate) fn topic_error(&self, topic: &str) -> Option<ErrorCode> {
        self.with_state(|_, p| p.errors.get(topic).copied())
    }
}

/// The cluster a record was partitioned against and how long `send()`
/// waited for it (Java `ClusterAndWaitTime`).
#[derive(Debug, Clone)]
pub(crate) struct ClusterAndWaitTime {
    /// The cluster that knows the record's topic (and partition).
    pub(crate) cluster: Arc<Cluster>,
    /// Time spent waiting; zero on the fast path.
    pub(crate) waited: Duration,
    /// The topic's usage in the metadata (see [`TopicUsage`]).
    pub(crate) usage: Arc<TopicUsage>,
}

/// Java `KafkaProducer.waitOnMetadata`: returns at once when the topic's
/// partition count is known and `partition` (if given) is below it;
/// otherwise asks for updates, wakes the sender with `wakeup`, and waits
/// until it is, at most `max_wait` (`max.block.ms`) counted from `now`.
///
/// Errors: the topic is invalid or not authorized; the metadata closed;
/// a fatal metadata error; or a timeout with Java's message ("Topic %s not
/// present in metadata after %d ms." or "Partition %d of topic %s with
/// partition count %d is not present in metadata after %d ms.").
pub(crate) fn wait_on_metadata(
    metadata: &ProducerMetadata,
    topic: &str,
    partition: Option<i32>,
    now: Instant,
    max_wait: Duration,
    wakeup: &dyn Fn(),
) -> Result<ClusterAndWaitTime, Error> {
    let mut cluster = metadata.fetch();
    if cluster.invalid_topics().contains(topic) {
        return Err(invalid_topic_error(topic));
    }
    let mut usage = metadata.add(topic, now);

    let mut partition_count = cluster.partition_count(topic);
    if in_range(partition_count, partition) {
        return Ok(ClusterAndWaitTime {
            cluster,
            waited: Duration::ZERO,
            usage,
        });
    }

    let max_wait_ms = max_wait.as_millis();
    let topic_missing = || {
        Error::Timeout(format!(
            "Topic {topic} not present in metadata after {max_wait_ms} ms."
        ))
    };
    // The remaining time shrinks with `elapsed`, so every wait ends at the
    // same instant.
    let deadline = now.checked_add(max_wait);
    let mut elapsed = Duration::ZERO;
    loop {
        match partition {
            Some(p) => {
                log::trace!("Requesting metadata update for partition {p} of topic {topic}.")
            }
            None => log::trace!("Requesting metadata update for topic {topic}."),
        }
        // Pushes the expiry forward: a long wait must not expire the topic.
        usage = metadata.add(topic, now.checked_add(elapsed).unwrap_or(now));
        let version = metadata.request_update_for_topic(topic);
        wakeup();
        match metadata.await_update(version, deadline) {
            Err(Error::Timeout(_)) => return Err(topic_missing()),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        cluster = metadata.fetch();
        elapsed = metadata.clock().now().saturating_duration_since(now);
        if elapsed >= max_wait {
            // Java reports the partition count known before this update.
            return Err(match (partition_count, partition) {
                (Some(count), Some(p)) => Error::Timeout(format!(
                    "Partition {p} of topic {topic} with partition count {count} is not present in metadata after {max_wait_ms} ms."
                )),
                _ => topic_missing(),
            });
        }
        metadata.maybe_throw_exception_for_topic(topic)?;
        partition_count = cluster.partition_count(topic);
        if in_range(partition_count, partition) {
            return Ok(ClusterAndWaitTime {
                cluster,
                waited: elapsed,
                usage,
            });
        }
    }
}

/// Whether the topic is known and the partition, if any, below its count.
fn in_range(count: Option<usize>, partition: Option<i32>) -> bool {
    match (count, partition) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(count), Some(p)) => usize::try_from(p).is_ok_and(|p| p < count),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::sync::Arc;
    use std::thread;

    use crossbeam_channel::unbounded;

    use super::*;
    use crate::clients::metadata::testutil::{
        clock, ms, params, response, topic, topic_error, topic_with_id,
    };
    use crate::clients::metadata::UpdateOutcome;
    use crate::util::clock::MockClock;

    const IDLE: Duration = Duration::from_secs(30);

    fn producer_metadata() -> (ProducerMetadata, Arc<MockClock>) {
        let c = clock();
        let m = ProducerMetadata::new(params(), IDLE, c.clone());
        m.bootstrap(&[("h1".to_owned(), 9092)]);
        (m, c)
    }

    fn request_names(m: &ProducerMetadata, now: Instant) -> (Vec<String>, bool) {
        let r = m.new_metadata_request(now);
        let names = r
            .request
            .topics
            .expect("the producer names its topics")
            .into_iter()
            .map(|t| t.name.unwrap_or_default())
            .collect();
        (names, r.is_partial_update)
    }

    /// What the sender does: take the request metadata asks for and answer
    /// it with `resp`.
    fn deliver(m: &ProducerMetadata, resp: &MetadataResponse, now: Instant) -> UpdateOutcome {
        let r = m.new_metadata_request(now);
        m.update(r.request_version, resp, r.is_partial_update, now)
    }

    #[test]
    fn added_topic_is_requested_and_learned() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        assert!(m.new_topics().is_empty());
        assert_eq!(m.topic_error("a"), None);
    }

    fn round_trip_first_topic(m: &ProducerMetadata, c: &MockClock) {
        m.add("a", c.now());
        assert!(m.contains_topic("a"));
        assert!(m.update_requested());
        assert_eq!(m.time_to_next_update(c.now()), ms(0));
        // After bootstrap a full update is wanted: it names every topic.
        assert_eq!(request_names(m, c.now()), (vec!["a".to_owned()], false));
        let version = m.update_version();
        assert_eq!(
            deliver(m, &response(vec![topic("a", 2, 0)]), c.now()),
            UpdateOutcome::Updated
        );
        assert_eq!(m.update_version(), version + 1);
        assert_eq!(m.fetch().partition_count("a"), Some(2));
        assert!(!m.update_requested());
    }

    #[test]
    fn new_topics_use_a_partial_request_and_keep_the_others() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        c.sleep_ms(10);
        m.add("b", c.now());
        m.add("a", c.now()); // known: no new request
        assert_eq!(m.new_topics(), vec!["b".to_owned()]);
        // The refresh backoff is waived for new topics.
        assert_eq!(m.time_to_next_update(c.now()), ms(0));
        assert_eq!(request_names(&m, c.now()), (vec!["b".to_owned()], true));
        deliver(&m, &response(vec![topic("b", 3, 0)]), c.now());
        let cluster = m.fetch();
        assert_eq!(
            cluster.partition_count("a"),
            Some(2),
            "a survives the partial update"
        );
        assert_eq!(cluster.partition_count("b"), Some(3));
        assert!(!m.update_requested());
        // A full request names both.
        m.request_update(false);
        assert_eq!(
            request_names(&m, c.now()),
            (vec!["a".to_owned(), "b".to_owned()], false)
        );
    }

    #[test]
    fn topic_ids_survive_partial_updates() {
        let (m, c) = producer_metadata();
        m.add("a", c.now());
        deliver(
            &m,
            &response(vec![topic_with_id("a", 1, 0, [1; 16])]),
            c.now(),
        );
        m.add("b", c.now());
        deliver(
            &m,
            &response(vec![topic_with_id("b", 1, 0, [2; 16])]),
            c.now(),
        );
        let cluster = m.fetch();
        assert_eq!(cluster.topic_id("a"), Some([1; 16]));
        assert_eq!(cluster.topic_id("b"), Some([2; 16]));
        // A later answer for a without an id drops the old one.
        m.request_update(false);
        deliver(
            &m,
            &response(vec![topic("a", 1, 0), topic_with_id("b", 1, 0, [2; 16])]),
            c.now(),
        );
        assert_eq!(m.fetch().topic_id("a"), None);
    }

    #[test]
    fn built_from_the_configuration() {
        let config = ProducerConfig::builder("k1:9092,k2:9093")
            .metadata_max_age_ms(20_000)
            .build()
            .unwrap();
        let c = clock();
        let m = ProducerMetadata::from_config(&config, c.clone());
        let nodes: Vec<(i32, u16)> = m.fetch().nodes().iter().map(|n| (n.id, n.port)).collect();
        assert_eq!(nodes, vec![(-1, 9092), (-2, 9093)]);
        deliver(&m, &response(vec![]), c.now());
        assert_eq!(m.time_to_next_update(c.now()), ms(20_000));
    }

    #[test]
    fn topic_added_during_a_request_is_asked_for_again() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        m.add("b", c.now());
        let r = m.new_metadata_request(c.now());
        m.add("c", c.now()); // while the request for b is in flight
        m.update(
            r.request_version,
            &response(vec![topic("b", 1, 0)]),
            r.is_partial_update,
            c.now(),
        );
        assert!(m.update_requested(), "c still needs its partial update");
        assert_eq!(request_names(&m, c.now()), (vec!["c".to_owned()], true));
    }

    #[test]
    fn usage_keeps_a_topic_and_an_expired_one_must_be_added_again() {
        let (m, c) = producer_metadata();
        let usage = m.add("a", c.now());
        deliver(&m, &response(vec![topic("a", 1, 0)]), c.now());
        // Touched without the lock, 20 s later: still wanted 29 s after.
        c.sleep_ms(20_000);
        assert!(usage.touch(c.now()));
        c.sleep_ms(29_000);
        m.request_update(false);
        deliver(&m, &response(vec![topic("a", 1, 0)]), c.now());
        assert!(m.contains_topic("a"));
        // Idle for max.idle: expired, and the usage says so.
        c.sleep_ms(1_000);
        m.request_update(false);
        deliver(&m, &response(vec![topic("a", 1, 0)]), c.now());
        assert!(!m.contains_topic("a"));
        assert!(!usage.touch(c.now()), "an expired topic is not touched");
        // Adding it again makes it new, with a usage of its own.
        let again = m.add("a", c.now());
        assert!(!Arc::ptr_eq(&usage, &again));
        assert_eq!(m.new_topics(), vec!["a".to_owned()]);
        assert!(again.touch(c.now()));
    }

    #[test]
    fn idle_topics_expire_and_are_no_longer_requested() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        m.add("b", c.now());
        deliver(&m, &response(vec![topic("b", 1, 0)]), c.now());
        // b is used again later; a is not.
        c.sleep_ms(20_000);
        m.add("b", c.now());
        c.sleep_ms(10_000); // a idle for exactly max.idle
        m.request_update(false);
        assert_eq!(
            request_names(&m, c.now()),
            (vec!["a".to_owned(), "b".to_owned()], false),
            "expiry happens when a response arrives"
        );
        deliver(
            &m,
            &response(vec![topic("a", 2, 0), topic("b", 1, 0)]),
            c.now(),
        );
        assert!(!m.contains_topic("a"));
        assert_eq!(m.fetch().partition_count("a"), None);
        assert_eq!(m.fetch().partition_count("b"), Some(1));
        assert_eq!(
            m.last_seen_leader_epoch(&crate::common::TopicPartition::new("a", 0)),
            None
        );
        m.request_update(false);
        assert_eq!(request_names(&m, c.now()), (vec!["b".to_owned()], false));
    }

    #[test]
    fn unknown_topic_stays_wanted_and_is_fetched_in_full() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        m.add("new", c.now());
        deliver(
            &m,
            &response(vec![topic_error(
                "new",
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            )]),
            c.now(),
        );
        assert!(m.contains_topic("new"));
        assert!(m.new_topics().is_empty());
        assert_eq!(
            m.topic_error("new"),
            Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
        );
        assert_eq!(m.fetch().partition_count("new"), None);
        assert!(m.update_requested());
        assert_eq!(
            m.time_to_next_update(c.now()),
            ms(100),
            "after the refresh backoff"
        );
        assert_eq!(
            request_names(&m, c.now() + ms(100)),
            (vec!["a".to_owned(), "new".to_owned()], false)
        );
    }

    #[test]
    fn fast_path_when_the_partition_is_known() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        let wakeups = Cell::new(0);
        let wake = || wakeups.set(wakeups.get() + 1);
        for partition in [None, Some(0), Some(1)] {
            let got = wait_on_metadata(&m, "a", partition, c.now(), ms(1000), &wake).unwrap();
            assert_eq!(got.waited, Duration::ZERO);
            assert_eq!(got.cluster.partition_count("a"), Some(2));
        }
        assert_eq!(wakeups.get(), 0);
    }

    #[test]
    fn wait_ends_when_the_woken_sender_delivers() {
        let (m, c) = producer_metadata();
        let wakeups = Cell::new(0);
        let wake = || {
            wakeups.set(wakeups.get() + 1);
            c.sleep_ms(7);
            let (names, _) = request_names(&m, c.now());
            assert_eq!(names, vec!["t".to_owned()]);
            deliver(&m, &response(vec![topic("t", 4, 0)]), c.now());
        };
        let got = wait_on_metadata(&m, "t", Some(3), c.now(), ms(1000), &wake).unwrap();
        assert_eq!(wakeups.get(), 1);
        assert_eq!(got.cluster.partition_count("t"), Some(4));
        assert_eq!(got.waited, ms(7));
    }

    #[test]
    fn wait_ends_when_another_thread_delivers() {
        let (m, c) = producer_metadata();
        let m = Arc::new(m);
        let (wake_tx, wake_rx) = unbounded::<()>();
        let sender = {
            let m = Arc::clone(&m);
            let c = Arc::clone(&c);
            thread::spawn(move || {
                wake_rx.recv().unwrap();
                let (names, _) = request_names(&m, c.now());
                deliver(&m, &response(vec![topic("t", 1, 0)]), c.now());
                names
            })
        };
        let got = wait_on_metadata(&m, "t", None, c.now(), ms(60_000), &|| {
            let _ = wake_tx.send(());
        })
        .unwrap();
        assert_eq!(got.cluster.partition_count("t"), Some(1));
        assert_eq!(sender.join().unwrap(), vec!["t".to_owned()]);
    }

    #[test]
    fn timeout_names_the_topic_and_max_block() {
        let (m, c) = producer_metadata();
        // Nobody answers: the real-time wait runs out.
        let err = wait_on_metadata(&m, "t", None, c.now(), ms(30), &|| {}).unwrap_err();
        assert!(matches!(err, Error::Timeout(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "timed out: Topic t not present in metadata after 30 ms."
        );
    }

    #[test]
    fn partition_out_of_range_until_the_deadline() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        let start = c.now();
        // The sender answers, but only after max.block.ms and still with 2
        // partitions.
        let wake = || {
            c.sleep_ms(1000);
            deliver(&m, &response(vec![topic("a", 2, 0)]), c.now());
        };
        let err = wait_on_metadata(&m, "a", Some(5), start, ms(1000), &wake).unwrap_err();
        assert_eq!(
            err.to_string(),
            "timed out: Partition 5 of topic a with partition count 2 is not present in metadata after 1000 ms."
        );
    }

    #[test]
    fn partition_count_growing_ends_the_wait() {
        let (m, c) = producer_metadata();
        round_trip_first_topic(&m, &c);
        let answers = Cell::new(0);
        let wake = || {
            answers.set(answers.get() + 1);
            c.sleep_ms(100);
            // The first refresh still has 2 partitions, the second 6.
            let n = if answers.get() == 1 { 2 } else { 6 };
            deliver(&m, &response(vec![topic("a", n, 0)]), c.now());
        };
        let got = wait_on_metadata(&m, "a", Some(5), c.now(), ms(1000), &wake).unwrap();
        assert_eq!(answers.get(), 2);
        assert_eq!(got.cluster.partition_count("a"), Some(6));
        assert_eq!(got.waited, ms(200));
    }

    #[test]
    fn invalid_topic_fails_the_wait_and_later_sends_at_once() {
        let (m, c) = producer_metadata();
        let wake = || {
            deliver(
                &m,
                &response(vec![topic_error(
                    "bad/name",
                    ErrorCode::INVALID_TOPIC_EXCEPTION,
                )]),
                c.now(),
            );
        };
        let err = wait_on_metadata(&m, "bad/name", None, c.now(), ms(1000), &wake).unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::INVALID_TOPIC_EXCEPTION));
        assert!(
            err.to_string().contains("Invalid topics: [bad/name]"),
            "{err}"
        );
        // Known invalid: refused before any wait.
        let err = wait_on_metadata(&m, "bad/name", None, c.now(), ms(1000), &|| {
            panic!("no wakeup for a known invalid topic")
        })
        .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::INVALID_TOPIC_EXCEPTION));
    }

    #[test]
    fn unauthorized_topic_fails_the_wait() {
        let (m, c) = producer_metadata();
        let wake = || {
            deliver(
                &m,
                &response(vec![topic_error(
                    "secret",
                    ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                )]),
                c.now(),
            );
        };
        let err = wait_on_metadata(&m, "secret", None, c.now(), ms(1000), &wake).unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
        assert!(
            err.to_string()
                .contains("Not authorized to access topics: [secret]"),
            "{err}"
        );
    }

    #[test]
    fn unknown_topic_keeps_the_wait_going() {
        let (m, c) = producer_metadata();
        let answers = Cell::new(0);
        let wake = || {
            answers.set(answers.get() + 1);
            c.sleep_ms(100);
            let t = if answers.get() < 3 {
                topic_error("t", ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
            } else {
                topic("t", 1, 0)
            };
            deliver(&m, &response(vec![t]), c.now());
        };
        let got = wait_on_metadata(&m, "t", None, c.now(), ms(1000), &wake).unwrap();
        assert_eq!(answers.get(), 3);
        assert_eq!(got.cluster.partition_count("t"), Some(1));
    }

    #[test]
    fn close_fails_a_waiting_send() {
        let (m, c) = producer_metadata();
        let m = Arc::new(m);
        let (wake_tx, wake_rx) = unbounded::<()>();
        let waiter = {
            let m = Arc::clone(&m);
            let now = c.now();
            thread::spawn(move || {
                wait_on_metadata(&m, "t", None, now, ms(600_000), &|| {
                    let _ = wake_tx.send(());
                })
            })
        };
        wake_rx.recv().unwrap(); // the send is in its wait loop
        m.close();
        let err = waiter.join().unwrap().unwrap_err();
        assert_eq!(
            err.to_string(),
            "closed: Requested metadata update after close"
        );
    }
}

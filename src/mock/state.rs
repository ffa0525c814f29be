//! The state every broker of a mock cluster shares: the brokers' endpoints
//! and which are down, the topics with their partitions (leader, leader
//! epoch, log), the producer id counter, request counters, the fault plan
//! and sink mode.
//!
//! ```text
//!  ClusterState
//!   ├─ down: RwLock<set of broker ids>  brokers taken down (broker_down)
//!   ├─ advertised: RwLock<map id -> (host, port)>  addresses Metadata gives instead of the real ones
//!   ├─ topics: RwLock<Topics>           by name and by id; written when a topic is created,
//!   │    │                              deleted or given more partitions
//!   │    └─ Topic { name, id, partitions: [Arc<Mutex<Partition>>] }
//!   │          └─ Partition { leader (-1: offline), last_leader, leader_epoch, log }
//!   ├─ next_producer_id: AtomicI64
//!   ├─ counters: Mutex<map (broker, api) -> requests>
//!   ├─ faults: Mutex<FaultPlan>         consulted per request (see fault.rs)
//!   └─ sink: AtomicBool                 acknowledge produce without storing
//! ```
//!
//! Leadership follows the brokers: when one goes down, each partition it
//! leads moves to the next live broker in id order (wrapping), as a
//! replicated cluster's controller would elect another replica; with no
//! live broker left the partition goes offline (leader -1) until its last
//! leader comes back up. Each move bumps the leader epoch.
//!
//! A Produce locks only the partitions it writes, so connections to
//! different partitions do not contend.
//!
//! A `Topic` never changes once made: adding partitions replaces it with a
//! new `Topic` sharing the old partitions (hence the `Arc`s), so a request
//! that looked the topic up before the change finishes on what it saw, as
//! on a broker whose metadata cache has not caught up yet.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::fault::FaultPlan;
use super::partition_log::PartitionLog;
use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::Uuid;

/// Kafka's longest legal topic name (`Topic.MAX_NAME_LENGTH`).
const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// Why a topic name is illegal (Kafka `Topic.validate`), or `None` if it is
/// legal: not empty, not `.` or `..`, at most 249 characters of
/// `[a-zA-Z0-9._-]`.
pub(crate) fn invalid_topic_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the empty string is not allowed".into());
    }
    if name == "." || name == ".." {
        return Some(format!("'{name}' is not allowed"));
    }
    if name.len() > MAX_TOPIC_NAME_LENGTH {
        return Some(format!(
            "the length of '{name}' is longer than the max allowed length {MAX_TOPIC_NAME_LENGTH}"
        ));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !name.chars().all(legal) {
        return Some(format!(
            "'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' \
             and '-'"
        ));
    }
    None
}

/// A broker's identity and address, as Metadata advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerEndpoint {
    pub(crate) id: i32,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// One partition: who leads it and what it holds.
#[derive(Debug)]
pub(crate) struct Partition {
    /// The leader's broker id, or -1 while the partition is offline (its
    /// last leader is down and no other broker was live to take over).
    pub(crate) leader: i32,
    /// The last broker that led the partition: its one replica, which
    /// brings it back online when it comes back up.
    pub(crate) last_leader: i32,
    /// Bumped each time leadership moves, as the controller does.
    pub(crate) leader_epoch: i32,
    pub(crate) log: PartitionLog,
}

impl Partition {
    /// A new, empty partition led by `leader`.
    fn led_by(leader: i32) -> Self {
        Partition {
            leader,
            last_leader: leader,
            leader_epoch: 0,
            log: PartitionLog::default(),
        }
    }

    /// Moves leadership to `leader` (-1: offline), bumping the epoch, as
    /// the controller does on every leader change.
    pub(crate) fn move_leader(&mut self, leader: i32) {
        if leader == self.leader {
            return;
        }
        self.leader = leader;
        if leader >= 0 {
            self.last_leader = leader;
        }
        self.leader_epoch += 1;
    }
}

/// One topic.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: String,
    /// Random, stable for the topic's life (KIP-516).
    pub(crate) id: Uuid,
    /// Shared with the `Topic` that replaces this one when partitions are
    /// added.
    pub(crate) partitions: Vec<Arc<Mutex<Partition>>>,
}

impl Topic {
    /// The partition at `index`, if the topic has it.
    pub(crate) fn partition(&self, index: i32) -> Option<&Mutex<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
            .map(|p| &**p)
    }
}

#[derive(Debug, Default)]
struct Topics {
    by_name: HashMap<String, Arc<Topic>>,
    by_id: HashMap<Uuid, Arc<Topic>>,
    /// Topics created so far: spreads the first leader of each new topic.
    created: usize,
}

/// Settings fixed when the cluster starts.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) default_partitions: i32,
    pub(crate) auto_create_topics: bool,
    pub(crate) max_message_bytes: usize,
    pub(crate) max_request_bytes: usize,
}

/// What all brokers of a mock cluster share.
#[derive(Debug)]
pub(crate) struct ClusterState {
    pub(crate) cluster_id: String,
    pub(crate) brokers: Vec<BrokerEndpoint>,
    pub(crate) settings: Settings,
    pub(crate) faults: Mutex<FaultPlan>,
    /// Produce acknowledges without storing (see `MockCluster::set_sink_mode`).
    pub(crate) sink: AtomicBool,
    down: RwLock<BTreeSet<i32>>,
    /// Addresses advertised instead of the real ones (see
    /// `MockCluster::set_advertised_address`).
    advertised: RwLock<HashMap<i32, (String, u16)>>,
    topics: RwLock<Topics>,
    next_producer_id: AtomicI64,
    counters: Mutex<BTreeMap<(i32, ApiKey), u64>>,
    /// Seeded randomly per process by std: the source of topic and cluster
    /// ids without a random-number dependency.
    seed: RandomState,
    id_counter: AtomicI64,
}

impl ClusterState {
    pub(crate) fn new(brokers: Vec<BrokerEndpoint>, settings: Settings) -> Self {
        let mut state = ClusterState {
            cluster_id: String::new(),
            brokers,
            settings,
            faults: Mutex::new(FaultPlan::default()),
            sink: AtomicBool::new(false),
            down: RwLock::new(BTreeSet::new()),
            advertised: RwLock::new(HashMap::new()),
            topics: RwLock::new(Topics::default()),
            next_producer_id: AtomicI64::new(0),
            counters: Mutex::new(BTreeMap::new()),
            seed: RandomState::new(),
            id_counter: AtomicI64::new(0),
        };
        state.cluster_id = base64url(&state.random_uuid(b"cluster"));
        state
    }

    /// 16 random bytes shaped as a version-4 UUID that Kafka would accept as
    /// a topic id: not zero, not the reserved metadata topic id (1), and not
    /// starting with `-` in base64 (Kafka `Uuid.randomUuid` rules).
    fn random_uuid(&self, salt: &[u8]) -> Uuid {
        loop {
            let n = self.id_counter.fetch_add(1, Ordering::Relaxed);
            let mut out = [0u8; 16];
            for (i, half) in out.chunks_mut(8).enumerate() {
                let mut h = self.seed.build_hasher();
                h.write(salt);
                h.write_i64(n);
                h.write_usize(i);
                half.copy_from_slice(&h.finish().to_be_bytes());
            }
            out[6] = (out[6] & 0x0f) | 0x40;
            out[8] = (out[8] & 0x3f) | 0x80;
            if out[0] >> 2 != 62 {
                return out;
            }
        }
    }

    /// The broker with id `id`.
    pub(crate) fn broker(&self, id: i32) -> Option<&BrokerEndpoint> {
        self.brokers.iter().find(|b| b.id == id)
    }

    /// Whether broker `id` is up (unknown ids are not).
    pub(crate) fn is_up(&self, id: i32) -> bool {
        self.broker(id).is_some() && !self.down.read().contains(&id)
    }

    /// The brokers that are up, in id order: the ones Metadata lists.
    pub(crate) fn live_brokers(&self) -> Vec<&BrokerEndpoint> {
        let down = self.down.read();
        self.brokers
            .iter()
            .filter(|b| !down.contains(&b.id))
            .collect()
    }

    /// Broker `b` as Metadata and Produce (KIP-951) describe it: its real
    /// address, or the one set by `MockCluster::set_advertised_address`.
    pub(crate) fn advertised(&self, b: &BrokerEndpoint) -> BrokerEndpoint {
        match self.advertised.read().get(&b.id) {
            Some((host, port)) => BrokerEndpoint {
                id: b.id,
                host: host.clone(),
                port: *port,
            },
            None => b.clone(),
        }
    }

    /// Makes broker `id` advertise `address` (`None`: its real one).
    pub(crate) fn set_advertised(&self, id: i32, address: Option<(String, u16)>) {
        let mut advertised = self.advertised.write();
        match address {
            Some(a) => advertised.insert(id, a),
            None => advertised.remove(&id),
        };
    }

    /// Marks broker `id` down and moves the leadership of every partition
    /// it leads to the next live broker after it in id order (wrapping), or
    /// takes the partition offline if none is live.
    pub(crate) fn mark_down(&self, id: i32) {
        self.down.write().insert(id);
        let live: Vec<i32> = self.live_brokers().iter().map(|b| b.id).collect();
        let successor = live
            .iter()
            .find(|&&b| b > id)
            .or_else(|| live.first())
            .copied()
            .unwrap_or(-1);
        for topic in self.all_topics() {
            for (index, p) in topic.partitions.iter().enumerate() {
                let mut p = p.lock();
                if p.leader == id {
                    p.move_leader(successor);
                    log::debug!(
                        "mock cluster: broker {id} down, {}-{index} now led by {successor} \
                         (epoch {})",
                        topic.name,
                        p.leader_epoch
                    );
                }
            }
        }
    }

    /// Marks broker `id` up and brings back online the partitions it was
    /// the last leader of. Leadership moved away while it was down stays
    /// where it is.
    pub(crate) fn mark_up(&self, id: i32) {
        self.down.write().remove(&id);
        for topic in self.all_topics() {
            for p in &topic.partitions {
                let mut p = p.lock();
                if p.leader == -1 && p.last_leader == id {
                    p.move_leader(id);
                }
            }
        }
    }

    pub(crate) fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().by_name.get(name).cloned()
    }

    pub(crate) fn topic_by_id(&self, id: &Uuid) -> Option<Arc<Topic>> {
        self.topics.read().by_id.get(id).cloned()
    }

    /// Every topic, by name.
    pub(crate) fn all_topics(&self) -> Vec<Arc<Topic>> {
        let mut all: Vec<_> = self.topics.read().by_name.values().cloned().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Creates a topic whose partitions' leaders go round the brokers,
    /// starting one broker further for each new topic. Fails with Kafka's
    /// codes: `INVALID_TOPIC_EXCEPTION`, `INVALID_PARTITIONS`,
    /// `TOPIC_ALREADY_EXISTS`.
    pub(crate) fn create_topic(
        &self,
        name: &str,
        partitions: i32,
    ) -> Result<Arc<Topic>, (ErrorCode, String)> {
        self.create(name, partitions, false)
    }

    /// The topic, created with the default partition count if it does not
    /// exist yet (auto-creation; the caller checked that it is allowed).
    pub(crate) fn get_or_create_topic(
        &self,
        name: &str,
    ) -> Result<Arc<Topic>, (ErrorCode, String)> {
        self.create(name, self.settings.default_partitions, true)
    }

    fn create(
        &self,
        name: &str,
        partitions: i32,
        existing_ok: bool,
    ) -> Result<Arc<Topic>, (ErrorCode, String)> {
        if let Some(reason) = invalid_topic_name(name) {
            return Err((
                ErrorCode::INVALID_TOPIC_EXCEPTION,
                format!("Topic name is invalid: {reason}"),
            ));
        }
        let count = usize::try_from(partitions)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                (
                    ErrorCode::INVALID_PARTITIONS,
                    format!("Number of partitions was set to an invalid non-positive value {partitions}."),
                )
            })?;
        let mut topics = self.topics.write();
        if let Some(t) = topics.by_name.get(name) {
            return if existing_ok {
                Ok(Arc::clone(t))
            } else {
                Err((
                    ErrorCode::TOPIC_ALREADY_EXISTS,
                    format!("Topic '{name}' already exists."),
                ))
            };
        }
        let n = self.brokers.len();
        let start = topics.created;
        let partitions = (0..count)
            .map(|p| {
                let leader = self.brokers[(start + p) % n].id;
                Arc::new(Mutex::new(Partition::led_by(leader)))
            })
            .collect();
        let mut id = self.random_uuid(name.as_bytes());
        while topics.by_id.contains_key(&id) {
            id = self.random_uuid(name.as_bytes());
        }
        let topic = Arc::new(Topic {
            name: name.to_owned(),
            id,
            partitions,
        });
        topics.by_name.insert(name.to_owned(), Arc::clone(&topic));
        topics.by_id.insert(id, Arc::clone(&topic));
        topics.created += 1;
        log::debug!("mock cluster: created topic {name} with {count} partitions");
        Ok(topic)
    }

    /// Grows a topic to `total` partitions (Kafka CreatePartitions): the
    /// existing ones keep their leaders and logs, the new ones are empty and
    /// led by the live brokers in turn. Fails with Kafka's codes:
    /// `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_PARTITIONS` (not more than
    /// now), `INVALID_REPLICATION_FACTOR` (no broker up).
    pub(crate) fn create_partitions(
        &self,
        name: &str,
        total: i32,
    ) -> Result<(), (ErrorCode, String)> {
        let live: Vec<i32> = self.live_brokers().iter().map(|b| b.id).collect();
        let mut topics = self.topics.write();
        let Some(old) = topics.by_name.get(name).cloned() else {
            return Err((
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                format!("This server does not host this topic-partition: {name}."),
            ));
        };
        let current = old.partitions.len();
        let total = usize::try_from(total).unwrap_or(0);
        if total <= current {
            let message = if total == current {
                format!("Topic already has {current} partitions.")
            } else {
                format!(
                    "Topic currently has {current} partitions, which is higher than the \
                     requested {total}."
                )
            };
            return Err((ErrorCode::INVALID_PARTITIONS, message));
        }
        if live.is_empty() {
            return Err((
                ErrorCode::INVALID_REPLICATION_FACTOR,
                "Replication factor: 1 larger than available brokers: 0.".into(),
            ));
        }
        let mut partitions = old.partitions.clone();
        partitions.extend(
            (current..total).map(|p| Arc::new(Mutex::new(Partition::led_by(live[p % live.len()])))),
        );
        let topic = Arc::new(Topic {
            name: old.name.clone(),
            id: old.id,
            partitions,
        });
        topics.by_name.insert(old.name.clone(), Arc::clone(&topic));
        topics.by_id.insert(old.id, topic);
        log::debug!("mock cluster: {name} grown from {current} to {total} partitions");
        Ok(())
    }

    /// Deletes a topic with its logs (Kafka DeleteTopics): from now on it is
    /// unknown by name and by id. Fails with `UNKNOWN_TOPIC_OR_PARTITION`.
    pub(crate) fn delete_topic(&self, name: &str) -> Result<(), (ErrorCode, String)> {
        let mut topics = self.topics.write();
        let Some(topic) = topics.by_name.remove(name) else {
            return Err((
                ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
                format!("This server does not host this topic-partition: {name}."),
            ));
        };
        topics.by_id.remove(&topic.id);
        log::debug!("mock cluster: deleted topic {name}");
        Ok(())
    }

    /// A new producer id (Kafka's `ProducerIdManager` hands them out in
    /// increasing order from 0).
    pub(crate) fn next_producer_id(&self) -> i64 {
        self.next_producer_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn count_request(&self, broker: i32, api: ApiKey) {
        *self.counters.lock().entry((broker, api)).or_insert(0) += 1;
    }

    /// Requests of `api` received by `broker`, or by all brokers if `None`.
    pub(crate) fn request_count(&self, broker: Option<i32>, api: ApiKey) -> u64 {
        self.counters
            .lock()
            .iter()
            .filter(|((b, a), _)| *a == api && broker.is_none_or(|id| id == *b))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Base64url without padding (Kafka's `Uuid.toString`), for the cluster id.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(brokers: i32) -> ClusterState {
        ClusterState::new(
            (1..=brokers)
                .map(|id| BrokerEndpoint {
                    id,
                    host: "127.0.0.1".into(),
                    port: 1,
                })
                .collect(),
            Settings {
                default_partitions: 2,
                auto_create_topics: true,
                max_message_bytes: 1,
                max_request_bytes: 1,
            },
        )
    }

    #[test]
    fn topic_names_follow_kafka() {
        assert!(invalid_topic_name("a.b_c-D9").is_none());
        assert!(invalid_topic_name(&"x".repeat(249)).is_none());
        for bad in ["", ".", "..", "a b", "ü", "a/b"] {
            assert!(invalid_topic_name(bad).is_some(), "{bad:?}");
        }
        assert!(invalid_topic_name(&"x".repeat(250)).is_some());
        assert!(invalid_topic_name("...").is_none());
    }

    #[test]
    fn leaders_spread_and_ids_are_distinct() {
        let s = state(3);
        let a = s.create_topic("a", 4).unwrap();
        let b = s.create_topic("b", 2).unwrap();
        let leaders =
            |t: &Topic| -> Vec<i32> { t.partitions.iter().map(|p| p.lock().leader).collect() };
        assert_eq!(leaders(&a), [1, 2, 3, 1]);
        assert_eq!(leaders(&b), [2, 3]);
        assert_ne!(a.id, b.id);
        assert_ne!(a.id, [0; 16]);
        assert_eq!(a.id[6] >> 4, 4, "version-4 UUID");
        assert_eq!(s.topic_by_id(&b.id).unwrap().name, "b");
        assert_eq!(
            s.create_topic("a", 1).unwrap_err().0,
            ErrorCode::TOPIC_ALREADY_EXISTS
        );
        assert_eq!(
            s.create_topic("c", 0).unwrap_err().0,
            ErrorCode::INVALID_PARTITIONS
        );
        assert_eq!(s.get_or_create_topic("a").unwrap().partitions.len(), 4);
        assert_eq!(s.get_or_create_topic("new").unwrap().partitions.len(), 2);
    }

    #[test]
    fn leadership_follows_brokers_down_and_up() {
        let s = state(3);
        let t = s.create_topic("t", 3).unwrap();
        let leaders = || -> Vec<(i32, i32)> {
            t.partitions
                .iter()
                .map(|p| {
                    let p = p.lock();
                    (p.leader, p.leader_epoch)
                })
                .collect()
        };
        assert_eq!(leaders(), [(1, 0), (2, 0), (3, 0)]);
        s.mark_down(3);
        assert!(!s.is_up(3) && s.is_up(1));
        assert_eq!(leaders(), [(1, 0), (2, 0), (1, 1)], "3 wraps to 1");
        s.mark_down(1);
        assert_eq!(leaders(), [(2, 1), (2, 0), (2, 2)]);
        s.mark_down(2);
        assert_eq!(leaders(), [(-1, 2), (-1, 1), (-1, 3)], "offline");
        assert!(s.live_brokers().is_empty());
        s.mark_up(1);
        assert_eq!(leaders(), [(-1, 2), (-1, 1), (-1, 3)], "1 led none last");
        s.mark_up(2);
        assert_eq!(leaders(), [(2, 3), (2, 2), (2, 4)]);
        assert_eq!(
            s.live_brokers().iter().map(|b| b.id).collect::<Vec<_>>(),
            [1, 2]
        );
        assert!(!s.is_up(9));
    }

    #[test]
    fn partitions_are_added_and_topics_deleted_as_kafka_does() {
        let s = state(3);
        let t = s.create_topic("t", 2).unwrap();
        t.partitions[1].lock().move_leader(3);
        s.mark_down(2);
        let code = |r: Result<(), (ErrorCode, String)>| r.unwrap_err().0;
        assert_eq!(
            code(s.create_partitions("t", 2)),
            ErrorCode::INVALID_PARTITIONS
        );
        assert_eq!(
            code(s.create_partitions("t", 1)),
            ErrorCode::INVALID_PARTITIONS
        );
        assert_eq!(
            code(s.create_partitions("u", 3)),
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        );
        s.create_partitions("t", 5).unwrap();
        let grown = s.topic("t").unwrap();
        assert_eq!(grown.id, t.id);
        assert!(Arc::ptr_eq(&grown.partitions[1], &t.partitions[1]), "kept");
        let leaders: Vec<(i32, i32)> = grown
            .partitions
            .iter()
            .map(|p| {
                let p = p.lock();
                (p.leader, p.leader_epoch)
            })
            .collect();
        // New partitions 2, 3, 4 go round the live brokers 1 and 3.
        assert_eq!(leaders, [(1, 0), (3, 1), (1, 0), (3, 0), (1, 0)]);
        assert!(Arc::ptr_eq(&s.topic_by_id(&t.id).unwrap(), &grown));

        s.delete_topic("t").unwrap();
        assert!(s.topic("t").is_none() && s.topic_by_id(&t.id).is_none());
        assert_eq!(
            code(s.delete_topic("t")),
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        );
        let again = s.create_topic("t", 1).unwrap();
        assert_ne!(again.id, t.id, "a recreated topic gets a new id");
    }

    #[test]
    fn cluster_id_is_22_base64url_chars() {
        let s = state(1);
        assert_eq!(s.cluster_id.len(), 22, "{}", s.cluster_id);
        assert!(s
            .cluster_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }
}

//! The comparison of what was sent with what was read back
//! ([`Scenario::check`]): one line per difference, naming the record by its
//! thread and sequence number.

use std::collections::{HashMap, HashSet};

use kafka_producer::producer::partitioner::default_partition_for_key;

use super::{Ack, AckTimestamp, Scenario, Sent, ID_HEADER};
use crate::support::brokers::{ConsumedRecord, Timestamp};

/// `(thread, seq)` from an [`ID_HEADER`] value.
fn parse_id(value: &[u8]) -> Option<(usize, usize)> {
    let text = std::str::from_utf8(value).ok()?;
    let (t, s) = text.split_once(':')?;
    Some((t.parse().ok()?, s.parse().ok()?))
}

fn describe(r: &ConsumedRecord) -> String {
    format!(
        "{}-{}@{} ts {:?} key {:?} value len {:?} headers {:?}",
        r.topic,
        r.partition,
        r.offset,
        r.timestamp,
        r.key
            .as_ref()
            .map(|k| String::from_utf8_lossy(k).into_owned()),
        r.value.as_ref().map(Vec::len),
        r.headers.first()
    )
}

impl Scenario {
    /// Every difference between what was sent and what was read back, one
    /// line each (empty when they agree). `read[t]` holds what was read
    /// from topic `t`, sorted by partition and offset.
    ///
    /// With [`Scenario::tolerate_duplicates`], each record may be stored
    /// more than once: its copies must be identical and one of them must
    /// be at the acknowledged position; the rest of the check (order
    /// included) runs on the first copies.
    pub fn check(&self, sent: &Sent, read: &[Vec<ConsumedRecord>]) -> Vec<String> {
        let mut problems = Vec::new();
        let first_copies: Vec<Vec<ConsumedRecord>>;
        let read = if self.tolerate_duplicates {
            first_copies = read
                .iter()
                .map(|records| first_copies_of(sent, records, &mut problems))
                .collect();
            &first_copies[..]
        } else {
            read
        };
        let expected = sent.count_per_topic(self.topics.len());
        for (t, (name, _)) in self.topics.iter().enumerate() {
            if read[t].len() != expected[t] {
                problems.push(format!(
                    "{name}: read {} records, sent {}",
                    read[t].len(),
                    expected[t]
                ));
            }
        }
        for (thread, acks) in sent.acks.iter().enumerate() {
            for (seq, ack) in acks.iter().enumerate() {
                if !matches!(ack, Ack::Acked { .. }) {
                    problems.push(format!("record {thread}:{seq}: {ack:?}"));
                }
            }
        }
        // (topic, partition) -> every create time stored there, for
        // AckTimestamp::CreateTimeOrBatchMax.
        let mut stored_times: HashMap<(usize, i32), HashSet<i64>> = HashMap::new();
        if self.ack_timestamp == AckTimestamp::CreateTimeOrBatchMax {
            for (t, records) in read.iter().enumerate() {
                for r in records {
                    if let Timestamp::CreateTime(ts) = r.timestamp {
                        stored_times.entry((t, r.partition)).or_default().insert(ts);
                    }
                }
            }
        }
        let mut seen: HashMap<(usize, usize), (i32, i64)> = HashMap::new();
        // (topic, partition, thread) -> last seq read there.
        let mut last: HashMap<(usize, i32, usize), usize> = HashMap::new();
        for (t, records) in read.iter().enumerate() {
            for r in records {
                problems.extend(self.check_one(sent, t, r, &mut seen, &mut last, &stored_times));
            }
        }
        for spec in sent.plan.iter().flatten() {
            if !seen.contains_key(&(spec.thread, spec.seq)) {
                problems.push(format!(
                    "record {}:{} ({:?}) to {} was not read back; acknowledged as {:?}",
                    spec.thread,
                    spec.seq,
                    spec.mode,
                    self.topics[spec.topic].0,
                    sent.acks[spec.thread][spec.seq]
                ));
            }
        }
        problems
    }

    fn check_one(
        &self,
        sent: &Sent,
        t: usize,
        r: &ConsumedRecord,
        seen: &mut HashMap<(usize, usize), (i32, i64)>,
        last: &mut HashMap<(usize, i32, usize), usize>,
        stored_times: &HashMap<(usize, i32), HashSet<i64>>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let (name, partitions) = &self.topics[t];
        let id = r
            .headers
            .first()
            .filter(|(k, _)| k == ID_HEADER)
            .and_then(|(_, v)| v.as_deref())
            .and_then(parse_id);
        let Some(spec) = id.and_then(|(th, seq)| sent.plan.get(th)?.get(seq)) else {
            return vec![format!("a record nobody sent: {}", describe(r))];
        };
        let (thread, seq) = (spec.thread, spec.seq);
        if let Some(first) = seen.insert((thread, seq), (r.partition, r.offset)) {
            problems.push(format!(
                "record {thread}:{seq} read twice, at {first:?} and {}",
                describe(r)
            ));
        }
        let mut check = |what: &str, ok: bool, detail: String| {
            if !ok {
                problems.push(format!(
                    "record {thread}:{seq} ({:?}) at {name}-{}@{}: {what}: {detail}",
                    spec.mode, r.partition, r.offset
                ));
            }
        };
        check(
            "topic",
            spec.topic == t && r.topic == *name,
            format!(
                "read from {}, sent to {}",
                r.topic, self.topics[spec.topic].0
            ),
        );
        check(
            "key",
            r.key == spec.key,
            format!("read {:?}, sent {:?}", r.key, spec.key),
        );
        check(
            "value",
            r.value == spec.value,
            format!(
                "read {:?} bytes, sent {:?} (first difference at {:?})",
                r.value.as_ref().map(Vec::len),
                spec.value.as_ref().map(Vec::len),
                r.value
                    .as_deref()
                    .zip(spec.value.as_deref())
                    .and_then(|(a, b)| a.iter().zip(b).position(|(x, y)| x != y))
            ),
        );
        check(
            "headers",
            r.headers == spec.headers,
            format!("read {:?}, sent {:?}", r.headers, spec.headers),
        );
        let ts_ok = match (spec.timestamp, r.timestamp) {
            (Some(ts), read) => read == Timestamp::CreateTime(ts),
            (None, Timestamp::CreateTime(ts)) => (sent.stamped.0..=sent.stamped.1).contains(&ts),
            (None, _) => false,
        };
        check(
            "timestamp",
            ts_ok,
            format!(
                "read {:?}, sent {:?} (stamped within {:?})",
                r.timestamp, spec.timestamp, sent.stamped
            ),
        );
        let expected_partition = match (spec.partition, &spec.key) {
            (Some(p), _) => Some(p),
            (None, Some(key)) => Some(default_partition_for_key(key, *partitions as usize)),
            (None, None) => None,
        };
        if let Some(p) = expected_partition {
            check(
                "partition",
                r.partition == p,
                format!("expected {p} (explicit: {:?})", spec.partition),
            );
        }
        if let Ack::Acked {
            partition,
            offset,
            timestamp,
        } = &sent.acks[thread][seq]
        {
            check(
                "acknowledged position",
                (*partition, *offset) == (r.partition, r.offset),
                format!("acknowledged at {partition}@{offset}"),
            );
            let expected_ts = match (self.ack_timestamp, r.timestamp) {
                (AckTimestamp::Fixed(ts), _) => Some(ts),
                (AckTimestamp::CreateTime, Timestamp::CreateTime(ts)) => Some(ts),
                (AckTimestamp::CreateTimeOrBatchMax, Timestamp::CreateTime(ts)) => {
                    let batch_max = *timestamp > ts
                        && stored_times
                            .get(&(t, r.partition))
                            .is_some_and(|times| times.contains(timestamp));
                    Some(if batch_max { *timestamp } else { ts })
                }
                _ => None,
            };
            check(
                "acknowledged timestamp",
                expected_ts == Some(*timestamp),
                format!("acknowledged {timestamp}, expected {expected_ts:?}"),
            );
        }
        // Records are read in offset order per partition, so each thread's
        // sequence numbers must rise within a partition.
        if let Some(prev) = last.insert((t, r.partition, thread), seq) {
            check(
                "order",
                prev < seq,
                format!("thread {thread}'s record {prev} precedes it in the partition"),
            );
        }
        problems
    }
}

/// The first copy of each record in `records` (partition and offset
/// order), for a broker that may store a resent batch twice. Every later
/// copy must equal the first in everything but its offset; when a later
/// copy is the one acknowledged, the first copy kept takes its offset, so
/// the acknowledged-position check holds (the order check goes by the
/// order of the list, which stays that of the first copies).
fn first_copies_of(
    sent: &Sent,
    records: &[ConsumedRecord],
    problems: &mut Vec<String>,
) -> Vec<ConsumedRecord> {
    let mut out: Vec<ConsumedRecord> = Vec::with_capacity(records.len());
    let mut index: HashMap<(usize, usize), usize> = HashMap::new();
    let mut duplicates = 0usize;
    for r in records {
        let id = r
            .headers
            .first()
            .filter(|(k, _)| k == ID_HEADER)
            .and_then(|(_, v)| v.as_deref())
            .and_then(parse_id);
        let Some((thread, seq)) = id else {
            out.push(r.clone()); // reported by the check as nobody's
            continue;
        };
        let Some(&at) = index.get(&(thread, seq)) else {
            index.insert((thread, seq), out.len());
            out.push(r.clone());
            continue;
        };
        duplicates += 1;
        let first = &mut out[at];
        let same = ConsumedRecord {
            offset: first.offset,
            ..r.clone()
        };
        if same != *first {
            problems.push(format!(
                "record {thread}:{seq} stored twice with different contents: {} and {}",
                describe(first),
                describe(r)
            ));
        }
        let acked_here = matches!(
            sent.acks.get(thread).and_then(|a| a.get(seq)),
            Some(Ack::Acked { partition, offset, .. })
                if (*partition, *offset) == (r.partition, r.offset)
        );
        if acked_here {
            first.offset = r.offset;
        }
    }
    if duplicates > 0 {
        println!(
            "{duplicates} duplicate copies in {} (tolerated for this broker)",
            records[0].topic
        );
    }
    out
}

//! The checks run after each seed: the log of every partition read back
//! and compared with what each caller was told.
//!
//! * every record in a log is one the test sent, byte for byte (key,
//!   value, `chaos-id` header), in the topic it was sent to, in the
//!   partition its key hashes to (or its explicit partition), written by an
//!   idempotent producer;
//! * no record is in the logs twice;
//! * per partition, each lane's records are in send order;
//! * every callback ran exactly once; an acknowledged record is in the log
//!   exactly once, at the topic, partition and offset its callback named;
//!   a failed record is in no log;
//! * every future is done and says what its callback said (a `send` that
//!   returned an error gave that error to the callback too).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::partitioner::default_partition_for_key;
use kafka_producer::{Error, SendFuture};

use super::plan::Plan;
use super::records::{error_kind, id_header, key, parse_id, value, Lane, Reported, ID_HEADER};

/// Counts over one seed.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Records sent (warm-up included).
    pub records: u64,
    pub acked: u64,
    pub failed: u64,
    /// Records found in the logs.
    pub present: u64,
    /// Failures by cause.
    pub failures: BTreeMap<String, u64>,
    pub produce_requests: u64,
}

/// Where a record was found: topic index, partition, offset.
type Place = (usize, i32, i64);

fn place(plan: &Plan, (t, p, o): Place) -> String {
    format!("{}-{p}@{o}", plan.topics[t].name)
}

/// Reads every partition back and checks it against the lanes' outcomes
/// and futures. Returns the violations (empty: the seed passed) and the
/// counts.
pub fn check(
    plan: &Plan,
    cluster: &MockCluster,
    lanes: &[Arc<Lane>],
    futures: &[Vec<Result<SendFuture, Error>>],
) -> (Vec<String>, Stats) {
    let mut v: Vec<String> = Vec::new();
    let mut stats = Stats::default();
    let mut present: HashMap<(u32, u64), Vec<Place>> = HashMap::new();

    for (t, topic) in plan.topics.iter().enumerate() {
        for p in 0..topic.partitions {
            let records = cluster.records(&topic.name, p);
            if cluster.log_end_offset(&topic.name, p)
                != records.last().map(|r| r.offset + 1).or(Some(0))
            {
                v.push(format!(
                    "{}-{p}: log end offset {:?} but {} readable records",
                    topic.name,
                    cluster.log_end_offset(&topic.name, p),
                    records.len()
                ));
            }
            // Per lane: the last (sequence, offset) seen in this partition.
            let mut last: HashMap<u32, (u64, i64)> = HashMap::new();
            for r in records {
                stats.present += 1;
                let at = place(plan, (t, p, r.offset));
                let Some((lane, seq)) = r.value.as_deref().and_then(parse_id) else {
                    v.push(format!("{at}: a record the test did not send: {r:?}"));
                    continue;
                };
                let Some(spec) = lanes
                    .get(lane as usize)
                    .and_then(|l| l.records.get(seq as usize))
                else {
                    v.push(format!("{at}: record {lane}#{seq} was never sent"));
                    continue;
                };
                let mut wrong = Vec::new();
                if usize::from(spec.topic) != t {
                    wrong.push(format!(
                        "sent to {}",
                        plan.topics[usize::from(spec.topic)].name
                    ));
                }
                let expected_partition = match (spec.partition, spec.key) {
                    (Some(ep), _) => Some(ep),
                    (None, Some(k)) => Some(default_partition_for_key(
                        &key(k),
                        topic.partitions as usize,
                    )),
                    (None, None) => None,
                };
                if expected_partition.is_some_and(|ep| ep != p) {
                    wrong.push(format!("belongs in partition {expected_partition:?}"));
                }
                if r.key != spec.key.map(key) {
                    wrong.push(format!("key {:?}", r.key));
                }
                if r.value.as_deref() != Some(&value(lane, seq, spec.filler)[..]) {
                    wrong.push(format!("value {:?}", r.value));
                }
                let header = (
                    ID_HEADER.as_bytes().to_vec(),
                    Some(id_header(lane, seq).into_bytes()),
                );
                if r.headers != [header] {
                    wrong.push(format!("headers {:?}", r.headers));
                }
                if r.producer_id < 0 || r.sequence < 0 {
                    wrong.push(format!(
                        "not idempotent: producer id {}, sequence {}",
                        r.producer_id, r.sequence
                    ));
                }
                if !wrong.is_empty() {
                    v.push(format!("{at}: record {lane}#{seq}: {}", wrong.join("; ")));
                }
                if let Some(&(prev, prev_offset)) = last.get(&lane) {
                    if seq < prev {
                        v.push(format!(
                            "order: {at} holds record {lane}#{seq}, sent before record {lane}#{prev} \
                             which is at offset {prev_offset}"
                        ));
                    }
                }
                last.insert(lane, (seq, r.offset));
                present
                    .entry((lane, seq))
                    .or_default()
                    .push((t, p, r.offset));
            }
        }
    }

    for (lane_id, lane) in lanes.iter().enumerate() {
        let slots = lane.slots.lock().clone();
        for (seq, slot) in slots.iter().enumerate() {
            stats.records += 1;
            let id = format!("record {lane_id}#{seq}");
            let spec = lane.records[seq];
            let at: &[Place] = present
                .get(&(lane_id as u32, seq as u64))
                .map_or(&[], Vec::as_slice);
            let places = || {
                at.iter()
                    .map(|&pl| place(plan, pl))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if at.len() > 1 {
                v.push(format!(
                    "duplicate: {id} is in the log {} times: {}",
                    at.len(),
                    places()
                ));
            }
            match slot.calls {
                0 => v.push(format!(
                    "unresolved: the callback of {id} never ran (in the log: [{}])",
                    places()
                )),
                1 => {}
                n => v.push(format!("the callback of {id} ran {n} times")),
            }
            match &slot.first {
                Some(Reported::Acked {
                    partition,
                    offset,
                    topic_ok,
                }) => {
                    stats.acked += 1;
                    let reported = (usize::from(spec.topic), *partition, *offset);
                    if !topic_ok {
                        v.push(format!("{id}: acknowledged with another topic's metadata"));
                    }
                    if at.is_empty() {
                        v.push(format!(
                            "lost: {id} acknowledged at {} is in no log",
                            place(plan, reported)
                        ));
                    } else if !at.contains(&reported) {
                        v.push(format!(
                            "misplaced: {id} acknowledged at {} is at {}",
                            place(plan, reported),
                            places()
                        ));
                    }
                }
                Some(Reported::Failed(e)) => {
                    stats.failed += 1;
                    *stats.failures.entry(error_kind(e)).or_default() += 1;
                    if !at.is_empty() {
                        v.push(format!(
                            "failed but present: {id} failed with \"{e}\" yet is at {}",
                            places()
                        ));
                    }
                }
                None => {}
            }
            match futures.get(lane_id).and_then(|fs| fs.get(seq)) {
                None => v.push(format!("{id}: no future or send result recorded")),
                Some(Err(e)) => {
                    if !matches!(slot.first, Some(Reported::Failed(_))) {
                        v.push(format!(
                            "{id}: send returned \"{e}\" but its callback said {:?}",
                            slot.first
                        ));
                    }
                }
                Some(Ok(f)) => {
                    if !f.is_done() {
                        v.push(format!("unresolved: the future of {id} never completed"));
                    } else {
                        let got = f.get_timeout(Duration::ZERO);
                        let agree = match (&got, &slot.first) {
                            (
                                Ok(md),
                                Some(Reported::Acked {
                                    partition, offset, ..
                                }),
                            ) => md.partition() == *partition && md.offset() == *offset,
                            (Err(_), Some(Reported::Failed(_))) => true,
                            _ => false,
                        };
                        if !agree {
                            v.push(format!(
                                "{id}: the future says {got:?} but the callback said {:?}",
                                slot.first
                            ));
                        }
                    }
                }
            }
        }
    }
    (v, stats)
}

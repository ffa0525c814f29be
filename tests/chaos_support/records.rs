//! The bytes of a chaos record and what its sender learnt about it.
//!
//! A record's identity is its lane (a sending thread, or a producer's
//! warm-up) and its sequence number in that lane; both are the first 12
//! bytes of its value (big-endian u32 lane, u64 sequence), followed by
//! filler whose length the plan chose, and repeated in a `chaos-id` header.
//! So every record read back from a log says who sent it and which send it
//! was, and every byte of it can be rebuilt and compared.

use kafka_producer::Error;
use parking_lot::Mutex;

use super::plan::RecordSpec;

/// The header that repeats a record's id.
pub const ID_HEADER: &str = "chaos-id";

/// The value of record `seq` of lane `lane`.
pub fn value(lane: u32, seq: u64, filler: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 + usize::from(filler));
    v.extend_from_slice(&lane.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend((0..filler).map(|i| (seq as u8).wrapping_add(i)));
    v
}

/// The id in a value, if it is long enough to hold one.
pub fn parse_id(value: &[u8]) -> Option<(u32, u64)> {
    let lane = u32::from_be_bytes(value.get(..4)?.try_into().ok()?);
    let seq = u64::from_be_bytes(value.get(4..12)?.try_into().ok()?);
    Some((lane, seq))
}

/// The `chaos-id` header's value.
pub fn id_header(lane: u32, seq: u64) -> String {
    format!("{lane}:{seq}")
}

/// The key `key-<n>`.
pub fn key(n: u16) -> Vec<u8> {
    format!("key-{n}").into_bytes()
}

/// What the callback of one record reported.
#[derive(Debug, Clone)]
pub enum Reported {
    Acked {
        partition: i32,
        offset: i64,
        /// The metadata named the topic the record was sent to.
        topic_ok: bool,
    },
    Failed(Error),
}

/// One record's callback calls.
#[derive(Debug, Clone, Default)]
pub struct Slot {
    pub calls: u32,
    /// What the first call said.
    pub first: Option<Reported>,
}

/// The records of one lane and what their callbacks said.
#[derive(Debug)]
pub struct Lane {
    pub records: Vec<RecordSpec>,
    pub slots: Mutex<Vec<Slot>>,
}

impl Lane {
    pub fn new(records: Vec<RecordSpec>) -> Self {
        let slots = Mutex::new(vec![Slot::default(); records.len()]);
        Lane { records, slots }
    }
}

/// A short name for an error, to count failures by cause.
pub fn error_kind(e: &Error) -> String {
    match e {
        Error::Broker { code, .. } => code.name().to_owned(),
        Error::Timeout(m) if m.starts_with("Expiring") => {
            "Timeout (delivery.timeout.ms)".to_owned()
        }
        Error::Timeout(m) => format!("Timeout: {}", truncate(m, 60)),
        other => truncate(&other.to_string(), 80),
    }
}

fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

//! The Produce handler: Kafka's checks, in Kafka's order, then the append.
//!
//! ```text
//!  per partition                                   answer on failure
//!  topic known (v13: by id)                        UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID
//!  ProduceRequest.validateRecords: one batch,      INVALID_RECORD, CORRUPT_MESSAGE (length),
//!    magic 2, no zstd below v7                     UNSUPPORTED_COMPRESSION_TYPE
//!  acks in {-1, 0, 1}                              INVALID_REQUIRED_ACKS
//!  this broker leads the partition                 NOT_LEADER_OR_FOLLOWER (+ leader hint, v10+)
//!  ── partition locked from here ──
//!  base offset 0; size <= max.message.bytes; CRC   INVALID_RECORD, MESSAGE_TOO_LARGE, CORRUPT_MESSAGE
//!  offset range = count > 0; no control batch;     INVALID_RECORD
//!    producer id => sequence >= 0
//!  every record readable, offset deltas 0..n-1,    INVALID_RECORD, INVALID_TIMESTAMP
//!    CreateTime
//!  duplicate of one of the producer's last 5       NONE, the original offset
//!  not transactional (no transactions here)        INVALID_TXN_STATE
//!  producer epoch, then sequence                   INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER
//!  append: base offset = log end offset, leader epoch stamped, max timestamp fixed (CRC redone)
//! ```
//!
//! The offsets, timestamps and log start offset of each answer follow Kafka's
//! `ReplicaManager`: -1 everywhere for errors found before the log (unknown
//! topic, not leader, too large, corrupt), log start offset 0 for errors the
//! log finds, the original batch's max timestamp as "log append time" for a
//! duplicate. With acks=0 nothing is sent back, and a failed partition
//! closes the connection (Kafka's way of telling such a producer).

use std::sync::atomic::Ordering;

use super::handlers::{decode_body, respond, Ctx, Outcome};
use super::partition_log::{ProducerBatch, ProducerCheck, MAX_DECOMPRESSED_BYTES};
use super::state::{Partition, Topic};
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::header::RequestHeader;
use crate::protocol::messages::produce::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceData,
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use crate::protocol::messages::ZERO_UUID;
use crate::record::{
    CompressionType, RecordBatch, ATTRIBUTES_OFFSET, CRC_OFFSET, LOG_OVERHEAD, MAGIC_OFFSET,
    MAGIC_V2, MAX_TIMESTAMP_OFFSET, NO_PRODUCER_ID, NO_TIMESTAMP, TIMESTAMP_TYPE_FLAG,
};
use crate::util::crc::crc32c;

/// Kafka's smallest legal batch length field (`LegacyRecord.RECORD_OVERHEAD_V0`).
const MIN_BATCH_LENGTH: i32 = 14;

pub(crate) fn handle(ctx: Ctx<'_>, header: &RequestHeader, r: Reader<'_>) -> Outcome {
    let version = header.api_version;
    let request = match decode_body(r, "ProduceRequest", |r| ProduceRequest::decode(r, version)) {
        Ok(req) => req,
        Err(outcome) => return outcome,
    };
    let cluster = ctx.cluster;
    let pushed = cluster.faults.lock().next_error(ApiKey::PRODUCE);
    let mut failed = false;
    let mut leaders: Vec<i32> = Vec::new();
    let mut responses = Vec::with_capacity(request.topic_data.len());
    for topic_data in &request.topic_data {
        let topic = if version >= 13 {
            cluster.topic_by_id(&topic_data.topic_id)
        } else {
            cluster.topic(&topic_data.name)
        };
        let mut partitions = Vec::with_capacity(topic_data.partition_data.len());
        for data in &topic_data.partition_data {
            let code = pushed.or_else(|| {
                let t = topic.as_deref()?;
                cluster
                    .faults
                    .lock()
                    .next_partition_error(&t.name, data.index)
            });
            let (mut answer, hint) = match code {
                Some(code) => (before_log(data.index, code), None),
                None => produce_partition(ctx, version, request.acks, topic.as_deref(), data),
            };
            failed |= answer.error_code != ErrorCode::NONE;
            // KIP-951: tell the client who leads instead, with its endpoint.
            if let (Some(leader), true) = (hint, version >= 10) {
                answer.current_leader = leader;
                if !leaders.contains(&leader.leader_id) {
                    leaders.push(leader.leader_id);
                }
            }
            partitions.push(answer);
        }
        responses.push(TopicProduceResponse {
            name: if version >= 13 {
                String::new()
            } else {
                topic_data.name.to_string()
            },
            topic_id: if version >= 13 {
                topic_data.topic_id
            } else {
                ZERO_UUID
            },
            partition_responses: partitions,
        });
    }
    if request.acks == 0 {
        return if failed {
            Outcome::Close(
                "a produce request with acks=0 failed; closing the connection as Kafka does".into(),
            )
        } else {
            Outcome::NoResponse
        };
    }
    let body = ProduceResponse {
        responses,
        throttle_time_ms: 0,
        node_endpoints: leaders
            .iter()
            .filter_map(|id| cluster.broker(*id))
            .map(|b| cluster.advertised(b))
            .map(|b| NodeEndpoint {
                node_id: b.id,
                host: b.host,
                port: i32::from(b.port),
                rack: None,
            })
            .collect(),
    };
    respond(header, version, &body)
}

/// An error found before the log: offsets and log start offset are -1.
fn before_log(index: i32, code: ErrorCode) -> PartitionProduceResponse {
    PartitionProduceResponse {
        index,
        error_code: code,
        base_offset: -1,
        log_append_time_ms: -1,
        log_start_offset: -1,
        ..Default::default()
    }
}

/// An error found by the log: the log start offset (always 0 here) is set.
fn in_log(index: i32, code: ErrorCode) -> PartitionProduceResponse {
    PartitionProduceResponse {
        log_start_offset: 0,
        ..before_log(index, code)
    }
}

/// One partition's answer, and the current leader when this broker is not
/// it.
fn produce_partition(
    ctx: Ctx<'_>,
    version: i16,
    acks: i16,
    topic: Option<&Topic>,
    data: &PartitionProduceData<'_>,
) -> (PartitionProduceResponse, Option<LeaderIdAndEpoch>) {
    let index = data.index;
    let Some(topic) = topic else {
        let code = if version >= 13 {
            ErrorCode::UNKNOWN_TOPIC_ID
        } else {
            ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
        };
        return (before_log(index, code), None);
    };
    let Some(partition) = topic.partition(index) else {
        return (
            before_log(index, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            None,
        );
    };
    let batch = match single_batch(version, data.records) {
        Ok(b) => b,
        Err(code) => return (before_log(index, code), None),
    };
    if !matches!(acks, -1..=1) {
        return (before_log(index, ErrorCode::INVALID_REQUIRED_ACKS), None);
    }
    let mut p = partition.lock();
    if p.leader != ctx.broker_id {
        // No hint while the partition is offline: nobody leads it.
        let hint = (p.leader >= 0).then_some(LeaderIdAndEpoch {
            leader_id: p.leader,
            leader_epoch: p.leader_epoch,
        });
        return (before_log(index, ErrorCode::NOT_LEADER_OR_FOLLOWER), hint);
    }
    let max_message_bytes = ctx.cluster.settings.max_message_bytes;
    let sink = ctx.cluster.sink.load(Ordering::Relaxed);
    (append(&mut p, index, batch, max_message_bytes, sink), None)
}

/// Kafka's `ProduceRequest.validateRecords` (and the batch iterator under
/// it): exactly one whole magic-2 batch, no zstd below v7. Stricter than
/// Kafka on one point: bytes after the batch that do not form a whole batch
/// are `INVALID_RECORD` here (Kafka trims them silently).
fn single_batch(version: i16, records: Option<&[u8]>) -> Result<&[u8], ErrorCode> {
    let Some(bytes) = records else {
        return Err(ErrorCode::INVALID_RECORD);
    };
    let Some(length) = bytes
        .get(8..12)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return Err(ErrorCode::INVALID_RECORD); // no batch at all
    };
    if length < MIN_BATCH_LENGTH {
        return Err(ErrorCode::CORRUPT_MESSAGE);
    }
    // `length` is positive and at most i32::MAX: no overflow in usize.
    let size = length as usize + LOG_OVERHEAD;
    if size > bytes.len() {
        return Err(ErrorCode::INVALID_RECORD); // a cut batch is no batch
    }
    let batch = &bytes[..size];
    if batch.get(MAGIC_OFFSET).map(|m| *m as i8) != Some(MAGIC_V2) {
        return Err(ErrorCode::INVALID_RECORD);
    }
    // `size` >= 26: the attributes are there (their low byte holds the codec).
    let codec = CompressionType::from_id(batch[ATTRIBUTES_OFFSET + 1] & 0x07);
    if version < 7 && codec == Some(CompressionType::Zstd) {
        return Err(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE);
    }
    if size != bytes.len() {
        return Err(ErrorCode::INVALID_RECORD); // more than one batch
    }
    Ok(batch)
}

/// The log's checks and the append, under the partition lock. In sink
/// mode the records are not read (the CRC still covers them) and the batch
/// is counted, not stored.
fn append(
    p: &mut Partition,
    index: i32,
    bytes: &[u8],
    max_message_bytes: usize,
    sink: bool,
) -> PartitionProduceResponse {
    // UnifiedLog.analyzeAndValidateRecords.
    let Ok(batch) = RecordBatch::parse(bytes) else {
        return before_log(index, ErrorCode::CORRUPT_MESSAGE); // shorter than a header
    };
    if batch.base_offset() != 0 {
        return in_log(index, ErrorCode::INVALID_RECORD);
    }
    if bytes.len() > max_message_bytes {
        return before_log(index, ErrorCode::MESSAGE_TOO_LARGE);
    }
    if batch.crc() != batch.compute_crc() {
        return before_log(index, ErrorCode::CORRUPT_MESSAGE);
    }
    if batch.compression_type().is_err() {
        // Kafka fails on an unknown codec id with an unexpected exception.
        return in_log(index, ErrorCode::UNKNOWN_SERVER_ERROR);
    }
    // LogValidator.validateBatch.
    let count = batch.records_count();
    let from_offsets = i64::from(batch.last_offset_delta()) + 1;
    let has_producer_id = batch.producer_id() > NO_PRODUCER_ID;
    if from_offsets <= 0
        || count <= 0
        || from_offsets != i64::from(count)
        || batch.is_control()
        || (has_producer_id && batch.base_sequence() < 0)
    {
        return in_log(index, ErrorCode::INVALID_RECORD);
    }
    // LogValidator, per record.
    let max_timestamp = if sink {
        batch.max_timestamp()
    } else {
        match check_records(&batch) {
            Ok(ts) => ts,
            Err(answer) => return PartitionProduceResponse { index, ..answer },
        }
    };
    let producer = has_producer_id.then(|| ProducerBatch {
        producer_id: batch.producer_id(),
        epoch: batch.producer_epoch(),
        first_seq: batch.base_sequence(),
        last_seq: batch.last_sequence(),
        max_timestamp,
    });
    // UnifiedLog.analyzeAndValidateProducerState.
    if let Some(producer) = &producer {
        match p.log.check_producer(producer) {
            Ok(ProducerCheck::Duplicate {
                base_offset,
                timestamp,
            }) => {
                return PartitionProduceResponse {
                    index,
                    error_code: ErrorCode::NONE,
                    base_offset,
                    log_append_time_ms: timestamp,
                    log_start_offset: 0,
                    ..Default::default()
                }
            }
            Ok(ProducerCheck::Append) if batch.is_transactional() => {
                return in_log(index, ErrorCode::INVALID_TXN_STATE)
            }
            Ok(ProducerCheck::Append) => {}
            Err((code, message)) => {
                log::debug!("mock broker: produce to partition {index} refused: {message}");
                return in_log(index, code);
            }
        }
    } else if batch.is_transactional() {
        return in_log(index, ErrorCode::INVALID_TXN_STATE);
    }
    if sink {
        return PartitionProduceResponse {
            index,
            error_code: ErrorCode::NONE,
            base_offset: p.log.acknowledge(i64::from(count), producer),
            log_append_time_ms: -1,
            log_start_offset: 0,
            ..Default::default()
        };
    }
    let mut stored = bytes.to_vec();
    if batch.max_timestamp() != max_timestamp || batch.is_log_append_time() {
        // The broker sets CreateTime and the max timestamp of the records,
        // and redoes the CRC (DefaultRecordBatch.setMaxTimestamp).
        stored[MAX_TIMESTAMP_OFFSET..MAX_TIMESTAMP_OFFSET + 8]
            .copy_from_slice(&max_timestamp.to_be_bytes());
        let attributes = (batch.attributes() & !TIMESTAMP_TYPE_FLAG).to_be_bytes();
        stored[ATTRIBUTES_OFFSET..ATTRIBUTES_OFFSET + 2].copy_from_slice(&attributes);
        let crc = crc32c(&stored[CRC_OFFSET + 4..]);
        stored[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
    }
    let leader_epoch = p.leader_epoch;
    let base_offset = p
        .log
        .append(stored, i64::from(count), leader_epoch, producer);
    PartitionProduceResponse {
        index,
        error_code: ErrorCode::NONE,
        base_offset,
        log_append_time_ms: -1,
        log_start_offset: 0,
        ..Default::default()
    }
}

/// Reads every record of a batch (decompressed if need be); returns the
/// largest record timestamp, or the answer for a bad batch. Records must be
/// readable to the last byte (Kafka: INVALID_RECORD); a LogAppendTime batch
/// without a timestamp is INVALID_TIMESTAMP for each record (Kafka's
/// `validateTimestamp` on a CreateTime topic); offset deltas must be 0, 1,
/// 2, ... (stricter than Kafka, which renumbers: a producer that writes
/// other deltas has a bug).
fn check_records(batch: &RecordBatch<'_>) -> Result<i64, PartitionProduceResponse> {
    let records = batch
        .records(MAX_DECOMPRESSED_BYTES)
        .map_err(|_| in_log(0, ErrorCode::INVALID_RECORD))?;
    let mut max_timestamp = NO_TIMESTAMP;
    let mut bad_deltas = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let record = record.map_err(|_| in_log(0, ErrorCode::INVALID_RECORD))?;
        // At most `records_count` (an i32) records are yielded.
        let i = i32::try_from(i).unwrap_or(i32::MAX);
        if record.offset_delta != i {
            bad_deltas.push(BatchIndexAndErrorMessage {
                batch_index: i,
                batch_index_error_message: Some(format!(
                    "record {i} has offset delta {}",
                    record.offset_delta
                )),
            });
        }
        max_timestamp = max_timestamp.max(record.timestamp);
    }
    if batch.is_log_append_time() && batch.max_timestamp() == NO_TIMESTAMP {
        return Err(PartitionProduceResponse {
            record_errors: (0..batch.records_count())
                .map(|i| BatchIndexAndErrorMessage {
                    batch_index: i,
                    batch_index_error_message: Some(
                        "Producer should not set timestamp type to LogAppendTime.".into(),
                    ),
                })
                .collect(),
            error_message: Some(
                "One or more records have been rejected due to invalid timestamp".into(),
            ),
            ..in_log(0, ErrorCode::INVALID_TIMESTAMP)
        });
    }
    if !bad_deltas.is_empty() {
        return Err(PartitionProduceResponse {
            error_message: Some(format!(
                "One or more records have been rejected due to {} record errors: offset deltas \
                 must be 0, 1, 2, ...",
                bad_deltas.len()
            )),
            record_errors: bad_deltas,
            ..in_log(0, ErrorCode::INVALID_RECORD)
        });
    }
    Ok(max_timestamp)
}

//! Produce against the mock cluster over real TCP: read-back, offsets,
//! acks, idempotence, Kafka's error codes for bad batches, leadership,
//! topic ids, concurrency.

#![cfg(feature = "mock")]

mod mock_support;

use std::net::SocketAddr;

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use kafka_producer::protocol::messages::produce::ProduceResponse;
use kafka_producer::protocol::{ApiKey, ErrorCode};
use kafka_producer::record::{Compression, CompressionType, RecordBatch};
use mock_support::{
    batch_of, build_batch, cluster, idempotent_batch, init_producer_id, patch, produce,
    produce_request, rec, Client, Rec,
};

// ---------------------------------------------------------------- Produce

/// Timestamp, key, value and headers of a record, as `StoredRecord` holds them.
type Fields = (
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(Vec<u8>, Option<Vec<u8>>)>,
);

/// The record fields a client wrote.
fn expected_fields(records: &[Rec]) -> Vec<Fields> {
    records
        .iter()
        .map(|r| {
            (
                r.timestamp,
                r.key.clone(),
                r.value.clone(),
                r.headers
                    .iter()
                    .map(|h| (h.key.as_bytes().to_vec(), h.value.clone()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn produced_records_read_back_field_for_field_at_every_version() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let mut written = Vec::new();
    let mut offset = 0;
    for version in 3..=12 {
        let records: Vec<Rec> = (0..version as usize).map(rec).collect();
        let batch = build_batch(&records, Compression::none(), None);
        let answer = produce(&mut c, version, "t", 0, &batch);
        assert_eq!(answer.error_code, ErrorCode::NONE, "v{version}");
        assert_eq!(answer.base_offset, offset, "v{version}");
        assert_eq!(answer.log_append_time_ms, -1);
        if version >= 5 {
            assert_eq!(answer.log_start_offset, 0);
        }
        offset += records.len() as i64;
        written.extend(records);
    }
    assert_eq!(cluster.log_end_offset("t", 0), Some(offset));
    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), written.len());
    for (i, s) in stored.iter().enumerate() {
        assert_eq!(s.offset, i as i64);
        assert_eq!((s.producer_id, s.producer_epoch, s.sequence), (-1, -1, -1));
    }
    let got: Vec<_> = stored
        .iter()
        .map(|s| {
            (
                s.timestamp,
                s.key.clone(),
                s.value.clone(),
                s.headers.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected_fields(&written));
    assert_eq!(cluster.request_count(ApiKey::PRODUCE), 10);
}

#[test]
fn stored_batches_are_the_sent_bytes_with_offset_and_epoch_assigned() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let first = batch_of(3);
    let second = build_batch(&[rec(4), rec(5)], Compression::gzip(-1).unwrap(), None);
    assert_eq!(produce(&mut c, 9, "t", 0, &first).base_offset, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &second).base_offset, 3);
    let stored = cluster.batches("t", 0);
    assert_eq!(stored.len(), 2);
    for (sent, (kept, base)) in [&first, &second]
        .into_iter()
        .zip(stored.iter().zip([0i64, 3]))
    {
        assert_eq!(kept.len(), sent.len());
        assert_eq!(&kept[..8], &base.to_be_bytes(), "base offset");
        assert_eq!(&kept[12..16], &0i32.to_be_bytes(), "leader epoch");
        assert_eq!(&kept[8..12], &sent[8..12]);
        assert_eq!(&kept[16..], &sent[16..], "CRC and everything it covers");
        let batch = RecordBatch::parse(kept).unwrap();
        batch.validate().expect("still a valid batch");
        assert_eq!(batch.base_offset(), base);
    }
    // The gzip batch reads back too.
    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), 5);
    assert_eq!(stored[3].offset, 3);
    assert_eq!(stored[4].value, rec(5).value);
}

#[test]
fn offsets_are_consecutive_across_requests_and_connections() {
    let cluster = cluster(1);
    cluster.create_topic("t", 2).unwrap();
    let mut a = Client::to_broker(&cluster, 1);
    let mut b = Client::to_broker(&cluster, 1);
    let mut expected = 0;
    for (i, n) in [2usize, 3, 1, 4].into_iter().enumerate() {
        let client = if i % 2 == 0 { &mut a } else { &mut b };
        let answer = produce(client, 11, "t", 1, &batch_of(n));
        assert_eq!(answer.base_offset, expected);
        expected += n as i64;
    }
    assert_eq!(cluster.log_end_offset("t", 1), Some(10));
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));
    let offsets: Vec<i64> = cluster.records("t", 1).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..10).collect::<Vec<_>>());
}

#[test]
fn acks_zero_gets_no_answer_and_a_failure_closes_the_connection() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let batch = batch_of(2);
    c.send(9, &produce_request("t", 0, &batch, 0));
    // Responses come in request order: the next frame must be Metadata's.
    let id = c.send(9, &MetadataRequest::topics(["t"], false));
    let r: MetadataResponse = c.receive(9, id);
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(cluster.log_end_offset("t", 0), Some(2));

    c.send(9, &produce_request("unknown", 0, &batch, 0));
    assert!(
        c.is_closed(),
        "a failed acks=0 produce closes the connection"
    );
}

#[test]
fn idempotent_duplicates_gaps_and_stale_epochs() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let pid = init_producer_id(&mut c, 4).producer_id;

    let first = idempotent_batch(3, pid, 0, 0);
    let second = idempotent_batch(2, pid, 0, 3);
    assert_eq!(produce(&mut c, 9, "t", 0, &first).base_offset, 0);
    assert_eq!(produce(&mut c, 9, "t", 0, &second).base_offset, 3);

    // An exact duplicate: success with the original offset and, as Kafka
    // does, the batch's max timestamp as log append time.
    let dup = produce(&mut c, 9, "t", 0, &first);
    assert_eq!(dup.error_code, ErrorCode::NONE);
    assert_eq!(dup.base_offset, 0);
    assert_eq!(dup.log_append_time_ms, rec(2).timestamp);
    assert_eq!(cluster.log_end_offset("t", 0), Some(5), "nothing appended");

    // A gap.
    let gap = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 9));
    assert_eq!(gap.error_code, ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_eq!((gap.base_offset, gap.log_start_offset), (-1, 0));

    // A new epoch must start at 0; then the old epoch is stale.
    let bad_start = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 1, 5));
    assert_eq!(
        bad_start.error_code,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 1, 0)).base_offset,
        5
    );
    let stale = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid, 0, 5));
    assert_eq!(stale.error_code, ErrorCode::INVALID_PRODUCER_EPOCH);

    let stored = cluster.records("t", 0);
    assert_eq!(stored.len(), 6);
    let producer: Vec<_> = stored
        .iter()
        .map(|r| (r.offset, r.producer_id, r.producer_epoch, r.sequence))
        .collect();
    assert_eq!(
        producer,
        [
            (0, pid, 0, 0),
            (1, pid, 0, 1),
            (2, pid, 0, 2),
            (3, pid, 0, 3),
            (4, pid, 0, 4),
            (5, pid, 1, 0),
        ]
    );
    // An unknown producer may start at any sequence (Kafka 4.x).
    let fresh = produce(&mut c, 9, "t", 0, &idempotent_batch(1, pid + 100, 0, 17));
    assert_eq!(fresh.error_code, ErrorCode::NONE);
}

#[test]
fn a_corrupt_crc_is_corrupt_message() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let mut batch = batch_of(3);
    let last = batch.len() - 1;
    batch[last] ^= 0x01;
    let answer = produce(&mut c, 9, "t", 0, &batch);
    assert_eq!(answer.error_code, ErrorCode::CORRUPT_MESSAGE);
    assert_eq!(
        (
            answer.base_offset,
            answer.log_append_time_ms,
            answer.log_start_offset
        ),
        (-1, -1, -1)
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));
    // The connection goes on.
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(1)).error_code,
        ErrorCode::NONE
    );
}

#[test]
fn malformed_batches_are_refused_with_kafkas_codes() {
    let cluster = MockCluster::builder()
        .max_message_bytes(300)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let good = batch_of(2);

    let two = [good.clone(), good.clone()].concat();
    assert_eq!(
        produce(&mut c, 9, "t", 0, &two).error_code,
        ErrorCode::INVALID_RECORD
    );
    let cut = &good[..good.len() - 1];
    assert_eq!(
        produce(&mut c, 9, "t", 0, cut).error_code,
        ErrorCode::INVALID_RECORD
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &[]).error_code,
        ErrorCode::INVALID_RECORD
    );
    let mut magic1 = good.clone();
    magic1[16] = 1;
    assert_eq!(
        produce(&mut c, 9, "t", 0, &magic1).error_code,
        ErrorCode::INVALID_RECORD
    );
    let mut tiny_length = good.clone();
    tiny_length[8..12].copy_from_slice(&13i32.to_be_bytes());
    assert_eq!(
        produce(&mut c, 9, "t", 0, &tiny_length).error_code,
        ErrorCode::CORRUPT_MESSAGE
    );

    let mut based = good.clone();
    based[..8].copy_from_slice(&5i64.to_be_bytes());
    let answer = produce(&mut c, 9, "t", 0, &based);
    assert_eq!(answer.error_code, ErrorCode::INVALID_RECORD);
    assert_eq!(answer.log_start_offset, 0, "found by the log");

    let big = batch_of(12);
    assert!(big.len() > 300);
    let answer = produce(&mut c, 9, "t", 0, &big);
    assert_eq!(answer.error_code, ErrorCode::MESSAGE_TOO_LARGE);
    assert_eq!(answer.log_start_offset, -1);

    let mut bad_acks = produce_request("t", 0, &good, 2);
    bad_acks.acks = 2;
    let r: ProduceResponse = c.call(9, &bad_acks);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        ErrorCode::INVALID_REQUIRED_ACKS
    );
    assert_eq!(
        produce(&mut c, 9, "t", 7, &good).error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0), "nothing appended");
    assert_eq!(produce(&mut c, 9, "t", 0, &good).base_offset, 0);
}

/// Sets a batch's codec bits to `codec` and fixes its CRC: the records stay
/// uncompressed, so they do not inflate.
fn relabelled(mut batch: Vec<u8>, codec: CompressionType) -> Vec<u8> {
    batch[22] = (batch[22] & !0x07) | codec.id();
    let crc = kafka_producer::util::crc::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
    batch
}

#[test]
fn zstd_needs_produce_v7() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let records = [rec(0), rec(1)];
    let zstd = build_batch(&records, Compression::of(CompressionType::Zstd), None);
    assert_eq!(
        produce(&mut c, 6, "t", 0, &zstd).error_code,
        ErrorCode::UNSUPPORTED_COMPRESSION_TYPE
    );
    // From v7 it is accepted, inflated, checked and stored.
    assert_eq!(
        produce(&mut c, 7, "t", 0, &zstd).error_code,
        ErrorCode::NONE
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(2));
    assert_eq!(cluster.batches("t", 0).len(), 1);
    assert_eq!(cluster.records("t", 0).len(), 2);
}

#[test]
fn every_codec_is_inflated_and_checked() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let mut offset = 0;
    for codec in CompressionType::ALL {
        let records: Vec<Rec> = (0..3).map(rec).collect();
        let batch = build_batch(&records, Compression::of(codec), None);
        assert_eq!(
            produce(&mut c, 9, "t", 0, &batch).base_offset,
            offset,
            "{codec}"
        );
        offset += 3;
        if codec != CompressionType::None {
            // The same records labelled with the codec but not compressed.
            let fake = relabelled(batch_of(3), codec);
            assert_eq!(
                produce(&mut c, 9, "t", 0, &fake).error_code,
                ErrorCode::INVALID_RECORD,
                "{codec}"
            );
        }
    }
    assert_eq!(cluster.records("t", 0).len(), 15);
}

#[test]
fn a_non_leader_refuses_and_names_the_leader_from_v10() {
    let cluster = cluster(3);
    cluster.create_topic("t", 1).unwrap();
    let leader = cluster.partition_leader("t", 0).unwrap();
    let other = leader % 3 + 1;
    let mut c = Client::to_broker(&cluster, other);
    let batch = batch_of(1);

    let old = produce(&mut c, 9, "t", 0, &batch);
    assert_eq!(old.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(old.current_leader.leader_id, -1, "no hint before v10");

    let r: ProduceResponse = c.call(10, &produce_request("t", 0, &batch, 1));
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!((p.base_offset, p.log_start_offset), (-1, -1));
    assert_eq!(
        (p.current_leader.leader_id, p.current_leader.leader_epoch),
        (leader, 0)
    );
    assert_eq!(r.node_endpoints.len(), 1);
    let endpoint = &r.node_endpoints[0];
    assert_eq!(endpoint.node_id, leader);
    assert_eq!(
        Some(SocketAddr::from(([127, 0, 0, 1], endpoint.port as u16))),
        cluster.broker_address(leader)
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(0));

    // Move the leadership here: this broker now accepts, the old one
    // refuses, and the stored batch carries the new leader epoch.
    cluster.set_partition_leader("t", 0, other).unwrap();
    assert_eq!(
        produce(&mut c, 12, "t", 0, &batch).error_code,
        ErrorCode::NONE
    );
    let mut at_old = Client::to_broker(&cluster, leader);
    let r: ProduceResponse = at_old.call(12, &produce_request("t", 0, &batch, 1));
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(
        (p.current_leader.leader_id, p.current_leader.leader_epoch),
        (other, 1)
    );
    assert_eq!(&cluster.batches("t", 0)[0][12..16], &1i32.to_be_bytes());
}

#[test]
fn produce_v13_names_topics_by_id() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let id = cluster.topic_id("t").unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let batch = batch_of(2);
    for (topic_id, code) in [
        (id, ErrorCode::NONE),
        ([3; 16], ErrorCode::UNKNOWN_TOPIC_ID),
    ] {
        let mut request = produce_request("", 0, &batch, -1);
        request.topic_data[0].topic_id = topic_id;
        let r: ProduceResponse = c.call(13, &request);
        assert_eq!(r.responses[0].topic_id, topic_id);
        assert_eq!(r.responses[0].name, "");
        assert_eq!(r.responses[0].partition_responses[0].error_code, code);
    }
    assert_eq!(cluster.records("t", 0).len(), 2);
}

#[test]
fn pushed_errors_answer_the_next_produce_requests() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    cluster.push_request_errors(ApiKey::PRODUCE, &[ErrorCode::NOT_ENOUGH_REPLICAS]);
    let batch = batch_of(1);
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch).error_code,
        ErrorCode::NOT_ENOUGH_REPLICAS
    );
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch).error_code,
        ErrorCode::NONE
    );
    assert_eq!(cluster.log_end_offset("t", 0), Some(1));
}

#[test]
fn timestamps_are_checked_and_the_max_timestamp_fixed() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    // LogAppendTime without a timestamp: every record is refused.
    let attributes = 0x08i16.to_be_bytes();
    let log_append = patch(
        patch(batch_of(3), 21, &attributes),
        35,
        &(-1i64).to_be_bytes(),
    );
    let answer = produce(&mut c, 9, "t", 0, &log_append);
    assert_eq!(answer.error_code, ErrorCode::INVALID_TIMESTAMP);
    assert_eq!(
        answer
            .record_errors
            .iter()
            .map(|e| e.batch_index)
            .collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert!(answer.error_message.is_some());

    // A wrong max timestamp is corrected (and the CRC redone).
    let wrong_max = patch(batch_of(3), 35, &5i64.to_be_bytes());
    assert_eq!(
        produce(&mut c, 9, "t", 0, &wrong_max).error_code,
        ErrorCode::NONE
    );
    let stored = &cluster.batches("t", 0)[0];
    let batch = RecordBatch::parse(stored).unwrap();
    batch.validate().unwrap();
    assert_eq!(batch.max_timestamp(), rec(2).timestamp);
    assert_eq!(&stored[35..], &batch_of(3)[35..]);

    // Offset deltas must count 0, 1, 2 (stricter than Kafka).
    let mut two = batch_of(2);
    // The second record starts after the first: length varint, attributes,
    // timestamp delta, then the offset delta (zig-zag 1 = 0x02).
    let first_len = (two[61] >> 1) as usize;
    let second = 61 + 1 + first_len;
    assert_eq!(two[second + 3], 0x02, "offset delta of record 1");
    two[second + 3] = 0x04;
    let two = patch(two, 21, &0i16.to_be_bytes());
    let answer = produce(&mut c, 9, "t", 0, &two);
    assert_eq!(answer.error_code, ErrorCode::INVALID_RECORD);
    assert_eq!(answer.record_errors.len(), 1);
    assert_eq!(answer.record_errors[0].batch_index, 1);
    assert_eq!(cluster.log_end_offset("t", 0), Some(3));
}

#[test]
fn concurrent_producers_get_distinct_consecutive_offsets() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                (0..20)
                    .map(|_| {
                        let answer = produce(&mut c, 9, "t", 0, &batch_of(2));
                        assert_eq!(answer.error_code, ErrorCode::NONE);
                        answer.base_offset
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut bases: Vec<i64> = Vec::new();
    for t in threads {
        let mine = t.join().unwrap();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "in order per connection"
        );
        bases.extend(mine);
    }
    bases.sort_unstable();
    assert_eq!(bases, (0..80).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(cluster.log_end_offset("t", 0), Some(160));
    let offsets: Vec<i64> = cluster.records("t", 0).iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..160).collect::<Vec<_>>());
}

//! The mock cluster over real TCP: ApiVersions, Metadata, InitProducerId,
//! leadership, hostile input and shutdown (Produce is in
//! `tests/mock_produce.rs`). Every answer is decoded from bytes a mock
//! broker wrote on a socket.

#![cfg(feature = "mock")]

mod mock_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::protocol::header::{decode_response, encode_frame, write_request_header};
use kafka_producer::protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_producer::protocol::messages::init_producer_id::{
    InitProducerIdRequest, InitProducerIdResponse,
};
use kafka_producer::protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kafka_producer::protocol::messages::produce::ProduceResponse;
use kafka_producer::protocol::messages::{Uuid, ZERO_UUID};
use kafka_producer::protocol::{ApiKey, ErrorCode};
use mock_support::{
    batch_of, cluster, init_producer_id, metadata, produce, produce_request, Client,
};

// ---------------------------------------------------------------- ApiVersions

#[test]
fn api_versions_advertises_what_the_mock_answers_at_every_version() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    for version in 0..=4 {
        let r: ApiVersionsResponse = c.call(version, &ApiVersionsRequest::this_client());
        assert_eq!(r.error_code, ErrorCode::NONE, "v{version}");
        let ranges: Vec<_> = r
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .collect();
        assert_eq!(
            ranges,
            [
                (ApiKey::PRODUCE, 3, 13),
                (ApiKey::METADATA, 0, 13),
                (ApiKey::API_VERSIONS, 0, 4),
                (ApiKey::INIT_PRODUCER_ID, 0, 5),
            ],
            "v{version}"
        );
    }
    assert_eq!(cluster.request_count(ApiKey::API_VERSIONS), 5);
}

#[test]
fn a_too_new_api_versions_gets_the_v0_answer_with_our_range() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    // Version 7 with a body this mock has never seen: the header alone
    // decides the answer.
    let mut frame = Vec::new();
    encode_frame(&mut frame, |out| {
        write_request_header(out, ApiKey::API_VERSIONS, 7, 42, Some("future"), 2)?;
        out.extend_from_slice(&[9, 9, 9]);
        Ok(())
    })
    .unwrap();
    c.socket.write_all(&frame).unwrap();
    let frame = c.receive_frame();
    let (header, r) = decode_response::<ApiVersionsResponse>(&frame, 0).unwrap();
    assert_eq!(header.correlation_id, 42);
    assert_eq!(r.error_code, ErrorCode::UNSUPPORTED_VERSION);
    assert_eq!(r.api_keys.len(), 1);
    assert_eq!(
        (
            r.api_keys[0].api_key,
            r.api_keys[0].min_version,
            r.api_keys[0].max_version
        ),
        (ApiKey::API_VERSIONS, 0, 4)
    );
    // The v0 layout exactly: no throttle time after the array.
    assert_eq!(frame.len(), 4 + 2 + 4 + 6);
    // The connection stays usable.
    let r: ApiVersionsResponse = c.call(3, &ApiVersionsRequest::this_client());
    assert_eq!(r.error_code, ErrorCode::NONE);
}

#[test]
fn api_versions_refuses_software_names_kafka_refuses() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    for (name, version) in [("bad name", "1.0"), ("ok", "-1"), ("", "1")] {
        let request = ApiVersionsRequest {
            client_software_name: name.into(),
            client_software_version: version.into(),
        };
        let r: ApiVersionsResponse = c.call(3, &request);
        assert_eq!(
            r.error_code,
            ErrorCode::INVALID_REQUEST,
            "{name:?} {version:?}"
        );
        assert!(r.api_keys.is_empty());
        // Below v3 the fields are not on the wire: nothing to refuse.
        let r: ApiVersionsResponse = c.call(2, &request);
        assert_eq!(r.error_code, ErrorCode::NONE);
    }
}

// ---------------------------------------------------------------- Metadata

#[test]
fn metadata_lists_brokers_and_auto_creates_topics() {
    let cluster = cluster(3);
    let mut c = Client::to_broker(&cluster, 2);
    let r = metadata(&mut c, 12, &MetadataRequest::topics(["auto"], true));
    let ports: Vec<String> = r
        .brokers
        .iter()
        .map(|b| format!("{}:{}", b.host, b.port))
        .collect();
    assert_eq!(ports.join(","), cluster.bootstrap_servers());
    assert_eq!(
        r.brokers.iter().map(|b| b.node_id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(r.cluster_id.as_deref(), Some(cluster.cluster_id()));
    assert_eq!(r.controller_id, 1);
    assert_eq!(r.topics.len(), 1);
    let t = &r.topics[0];
    assert_eq!(
        (t.error_code, t.name.as_deref()),
        (ErrorCode::NONE, Some("auto"))
    );
    assert_eq!(Some(t.topic_id), cluster.topic_id("auto"));
    assert_ne!(t.topic_id, ZERO_UUID);
    assert_eq!(t.partitions.len(), 3);
    for (i, p) in t.partitions.iter().enumerate() {
        assert_eq!(p.partition_index, i as i32);
        assert_eq!(
            Some(p.leader_id),
            cluster.partition_leader("auto", i as i32)
        );
        assert_eq!(p.leader_epoch, 0);
        assert_eq!(p.replica_nodes, [p.leader_id]);
        assert_eq!(p.isr_nodes, [p.leader_id]);
    }
    // Leaders spread over the brokers.
    let mut leaders: Vec<i32> = t.partitions.iter().map(|p| p.leader_id).collect();
    leaders.sort_unstable();
    assert_eq!(leaders, [1, 2, 3]);
    // The id is stable.
    let again = metadata(&mut c, 12, &MetadataRequest::topics(["auto"], false));
    assert_eq!(again.topics[0].topic_id, t.topic_id);
}

#[test]
fn metadata_answers_unknown_and_invalid_topics() {
    let cluster = cluster(1);
    let mut c = Client::to_broker(&cluster, 1);
    let r = metadata(
        &mut c,
        12,
        &MetadataRequest::topics(["missing", "bad name", "."], false),
    );
    let codes: Vec<_> = r
        .topics
        .iter()
        .map(|t| (t.name.clone().unwrap(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        [
            ("missing".to_owned(), ErrorCode::UNKNOWN_TOPIC_OR_PARTITION),
            ("bad name".to_owned(), ErrorCode::INVALID_TOPIC_EXCEPTION),
            (".".to_owned(), ErrorCode::INVALID_TOPIC_EXCEPTION),
        ]
    );
    assert!(r.topics.iter().all(|t| t.partitions.is_empty()));
    assert_eq!(cluster.partition_count("missing"), None);
    // Even when creation is allowed, an illegal name is refused.
    let long = "x".repeat(250);
    let r = metadata(&mut c, 9, &MetadataRequest::topics([long.as_str()], true));
    assert_eq!(r.topics[0].error_code, ErrorCode::INVALID_TOPIC_EXCEPTION);
}

#[test]
fn metadata_creates_nothing_when_the_cluster_forbids_it() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let r = metadata(&mut c, 8, &MetadataRequest::topics(["t"], true));
    assert_eq!(
        r.topics[0].error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    cluster.create_topic("t", 2).unwrap();
    let r = metadata(&mut c, 8, &MetadataRequest::topics(["t"], true));
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(r.topics[0].partitions.len(), 2);
}

#[test]
fn metadata_every_version_all_topics_and_by_id() {
    let cluster = cluster(2);
    cluster.create_topic("b", 1).unwrap();
    cluster.create_topic("a", 2).unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    for version in 1..=13 {
        let r = metadata(&mut c, version, &MetadataRequest::all_topics(true));
        let names: Vec<_> = r.topics.iter().map(|t| t.name.clone().unwrap()).collect();
        assert_eq!(names, ["a", "b"], "v{version}");
        assert_eq!(r.topics[0].partitions.len(), 2, "v{version}");
    }
    // v0: an empty list means all topics.
    let v0 = MetadataRequest {
        topics: Some(Vec::new()),
        ..Default::default()
    };
    assert_eq!(metadata(&mut c, 0, &v0).topics.len(), 2);
    // v1+: an empty list means none.
    assert_eq!(metadata(&mut c, 1, &v0).topics.len(), 0);

    // By id (v12+): known and unknown.
    let id = cluster.topic_id("a").unwrap();
    let unknown: Uuid = [7; 16];
    let by_id = MetadataRequest {
        topics: Some(
            [id, unknown]
                .into_iter()
                .map(|topic_id| MetadataRequestTopic {
                    topic_id,
                    name: None,
                })
                .collect(),
        ),
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let r = metadata(&mut c, 12, &by_id);
    assert_eq!(r.topics.len(), 2);
    assert_eq!(
        (
            r.topics[0].error_code,
            r.topics[0].name.as_deref(),
            r.topics[0].topic_id
        ),
        (ErrorCode::NONE, Some("a"), id)
    );
    assert_eq!(
        (
            r.topics[1].error_code,
            r.topics[1].name.as_deref(),
            r.topics[1].topic_id
        ),
        (ErrorCode::UNKNOWN_TOPIC_ID, None, unknown)
    );
    // Below v12 ids are not accepted (Kafka: INVALID_REQUEST).
    let by_id_v10 = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic {
            topic_id: id,
            name: Some("a".into()),
        }]),
        ..Default::default()
    };
    let r = metadata(&mut c, 10, &by_id_v10);
    assert_eq!(r.topics[0].error_code, ErrorCode::INVALID_REQUEST);
}

#[test]
fn moving_leadership_bumps_the_leader_epoch() {
    let cluster = cluster(3);
    cluster.create_topic("t", 1).unwrap();
    let old = cluster.partition_leader("t", 0).unwrap();
    let new = old % 3 + 1;
    cluster.set_partition_leader("t", 0, new).unwrap();
    assert_eq!(cluster.partition_leader("t", 0), Some(new));
    assert_eq!(cluster.leader_epoch("t", 0), Some(1));
    // Naming the current leader again changes nothing.
    cluster.set_partition_leader("t", 0, new).unwrap();
    assert_eq!(cluster.leader_epoch("t", 0), Some(1));
    let mut c = Client::to_broker(&cluster, old);
    let r = metadata(&mut c, 7, &MetadataRequest::topics(["t"], false));
    assert_eq!(r.topics[0].partitions[0].leader_id, new);
    assert_eq!(r.topics[0].partitions[0].leader_epoch, 1);
    assert!(cluster.set_partition_leader("t", 0, 4).is_err());
    assert!(cluster.set_partition_leader("t", 1, 1).is_err());
    assert!(cluster.set_partition_leader("nope", 0, 1).is_err());
}

// ---------------------------------------------------------------- topology changes

#[test]
fn added_partitions_show_in_metadata_and_the_old_ones_keep_their_logs() {
    let cluster = cluster(2);
    cluster.create_topic("t", 2).unwrap();
    let id = cluster.topic_id("t").unwrap();
    let leader0 = cluster.partition_leader("t", 0).unwrap();
    let mut c = Client::to_broker(&cluster, leader0);
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(3)).error_code,
        ErrorCode::NONE
    );

    cluster.create_partitions("t", 5).unwrap();
    assert_eq!(cluster.partition_count("t"), Some(5));
    assert_eq!(cluster.topic_id("t"), Some(id), "same topic");
    assert_eq!(cluster.log_end_offset("t", 0), Some(3), "log kept");
    let r = metadata(&mut c, 12, &MetadataRequest::topics(["t"], false));
    let partitions: Vec<(i32, i32, i32)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.leader_id, p.leader_epoch))
        .collect();
    assert_eq!(partitions.len(), 5);
    assert_eq!(partitions[0], (0, leader0, 0));
    assert!(partitions[2..]
        .iter()
        .all(|&(_, leader, epoch)| leader >= 1 && epoch == 0));
    // A new partition takes produce at its leader, from offset 0.
    let leader4 = cluster.partition_leader("t", 4).unwrap();
    let mut c4 = Client::to_broker(&cluster, leader4);
    let answer = produce(&mut c4, 9, "t", 4, &batch_of(2));
    assert_eq!(
        (answer.error_code, answer.base_offset),
        (ErrorCode::NONE, 0)
    );

    let code = |r: kafka_producer::Result<()>| r.unwrap_err().code();
    assert_eq!(
        code(cluster.create_partitions("t", 5)),
        Some(ErrorCode::INVALID_PARTITIONS)
    );
    assert_eq!(
        code(cluster.create_partitions("t", 3)),
        Some(ErrorCode::INVALID_PARTITIONS)
    );
    assert_eq!(
        code(cluster.create_partitions("nope", 3)),
        Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
    );
}

#[test]
fn a_deleted_topic_is_unknown_to_produce_and_metadata_until_created_again() {
    let cluster = MockCluster::builder()
        .auto_create_topics(false)
        .start()
        .unwrap();
    cluster.create_topic("t", 1).unwrap();
    let old_id = cluster.topic_id("t").unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    assert_eq!(
        produce(&mut c, 9, "t", 0, &batch_of(2)).error_code,
        ErrorCode::NONE
    );

    cluster.delete_topic("t").unwrap();
    assert_eq!(cluster.partition_count("t"), None);
    assert!(cluster.records("t", 0).is_empty());
    let answer = produce(&mut c, 9, "t", 0, &batch_of(1));
    assert_eq!(answer.error_code, ErrorCode::UNKNOWN_TOPIC_OR_PARTITION);
    let r = metadata(&mut c, 12, &MetadataRequest::topics(["t"], true));
    assert_eq!(
        r.topics[0].error_code,
        ErrorCode::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert!(r.topics[0].partitions.is_empty());
    assert_eq!(
        cluster.delete_topic("t").unwrap_err().code(),
        Some(ErrorCode::UNKNOWN_TOPIC_OR_PARTITION)
    );

    cluster.create_topic("t", 1).unwrap();
    assert_ne!(cluster.topic_id("t"), Some(old_id), "a new topic id");
    let answer = produce(&mut c, 9, "t", 0, &batch_of(1));
    assert_eq!(
        (answer.error_code, answer.base_offset),
        (ErrorCode::NONE, 0)
    );
}

#[test]
fn with_auto_creation_the_next_metadata_request_recreates_a_deleted_topic() {
    let cluster = MockCluster::builder()
        .default_partitions(1)
        .start()
        .unwrap();
    cluster.create_topic("t", 3).unwrap();
    let old_id = cluster.topic_id("t").unwrap();
    cluster.delete_topic("t").unwrap();
    let mut c = Client::to_broker(&cluster, 1);
    let r = metadata(&mut c, 12, &MetadataRequest::topics(["t"], true));
    assert_eq!(r.topics[0].error_code, ErrorCode::NONE);
    assert_eq!(r.topics[0].partitions.len(), 1, "the default count");
    assert_ne!(r.topics[0].topic_id, old_id);
}

#[test]
fn an_advertised_address_replaces_the_real_one_in_metadata_and_leader_hints() {
    let cluster = cluster(2);
    cluster.create_topic("t", 1).unwrap();
    cluster.set_partition_leader("t", 0, 2).unwrap();
    let elsewhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
    cluster.set_advertised_address(2, Some(elsewhere)).unwrap();
    // Broker 2 still listens where it did.
    let real = cluster.broker_address(2).unwrap();
    assert_ne!(real, elsewhere);
    let mut c2 = Client::to_broker(&cluster, 2);
    let brokers = |c: &mut Client| -> Vec<(i32, String, i32)> {
        metadata(c, 12, &MetadataRequest::topics(["t"], false))
            .brokers
            .into_iter()
            .map(|b| (b.node_id, b.host, b.port))
            .collect()
    };
    let real1 = cluster.broker_address(1).unwrap();
    assert_eq!(
        brokers(&mut c2),
        [
            (1, "127.0.0.1".to_owned(), i32::from(real1.port())),
            (2, "127.0.0.1".to_owned(), 9),
        ]
    );
    // The KIP-951 hint from the broker that does not lead names it too.
    let mut c1 = Client::to_broker(&cluster, 1);
    let r: ProduceResponse = c1.call(10, &produce_request("t", 0, &batch_of(1), -1));
    let answer = &r.responses[0].partition_responses[0];
    assert_eq!(answer.error_code, ErrorCode::NOT_LEADER_OR_FOLLOWER);
    assert_eq!(answer.current_leader.leader_id, 2);
    let hints: Vec<(i32, i32)> = r
        .node_endpoints
        .iter()
        .map(|e| (e.node_id, e.port))
        .collect();
    assert_eq!(hints, [(2, 9)]);

    cluster.set_advertised_address(2, None).unwrap();
    assert_eq!(brokers(&mut c2)[1].2, i32::from(real.port()));
    assert!(cluster.set_advertised_address(3, Some(elsewhere)).is_err());
}

// ---------------------------------------------------------------- InitProducerId

#[test]
fn init_producer_id_hands_out_increasing_ids() {
    let cluster = cluster(2);
    let mut a = Client::to_broker(&cluster, 1);
    let mut b = Client::to_broker(&cluster, 2);
    let mut last = -1;
    for version in 0..=5 {
        let client = if version % 2 == 0 { &mut a } else { &mut b };
        let r = init_producer_id(client, version);
        assert_eq!(r.error_code, ErrorCode::NONE, "v{version}");
        assert_eq!(r.producer_epoch, 0);
        assert!(
            r.producer_id > last,
            "v{version}: {} after {last}",
            r.producer_id
        );
        last = r.producer_id;
    }
    // Naming a current id and epoch still gets a new id at epoch 0 (Kafka's
    // coordinator for a null transactional id).
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            producer_id: last,
            producer_epoch: 3,
            ..Default::default()
        },
    );
    assert_eq!((r.error_code, r.producer_epoch), (ErrorCode::NONE, 0));
    assert!(r.producer_id > last);
    // An id without an epoch is invalid; transactions are not served.
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            producer_id: last,
            producer_epoch: -1,
            ..Default::default()
        },
    );
    assert_eq!(r.error_code, ErrorCode::INVALID_REQUEST);
    let r: InitProducerIdResponse = a.call(
        4,
        &InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        r.error_code,
        ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    );
    assert_eq!((r.producer_id, r.producer_epoch), (-1, -1));
    cluster.push_request_errors(
        ApiKey::INIT_PRODUCER_ID,
        &[ErrorCode::COORDINATOR_NOT_AVAILABLE],
    );
    assert_eq!(
        init_producer_id(&mut a, 4).error_code,
        ErrorCode::COORDINATOR_NOT_AVAILABLE
    );
    assert_eq!(cluster.request_count(ApiKey::INIT_PRODUCER_ID), 10);
    assert_eq!(cluster.broker_request_count(2, ApiKey::INIT_PRODUCER_ID), 3);
}

// ---------------------------------------------------------------- hostile input, shutdown

#[test]
fn hostile_bytes_close_only_their_connection() {
    let cluster = cluster(1);
    cluster.create_topic("t", 1).unwrap();
    let addr = cluster.broker_address(1).unwrap();
    let mut good = Client::connect(addr);
    assert_eq!(init_producer_id(&mut good, 2).error_code, ErrorCode::NONE);

    let hostile: Vec<Vec<u8>> = vec![
        // Negative size; zero size; a size over the request limit.
        vec![0xff, 0xff, 0xff, 0xff],
        vec![0, 0, 0, 0],
        vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3],
        // A header cut short.
        vec![0, 0, 0, 3, 0, 3, 0],
        // An unknown API key; an unsupported Produce version (2).
        [
            &[0, 0, 0, 10][..],
            &[0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0xff, 0xff],
        ]
        .concat(),
        [&[0, 0, 0, 10][..], &[0, 0, 0, 2, 0, 0, 0, 1, 0xff, 0xff]].concat(),
        // Metadata v1 claiming two billion topics.
        [
            &[0, 0, 0, 14][..],
            &[0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff],
        ]
        .concat(),
        // A valid InitProducerId v0 with a trailing byte.
        [
            &[0, 0, 0, 17][..],
            &[
                0, 22, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0xea, 0x60, 9,
            ],
        ]
        .concat(),
    ];
    for (i, bytes) in hostile.iter().enumerate() {
        let mut bad = Client::connect(addr);
        bad.socket.write_all(bytes).unwrap();
        assert!(bad.is_closed(), "hostile input {i} closes its connection");
        // The other connection is still served.
        let r = init_producer_id(&mut good, 2);
        assert_eq!(r.error_code, ErrorCode::NONE, "after hostile input {i}");
    }
    // Garbage records are a partition error, not a dead connection.
    let garbage = vec![0xab; 80];
    let answer = produce(&mut good, 9, "t", 0, &garbage);
    assert_ne!(answer.error_code, ErrorCode::NONE);
    assert_eq!(
        produce(&mut good, 9, "t", 0, &batch_of(1)).error_code,
        ErrorCode::NONE
    );
    // A peer that vanishes mid-frame does not disturb anyone either.
    let mut cut = Client::connect(addr);
    cut.socket.write_all(&[0, 0, 1, 0, 0, 3]).unwrap();
    drop(cut);
    assert_eq!(init_producer_id(&mut good, 2).error_code, ErrorCode::NONE);
}

#[test]
fn shutdown_closes_ports_and_joins_threads() {
    let mut cluster = cluster(3);
    let addrs: Vec<SocketAddr> = cluster
        .broker_ids()
        .iter()
        .map(|id| cluster.broker_address(*id).unwrap())
        .collect();
    let mut clients: Vec<Client> = addrs.iter().map(|a| Client::connect(*a)).collect();
    for c in &mut clients {
        assert_eq!(init_producer_id(c, 3).error_code, ErrorCode::NONE);
    }
    // Three acceptors and three connection threads at least.
    assert!(
        cluster.running_threads() >= 6,
        "{}",
        cluster.running_threads()
    );

    cluster.shutdown();
    assert_eq!(cluster.running_threads(), 0);
    for c in &mut clients {
        assert!(c.is_closed(), "open connections are closed");
    }
    for addr in &addrs {
        let refused = TcpStream::connect_timeout(addr, Duration::from_secs(5));
        assert!(refused.is_err(), "{addr} still accepts connections");
    }
    cluster.shutdown(); // idempotent
    drop(cluster);
}

#[test]
fn the_builder_refuses_empty_clusters() {
    assert!(MockCluster::builder().brokers(0).start().is_err());
    assert!(MockCluster::builder()
        .default_partitions(0)
        .start()
        .is_err());
    let cluster = MockCluster::builder().brokers(2).start().unwrap();
    assert_eq!(cluster.broker_ids(), [1, 2]);
    let servers = cluster.bootstrap_servers();
    assert_eq!(servers.split(',').count(), 2);
    assert!(servers.split(',').all(|s| s.starts_with("127.0.0.1:")));
    assert!(cluster.create_topic("bad/name", 1).is_err());
    assert_eq!(
        cluster
            .create_topic("t", 1)
            .and_then(|()| cluster.create_topic("t", 1))
            .unwrap_err()
            .code(),
        Some(ErrorCode::TOPIC_ALREADY_EXISTS)
    );
}

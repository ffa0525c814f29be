//! The producer end to end against the embedded `MockCluster` over real TCP.

use std::time::Duration;

use kafka_producer::mock::MockCluster;
use kafka_producer::producer::serialization::{BytesSerializer, StringSerializer};
use kafka_producer::{KafkaProducer, ProducerConfig, ProducerRecord};

fn config(cluster: &MockCluster) -> kafka_producer::producer::ProducerConfigBuilder {
    ProducerConfig::builder(&cluster.bootstrap_servers()).max_block_ms(10_000)
}

#[test]
fn send_get_returns_offsets_in_order() {
    let cluster = MockCluster::builder().brokers(1).start().unwrap();
    cluster.create_topic("t", 1).unwrap();
    let producer: KafkaProducer<String, String> = KafkaProducer::new(
        config(&cluster).build().unwrap(),
        StringSerializer,
        StringSerializer,
    )
    .unwrap();
    for i in 0..3 {
        let md = producer
            .send(ProducerRecord::new("t", format!("v{i}")))
            .unwrap()
            .get()
            .unwrap();
        assert_eq!(md.offset(), i);
    }
    producer.close().unwrap();
    let records = cluster.records("t", 0);
    assert_eq!(records.len(), 3);
    let _ = BytesSerializer;
    let _ = Duration::ZERO;
}

//! A sender on a [`MockClient`] and a mock clock, for the deterministic
//! sender tests (`tests_*.rs`): appending records, reading what went on the
//! wire (producer id, epoch, base sequence and values of every batch), and
//! answering produce and `InitProducerId` requests.
//!
//! Topic `t`: partition `i` is led by broker `1 + i % 3` (brokers 1-3).
//! `linger.ms` is 0, so whatever is appended goes with the next
//! `run_once`; retry backoff 100 ms doubling to 1 s, without jitter.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::{Sender, SenderConfig, SenderControl};
use crate::clients::metadata::testutil::{params, response, topic};
use crate::clients::network_client::mock_client::{MockClient, MockHandle, SentRequest};
use crate::common::{Cluster, TopicPartition};
use crate::error::Error;
use crate::producer::future::{RecordCallback, SendFuture};
use crate::producer::internals::accumulator::{AccumulatorConfig, RecordAccumulator};
use crate::producer::internals::buffer_pool::BufferPool;
use crate::producer::internals::producer_metadata::{ProducerMetadata, ProducerTopics};
use crate::producer::internals::transaction_manager::{ProducerIdAndEpoch, TransactionManager};
use crate::producer::record::RecordMetadata;
use crate::protocol::api_key::ApiKey;
use crate::protocol::codec::Reader;
use crate::protocol::error_code::ErrorCode;
use crate::protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use crate::protocol::messages::produce::{
    PartitionProduceResponse, ProduceRequest, ProduceResponse, TopicProduceResponse,
};
use crate::record::{Compression, RecordBatch};
use crate::util::clock::{Clock, MockClock};

pub(super) const MS: Duration = Duration::from_millis(1);
pub(super) const BUFFER_MEMORY: usize = 1 << 20;

/// How to build the fixture.
#[derive(Debug, Clone)]
pub(super) struct Options {
    pub(super) idempotent: bool,
    pub(super) max_in_flight: usize,
    /// The scripted client's own limit per node (default: `max_in_flight`).
    pub(super) client_max_in_flight: Option<usize>,
    pub(super) retries: u32,
    pub(super) delivery_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) batch_size: usize,
    pub(super) partitions: i32,
    pub(super) acks: i16,
    pub(super) compression: Compression,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            idempotent: true,
            max_in_flight: 5,
            client_max_in_flight: None,
            retries: u32::MAX,
            delivery_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            batch_size: 16_384,
            partitions: 3,
            acks: -1,
            compression: Compression::none(),
        }
    }
}

/// What each record's callback got, in callback order: (value, result).
pub(super) type Outcomes = Arc<Mutex<Vec<(Vec<u8>, Result<RecordMetadata, Error>)>>>;

pub(super) struct Fx {
    pub(super) sender: Sender<MockClient<ProducerTopics>>,
    pub(super) client: MockHandle,
    pub(super) accumulator: Arc<RecordAccumulator>,
    pub(super) metadata: Arc<ProducerMetadata>,
    pub(super) tm: Option<Arc<TransactionManager>>,
    pub(super) clock: Arc<MockClock>,
    #[allow(dead_code)] // some tests close the sender
    pub(super) control: Arc<SenderControl>,
    pub(super) outcomes: Outcomes,
}

/// One batch as it went on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WireBatch {
    pub(super) tp: TopicPartition,
    pub(super) producer_id: i64,
    pub(super) epoch: i16,
    pub(super) base_sequence: i32,
    pub(super) values: Vec<Vec<u8>>,
}

impl WireBatch {
    /// (base sequence, record count): what most assertions need.
    pub(super) fn seq(&self) -> (i32, usize) {
        (self.base_sequence, self.values.len())
    }
}

pub(super) fn tp(partition: i32) -> TopicPartition {
    TopicPartition::new("t", partition)
}

/// The partition index `ok` and `err` leave for `answer` to fill in with
/// the answered batch's partition.
pub(super) const SAME_PARTITION: i32 = -1;

/// A successful partition answer.
pub(super) fn ok(base_offset: i64) -> PartitionProduceResponse {
    PartitionProduceResponse {
        index: SAME_PARTITION,
        base_offset,
        ..PartitionProduceResponse::default()
    }
}

/// A failed partition answer (offsets -1, log start offset 0).
pub(super) fn err(code: ErrorCode) -> PartitionProduceResponse {
    PartitionProduceResponse {
        index: SAME_PARTITION,
        error_code: code,
        base_offset: -1,
        log_start_offset: 0,
        ..PartitionProduceResponse::default()
    }
}

impl Fx {
    pub(super) fn new(o: Options) -> Fx {
        let clock = Arc::new(MockClock::default());
        let metadata = Arc::new(ProducerMetadata::new(
            params(),
            Duration::from_secs(300),
            clock.clone(),
        ));
        metadata.bootstrap(&[("b1".to_owned(), 9092)]);
        metadata.add("t", clock.now());
        let request = metadata.new_metadata_request(clock.now());
        metadata.update(
            request.request_version,
            &response(vec![topic("t", o.partitions, 0)]),
            request.is_partial_update,
            clock.now(),
        );
        let (client, handle) = MockClient::new(
            Arc::clone(&metadata),
            o.client_max_in_flight.unwrap_or(o.max_in_flight),
        );
        let tm = o
            .idempotent
            .then(|| Arc::new(TransactionManager::new_idempotent()));
        let mut acc_config = AccumulatorConfig::new(o.batch_size, o.compression);
        acc_config.linger = Duration::ZERO;
        acc_config.retry_backoff_jitter = 0.0;
        acc_config.delivery_timeout = o.delivery_timeout;
        let pool = Arc::new(BufferPool::new(BUFFER_MEMORY, o.batch_size, clock.clone()));
        let accumulator =
            Arc::new(RecordAccumulator::new(acc_config, pool, tm.clone(), clock.clone()).unwrap());
        let (sender, control) = Sender::new(
            client,
            Arc::clone(&accumulator),
            tm.clone(),
            SenderConfig {
                guarantee_message_order: o.max_in_flight == 1,
                max_request_size: 1 << 20,
                acks: o.acks,
                retries: o.retries,
                request_timeout: o.request_timeout,
                retry_backoff: 100 * MS,
                retry_backoff_max: 1000 * MS,
                delivery_timeout: o.delivery_timeout,
                retry_backoff_jitter: 0.0,
            },
            clock.clone(),
        );
        Fx {
            sender,
            client: handle,
            accumulator,
            metadata,
            tm,
            clock,
            control,
            outcomes: Arc::default(),
        }
    }

    /// An idempotent fixture that already has producer id `pid`, epoch 0.
    pub(super) fn idempotent(o: Options, pid: i64) -> Fx {
        let mut fx = Fx::new(o);
        fx.grant_producer_id(pid, 0);
        fx
    }

    pub(super) fn tm(&self) -> &TransactionManager {
        self.tm.as_deref().expect("an idempotent fixture")
    }

    /// Appends `value` to partition `p` with a callback recording its
    /// outcome.
    pub(super) fn append(&self, p: i32, value: &[u8]) -> SendFuture {
        let outcomes = Arc::clone(&self.outcomes);
        let v = value.to_vec();
        let mut callback: Option<RecordCallback> =
            Some(RecordCallback::new(move |r| outcomes.lock().push((v, r))));
        self.accumulator
            .append(
                "t",
                p,
                0,
                None,
                Some(value),
                &[],
                &mut callback,
                Duration::ZERO,
                false,
                self.clock.now(),
                &Cluster::default(),
            )
            .unwrap()
            .future
            .unwrap()
    }

    /// Appends `n` records `"<prefix><i>"` to partition `p`.
    pub(super) fn append_n(&self, p: i32, prefix: &str, n: usize) -> Vec<SendFuture> {
        (0..n)
            .map(|i| self.append(p, format!("{prefix}{i}").as_bytes()))
            .collect()
    }

    pub(super) fn run(&mut self) {
        self.sender.run_once();
    }

    /// Sends an `InitProducerId` and answers it with `pid` / `epoch`.
    pub(super) fn grant_producer_id(&mut self, pid: i64, epoch: i16) {
        self.run();
        let req = self
            .client
            .in_flight_of(ApiKey::INIT_PRODUCER_ID)
            .pop()
            .expect("an InitProducerId request");
        self.answer_init_producer_id(&req, ErrorCode::NONE, pid, epoch);
        self.run();
        assert_eq!(
            self.tm().producer_id_and_epoch(),
            ProducerIdAndEpoch::new(pid, epoch)
        );
    }

    pub(super) fn answer_init_producer_id(
        &self,
        req: &SentRequest,
        code: ErrorCode,
        pid: i64,
        epoch: i16,
    ) {
        let body = InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: code,
            producer_id: pid,
            producer_epoch: epoch,
            ..InitProducerIdResponse::default()
        };
        let mut out = Vec::new();
        body.encode(&mut out, req.version).unwrap();
        assert!(self
            .client
            .respond(req.correlation_id, out, self.clock.now()));
    }

    /// The produce requests in flight, oldest first.
    pub(super) fn produce_requests(&self) -> Vec<SentRequest> {
        self.client.in_flight_of(ApiKey::PRODUCE)
    }

    /// The single produce request in flight.
    pub(super) fn only_produce_request(&self) -> SentRequest {
        let mut r = self.produce_requests();
        assert_eq!(r.len(), 1, "one produce request in flight: {r:?}");
        r.remove(0)
    }

    /// Answers a produce request, each partition by `answer` (its wire
    /// batch given).
    pub(super) fn answer(
        &self,
        req: &SentRequest,
        mut answer: impl FnMut(&WireBatch) -> PartitionProduceResponse,
    ) {
        self.answer_with(req, 0, |b| vec![answer(b)]);
    }

    /// Answers a produce request with any partition answers (several, none,
    /// or for other partitions) and a throttle time.
    pub(super) fn answer_with(
        &self,
        req: &SentRequest,
        throttle_time_ms: i32,
        mut answer: impl FnMut(&WireBatch) -> Vec<PartitionProduceResponse>,
    ) {
        let mut partitions = Vec::new();
        for b in wire_batches(req) {
            for mut p in answer(&b) {
                if p.index == SAME_PARTITION {
                    p.index = b.tp.partition();
                }
                partitions.push(p);
            }
        }
        let body = ProduceResponse {
            responses: vec![TopicProduceResponse {
                name: "t".to_owned(),
                partition_responses: partitions,
                ..TopicProduceResponse::default()
            }],
            throttle_time_ms,
            ..ProduceResponse::default()
        };
        let mut out = Vec::new();
        body.encode(&mut out, req.version).unwrap();
        assert!(self
            .client
            .respond(req.correlation_id, out, self.clock.now()));
    }

    /// The values whose callbacks reported success, with their offsets, in
    /// callback order.
    pub(super) fn acked(&self) -> Vec<(String, i64)> {
        self.outcomes
            .lock()
            .iter()
            .filter_map(|(v, r)| {
                r.as_ref()
                    .ok()
                    .map(|m| (String::from_utf8_lossy(v).into_owned(), m.offset()))
            })
            .collect()
    }

    /// The values whose callbacks reported an error, with the error.
    pub(super) fn failed(&self) -> Vec<(String, Error)> {
        self.outcomes
            .lock()
            .iter()
            .filter_map(|(v, r)| {
                r.as_ref()
                    .err()
                    .map(|e| (String::from_utf8_lossy(v).into_owned(), e.clone()))
            })
            .collect()
    }
}

/// The batches of a produce request, decoded.
pub(super) fn wire_batches(req: &SentRequest) -> Vec<WireBatch> {
    assert_eq!(req.api_key, ApiKey::PRODUCE);
    let mut r = Reader::new(&req.body);
    let request = ProduceRequest::decode(&mut r, req.version).unwrap();
    // Every batch went into the request as a shared segment, uncopied.
    let partitions: usize = request
        .topic_data
        .iter()
        .map(|t| t.partition_data.len())
        .sum();
    assert_eq!(
        req.shared_segments, partitions,
        "batches sent without a copy"
    );
    let mut out = Vec::new();
    for t in &request.topic_data {
        for p in &t.partition_data {
            let bytes = p.records.unwrap();
            let batch = RecordBatch::parse(bytes).unwrap();
            batch.validate().unwrap();
            let values = batch
                .owned_records(1 << 20)
                .unwrap()
                .into_iter()
                .map(|r| r.value.unwrap_or_default())
                .collect();
            out.push(WireBatch {
                tp: TopicPartition::new(t.name.as_ref(), p.index),
                producer_id: batch.producer_id(),
                epoch: batch.producer_epoch(),
                base_sequence: batch.base_sequence(),
                values,
            });
        }
    }
    out
}

/// The `InitProducerId` request as sent.
pub(super) fn init_producer_id_request(req: &SentRequest) -> InitProducerIdRequest {
    let mut r = Reader::new(&req.body);
    InitProducerIdRequest::decode(&mut r, req.version).unwrap()
}

/// Values as strings.
pub(super) fn strings(values: &[Vec<u8>]) -> Vec<String> {
    values
        .iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

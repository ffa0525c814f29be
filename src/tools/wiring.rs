//! The producer and embedded cluster behind the two binaries.
//!
//! The embedded cluster is [`MockCluster`](crate::mock::MockCluster) (with
//! the `mock` feature; without it the tools need `--bootstrap-server`).
//!
use super::backend::{Backend, EmbeddedCluster, SendCallback, ToolProducer};
use super::line_reader::ByteRecord;
use crate::producer::serialization::BytesSerializer;
use crate::producer::KafkaProducer;

impl ToolProducer for KafkaProducer<Vec<u8>, Vec<u8>> {
    fn send(&self, record: ByteRecord, callback: SendCallback) {
        // The callback runs exactly once, also when the send fails at once,
        // so the returned result adds nothing.
        let _ = self.send_with_record_callback(record, callback.into_record_callback());
    }

    fn flush(&self) -> Result<(), Error> {
        KafkaProducer::flush(self)
    }

    fn close(&self) -> Result<(), Error> {
        KafkaProducer::close(self)
    }
}

#[cfg(feature = "mock")]
impl EmbeddedCluster for crate::mock::MockCluster {
    fn bootstrap_servers(&self) -> String {
        crate::mock::MockCluster::bootstrap_servers(self)
    }
}
use crate::error::Error;
use crate::producer::ProducerConfig;

/// The backend of the binaries: the crate's `KafkaProducer` with byte
/// serializers, and `MockCluster` as the embedded cluster.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultBackend;

impl Backend for DefaultBackend {
    #[cfg(feature = "mock")]
    fn start_cluster(&self, brokers: u32) -> Result<Box<dyn EmbeddedCluster>, String> {
        let cluster = crate::mock::MockCluster::builder()
            .brokers(usize::try_from(brokers).unwrap_or(1))
            .start()
            .map_err(|e| e.to_string())?;
        Ok(Box::new(cluster))
    }

    #[cfg(feature = "mock")]
    fn start_cluster_with(
        &self,
        brokers: u32,
        options: super::perf::EmbeddedOptions,
    ) -> Result<Box<dyn EmbeddedCluster>, String> {
        let cluster = crate::mock::MockCluster::builder()
            .brokers(usize::try_from(brokers).unwrap_or(1))
            .default_partitions(options.partitions.unwrap_or(1))
            .start()
            .map_err(|e| e.to_string())?;
        cluster.set_sink_mode(options.sink);
        Ok(Box::new(cluster))
    }

    #[cfg(not(feature = "mock"))]
    fn start_cluster(&self, brokers: u32) -> Result<Box<dyn EmbeddedCluster>, String> {
        Err(format!(
            "this build has no embedded cluster ({brokers} brokers asked): it was built \
             without the `mock` feature; give --bootstrap-server"
        ))
    }

    fn create_producer(&self, config: ProducerConfig) -> Result<Box<dyn ToolProducer>, Error> {
        Ok(Box::new(KafkaProducer::new(
            config,
            BytesSerializer,
            BytesSerializer,
        )?))
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_cluster_is_a_running_mock_cluster() {
        let cluster = DefaultBackend.start_cluster(3).expect("cluster starts");
        let servers = cluster.bootstrap_servers();
        let addresses: Vec<&str> = servers.split(',').collect();
        assert_eq!(addresses.len(), 3, "{servers}");
        for address in addresses {
            std::net::TcpStream::connect(address).expect("a broker listens");
        }
    }
}

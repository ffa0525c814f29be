//! Compressed batches through the sender: every codec goes on the wire and
//! reads back, and a zstd batch is never sent below Produce v7 (Java's
//! `ProduceRequest.validateRecords`): it fails with
//! `UNSUPPORTED_COMPRESSION_TYPE` and the message Java's exception has.

use super::testutil::*;
use crate::error::Error;
use crate::protocol::api_key::ApiKey;
use crate::protocol::error_code::ErrorCode;
use crate::record::{Compression, CompressionType};

fn fixture(compression: Compression) -> Fx {
    Fx::new(Options {
        idempotent: false,
        compression,
        ..Options::default()
    })
}

#[test]
fn every_codec_is_sent_and_reads_back() {
    for kind in CompressionType::ALL {
        let mut fx = fixture(Compression::of(kind));
        fx.append_n(0, "value-", 20);
        fx.run();
        let req = fx.only_produce_request();
        let batches = wire_batches(&req);
        assert_eq!(batches.len(), 1, "{kind}");
        let values = strings(&batches[0].values);
        let want: Vec<String> = (0..20).map(|i| format!("value-{i}")).collect();
        assert_eq!(values, want, "{kind}");
        fx.answer(&req, |_| ok(0));
        fx.run();
        assert_eq!(fx.acked().len(), 20, "{kind}");
    }
}

#[test]
fn zstd_below_produce_v7_fails_without_being_sent() {
    let mut fx = fixture(Compression::of(CompressionType::Zstd));
    fx.client.set_max_version(ApiKey::PRODUCE, 6);
    fx.append_n(0, "v", 3);
    fx.run();
    assert!(fx.produce_requests().is_empty(), "nothing on the wire");
    let failed = fx.failed();
    assert_eq!(failed.len(), 3);
    for (_, e) in &failed {
        assert_eq!(
            e.code(),
            Some(ErrorCode::UNSUPPORTED_COMPRESSION_TYPE),
            "{e}"
        );
        assert!(!e.is_retriable());
        let Error::Broker {
            message: Some(m), ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            m,
            "Produce requests with version 6 are not allowed to use ZStandard compression"
        );
    }
}

#[test]
fn zstd_at_produce_v7_and_other_codecs_below_it_are_sent() {
    let mut fx = fixture(Compression::of(CompressionType::Zstd));
    fx.client.set_max_version(ApiKey::PRODUCE, 7);
    fx.append_n(0, "v", 3);
    fx.run();
    let req = fx.only_produce_request();
    assert_eq!(req.version, 7);

    let mut fx = fixture(Compression::of(CompressionType::Lz4));
    fx.client.set_max_version(ApiKey::PRODUCE, 3);
    fx.append_n(0, "v", 3);
    fx.run();
    assert_eq!(fx.only_produce_request().version, 3);
}

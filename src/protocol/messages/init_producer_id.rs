//! InitProducerId (key 22), versions 0-6, flexible from 2: obtains (or bumps
//! the epoch of) the producer id used by idempotent and transactional
//! producers.
//!
//! `producer_id` / `producer_epoch` exist from v3 and are not ignorable:
//! asking to resume an existing id below v3 is an encode error, as in Java.
//! v6 adds the two-phase-commit flags (KIP-939; the schema marks v6 as
//! unstable, so brokers advertise it only when configured to).

use super::{
    absent_must_be_default, check_decode_version, check_encode_version, Request, Response,
};
use crate::protocol::api_key::{ApiKey, VersionRange};
use crate::protocol::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::protocol::error_code::ErrorCode;

type DResult<T> = Result<T, DecodeError>;

const VERSIONS: VersionRange = VersionRange::new(0, 6);
const FLEXIBLE_FROM: i16 = 2;

/// InitProducerId request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id, or `None` for an idempotent-only producer.
    pub transactional_id: Option<String>,
    /// How long the coordinator waits before aborting an idle transaction.
    pub transaction_timeout_ms: i32,
    /// The current producer id, to bump its epoch (v3+; default -1).
    pub producer_id: i64,
    /// The current producer epoch (v3+; default -1).
    pub producer_epoch: i16,
    /// Enable two-phase commit (v6+; default false).
    pub enable_2pc: bool,
    /// Keep the ongoing prepared transaction instead of aborting it (v6+;
    /// default false).
    pub keep_prepared_txn: bool,
}

impl Default for InitProducerIdRequest {
    fn default() -> Self {
        InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: 0,
            producer_id: -1,
            producer_epoch: -1,
            enable_2pc: false,
            keep_prepared_txn: false,
        }
    }
}

impl InitProducerIdRequest {
    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("InitProducerIdRequest", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        out.put_string_flex(
            self.transactional_id.as_deref(),
            flexible,
            "InitProducerIdRequest.transactional_id",
        )?;
        out.put_i32(self.transaction_timeout_ms);
        let v3 = version >= 3;
        absent_must_be_default(
            v3,
            &self.producer_id,
            &-1,
            "InitProducerIdRequest.producer_id",
            version,
        )?;
        absent_must_be_default(
            v3,
            &self.producer_epoch,
            &-1,
            "InitProducerIdRequest.producer_epoch",
            version,
        )?;
        if v3 {
            out.put_i64(self.producer_id);
            out.put_i16(self.producer_epoch);
        }
        let v6 = version >= 6;
        absent_must_be_default(
            v6,
            &self.enable_2pc,
            &false,
            "InitProducerIdRequest.enable_2pc",
            version,
        )?;
        absent_must_be_default(
            v6,
            &self.keep_prepared_txn,
            &false,
            "InitProducerIdRequest.keep_prepared_txn",
            version,
        )?;
        if v6 {
            out.put_bool(self.enable_2pc);
            out.put_bool(self.keep_prepared_txn);
        }
        if flexible {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }

    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("InitProducerIdRequest.version", VERSIONS, version)?;
        let flexible = version >= FLEXIBLE_FROM;
        let mut out = InitProducerIdRequest {
            transactional_id: r
                .nullable_string_flex(flexible, "InitProducerIdRequest.transactional_id")?,
            transaction_timeout_ms: r.i32("InitProducerIdRequest.transaction_timeout_ms")?,
            ..Default::default()
        };
        if version >= 3 {
            out.producer_id = r.i64("InitProducerIdRequest.producer_id")?;
            out.producer_epoch = r.i16("InitProducerIdRequest.producer_epoch")?;
        }
        if version >= 6 {
            out.enable_2pc = r.bool("InitProducerIdRequest.enable_2pc")?;
            out.keep_prepared_txn = r.bool("InitProducerIdRequest.keep_prepared_txn")?;
        }
        if flexible {
            r.skip_tagged_fields("InitProducerIdRequest.tagged_fields")?;
        }
        Ok(out)
    }
}

impl Request for InitProducerIdRequest {
    const API_KEY: ApiKey = ApiKey::INIT_PRODUCER_ID;
    const VERSIONS: VersionRange = VERSIONS;
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        InitProducerIdRequest::encode(self, out, version)
    }
}

/// InitProducerId response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// Throttle time in ms (ignorable).
    pub throttle_time_ms: i32,
    /// The error code, or `NONE`.
    pub error_code: ErrorCode,
    /// The producer id (default -1).
    pub producer_id: i64,
    /// The producer epoch (default 0).
    pub producer_epoch: i16,
    /// The producer id of the ongoing prepared transaction (v6+; default -1).
    pub ongoing_txn_producer_id: i64,
    /// The epoch of the ongoing prepared transaction (v6+; default -1).
    pub ongoing_txn_producer_epoch: i16,
}

impl Default for InitProducerIdResponse {
    fn default() -> Self {
        InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            producer_id: -1,
            producer_epoch: 0,
            ongoing_txn_producer_id: -1,
            ongoing_txn_producer_epoch: -1,
        }
    }
}

impl InitProducerIdResponse {
    /// Reads the body at `version`.
    pub fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        check_decode_version("InitProducerIdResponse.version", VERSIONS, version)?;
        let mut out = InitProducerIdResponse {
            throttle_time_ms: r.i32("InitProducerIdResponse.throttle_time_ms")?,
            error_code: ErrorCode(r.i16("InitProducerIdResponse.error_code")?),
            producer_id: r.i64("InitProducerIdResponse.producer_id")?,
            producer_epoch: r.i16("InitProducerIdResponse.producer_epoch")?,
            ..Default::default()
        };
        if version >= 6 {
            out.ongoing_txn_producer_id =
                r.i64("InitProducerIdResponse.ongoing_txn_producer_id")?;
            out.ongoing_txn_producer_epoch =
                r.i16("InitProducerIdResponse.ongoing_txn_producer_epoch")?;
        }
        if version >= FLEXIBLE_FROM {
            r.skip_tagged_fields("InitProducerIdResponse.tagged_fields")?;
        }
        Ok(out)
    }

    /// Appends the body at `version`.
    pub fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        check_encode_version("InitProducerIdResponse", VERSIONS, version)?;
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code.0);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        let v6 = version >= 6;
        absent_must_be_default(
            v6,
            &self.ongoing_txn_producer_id,
            &-1,
            "InitProducerIdResponse.ongoing_txn_producer_id",
            version,
        )?;
        absent_must_be_default(
            v6,
            &self.ongoing_txn_producer_epoch,
            &-1,
            "InitProducerIdResponse.ongoing_txn_producer_epoch",
            version,
        )?;
        if v6 {
            out.put_i64(self.ongoing_txn_producer_id);
            out.put_i16(self.ongoing_txn_producer_epoch);
        }
        if version >= FLEXIBLE_FROM {
            out.put_empty_tagged_fields();
        }
        Ok(())
    }
}

impl Response for InitProducerIdResponse {
    const API_KEY: ApiKey = ApiKey::INIT_PRODUCER_ID;
    const VERSIONS: VersionRange = VERSIONS;
    fn decode(r: &mut Reader<'_>, version: i16) -> DResult<Self> {
        InitProducerIdResponse::decode(r, version)
    }
    fn encode(&self, out: &mut Vec<u8>, version: i16) -> Result<(), EncodeError> {
        InitProducerIdResponse::encode(self, out, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_producer_id_below_v3_is_refused() {
        let req = InitProducerIdRequest {
            transactional_id: Some("tx-1".into()),
            transaction_timeout_ms: 60_000,
            producer_id: 12_345,
            producer_epoch: 3,
            ..Default::default()
        };
        let e = req.encode(&mut Vec::new(), 2).unwrap_err();
        assert_eq!(e.field, "InitProducerIdRequest.producer_id");
        assert!(req.encode(&mut Vec::new(), 3).is_ok());
        let two_pc = InitProducerIdRequest {
            enable_2pc: true,
            ..Default::default()
        };
        let e = two_pc.encode(&mut Vec::new(), 5).unwrap_err();
        assert_eq!(e.field, "InitProducerIdRequest.enable_2pc");
    }
}

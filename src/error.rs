//! The public error type.
//!
//! One type, [`Error`], for everything the producer can report. It is `Clone`
//! because one failed batch fails many futures, and `Send + Sync` so futures
//! can be completed from the network thread. Callers rarely need to match on
//! variants: [`Error::is_retriable`] and [`Error::code`] answer the usual
//! questions.

use std::fmt;
use std::sync::Arc;

use crate::protocol::codec::{DecodeError, EncodeError};
use crate::protocol::error_code::ErrorCode;

/// A `Result` whose error is the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An invalid configuration value: names the key, the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The Java configuration key, e.g. `linger.ms`.
    pub key: String,
    /// The offending value as given (or as defaulted).
    pub value: String,
    /// The rule the value broke.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid value {:?} for configuration {}: {}",
            self.value, self.key, self.reason
        )
    }
}

impl std::error::Error for ConfigError {}

/// Everything the producer can report.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// A configuration key has an invalid value (Java `ConfigException`).
    Config(ConfigError),
    /// A record is larger than `max.request.size` or `buffer.memory`
    /// (Java `RecordTooLargeException`); the message is Java's.
    RecordTooLarge(String),
    /// No buffer memory became free within `max.block.ms`
    /// (Java `BufferExhaustedException`); the message is Java's.
    BufferExhausted(String),
    /// A deadline passed: metadata wait, delivery timeout, request timeout
    /// (Java `TimeoutException`).
    Timeout(String),
    /// The producer (or one of its parts) was closed while the operation was
    /// in progress, or before it started.
    Closed(String),
    /// The broker answered with an error code, and possibly a message.
    Broker {
        /// The broker's error code.
        code: ErrorCode,
        /// The broker's message, when it sent one (KIP-467).
        message: Option<String>,
    },
    /// A request could not be encoded at the chosen version.
    Encode(EncodeError),
    /// Bytes received from the network could not be decoded.
    Decode(DecodeError),
    /// A feature or version that is not supported (yet).
    Unsupported(String),
    /// A serializer failed.
    Serialization(String),
    /// A socket or other I/O operation failed.
    Io(Arc<std::io::Error>),
    /// Any other failure, with a message naming what failed.
    Other(String),
}

impl Error {
    /// Whether retrying the same operation may succeed (Java
    /// `RetriableException`): retriable broker codes, timeouts and I/O errors.
    #[must_use]
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Broker { code, .. } => code.is_retriable(),
            Error::Timeout(_) | Error::Io(_) => true,
            _ => false,
        }
    }

    /// The broker's error code, when the error came from a broker.
    #[must_use]
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A broker error with no message.
    #[must_use]
    pub fn broker(code: ErrorCode) -> Error {
        Error::Broker {
            code,
            message: None,
        }
    }

    /// A configuration error naming the key, the value and the rule.
    #[must_use]
    pub fn config(
        key: impl Into<String>,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Error {
        Error::Config(ConfigError {
            key: key.into(),
            value: value.to_string(),
            reason: reason.into(),
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::RecordTooLarge(m) => write!(f, "record too large: {m}"),
            Error::BufferExhausted(m) => write!(f, "buffer exhausted: {m}"),
            Error::Timeout(m) => write!(f, "timed out: {m}"),
            Error::Closed(m) => write!(f, "closed: {m}"),
            Error::Broker {
                code,
                message: Some(m),
            } => write!(f, "broker error {code}: {m}"),
            Error::Broker {
                code,
                message: None,
            } => {
                write!(f, "broker error {code}: {}", code.message())
            }
            Error::Encode(e) => write!(f, "cannot encode request: {e}"),
            Error::Decode(e) => write!(f, "cannot decode response: {e}"),
            Error::Unsupported(m) => write!(f, "unsupported: {m}"),
            Error::Serialization(m) => write!(f, "serialization failed: {m}"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Encode(e) => Some(e),
            Error::Decode(e) => Some(e),
            Error::Io(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(Arc::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn retriable_follows_the_broker_table() {
        assert!(Error::broker(ErrorCode::NOT_LEADER_OR_FOLLOWER).is_retriable());
        assert!(!Error::broker(ErrorCode::INVALID_RECORD).is_retriable());
        assert_eq!(
            Error::broker(ErrorCode::INVALID_RECORD).code(),
            Some(ErrorCode::INVALID_RECORD)
        );
        assert!(Error::Timeout("x".into()).is_retriable());
        assert!(!Error::Closed("x".into()).is_retriable());
    }

    #[test]
    fn config_error_names_key_value_and_rule() {
        let e = Error::config("linger.ms", -1, "must be at least 0");
        let s = e.to_string();
        assert!(
            s.contains("linger.ms") && s.contains("-1") && s.contains("at least 0"),
            "{s}"
        );
    }
}

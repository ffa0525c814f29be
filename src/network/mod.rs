//! Sockets and framing (the Java `org.apache.kafka.common.network` package).
//!
//! The only module that imports `mio`. Nothing is here yet: it is filled when
//! the network thread is built. It knows size-delimited frames, not API keys.

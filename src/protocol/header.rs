//! Request and response headers (filled by the protocol work).

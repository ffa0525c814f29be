//! API keys and version negotiation (filled by the protocol work).

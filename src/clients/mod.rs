//! Client plumbing shared by any Kafka client (the Java
//! `org.apache.kafka.clients` package). It knows correlation ids and
//! connection states, not batches:
//!
//! * [`cluster_connection_states`]: per-node connection state, reconnect
//!   backoff, connection setup timeouts, the address to try next;
//! * [`host_resolver`]: the injected DNS lookup, `client.dns.lookup` and the
//!   bootstrap address list;
//! * [`in_flight_requests`]: per-node FIFO of unanswered requests and
//!   `max.in.flight.requests.per.connection`;
//! * [`api_versions`]: the versions each node advertised and the one used;
//! * [`metadata`]: the cluster view, refresh rules and `await_update`.
//!
//! The network client (request routing over `crate::network::Selector`,
//! the ApiVersions handshake) comes next.

// The NetworkClient (network_client.rs) is the user of these; drop this once
// it has landed.
#![allow(dead_code)]

pub(crate) mod api_versions;
pub(crate) mod cluster_connection_states;
pub(crate) mod host_resolver;
pub(crate) mod in_flight_requests;
pub(crate) mod metadata;

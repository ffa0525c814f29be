//! Host name resolution (Java `HostResolver`, `DefaultHostResolver`, the
//! resolution helpers of `ClientUtils`, and `client.dns.lookup`).
//!
//! * [`HostResolver`]: the injected lookup, so tests need no DNS;
//!   [`DefaultHostResolver`] asks the system resolver (`getaddrinfo`, through
//!   `std::net::ToSocketAddrs`). It blocks the calling thread, as in Java.
//! * [`resolve`]: a host's addresses, keeping only the family (IPv4 or IPv6)
//!   of the first one, like Java's `filterPreferredAddresses`. The connection
//!   states try these one after another (`use_all_dns_ips`).
//! * [`resolve_bootstrap_servers`]: the bootstrap list as Java's
//!   `parseAndValidateAddresses` builds it for either [`DnsLookup`] mode.

use std::fmt;
use std::io;
use std::net::{IpAddr, ToSocketAddrs};

/// Resolves a host name to its addresses.
pub(crate) trait HostResolver: Send + Sync + fmt::Debug {
    /// Every address `host` resolves to, in the resolver's order. An IP
    /// literal resolves to itself.
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The system resolver.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DefaultHostResolver;

impl HostResolver for DefaultHostResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        // Literals (also bracketed IPv6) need no lookup.
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        let mut out: Vec<IpAddr> = Vec::new();
        // getaddrinfo lists an address once per socket type unless told
        // otherwise; keep the first of each.
        for addr in (host, 0u16).to_socket_addrs()? {
            if !out.contains(&addr.ip()) {
                out.push(addr.ip());
            }
        }
        Ok(out)
    }
}

/// How host names are resolved (`client.dns.lookup`).
///
/// The same two values as the producer's `ClientDnsLookup`, kept here so
/// that `clients` does not depend on the `producer` module above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DnsLookup {
    /// `use_all_dns_ips`: a bootstrap server stays a host name; every
    /// connection attempt resolves it (or moves on to its next address).
    #[default]
    UseAllDnsIps,
    /// `resolve_canonical_bootstrap_servers_only`: each bootstrap host is
    /// expanded into one bootstrap entry per address it resolves to.
    ResolveCanonicalBootstrapServersOnly,
}

/// The addresses of `host` to try in turn: those of the same family as the
/// first one the resolver returned. Fails if there are none.
pub(crate) fn resolve(host: &str, resolver: &dyn HostResolver) -> io::Result<Vec<IpAddr>> {
    let all = resolver.resolve(host)?;
    let preferred = filter_preferred_addresses(&all);
    if preferred.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("host {host} resolved to no address"),
        ));
    }
    log::debug!("resolved host {host} as {preferred:?}");
    Ok(preferred)
}

/// The first address and every later one of the same family (Java
/// `ClientUtils.filterPreferredAddresses`), so a host with both IPv4 and IPv6
/// addresses is tried over the family the resolver put first.
pub(crate) fn filter_preferred_addresses(all: &[IpAddr]) -> Vec<IpAddr> {
    match all.first() {
        None => Vec::new(),
        Some(first) => all
            .iter()
            .filter(|a| a.is_ipv4() == first.is_ipv4())
            .copied()
            .collect(),
    }
}

/// The bootstrap addresses (host, port) for `servers`, as Java's
/// `ClientUtils.parseAndValidateAddresses` computes them; the network client
/// makes bootstrap nodes -1, -2, ... of them in this order.
///
/// * [`DnsLookup::UseAllDnsIps`]: each server whose host resolves is kept
///   as given (its addresses are tried when connecting).
/// * [`DnsLookup::ResolveCanonicalBootstrapServersOnly`]: each server is
///   replaced by one entry per address its host resolves to (all families).
///   Java names each entry by the address's canonical host name, found by a
///   reverse lookup; the standard library has no reverse lookup, so the
///   entry is named by the address itself, which is also what Java uses
///   when the reverse lookup fails. The canonical name matters to Kerberos
///   (SASL/GSSAPI) service names, which this client does not support; for
///   plaintext connections the address is equivalent.
///
/// Servers that do not resolve are skipped with a warning; if none is left,
/// the error names `bootstrap.servers`.
pub(crate) fn resolve_bootstrap_servers(
    servers: &[(String, u16)],
    lookup: DnsLookup,
    resolver: &dyn HostResolver,
) -> crate::Result<Vec<(String, u16)>> {
    let mut out = Vec::new();
    for (host, port) in servers {
        match resolver.resolve(host) {
            Ok(addrs) if !addrs.is_empty() => match lookup {
                DnsLookup::UseAllDnsIps => out.push((host.clone(), *port)),
                DnsLookup::ResolveCanonicalBootstrapServersOnly => {
                    out.extend(addrs.iter().map(|a| (a.to_string(), *port)));
                }
            },
            Ok(_) => log::warn!(
                "couldn't resolve server {host}:{port} from bootstrap.servers: no address"
            ),
            Err(e) => log::warn!(
                "couldn't resolve server {host}:{port} from bootstrap.servers as DNS \
                 resolution failed for {host}: {e}"
            ),
        }
    }
    if out.is_empty() {
        let given: Vec<String> = servers.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        return Err(crate::Error::config(
            "bootstrap.servers",
            given.join(","),
            "no resolvable bootstrap urls given",
        ));
    }
    Ok(out)
}

/// A resolver with a fixed table, for tests: unknown hosts fail, and every
/// lookup is counted.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct StaticResolver {
    pub(crate) table: parking_lot::Mutex<std::collections::HashMap<String, Vec<IpAddr>>>,
    pub(crate) lookups: std::sync::atomic::AtomicUsize,
}

#[cfg(test)]
impl StaticResolver {
    /// A resolver knowing `entries`.
    pub(crate) fn new(entries: &[(&str, &[&str])]) -> Self {
        let r = StaticResolver::default();
        for (host, addrs) in entries {
            r.set(host, addrs);
        }
        r
    }

    /// Sets (or replaces) the addresses of `host`.
    pub(crate) fn set(&self, host: &str, addrs: &[&str]) {
        let ips = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.table.lock().insert(host.to_owned(), ips);
    }
}

#[cfg(test)]
impl HostResolver for StaticResolver {
    fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.lookups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.table
            .lock()
            .get(host)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("unknown host {host}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn preferred_addresses_keep_the_first_family() {
        let all = [ip("::1"), ip("10.0.0.1"), ip("fe80::2"), ip("10.0.0.2")];
        assert_eq!(
            filter_preferred_addresses(&all),
            vec![ip("::1"), ip("fe80::2")]
        );
        let all = [ip("10.0.0.1"), ip("::1"), ip("10.0.0.2")];
        assert_eq!(
            filter_preferred_addresses(&all),
            vec![ip("10.0.0.1"), ip("10.0.0.2")]
        );
        assert!(filter_preferred_addresses(&[]).is_empty());
    }

    #[test]
    fn resolve_filters_and_rejects_empty_answers() {
        let r = StaticResolver::new(&[("k", &["10.0.0.1", "::1", "10.0.0.2"]), ("none", &[])]);
        assert_eq!(
            resolve("k", &r).unwrap(),
            vec![ip("10.0.0.1"), ip("10.0.0.2")]
        );
        let e = resolve("none", &r).unwrap_err();
        assert!(e.to_string().contains("none"), "{e}");
        assert_eq!(
            resolve("zz", &r).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn the_system_resolver_handles_literals_and_localhost() {
        let r = DefaultHostResolver;
        assert_eq!(r.resolve("127.0.0.1").unwrap(), vec![ip("127.0.0.1")]);
        assert_eq!(r.resolve("[::1]").unwrap(), vec![ip("::1")]);
        let local = r.resolve("localhost").unwrap();
        assert!(
            !local.is_empty() && local.iter().all(IpAddr::is_loopback),
            "{local:?}"
        );
        let unique: std::collections::HashSet<_> = local.iter().collect();
        assert_eq!(unique.len(), local.len(), "duplicates in {local:?}");
    }

    #[test]
    fn bootstrap_servers_use_all_dns_ips_keeps_host_names() {
        let r = StaticResolver::new(&[("a", &["10.0.0.1", "10.0.0.2"]), ("b", &["10.0.0.3"])]);
        let servers = vec![
            ("a".to_owned(), 9092),
            ("gone".to_owned(), 9092),
            ("b".to_owned(), 9093),
        ];
        let got = resolve_bootstrap_servers(&servers, DnsLookup::UseAllDnsIps, &r).unwrap();
        assert_eq!(got, vec![("a".to_owned(), 9092), ("b".to_owned(), 9093)]);
    }

    #[test]
    fn bootstrap_servers_canonical_mode_expands_to_every_address() {
        let r = StaticResolver::new(&[("a", &["10.0.0.1", "::2"]), ("b", &["10.0.0.3"])]);
        let servers = vec![("a".to_owned(), 9092), ("b".to_owned(), 9093)];
        let got = resolve_bootstrap_servers(
            &servers,
            DnsLookup::ResolveCanonicalBootstrapServersOnly,
            &r,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("10.0.0.1".to_owned(), 9092),
                ("::2".to_owned(), 9092),
                ("10.0.0.3".to_owned(), 9093)
            ]
        );
    }

    #[test]
    fn no_resolvable_bootstrap_server_is_a_config_error() {
        let r = StaticResolver::default();
        let servers = vec![("x".to_owned(), 1), ("y".to_owned(), 2)];
        let e = resolve_bootstrap_servers(&servers, DnsLookup::UseAllDnsIps, &r).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("bootstrap.servers") && msg.contains("x:1,y:2"),
            "{msg}"
        );
    }
}

//! [`ClientAddr`]: the address of the client a request comes from, as rate
//! limits and login throttling count it.
//!
//! `serve` knows the socket's peer. Behind a reverse proxy or a load balancer
//! the peer is the proxy, and the client's address is in the header the
//! proxy appends to: `X-Forwarded-For`, or RFC 7239's `Forwarded`. That
//! header is believed only from a trusted proxy (`FW_TRUSTED_PROXIES`):
//! anyone else can write any address into it. From a trusted proxy, the
//! client is the rightmost address in it that is not itself a trusted proxy:
//! each proxy appends the address it got the request from, so the entries
//! left of the first untrusted one were written by the client and prove
//! nothing.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::extract::OptionalFromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;

/// The most entries of a forwarding header read, from the right: more
/// proxies than any deployment chains. Past them the peer is the client.
pub(crate) const MAX_FORWARDED_ENTRIES: usize = 16;

/// The most networks `FW_TRUSTED_PROXIES` may list: each request from a
/// trusted proxy is matched against every one.
const MAX_TRUSTED_NETWORKS: usize = 64;

/// The address of the client a request comes from: the socket's peer, or,
/// when the peer is a trusted proxy, the address the proxies forwarded (see
/// [`TrustedProxies`]). `serve` resolves it once per request, before
/// authentication, and puts it in the request's extensions, where handlers
/// and the application's own layers read it.
///
/// ```
/// async fn hello(client: Option<fw::ClientAddr>) -> String {
///     match client {
///         Some(fw::ClientAddr(address)) => format!("hello, {address}"),
///         None => "hello, whoever you are".to_owned(),
///     }
/// }
/// # let _: axum::routing::MethodRouter = axum::routing::get(hello);
/// ```
///
/// It is absent only from requests that did not come through `serve`, such
/// as a test's call of [`App::router`](crate::App::router) without an
/// `axum::extract::ConnectInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _: &S,
    ) -> Result<Option<ClientAddr>, Infallible> {
        Ok(parts.extensions.get::<ClientAddr>().copied())
    }
}

/// Which forwarding header the trusted proxies append the client's address
/// to (`FW_FORWARDED_HEADER`). Only one is read: a proxy passes on a header
/// it does not write as the client sent it, so the other one may be forged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default), which nginx,
    /// HAProxy and the cloud load balancers write.
    #[default]
    XForwardedFor,
    /// RFC 7239's `Forwarded: for=client, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    fn name(self) -> HeaderName {
        match self {
            ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
            ForwardedHeader::Forwarded => HeaderName::from_static("forwarded"),
        }
    }
}

/// The proxies whose forwarding header is believed: `FW_TRUSTED_PROXIES`, a
/// comma-separated list of addresses and CIDR networks (`10.0.0.0/8,
/// 2001:db8::1`), none by default; and `FW_FORWARDED_HEADER`, the header they
/// write, `x-forwarded-for` (default) or `forwarded`.
///
/// ```
/// use std::net::IpAddr;
/// use axum::http::{HeaderMap, HeaderValue};
///
/// let proxies = fw::TrustedProxies::parse("10.0.0.0/8").unwrap();
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.7, 10.0.0.2"));
/// let client = proxies.client("10.0.0.1".parse().unwrap(), &headers);
/// assert_eq!(client, "192.0.2.7".parse::<IpAddr>().unwrap());
/// let direct = proxies.client("198.51.100.1".parse().unwrap(), &headers);
/// assert_eq!(direct, "198.51.100.1".parse::<IpAddr>().unwrap(), "not a proxy: the header is ignored");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// The proxies `list` names, comma-separated addresses and CIDR
    /// networks, which write `X-Forwarded-For`.
    ///
    /// # Errors
    ///
    /// An entry that is neither an address nor a network, naming it; more
    /// than 64 entries.
    pub fn parse(list: &str) -> anyhow::Result<TrustedProxies> {
        let mut networks = Vec::new();
        for entry in list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
        {
            let network = match entry.parse::<IpNet>() {
                Ok(network) => network.trunc(),
                Err(_) => match entry.parse::<IpAddr>() {
                    Ok(address) => IpNet::from(address.to_canonical()),
                    Err(_) => anyhow::bail!(
                        "`{entry}` is neither an IP address nor a CIDR network like `10.0.0.0/8`"
                    ),
                },
            };
            networks.push(network);
        }
        if networks.len() > MAX_TRUSTED_NETWORKS {
            anyhow::bail!("more than {MAX_TRUSTED_NETWORKS} entries; list networks, not hosts");
        }
        Ok(TrustedProxies {
            networks,
            header: ForwardedHeader::default(),
        })
    }

    /// These proxies, writing `header` instead.
    pub fn header(mut self, header: ForwardedHeader) -> TrustedProxies {
        self.header = header;
        self
    }

    /// `FW_TRUSTED_PROXIES` and `FW_FORWARDED_HEADER`, as `var` reads them.
    pub(crate) fn from_env(var: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<TrustedProxies> {
        let proxies = match var("FW_TRUSTED_PROXIES") {
            Some(list) => TrustedProxies::parse(&list)
                .map_err(|error| anyhow::anyhow!("FW_TRUSTED_PROXIES=`{list}`: {error}"))?,
            None => TrustedProxies::default(),
        };
        let header = match var("FW_FORWARDED_HEADER") {
            None => ForwardedHeader::default(),
            Some(name) if name.eq_ignore_ascii_case("x-forwarded-for") => {
                ForwardedHeader::XForwardedFor
            }
            Some(name) if name.eq_ignore_ascii_case("forwarded") => ForwardedHeader::Forwarded,
            Some(name) => anyhow::bail!(
                "FW_FORWARDED_HEADER=`{name}` is neither `x-forwarded-for` nor `forwarded`"
            ),
        };
        Ok(proxies.header(header))
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.networks
            .iter()
            .any(|network| network.contains(&address))
    }

    /// The client of a request that came from `peer` with `headers`: `peer`
    /// itself unless it is a trusted proxy; then the rightmost forwarded
    /// address that is not a trusted proxy (the leftmost, when all are). A
    /// forwarding header that is missing, malformed or longer than 16
    /// entries leaves the peer as the client (logged at debug level).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        match self.forwarded_client(headers) {
            Ok(Some(client)) => client,
            Ok(None) => peer,
            Err(problem) => {
                tracing::debug!(
                    %peer,
                    header = %self.header.name(),
                    "a trusted proxy's forwarding header {problem}; the proxy counts as the client"
                );
                peer
            }
        }
    }

    /// The client the forwarding header names, `None` when there is none.
    fn forwarded_client(&self, headers: &HeaderMap) -> Result<Option<IpAddr>, &'static str> {
        let values: Vec<_> = headers.get_all(self.header.name()).iter().collect();
        let mut leftmost = None;
        let mut read = 0;
        for value in values.into_iter().rev() {
            let text = value.to_str().map_err(|_| "is not visible ASCII")?;
            for entry in text.rsplit(',') {
                read += 1;
                if read > MAX_FORWARDED_ENTRIES {
                    return Err("has more entries than are read");
                }
                let address = match self.header {
                    ForwardedHeader::XForwardedFor => forwarded_for_entry(entry),
                    ForwardedHeader::Forwarded => forwarded_element(entry),
                }
                .ok_or("has an entry that is not an address")?;
                if !self.trusts(address) {
                    return Ok(Some(address));
                }
                leftmost = Some(address);
            }
        }
        Ok(leftmost)
    }
}

/// The address of an `X-Forwarded-For` entry: `192.0.2.1`, `2001:db8::1`,
/// and, as some proxies write them, with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`) or in brackets.
fn forwarded_for_entry(entry: &str) -> Option<IpAddr> {
    node_address(entry.trim_matches([' ', '\t']))
}

/// The `for=` address of one element of a `Forwarded` header
/// (`for=192.0.2.60;proto=https;by=203.0.113.43`). An element without
/// `for=`, with it twice, or naming `unknown` or an obfuscated node
/// (`_hidden`) names no address.
fn forwarded_element(element: &str) -> Option<IpAddr> {
    let mut found = None;
    for pair in element.split(';') {
        let (name, value) = pair.trim_matches([' ', '\t']).split_once('=')?;
        if !name.eq_ignore_ascii_case("for") {
            continue;
        }
        if found.is_some() {
            return None;
        }
        let node = match value.strip_prefix('"') {
            Some(quoted) => quoted.strip_suffix('"')?,
            None => value,
        };
        found = Some(node_address(node)?);
    }
    found
}

/// An address with an optional port: `192.0.2.1`, `192.0.2.1:80`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:80`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address.to_canonical());
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    let bracketed = node.strip_prefix('[')?.strip_suffix(']')?;
    bracketed
        .parse::<Ipv6Addr>()
        .ok()
        .map(|v6| IpAddr::V6(v6).to_canonical())
}

/// A client address as limits count it: an IPv4 address, or the /64 network
/// of an IPv6 one, since a single host commonly holds a whole /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AddressKey {
    V4(u32),
    V6Network(u64),
}

impl From<IpAddr> for AddressKey {
    fn from(address: IpAddr) -> AddressKey {
        match address.to_canonical() {
            IpAddr::V4(v4) => AddressKey::V4(v4.into()),
            IpAddr::V6(v6) => AddressKey::V6Network((u128::from(v6) >> 64) as u64),
        }
    }
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AddressKey::V4(v4) => write!(f, "{}", Ipv4Addr::from(v4)),
            AddressKey::V6Network(network) => {
                write!(f, "{}/64", Ipv6Addr::from(u128::from(network) << 64))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse("10.0.0.0/8, 2001:db8:ffff::/48, 198.51.100.9").unwrap()
    }

    #[test]
    fn a_client_that_is_not_a_trusted_proxy_cannot_forge_its_address() {
        let forged = headers("x-forwarded-for", &["192.0.2.1"]);
        assert_eq!(
            proxies().client(ip("203.0.113.5"), &forged),
            ip("203.0.113.5")
        );
        let forged = headers("forwarded", &["for=192.0.2.1"]);
        let forwarded = proxies().header(ForwardedHeader::Forwarded);
        assert_eq!(
            forwarded.client(ip("203.0.113.5"), &forged),
            ip("203.0.113.5")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &forged),
            ip("10.0.0.1"),
            "no proxy is trusted by default"
        );
    }

    #[test]
    fn the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy() {
        let chain = headers("x-forwarded-for", &["1.1.1.1, 192.0.2.7, 10.1.2.3"]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &chain), ip("192.0.2.7"));
        // A client that writes its own header: the proxy appends the address
        // it saw, which is the one believed.
        let spoofed = headers("x-forwarded-for", &["10.9.9.9, 192.0.2.7"]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &spoofed), ip("192.0.2.7"));
        // Several header lines are one list, in order.
        let lines = headers("x-forwarded-for", &["192.0.2.7", "198.51.100.9"]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &lines), ip("192.0.2.7"));
        let all_trusted = headers("x-forwarded-for", &["10.0.0.3, 10.0.0.2"]);
        assert_eq!(
            proxies().client(ip("10.0.0.1"), &all_trusted),
            ip("10.0.0.3")
        );
        let none = HeaderMap::new();
        assert_eq!(proxies().client(ip("10.0.0.1"), &none), ip("10.0.0.1"));
    }

    #[test]
    fn addresses_with_ports_brackets_and_ipv6_are_read() {
        for (entry, expected) in [
            ("192.0.2.7:4711", "192.0.2.7"),
            ("[2001:db8::7]:4711", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            (" 2001:db8::7 ", "2001:db8::7"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
        ] {
            let forwarded = headers("x-forwarded-for", &[entry]);
            assert_eq!(
                proxies().client(ip("10.0.0.1"), &forwarded),
                ip(expected),
                "{entry}"
            );
        }
        let mapped_peer = ip("::ffff:10.0.0.1");
        let forwarded = headers("x-forwarded-for", &["192.0.2.7"]);
        assert_eq!(proxies().client(mapped_peer, &forwarded), ip("192.0.2.7"));
        let v6_proxy = ip("2001:db8:ffff::1");
        assert_eq!(proxies().client(v6_proxy, &forwarded), ip("192.0.2.7"));
    }

    #[test]
    fn rfc_7239_forwarded_is_read_when_configured() {
        let proxies = proxies().header(ForwardedHeader::Forwarded);
        let header = headers(
            "forwarded",
            &[
                r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2"#,
            ],
        );
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &header),
            ip("2001:db8:cafe::17")
        );
        let xff_only = headers("x-forwarded-for", &["192.0.2.7"]);
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &xff_only),
            ip("10.0.0.1"),
            "the header the proxies do not write is never read"
        );
    }

    #[test]
    fn malformed_or_overlong_headers_leave_the_proxy_as_the_client() {
        let peer = ip("10.0.0.1");
        for bad in ["192.0.2.7, not-an-address", "192.0.2.7,", "", "999.0.0.1"] {
            let header = headers("x-forwarded-for", &[bad]);
            assert_eq!(proxies().client(peer, &header), peer, "{bad:?}");
        }
        let forwarded = proxies().header(ForwardedHeader::Forwarded);
        for bad in [
            "for=unknown",
            "for=_hidden",
            "proto=https",
            "for=192.0.2.7;for=192.0.2.8",
            "for=\"192.0.2.7",
            "for",
        ] {
            let header = headers("forwarded", &[bad]);
            assert_eq!(forwarded.client(peer, &header), peer, "{bad:?}");
        }
        let long = vec!["10.0.0.5"; MAX_FORWARDED_ENTRIES + 1].join(",");
        let header = headers("x-forwarded-for", &[&format!("192.0.2.7,{long}")]);
        assert_eq!(
            proxies().client(peer, &header),
            peer,
            "only so many entries are read"
        );
        let mut opaque = HeaderMap::new();
        opaque.insert(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"192.0.2.\xff").unwrap(),
        );
        assert_eq!(proxies().client(peer, &opaque), peer);
    }

    #[test]
    fn the_configuration_names_the_variable_at_fault() {
        let read = |pairs: &'static [(&'static str, &'static str)]| {
            TrustedProxies::from_env(&move |name| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            })
        };
        assert_eq!(read(&[]).unwrap(), TrustedProxies::default());
        let parsed = read(&[
            ("FW_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.1"),
            ("FW_FORWARDED_HEADER", "Forwarded"),
        ])
        .unwrap();
        assert!(parsed.trusts(ip("10.200.0.1")) && parsed.trusts(ip("192.0.2.1")));
        assert!(!parsed.trusts(ip("192.0.2.2")));
        assert_eq!(parsed.header, ForwardedHeader::Forwarded);
        let error = read(&[("FW_TRUSTED_PROXIES", "10.0.0.0/33")]).unwrap_err();
        assert!(
            error.to_string().starts_with("FW_TRUSTED_PROXIES="),
            "{error}"
        );
        let error = read(&[("FW_FORWARDED_HEADER", "x-real-ip")]).unwrap_err();
        assert!(
            error.to_string().starts_with("FW_FORWARDED_HEADER="),
            "{error}"
        );
        let many = (0..=MAX_TRUSTED_NETWORKS)
            .map(|i| format!("10.0.{i}.1"))
            .collect::<Vec<_>>();
        assert!(TrustedProxies::parse(&many.join(",")).is_err());
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_network() {
        let one = AddressKey::from(ip("2001:db8:0:1::5"));
        let other = AddressKey::from(ip("2001:db8:0:1:ffff::9"));
        assert_eq!(one, other);
        assert_eq!(one.to_string(), "2001:db8:0:1::/64");
        assert_eq!(
            AddressKey::from(ip("::ffff:192.0.2.1")).to_string(),
            "192.0.2.1"
        );
    }
}

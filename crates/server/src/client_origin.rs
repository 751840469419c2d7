//! The client's address and country (issue 13), resolved once per request
//! and handed to the handlers as [`ClientOrigin`].
//!
//! The address is the socket's peer, unless the peer is one of the
//! configured trusted proxies (`PORTICO_TRUSTED_PROXIES`, CIDRs): then the
//! `Forwarded` header (RFC 7239), or else `X-Forwarded-For`, is read from
//! the right, skipping further trusted proxies; the first address that is
//! not one is the client. A header from any other peer is ignored: anyone
//! can write it. The country comes from a MaxMind GeoLite2/GeoIP2 database
//! (`PORTICO_GEOIP_DATABASE`); without one it is unknown, and conditional
//! access says so.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use portico_oidc::signin_log::ClientOrigin;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Most forwarded hops read; a longer chain is cut (bounded work per request).
const MAX_HOPS: usize = 32;

pub struct OriginResolver {
    trusted: Vec<IpNet>,
    geoip: Option<maxminddb::Reader<Vec<u8>>>,
}

impl OriginResolver {
    pub fn new(trusted: Vec<IpNet>, geoip: Option<maxminddb::Reader<Vec<u8>>>) -> Self {
        Self { trusted, geoip }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = portico_policy::conditional_access::canonical_ip(ip);
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client's address, given the peer and the request's headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = portico_policy::conditional_access::canonical_ip(peer);
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        for hop in hops.iter().rev().take(MAX_HOPS) {
            match hop {
                // `unknown` or an obfuscated node: the chain cannot be followed.
                None => break,
                Some(ip) => {
                    client = portico_policy::conditional_access::canonical_ip(*ip);
                    if !self.is_trusted(client) {
                        break;
                    }
                }
            }
        }
        client
    }

    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let reader = self.geoip.as_ref()?;
        let found = reader.lookup(ip).ok()?;
        let c: maxminddb::geoip2::Country = found.decode().ok()??;
        c.country.iso_code.map(|s| s.to_ascii_uppercase())
    }

    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> ClientOrigin {
        let ip = self.client_ip(peer, headers);
        ClientOrigin {
            ip,
            country: self.country(ip),
        }
    }
}

/// The forwarded chain, leftmost (the original client) first: `Forwarded`'s
/// `for=` values when that header is present, else `X-Forwarded-For`. `None`
/// is a hop that names no address (`unknown`, `_hidden`, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// `192.0.2.60`, `"192.0.2.60:4711"`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_node(v: &str) -> Option<IpAddr> {
    let v = v.trim().trim_matches('"');
    if let Ok(ip) = v.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    v.parse::<SocketAddr>().ok().map(|s| s.ip())
}

/// Middleware: sets [`ClientOrigin`] on every request that came over a socket.
pub async fn resolve(
    State(resolver): State<Arc<OriginResolver>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    {
        let origin = resolver.resolve(peer, req.headers());
        req.extensions_mut().insert(origin);
    }
    next.run(req).await
}

/// Parses `PORTICO_TRUSTED_PROXIES`: CIDRs (or single addresses), comma-separated.
pub fn parse_trusted(list: &str) -> anyhow::Result<Vec<IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "PORTICO_TRUSTED_PROXIES: '{s}' is not an address or CIDR range (like 10.0.0.0/8)"
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let r = OriginResolver::new(
            parse_trusted("10.0.0.0/8, 2001:db8:ffff::1").unwrap_or_default(),
            None,
        );
        type Headers = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Headers, &str)] = &[
            // An untrusted peer's header is ignored.
            (
                "198.51.100.1",
                &[("x-forwarded-for", "203.0.113.9")],
                "198.51.100.1",
            ),
            // A trusted proxy's is read.
            (
                "10.1.2.3",
                &[("x-forwarded-for", "203.0.113.9")],
                "203.0.113.9",
            ),
            // From the right: a forged leftmost entry does not win.
            (
                "10.1.2.3",
                &[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.9.9.9")],
                "203.0.113.9",
            ),
            (
                "10.1.2.3",
                &[
                    ("x-forwarded-for", "1.1.1.1"),
                    ("x-forwarded-for", "203.0.113.9"),
                ],
                "203.0.113.9",
            ),
            // Forwarded wins over X-Forwarded-For; IPv6 with port.
            (
                "::ffff:10.0.0.1",
                &[
                    ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https"),
                    ("x-forwarded-for", "203.0.113.9"),
                ],
                "2001:db8::7",
            ),
            (
                "2001:db8:ffff::1",
                &[("forwarded", "for=192.0.2.60;by=10.0.0.1, for=10.0.0.2")],
                "192.0.2.60",
            ),
            // An unknown hop stops the walk at the last known address.
            ("10.1.2.3", &[("forwarded", "for=unknown")], "10.1.2.3"),
            ("10.1.2.3", &[("x-forwarded-for", "garbage")], "10.1.2.3"),
            ("10.1.2.3", &[], "10.1.2.3"),
        ];
        for (peer, h, want) in cases {
            assert_eq!(r.client_ip(ip(peer), &headers(h)), ip(want), "{peer} {h:?}");
        }
        assert!(parse_trusted("10.0.0.0/8,nope").is_err());
        assert_eq!(
            r.country(ip("203.0.113.9")),
            None,
            "no GeoIP database: unknown"
        );
    }
}

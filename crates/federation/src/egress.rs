//! Where Portico's calls to upstream IdPs may go (SSRF guard).
//!
//! An admin (or a stolen admin token) names the issuer, and the discovery
//! document names the token, JWKS and userinfo endpoints: without a guard,
//! Portico would fetch any address it is told, including the metadata
//! service at 169.254.169.254 or a database on the internal network.
//!
//! Rules:
//! - Names are resolved by [`GuardedResolver`], which drops every address
//!   that is not public ([`is_public`]) before reqwest connects. The check
//!   runs on the addresses actually connected to, so a name that resolves to
//!   a public address at one moment and a private one later (DNS rebinding)
//!   gains nothing.
//! - IP literals in URLs never reach a resolver, so [`GuardedHttp`] checks
//!   the host of every request before sending it.
//! - Redirects are not followed (`client.rs`) and proxies are not used while
//!   the guard is on (a proxy would resolve the name itself).
//! - `allow_private` (the setting `PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS`)
//!   turns all of this off, for tests and demos whose IdPs run on loopback.

use openidconnect::{AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use url::{Host, Url};

/// The refusal every caller reports, naming the address and the setting.
pub(crate) fn refusal(host: &str, ip: IpAddr) -> String {
    format!(
        "{host} is a private, loopback or link-local address ({ip}); Portico does not call \
         such addresses unless private networks are allowed \
         (PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS=true)"
    )
}

/// Whether `ip` is an address on the public internet. Everything else is
/// refused: loopback, private (RFC 1918, IPv6 ULA), link-local, shared
/// address space (CGNAT, RFC 6598), unspecified, multicast, broadcast,
/// documentation and benchmarking ranges, and IPv6 forms that embed an
/// IPv4 address (mapped, compatible, NAT64), judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", incl. 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local (cloud metadata)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // ::/96 (unspecified, loopback, IPv4-compatible) and NAT64 64:ff9b::/96.
    if s[..6] == [0; 6] {
        return false;
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    let refused = (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8); // documentation
    !refused
}

/// Refuses a URL whose host is an IP literal that is not public, or that
/// is not a URL at all. Names pass here; the resolver judges them.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|e| format!("{url} is not a URL ({e})"))?;
    let ip = match parsed.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        // `localhost` is loopback by definition (RFC 6761 §6.3), whatever DNS says.
        Some(Host::Domain(d)) if d == "localhost" || d.ends_with(".localhost") => {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
        Some(Host::Domain(_)) => return Ok(()),
        None => return Err(format!("{url} has no host")),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(refusal(parsed.host_str().unwrap_or_default(), ip))
    }
}

/// Resolves with the system resolver and keeps public addresses only.
#[derive(Debug, Default)]
pub(crate) struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            match (public.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs),
                (true, Some(first)) => Err(refusal(&host, first.ip()).into()),
                (true, None) => Err(format!("{host} has no address").into()),
            }
        })
    }
}

/// The client federation calls upstream IdPs with: reqwest plus the IP
/// literal check. `openidconnect` uses it through [`AsyncHttpClient`]; the
/// connection test and userinfo through [`GuardedHttp::get`].
#[derive(Debug, Clone)]
pub struct GuardedHttp {
    inner: reqwest::Client,
    allow_private: bool,
}

type Pending<'c> = Pin<
    Box<
        dyn Future<Output = Result<HttpResponse, HttpClientError<reqwest::Error>>>
            + Send
            + Sync
            + 'c,
    >,
>;

impl GuardedHttp {
    pub(crate) fn new(inner: reqwest::Client, allow_private: bool) -> Self {
        Self {
            inner,
            allow_private,
        }
    }

    /// Checks `url`'s host (an IP literal must be public unless allowed).
    pub fn check(&self, url: &str) -> Result<(), String> {
        if self.allow_private {
            return Ok(());
        }
        check_url(url)
    }

    /// A GET to `url`, refused before anything is sent when its host is a
    /// non-public IP literal.
    pub(crate) fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        self.check(url)?;
        Ok(self.inner.get(url))
    }
}

impl<'c> AsyncHttpClient<'c> for GuardedHttp {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pending<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let checked = self.check(&request.uri().to_string());
        Box::pin(async move {
            checked.map_err(HttpClientError::Other)?;
            self.inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(addr: &str, public: bool) {
        let ip: IpAddr = addr.parse().expect(addr);
        assert_eq!(is_public(ip), public, "{addr}");
    }

    #[test]
    fn only_public_addresses_are_callable() {
        for (addr, public) in [
            ("8.8.8.8", true),
            ("1.1.1.1", true),
            ("100.63.255.255", true),
            ("100.128.0.0", true),
            ("172.15.255.255", true),
            ("172.32.0.0", true),
            ("2606:4700:4700::1111", true),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::808:808", true),
            ("0.0.0.0", false),
            ("127.0.0.1", false),
            ("127.255.255.254", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("172.31.255.255", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("100.127.255.255", false),
            ("224.0.0.1", false),
            ("239.255.255.250", false),
            ("255.255.255.255", false),
            ("240.0.0.1", false),
            ("192.0.2.1", false),
            ("198.18.0.1", false),
            ("::", false),
            ("::1", false),
            ("fc00::1", false),
            ("fd12:3456::1", false),
            ("fe80::1", false),
            ("febf::1", false),
            ("ff02::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("::127.0.0.1", false),
            ("64:ff9b::7f00:1", false),
            ("2001:db8::1", false),
        ] {
            check(addr, public);
        }
    }

    #[test]
    fn urls_with_non_public_ip_literals_are_refused_and_names_pass() {
        assert!(check_url("https://login.fabrikam.example/x").is_ok());
        assert!(check_url("https://8.8.8.8/").is_ok());
        for url in [
            "http://127.0.0.1:8080/.well-known/openid-configuration",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/token",
            "http://0.0.0.0/",
            "http://localhost:8080/",
        ] {
            let why = check_url(url).expect_err(url);
            assert!(
                why.contains("PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS"),
                "{why}"
            );
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_only_to_loopback() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let err = match GuardedResolver.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("localhost") && err.contains("loopback"),
            "{err}"
        );
    }
}

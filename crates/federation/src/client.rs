//! The outbound HTTP client for upstream IdPs. It never follows redirects
//! (a redirect from discovery or the token endpoint could point anywhere:
//! SSRF guidance in openidconnect's docs) and has connect and total
//! timeouts, so an IdP that hangs costs one request its timeout and nothing
//! more. Where it may connect is `egress.rs`'s business (the SSRF guard).

use crate::egress::{GuardedHttp, GuardedResolver};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct FederationConfig {
    /// Portico's issuer; the upstream redirect URI is `<issuer>/federation/callback`.
    pub issuer: String,
    pub connect_timeout: Duration,
    /// Whole request, including reading the body.
    pub request_timeout: Duration,
    /// How long a flow may take from leaving to the callback.
    pub flow_ttl: chrono::Duration,
    /// How long a completed flow's result waits for its continuation.
    pub result_ttl: chrono::Duration,
    /// How long discovery metadata and JWKS are cached.
    pub metadata_ttl: Duration,
    /// Clock skew tolerated on `exp` and `iat`.
    pub leeway: chrono::Duration,
    /// Oldest `iat` accepted: an older token is refused even if not expired.
    pub max_token_age: chrono::Duration,
    /// Whether upstream calls may go to loopback, private and link-local
    /// addresses (tests and demos whose IdPs run on this machine). Off by default.
    pub allow_private_networks: bool,
}

impl FederationConfig {
    pub fn new(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_string(),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            flow_ttl: chrono::Duration::minutes(15),
            result_ttl: chrono::Duration::minutes(30),
            metadata_ttl: Duration::from_secs(600),
            leeway: chrono::Duration::seconds(60),
            max_token_age: chrono::Duration::minutes(10),
            allow_private_networks: false,
        }
    }

    /// The one redirect URI admins register at every upstream IdP.
    pub fn redirect_uri(&self) -> String {
        format!("{}/federation/callback", self.issuer)
    }
}

/// The client federation uses (reqwest 0.12, the one `oauth2` 5 implements its
/// HTTP client trait for), behind the SSRF guard unless private networks are
/// allowed.
pub fn http_client(cfg: &FederationConfig) -> Result<GuardedHttp, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout)
        .timeout(cfg.request_timeout)
        .user_agent(concat!("Portico/", env!("CARGO_PKG_VERSION")));
    if !cfg.allow_private_networks {
        // A proxy would resolve the IdP's name itself, out of the guard's sight.
        builder = builder.no_proxy().dns_resolver(Arc::new(GuardedResolver));
    }
    Ok(GuardedHttp::new(
        builder.build()?,
        cfg.allow_private_networks,
    ))
}

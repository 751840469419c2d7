//! The authorization server's typed configuration (a sub-config of the server's `Settings`).

use crate::keys::SigningAlg;
use chrono::Duration;

#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer identifier, without a trailing slash (`http://localhost:8080`).
    pub issuer: String,
    /// Authorization codes live at most this long (RFC 6749 §4.1.2 recommends ≤ 10 min; we use 60 s).
    pub code_ttl: Duration,
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_ttl: Duration,
    pub interaction_ttl: Duration,
    /// A rotated-in key is published this long before it signs, so RPs caching the JWKS see it first.
    pub key_publication_delay: Duration,
    /// Passkeys (WebAuthn) work here: the relying party id is the issuer's
    /// host, and browsers refuse an IP address as one. Off for an issuer
    /// like `http://127.0.0.1:8080`; the policy then offers no passkey.
    pub passkeys: bool,
    /// The algorithms this deployment keeps keys for and publishes: RS256
    /// first and always, then ES256 and/or EdDSA when chosen
    /// (`PORTICO_SIGNING_ALGS`).
    pub signing_algs: Vec<SigningAlg>,
    /// The algorithm JWT access tokens are signed with (one of `signing_algs`).
    pub access_token_alg: SigningAlg,
    /// The version of the organization's privacy statement
    /// (`PORTICO_PRIVACY_VERSION`): a consent given under another version is
    /// asked again.
    pub privacy_version: Option<String>,
}

impl OidcConfig {
    pub fn new(issuer: impl Into<String>) -> Self {
        let issuer: String = issuer.into();
        Self {
            issuer: issuer.trim_end_matches('/').to_string(),
            code_ttl: Duration::seconds(60),
            access_token_ttl: Duration::minutes(60),
            id_token_ttl: Duration::minutes(60),
            refresh_token_ttl: Duration::days(30),
            session_ttl: Duration::hours(12),
            interaction_ttl: Duration::minutes(30),
            key_publication_delay: Duration::minutes(5),
            passkeys: issuer_host_is_a_domain(&issuer),
            signing_algs: vec![SigningAlg::Rs256],
            access_token_alg: SigningAlg::Rs256,
            privacy_version: None,
        }
    }

    /// Cookies get `Secure` when the issuer is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The longest time a token signed by a key stays valid after the key stops signing.
    pub fn max_signed_token_ttl(&self) -> Duration {
        self.access_token_ttl.max(self.id_token_ttl)
    }
}

/// WebAuthn's relying party id must be a domain name (WebAuthn §5.1.3 with
/// the HTML "valid domain" rule): `localhost` is one, `127.0.0.1` is not.
pub fn issuer_host_is_a_domain(issuer: &str) -> bool {
    url::Url::parse(issuer).is_ok_and(|u| u.domain().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passkeys_need_a_domain_name_as_the_issuer_host() {
        assert!(OidcConfig::new("https://id.contoso.example").passkeys);
        assert!(OidcConfig::new("http://localhost:8080").passkeys);
        assert!(!OidcConfig::new("http://127.0.0.1:8080").passkeys);
        assert!(!OidcConfig::new("http://[::1]:8080").passkeys);
    }

    #[test]
    fn cookies_are_secure_exactly_when_the_issuer_is_https() {
        assert!(OidcConfig::new("https://id.contoso.example/").secure_cookies());
        assert!(!OidcConfig::new("http://localhost:8080").secure_cookies());
        assert_eq!(
            OidcConfig::new("https://id.contoso.example/").issuer,
            "https://id.contoso.example"
        );
    }
}

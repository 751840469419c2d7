//! One `Settings` struct: defaults, then a TOML file (`--config`), then
//! `PORTICO_*` environment variables. Validated at startup with clear messages.

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use portico_oidc::keys::SigningAlg;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// `PORTICO_BIND`
    pub bind: String,
    /// `PORTICO_ISSUER`
    pub issuer: String,
    /// `PORTICO_DATABASE_URL`: `sqlite://…` or `postgres://…`; default: SQLite in the data folder.
    pub database_url: Option<String>,
    /// `PORTICO_DATABASE_MAX_CONNECTIONS`: the most database connections this
    /// node opens; 0: two per core (2 to 8) on SQLite, 16 on PostgreSQL;
    /// otherwise at least 2.
    pub database_max_connections: u32,
    /// `PORTICO_DATA_DIR`
    pub data_dir: PathBuf,
    /// `PORTICO_KEY_PUBLICATION_DELAY_SECS`: how long a rotated-in key is published before it signs.
    pub key_publication_delay_secs: i64,
    /// `PORTICO_ORGANIZATION_NAME`: the inviting organization, as guests see it.
    pub organization_name: String,
    /// `PORTICO_PRIVACY_URL`: the privacy statement shown on the consent page.
    pub privacy_url: Option<String>,
    /// `PORTICO_PRIVACY_VERSION`: the privacy statement's version; consents
    /// given under another version are asked again at the next sign-in.
    pub privacy_version: Option<String>,
    /// `PORTICO_SMTP_URL`: `smtp://host:port` (or `smtps://user:pass@host`); when
    /// unset, mail is written as `.eml` files to `outbox` in the data folder.
    pub smtp_url: Option<String>,
    /// `PORTICO_MAIL_FROM`
    pub mail_from: String,
    /// `PORTICO_MAIL_MAX_PER_SECOND`: sending rate limit.
    pub mail_max_per_second: u32,
    /// `PORTICO_MAIL_RETRY_BASE_SECS`: first retry delay; it doubles up to an hour.
    pub mail_retry_base_secs: u64,
    /// `PORTICO_MAIL_MAX_ATTEMPTS`
    pub mail_max_attempts: u32,
    /// `PORTICO_INVITATION_EXPIRY_DAYS`: how long a redeem link works.
    pub invitation_expiry_days: i64,
    /// `PORTICO_FEDERATION_TIMEOUT_SECS`: a whole request to an upstream IdP.
    pub federation_timeout_secs: u64,
    /// `PORTICO_FEDERATION_CONNECT_TIMEOUT_SECS`
    pub federation_connect_timeout_secs: u64,
    /// `PORTICO_FEDERATION_ALLOW_PRIVATE_NETWORKS`: let calls to upstream IdPs
    /// go to loopback, private and link-local addresses (tests, demos). Off:
    /// only public addresses, checked on the resolved address (SSRF guard).
    #[serde(default)]
    pub federation_allow_private_networks: bool,
    /// `PORTICO_METRICS_TOKEN`: the bearer token Prometheus sends to `/metrics`;
    /// when unset, `/metrics` answers loopback clients only.
    pub metrics_token: Option<String>,
    /// `PORTICO_INVITE_REDIRECT_ORIGINS`: comma-separated origins
    /// (`https://intranet.contoso.example`) an invitation may land on besides
    /// Portico and the registered applications.
    pub invite_redirect_origins: String,
    /// `PORTICO_CLEANUP_INTERVAL_SECS`: how often the node holding the clean-up
    /// lease deletes expired rows.
    pub cleanup_interval_secs: u64,
    /// `PORTICO_BACKCHANNEL_INTERVAL_SECS`: how often the node holding the
    /// back-channel logout lease sends due logout tokens.
    pub backchannel_interval_secs: u64,
    /// `PORTICO_PASSWORD_HASH_CONCURRENCY`: password checks (argon2) running
    /// at once; as many more sign-ins wait (at most 1 s) for a slot, and
    /// beyond that they are answered 503 + `Retry-After`. 0: one per core.
    pub password_hash_concurrency: usize,
    /// `PORTICO_SIGNING_ALGS`: comma-separated JWS algorithms to keep signing
    /// keys for and publish: `RS256` (always, added when absent), `ES256`,
    /// `EdDSA`. Applications choose among them for their ID tokens
    /// (`idTokenSignedResponseAlg`, RS256 by default).
    pub signing_algs: String,
    /// `PORTICO_ACCESS_TOKEN_SIGNING_ALG`: the algorithm of JWT access tokens
    /// (default `RS256`; one of the signing algorithms).
    pub access_token_signing_alg: String,
    /// `PORTICO_MASTER_KEY`: 32 bytes (base64 or 64 hex digits) that seal the
    /// secrets at rest; see `master_key.rs` for where it comes from otherwise.
    pub master_key: Option<SecretSetting>,
    /// `PORTICO_MASTER_KEY_FILE`: a file holding the master key instead.
    pub master_key_file: Option<PathBuf>,
    /// `PORTICO_MASTER_KEY_PREVIOUS`: comma-separated keys replaced by a
    /// rotation; they only open values until `portico secrets reseal` ran.
    pub master_key_previous: Option<SecretSetting>,
    /// `PORTICO_TRUSTED_PROXIES`: comma-separated CIDRs of the reverse proxies
    /// whose `Forwarded`/`X-Forwarded-For` name the client's address
    /// (conditional access, the sign-in log, rate limits by address).
    pub trusted_proxies: String,
    /// `PORTICO_GEOIP_DATABASE`: a MaxMind GeoLite2/GeoIP2 Country or City
    /// `.mmdb` file; without it, sign-ins' countries are unknown.
    pub geoip_database: Option<PathBuf>,
}

/// A configured secret: `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretSetting(pub String);

impl std::fmt::Debug for SecretSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            issuer: "http://localhost:8080".into(),
            database_url: None,
            database_max_connections: 0,
            data_dir: PathBuf::from("data"),
            key_publication_delay_secs: 300,
            organization_name: "Portico".into(),
            privacy_url: None,
            privacy_version: None,
            smtp_url: None,
            mail_from: "Portico <no-reply@localhost>".into(),
            mail_max_per_second: 20,
            mail_retry_base_secs: 30,
            mail_max_attempts: 8,
            invitation_expiry_days: 30,
            federation_timeout_secs: 10,
            federation_connect_timeout_secs: 3,
            federation_allow_private_networks: false,
            metrics_token: None,
            invite_redirect_origins: String::new(),
            cleanup_interval_secs: 60,
            backchannel_interval_secs: 5,
            password_hash_concurrency: 0,
            signing_algs: "RS256".into(),
            access_token_signing_alg: "RS256".into(),
            master_key: None,
            master_key_file: None,
            master_key_previous: None,
            trusted_proxies: String::new(),
            geoip_database: None,
        }
    }
}

impl Settings {
    /// Loads defaults ← file ← environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            if !path.exists() {
                bail!("the configuration file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig.merge(Env::prefixed("PORTICO_"));
        let s: Settings = fig.extract().context("invalid configuration")?;
        s.validate()?;
        Ok(s)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        crate::client_origin::parse_trusted(&self.trusted_proxies)?;
        let u = url::Url::parse(&self.issuer)
            .with_context(|| format!("PORTICO_ISSUER '{}' is not a URL", self.issuer))?;
        if !matches!(u.scheme(), "http" | "https") || u.query().is_some() || u.fragment().is_some()
        {
            bail!(
                "PORTICO_ISSUER must be an http(s) URL without query or fragment (OpenID Connect Discovery §3)"
            );
        }
        if let Some(db) = &self.database_url
            && !(db.starts_with("sqlite:")
                || db.starts_with("postgres://")
                || db.starts_with("postgresql://"))
        {
            bail!("PORTICO_DATABASE_URL must start with sqlite:// or postgres://");
        }
        if self.database_max_connections == 1 {
            // A request may hold a transaction while a background round or
            // another request needs the database: one connection would queue
            // them behind each other until a timeout.
            bail!("PORTICO_DATABASE_MAX_CONNECTIONS must be 0 (the default) or at least 2");
        }
        if self.key_publication_delay_secs < 0 {
            bail!("key_publication_delay_secs must not be negative");
        }
        if !(1..=3650).contains(&self.invitation_expiry_days) {
            bail!("PORTICO_INVITATION_EXPIRY_DAYS must be between 1 and 3650");
        }
        if !(1..=120).contains(&self.federation_timeout_secs)
            || !(1..=120).contains(&self.federation_connect_timeout_secs)
        {
            bail!(
                "PORTICO_FEDERATION_TIMEOUT_SECS and …_CONNECT_TIMEOUT_SECS must be between 1 and 120"
            );
        }
        if !(1..=86_400).contains(&self.cleanup_interval_secs) {
            bail!("PORTICO_CLEANUP_INTERVAL_SECS must be between 1 and 86400");
        }
        if !(1..=86_400).contains(&self.backchannel_interval_secs) {
            bail!("PORTICO_BACKCHANNEL_INTERVAL_SECS must be between 1 and 86400");
        }
        self.signing_alg_list()?;
        self.access_token_alg()?;
        if self.organization_name.trim().is_empty() {
            bail!("PORTICO_ORGANIZATION_NAME must not be empty");
        }
        if let Some(p) = &self.privacy_url {
            let ok = url::Url::parse(p).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                bail!("PORTICO_PRIVACY_URL must be an http(s) URL");
            }
        }
        if let Some(v) = &self.privacy_version
            && (v.trim().is_empty() || v.len() > 64)
        {
            bail!("PORTICO_PRIVACY_VERSION must be 1 to 64 characters");
        }
        if let Some(s) = &self.smtp_url
            && !(s.starts_with("smtp://") || s.starts_with("smtps://"))
        {
            bail!("PORTICO_SMTP_URL must start with smtp:// or smtps://");
        }
        for o in self.invite_redirect_origin_list() {
            let ok = url::Url::parse(o).is_ok_and(|u| {
                let origin = u.origin().ascii_serialization();
                origin == o.trim_end_matches('/') && matches!(u.scheme(), "https" | "http")
            });
            if !ok {
                bail!(
                    "PORTICO_INVITE_REDIRECT_ORIGINS: '{o}' must be an origin such as https://apps.contoso.example (scheme, host and port only)"
                );
            }
        }
        Ok(())
    }

    fn invite_redirect_origin_list(&self) -> impl Iterator<Item = &str> {
        self.invite_redirect_origins
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
    }

    /// The signing algorithms: RS256 first and always, then the others named
    /// in `PORTICO_SIGNING_ALGS`, each once.
    pub fn signing_alg_list(&self) -> anyhow::Result<Vec<SigningAlg>> {
        let mut algs = vec![SigningAlg::Rs256];
        for name in self
            .signing_algs
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            let alg: SigningAlg = name
                .parse()
                .map_err(|e| anyhow::anyhow!("PORTICO_SIGNING_ALGS: {e}"))?;
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        Ok(algs)
    }

    /// The access tokens' algorithm, one of [`Settings::signing_alg_list`].
    pub fn access_token_alg(&self) -> anyhow::Result<SigningAlg> {
        let alg: SigningAlg = self
            .access_token_signing_alg
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("PORTICO_ACCESS_TOKEN_SIGNING_ALG: {e}"))?;
        if !self.signing_alg_list()?.contains(&alg) {
            bail!(
                "PORTICO_ACCESS_TOKEN_SIGNING_ALG is {alg}, which PORTICO_SIGNING_ALGS does not list"
            );
        }
        Ok(alg)
    }

    /// The allow-listed invitation landing origins, normalised.
    pub fn invite_redirect_origins(&self) -> Vec<String> {
        self.invite_redirect_origin_list()
            .filter_map(|o| url::Url::parse(o).ok())
            .map(|u| u.origin().ascii_serialization())
            .collect()
    }

    /// The mail settings: SMTP when configured, else `.eml` files in `data_dir/outbox`.
    pub fn mail_config(&self) -> portico_mail::MailConfig {
        portico_mail::MailConfig {
            smtp_url: self.smtp_url.clone(),
            from: self.mail_from.clone(),
            outbox_dir: self.data_dir.join("outbox"),
            max_attempts: self.mail_max_attempts,
            retry_base: std::time::Duration::from_secs(self.mail_retry_base_secs.max(1)),
            max_per_second: self.mail_max_per_second,
        }
    }

    /// The database URL in effect: the configured one or `portico.db` in the data folder.
    pub fn effective_database_url(&self) -> anyhow::Result<String> {
        if let Some(u) = &self.database_url {
            return Ok(u.clone());
        }
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!("cannot create the data folder {}", self.data_dir.display())
        })?;
        Ok(format!(
            "sqlite://{}?mode=rwc",
            self.data_dir.join("portico.db").display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_refused() {
        assert!(Settings::default().validate().is_ok());
        let bad_issuer = Settings {
            issuer: "localhost:8080".into(),
            ..Settings::default()
        };
        assert!(bad_issuer.validate().is_err());
        let bad_db = Settings {
            database_url: Some("mysql://x".into()),
            ..Settings::default()
        };
        assert!(bad_db.validate().is_err());
        let pool = |n| Settings {
            database_max_connections: n,
            ..Settings::default()
        };
        let one = pool(1).validate().unwrap_err().to_string();
        assert!(one.contains("PORTICO_DATABASE_MAX_CONNECTIONS"), "{one}");
        assert!(pool(0).validate().is_ok() && pool(2).validate().is_ok());
    }

    #[test]
    fn signing_algorithms_always_include_rs256_and_refuse_unknown_names() {
        let s = |algs: &str, at: &str| Settings {
            signing_algs: algs.into(),
            access_token_signing_alg: at.into(),
            ..Settings::default()
        };
        assert_eq!(
            Settings::default().signing_alg_list().unwrap(),
            [SigningAlg::Rs256]
        );
        assert_eq!(
            s("EdDSA, ES256,EdDSA", "ES256").signing_alg_list().unwrap(),
            [SigningAlg::Rs256, SigningAlg::EdDsa, SigningAlg::Es256]
        );
        assert_eq!(
            s("ES256", "ES256").access_token_alg().unwrap(),
            SigningAlg::Es256
        );
        let unknown = s("RS256,HS256", "RS256")
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("PORTICO_SIGNING_ALGS") && unknown.contains("HS256"),
            "{unknown}"
        );
        let not_enabled = s("RS256", "EdDSA").validate().unwrap_err().to_string();
        assert!(
            not_enabled.contains("PORTICO_ACCESS_TOKEN_SIGNING_ALG"),
            "{not_enabled}"
        );
    }
}

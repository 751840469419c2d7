//! Signing keys: generated on first start, stored, rotated with overlap.
//!
//! A rotated-in key is published in the JWKS at once and signs only after
//! `key_publication_delay`; the key it supersedes stays published until every
//! token it signed has expired. Keys are cached in memory; a node reads the
//! store's key change counter when its last read is [`CHANGE_BOUND`] old and
//! reloads the keys when it moved, so every node sees a rotation within 1 s
//! (and publishes it long before it signs).
//! The JWKS is serialized once per reload (and again when a published key
//! expires), so serving it copies no JSON.
//!
//! A deployment keeps one key line per algorithm it signs with
//! (`OidcConfig::signing_algs`): RS256 always (the OpenID Connect default,
//! which every RP verifies), and ES256 (P-256) and EdDSA (Ed25519) when
//! chosen. Each line is rotated alike. The first key of a line added to a
//! running deployment waits for the publication delay like a rotated one;
//! until then that line signs with RS256 ([`KeyManager::signing_key`]).
//! A key's PEM is read once per load, into what signs, verifies and is
//! published (`signers.rs`): RS256 with OpenSSL through prepared contexts,
//! ES256 and EdDSA with `ring`.

use crate::config::OidcConfig;
use crate::model::SigningKey;
use crate::store::{OidcStore, StoreError};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use josekit::jwk::alg::ed::EdCurve;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{ES256, EdDSA, JwsSigner, JwsVerifier, RS256};
use portico_core::audit::{Actor, AuditEntry, CATEGORY_KEYS};
use sha2::{Digest, Sha256, Sha512};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

/// How long a node may go without checking the keys' change counter.
pub const CHANGE_BOUND: Duration = Duration::seconds(1);

/// A JWS algorithm Portico signs with (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA-2048: the default, always published.
    #[serde(rename = "RS256")]
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// EdDSA on Ed25519.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Es256, SigningAlg::EdDsa];

    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningAlg::Rs256 => "RS256",
            SigningAlg::Es256 => "ES256",
            SigningAlg::EdDsa => "EdDSA",
        }
    }

    /// The left half of the hash `alg` implies, for `at_hash` (OIDC Core
    /// §3.1.3.6): SHA-256 for RS256 and ES256, SHA-512 for Ed25519 (the
    /// hash of the curve's signature scheme, as RPs compute it).
    pub fn left_half_hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            SigningAlg::Rs256 | SigningAlg::Es256 => Sha256::digest(data)[..16].to_vec(),
            SigningAlg::EdDsa => Sha512::digest(data)[..32].to_vec(),
        }
    }
}

impl fmt::Display for SigningAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `alg` Portico does not sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlg(pub String);

impl fmt::Display for UnknownAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not a signing algorithm Portico supports (RS256, ES256, EdDSA)",
            self.0
        )
    }
}

impl std::error::Error for UnknownAlg {}

impl FromStr for SigningAlg {
    type Err = UnknownAlg;
    /// The exact `alg` names (they are case-sensitive, RFC 7515 §4.1.1).
    fn from_str(s: &str) -> Result<Self, UnknownAlg> {
        SigningAlg::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAlg(s.to_string()))
    }
}

pub struct LoadedKey {
    pub meta: SigningKey,
    pub alg: SigningAlg,
    pub signer: Box<dyn JwsSigner>,
    pub verifier: Box<dyn JwsVerifier>,
    pub public_jwk: Jwk,
}

struct Cache {
    /// When the change counter was last read (the keys loaded then or before).
    loaded_at: DateTime<Utc>,
    /// The change counter the keys were loaded at.
    version: i64,
    keys: Vec<Arc<LoadedKey>>,
    /// The JWKS document as served, built from `keys` at `loaded_at`.
    jwks: Bytes,
    /// The next expiry of a published key: the document changes by itself then.
    jwks_until: Option<DateTime<Utc>>,
}

impl Cache {
    fn fresh(&self, now: DateTime<Utc>) -> bool {
        let age = now - self.loaded_at;
        age < CHANGE_BOUND && age >= Duration::zero()
    }
}

fn is_published(k: &LoadedKey, now: DateTime<Utc>) -> bool {
    k.meta.expires_at.is_none_or(|e| e > now)
}

/// The JWKS document (RFC 7517 §5) of the keys published at `now`.
fn jwks_value(keys: &[Arc<LoadedKey>], now: DateTime<Utc>) -> serde_json::Value {
    let keys: Vec<serde_json::Value> = keys
        .iter()
        .filter(|k| is_published(k, now))
        .map(|k| serde_json::Value::Object(k.public_jwk.as_ref().clone()))
        .collect();
    serde_json::json!({ "keys": keys })
}

pub struct KeyManager {
    cache: RwLock<Option<Cache>>,
    /// Held while the counter is read, so the requests that find the keys
    /// due at the same moment wait for that one read instead of each making
    /// their own (every token issued under load, once a second).
    refreshing: tokio::sync::Mutex<()>,
}

impl Default for KeyManager {
    fn default() -> Self {
        Self::new()
    }
}

fn internal(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Internal(e.into())
}

/// A fresh key of `alg` (RSA-2048, P-256 or Ed25519), generated by OpenSSL,
/// as a PKCS#8 PEM.
pub fn generate_key(
    alg: SigningAlg,
    now: DateTime<Utc>,
    activates_at: DateTime<Utc>,
) -> Result<SigningKey, StoreError> {
    let pem = match alg {
        SigningAlg::Rs256 => RS256
            .generate_key_pair(2048)
            .map_err(internal)?
            .to_pem_private_key(),
        SigningAlg::Es256 => ES256
            .generate_key_pair()
            .map_err(internal)?
            .to_pem_private_key(),
        SigningAlg::EdDsa => EdDSA
            .generate_key_pair(EdCurve::Ed25519)
            .map_err(internal)?
            .to_pem_private_key(),
    };
    Ok(SigningKey {
        kid: portico_core::random_token(16),
        alg: alg.as_str().into(),
        private_pem: String::from_utf8(pem).map_err(internal)?,
        created_at: now,
        activates_at,
        expires_at: None,
    })
}

fn load(meta: SigningKey) -> Result<LoadedKey, StoreError> {
    let alg: SigningAlg = meta
        .alg
        .parse()
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("key {}: {e}", meta.kid)))?;
    let parts = crate::signers::parse(alg, meta.private_pem.as_bytes())
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("key {}: {e}", meta.kid)))?;
    let mut jwk = parts.public_jwk;
    jwk.set_key_id(meta.kid.clone());
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg.as_str());
    Ok(LoadedKey {
        meta,
        alg,
        signer: parts.signer,
        verifier: parts.verifier,
        public_jwk: jwk,
    })
}

impl KeyManager {
    pub fn new() -> Self {
        Self {
            cache: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Creates the first key of every configured algorithm that has none:
    /// active at once on a fresh store, after the publication delay when the
    /// deployment already has keys (other nodes publish it first).
    pub async fn ensure_key(
        &self,
        store: &dyn OidcStore,
        config: &OidcConfig,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Read before the keys, as `reload` does.
        let version = store.keys_version().await?;
        let existing = store.list_keys().await?;
        let activates_at = if existing.is_empty() {
            now
        } else {
            now + config.key_publication_delay
        };
        let mut generated = false;
        for alg in &config.signing_algs {
            if existing.iter().any(|k| k.alg == alg.as_str()) {
                continue;
            }
            let key = generate_key(*alg, now, activates_at)?;
            if store.insert_first_key(&key).await? {
                tracing::info!(kid = %key.kid, %alg, "generated the first signing key");
            }
            generated = true;
        }
        // The keys just read, unless this node or another wrote one since.
        if generated {
            self.reload(store, now).await
        } else {
            self.install(version, existing, now)
        }
    }
    async fn reload(&self, store: &dyn OidcStore, now: DateTime<Utc>) -> Result<(), StoreError> {
        // Read before the keys: a change in between is seen at the next check.
        let version = store.keys_version().await?;
        let keys = store.list_keys().await?;
        self.install(version, keys, now)
    }

    /// Loads `listed` (read at `version`) into the cache: the keys, their
    /// JWKS bytes and when a published key expires.
    fn install(
        &self,
        version: i64,
        listed: Vec<SigningKey>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut keys = Vec::new();
        for k in listed {
            keys.push(Arc::new(load(k)?));
        }
        let jwks = Bytes::from(jwks_value(&keys, now).to_string());
        let jwks_until = keys
            .iter()
            .filter_map(|k| k.meta.expires_at)
            .filter(|e| *e > now)
            .min();
        let mut guard = self.cache.write().unwrap_or_else(|p| p.into_inner());
        *guard = Some(Cache {
            loaded_at: now,
            version,
            keys,
            jwks,
            jwks_until,
        });
        Ok(())
    }

    /// After `CHANGE_BOUND`: one counter read, and a reload only when the
    /// keys changed or a published key expired since they were loaded.
    async fn refresh(&self, store: &dyn OidcStore, now: DateTime<Utc>) -> Result<(), StoreError> {
        let version = store.keys_version().await?;
        {
            let mut guard = self.cache.write().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = guard.as_mut()
                && c.version == version
                && c.jwks_until.is_none_or(|u| now < u)
                && now >= c.loaded_at
            {
                c.loaded_at = now;
                return Ok(());
            }
        }
        self.reload(store, now).await
    }

    async fn current(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
    ) -> Result<Vec<Arc<LoadedKey>>, StoreError> {
        self.cached(store, now, |_| true, |c| c.keys.clone()).await
    }

    /// `take` from the cache when it is fresh at `now` and `valid`; otherwise
    /// after one read of the counter per node: the requests that find it due
    /// at the same moment wait for that read, then take what it loaded (at
    /// their time or later).
    async fn cached<R: Default>(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
        valid: impl Fn(&Cache) -> bool,
        take: impl Fn(&Cache) -> R,
    ) -> Result<R, StoreError> {
        let read = |usable: &dyn Fn(&Cache) -> bool| {
            let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
            guard.as_ref().filter(|c| usable(c)).map(&take)
        };
        if let Some(r) = read(&|c| c.fresh(now) && valid(c)) {
            return Ok(r);
        }
        let _one = self.refreshing.lock().await;
        if let Some(r) = read(&|c| (c.fresh(now) || c.loaded_at > now) && valid(c)) {
            return Ok(r);
        }
        self.refresh(store, now).await?;
        Ok(read(&|_| true).unwrap_or_default())
    }

    /// The key that signs `alg` tokens now: the most recently activated key
    /// of that algorithm, or RS256's while the line has no active key yet.
    pub async fn signing_key(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
        alg: SigningAlg,
    ) -> Result<Arc<LoadedKey>, StoreError> {
        let keys = self.current(store, now).await?;
        let active = |alg: SigningAlg| {
            keys.iter()
                .filter(|k| k.alg == alg && k.meta.activates_at <= now)
                .max_by_key(|k| k.meta.activates_at)
                .cloned()
        };
        active(alg)
            .or_else(|| active(SigningAlg::Rs256))
            .ok_or_else(|| StoreError::Internal(anyhow::anyhow!("no active signing key")))
    }

    /// Keys that are published now: created, and not yet past their expiry.
    pub async fn published(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
    ) -> Result<Vec<Arc<LoadedKey>>, StoreError> {
        Ok(self
            .current(store, now)
            .await?
            .into_iter()
            .filter(|k| is_published(k, now))
            .collect())
    }

    /// The JWKS document (RFC 7517 §5).
    pub async fn jwks(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, StoreError> {
        Ok(jwks_value(&self.current(store, now).await?, now))
    }

    /// The JWKS document as served: bytes built once per key change, shared
    /// by every request until the next reload or key expiry.
    pub async fn jwks_bytes(
        &self,
        store: &dyn OidcStore,
        now: DateTime<Utc>,
    ) -> Result<Bytes, StoreError> {
        // The document changes by itself when a published key expires.
        let current = |c: &Cache| c.jwks_until.is_none_or(|u| now < u);
        self.cached(store, now, current, |c| c.jwks.clone()).await
    }

    /// Rotation: for every configured algorithm, publish a new key now, sign
    /// with it after the publication delay, and schedule the removal of the
    /// keys of that algorithm it supersedes. Returns the new keys, RS256's first.
    pub async fn rotate(
        &self,
        store: &dyn OidcStore,
        config: &OidcConfig,
        now: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Vec<SigningKey>, StoreError> {
        let activates_at = now + config.key_publication_delay;
        let retire_at = activates_at + config.max_signed_token_ttl();
        let existing = store.list_keys().await?;
        let mut rotated = Vec::new();
        for alg in &config.signing_algs {
            let key = generate_key(*alg, now, activates_at)?;
            let retire: Vec<(String, DateTime<Utc>)> = existing
                .iter()
                .filter(|k| k.expires_at.is_none() && k.alg == alg.as_str())
                .map(|k| (k.kid.clone(), retire_at))
                .collect();
            let audit = AuditEntry::new(
                now,
                actor,
                "Rotate signing key",
                CATEGORY_KEYS,
                "SigningKey",
                &key.kid,
                &key.kid,
            )
            .after(serde_json::json!({
                "kid": key.kid,
                "alg": key.alg,
                "activatesDateTime": key.activates_at,
                "retired": retire.iter().map(|(kid, _)| kid).collect::<Vec<_>>(),
            }));
            store.rotate_keys(&key, &retire, &audit).await?;
            tracing::info!(kid = %key.kid, %alg, %activates_at, "rotated signing keys");
            rotated.push(key);
        }
        self.reload(store, now).await?;
        Ok(rotated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an RP builds from the JWKS: josekit's (OpenSSL's) verifier of the
    /// published JWK.
    fn rp_verifier(alg: SigningAlg, jwk: &Jwk) -> Box<dyn JwsVerifier> {
        match alg {
            SigningAlg::Rs256 => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
            SigningAlg::Es256 => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
            SigningAlg::EdDsa => Box::new(EdDSA.verifier_from_jwk(jwk).unwrap()),
        }
    }

    /// josekit's public JWK of the same PEM, read its own way.
    fn josekit_jwk(alg: SigningAlg, pem: &str) -> Jwk {
        match alg {
            SigningAlg::Rs256 => RS256.key_pair_from_pem(pem).unwrap().to_jwk_public_key(),
            SigningAlg::Es256 => ES256.key_pair_from_pem(pem).unwrap().to_jwk_public_key(),
            SigningAlg::EdDsa => EdDSA.key_pair_from_pem(pem).unwrap().to_jwk_public_key(),
        }
    }

    /// Signs a few tokens with `key` (the later ones on kept contexts) and
    /// checks each with the RP's verifier and the key's own; a changed
    /// token verifies with neither, and does not spoil the next one.
    fn signs_and_verifies(key: &LoadedKey) {
        let alg = key.alg;
        let rp = rp_verifier(alg, &key.public_jwk);
        for n in 0..3 {
            let mut claims = serde_json::Map::new();
            claims.insert("sub".into(), "alice".into());
            claims.insert("n".into(), n.into());
            let token = crate::tokens::sign_with(key, "JWT", claims.clone()).unwrap();
            for verifier in [rp.as_ref(), key.verifier.as_ref()] {
                let (payload, header) =
                    josekit::jwt::decode_with_verifier(&token, verifier).unwrap();
                assert_eq!(payload.claims_set(), &claims, "{alg}");
                assert_eq!(header.algorithm(), Some(alg.as_str()));
                assert_eq!(header.key_id(), Some(key.meta.kid.as_str()));
            }
            let mut forged = token.clone();
            forged.replace_range(forged.len() - 4.., "AAAA");
            for verifier in [rp.as_ref(), key.verifier.as_ref()] {
                assert!(
                    josekit::jwt::decode_with_verifier(&forged, verifier).is_err(),
                    "{alg}"
                );
            }
        }
    }

    /// Every algorithm's key signs with its library (OpenSSL's prepared
    /// contexts for RS256, ring for the others), publishes the numbers
    /// josekit reads from the same PEM, and its signatures verify with an
    /// RP's verifier built from that JWK.
    #[test]
    fn signatures_verify_with_the_published_jwk() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for (alg, signer, params) in [
            (
                SigningAlg::Rs256,
                "RsaSigner([redacted])",
                &["kty", "n", "e"][..],
            ),
            (
                SigningAlg::Es256,
                "RingSigner([redacted])",
                &["kty", "crv", "x", "y"],
            ),
            (
                SigningAlg::EdDsa,
                "RingSigner([redacted])",
                &["kty", "crv", "x"],
            ),
        ] {
            let key = load(generate_key(alg, now, now).unwrap()).unwrap();
            assert_eq!(format!("{:?}", key.signer), signer, "{alg}");
            let theirs = josekit_jwk(alg, &key.meta.private_pem);
            for p in params {
                assert!(key.public_jwk.parameter(p).is_some(), "{alg} {p}");
                assert_eq!(
                    key.public_jwk.parameter(p),
                    theirs.parameter(p),
                    "{alg} {p}"
                );
            }
            assert!(
                key.public_jwk.parameter("d").is_none(),
                "{alg}: no private part"
            );
            assert_eq!(key.public_jwk.key_id(), Some(key.meta.kid.as_str()));
            assert_eq!(key.public_jwk.algorithm(), Some(alg.as_str()));
            assert_eq!(key.public_jwk.key_use(), Some("sig"));
            signs_and_verifies(&key);
        }
    }

    /// A P-256 key stored as SEC 1 (`EC PRIVATE KEY`, not PKCS#8) is read
    /// through OpenSSL and signs alike; a key of the wrong type for its
    /// line is refused with the key named, not used.
    #[test]
    fn other_pem_forms_load_and_wrong_keys_are_refused() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let group =
            openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let sec1 = openssl::ec::EcKey::generate(&group)
            .unwrap()
            .private_key_to_pem()
            .unwrap();
        let sec1 = String::from_utf8(sec1).unwrap();
        assert!(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
        let mut meta = generate_key(SigningAlg::Es256, now, now).unwrap();
        meta.private_pem = sec1.clone();
        signs_and_verifies(&load(meta).unwrap());

        let mut meta = generate_key(SigningAlg::Rs256, now, now).unwrap();
        meta.private_pem = sec1;
        let kid = meta.kid.clone();
        let err = load(meta).err().unwrap().to_string();
        assert!(err.contains(&kid), "{err}");
        let mut meta = generate_key(SigningAlg::Es256, now, now).unwrap();
        meta.private_pem = generate_key(SigningAlg::EdDsa, now, now)
            .unwrap()
            .private_pem;
        assert!(load(meta).is_err());
    }
}

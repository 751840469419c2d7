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
//! RS256 signs with josekit (OpenSSL), never the `rsa` crate
//! (RUSTSEC-2023-0071). ES256 and EdDSA sign with `ring` ([`RingSigner`]):
//! OpenSSL 3 looked its algorithm up again for every signature, a third of
//! an ES256 `client_credentials` request (bench/run, stop 21). Every key
//! verifies with josekit.

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

/// An ES256 or EdDSA key signing with `ring`: the signature is already in
/// the JWS form (P-256: `r || s`, 64 bytes, RFC 7518 §3.4; Ed25519: 64 bytes,
/// RFC 8037 §3.1).
#[derive(Clone)]
pub struct RingSigner {
    key: Arc<RingKey>,
    rng: ring::rand::SystemRandom,
}

enum RingKey {
    Es256(ring::signature::EcdsaKeyPair),
    Ed25519(ring::signature::Ed25519KeyPair),
}

impl fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RingSigner([redacted])")
    }
}

impl RingSigner {
    /// From a PEM of `alg` (not RS256); `None` when `ring` does not take the
    /// key (then josekit signs with it). OpenSSL reads the PEM and writes the
    /// PKCS#8 DER ring reads.
    pub fn from_pem(alg: SigningAlg, pem: &[u8]) -> Option<RingSigner> {
        let der = openssl::pkey::PKey::private_key_from_pem(pem)
            .and_then(|k| k.private_key_to_pkcs8())
            .ok()?;
        let rng = ring::rand::SystemRandom::new();
        let key = match alg {
            SigningAlg::Es256 => RingKey::Es256(
                ring::signature::EcdsaKeyPair::from_pkcs8(
                    &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &der,
                    &rng,
                )
                .ok()?,
            ),
            SigningAlg::EdDsa => RingKey::Ed25519(
                ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).ok()?,
            ),
            SigningAlg::Rs256 => return None,
        };
        Some(RingSigner {
            key: Arc::new(key),
            rng,
        })
    }
}

impl JwsSigner for RingSigner {
    fn algorithm(&self) -> &dyn josekit::jws::JwsAlgorithm {
        match *self.key {
            RingKey::Es256(_) => &ES256,
            RingKey::Ed25519(_) => &EdDSA,
        }
    }

    /// The `kid` is set on each header (`tokens::sign_with`).
    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, josekit::JoseError> {
        match &*self.key {
            RingKey::Es256(k) => k
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| {
                    josekit::JoseError::InvalidSignature(anyhow::anyhow!("P-256 signing failed"))
                }),
            RingKey::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

fn load(meta: SigningKey) -> Result<LoadedKey, StoreError> {
    let err =
        |e: josekit::JoseError| StoreError::Internal(anyhow::anyhow!("key {}: {e}", meta.kid));
    let alg: SigningAlg = meta
        .alg
        .parse()
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("key {}: {e}", meta.kid)))?;
    let pem = meta.private_pem.as_bytes();
    // The header's `kid` is set when signing (`Provider::sign_jwt`).
    let (mut jwk, signer): (Jwk, Box<dyn JwsSigner>) = match alg {
        SigningAlg::Rs256 => (
            RS256
                .key_pair_from_pem(pem)
                .map_err(err)?
                .to_jwk_public_key(),
            Box::new(RS256.signer_from_pem(pem).map_err(err)?),
        ),
        SigningAlg::Es256 => (
            ES256
                .key_pair_from_pem(pem)
                .map_err(err)?
                .to_jwk_public_key(),
            match RingSigner::from_pem(alg, pem) {
                Some(s) => Box::new(s),
                None => Box::new(ES256.signer_from_pem(pem).map_err(err)?),
            },
        ),
        SigningAlg::EdDsa => (
            EdDSA
                .key_pair_from_pem(pem)
                .map_err(err)?
                .to_jwk_public_key(),
            match RingSigner::from_pem(alg, pem) {
                Some(s) => Box::new(s),
                None => Box::new(EdDSA.signer_from_pem(pem).map_err(err)?),
            },
        ),
    };
    jwk.set_key_id(meta.kid.clone());
    jwk.set_key_use("sig");
    jwk.set_algorithm(alg.as_str());
    let verifier: Box<dyn JwsVerifier> = match alg {
        SigningAlg::Rs256 => Box::new(RS256.verifier_from_jwk(&jwk).map_err(err)?),
        SigningAlg::Es256 => Box::new(ES256.verifier_from_jwk(&jwk).map_err(err)?),
        SigningAlg::EdDsa => Box::new(EdDSA.verifier_from_jwk(&jwk).map_err(err)?),
    };
    Ok(LoadedKey {
        meta,
        alg,
        signer,
        verifier,
        public_jwk: jwk,
    })
}

impl KeyManager {
    pub fn new() -> Self {
        Self {
            cache: RwLock::new(None),
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
        let existing = store.list_keys().await?;
        let activates_at = if existing.is_empty() {
            now
        } else {
            now + config.key_publication_delay
        };
        for alg in &config.signing_algs {
            if existing.iter().any(|k| k.alg == alg.as_str()) {
                continue;
            }
            let key = generate_key(*alg, now, activates_at)?;
            if store.insert_first_key(&key).await? {
                tracing::info!(kid = %key.kid, %alg, "generated the first signing key");
            }
        }
        self.reload(store, now).await
    }
    async fn reload(&self, store: &dyn OidcStore, now: DateTime<Utc>) -> Result<(), StoreError> {
        // Read before the keys: a change in between is seen at the next check.
        let version = store.keys_version().await?;
        let mut keys = Vec::new();
        for k in store.list_keys().await? {
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
        {
            let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = guard.as_ref()
                && c.fresh(now)
            {
                return Ok(c.keys.clone());
            }
        }
        self.refresh(store, now).await?;
        let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
        Ok(guard.as_ref().map(|c| c.keys.clone()).unwrap_or_default())
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
        if let Some(b) = self.cached_jwks(now) {
            return Ok(b);
        }
        self.refresh(store, now).await?;
        let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
        Ok(guard.as_ref().map(|c| c.jwks.clone()).unwrap_or_default())
    }

    fn cached_jwks(&self, now: DateTime<Utc>) -> Option<Bytes> {
        let guard = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let c = guard.as_ref()?;
        (c.fresh(now) && c.jwks_until.is_none_or(|u| now < u)).then(|| c.jwks.clone())
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

    /// ES256 and EdDSA keys sign with ring, and what they sign verifies with
    /// josekit (OpenSSL), the key's own verifier; a changed token does not.
    #[test]
    fn ring_signatures_verify_with_openssl() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
            let key = load(generate_key(alg, now, now).unwrap()).unwrap();
            assert_eq!(
                format!("{:?}", key.signer),
                "RingSigner([redacted])",
                "{alg}"
            );
            let mut claims = serde_json::Map::new();
            claims.insert("sub".into(), "alice".into());
            let token = crate::tokens::sign_with(&key, "JWT", claims.clone()).unwrap();
            let (payload, header) =
                josekit::jwt::decode_with_verifier(&token, key.verifier.as_ref()).unwrap();
            assert_eq!(payload.claims_set(), &claims, "{alg}");
            assert_eq!(header.algorithm(), Some(alg.as_str()));
            assert_eq!(header.key_id(), Some(key.meta.kid.as_str()));
            let mut forged = token.clone();
            forged.replace_range(forged.len() - 4.., "AAAA");
            assert!(
                josekit::jwt::decode_with_verifier(&forged, key.verifier.as_ref()).is_err(),
                "{alg}"
            );
        }
        let rsa = load(generate_key(SigningAlg::Rs256, now, now).unwrap()).unwrap();
        assert_ne!(format!("{:?}", rsa.signer), "RingSigner([redacted])");
    }
}

//! Upstream discovery documents and JWKS, cached per IdP. A cached entry is
//! used until it is `metadata_ttl` old; an ID token whose key is not in the
//! cached JWKS refreshes the JWKS once (key rotation), at most every
//! [`KID_REFRESH_INTERVAL`], so a stream of forged `kid`s cannot make Portico
//! hammer the IdP. Editing or deleting an IdP drops its entry (changes apply
//! immediately).

use crate::egress::GuardedHttp;
use crate::error::{FederationError, UpstreamProblem};
use crate::model::IdentityProvider;
use openidconnect::IssuerUrl;
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub(crate) const KID_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

struct Entry {
    issuer: String,
    metadata: CoreProviderMetadata,
    fetched: Instant,
    kid_refreshed: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct MetadataCache {
    entries: Mutex<HashMap<Uuid, Entry>>,
}

fn unavailable(detail: String) -> FederationError {
    FederationError::upstream(UpstreamProblem::Unavailable, detail)
}

/// Fetches and checks the discovery document and its JWKS (OIDC Discovery
/// §4: the document's `issuer` must equal the configured one exactly).
pub(crate) async fn discover(
    http: &GuardedHttp,
    issuer: &str,
) -> Result<CoreProviderMetadata, FederationError> {
    let url = IssuerUrl::new(issuer.to_string())
        .map_err(|e| FederationError::Invalid(format!("issuer: {e}")))?;
    CoreProviderMetadata::discover_async(url, http)
        .await
        .map_err(|e| unavailable(format!("discovery at {issuer} failed: {}", chain(&e))))
}

/// An error and its sources on one line (reqwest hides the useful part in
/// the source chain: "operation timed out", "connection refused").
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = inner.source();
    }
    s
}

impl MetadataCache {
    /// The IdP's metadata (with its JWKS), from the cache or freshly fetched.
    pub(crate) async fn metadata(
        &self,
        http: &GuardedHttp,
        idp: &IdentityProvider,
        ttl: Duration,
    ) -> Result<CoreProviderMetadata, FederationError> {
        if let Some(m) = self.cached(idp, ttl) {
            return Ok(m);
        }
        let metadata = discover(http, &idp.issuer).await?;
        let mut entries = self.lock();
        entries.insert(
            idp.id,
            Entry {
                issuer: idp.issuer.clone(),
                metadata: metadata.clone(),
                fetched: Instant::now(),
                kid_refreshed: None,
            },
        );
        Ok(metadata)
    }

    fn cached(&self, idp: &IdentityProvider, ttl: Duration) -> Option<CoreProviderMetadata> {
        let entries = self.lock();
        let e = entries.get(&idp.id)?;
        (e.issuer == idp.issuer && e.fetched.elapsed() < ttl).then(|| e.metadata.clone())
    }

    /// Fetches the JWKS again after an unknown `kid`; `None` when a refresh
    /// happened too recently to try another.
    pub(crate) async fn refresh_jwks(
        &self,
        http: &GuardedHttp,
        idp: &IdentityProvider,
        metadata: &CoreProviderMetadata,
    ) -> Result<Option<CoreJsonWebKeySet>, FederationError> {
        {
            let mut entries = self.lock();
            if let Some(e) = entries.get_mut(&idp.id) {
                if e.kid_refreshed
                    .is_some_and(|t| t.elapsed() < KID_REFRESH_INTERVAL)
                {
                    return Ok(None);
                }
                e.kid_refreshed = Some(Instant::now());
            }
        }
        let jwks = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|e| unavailable(format!("JWKS refresh failed: {}", chain(&e))))?;
        let mut entries = self.lock();
        if let Some(e) = entries.get_mut(&idp.id) {
            e.metadata = e.metadata.clone().set_jwks(jwks.clone());
        }
        Ok(Some(jwks))
    }

    pub(crate) fn invalidate(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Entry>> {
        // A panic while holding the lock cannot leave an entry half-written
        // (each write is one insert or field assignment), so keep going.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

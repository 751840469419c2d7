//! `portico-oidc`: the OpenID Provider (authorization server).
//!
//! It owns clients, grants, codes, tokens, signing keys, sessions, consents and
//! interactions, and the protocol endpoints: discovery, JWKS, authorize, token,
//! userinfo, introspection, revocation and RP-initiated logout.
//!
//! It must not render pages (it hands off to the UI through [`interaction`] and
//! the [`http::Pages`] trait), call upstream IdPs, or know how anything is
//! stored (it owns the repository traits in [`store`]).

pub mod access;
pub mod auth_policy;
pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod clients;
pub mod conditional_access;
pub mod config;
pub mod discovery;
pub mod error;
pub mod groups_claim;
pub mod http;
pub mod interaction;
pub mod introspect;
pub mod keys;
pub mod logout;
pub mod model;
pub mod sessions;
pub mod signers;
pub mod signin_log;
pub mod store;
pub mod token;
pub mod tokens;
pub mod userinfo;
pub mod verified;

use portico_core::{Clock, SecretHasher};
use std::sync::Arc;

pub use config::OidcConfig;
pub use error::{OAuthError, PageError};

/// The authorization server: configuration plus its dependencies.
pub struct Provider {
    pub config: OidcConfig,
    pub store: Arc<dyn store::OidcStore>,
    pub clock: Arc<dyn Clock>,
    pub hasher: SecretHasher,
    pub keys: keys::KeyManager,
    /// `discovery_bytes`, built on first use.
    discovery_document: std::sync::OnceLock<bytes::Bytes>,
    /// JWTs whose signature was already checked (verified.rs).
    pub(crate) verified: verified::VerifiedTokens,
}

impl Provider {
    pub fn new(
        config: OidcConfig,
        store: Arc<dyn store::OidcStore>,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
    ) -> Self {
        Self {
            config,
            store,
            clock,
            hasher,
            keys: keys::KeyManager::new(),
            discovery_document: std::sync::OnceLock::new(),
            verified: verified::VerifiedTokens::default(),
        }
    }

    /// Makes sure a signing key exists (first start) and loads the keys.
    pub async fn start(&self) -> Result<(), store::StoreError> {
        self.keys
            .ensure_key(self.store.as_ref(), &self.config, self.clock.now())
            .await?;
        self.ensure_first_party_clients().await
    }

    /// `portico keys rotate` and the admin API: a new key per configured
    /// algorithm, RS256's first, each audited with `actor` in the same
    /// transaction.
    pub async fn rotate_keys(
        &self,
        actor: &portico_core::audit::Actor,
    ) -> Result<Vec<model::SigningKey>, store::StoreError> {
        self.keys
            .rotate(self.store.as_ref(), &self.config, self.clock.now(), actor)
            .await
    }
}

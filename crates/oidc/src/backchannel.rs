//! OpenID Connect Back-Channel Logout 1.0. Rules:
//! - when a session ends (RP-initiated logout, an admin disabling, deleting or
//!   resetting the password of its user), storage writes one delivery per
//!   application the session signed in to (a grant carrying its `sid`) that
//!   registered a `backchannel_logout_uri`, in the transaction that ends it;
//! - a logout token (§2.4) is signed when it is sent: `typ` `logout+jwt`
//!   (§2.4 recommends it), `iss`, `aud` (the client id), `iat`, a short `exp`,
//!   `jti`, `sub`, `sid` and the back-channel logout `events` member; never a
//!   `nonce` (§2.4: forbidden, so it cannot pass as an ID token);
//! - it is POSTed form-encoded as `logout_token` (§2.5), with a timeout and no
//!   redirects followed; 200 or 204 is success (§2.8), anything else is
//!   retried with backoff, and after [`MAX_ATTEMPTS`] the delivery is given up
//!   and logged.

use crate::Provider;
use crate::error::OAuthError;
use crate::store::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use portico_core::random_token;
use serde_json::{Map, json};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The logout token's `typ` header (§2.4).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// The event member a logout token carries (§2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Tries per delivery before it is given up.
pub const MAX_ATTEMPTS: i32 = 6;
/// The first retry waits this long; each further one twice as long.
pub const FIRST_RETRY: TimeDelta = TimeDelta::seconds(30);
/// A logout token is for immediate use (§2.4 recommends a short lifetime).
const LOGOUT_TOKEN_TTL: TimeDelta = TimeDelta::minutes(2);
/// Deliveries one round sends at most.
const ROUND: u64 = 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One logout token to send: to `logout_uri` of `client_id`, about `sid`.
#[derive(Debug, Clone)]
pub struct LogoutDelivery {
    pub id: Uuid,
    pub client_id: String,
    pub logout_uri: String,
    pub sub: String,
    pub sid: String,
    /// Tries made so far.
    pub attempts: i32,
}

/// What one try of a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// Failed; try again at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    /// Failed for the last time.
    GaveUp {
        error: String,
    },
}

#[async_trait]
pub trait BackchannelStore: Send + Sync {
    /// Deliveries due at `now`, oldest first, at most `limit`.
    async fn due_logouts(&self, now: DateTime<Utc>, limit: u64)
    -> StoreResult<Vec<LogoutDelivery>>;
    /// Records a try: counts it, and finishes the delivery or schedules the next try.
    async fn record_logout_attempt(
        &self,
        id: Uuid,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retried: u32,
    pub given_up: u32,
}

/// The HTTP client for back-channel requests, built in this one place: no
/// redirects (a logout token goes only to the registered address), timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// The outcome after a failed try number `attempts` (1-based).
fn after_failure(attempts: i32, now: DateTime<Utc>, error: String) -> DeliveryOutcome {
    if attempts >= MAX_ATTEMPTS {
        DeliveryOutcome::GaveUp { error }
    } else {
        let factor = 1i32 << (attempts - 1).clamp(0, 10);
        DeliveryOutcome::Retry {
            at: now + FIRST_RETRY * factor,
            error,
        }
    }
}

impl Provider {
    /// The logout token for `d` (§2.4), signed like the client's ID tokens.
    pub async fn logout_token(&self, d: &LogoutDelivery) -> Result<String, OAuthError> {
        let now = self.clock.now();
        let alg = match self.store.find_client(&d.client_id).await? {
            Some(c) => c.id_token_alg(),
            None => crate::keys::SigningAlg::Rs256,
        };
        let mut c = Map::new();
        c.insert("iss".into(), json!(self.config.issuer));
        c.insert("aud".into(), json!(d.client_id));
        c.insert("iat".into(), json!(now.timestamp()));
        c.insert("exp".into(), json!((now + LOGOUT_TOKEN_TTL).timestamp()));
        c.insert("jti".into(), json!(random_token(16)));
        c.insert("sub".into(), json!(d.sub));
        c.insert("sid".into(), json!(d.sid));
        c.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
        self.sign_jwt(alg, LOGOUT_TOKEN_TYP, c).await
    }
}

/// Sends the due logout tokens. One instance per node; the server runs it
/// under a cluster-wide lease so one node sends at a time.
pub struct BackchannelSender {
    provider: Arc<Provider>,
    http: reqwest::Client,
}

impl BackchannelSender {
    pub fn new(provider: Arc<Provider>) -> Self {
        Self {
            provider,
            http: http_client(),
        }
    }

    /// One round: tries every due delivery once and records each outcome.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        let store = &self.provider.store;
        let due = store.due_logouts(self.provider.clock.now(), ROUND).await?;
        let mut report = DeliveryReport::default();
        for d in due {
            let outcome = match self.send(&d).await {
                Ok(()) => DeliveryOutcome::Delivered,
                Err(error) => after_failure(d.attempts + 1, self.provider.clock.now(), error),
            };
            match &outcome {
                DeliveryOutcome::Delivered => report.delivered += 1,
                DeliveryOutcome::Retry { error, .. } => {
                    report.retried += 1;
                    tracing::info!(client_id = %d.client_id, error, "back-channel logout failed; will retry");
                }
                DeliveryOutcome::GaveUp { error } => {
                    report.given_up += 1;
                    tracing::warn!(client_id = %d.client_id, uri = %d.logout_uri, error, attempts = d.attempts + 1, "back-channel logout given up");
                }
            }
            store
                .record_logout_attempt(d.id, &outcome, self.provider.clock.now())
                .await?;
        }
        Ok(report)
    }

    async fn send(&self, d: &LogoutDelivery) -> Result<(), String> {
        let token = self
            .provider
            .logout_token(d)
            .await
            .map_err(|e| format!("cannot sign: {e:?}"))?;
        let resp = self
            .http
            .post(&d.logout_uri)
            .form(&[("logout_token", token)])
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        match resp.status().as_u16() {
            200 | 204 => Ok(()),
            s => Err(format!("answered {s}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_and_stop_after_the_last_attempt() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let at = |n| match after_failure(n, now, "x".into()) {
            DeliveryOutcome::Retry { at, .. } => Some((at - now).num_seconds()),
            _ => None,
        };
        assert_eq!(at(1), Some(30));
        assert_eq!(at(2), Some(60));
        assert_eq!(at(5), Some(480));
        assert_eq!(at(MAX_ATTEMPTS), None);
    }
}

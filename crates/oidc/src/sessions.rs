//! Browser sessions. Only finishing an interaction creates one
//! (`authorize::answer`), so every session went through the policy: that is
//! why `start_session` is private to this crate. The cookie value is a random
//! token; only its keyed hash is stored.

use crate::Provider;
use crate::model::{Authentication, Session};
use crate::store::StoreError;
use portico_core::random_token;

impl Provider {
    /// Starts a session for `auth`, ending `replace` (the hash of the
    /// browser's previous session) first. Returns the cookie value and the `sid`.
    pub(crate) async fn start_session(
        &self,
        auth: Authentication,
        replace: Option<&str>,
    ) -> Result<(String, String), StoreError> {
        let now = self.clock.now();
        if let Some(old) = replace {
            self.store.end_session(old, now).await?;
        }
        let token = random_token(32);
        let s = Session {
            id_hash: self.hasher.hash("session", &token),
            sid: random_token(16),
            auth,
            created_at: now,
            expires_at: now + self.config.session_ttl,
        };
        self.store.create_session(&s).await?;
        Ok((token, s.sid))
    }

    /// Ends the session named by the cookie value (sign-out from the portal).
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        self.store
            .end_session(&self.hasher.hash("session", token), self.clock.now())
            .await
    }
}

//! Browser sessions outside `/authorize`: the UI starts one when a guest
//! redeems an invitation (so the app it lands on signs in without asking
//! again) and the admin portal reads it. The cookie value is a random token;
//! only its keyed hash is stored.

use crate::Provider;
use crate::http::SESSION_COOKIE;
use crate::http::authorize::portico_cookie;
use crate::model::{Authentication, Session};
use crate::store::StoreError;
use axum_extra::extract::cookie::Cookie;
use portico_core::random_token;

impl Provider {
    /// Starts a session for `auth`, ending `replace` (the browser's previous
    /// session) first. Returns the cookie to set.
    pub async fn start_session(
        &self,
        auth: Authentication,
        replace: Option<&str>,
    ) -> Result<Cookie<'static>, StoreError> {
        let now = self.clock.now();
        if let Some(old) = replace {
            self.store
                .end_session(&self.hasher.hash("session", old))
                .await?;
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
        Ok(portico_cookie(
            SESSION_COOKIE,
            token,
            "/".into(),
            self.config.session_ttl.num_seconds(),
            self.config.secure_cookies(),
        ))
    }

    /// Ends the session named by the cookie value (sign-out from the portal).
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        self.store
            .end_session(&self.hasher.hash("session", token))
            .await
    }
}

//! Portico's own pages as first-party OIDC clients of their own issuer: the
//! admin portal (`portico-admin`, under `/admin`) and the account pages
//! (`portico`, under `/account`). They sign in through `/authorize` like any
//! app, so the sign-in policy (MFA included) applies and every sign-in is
//! logged.
//!
//! Sign-in sets a random pre-session cookie and sends the browser to
//! `/authorize` with a `state` and a PKCE S256 challenge both derived from it
//! (keyed hashes), so a code is redeemed only by the browser that asked for
//! it. The callback redeems the code in-process (the token endpoint's
//! checks) and keeps the grant as the page session: its cookie names the
//! grant and carries its keyed MAC. Revoking the grant ends the session.

use super::UiState;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_core::random_token;
use portico_oidc::authorize::{FIRST_PARTY_CLIENT, PORTAL_CLIENT};
use portico_oidc::http::authorize::portico_cookie;
use portico_oidc::model::Grant;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// One first-party client and where its cookies live.
#[derive(Clone, Copy)]
pub struct FirstParty {
    pub client_id: &'static str,
    pub callback_path: &'static str,
    /// The session cookie (grant id + MAC), scoped to `path`.
    pub cookie: &'static str,
    signin_cookie: &'static str,
    pub path: &'static str,
    purpose: &'static str,
}

pub const PORTAL: FirstParty = FirstParty {
    client_id: PORTAL_CLIENT,
    callback_path: "/admin/callback",
    cookie: "portico_admin",
    signin_cookie: "portico_admin_signin",
    path: "/admin",
    purpose: "portal",
};

pub const ACCOUNT: FirstParty = FirstParty {
    client_id: FIRST_PARTY_CLIENT,
    callback_path: "/account/callback",
    cookie: "portico_account",
    signin_cookie: "portico_account_signin",
    path: "/account",
    purpose: "account",
};

pub const MYAPPS: FirstParty = FirstParty {
    client_id: FIRST_PARTY_CLIENT,
    callback_path: "/myapps/callback",
    cookie: "portico_myapps",
    signin_cookie: "portico_myapps_signin",
    path: "/myapps",
    purpose: "myapps",
};

/// The user signed in to a first-party page ([`FirstParty::signed_in`]).
pub struct SignedIn {
    pub user: portico_directory::User,
    pub grant: Grant,
    pub csrf: String,
}

/// The authorization response at the callback.
#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// Why a callback did not sign anyone in; the sentence is for the page.
pub struct SignInFailed(pub String);

impl FirstParty {
    fn tag(&self, what: &str) -> String {
        format!("{}-{what}", self.purpose)
    }

    pub fn redirect_uri(&self, s: &UiState) -> String {
        s.provider.config.endpoint(self.callback_path)
    }

    /// Sends the browser to `/authorize`, with `extra` parameters
    /// (`max_age`, `acr_values`).
    pub fn begin(&self, s: &UiState, jar: CookieJar, extra: &[(&str, &str)]) -> Response {
        let token = random_token(32);
        let cookie = portico_cookie(
            self.signin_cookie,
            token.clone(),
            self.path.into(),
            s.provider.config.interaction_ttl.num_seconds(),
            s.provider.config.secure_cookies(),
        );
        let verifier = s.provider.hasher.hash(&self.tag("pkce"), &token);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = s.provider.hasher.hash(&self.tag("state"), &token);
        let redirect_uri = self.redirect_uri(s);
        let mut params: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", redirect_uri.as_str()),
            ("scope", "openid profile email"),
            ("state", state.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        params.extend_from_slice(extra);
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        (
            jar.add(cookie),
            Redirect::to(&format!("/authorize?{query}")),
        )
            .into_response()
    }

    /// Checks `state` against this browser's pre-session cookie and redeems
    /// the code; on success the jar carries the session cookie.
    pub async fn finish(
        &self,
        s: &UiState,
        jar: CookieJar,
        q: CallbackQuery,
    ) -> (CookieJar, Result<Grant, SignInFailed>) {
        let stale = || {
            SignInFailed(
                "This sign-in was started in another browser, or too long ago. Sign in again."
                    .into(),
            )
        };
        let Some(token) = jar.get(self.signin_cookie).map(|c| c.value().to_string()) else {
            return (jar, Err(stale()));
        };
        let state_ok = q
            .state
            .as_deref()
            .is_some_and(|st| s.provider.hasher.verify(&self.tag("state"), &token, st));
        if !state_ok {
            return (jar, Err(stale()));
        }
        let jar = jar.remove(Cookie::build(self.signin_cookie).path(self.path));
        if let Some(error) = q.error {
            tracing::info!(%error, description = ?q.error_description, client = self.client_id, "first-party sign-in refused");
            let msg = q
                .error_description
                .unwrap_or_else(|| "The sign-in was not completed.".into());
            return (jar, Err(SignInFailed(msg)));
        }
        let verifier = s.provider.hasher.hash(&self.tag("pkce"), &token);
        let grant = s
            .provider
            .redeem_first_party_code(
                self.client_id,
                q.code.as_deref().unwrap_or_default(),
                &self.redirect_uri(s),
                &verifier,
            )
            .await;
        match grant {
            Ok(g) => {
                let cookie = portico_cookie(
                    self.cookie,
                    self.cookie_value(s, g.id),
                    self.path.into(),
                    s.provider.config.session_ttl.num_seconds(),
                    s.provider.config.secure_cookies(),
                );
                (jar.add(cookie), Ok(g))
            }
            Err(e) => {
                tracing::info!(
                    error = e.code,
                    client = self.client_id,
                    "first-party code refused"
                );
                let msg = "The sign-in could not be completed. Sign in again.".to_string();
                (jar, Err(SignInFailed(msg)))
            }
        }
    }

    fn cookie_value(&self, s: &UiState, grant_id: Uuid) -> String {
        let id = grant_id.to_string();
        let mac = s.provider.hasher.hash(&self.tag("session"), &id);
        format!("{id}.{mac}")
    }

    /// The session cookie's value, if the jar holds one with a valid MAC.
    pub fn token(&self, s: &UiState, jar: &CookieJar) -> Option<(String, Uuid)> {
        let token = jar.get(self.cookie)?.value().to_string();
        let (id, mac) = token.split_once('.')?;
        if !s.provider.hasher.verify(&self.tag("session"), id, mac) {
            return None;
        }
        let id = Uuid::parse_str(id).ok()?;
        Some((token, id))
    }

    /// Who is signed in to this first-party page: the live grant, its user
    /// while they may still sign in, and the CSRF token of the page's forms
    /// (keyed by `csrf_purpose`). `None`: sign in again.
    pub async fn signed_in(
        &self,
        s: &UiState,
        jar: &CookieJar,
        csrf_purpose: &str,
    ) -> Result<Option<SignedIn>, portico_oidc::error::PageError> {
        let Some((token, grant)) = self.session(s, jar).await? else {
            return Ok(None);
        };
        let Some(user_id) = grant.user_id else {
            return Ok(None);
        };
        let now = s.provider.clock.now();
        let user = match s.directory.find_user(user_id).await {
            Ok(u) if u.can_sign_in(now) => u,
            _ => return Ok(None),
        };
        Ok(Some(SignedIn {
            user,
            grant,
            csrf: s.provider.hasher.hash(csrf_purpose, &token),
        }))
    }

    /// The live grant behind the session cookie: not revoked, of this
    /// client, within the session lifetime.
    pub async fn session(
        &self,
        s: &UiState,
        jar: &CookieJar,
    ) -> Result<Option<(String, Grant)>, portico_oidc::store::StoreError> {
        let Some((token, grant_id)) = self.token(s, jar) else {
            return Ok(None);
        };
        let now = s.provider.clock.now();
        let grant = s.provider.store.find_grant(grant_id).await?.filter(|g| {
            g.revoked_at.is_none()
                && g.client_id == self.client_id
                && g.created_at + s.provider.config.session_ttl > now
        });
        Ok(grant.map(|g| (token, g)))
    }

    /// Removes the session cookie.
    pub fn sign_out(&self, jar: CookieJar) -> CookieJar {
        jar.remove(Cookie::build(self.cookie).path(self.path))
    }
}

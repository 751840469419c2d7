//! Admin sign-in and sign-out. The portal is a first-party OIDC client of its
//! own issuer (`portico-admin`): it signs in through `/authorize` like any
//! app, so the sign-in policy (MFA included) applies to admins too, and the
//! sign-in is recorded like any other.
//!
//! `GET /admin/signin` sets a random pre-session cookie and sends the browser
//! to `/authorize` with a `state` and a PKCE S256 challenge both derived from
//! it (keyed hashes), so a code can only be redeemed by the browser that
//! asked for it. `GET /admin/callback` redeems the code in-process (the token
//! endpoint's checks) and keeps the grant as the portal session: the cookie
//! names the grant and carries its keyed MAC; revoking the grant (sign-out,
//! disabling the user) ends the portal session.

use super::auth::{Admin, PORTAL_COOKIE, PORTAL_PATH, current_admin, portal_cookie_value};
use super::error::PortalError;
use crate::http::UiState;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_core::random_token;
use portico_oidc::PageError;
use portico_oidc::authorize::PORTAL_CLIENT;
use portico_oidc::http::authorize::portico_cookie;
use portico_oidc::http::{SESSION_COOKIE, request_id};
use serde::Deserialize;
use sha2::{Digest, Sha256};

const SIGNIN_COOKIE: &str = "portico_admin_signin";
const STATE_PURPOSE: &str = "portal-state";
const PKCE_PURPOSE: &str = "portal-pkce";

pub async fn signin_get(State(s): State<UiState>, jar: CookieJar) -> Result<Response, PortalError> {
    if current_admin(&s, &jar).await?.is_some() {
        return Ok(Redirect::to("/admin/users").into_response());
    }
    let token = random_token(32);
    let cookie = portico_cookie(
        SIGNIN_COOKIE,
        token.clone(),
        PORTAL_PATH.into(),
        s.provider.config.interaction_ttl.num_seconds(),
        s.provider.config.secure_cookies(),
    );
    let verifier = s.provider.hasher.hash(PKCE_PURPOSE, &token);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let redirect_uri = s.provider.portal_redirect_uri();
    let state = s.provider.hasher.hash(STATE_PURPOSE, &token);
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", PORTAL_CLIENT),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "openid profile email"),
        ("state", state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ])
    .map_err(PortalError::internal)?;
    Ok((
        jar.add(cookie),
        Redirect::to(&format!("/authorize?{query}")),
    )
        .into_response())
}

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

fn signin_failed(s: &UiState, message: &str, headers: &HeaderMap) -> Response {
    let e = PageError::new("admin_signin_failed", message.to_string()).with_status(403);
    let _ = s;
    crate::pages::error_response(&e, &request_id(headers))
}

/// `GET /admin/callback`: the authorization response for the portal.
pub async fn callback_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let Some(token) = jar.get(SIGNIN_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(signin_failed(
            &s,
            "This sign-in was started in another browser, or too long ago. Sign in again.",
            &headers,
        ));
    };
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|st| s.provider.hasher.verify(STATE_PURPOSE, &token, st));
    if !state_ok {
        return Ok(signin_failed(
            &s,
            "This sign-in was started in another browser, or too long ago. Sign in again.",
            &headers,
        ));
    }
    let jar = jar.remove(Cookie::build(SIGNIN_COOKIE).path(PORTAL_PATH));
    if let Some(error) = q.error {
        tracing::info!(%error, description = ?q.error_description, "portal sign-in refused");
        let msg = q
            .error_description
            .unwrap_or_else(|| "The sign-in was not completed.".into());
        return Ok((jar, signin_failed(&s, &msg, &headers)).into_response());
    }
    let verifier = s.provider.hasher.hash(PKCE_PURPOSE, &token);
    let grant = match s
        .provider
        .redeem_first_party_code(
            PORTAL_CLIENT,
            q.code.as_deref().unwrap_or_default(),
            &s.provider.portal_redirect_uri(),
            &verifier,
        )
        .await
    {
        Ok(g) => g,
        Err(e) => {
            tracing::info!(error = e.code, "portal code refused");
            return Ok((
                jar,
                signin_failed(
                    &s,
                    "The sign-in could not be completed. Sign in again.",
                    &headers,
                ),
            )
                .into_response());
        }
    };
    let value = portal_cookie_value(&s, grant.id);
    let cookie = portico_cookie(
        PORTAL_COOKIE,
        value,
        PORTAL_PATH.into(),
        s.provider.config.session_ttl.num_seconds(),
        s.provider.config.secure_cookies(),
    );
    let jar = jar.add(cookie);
    if current_admin(&s, &jar).await?.is_none() {
        // Signed in, but not as an administrator: the grant is of no use.
        let now = s.provider.clock.now();
        s.provider
            .store
            .revoke_grant(grant.id, now)
            .await
            .map_err(PortalError::internal)?;
        let jar = jar.remove(Cookie::build(PORTAL_COOKIE).path(PORTAL_PATH));
        let page = signin_failed(
            &s,
            "This account is not an administrator of this organization.",
            &headers,
        );
        return Ok((jar, page).into_response());
    }
    Ok((jar, Redirect::to("/admin/users")).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Ends the portal's grant and the browser's Portico session.
pub async fn signout_post(
    admin: Admin,
    State(s): State<UiState>,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let now = s.provider.clock.now();
    s.provider
        .store
        .revoke_grant(admin.grant_id, now)
        .await
        .map_err(PortalError::internal)?;
    if let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        s.provider
            .end_session(&session)
            .await
            .map_err(PortalError::internal)?;
    }
    let jar = jar
        .remove(Cookie::build(SESSION_COOKIE).path("/"))
        .remove(Cookie::build(PORTAL_COOKIE).path(PORTAL_PATH));
    Ok((jar, Redirect::to("/admin/signin")).into_response())
}

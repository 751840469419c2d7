//! Admin sign-in and sign-out. The portal is the first-party OIDC client
//! `portico-admin` (`http/first_party.rs`): `/admin/signin` goes to
//! `/authorize`, `/admin/callback` redeems the code and keeps the grant as
//! the portal session. Only administrators get a portal; anyone else's grant
//! is revoked at once.

use super::auth::{Admin, current_admin};
use super::error::PortalError;
use crate::http::UiState;
use crate::http::first_party::{CallbackQuery, PORTAL, SignInFailed};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use portico_oidc::PageError;
use portico_oidc::http::{SESSION_COOKIE, request_id};
use serde::Deserialize;

pub async fn signin_get(State(s): State<UiState>, jar: CookieJar) -> Result<Response, PortalError> {
    if current_admin(&s, &jar).await?.is_some() {
        return Ok(Redirect::to("/admin/users").into_response());
    }
    Ok(PORTAL.begin(&s, jar, &[]))
}

fn signin_failed(message: &str, headers: &HeaderMap) -> Response {
    let e = PageError::new("admin_signin_failed", message.to_string()).with_status(403);
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
    let (jar, grant) = PORTAL.finish(&s, jar, q).await;
    let grant = match grant {
        Ok(g) => g,
        Err(SignInFailed(msg)) => return Ok((jar, signin_failed(&msg, &headers)).into_response()),
    };
    if current_admin(&s, &jar).await?.is_none() {
        // Signed in, but not as an administrator: the grant is of no use.
        let now = s.provider.clock.now();
        s.provider
            .store
            .revoke_grant(grant.id, now)
            .await
            .map_err(PortalError::internal)?;
        let page = signin_failed(
            "This account is not an administrator of this organization.",
            &headers,
        );
        return Ok((PORTAL.sign_out(jar), page).into_response());
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
    let jar = PORTAL.sign_out(jar.remove(Cookie::build(SESSION_COOKIE).path("/")));
    Ok((jar, Redirect::to("/admin/signin")).into_response())
}

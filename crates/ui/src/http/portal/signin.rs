//! Admin sign-in and sign-out.
//!
//! The sign-in form is protected before any session exists by a double-submit
//! token: a random cookie scoped to `/admin/signin` and, in the form, its
//! keyed hash. A page on another site can neither read the cookie nor compute
//! the hash, so it cannot sign a browser in to an account of its choosing.

use super::auth::{Admin, current_admin};
use super::error::PortalError;
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use portico_core::random_token;
use portico_oidc::http::SESSION_COOKIE;
use portico_oidc::http::authorize::portico_cookie;
use portico_oidc::model::Authentication;
use serde::Deserialize;

const SIGNIN_COOKIE: &str = "portico_admin_signin";
const SIGNIN_PATH: &str = "/admin/signin";
const SIGNIN_PURPOSE: &str = "portal-signin";
const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

#[derive(Template, WebTemplate)]
#[template(path = "admin_signin.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<String>,
}

/// The page, with a fresh pre-session token when the browser has none.
fn page(
    s: &UiState,
    jar: CookieJar,
    email: String,
    error: Option<&str>,
) -> (CookieJar, SignInPage) {
    let (jar, token) = match jar.get(SIGNIN_COOKIE).map(|c| c.value().to_string()) {
        Some(t) => (jar, t),
        None => {
            let t = random_token(32);
            let secure = s.provider.config.secure_cookies();
            let c = portico_cookie(SIGNIN_COOKIE, t.clone(), SIGNIN_PATH.into(), 3600, secure);
            (jar.add(c), t)
        }
    };
    let csrf = s.provider.hasher.hash(SIGNIN_PURPOSE, &token);
    let error = error.map(str::to_string);
    (jar, SignInPage { csrf, email, error })
}

pub async fn signin_get(State(s): State<UiState>, jar: CookieJar) -> Result<Response, PortalError> {
    if current_admin(&s, &jar).await?.is_some() {
        return Ok(Redirect::to("/admin/users").into_response());
    }
    Ok(page(&s, jar, String::new(), None).into_response())
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn signin_post(
    State(s): State<UiState>,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Result<Response, PortalError> {
    let csrf_ok = jar
        .get(SIGNIN_COOKIE)
        .is_some_and(|c| s.provider.hasher.verify(SIGNIN_PURPOSE, c.value(), &f.csrf));
    if !csrf_ok {
        // Most often an expired cookie: show the form again with a new token.
        let msg = "The sign-in form expired. Please try again.";
        let jar = jar.remove(Cookie::build(SIGNIN_COOKIE).path(SIGNIN_PATH));
        return Ok((StatusCode::FORBIDDEN, page(&s, jar, f.email, Some(msg))).into_response());
    }
    let now = s.provider.clock.now();
    // Same key as the interaction sign-in: both guess the same password.
    let key = f.email.trim().to_lowercase();
    if s.limiter.is_blocked(&key, now) {
        let msg = "Too many failed attempts. Wait a few minutes and try again.";
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            page(&s, jar, f.email, Some(msg)),
        )
            .into_response());
    }
    let user = s
        .directory
        .authenticate(&f.email, &f.password)
        .await
        .map_err(PortalError::internal)?;
    // A right password of someone who is not an admin gets the same answer
    // as a wrong one: the page must not tell which accounts are admins.
    let Some(user) = user.filter(|u| u.is_admin) else {
        s.limiter.record_failure(&key, now);
        return Ok((
            StatusCode::BAD_REQUEST,
            page(&s, jar, f.email, Some(BAD_CREDENTIALS)),
        )
            .into_response());
    };
    s.limiter.clear(&key);
    let auth = Authentication {
        user_id: user.id,
        auth_time: now,
        amr: vec!["pwd".into()],
        idp: None,
    };
    // Replacing the browser's previous session stops session fixation.
    let old = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let cookie = s
        .provider
        .start_session(auth, old.as_deref())
        .await
        .map_err(PortalError::internal)?;
    let jar = jar
        .add(cookie)
        .remove(Cookie::build(SIGNIN_COOKIE).path(SIGNIN_PATH));
    Ok((jar, Redirect::to("/admin/users")).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn signout_post(
    admin: Admin,
    State(s): State<UiState>,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    s.provider
        .end_session(&admin.token)
        .await
        .map_err(PortalError::internal)?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to(SIGNIN_PATH)).into_response())
}

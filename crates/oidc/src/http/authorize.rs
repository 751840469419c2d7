//! `/authorize` (GET and POST) and `/interaction/{id}/resume`.

use super::errors::request_id;
use super::{OidcState, SESSION_COOKIE};
use crate::authorize::{
    AuthorizeOutcome, ParamError, ParamLimits, RawParams, ResponseMode, parse_pairs,
};
use crate::error::PageError;
use crate::interaction::INTERACTION_COOKIE;
use crate::signin_log::RequestContext;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use cookie::time::Duration;

/// A cookie with Portico's attributes: HttpOnly, SameSite=Lax, Secure on https.
pub fn portico_cookie(
    name: &'static str,
    value: String,
    path: String,
    max_age_secs: i64,
    secure: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(max_age_secs))
        .build()
}

fn outcome_response(
    s: &OidcState,
    jar: CookieJar,
    headers: &HeaderMap,
    outcome: AuthorizeOutcome,
) -> Response {
    let cfg = &s.provider.config;
    let secure = cfg.secure_cookies();
    let answer = |jar: CookieJar, resp: crate::authorize::AuthorizationResponse| match resp.mode() {
        ResponseMode::Query => (jar, Redirect::to(&resp.query_url())).into_response(),
        ResponseMode::FormPost => {
            (jar, s.pages.form_post(resp.redirect.uri(), &resp.params)).into_response()
        }
    };
    match outcome {
        AuthorizeOutcome::Respond(resp) => answer(jar, resp),
        AuthorizeOutcome::RespondWithSession {
            response,
            session_token,
        } => {
            let ttl = cfg.session_ttl.num_seconds();
            let jar = jar.add(portico_cookie(
                SESSION_COOKIE,
                session_token,
                "/".into(),
                ttl,
                secure,
            ));
            answer(jar, response)
        }
        AuthorizeOutcome::Interact { id, browser_secret } => {
            let path = format!("/interaction/{id}");
            let ttl = cfg.interaction_ttl.num_seconds();
            let jar = jar.add(portico_cookie(
                INTERACTION_COOKIE,
                browser_secret,
                path.clone(),
                ttl,
                secure,
            ));
            (jar, Redirect::to(&path)).into_response()
        }
        AuthorizeOutcome::Land { url, session_token } => {
            let jar = match session_token {
                Some(token) => jar.add(portico_cookie(
                    SESSION_COOKIE,
                    token,
                    "/".into(),
                    cfg.session_ttl.num_seconds(),
                    secure,
                )),
                None => jar,
            };
            (jar, Redirect::to(&url)).into_response()
        }
        AuthorizeOutcome::Page(err) => s.pages.error(&err, &request_id(headers)),
    }
}

async fn run(
    s: OidcState,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    pairs: Result<Vec<(String, String)>, PageError>,
) -> Response {
    let pairs = match pairs {
        Ok(p) => p,
        Err(e) => return s.pages.error(&e, &request_id(&headers)),
    };
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let outcome = s
        .provider
        .authorize(RawParams::new(pairs), session.as_deref(), &ctx)
        .await;
    outcome_response(&s, jar, &headers, outcome)
}

/// Before the client is known, so a page (RFC 6749 §4.1.2.1), never a redirect.
fn unreadable(e: ParamError) -> PageError {
    PageError::new(
        "invalid_request",
        match e {
            ParamError::TooLarge => "The sign-in request is too large.",
            ParamError::TooManyParams => "The sign-in request has too many parameters.",
            ParamError::Malformed => "The sign-in request is malformed.",
        },
    )
}

pub async fn authorize_get(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    RawQuery(q): RawQuery,
) -> Response {
    let query = q.unwrap_or_default();
    let pairs = parse_pairs(query.as_bytes(), ParamLimits::AUTHORIZE).map_err(unreadable);
    run(s, jar, headers, ctx, pairs).await
}

pub async fn authorize_post(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let pairs = match body {
        Err(_) => Err(unreadable(ParamError::TooLarge)),
        Ok(body) => super::parse_form(&headers, Ok(body), ParamLimits::AUTHORIZE)
            .map_err(|e| PageError::new("invalid_request", e.description)),
    };
    run(s, jar, headers, ctx, pairs).await
}

pub async fn resume_get(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Response {
    let secret = jar.get(INTERACTION_COOKIE).map(|c| c.value().to_string());
    let outcome = s.provider.resume(&id, secret.as_deref(), &ctx).await;
    let done = !matches!(
        outcome,
        AuthorizeOutcome::Interact { .. } | AuthorizeOutcome::Page(_)
    );
    let jar = if done {
        jar.remove(Cookie::build(INTERACTION_COOKIE).path(format!("/interaction/{id}")))
    } else {
        jar
    };
    outcome_response(&s, jar, &headers, outcome)
}

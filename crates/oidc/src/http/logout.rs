//! `/logout` (RP-initiated logout) and its confirmation form.

use super::errors::{parse_form, request_id};
use super::{OidcState, SESSION_COOKIE};
use crate::authorize::{ParamError, ParamLimits, RawParams, parse_pairs};
use crate::error::PageError;
use crate::logout::LogoutOutcome;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use subtle::ConstantTimeEq;

async fn run(
    s: OidcState,
    jar: CookieJar,
    headers: HeaderMap,
    pairs: Result<Vec<(String, String)>, PageError>,
    confirmed: bool,
) -> Response {
    let rid = request_id(&headers);
    let pairs = match pairs {
        Ok(p) => p,
        Err(e) => return s.pages.error(&e, &rid),
    };
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    if confirmed {
        let csrf = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        let expected = session
            .as_deref()
            .map(|t| s.provider.logout_csrf(t))
            .unwrap_or_default();
        if !bool::from(csrf.as_bytes().ct_eq(expected.as_bytes())) || expected.is_empty() {
            return s.pages.error(
                &PageError::new("invalid_csrf", "This form has expired. Please try again.")
                    .with_status(403),
                &rid,
            );
        }
    }
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    match s
        .provider
        .logout(RawParams::new(pairs), session.as_deref(), confirmed)
        .await
    {
        Err(e) => s.pages.error(&e, &rid),
        Ok(LogoutOutcome::Confirm {
            client_name,
            hidden,
        }) => {
            let csrf = session
                .as_deref()
                .map(|t| s.provider.logout_csrf(t))
                .unwrap_or_default();
            s.pages
                .logout_confirm(client_name.as_deref(), &hidden, &csrf)
        }
        Ok(LogoutOutcome::Done { redirect }) => {
            let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
            match redirect {
                Some(url) => (jar, Redirect::to(&url)).into_response(),
                None => (jar, s.pages.logged_out()).into_response(),
            }
        }
    }
}

fn unreadable(e: ParamError) -> PageError {
    PageError::new(
        "invalid_request",
        match e {
            ParamError::TooLarge => "The sign-out request is too large.",
            ParamError::TooManyParams => "The sign-out request has too many parameters.",
            ParamError::Malformed => "The sign-out request is malformed.",
        },
    )
}

fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Vec<(String, String)>, PageError> {
    match body {
        Err(_) => Err(unreadable(ParamError::TooLarge)),
        Ok(body) => parse_form(headers, Ok(body), ParamLimits::LOGOUT)
            .map_err(|e| PageError::new("invalid_request", e.description)),
    }
}

pub async fn logout_get(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let query = q.unwrap_or_default();
    let pairs = parse_pairs(query.as_bytes(), ParamLimits::LOGOUT).map_err(unreadable);
    run(s, jar, headers, pairs, false).await
}

pub async fn logout_post(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let pairs = read_body(&headers, body);
    run(s, jar, headers, pairs, false).await
}

pub async fn logout_confirm_post(
    State(s): State<OidcState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let pairs = read_body(&headers, body);
    run(s, jar, headers, pairs, true).await
}

//! `/token`, `/introspect`, `/revoke`: form bodies, client authentication, JSON answers.

use super::OidcState;
use super::errors::{no_store, parse_form};
use crate::authorize::ParamLimits;
use crate::error::OAuthError;
use crate::model::Client;
use crate::token::{TokenForm, parse_basic};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

fn basic(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(v)) => parse_basic(v),
        Some(Err(_)) => Err(OAuthError::invalid_client(
            "Malformed Authorization header.",
        )),
    }
}

fn form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(TokenForm, Option<(String, String)>), OAuthError> {
    let form = TokenForm::new(parse_form(headers, body, ParamLimits::TOKEN)?);
    form.reject_repeated()?;
    Ok((form, basic(headers)?))
}

pub async fn token_post(
    State(s): State<OidcState>,
    ctx: crate::signin_log::RequestContext,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let (form, basic) = form(&headers, body)?;
        s.provider.token(form, basic, &ctx).await
    }
    .await;
    match result {
        Ok(t) => (no_store(), Json(t)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Who may call the endpoint besides confidential clients.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Callers {
    ConfidentialOnly,
    /// RFC 7009 §2.1: a public client identifies itself with `client_id`
    /// alone and may revoke its own tokens.
    PublicToo,
}

async fn authed(
    s: &OidcState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    callers: Callers,
) -> Result<(TokenForm, Client), OAuthError> {
    let (form, basic) = form(headers, body)?;
    let client = s
        .provider
        .authenticate_client(&form.credentials(basic))
        .await?;
    if client.secret_hash.is_none() && callers == Callers::ConfidentialOnly {
        return Err(OAuthError::invalid_client(
            "Only confidential clients may use this endpoint.",
        ));
    }
    Ok((form, client))
}

/// RFC 7662 §2.
pub async fn introspect_post(
    State(s): State<OidcState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let (form, client) = authed(&s, &headers, body, Callers::ConfidentialOnly).await?;
        let token = form.require("token")?;
        s.provider.introspect(&client, token).await
    }
    .await;
    match result {
        Ok(v) => (no_store(), Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// RFC 7009 §2.
pub async fn revoke_post(
    State(s): State<OidcState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let (form, client) = authed(&s, &headers, body, Callers::PublicToo).await?;
        let token = form.require("token")?;
        s.provider
            .revoke(&client, token, form.get("token_type_hint"))
            .await
    }
    .await;
    match result {
        Ok(()) => (no_store(), "").into_response(),
        Err(e) => e.into_response(),
    }
}

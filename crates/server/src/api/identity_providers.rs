//! `/api/v1/identityProviders` (`IdentityProvider.ReadWrite.All`): the
//! trusted upstream OpenID providers guests sign in with, in the shape of
//! Graph's `openIdConnectIdentityProvider`, plus `POST …/{id}/test` (the
//! connection trace). The client secret is write-only: no answer carries it.
//! Creating or changing an IdP never contacts it; only the test does.
//! A new `issuer` needs `clientSecret` in the same PATCH. Each IdP carries its
//! version in `ETag`; a `PATCH` with a stale `If-Match` answers 412. Create,
//! update and delete are audited with their actor.

use super::{ApiError, Caller, Json, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_federation::{IdentityProvider, IdpInput, IdpPatch};
use serde_json::{Value, json};

const PERMISSION: &str = "IdentityProvider.ReadWrite.All";
const PATH: &str = "/api/v1/identityProviders";

/// The API (and CLI) view of an IdP. `redirectUri` is the one URI the admin
/// registers at the upstream; the secret only shows as `clientSecretSet`.
pub fn to_json(idp: &IdentityProvider, redirect_uri: &str) -> Value {
    json!({
        "id": idp.id,
        "displayName": idp.display_name,
        "type": "OpenIdConnect",
        "issuer": idp.issuer,
        "clientId": idp.client_id,
        "clientSecretSet": !idp.client_secret.is_empty(),
        "scopes": idp.scopes,
        "domains": idp.domains,
        "claimsMapping": {
            "email": idp.claims_mapping.email,
            "emailVerified": idp.claims_mapping.email_verified,
            "displayName": idp.claims_mapping.display_name,
        },
        "enabled": idp.enabled,
        "mfaTrust": idp.mfa_trust,
        "redirectUri": redirect_uri,
        "createdDateTime": idp.created_at,
        "lastModifiedDateTime": idp.updated_at,
    })
}

fn one(app: &App, idp: &IdentityProvider) -> Value {
    to_json(idp, &app.federation.redirect_uri())
}

/// The IdP's version: its view plus a keyed hash of the secret (so a new
/// secret is a new version, and the tag reveals nothing about the secret).
fn etag(app: &App, idp: &IdentityProvider) -> String {
    let secret = app.provider.hasher.hash("idp-etag", &idp.client_secret);
    let content = format!(
        "{}|{}|{}",
        idp.audit_view(),
        idp.updated_at.timestamp_micros(),
        secret
    );
    portico_core::entity_tag(content.as_bytes())
}

fn with_etag(app: &App, idp: &IdentityProvider, mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&etag(app, idp)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

pub async fn identity_providers_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<IdpInput>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let idp = app.federation.create(body, &caller.actor).await?;
    let mut resp = (StatusCode::CREATED, axum::Json(one(&app, &idp))).into_response();
    let location = format!("{}{PATH}/{}", app.settings.issuer, idp.id);
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

pub async fn identity_providers_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let list = app.federation.list().await?;
    let value: Vec<Value> = list.iter().map(|i| one(&app, i)).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

pub async fn identity_provider_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let idp = app.federation.get(parse_id(&id)?).await?;
    let resp = axum::Json(one(&app, &idp)).into_response();
    Ok(with_etag(&app, &idp, resp))
}

/// Applies at once: the next sign-in and home-realm lookup see the change.
pub async fn identity_provider_patch(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<IdpPatch>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let id = parse_id(&id)?;
    let before = app.federation.get(id).await?;
    if let Some(v) = headers.get(header::IF_MATCH) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::bad_request("If-Match is not a valid entity tag."))?;
        if !portico_core::if_match(v, &etag(&app, &before)) {
            return Err(ApiError::stale());
        }
    }
    let idp = app.federation.update(id, body, &caller.actor).await?;
    let resp = axum::Json(one(&app, &idp)).into_response();
    Ok(with_etag(&app, &idp, resp))
}

pub async fn identity_provider_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let id = parse_id(&id)?;
    app.federation.delete(id, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The connection trace. It answers 200 whatever the IdP did: the report's
/// `ok` and its steps say what is wrong; a 4xx/5xx means the call itself failed.
pub async fn identity_provider_test_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let idp = app.federation.get(parse_id(&id)?).await?;
    let report = app.federation.test_connection(&idp).await;
    Ok(axum::Json(report).into_response())
}

//! `/api/v1/identityProviders` (`IdentityProvider.ReadWrite.All`): the
//! trusted upstream OpenID providers guests sign in with, in the shape of
//! Graph's `openIdConnectIdentityProvider`, plus `POST …/{id}/test` (the
//! connection trace). The client secret is write-only: no answer carries it.
//! Creating or changing an IdP never contacts it; only the test does.
//! A new `issuer` needs `clientSecret` in the same PATCH. Each IdP carries its
//! version in `ETag`; a `PATCH` with a stale `If-Match` answers 412. Create,
//! update and delete are audited with their actor.

use super::{ApiError, Caller, ErrorBody, Json, Page, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_federation::{IdentityProvider, IdpInput, IdpPatch};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const PERMISSION: &str = "IdentityProvider.ReadWrite.All";
const PATH: &str = "/api/v1/identityProviders";

/// The API (and CLI) view of an IdP: Graph's `openIdConnectIdentityProvider`
/// shape. `redirectUri` is the one URI the admin registers at the upstream;
/// the secret only shows as `clientSecretSet`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = IdentityProvider)]
pub struct IdpView {
    id: Uuid,
    display_name: String,
    /// Always `OpenIdConnect`.
    #[serde(rename = "type")]
    kind: &'static str,
    issuer: String,
    client_id: String,
    client_secret_set: bool,
    scopes: Vec<String>,
    /// Email domains whose guests sign in here (home-realm discovery).
    domains: Vec<String>,
    claims_mapping: ClaimsMappingView,
    enabled: bool,
    /// When the upstream's MFA counts (`null`: never).
    mfa_trust: Option<MfaTrustView>,
    redirect_uri: String,
    created_date_time: DateTime<Utc>,
    last_modified_date_time: DateTime<Utc>,
}

/// Which upstream claims carry the email, its verification and the name.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimsMappingView {
    email: String,
    email_verified: String,
    display_name: String,
}

/// `mfaTrust`: the upstream's MFA counts when its `amr` or `acr` is one of
/// these and its `auth_time` is at most `maxAgeMinutes` old.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MfaTrustView {
    amr_values: Vec<String>,
    acr_values: Vec<String>,
    max_age_minutes: i64,
}

/// The connection test's trace.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TestReportView {
    /// Every step passed.
    ok: bool,
    steps: Vec<TraceStepView>,
}

/// One step of the trace (discovery, JWKS, …).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct TraceStepView {
    name: String,
    ok: bool,
    /// What was found, or what is wrong.
    detail: String,
}

pub fn view(idp: &IdentityProvider, redirect_uri: &str) -> IdpView {
    IdpView {
        id: idp.id,
        display_name: idp.display_name.clone(),
        kind: "OpenIdConnect",
        issuer: idp.issuer.clone(),
        client_id: idp.client_id.clone(),
        client_secret_set: !idp.client_secret.is_empty(),
        scopes: idp.scopes.clone(),
        domains: idp.domains.clone(),
        claims_mapping: ClaimsMappingView {
            email: idp.claims_mapping.email.clone(),
            email_verified: idp.claims_mapping.email_verified.clone(),
            display_name: idp.claims_mapping.display_name.clone(),
        },
        enabled: idp.enabled,
        mfa_trust: idp.mfa_trust.as_ref().map(|t| MfaTrustView {
            amr_values: t.amr_values.clone(),
            acr_values: t.acr_values.clone(),
            max_age_minutes: t.max_age_minutes,
        }),
        redirect_uri: redirect_uri.to_string(),
        created_date_time: idp.created_at,
        last_modified_date_time: idp.updated_at,
    }
}

/// The JSON the CLI prints for an IdP.
pub fn to_json(idp: &IdentityProvider, redirect_uri: &str) -> serde_json::Value {
    serde_json::to_value(view(idp, redirect_uri)).unwrap_or_default()
}

fn one(app: &App, idp: &IdentityProvider) -> IdpView {
    view(idp, &app.federation.redirect_uri())
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

#[utoipa::path(
    post,
    path = "/api/v1/identityProviders",
    tag = "identityProviders",
    description = "Adds a trusted OpenID provider (it is not contacted; see `test`). Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    request_body = IdpBody,
    responses(
        (status = 201, description = "The new identity provider", body = IdpView,
            headers(("Location" = String, description = "Its URL"))),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
        (status = 409, description = "The issuer or a domain is taken", body = ErrorBody),
    ),
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/identityProviders",
    tag = "identityProviders",
    description = "Every trusted identity provider. Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    responses(
        (status = 200, description = "The identity providers", body = Page<IdpView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn identity_providers_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let list = app.federation.list().await?;
    let value = list.iter().map(|i| one(&app, i)).collect();
    Ok(axum::Json(Page::all(value)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/identityProviders/{id}",
    tag = "identityProviders",
    description = "One identity provider, with its version in `ETag`. Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The identity provider's id")),
    responses(
        (status = 200, description = "The identity provider", body = IdpView,
            headers(("ETag" = String, description = "Its version"))),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    patch,
    path = "/api/v1/identityProviders/{id}",
    tag = "identityProviders",
    description = "Changes an identity provider (a new `issuer` needs `clientSecret` too); with `If-Match`, \
        only if it did not change since. Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The identity provider's id"), ("If-Match" = Option<String>, Header, description = "The `ETag` read before")),
    request_body = IdpPatchBody,
    responses(
        (status = 200, description = "The changed identity provider", body = IdpView,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
        (status = 409, description = "The issuer or a domain is taken", body = ErrorBody),
        (status = 412, description = "`If-Match` names an old version", body = ErrorBody),
    ),
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/identityProviders/{id}",
    tag = "identityProviders",
    description = "Removes an identity provider. Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The identity provider's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/identityProviders/{id}/test",
    tag = "identityProviders",
    description = "Tries discovery and the JWKS at the provider; 200 whatever it did (the report's `ok` and steps say). \
        Needs IdentityProvider.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The identity provider's id")),
    responses(
        (status = 200, description = "The trace", body = TestReportView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks IdentityProvider.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such identity provider", body = ErrorBody),
    ),
)]
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

/// A new identity provider.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct IdpBody {
    display_name: String,
    /// `OpenIdConnect` (the only kind).
    #[serde(rename = "type")]
    kind: Option<String>,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: Option<Vec<String>>,
    domains: Option<Vec<String>>,
    claims_mapping: Option<ClaimsMappingBody>,
    enabled: Option<bool>,
    mfa_trust: Option<MfaTrustBody>,
}

/// An identity provider's changes; absent fields keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct IdpPatchBody {
    display_name: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scopes: Option<Vec<String>>,
    domains: Option<Vec<String>>,
    claims_mapping: Option<ClaimsMappingBody>,
    enabled: Option<bool>,
    /// `null` removes it.
    mfa_trust: Option<MfaTrustBody>,
}

/// Claim names; absent ones take the default (`email`, `email_verified`, `name`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ClaimsMappingBody {
    email: Option<String>,
    email_verified: Option<String>,
    display_name: Option<String>,
}

/// `mfaTrust` as submitted.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct MfaTrustBody {
    amr_values: Option<Vec<String>>,
    acr_values: Option<Vec<String>>,
    max_age_minutes: Option<i64>,
}

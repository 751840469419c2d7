//! `/api/v1/applications`: OIDC clients (`Application.ReadWrite.All`).

use super::{ApiError, Caller, ErrorBody, Json, Page, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_oidc::clients::{ClientError, ClientPatch, NewClient};
use portico_oidc::model::{Client, ClientType};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const PERMISSION: &str = "Application.ReadWrite.All";

/// An application (OIDC client), as this API answers it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Application)]
pub struct ApplicationView {
    id: Uuid,
    client_id: String,
    display_name: String,
    #[schema(value_type = ClientTypeName)]
    client_type: ClientType,
    #[schema(value_type = AuthMethodName)]
    token_endpoint_auth_method: &'static str,
    redirect_uris: Vec<String>,
    post_logout_redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    backchannel_logout_uri: Option<String>,
    require_mfa: bool,
    require_pkce: bool,
    #[schema(value_type = SigningAlgName)]
    id_token_signed_response_alg: &'static str,
    /// Portico's own clients (the portal, My Apps).
    first_party: bool,
    app_role_assignment_required: bool,
    #[schema(value_type = GroupMembershipClaimsName)]
    group_membership_claims: &'static str,
    initiate_login_uri: Option<String>,
    logo_uri: Option<String>,
    /// Admin API permissions the app may ask for on a signed-in user's behalf
    /// (as scopes in the code flow); a Portico field.
    delegated_permissions: Vec<String>,
    created_date_time: DateTime<Utc>,
    /// Only in the answers to create and `resetSecret`, once.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

/// `clientType` (RFC 6749 §2.1).
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ClientTypeName {
    Confidential,
    Public,
}

/// `tokenEndpointAuthMethod`.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum AuthMethodName {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// A JWS algorithm Portico signs with.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum SigningAlgName {
    #[serde(rename = "RS256")]
    Rs256,
    #[serde(rename = "ES256")]
    Es256,
    #[serde(rename = "EdDSA")]
    EdDsa,
}

/// `groupMembershipClaims`: which groups the tokens name.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum GroupMembershipClaimsName {
    None,
    SecurityGroup,
    All,
}

pub fn view(c: &Client) -> ApplicationView {
    ApplicationView {
        id: c.id,
        client_id: c.client_id.clone(),
        display_name: c.display_name.clone(),
        client_type: c.client_type,
        token_endpoint_auth_method: c.auth_method.as_str(),
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        grant_types: c.grant_types.clone(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        require_mfa: c.require_mfa,
        require_pkce: c.require_pkce,
        id_token_signed_response_alg: c.id_token_alg().as_str(),
        first_party: c.first_party,
        app_role_assignment_required: c.app_role_assignment_required,
        group_membership_claims: c.group_membership_claims.as_str(),
        initiate_login_uri: c.initiate_login_uri.clone(),
        logo_uri: c.logo_uri.clone(),
        delegated_permissions: c.delegated_permissions.clone(),
        created_date_time: c.created_at,
        client_secret: None,
    }
}

/// The JSON the CLI prints for an application.
pub fn to_json(c: &Client) -> serde_json::Value {
    serde_json::to_value(view(c)).unwrap_or_default()
}

fn map_err(e: ClientError) -> ApiError {
    match e {
        ClientError::Invalid(m) => ApiError::bad_request(m),
        ClientError::NotFound => ApiError::not_found(),
        ClientError::Store(portico_oidc::store::StoreError::Conflict(m)) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", m)
        }
        ClientError::Store(e) => ApiError::internal(e),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/applications",
    tag = "applications",
    description = "Registers an application; a confidential one's `clientSecret` is in this answer only. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    request_body = NewApplicationBody,
    responses(
        (status = 201, description = "The new application", body = ApplicationView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn applications_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<NewClient>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let (client, secret) = app
        .provider
        .register_client(body, vec![], &caller.actor)
        .await
        .map_err(map_err)?;
    let mut v = view(&client);
    v.client_secret = secret;
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/applications",
    tag = "applications",
    description = "Every application. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    responses(
        (status = 200, description = "The applications", body = Page<ApplicationView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn applications_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let list = app
        .provider
        .store
        .list_clients()
        .await
        .map_err(ApiError::internal)?;
    let value = list.iter().map(view).collect();
    Ok(axum::Json(Page::all(value)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}",
    tag = "applications",
    description = "One application. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The application's id (not its client id)")),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn application_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let c = app
        .provider
        .store
        .find_client_by_id(parse_id(&id)?)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(ApiError::not_found)?;
    Ok(axum::Json(view(&c)).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/applications/{id}",
    tag = "applications",
    description = "Changes an application; absent fields keep their value. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The application's id (not its client id)")),
    request_body = ApplicationPatchBody,
    responses(
        (status = 200, description = "The changed application", body = ApplicationView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn application_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ClientPatch>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let c = app
        .provider
        .update_client(parse_id(&id)?, body, &caller.actor)
        .await
        .map_err(map_err)?;
    Ok(axum::Json(view(&c)).into_response())
}

/// `POST /api/v1/applications/{id}/resetSecret`: a new client secret for a
/// confidential application, returned once (`clientSecret`); the old one stops
/// working at once. Portico keeps one secret per application, so a rotation
/// without downtime means updating the app right after the reset.
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/resetSecret",
    tag = "applications",
    description = "A new client secret, in this answer only; the old one stops working at once. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The application's id (not its client id)")),
    responses(
        (status = 200, description = "The application with `clientSecret`", body = ApplicationView),
        (status = 400, description = "A public client has no secret", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn application_reset_secret_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let (client, secret) = app
        .provider
        .reset_client_secret(parse_id(&id)?, &caller.actor)
        .await
        .map_err(map_err)?;
    let mut v = view(&client);
    v.client_secret = Some(secret);
    Ok(axum::Json(v).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/v1/applications/{id}",
    tag = "applications",
    description = "Deletes an application, its grants, owners and assignments. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The application's id (not its client id)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn application_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    app.provider
        .delete_client(parse_id(&id)?, &caller.actor)
        .await
        .map_err(map_err)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A new application (registration).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewApplicationBody {
    display_name: String,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    client_type: ClientTypeName,
    token_endpoint_auth_method: Option<AuthMethodName>,
    grant_types: Option<Vec<String>>,
    backchannel_logout_uri: Option<String>,
    /// Every sign-in to this app needs a second factor.
    require_mfa: Option<bool>,
    /// `/authorize` requires PKCE; absent means yes.
    require_pkce: Option<bool>,
    /// Only assigned users (directly or through a group) may sign in.
    app_role_assignment_required: Option<bool>,
    group_membership_claims: Option<GroupMembershipClaimsName>,
    initiate_login_uri: Option<String>,
    logo_uri: Option<String>,
    id_token_signed_response_alg: Option<SigningAlgName>,
    /// Admin API permissions users may delegate to the app.
    delegated_permissions: Option<Vec<String>>,
}

/// An application's changes; absent fields keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ApplicationPatchBody {
    display_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    grant_types: Option<Vec<String>>,
    token_endpoint_auth_method: Option<AuthMethodName>,
    backchannel_logout_uri: Option<String>,
    require_mfa: Option<bool>,
    require_pkce: Option<bool>,
    app_role_assignment_required: Option<bool>,
    group_membership_claims: Option<GroupMembershipClaimsName>,
    /// An empty string clears it.
    initiate_login_uri: Option<String>,
    /// An empty string clears it.
    logo_uri: Option<String>,
    id_token_signed_response_alg: Option<SigningAlgName>,
    /// Admin API permissions users may delegate to the app (replaces the list).
    delegated_permissions: Option<Vec<String>>,
}

//! `/api/v1/applications`: OIDC clients (`Application.ReadWrite.All`).

use super::{ApiError, Caller, Json, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_oidc::clients::{ClientError, ClientPatch, NewClient};
use portico_oidc::model::Client;
use serde_json::{Value, json};

const PERMISSION: &str = "Application.ReadWrite.All";

pub fn to_json(c: &Client) -> Value {
    json!({
        "id": c.id,
        "clientId": c.client_id,
        "displayName": c.display_name,
        "clientType": c.client_type,
        "tokenEndpointAuthMethod": c.auth_method.as_str(),
        "redirectUris": c.redirect_uris,
        "postLogoutRedirectUris": c.post_logout_redirect_uris,
        "grantTypes": c.grant_types,
        "backchannelLogoutUri": c.backchannel_logout_uri,
        "requireMfa": c.require_mfa,
        "requirePkce": c.require_pkce,
        "idTokenSignedResponseAlg": c.id_token_alg().as_str(),
        "firstParty": c.first_party,
        "appRoleAssignmentRequired": c.app_role_assignment_required,
        "groupMembershipClaims": c.group_membership_claims.as_str(),
        "initiateLoginUri": c.initiate_login_uri,
        "logoUri": c.logo_uri,
        "delegatedPermissions": c.delegated_permissions,
        "createdDateTime": c.created_at,
    })
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
    let mut v = to_json(&client);
    if let (Some(s), Value::Object(m)) = (secret, &mut v) {
        m.insert("clientSecret".into(), json!(s));
    }
    Ok((StatusCode::CREATED, axum::Json(v)).into_response())
}

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
    let value: Vec<Value> = list.iter().map(to_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

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
    Ok(axum::Json(to_json(&c)).into_response())
}

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
    Ok(axum::Json(to_json(&c)).into_response())
}

/// `POST /api/v1/applications/{id}/resetSecret`: a new client secret for a
/// confidential application, returned once (`clientSecret`); the old one stops
/// working at once. Portico keeps one secret per application, so a rotation
/// without downtime means updating the app right after the reset.
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
    let mut v = to_json(&client);
    if let Value::Object(m) = &mut v {
        m.insert("clientSecret".into(), json!(secret));
    }
    Ok(axum::Json(v).into_response())
}

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

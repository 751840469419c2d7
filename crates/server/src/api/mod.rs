//! The admin API under `/api/v1`: JSON, bearer tokens issued by Portico itself,
//! permissions named as in Microsoft Graph. Errors are
//! `{"error": {"code", "message"}}` with a 4xx status (5xx bodies are generic).

mod applications;
mod auth_methods;
mod auth_policy;
pub use applications::to_json as application_json;
mod audits;
mod collaboration;
mod conditional_access;
mod delegated;
pub mod groups;
mod identity_providers;
pub use identity_providers::to_json as identity_provider_json;
mod invitations;
pub mod join_requests;
mod keys;
mod sign_in_filter;
mod sign_ins;
mod users;

use crate::app::App;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portico_directory::{Actor, ActorKind, DirectoryError};
use portico_federation::FederationError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "notFound",
            "The resource does not exist.",
        )
    }
    /// RFC 9110 §13.1.1: `If-Match` names a version that is no longer current.
    pub fn stale() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "preconditionFailed",
            "The resource changed since you read it (If-Match). Read it again and retry.",
        )
    }
    pub fn internal(e: impl std::fmt::Debug) -> Self {
        tracing::error!(error = ?e, "admin API failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internalError",
            "The server met an unexpected condition.",
        )
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(m) => ApiError::bad_request(m),
            DirectoryError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            DirectoryError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            DirectoryError::NotFound => ApiError::not_found(),
            DirectoryError::Stale => ApiError::stale(),
            DirectoryError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceUnavailable",
                "The server is busy. Try again in a moment.",
            ),
            DirectoryError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<FederationError> for ApiError {
    fn from(e: FederationError) -> Self {
        match e {
            FederationError::Invalid(m) => ApiError::bad_request(m),
            FederationError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            FederationError::NotFound => ApiError::not_found(),
            // Admin calls other than the test never reach the upstream; if
            // one does fail there, the detail goes to the log only.
            FederationError::Upstream { problem, detail } => {
                tracing::warn!(?problem, %detail, "identity provider failure in the admin API");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    "upstreamError",
                    "The identity provider did not answer as expected.",
                )
            }
            FederationError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// A path id: anything that is not a UUID names nothing.
pub fn parse_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id).map_err(|_| ApiError::not_found())
}

/// Graph's paging: `$top` (1..=999, default 100) and an opaque `$skiptoken`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Paging {
    #[serde(rename = "$top")]
    pub top: Option<String>,
    #[serde(rename = "$skiptoken")]
    pub skiptoken: Option<String>,
    #[serde(rename = "$filter")]
    pub filter: Option<String>,
}

impl Paging {
    pub fn top(&self) -> Result<u64, ApiError> {
        match &self.top {
            None => Ok(100),
            Some(t) => match t.parse::<u64>() {
                Ok(n) if (1..=999).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_request(
                    "$top must be a number from 1 to 999.",
                )),
            },
        }
    }
    pub fn skiptoken(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.skiptoken
            .as_deref()
            .map(|t| {
                uuid::Uuid::parse_str(t)
                    .map_err(|_| ApiError::bad_request("$skiptoken is not one this API issued."))
            })
            .transpose()
    }

    /// Graph's page: `{"value": [...], "@odata.nextLink": ...}`. The link is
    /// there when the page is full; it keeps `$filter` and `$top` and carries
    /// the last id as `$skiptoken`.
    pub fn page(
        &self,
        issuer: &str,
        path: &str,
        limit: u64,
        value: Vec<serde_json::Value>,
        last_id: Option<uuid::Uuid>,
    ) -> serde_json::Value {
        let full = value.len() as u64 == limit;
        let mut body = json!({ "value": value });
        if let (true, Some(last)) = (full, last_id) {
            let mut q: Vec<(&str, String)> = Vec::new();
            if let Some(f) = &self.filter {
                q.push(("$filter", f.clone()));
            }
            if let Some(t) = &self.top {
                q.push(("$top", t.clone()));
            }
            q.push(("$skiptoken", last.to_string()));
            let qs = serde_urlencoded::to_string(&q).unwrap_or_default();
            body["@odata.nextLink"] = json!(format!("{issuer}{path}?{qs}"));
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            axum::Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"portico\""),
            );
        }
        resp
    }
}

/// The authenticated caller and the permissions its token carries.
pub struct Caller {
    pub permissions: Vec<String>,
    /// Who the audit log names: the signed-in user, or the API client.
    pub actor: Actor,
    /// A user's token (delegated) whose user is not an administrator: it
    /// acts for that user only (`delegated.rs`).
    pub delegated_non_admin: bool,
}

impl Caller {
    /// `permission`, held by an API client or an administrator (not by a
    /// user's delegated token acting for a non-administrator).
    pub fn require_admin(&self, permission: &str) -> Result<(), ApiError> {
        self.require(permission)?;
        if self.delegated_non_admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Only administrators can do this; the signed-in user is not one.",
            ));
        }
        Ok(())
    }

    pub fn require(&self, permission: &str) -> Result<(), ApiError> {
        if self.permissions.iter().any(|p| p == permission) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("This call needs the {permission} permission."),
            ))
        }
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let token = portico_oidc::http::bearer_token(&parts.headers)
            .ok_or_else(|| unauthorized("A bearer token is required."))?;
        let valid = app.provider.check_access_token(token).await.map_err(|e| {
            if e.code == "server_error" {
                ApiError::internal(e)
            } else {
                unauthorized("The bearer token is invalid or expired.")
            }
        })?;
        let actor = match &valid.account {
            Some(a) => Actor {
                kind: ActorKind::User,
                id: a.id.to_string(),
                display_name: a.display_name.clone(),
            },
            None => {
                let client_id = valid.record.client_id.clone();
                let name = app
                    .provider
                    .store
                    .find_client(&client_id)
                    .await
                    .map_err(ApiError::internal)?
                    .map(|c| c.display_name)
                    .unwrap_or_else(|| client_id.clone());
                Actor {
                    kind: ActorKind::Application,
                    id: client_id,
                    display_name: name,
                }
            }
        };
        let (permissions, delegated_non_admin) = match &valid.account {
            Some(a) => {
                let (rights, admin) = delegated::rights(app, &valid, a.id).await?;
                (rights, !admin)
            }
            None => (valid.roles(), false),
        };
        Ok(Caller {
            permissions,
            actor,
            delegated_non_admin,
        })
    }
}

/// JSON bodies must be JSON; axum's plain-text rejections become API errors.
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

async fn no_store(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub fn router(app: App) -> Router {
    Router::new()
        .route(
            "/api/v1/applications",
            post(applications::applications_post).get(applications::applications_get),
        )
        .route(
            "/api/v1/applications/{id}",
            get(applications::application_get)
                .patch(applications::application_patch)
                .delete(applications::application_delete),
        )
        .route(
            "/api/v1/applications/{id}/resetSecret",
            post(applications::application_reset_secret_post),
        )
        .route(
            "/api/v1/users",
            post(users::users_post).get(users::users_get),
        )
        .route(
            "/api/v1/users/{id}",
            get(users::user_get)
                .patch(users::user_patch)
                .delete(users::user_delete),
        )
        .route(
            "/api/v1/invitations",
            post(invitations::invitations_post).get(invitations::invitations_get),
        )
        .route("/api/v1/invitations/{id}", get(invitations::invitation_get))
        .route(
            "/api/v1/invitations/{id}/resend",
            post(invitations::invitation_resend_post),
        )
        .route(
            "/api/v1/invitations/{id}/revoke",
            post(invitations::invitation_revoke_post),
        )
        .route(
            "/api/v1/auditLogs/directoryAudits",
            get(audits::directory_audits_get),
        )
        .route("/api/v1/auditLogs/signIns", get(sign_ins::sign_ins_get))
        .route("/api/v1/auditLogs/signIns/{id}", get(sign_ins::sign_in_get))
        .route(
            "/api/v1/identityProviders",
            post(identity_providers::identity_providers_post)
                .get(identity_providers::identity_providers_get),
        )
        .route(
            "/api/v1/identityProviders/{id}",
            get(identity_providers::identity_provider_get)
                .patch(identity_providers::identity_provider_patch)
                .delete(identity_providers::identity_provider_delete),
        )
        .route(
            "/api/v1/identityProviders/{id}/test",
            post(identity_providers::identity_provider_test_post),
        )
        .route(
            "/api/v1/users/{id}/authentication/methods",
            get(auth_methods::methods_get),
        )
        .route(
            "/api/v1/users/{id}/authentication/requireReregistration",
            post(auth_methods::require_reregistration_post),
        )
        .route(
            "/api/v1/policies/authenticationPolicy",
            get(auth_policy::authentication_policy_get)
                .patch(auth_policy::authentication_policy_patch),
        )
        .route(
            "/api/v1/policies/authorizationPolicy",
            get(collaboration::authorization_policy_get)
                .patch(collaboration::authorization_policy_patch),
        )
        .route(
            "/api/v1/policies/invitationDomainsPolicy",
            get(collaboration::invitation_domains_get)
                .patch(collaboration::invitation_domains_patch),
        )
        .route(
            "/api/v1/groups",
            post(groups::groups_post).get(groups::groups_get),
        )
        .route(
            "/api/v1/groups/{id}",
            get(groups::group_get)
                .patch(groups::group_patch)
                .delete(groups::group_delete),
        )
        .route("/api/v1/groups/{id}/{which}", get(groups::related_get))
        .route(
            "/api/v1/groups/{id}/{which}/$ref",
            post(groups::related_ref_post),
        )
        .route(
            "/api/v1/groups/{id}/{which}/{user}/$ref",
            axum::routing::delete(groups::related_ref_delete),
        )
        .route(
            "/api/v1/groups/{id}/joinRequests",
            get(join_requests::join_requests_get),
        )
        .route(
            "/api/v1/groups/{id}/joinRequests/{rid}/{decision}",
            post(join_requests::join_request_decide_post),
        )
        .route("/api/v1/users/{id}/memberOf", get(groups::member_of_get))
        .route(
            "/api/v1/applications/{id}/appRoleAssignedTo",
            get(groups::assigned_to_get).post(groups::assigned_to_post),
        )
        .route(
            "/api/v1/applications/{id}/appRoleAssignedTo/{assignment}",
            axum::routing::delete(groups::assigned_to_delete),
        )
        .route(
            "/api/v1/applications/{id}/owners",
            get(groups::app_owners_get),
        )
        .route(
            "/api/v1/applications/{id}/owners/$ref",
            post(groups::app_owners_ref_post),
        )
        .route(
            "/api/v1/applications/{id}/owners/{user}/$ref",
            axum::routing::delete(groups::app_owners_ref_delete),
        )
        .route("/api/v1/signingKeys", get(keys::keys_get))
        .route("/api/v1/signingKeys/rotate", post(keys::keys_rotate_post))
        .route(
            "/api/v1/identity/conditionalAccess/policies",
            get(conditional_access::policies_get).post(conditional_access::policies_post),
        )
        .route(
            "/api/v1/identity/conditionalAccess/policies/{id}",
            get(conditional_access::policy_get)
                .patch(conditional_access::policy_patch)
                .delete(conditional_access::policy_delete),
        )
        .route(
            "/api/v1/identity/conditionalAccess/namedLocations",
            get(conditional_access::locations_get).post(conditional_access::locations_post),
        )
        .route(
            "/api/v1/identity/conditionalAccess/namedLocations/{id}",
            get(conditional_access::location_get)
                .patch(conditional_access::location_patch)
                .delete(conditional_access::location_delete),
        )
        .route(
            "/api/v1/identity/conditionalAccess/evaluate",
            post(conditional_access::evaluate_post),
        )
        .route(
            "/api/v1/identity/conditionalAccess/replay",
            post(conditional_access::replay_post),
        )
        .layer(middleware::from_fn(no_store))
        .with_state(app)
}

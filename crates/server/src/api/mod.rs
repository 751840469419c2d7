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
pub mod openapi;
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
use portico_directory::{Actor, ActorKind, DirectoryError};
use portico_federation::FederationError;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// How many items a page holds: 1 to 999 (default 100).
    #[serde(rename = "$top")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 999)]
    pub top: Option<String>,
    /// Where the next page starts: copied from `@odata.nextLink`.
    #[serde(rename = "$skiptoken")]
    pub skiptoken: Option<String>,
    /// Graph's `$filter` subset (`field eq 'value'`, joined by `and`); the
    /// operation's description names the fields it accepts.
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
    pub fn page<T>(
        &self,
        issuer: &str,
        path: &str,
        limit: u64,
        value: Vec<T>,
        last_id: Option<uuid::Uuid>,
    ) -> Page<T> {
        let full = value.len() as u64 == limit;
        let mut page = Page::all(value);
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
            page.next_link = Some(format!("{issuer}{path}?{qs}"));
        }
        page
    }
}

/// Graph's collection: `{"value": [...]}`, with `@odata.nextLink` when there
/// is a next page.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Page<T> {
    pub value: Vec<T>,
    /// The next page's URL (same `$filter` and `$top`, a `$skiptoken`).
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> Page<T> {
    /// Every item, no next page.
    pub fn all(value: Vec<T>) -> Self {
        Page {
            value,
            next_link: None,
        }
    }
}

/// Every 4xx (and the generic 5xx) body: `{"error": {"code", "message"}}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// A stable code: `invalidRequest`, `unauthorized`, `forbidden`,
    /// `notFound`, `conflict`, `preconditionFailed`, `serviceUnavailable`, …
    code: String,
    /// A sentence for the person reading it.
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
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

/// Every documented admin route, listed once: `$add!($r; handlers...)` for
/// each group of handlers that share a path. Each handler's
/// `#[utoipa::path]` gives its path and methods, so the served routes
/// ([`served_routes`]) and the document ([`routes`]) cannot drift.
macro_rules! admin_routes {
    ($add:ident, $r:ident) => {
        $add!($r; applications::applications_post, applications::applications_get);
        $add!($r; applications::application_get, applications::application_patch, applications::application_delete);
        $add!($r; applications::application_reset_secret_post);
        $add!($r; users::users_post, users::users_get);
        $add!($r; users::user_get, users::user_patch, users::user_delete);
        $add!($r; invitations::invitations_post, invitations::invitations_get);
        $add!($r; invitations::invitation_get);
        $add!($r; invitations::invitation_resend_post);
        $add!($r; invitations::invitation_revoke_post);
        $add!($r; audits::directory_audits_get);
        $add!($r; sign_ins::sign_ins_get);
        $add!($r; sign_ins::sign_in_get);
        $add!($r; identity_providers::identity_providers_post, identity_providers::identity_providers_get);
        $add!($r; identity_providers::identity_provider_get, identity_providers::identity_provider_patch, identity_providers::identity_provider_delete);
        $add!($r; identity_providers::identity_provider_test_post);
        $add!($r; auth_methods::methods_get);
        $add!($r; auth_methods::require_reregistration_post);
        $add!($r; auth_policy::authentication_policy_get, auth_policy::authentication_policy_patch);
        $add!($r; collaboration::authorization_policy_get, collaboration::authorization_policy_patch);
        $add!($r; collaboration::invitation_domains_get, collaboration::invitation_domains_patch);
        $add!($r; groups::groups_post, groups::groups_get);
        $add!($r; groups::group_get, groups::group_patch, groups::group_delete);
        $add!($r; groups::related_get);
        $add!($r; groups::related_ref_post);
        $add!($r; groups::related_ref_delete);
        $add!($r; join_requests::join_requests_get);
        $add!($r; join_requests::join_request_decide_post);
        $add!($r; groups::member_of_get);
        $add!($r; groups::assigned_to_get, groups::assigned_to_post);
        $add!($r; groups::assigned_to_delete);
        $add!($r; groups::app_owners_get);
        $add!($r; groups::app_owners_ref_post);
        $add!($r; groups::app_owners_ref_delete);
        $add!($r; keys::keys_get);
        $add!($r; keys::keys_rotate_post);
        $add!($r; conditional_access::policies_get, conditional_access::policies_post);
        $add!($r; conditional_access::policy_get, conditional_access::policy_patch, conditional_access::policy_delete);
        $add!($r; conditional_access::locations_get, conditional_access::locations_post);
        $add!($r; conditional_access::location_get, conditional_access::location_patch, conditional_access::location_delete);
        $add!($r; conditional_access::evaluate_post);
        $add!($r; conditional_access::replay_post);
    };
}

/// Adds one group with its OpenAPI operations and schemas.
macro_rules! documented {
    ($r:ident; $($h:path),+) => {
        $r = $r.routes(routes!($($h),+));
    };
}

/// Adds one group to a plain router: each handler's path and methods only,
/// none of the OpenAPI operations and schemas `routes!` builds (axum merges
/// the methods of one path).
macro_rules! served {
    ($r:ident; $($($seg:ident)::+),+) => {
        $(
            let methods = utoipa_axum::routes!(@path [methods()] of $($seg)::+).iter().fold(
                axum::routing::MethodRouter::new(),
                |m, method| m.on(utoipa_axum::PathItemExt::to_method_filter(method), $($seg)::+),
            );
            $r = $r.route(&utoipa_axum::routes!(@path [path()] of $($seg)::+), methods);
        )+
    };
}

/// The documented admin routes with their OpenAPI document: built for the
/// document (`/api/v1/openapi.json`, at its first request) and the tests.
/// Only [`openapi::router`] adds a route by hand (the document itself).
pub fn routes() -> OpenApiRouter<App> {
    let mut r = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi());
    admin_routes!(documented, r);
    r.layer(middleware::from_fn(no_store))
}

/// The same routes as [`routes`], for serving: building every operation and
/// schema of the document and dropping it was most of the time between the
/// bind and the first answer of a start.
pub fn served_routes() -> Router<App> {
    let mut r = Router::new();
    admin_routes!(served, r);
    r.layer(middleware::from_fn(no_store))
}

/// The admin API with its document at `/api/v1/openapi.json`.
pub fn router(app: App) -> Router {
    openapi::router(app)
}

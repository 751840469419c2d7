//! `/api/v1/identity/conditionalAccess/policies` and `…/namedLocations`
//! (issue 13), Graph's `conditionalAccessPolicy`, `ipNamedLocation` and
//! `countryNamedLocation` as they are: an Entra export can be POSTed as-is.
//! Reading needs `Policy.Read.All` (or the write permission); writing
//! `Policy.ReadWrite.ConditionalAccess`. A field Portico cannot enforce is
//! refused (400) with its path named; each change is audited with its actor.

use super::{ApiError, Caller, ErrorBody, Json, Page};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::ActorKind;
use portico_oidc::conditional_access::{ActorRef, CaError, WhatIf};
use portico_policy::conditional_access::{Applicability, Platform, PolicyState};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub const READ: &str = "Policy.Read.All";
pub const WRITE: &str = "Policy.ReadWrite.ConditionalAccess";

pub(super) fn require_read(caller: &Caller) -> Result<(), ApiError> {
    caller.require(WRITE).or_else(|_| caller.require(READ))
}

fn actor(caller: &Caller) -> ActorRef {
    let kind = match caller.actor.kind {
        ActorKind::User => "User",
        _ => "Application",
    };
    (
        kind,
        caller.actor.id.clone(),
        caller.actor.display_name.clone(),
    )
}

impl From<CaError> for ApiError {
    fn from(e: CaError) -> Self {
        match e {
            CaError::Invalid(i) => ApiError::bad_request(format!("The request was refused: {i}.")),
            CaError::NotFound => ApiError::not_found(),
            CaError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            CaError::Store(e) => ApiError::internal(e),
        }
    }
}

fn ok<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    (
        status,
        axum::Json(serde_json::to_value(v).unwrap_or_default()),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/identity/conditionalAccess/policies", tag = "conditionalAccess",
    description = "Every conditional access policy. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))),
    responses((status = 200, description = "The policies", body = Page<CaPolicyDoc>), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody)),
)]
pub async fn policies_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let all = app
        .provider
        .ca_policies()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(Page::all(all)).into_response())
}

#[utoipa::path(get, path = "/api/v1/identity/conditionalAccess/policies/{id}", tag = "conditionalAccess",
    description = "One policy. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))), params(("id" = String, Path, description = "The policy's id")),
    responses((status = 200, description = "The policy", body = CaPolicyDoc), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody), (status = 404, description = "No such policy", body = ErrorBody)),
)]
pub async fn policy_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    Ok(ok(StatusCode::OK, &app.provider.ca_policy(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/identity/conditionalAccess/policies", tag = "conditionalAccess",
    description = "Creates a policy from Graph's JSON (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))),
    request_body(content = Object, description = "Graph's conditionalAccessPolicy, e.g. an Entra export (`id` and dates are assigned)", content_type = "application/json"),
    responses((status = 201, description = "The new policy", body = CaPolicyDoc), (status = 400, description = "Invalid, or a field Portico cannot enforce (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody)),
)]
pub async fn policies_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let p = app.provider.create_ca_policy(&body, actor(&caller)).await?;
    Ok(ok(StatusCode::CREATED, &p))
}

#[utoipa::path(patch, path = "/api/v1/identity/conditionalAccess/policies/{id}", tag = "conditionalAccess",
    description = "Changes a policy: the given Graph fields replace the stored ones (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))), params(("id" = String, Path, description = "The policy's id")),
    request_body(content = Object, description = "Graph JSON", content_type = "application/json"),
    responses((status = 200, description = "The changed policy", body = CaPolicyDoc), (status = 400, description = "Invalid, or a field Portico cannot enforce (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody), (status = 404, description = "No such policy", body = ErrorBody)),
)]
pub async fn policy_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let p = app
        .provider
        .update_ca_policy(&id, &body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::OK, &p))
}

#[utoipa::path(delete, path = "/api/v1/identity/conditionalAccess/policies/{id}", tag = "conditionalAccess",
    description = "Deletes a policy (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))), params(("id" = String, Path, description = "The policy's id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody), (status = 404, description = "No such policy", body = ErrorBody)),
)]
pub async fn policy_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    app.provider.delete_ca_policy(&id, actor(&caller)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/identity/conditionalAccess/namedLocations", tag = "conditionalAccess",
    description = "Every named location. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))),
    responses((status = 200, description = "The named locations", body = Page<NamedLocationDoc>), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody)),
)]
pub async fn locations_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let all = app
        .provider
        .named_locations()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(Page::all(all)).into_response())
}

#[utoipa::path(get, path = "/api/v1/identity/conditionalAccess/namedLocations/{id}", tag = "conditionalAccess",
    description = "One named location. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))), params(("id" = String, Path, description = "The named location's id")),
    responses((status = 200, description = "The named location", body = NamedLocationDoc), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody), (status = 404, description = "No such named location", body = ErrorBody)),
)]
pub async fn location_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    Ok(ok(StatusCode::OK, &app.provider.named_location(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/identity/conditionalAccess/namedLocations", tag = "conditionalAccess",
    description = "Creates a named location from Graph's JSON (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))),
    request_body(content = Object, description = "Graph's ipNamedLocation or countryNamedLocation, e.g. an Entra export (`id` and dates are assigned)", content_type = "application/json"),
    responses((status = 201, description = "The new named location", body = NamedLocationDoc), (status = 400, description = "Invalid, or a field Portico cannot enforce (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody)),
)]
pub async fn locations_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let l = app
        .provider
        .create_named_location(&body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::CREATED, &l))
}

#[utoipa::path(patch, path = "/api/v1/identity/conditionalAccess/namedLocations/{id}", tag = "conditionalAccess",
    description = "Changes a named location (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))), params(("id" = String, Path, description = "The named location's id")),
    request_body(content = Object, description = "Graph JSON", content_type = "application/json"),
    responses((status = 200, description = "The changed named location", body = NamedLocationDoc), (status = 400, description = "Invalid, or a field Portico cannot enforce (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody), (status = 404, description = "No such named location", body = ErrorBody)),
)]
pub async fn location_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let l = app
        .provider
        .update_named_location(&id, &body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::OK, &l))
}

#[utoipa::path(delete, path = "/api/v1/identity/conditionalAccess/namedLocations/{id}", tag = "conditionalAccess",
    description = "Deletes a named location no policy uses (audited). Needs Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([WRITE]))), params(("id" = String, Path, description = "The named location's id")),
    responses((status = 204, description = "Deleted"), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.ReadWrite.ConditionalAccess", body = ErrorBody), (status = 404, description = "No such named location", body = ErrorBody),
        (status = 409, description = "A policy uses it", body = ErrorBody)),
)]
pub async fn location_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    app.provider
        .delete_named_location(&id, actor(&caller))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What-If's request, in Graph's shape (`POST /identity/conditionalAccess/evaluate`):
/// `signInIdentity.userId`, `signInContext.includeApplications[0]`,
/// `signInConditions.{ipAddress, devicePlatform, country}`. Each may be left out.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateBody {
    /// `{"userId"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    sign_in_identity: Option<Value>,
    /// `{"includeApplications": [<client id>]}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    sign_in_context: Option<Value>,
    /// `{"ipAddress", "devicePlatform", "country"}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    sign_in_conditions: Option<Value>,
}

fn string_at<'a>(v: &'a Option<Value>, pointer: &str) -> Option<&'a str> {
    v.as_ref()?
        .pointer(pointer)?
        .as_str()
        .filter(|s| !s.is_empty())
}

fn what_if_question(body: &EvaluateBody) -> Result<WhatIf, ApiError> {
    let user_id = match string_at(&body.sign_in_identity, "/userId") {
        None => None,
        Some(u) => Some(
            uuid::Uuid::parse_str(u)
                .map_err(|_| ApiError::bad_request("signInIdentity.userId must be a user id."))?,
        ),
    };
    let ip = match string_at(&body.sign_in_conditions, "/ipAddress") {
        None => None,
        Some(ip) => Some(ip.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "signInConditions.ipAddress: `{ip}` is not an IP address."
            ))
        })?),
    };
    let platform = match string_at(&body.sign_in_conditions, "/devicePlatform") {
        None => None,
        Some(p) => Some(
            Platform::parse(p)
                .filter(|p| *p != Platform::All)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "signInConditions.devicePlatform: `{p}` is not one of android, iOS, windows, windowsPhone, macOS, linux, unknown."
                    ))
                })?,
        ),
    };
    let country = match string_at(&body.sign_in_conditions, "/country") {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "signInConditions.country: `{c}` is not an ISO 3166-1 alpha-2 code."
            )));
        }
    };
    Ok(WhatIf {
        user_id,
        app_id: string_at(&body.sign_in_context, "/includeApplications/0").map(str::to_string),
        ip,
        platform,
        country,
    })
}

/// `POST /api/v1/identity/conditionalAccess/evaluate` (What-If): every policy
/// with whether it applies (`true`, `false`, or `null` when an unknown input
/// leaves it open), what it asks, where it did not apply the first condition
/// that failed, and the unknown inputs. Reading permission.
#[utoipa::path(post, path = "/api/v1/identity/conditionalAccess/evaluate", tag = "conditionalAccess",
    description = "What-If: which policies would apply to a sign-in. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))),
    request_body = EvaluateBody,
    responses((status = 200, description = "Each policy's result", body = WhatIfView),
        (status = 400, description = "Invalid input (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody)),
)]
pub async fn evaluate_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<EvaluateBody>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let q = what_if_question(&body)?;
    let answer = app.provider.what_if(&q).await.map_err(ApiError::internal)?;
    let value = answer
        .results
        .iter()
        .map(|r| {
            let (applies, reason) = match &r.applicability {
                Applicability::Applies => (Some(true), None),
                Applicability::NotApplied(n) => (
                    Some(false),
                    Some(NotAppliedView {
                        condition: n.condition,
                        field: n.field,
                    }),
                ),
                Applicability::Undecided => (None, None),
            };
            WhatIfPolicyView {
                id: r.id.clone(),
                display_name: r.display_name.clone(),
                state: r.state.as_str(),
                policy_applies: applies,
                not_applied_because: reason,
                unknown_inputs: r.unknown_inputs.iter().map(|i| i.as_str()).collect(),
                grant_controls: vec![r.requirement.graph_control()],
                enforced: r.state == PolicyState::Enabled && r.applies(),
            }
        })
        .collect();
    let unknown_inputs = answer.unknown_inputs.iter().map(|i| i.as_str()).collect();
    Ok(axum::Json(WhatIfView {
        value,
        unknown_inputs,
    })
    .into_response())
}

/// What-If's answer: every policy, and the inputs the question left out.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhatIfView {
    value: Vec<WhatIfPolicyView>,
    #[schema(value_type = Vec<InputName>)]
    unknown_inputs: Vec<&'static str>,
}

/// One policy's What-If result.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WhatIfPolicyView {
    id: String,
    display_name: String,
    #[schema(value_type = PolicyStateName)]
    state: &'static str,
    /// `null`: an unknown input leaves it open.
    policy_applies: Option<bool>,
    /// Where it did not apply, the first condition that failed.
    not_applied_because: Option<NotAppliedView>,
    #[schema(value_type = Vec<InputName>)]
    unknown_inputs: Vec<&'static str>,
    /// `Block` or `Mfa`.
    grant_controls: Vec<&'static str>,
    /// Enabled and applies: it changes the outcome.
    enforced: bool,
}

/// The condition that ruled a policy out.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotAppliedView {
    /// `users`, `applications`, `platforms` or `locations`.
    condition: &'static str,
    /// The field that decided (`conditions.users.excludeGroups`, …).
    field: &'static str,
}

/// An input a What-If question may leave out.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum InputName {
    User,
    Application,
    IpAddress,
    Platform,
    Country,
}

/// `state`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum PolicyStateName {
    Enabled,
    Disabled,
    EnabledForReportingButNotEnforced,
}

/// Graph's `conditionalAccessPolicy` (the conditions and controls Portico
/// enforces; an Entra export can be POSTed as it is).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ConditionalAccessPolicy)]
#[allow(dead_code)]
pub struct CaPolicyDoc {
    id: String,
    display_name: String,
    created_date_time: Option<DateTime<Utc>>,
    modified_date_time: Option<DateTime<Utc>>,
    state: PolicyStateName,
    conditions: ConditionsDoc,
    grant_controls: GrantControlsDoc,
}

/// `conditions`: every one must hold for the policy to apply.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ConditionalAccessConditions)]
#[allow(dead_code)]
pub struct ConditionsDoc {
    users: UsersConditionDoc,
    applications: ApplicationsConditionDoc,
    platforms: Option<PlatformsConditionDoc>,
    locations: Option<LocationsConditionDoc>,
    /// Always `["all"]` (browsers and OIDC clients).
    client_app_types: Vec<String>,
}

/// Users: ids, `All`, `None` or `GuestsOrExternalUsers`; groups: ids.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct UsersConditionDoc {
    include_users: Vec<String>,
    exclude_users: Vec<String>,
    include_groups: Vec<String>,
    exclude_groups: Vec<String>,
}

/// Client ids, `All` or `None`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ApplicationsConditionDoc {
    include_applications: Vec<String>,
    exclude_applications: Vec<String>,
}

#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct PlatformsConditionDoc {
    include_platforms: Vec<PlatformName>,
    exclude_platforms: Vec<PlatformName>,
}

/// A device platform.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum PlatformName {
    Android,
    #[serde(rename = "iOS")]
    Ios,
    Windows,
    #[serde(rename = "macOS")]
    MacOs,
    Linux,
    WindowsPhone,
    All,
    Unknown,
}

/// Named location ids, `All` or `AllTrusted`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct LocationsConditionDoc {
    include_locations: Vec<String>,
    exclude_locations: Vec<String>,
}

/// `grantControls`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct GrantControlsDoc {
    operator: GrantOperatorName,
    built_in_controls: Vec<BuiltInControlName>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub enum GrantOperatorName {
    #[serde(rename = "AND")]
    And,
    #[serde(rename = "OR")]
    Or,
}

/// What a policy asks: `block` or `mfa`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum BuiltInControlName {
    Block,
    Mfa,
}

/// Graph's `ipNamedLocation` or `countryNamedLocation`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NamedLocation)]
#[allow(dead_code)]
pub struct NamedLocationDoc {
    #[serde(rename = "@odata.type")]
    odata_type: NamedLocationTypeName,
    id: String,
    display_name: String,
    created_date_time: Option<DateTime<Utc>>,
    modified_date_time: Option<DateTime<Utc>>,
    /// IP locations.
    is_trusted: Option<bool>,
    /// IP locations: `{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress"}`.
    #[schema(value_type = Option<Vec<Object>>)]
    ip_ranges: Option<Vec<Value>>,
    /// Country locations: ISO 3166-1 alpha-2 codes.
    countries_and_regions: Option<Vec<String>>,
    include_unknown_countries_and_regions: Option<bool>,
    country_lookup_method: Option<String>,
}

/// A named location's kind.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum NamedLocationTypeName {
    #[serde(rename = "#microsoft.graph.ipNamedLocation")]
    Ip,
    #[serde(rename = "#microsoft.graph.countryNamedLocation")]
    Country,
}

/// A draft replayed over the recorded sign-ins.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct ReplayReportDoc {
    days: i64,
    /// Sign-ins of a known user in the window.
    evaluated: u64,
    /// The draft applies and blocks.
    blocked: u64,
    /// The draft applies and asks MFA the sign-in did not do.
    challenged: u64,
    /// The draft applies and asks MFA the sign-in did anyway.
    already_mfa: u64,
    not_applied: u64,
    /// The record lacks an input the draft needs.
    undecided: u64,
    /// Sign-ins that never identified a user.
    skipped: u64,
    /// More sign-ins than the replay reads were in the window.
    truncated: bool,
}

/// A draft policy and how many days of sign-ins to replay it over.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayBody {
    /// The draft, in Graph's `conditionalAccessPolicy` shape.
    #[schema(value_type = Object)]
    policy: Value,
    /// 1 to 30 (default 7).
    #[serde(default = "default_days")]
    #[schema(default = 7)]
    days: i64,
}

fn default_days() -> i64 {
    7
}

/// `POST /api/v1/identity/conditionalAccess/replay`: `{"policy": <draft
/// Graph JSON>, "days": N}` → how many recorded sign-ins of the last N days
/// it would have blocked or challenged. Nothing is saved. Reading permission.
#[utoipa::path(post, path = "/api/v1/identity/conditionalAccess/replay", tag = "conditionalAccess",
    description = "How many recorded sign-ins a draft policy would have blocked or challenged; nothing is saved. Needs Policy.Read.All or Policy.ReadWrite.ConditionalAccess.", extensions(("x-permissions" = json!([READ, WRITE]))),
    request_body = ReplayBody,
    responses((status = 200, description = "The replay's counts", body = ReplayReportDoc), (status = 400, description = "Invalid, or a field Portico cannot enforce (named)", body = ErrorBody), (status = 401, description = "No valid bearer token", body = ErrorBody), (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody)),
)]
pub async fn replay_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<ReplayBody>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let report = app
        .provider
        .replay(&body.policy, body.days)
        .await
        .map_err(|e| match e {
            CaError::Conflict(m) => ApiError::bad_request(m),
            other => other.into(),
        })?;
    Ok(ok(StatusCode::OK, &report))
}

//! `GET /api/v1/auditLogs/directoryAudits` (`AuditLog.Read.All`): Graph's
//! `directoryAudit` shape, newest first, with each changed property's old and
//! new value.

use super::{ApiError, Caller, ErrorBody, Page, Paging};
use crate::app::App;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::audit::AuditQuery;
use portico_directory::filter::parse_filter;
use portico_directory::{ActorKind, AuditEntry};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

const PERMISSION: &str = "AuditLog.Read.All";

/// Graph's `directoryAudit`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = DirectoryAudit)]
pub struct AuditView {
    id: Uuid,
    /// `UserManagement`, `Invitations`, `ApplicationManagement`, …
    category: String,
    activity_display_name: String,
    activity_date_time: DateTime<Utc>,
    /// Always `Portico`.
    logged_by_service: &'static str,
    /// Always `success`: refused changes are not audited.
    result: &'static str,
    initiated_by: InitiatedBy,
    target_resources: Vec<TargetResource>,
}

/// Who made the change: a user, or an app (an API client, or Portico itself).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiatedBy {
    user: Option<UserIdentity>,
    app: Option<AppIdentity>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserIdentity {
    id: String,
    display_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppIdentity {
    /// The client id (`portico` for Portico itself).
    app_id: String,
    display_name: String,
}

/// What changed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetResource {
    id: String,
    display_name: String,
    /// `User`, `Invitation`, `Application`, …
    #[serde(rename = "type")]
    kind: String,
    modified_properties: Vec<ModifiedProperty>,
}

/// One changed property, its values JSON-encoded (`null`: absent).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModifiedProperty {
    display_name: String,
    old_value: Option<String>,
    new_value: Option<String>,
}

/// Graph lists only what changed, as JSON-encoded old and new values.
fn modified(before: Option<&Value>, after: Option<&Value>) -> Vec<ModifiedProperty> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| ModifiedProperty {
            display_name: k.clone(),
            old_value: b.get(k).map(|v| v.to_string()),
            new_value: a.get(k).map(|v| v.to_string()),
        })
        .collect()
}

pub fn view(e: &AuditEntry) -> AuditView {
    let initiated_by = match e.actor.kind {
        ActorKind::User => InitiatedBy {
            user: Some(UserIdentity {
                id: e.actor.id.clone(),
                display_name: e.actor.display_name.clone(),
            }),
            app: None,
        },
        ActorKind::Application | ActorKind::System => InitiatedBy {
            user: None,
            app: Some(AppIdentity {
                app_id: e.actor.id.clone(),
                display_name: e.actor.display_name.clone(),
            }),
        },
    };
    AuditView {
        id: e.id,
        category: e.category.clone(),
        activity_display_name: e.activity.clone(),
        activity_date_time: e.at,
        logged_by_service: "Portico",
        result: "success",
        initiated_by,
        target_resources: vec![TargetResource {
            id: e.target_id.clone(),
            display_name: e.target_name.clone(),
            kind: e.target_type.clone(),
            modified_properties: modified(e.before.as_ref(), e.after.as_ref()),
        }],
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/auditLogs/directoryAudits",
    tag = "auditLogs",
    description = "The directory audit log, newest first; `$filter` on `targetId` and `activityDisplayName`. Needs AuditLog.Read.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(Paging),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditView>),
        (status = 400, description = "Bad `$top`, `$skiptoken` or `$filter`", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AuditLog.Read.All", body = ErrorBody),
    ),
)]
pub async fn directory_audits_get(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let mut q = AuditQuery {
        limit: p.top()?,
        before: p.skiptoken()?,
        ..Default::default()
    };
    let fields = ["targetId", "activityDisplayName"];
    for (field, value) in parse_filter(p.filter.as_deref().unwrap_or(""), &fields)? {
        match field {
            "targetId" => q.target_id = Some(value),
            _ => q.activity = Some(value),
        }
    }
    let list = app.directory.list_audits(&q).await?;
    let value = list.iter().map(view).collect();
    let last = list.last().map(|x| x.id);
    let body = p.page(
        &app.settings.issuer,
        "/api/v1/auditLogs/directoryAudits",
        q.limit,
        value,
        last,
    );
    Ok(axum::Json(body).into_response())
}

//! `GET /api/v1/auditLogs/directoryAudits` (`AuditLog.Read.All`): Graph's
//! `directoryAudit` shape, newest first, with each changed property's old and
//! new value.

use super::{ApiError, Caller, Paging};
use crate::app::App;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use portico_directory::audit::AuditQuery;
use portico_directory::filter::parse_filter;
use portico_directory::{ActorKind, AuditEntry};
use serde_json::{Value, json};

const PERMISSION: &str = "AuditLog.Read.All";

/// Graph lists only what changed, as JSON-encoded old and new values.
fn modified(before: Option<&Value>, after: Option<&Value>) -> Vec<Value> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| {
            json!({
                "displayName": k,
                "oldValue": b.get(k).map(|v| v.to_string()),
                "newValue": a.get(k).map(|v| v.to_string()),
            })
        })
        .collect()
}

pub fn to_json(e: &AuditEntry) -> Value {
    let initiated_by = match e.actor.kind {
        ActorKind::User => json!({
            "user": {"id": e.actor.id, "displayName": e.actor.display_name}, "app": null
        }),
        ActorKind::Application | ActorKind::System => json!({
            "app": {"appId": e.actor.id, "displayName": e.actor.display_name}, "user": null
        }),
    };
    json!({
        "id": e.id,
        "category": e.category,
        "activityDisplayName": e.activity,
        "activityDateTime": e.at,
        "loggedByService": "Portico",
        "result": "success",
        "initiatedBy": initiated_by,
        "targetResources": [{
            "id": e.target_id,
            "displayName": e.target_name,
            "type": e.target_type,
            "modifiedProperties": modified(e.before.as_ref(), e.after.as_ref()),
        }],
    })
}

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
    let value = list.iter().map(to_json).collect();
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

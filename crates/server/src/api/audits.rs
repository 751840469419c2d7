//! `GET /api/v1/auditLogs/directoryAudits` (`AuditLog.Read.All`): Graph's
//! `directoryAudit` shape, newest first, with each changed property's old and
//! new value.

use super::{ApiError, Caller, Paging, page_json};
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
        ActorKind::Application => json!({
            "app": {"appId": e.actor.id, "displayName": e.actor.display_name}, "user": null
        }),
        ActorKind::User => json!({
            "user": {"id": e.actor.id, "displayName": e.actor.display_name}, "app": null
        }),
        ActorKind::System => json!({
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
    let next = (list.len() as u64 == q.limit)
        .then(|| list.last().map(|e| e.id))
        .flatten();
    let mut keep: Vec<(&str, String)> = Vec::new();
    if let Some(f) = &p.filter {
        keep.push(("$filter", f.clone()));
    }
    if let Some(t) = &p.top {
        keep.push(("$top", t.clone()));
    }
    let base = format!("{}/api/v1/auditLogs/directoryAudits", app.settings.issuer);
    let value = list.iter().map(to_json).collect();
    Ok(axum::Json(page_json(&base, &keep, value, next)).into_response())
}

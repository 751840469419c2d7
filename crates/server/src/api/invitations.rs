//! `/api/v1/invitations` (`User.Invite.All`): Microsoft Graph's invitation
//! resource, plus what Graph lacks: listing by status, resend (a new link;
//! the old one stops working) and revoke.

use super::{ApiError, Caller, Json, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::filter::parse_filter;
use portico_directory::invitations::{
    GraphInvitation, Invitation, InvitationQuery, InvitationStatus,
};
use serde_json::{Value, json};

const PERMISSION: &str = "User.Invite.All";

fn to_json(app: &App, inv: &Invitation, reset: bool) -> Value {
    let now = app.invitations.now();
    json!({
        "id": inv.id,
        "invitedUserEmailAddress": inv.email,
        "invitedUserDisplayName": inv.display_name,
        "inviteRedirectUrl": inv.redirect_url,
        "inviteRedeemUrl": app.invitations.redeem_url(inv),
        "sendInvitationMessage": inv.send_message,
        "invitedUserMessageInfo": {
            "customizedMessageBody": inv.message,
            "messageLanguage": inv.message_language,
            "ccRecipients": inv.cc_recipients.iter()
                .map(|a| json!({"emailAddress": {"address": a}}))
                .collect::<Vec<_>>(),
        },
        "invitedUserType": inv.user_type.as_str(),
        "resetRedemption": reset,
        "status": inv.status(now).as_str(),
        "invitedUser": {"id": inv.user_id},
        "invitedBy": {"id": inv.invited_by.id, "displayName": inv.invited_by.display_name},
        "expiresDateTime": inv.expires_at,
        "createdDateTime": inv.created_at,
        "acceptedDateTime": inv.accepted_at,
        "revokedDateTime": inv.revoked_at,
        "grantedGroup": inv.granted_group_id.map(|g| serde_json::json!({"id": g})),
    })
}

/// 201 with a new invitation; 200 with the existing one when the email
/// already belongs to a guest (nothing is sent again).
pub async fn invitations_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<GraphInvitation>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let req = body.validate()?;
    // Graph: resetting a redemption is a user change, not an invitation.
    if req.reset_redemption {
        caller.require(super::users::PERMISSION)?;
    }
    let out = app.invitations.invite(&req, &caller.actor, None).await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let body = to_json(&app, &out.invitation, req.reset_redemption);
    Ok((status, axum::Json(body)).into_response())
}

pub async fn invitations_get(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    caller.require_admin(PERMISSION)?;
    let mut q = InvitationQuery {
        limit: p.top()?,
        before: p.skiptoken()?,
        ..Default::default()
    };
    let fields = ["status", "invitedUserEmailAddress"];
    for (field, value) in parse_filter(p.filter.as_deref().unwrap_or(""), &fields)? {
        match field {
            "status" => {
                q.status = Some(InvitationStatus::parse(&value).ok_or_else(|| {
                    ApiError::bad_request(
                        "status must be PendingAcceptance, Accepted, Expired or Revoked.",
                    )
                })?)
            }
            _ => q.email = Some(value.trim().to_lowercase()),
        }
    }
    let list = app.invitations.list(&q).await?;
    let value = list.iter().map(|i| to_json(&app, i, false)).collect();
    let last = list.last().map(|x| x.id);
    let body = p.page(
        &app.settings.issuer,
        "/api/v1/invitations",
        q.limit,
        value,
        last,
    );
    Ok(axum::Json(body).into_response())
}

pub async fn invitation_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin(PERMISSION)?;
    let inv = app.invitations.find(parse_id(&id)?).await?;
    Ok(axum::Json(to_json(&app, &inv, false)).into_response())
}

pub async fn invitation_resend_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin(PERMISSION)?;
    let inv = app
        .invitations
        .resend(parse_id(&id)?, &caller.actor)
        .await?;
    Ok(axum::Json(to_json(&app, &inv, false)).into_response())
}

pub async fn invitation_revoke_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin(PERMISSION)?;
    let inv = app
        .invitations
        .revoke(parse_id(&id)?, &caller.actor)
        .await?;
    Ok(axum::Json(to_json(&app, &inv, false)).into_response())
}

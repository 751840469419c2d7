//! `/api/v1/invitations` (`User.Invite.All`): Microsoft Graph's invitation
//! resource, plus what Graph lacks: listing by status, resend (a new link;
//! the old one stops working) and revoke.

use super::users::UserTypeName;
use super::{ApiError, Caller, ErrorBody, Json, Page, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::filter::parse_filter;
use portico_directory::invitations::{
    GraphInvitation, Invitation, InvitationQuery, InvitationStatus,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

const PERMISSION: &str = "User.Invite.All";

/// Graph's `invitation`, plus Portico's status and dates.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Invitation)]
pub struct InvitationView {
    id: Uuid,
    invited_user_email_address: String,
    invited_user_display_name: Option<String>,
    invite_redirect_url: String,
    /// The redemption link (it changes on resend).
    invite_redeem_url: String,
    send_invitation_message: bool,
    invited_user_message_info: MessageInfoView,
    #[schema(value_type = UserTypeName)]
    invited_user_type: &'static str,
    reset_redemption: bool,
    #[schema(value_type = InvitationStatusName)]
    status: &'static str,
    invited_user: InvitedUserView,
    invited_by: InvitedByView,
    expires_date_time: DateTime<Utc>,
    created_date_time: DateTime<Utc>,
    accepted_date_time: Option<DateTime<Utc>>,
    revoked_date_time: Option<DateTime<Utc>>,
    /// The self-service group the invitation adds the guest to (an app
    /// owner's invitation from My Apps); `null` otherwise. A Portico field.
    granted_group: Option<GrantedGroupView>,
}

/// The group an invitation grants.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantedGroupView {
    id: Uuid,
}

/// `status`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum InvitationStatusName {
    PendingAcceptance,
    Accepted,
    Expired,
    Revoked,
}

/// Graph's `invitedUserMessageInfo`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageInfoView {
    customized_message_body: Option<String>,
    message_language: Option<String>,
    cc_recipients: Vec<RecipientView>,
}

/// Graph's `recipient`: `{"emailAddress": {"address"}}`.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecipientView {
    email_address: EmailAddressView,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailAddressView {
    address: String,
}

/// The guest the invitation made.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitedUserView {
    id: Uuid,
}

/// Who invited.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitedByView {
    id: String,
    display_name: String,
}

fn view(app: &App, inv: &Invitation, reset: bool) -> InvitationView {
    let now = app.invitations.now();
    InvitationView {
        id: inv.id,
        invited_user_email_address: inv.email.clone(),
        invited_user_display_name: inv.display_name.clone(),
        invite_redirect_url: inv.redirect_url.clone(),
        invite_redeem_url: app.invitations.redeem_url(inv),
        send_invitation_message: inv.send_message,
        invited_user_message_info: MessageInfoView {
            customized_message_body: inv.message.clone(),
            message_language: inv.message_language.clone(),
            cc_recipients: inv
                .cc_recipients
                .iter()
                .map(|a| RecipientView {
                    email_address: EmailAddressView { address: a.clone() },
                })
                .collect(),
        },
        invited_user_type: inv.user_type.as_str(),
        reset_redemption: reset,
        status: inv.status(now).as_str(),
        invited_user: InvitedUserView { id: inv.user_id },
        invited_by: InvitedByView {
            id: inv.invited_by.id.clone(),
            display_name: inv.invited_by.display_name.clone(),
        },
        expires_date_time: inv.expires_at,
        created_date_time: inv.created_at,
        accepted_date_time: inv.accepted_at,
        revoked_date_time: inv.revoked_at,
        granted_group: inv.granted_group_id.map(|id| GrantedGroupView { id }),
    }
}

/// 201 with a new invitation; 200 with the existing one when the email
/// already belongs to a guest (nothing is sent again).
#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    tag = "invitations",
    description = "Invites a guest: 201 with a new invitation, or 200 with the existing one when the address \
        already belongs to a guest (nothing is sent again). Needs User.Invite.All; `resetRedemption` also \
        needs User.ReadWrite.All. The external collaboration settings apply (403 when they refuse).",
    extensions(("x-permissions" = json!([PERMISSION]))),
    request_body = InvitationBody,
    responses(
        (status = 201, description = "The new invitation", body = InvitationView),
        (status = 200, description = "The guest's existing invitation", body = InvitationView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.Invite.All, or the collaboration settings refuse", body = ErrorBody),
        (status = 409, description = "The address belongs to a member", body = ErrorBody),
    ),
)]
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
    let body = view(&app, &out.invitation, req.reset_redemption);
    Ok((status, axum::Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/invitations",
    tag = "invitations",
    description = "Lists invitations, newest first; `$filter` on `status` and `invitedUserEmailAddress`. Needs User.Invite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(Paging),
    responses(
        (status = 200, description = "A page of invitations", body = Page<InvitationView>),
        (status = 400, description = "Bad `$top`, `$skiptoken` or `$filter`", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.Invite.All", body = ErrorBody),
    ),
)]
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
    let value = list.iter().map(|i| view(&app, i, false)).collect();
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

#[utoipa::path(
    get,
    path = "/api/v1/invitations/{id}",
    tag = "invitations",
    description = "One invitation. Needs User.Invite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "The invitation", body = InvitationView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.Invite.All", body = ErrorBody),
        (status = 404, description = "No such invitation", body = ErrorBody),
    ),
)]
pub async fn invitation_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin(PERMISSION)?;
    let inv = app.invitations.find(parse_id(&id)?).await?;
    Ok(axum::Json(view(&app, &inv, false)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/invitations/{id}/resend",
    tag = "invitations",
    description = "Sends a new link; the old one stops working. Needs User.Invite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "The invitation with its new link", body = InvitationView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.Invite.All", body = ErrorBody),
        (status = 404, description = "No such invitation", body = ErrorBody),
        (status = 409, description = "Not pending", body = ErrorBody),
    ),
)]
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
    Ok(axum::Json(view(&app, &inv, false)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/invitations/{id}/revoke",
    tag = "invitations",
    description = "Revokes a pending invitation: its link stops working. Needs User.Invite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "The revoked invitation", body = InvitationView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.Invite.All", body = ErrorBody),
        (status = 404, description = "No such invitation", body = ErrorBody),
        (status = 409, description = "Not pending", body = ErrorBody),
    ),
)]
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
    Ok(axum::Json(view(&app, &inv, false)).into_response())
}

/// Graph's invitation request.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct InvitationBody {
    invited_user_email_address: String,
    /// Where the guest lands after redeeming.
    invite_redirect_url: String,
    invited_user_display_name: Option<String>,
    send_invitation_message: Option<bool>,
    invited_user_message_info: Option<MessageInfoBody>,
    invited_user_type: Option<UserTypeName>,
    /// Re-invite an existing guest (needs User.ReadWrite.All too).
    reset_redemption: Option<bool>,
    /// The guest to reset, with `resetRedemption`.
    invited_user: Option<InvitedUserView>,
}

/// Graph's `invitedUserMessageInfo` in a request.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct MessageInfoBody {
    customized_message_body: Option<String>,
    message_language: Option<String>,
    cc_recipients: Option<Vec<RecipientView>>,
}

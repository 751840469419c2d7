//! Invitations as rows, and the conditional state change they share.

use crate::entity::invitations::{self, Column};
use crate::repo::{bad_value, db_err, from_json, list_from_json, list_to_json, to_json};
use chrono::{DateTime, Utc};
use portico_directory::invitations::{Invitation, InvitationState};
use portico_directory::{DirectoryError, UserType};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub(super) fn to_row(i: &Invitation) -> Result<invitations::ActiveModel, DirectoryError> {
    Ok(invitations::ActiveModel {
        id: Set(i.id),
        user_id: Set(i.user_id),
        email: Set(i.email.clone()),
        display_name: Set(i.display_name.clone()),
        redirect_url: Set(i.redirect_url.clone()),
        message: Set(i.message.clone()),
        message_language: Set(i.message_language.clone()),
        cc_recipients: Set(list_to_json(&i.cc_recipients)),
        send_message: Set(i.send_message),
        user_type: Set(i.user_type.as_str().to_owned()),
        state: Set(i.state.as_str().to_owned()),
        link_generation: Set(i.link_generation),
        expires_at: Set(i.expires_at),
        invited_by: Set(to_json(&i.invited_by)?),
        created_at: Set(i.created_at),
        updated_at: Set(i.updated_at),
        accepted_at: Set(i.accepted_at),
        revoked_at: Set(i.revoked_at),
        granted_group_id: Set(i.granted_group_id),
    })
}

pub(super) fn from_row(m: invitations::Model) -> Result<Invitation, DirectoryError> {
    Ok(Invitation {
        id: m.id,
        user_id: m.user_id,
        email: m.email,
        display_name: m.display_name,
        redirect_url: m.redirect_url,
        message: m.message,
        message_language: m.message_language,
        cc_recipients: list_from_json(m.cc_recipients)?,
        send_message: m.send_message,
        user_type: UserType::parse(&m.user_type)
            .ok_or_else(|| bad_value("user_type", &m.user_type))?,
        state: InvitationState::parse(&m.state).ok_or_else(|| bad_value("state", &m.state))?,
        link_generation: m.link_generation,
        expires_at: m.expires_at,
        invited_by: from_json(m.invited_by)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        accepted_at: m.accepted_at,
        revoked_at: m.revoked_at,
        granted_group_id: m.granted_group_id,
    })
}

/// Revokes the invitation if it is still pending; an accepted or already
/// revoked one is left as it is. Returns whether it was pending.
pub(super) async fn revoke_if_pending<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<bool, DirectoryError> {
    let res = invitations::Entity::update_many()
        .col_expr(
            Column::State,
            Expr::value(InvitationState::Revoked.as_str()),
        )
        .col_expr(Column::RevokedAt, Expr::value(at))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(InvitationState::Pending.as_str()))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(res.rows_affected > 0)
}

/// Inserts a new invitation.
pub(super) async fn insert<C: ConnectionTrait>(
    db: &C,
    i: &Invitation,
) -> Result<(), DirectoryError> {
    invitations::Entity::insert(to_row(i)?)
        .exec_without_returning(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

//! Users as rows: conversions, identities, and the writes that both
//! [`portico_directory::UserRepo`] and the invitation repository make inside
//! their own transactions.

use super::revoke::{Grants, revoke_grants};
use super::{bad_value, db_err, from_json, is_unique_violation, to_json};
use crate::entity::{consents, sessions, user_identities, users};
use chrono::{DateTime, Utc};
use portico_directory::{DirectoryError, ExternalUserState, Identity, User, UserType};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

const DUPLICATE_MAIL: &str = "A user with this mail already exists.";
const DUPLICATE_IDENTITY: &str = "This sign-in identity already belongs to a user.";
/// Users per identity lookup: far below SQLite's bound-parameter limit.
const IDENTITY_BATCH: usize = 1000;

/// A unique violation on `users` can only be the mail (ids are fresh UUIDs).
fn user_write_err(e: DbErr) -> DirectoryError {
    if is_unique_violation(&e) {
        DirectoryError::Conflict(DUPLICATE_MAIL.into())
    } else {
        db_err(e)
    }
}

fn identity_write_err(e: DbErr) -> DirectoryError {
    if is_unique_violation(&e) {
        DirectoryError::Conflict(DUPLICATE_IDENTITY.into())
    } else {
        db_err(e)
    }
}

fn to_row(u: &User) -> Result<users::ActiveModel, DirectoryError> {
    Ok(users::ActiveModel {
        id: Set(u.id),
        display_name: Set(u.display_name.clone()),
        mail: Set(u.mail.clone()),
        user_type: Set(u.user_type.as_str().to_owned()),
        account_enabled: Set(u.account_enabled),
        is_admin: Set(u.is_admin),
        guest_inviter: Set(u.guest_inviter),
        email_verified: Set(u.email_verified),
        password_hash: Set(u.password_hash.clone()),
        external_user_state: Set(u.external_user_state.map(|s| s.as_str().to_owned())),
        external_user_state_changed_at: Set(u.external_user_state_changed_at),
        access_expires_at: Set(u.access_expires_at),
        sponsor: Set(u.sponsor.as_ref().map(to_json).transpose()?),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
    })
}

pub(crate) fn from_row(m: users::Model, identities: Vec<Identity>) -> Result<User, DirectoryError> {
    let user_type =
        UserType::parse(&m.user_type).ok_or_else(|| bad_value("user_type", &m.user_type))?;
    let external_user_state = match m.external_user_state {
        Some(s) => {
            Some(ExternalUserState::parse(&s).ok_or_else(|| bad_value("external_user_state", &s))?)
        }
        None => None,
    };
    Ok(User {
        id: m.id,
        display_name: m.display_name,
        mail: m.mail,
        user_type,
        account_enabled: m.account_enabled,
        is_admin: m.is_admin,
        guest_inviter: m.guest_inviter,
        email_verified: m.email_verified,
        password_hash: m.password_hash,
        external_user_state,
        external_user_state_changed_at: m.external_user_state_changed_at,
        identities,
        access_expires_at: m.access_expires_at,
        sponsor: m
            .sponsor
            .filter(|v| !v.is_null())
            .map(from_json)
            .transpose()?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn identity(m: &user_identities::Model) -> Identity {
    Identity {
        sign_in_type: m.sign_in_type.clone(),
        issuer: m.issuer.clone(),
        issuer_assigned_id: m.issuer_assigned_id.clone(),
    }
}

/// The identities of `user_ids`, in the order they were linked: one query per
/// thousand users, so a page of users costs two queries, not one per user.
pub(crate) async fn load_identities<C: ConnectionTrait>(
    db: &C,
    user_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Identity>>, DirectoryError> {
    let mut out: HashMap<Uuid, Vec<Identity>> = HashMap::new();
    for batch in user_ids.chunks(IDENTITY_BATCH) {
        let rows = user_identities::Entity::find()
            .filter(user_identities::Column::UserId.is_in(batch.iter().copied()))
            .order_by_asc(user_identities::Column::CreatedAt)
            .order_by_asc(user_identities::Column::Id)
            .all(db)
            .await
            .map_err(db_err)?;
        for r in &rows {
            out.entry(r.user_id).or_default().push(identity(r));
        }
    }
    Ok(out)
}

/// Rows to users, each with its identities.
pub(crate) async fn with_identities<C: ConnectionTrait>(
    db: &C,
    rows: Vec<users::Model>,
) -> Result<Vec<User>, DirectoryError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut identities = load_identities(db, &ids).await?;
    rows.into_iter()
        .map(|r| {
            let own = identities.remove(&r.id).unwrap_or_default();
            from_row(r, own)
        })
        .collect()
}

async fn insert_identities<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    ids: &[&Identity],
    at: DateTime<Utc>,
) -> Result<(), DirectoryError> {
    if ids.is_empty() {
        return Ok(());
    }
    // now_v7 is ordered within the process: the list keeps its order on reload.
    let rows = ids.iter().map(|i| user_identities::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        sign_in_type: Set(i.sign_in_type.clone()),
        issuer: Set(i.issuer.clone()),
        issuer_assigned_id: Set(i.issuer_assigned_id.clone()),
        created_at: Set(at),
    });
    user_identities::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .map_err(identity_write_err)?;
    Ok(())
}

/// Makes the stored identities equal to `u.identities`: identities that stay
/// keep their row (and `created_at`); removed ones are deleted before new ones
/// are inserted, so moving an identity between entries never conflicts.
/// Adds the identities of `u` the user does not have yet; keeps the others.
pub(crate) async fn add_identities<C: ConnectionTrait>(
    db: &C,
    u: &User,
) -> Result<(), DirectoryError> {
    let kept: Vec<Identity> = user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(u.id))
        .all(db)
        .await
        .map_err(db_err)?
        .iter()
        .map(identity)
        .collect();
    let new: Vec<&Identity> = u.identities.iter().filter(|i| !kept.contains(i)).collect();
    insert_identities(db, u.id, &new, u.updated_at).await
}

async fn replace_identities<C: ConnectionTrait>(db: &C, u: &User) -> Result<(), DirectoryError> {
    let current = user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(u.id))
        .all(db)
        .await
        .map_err(db_err)?;
    let gone: Vec<Uuid> = current
        .iter()
        .filter(|m| !u.identities.contains(&identity(m)))
        .map(|m| m.id)
        .collect();
    if !gone.is_empty() {
        user_identities::Entity::delete_many()
            .filter(user_identities::Column::Id.is_in(gone))
            .exec(db)
            .await
            .map_err(db_err)?;
    }
    let kept: Vec<Identity> = current.iter().map(identity).collect();
    let new: Vec<&Identity> = u.identities.iter().filter(|i| !kept.contains(i)).collect();
    insert_identities(db, u.id, &new, u.updated_at).await
}

/// Inserts the user and its identities; a taken mail or identity is a `Conflict`.
pub(crate) async fn insert_user<C: ConnectionTrait>(
    db: &C,
    u: &User,
) -> Result<(), DirectoryError> {
    users::Entity::insert(to_row(u)?)
        .exec_without_returning(db)
        .await
        .map_err(user_write_err)?;
    let all: Vec<&Identity> = u.identities.iter().collect();
    insert_identities(db, u.id, &all, u.updated_at).await
}

/// Saves every mutable field and the identities. When `cut` is set or the user
/// can no longer sign in at `updated_at`, also cuts it off (see [`cut_off`]).
pub(crate) async fn save_user<C: ConnectionTrait>(
    db: &C,
    u: &User,
    cut: bool,
) -> Result<(), DirectoryError> {
    let mut row = to_row(u)?;
    row.id = Unchanged(u.id);
    row.created_at = NotSet;
    let res = users::Entity::update_many()
        .set(row)
        .filter(users::Column::Id.eq(u.id))
        .exec(db)
        .await
        .map_err(user_write_err)?;
    if res.rows_affected == 0 {
        return Err(DirectoryError::NotFound);
    }
    replace_identities(db, u).await?;
    if cut || !u.can_sign_in(u.updated_at) {
        cut_off(db, u.id, u.updated_at).await.map_err(db_err)?;
    }
    Ok(())
}

/// Ends the user's sessions (queueing their back-channel logouts), revokes its grants (and their tokens) and
/// deletes its consents, so nothing issued before keeps working.
pub(crate) async fn cut_off<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let theirs = Condition::all().add(sessions::Column::UserId.eq(user_id));
    super::backchannel::end_sessions(db, theirs, now).await?;
    revoke_grants(db, Grants::OfUser(user_id), now).await?;
    consents::Entity::delete_many()
        .filter(consents::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

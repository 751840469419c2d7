//! `UserRepo` (directory) and `AccountStore` (provider), both over `users`.

use super::revoke::{Grants, revoke_grants};
use super::{internal, is_unique_violation};
use crate::Storage;
use crate::entity::{consents, sessions, users};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_directory::{DirectoryError, User, UserRepo, UserType};
use portico_oidc::model::Account;
use portico_oidc::store::{AccountStore, StoreResult};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

const DUPLICATE_MAIL: &str = "A user with this mail already exists.";

fn db_err(e: DbErr) -> DirectoryError {
    DirectoryError::Internal(e.into())
}

fn write_err(e: DbErr) -> DirectoryError {
    if is_unique_violation(&e) {
        DirectoryError::Conflict(DUPLICATE_MAIL.into())
    } else {
        db_err(e)
    }
}

fn to_row(u: &User) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(u.id),
        display_name: Set(u.display_name.clone()),
        mail: Set(u.mail.clone()),
        user_type: Set(u.user_type.as_str().to_owned()),
        account_enabled: Set(u.account_enabled),
        is_admin: Set(u.is_admin),
        password_hash: Set(u.password_hash.clone()),
        created_at: Set(u.created_at),
        updated_at: Set(u.updated_at),
    }
}

fn from_row(m: users::Model) -> Result<User, DirectoryError> {
    let user_type = UserType::parse(&m.user_type).ok_or_else(|| {
        DirectoryError::Internal(anyhow::anyhow!("unknown user_type {:?}", m.user_type))
    })?;
    Ok(User {
        id: m.id,
        display_name: m.display_name,
        mail: m.mail,
        user_type,
        account_enabled: m.account_enabled,
        is_admin: m.is_admin,
        password_hash: m.password_hash,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Ends the user's sessions and revokes its grants (disable and delete).
async fn cut_off<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    revoke_grants(db, Grants::OfUser(user_id), now).await
}

#[async_trait]
impl UserRepo for Storage {
    async fn create_user(&self, u: &User) -> Result<(), DirectoryError> {
        users::Entity::insert(to_row(u))
            .exec_without_returning(self.db())
            .await
            .map_err(write_err)?;
        Ok(())
    }

    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError> {
        let row = users::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(from_row).transpose()
    }

    async fn find_user_by_mail(&self, mail: &str) -> Result<Option<User>, DirectoryError> {
        let row = users::Entity::find()
            .filter(users::Column::Mail.eq(mail))
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(from_row).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>, DirectoryError> {
        users::Entity::find()
            .order_by_asc(users::Column::CreatedAt)
            .order_by_asc(users::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// Updates every mutable field; disabling the account also ends its
    /// sessions and revokes its grants (at `updated_at`), in the same transaction.
    async fn update_user(&self, u: &User) -> Result<(), DirectoryError> {
        let mut row = to_row(u);
        row.id = Unchanged(u.id);
        row.created_at = NotSet;
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = users::Entity::update_many()
            .set(row)
            .filter(users::Column::Id.eq(u.id))
            .exec(&tx)
            .await
            .map_err(write_err)?;
        if res.rows_affected == 0 {
            return Err(DirectoryError::NotFound);
        }
        if !u.account_enabled {
            cut_off(&tx, u.id, u.updated_at).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn delete_user(&self, id: Uuid) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        cut_off(&tx, id, self.now()).await.map_err(db_err)?;
        consents::Entity::delete_many()
            .filter(consents::Column::UserId.eq(id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let res = users::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(res.rows_affected > 0)
    }

    async fn count_admins(&self) -> Result<u64, DirectoryError> {
        users::Entity::find()
            .filter(users::Column::IsAdmin.eq(true))
            .count(self.db())
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl AccountStore for Storage {
    async fn find_account(&self, user_id: Uuid) -> StoreResult<Option<Account>> {
        let row = users::Entity::find_by_id(user_id)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(row.map(|m| Account {
            id: m.id,
            enabled: m.account_enabled,
            display_name: m.display_name,
            email: Some(m.mail),
            email_verified: true,
            user_type: m.user_type,
        }))
    }
}
